//! `weft import promptflow DIR`: a Prompt flow fixture (weft-promptflow's) imported beside a copy
//! of itself, its report, the refusal to overwrite, and the imported flow run against the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{text, weft, weft_with_stdin};

fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../weft-promptflow/tests/fixtures")
        .join(name);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    (root, dir)
}

/// `weft import promptflow DIR` on the store at `home`.
fn import(home: &Path, dir: &Path) -> Output {
    weft(home)
        .args(["import", "promptflow"])
        .arg(dir)
        .output()
        .unwrap()
}

/// The fixtures' `open_ai_connection`, an Azure OpenAI resource at `base`.
fn connect_open_ai(home: &Path, base: &str, key: &str) {
    let out = weft_with_stdin(
        home,
        &[
            "connection",
            "create",
            "--name",
            "open_ai_connection",
            "--type",
            "azure_open_ai",
            "--set",
            &format!("api_base={base}/"),
            "--secret",
            "api_key",
        ],
        &format!("{key}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `weft flow run FLOW ARGS… --json`, which must succeed.
fn run_flow(home: &Path, flow: &Path, args: &[&str]) -> Output {
    let out = weft(home)
        .args(["flow", "run"])
        .arg(flow)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    out
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
fn a_chat_flow_imports_with_its_report_and_refuses_to_overwrite() {
    let home = tempfile::tempdir().unwrap();
    let (_root, dir) = fixture_copy("chat");
    let out = import(home.path(), &dir);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("wrote {}", dir.join("chat.weft.yaml").display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("mapped       chat (line 17): llm → Chat completion"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  open_ai_connection (azure_open_ai)"),
        "{stdout}"
    );

    let again = import(home.path(), &dir);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already exists; pass --out"),
        "{}",
        text(&again.stderr)
    );

    let out_file = dir.join("mine.weft.yaml");
    let json = weft(home.path())
        .args(["import", "promptflow", "--json", "--out"])
        .arg(&out_file)
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["flow"], out_file.display().to_string());
    assert_eq!(
        report["connections_needed"][0]["name"],
        "open_ai_connection"
    );
    assert_eq!(report["report"][0]["severity"], "approximated");
    assert_eq!(report["report"][0]["node"], "chat_history");
    assert_eq!(report["report"][0]["line"], 3);
}

#[test]
fn an_evaluation_flow_exits_2_for_its_aggregation_node() {
    let home = tempfile::tempdir().unwrap();
    let (_root, dir) = fixture_copy("eval_accuracy");
    let out = import(home.path(), &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("unmapped     calculate_accuracy (line 25)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_imported_llm_flow_runs_against_the_fake() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::FakeEndpoint::start(vec![sse(&["Bonjour ", "le monde"])]);
    let home = tempfile::tempdir().unwrap();
    let (_root, dir) = fixture_copy("variants");
    let out = import(home.path(), &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.join("variants.eval.yaml").is_file());
    connect_open_ai(home.path(), &fake.base, "sk-import-4242");
    let out = run_flow(
        home.path(),
        &dir.join("variants.weft.yaml"),
        &["--input", "text=Weft runs flows."],
    );
    assert_eq!(text(&out.stdout), "{\"summary\":\"Bonjour le monde\"}\n");
    let sent = fake.requests()[0].json();
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(
        sent["messages"][0]["content"],
        "Summarise the text in two sentences."
    );
    assert_eq!(sent["messages"][1]["content"], "Weft runs flows.");
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["max_tokens"], 128);
}

#[test]
fn an_imported_prompt_llm_and_python_flow_runs_against_the_fake() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::FakeEndpoint::start(vec![sse(&[" Bonjour le monde "])]);
    let home = tempfile::tempdir().unwrap();
    let (_root, dir) = fixture_copy("basic");
    let out = import(home.path(), &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    connect_open_ai(home.path(), &fake.base, "sk-import-4343");
    let out = run_flow(
        home.path(),
        &dir.join("basic.weft.yaml"),
        &["--input", "text=Hello world"],
    );
    // format.py's @tool strips the answer and prefixes it.
    assert_eq!(
        text(&out.stdout),
        "{\"output\":\"Translation: Bonjour le monde\"}\n"
    );
    let sent = fake.requests()[0].json();
    assert_eq!(
        sent["messages"][0]["content"],
        "You are a helpful translator."
    );
    assert_eq!(
        sent["messages"][1]["content"],
        "Translate the following text to French: Hello world"
    );
    assert_eq!(sent["max_tokens"], 120);
}

#[test]
fn an_imported_python_node_gets_its_custom_connection() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (_root, dir) = fixture_copy("custom_connection");
    let out = import(home.path(), &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("  weather_api (custom)"));
    // The connection as Prompt flow's YAML gives it (nothing is called at this endpoint).
    let file = home.path().join("weather_api.yaml");
    std::fs::write(
        &file,
        "name: weather_api\ntype: custom\nconfigs:\n  endpoint: http://127.0.0.1:9\n\
         secrets:\n  api_key: <user-input>\n",
    )
    .unwrap();
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--file",
            file.to_str().unwrap(),
            "--secrets-stdin",
        ],
        "sk-weather-77\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run_flow(home.path(), &dir.join("custom_connection.weft.yaml"), &[]);
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        outputs,
        serde_json::json!({"weather": {"city": "Paris", "endpoint": "http://127.0.0.1:9", "has_key": true}})
    );
    assert!(!text(&out.stdout).contains("sk-weather-77"));
}

#[test]
fn an_imported_evaluation_flow_grades_rows_from_an_eval_file() {
    let home = tempfile::tempdir().unwrap();
    let (root, dir) = fixture_copy("eval_accuracy");
    let out = import(home.path(), &dir);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // A flow that calls nothing, graded by the imported evaluator (line_process.py's score).
    let write = |name: &str, text: &str| std::fs::write(root.path().join(name), text).unwrap();
    write(
        "echo.weft.yaml",
        "schema: 1\ninputs:\n  q: { type: string }\noutputs:\n  said: { value: \"${say.output}\" }\n\
         nodes:\n  - id: say\n    type: prompt_template\n    position: { x: 0, y: 0 }\n    properties:\n\
         \x20     template: \"{{ q }}\"\n      variables: { q: \"${inputs.q}\" }\n",
    );
    write(
        "rows.jsonl",
        "{\"q\": \"APP\", \"expected\": \"app\"}\n{\"q\": \"Academic\", \"expected\": \"academic\"}\n\
         {\"q\": \"Game\", \"expected\": \"APP\"}\n",
    );
    write(
        "echo.eval.yaml",
        "flow: echo.weft.yaml\ndata: rows.jsonl\ncolumn_mapping: { q: \"${data.q}\" }\nassert:\n\
         \x20 - type: flow\n    flow: eval_accuracy/eval_accuracy.weft.yaml\n\
         \x20   inputs: { groundtruth: \"${data.expected}\", prediction: \"${run.outputs.said}\" }\n",
    );
    let out = weft(home.path())
        .args(["eval", "run", "--json"])
        .arg(root.path().join("echo.eval.yaml"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(report["variants"][0]["passed"], 2, "{report:#}");
    assert_eq!(report["variants"][0]["failed"], 1, "{report:#}");
}
