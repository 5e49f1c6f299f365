//! `weft flow validate`: exit 0 valid, 2 invalid, one problem per line naming the node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{text, weft, weft_with_stdin};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

#[test]
fn a_valid_flow_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("keywords.weft.yaml");
    std::fs::write(
        &file,
        "schema: 1\ninputs:\n  text: { type: string }\noutputs:\n  prompt: { value: \"${keywords.output}\" }\nnodes:\n\
         \x20 - id: keywords\n    type: prompt_template\n    position: { x: 0, y: 0 }\n    properties:\n\
         \x20     template: \"Keywords of: {{ text }}\"\n      variables: { text: \"${inputs.text}\" }\n",
    )
    .unwrap();
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        format!("{}: valid (1 nodes)\n", file.display())
    );
}

#[test]
fn problems_print_one_per_line_with_the_node_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let file = example("chat.weft.yaml");
    // No connection named azure-ai exists in this fresh store.
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{}: error: node chat, connection: unknown connection `azure-ai`; create it in Connections or with `weft connection create`\n",
            file.display()
        )
    );
    assert!(text(&out.stderr).contains("is not valid: 1 error(s)"));
}

#[test]
fn yaml_syntax_errors_give_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("broken.weft.yaml");
    std::fs::write(&file, "schema: 1\nnodes:\n  - id: a\n    type: [oops\n").unwrap();
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("broken.weft.yaml: line 4, column "),
        "{stderr}"
    );
}

#[test]
fn the_chat_example_is_valid_once_its_connection_exists() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            "endpoint=https://res.services.ai.azure.com/models",
            "--secret",
            "api_key",
        ],
        "k\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(example("chat.weft.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).ends_with("chat.weft.yaml: valid (3 nodes)\n"));
}

fn sse(words: &[&str]) -> weft_testkit::Reply {
    let mut events: Vec<serde_json::Value> = words
        .iter()
        .map(|w| serde_json::json!({"choices": [{"index": 0, "delta": {"content": w}}]}))
        .collect();
    events.push(serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}));
    weft_testkit::Reply::Sse(events)
}

#[test]
fn run_prints_outputs_and_progress_and_keeps_secret_inputs_out() {
    let fake = weft_testkit::FakeEndpoint::start(vec![sse(&["Hi ", "there"])]);
    let home = tempfile::tempdir().unwrap();
    let secret = "sk-flow-run-secret-8c21";
    let out = weft_with_stdin(
        home.path(),
        &[
            "flow",
            "run",
            example("dynamic-connection.weft.yaml").to_str().unwrap(),
            "--input",
            &format!("endpoint={}/models", fake.base),
            "--input",
            "api_key=@stdin",
            "--input",
            "question=hello",
            "--json",
            "--stream",
        ],
        &format!("{secret}\n"),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "{\"answer\":\"Hi there\"}\n");
    assert!(
        stderr.contains("▶ chat") && stderr.contains("✓ chat") && stderr.contains(", 7 tokens"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Hi there"),
        "streamed tokens on stderr: {stderr}"
    );
    assert!(stderr.contains("Succeeded in "), "{stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    let sent = &fake.requests()[0];
    assert!(
        sent.head
            .to_ascii_lowercase()
            .contains(&format!("api-key: {secret}"))
    );
}

#[test]
fn a_secret_input_can_come_from_the_environment() {
    let fake = weft_testkit::FakeEndpoint::start(vec![sse(&["ok"])]);
    let home = tempfile::tempdir().unwrap();
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(example("dynamic-connection.weft.yaml"))
        .args([
            "--input",
            &format!("endpoint={}/models", fake.base),
            "--input",
            "api_key=@env:WEFT_TEST_KEY",
            "--input",
            "question=q",
        ])
        .env("WEFT_TEST_KEY", "sk-from-env-55")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "answer: ok\n");
    assert!(fake.requests()[0].head.contains("sk-from-env-55"));
}

#[test]
fn missing_inputs_and_invalid_flows_exit_2_and_failed_runs_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let flow = example("dynamic-connection.weft.yaml");
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(&flow)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the flow needs the input `endpoint`"),
        "{}",
        text(&out.stderr)
    );

    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(example("chat.weft.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown connection `azure-ai`"));

    let fake = weft_testkit::FakeEndpoint::start(vec![weft_testkit::Reply::Json(
        404,
        serde_json::json!({"error": {"code": "DeploymentNotFound", "message": "no such deployment"}}),
    )]);
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(&flow)
        .args([
            "--input",
            &format!("endpoint={}/models", fake.base),
            "--input",
            "api_key=@env:WEFT_TEST_KEY",
            "--input",
            "question=q",
        ])
        .env("WEFT_TEST_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("✗ chat: nothing at ") && stderr.contains("the deployment does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("weft: the run failed"), "{stderr}");
}

#[test]
fn the_chat_example_runs_on_a_saved_connection() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::FakeEndpoint::start(vec![sse(&["Paris."])]);
    let home = tempfile::tempdir().unwrap();
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            &format!("endpoint={}/models", fake.base),
            "--secret",
            "api_key",
        ],
        "sk-saved-3131\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(example("chat.weft.yaml"))
        .args(["--input", "question=Capital of France?", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\"answer\":\"Paris.\"}\n");
    let sent = &fake.requests()[0];
    assert!(
        sent.head
            .starts_with("POST /openai/v1/chat/completions HTTP/1.1"),
        "{}",
        sent.head
    );
    assert!(
        sent.head
            .to_ascii_lowercase()
            .contains("api-key: sk-saved-3131")
    );
    assert_eq!(sent.json()["messages"][1]["content"], "Capital of France?");
}

#[test]
fn runs_are_kept_redacted_and_can_be_listed_and_shown() {
    let fake = weft_testkit::FakeEndpoint::start(vec![sse(&["Stored answer"])]);
    let home = tempfile::tempdir().unwrap();
    let secret = "sk-history-9d0e";
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(example("dynamic-connection.weft.yaml"))
        .args([
            "--input",
            &format!("endpoint={}/models", fake.base),
            "--input",
            "api_key=@env:WEFT_TEST_KEY",
            "--input",
            "question=q",
        ])
        .env("WEFT_TEST_KEY", secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("run "))
        .expect("the run id is printed");
    let id = line.split_whitespace().nth(1).unwrap().to_owned();

    let list: serde_json::Value = serde_json::from_slice(
        &weft(home.path())
            .args(["runs", "list", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["status"], "succeeded");
    assert!(
        list[0]["flow_path"]
            .as_str()
            .unwrap()
            .ends_with("dynamic-connection.weft.yaml")
    );
    assert_eq!(list[0]["flow_hash"].as_str().unwrap().len(), 64);

    let shown = weft(home.path())
        .args(["runs", "show", &id[..8]])
        .output()
        .unwrap();
    let shown = text(&shown.stdout);
    assert!(shown.contains("status   succeeded"), "{shown}");
    assert!(
        shown.contains("outputs  {\"answer\":\"Stored answer\"}"),
        "{shown}"
    );
    assert!(shown.contains("  chat: succeeded, "), "{shown}");
    assert!(shown.contains("\"api_key\":\"******\""), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
    let stored: Vec<u8> = std::fs::read_dir(home.path())
        .unwrap()
        .flat_map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret reached SQLite"
    );

    let missing = weft(home.path())
        .args(["runs", "show", "ffffffff"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no run `ffffffff`"));
}

#[test]
fn one_node_runs_alone_on_given_values_or_from_a_node_onwards() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("two.weft.yaml");
    std::fs::write(
        &file,
        "schema: 1\noutputs:\n  out: { value: \"${b.output}\" }\nnodes:\n\
         \x20 - { id: a, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: from a } }\n\
         \x20 - { id: b, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"Got {{ x }}\", variables: { x: \"${a.output}\" } } }\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        weft(home.path())
            .args(["flow", "run"])
            .arg(&file)
            .args(args)
            .output()
            .unwrap()
    };

    let alone = run(&["--only", "b", "--given", "a=given text"]);
    assert!(alone.status.success(), "{}", text(&alone.stderr));
    assert_eq!(text(&alone.stdout), "b: Got given text\n");
    assert!(text(&alone.stderr).contains("= a reused"));

    let nothing_given = run(&["--only", "b"]);
    assert_eq!(nothing_given.status.code(), Some(2));
    assert!(
        text(&nothing_given.stderr).contains(
            "`b` reads `a` with no result to reuse; run the flow once, or give it a value"
        ),
        "{}",
        text(&nothing_given.stderr)
    );

    let onwards = run(&["--from", "b", "--given", "a=[1, 2]", "--json"]);
    assert!(onwards.status.success(), "{}", text(&onwards.stderr));
    assert_eq!(text(&onwards.stdout), "{\"out\":\"Got [1, 2]\"}\n");

    let unknown = run(&["--from", "c"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("the flow has no node `c`"));
}

#[test]
fn a_secret_input_given_as_text_is_refused_without_echoing_it() {
    let home = tempfile::tempdir().unwrap();
    let secret = "sk-typed-on-the-command-line-41";
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(example("dynamic-connection.weft.yaml"))
        .args(["--input", "endpoint=http://127.0.0.1:9/models"])
        .args([
            "--input",
            &format!("api_key={secret}"),
            "--input",
            "question=q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("input `api_key` is secret: give it as --input api_key=@env:VAR or --input api_key=@stdin, not as text"),
        "{stderr}"
    );
    assert!(!stderr.contains(secret) && !text(&out.stdout).contains(secret));
}

/// The dynamic connection's key from each place a user can give it (a plain input, a variable, a
/// literal in a variable, an upstream output, an object input), echoed back by the model split
/// over three deltas: it reaches its service and nothing else.
#[test]
fn a_dynamic_key_never_reaches_history_output_or_the_stream_whatever_its_source() {
    let secret = weft_testkit::DYNAMIC_KEY;
    let (a, rest) = secret.split_at(11);
    let (b, c) = rest.split_at(11);
    for source in weft_testkit::SOURCES {
        let fake = weft_testkit::FakeEndpoint::start(vec![sse(&["Your key is ", a, b, c, "."])]);
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let (yaml, mut inputs) = weft_testkit::dynamic_key_flow(source);
        inputs["endpoint"] = serde_json::json!(format!("{}/models", fake.base));
        let flow = work.path().join("dynamic.weft.yaml");
        let inputs_file = work.path().join("inputs.json");
        std::fs::write(&flow, yaml).unwrap();
        std::fs::write(&inputs_file, inputs.to_string()).unwrap();
        let out = weft(home.path())
            .args(["flow", "run", "--stream"])
            .arg(&flow)
            .arg("--input-file")
            .arg(&inputs_file)
            .output()
            .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{source}: {stderr}");
        assert!(stderr.contains("Your key is ******."), "{source}: {stderr}");
        assert!(
            stdout.contains("answer: Your key is ******."),
            "{source}: {stdout}"
        );
        let sent = &fake.requests()[0];
        assert!(
            sent.head
                .to_ascii_lowercase()
                .contains(&format!("api-key: {secret}")),
            "{source}: the key must still reach its service"
        );

        let id = stderr
            .lines()
            .find_map(|l| l.strip_prefix("run "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .to_owned();
        let shown = weft(home.path())
            .args(["runs", "show", "--json", &id])
            .output()
            .unwrap();
        let shown = text(&shown.stdout);
        let run: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(
            run["inputs"]["question"], "Repeat my key ******",
            "{source}: {shown}"
        );
        assert_eq!(
            run["nodes"]["connect"]["inputs"]["api_key"], "******",
            "{source}: {shown}"
        );
        for leaked in [secret, b] {
            assert!(!shown.contains(leaked), "{source}: {leaked} in {shown}");
            assert!(
                !stdout.contains(leaked) && !stderr.contains(leaked),
                "{source}"
            );
        }
        let stored: Vec<u8> = std::fs::read_dir(home.path())
            .unwrap()
            .flat_map(|entry| std::fs::read(entry.unwrap().path()).unwrap_or_default())
            .collect();
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{source}: the key reached the data folder"
        );
    }
}

#[test]
fn an_input_feeding_a_dynamic_key_is_refused_as_text_like_a_secret_one() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (yaml, _) = weft_testkit::dynamic_key_flow("a plain input");
    let flow = work.path().join("plain.weft.yaml");
    std::fs::write(&flow, yaml).unwrap();
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(&flow)
        .args(["--input", "endpoint=http://127.0.0.1:9/models"])
        .args(["--input", "api_key=sk-typed-0001", "--input", "question=q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("input `api_key` is secret: give it as --input api_key=@env:VAR"),
        "{}",
        text(&out.stderr)
    );
}
