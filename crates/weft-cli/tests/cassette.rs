//! `--record`, `--replay`, `--cassette`, `--strict` on `weft flow run`, `weft batch run` and
//! `weft eval run`: a recorded run replays with the service gone, a strict replay of a changed
//! call fails naming the node and what differs, a batch fills its cassette then replays it, and
//! no cassette holds a key; Ctrl-C on an eval exits 130 and keeps what was recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use weft_testkit::{chat_stream, holds};

use common::{text, weft};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn path(file: &Path) -> &str {
    file.to_str().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

const KEY_VAR: &str = "WEFT_TEST_CASSETTE_KEY";

/// `weft flow run` of the dynamic-connection example (its key from the environment, so no
/// keychain is needed) at `base`, asking `question`, with `extra` flags.
fn dynamic_run(home: &Path, base: &str, key: &str, question: &str, extra: &[&str]) -> Output {
    weft(home)
        .args(["flow", "run"])
        .arg(example("dynamic-connection.weft.yaml"))
        .args(["--input", &format!("endpoint={base}/models")])
        .args(["--input", &format!("api_key=@env:{KEY_VAR}")])
        .args(["--input", &format!("question={question}"), "--json"])
        .args(extra)
        .env(KEY_VAR, key)
        .output()
        .unwrap()
}

/// The one line each command ends with when it used a cassette.
fn tally_line(stderr: &str, cassette: &Path) -> String {
    let head = format!("cassette {}: ", cassette.display());
    stderr
        .lines()
        .find(|line| line.starts_with(&head))
        .unwrap_or_else(|| panic!("no `{head}` line: {stderr}"))
        .to_owned()
}

#[test]
fn a_recorded_flow_run_replays_the_same_output_with_the_service_gone() {
    // One answer, then the fake stops listening: a call that went live would fail.
    let fake = weft_testkit::FakeEndpoint::start(vec![chat_stream(&["Bonjour ", "Paris"])]);
    let home = tempfile::tempdir().unwrap();
    let key = "sk-cassette-flow-61d0f2";
    let cassette = home.path().join("dynamic.cassette.jsonl");
    let recorded = dynamic_run(
        home.path(),
        &fake.base,
        key,
        "Hello",
        &["--record", path(&cassette)],
    );
    let stderr = text(&recorded.stderr);
    assert!(recorded.status.success(), "{stderr}");
    assert_eq!(text(&recorded.stdout), "{\"answer\":\"Bonjour Paris\"}\n");
    assert_eq!(
        tally_line(&stderr, &cassette),
        format!(
            "cassette {}: 0 replayed, 1 recorded, 0 live",
            cassette.display()
        )
    );
    assert_eq!(fake.requests().len(), 1);
    let bytes = std::fs::read(&cassette).unwrap();
    assert!(!holds(&bytes, key), "the key is in the cassette");
    assert_eq!(
        text(&bytes).lines().count(),
        1,
        "one line per call: {}",
        text(&bytes)
    );

    let replayed = dynamic_run(
        home.path(),
        &fake.base,
        key,
        "Hello",
        &["--replay", path(&cassette)],
    );
    let stderr = text(&replayed.stderr);
    assert!(replayed.status.success(), "{stderr}");
    assert_eq!(text(&replayed.stdout), text(&recorded.stdout));
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 1 replayed, 0 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests().len(), 1, "the replay called nothing");
    assert_eq!(
        std::fs::read(&cassette).unwrap(),
        bytes,
        "a replay writes nothing"
    );

    // History says which run was replayed.
    let listed = text(
        &weft(home.path())
            .args(["runs", "list"])
            .output()
            .unwrap()
            .stdout,
    );
    let lines: Vec<&str> = listed.lines().collect();
    assert!(
        lines[0].ends_with("dynamic-connection.weft.yaml  (replayed)")
            && lines[1].ends_with("dynamic-connection.weft.yaml  (recorded)"),
        "{listed}"
    );
    let id = lines[0].split_whitespace().next().unwrap();
    let shown = text(
        &weft(home.path())
            .args(["runs", "show", id])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(
        shown.contains("\ncassette replay: 1 replayed, 0 recorded, 0 live\n"),
        "{shown}"
    );
}

#[test]
fn a_strict_replay_of_a_changed_question_fails_naming_the_node_and_what_differs() {
    let fake = weft_testkit::FakeEndpoint::start(vec![chat_stream(&["Bonjour"])]);
    let home = tempfile::tempdir().unwrap();
    let key = "sk-cassette-strict-09ab";
    let cassette = home.path().join("strict.cassette.jsonl");
    let recorded = dynamic_run(
        home.path(),
        &fake.base,
        key,
        "Hello",
        &["--record", path(&cassette)],
    );
    assert!(recorded.status.success(), "{}", text(&recorded.stderr));

    let out = dynamic_run(
        home.path(),
        &fake.base,
        key,
        "Hi",
        &["--replay", path(&cassette), "--strict"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let failed = stderr
        .lines()
        .find(|line| line.starts_with("✗ chat: "))
        .unwrap_or_else(|| panic!("the node is named: {stderr}"));
    assert!(
        failed.contains("strict.cassette.jsonl")
            && failed.contains("content")
            && failed.contains("\"Hi\"")
            && failed.contains("\"Hello\""),
        "the file and the differing field: {failed}"
    );
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 0 replayed, 0 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests().len(), 1, "nothing went live");
    assert!(!holds(&out.stdout, key) && !holds(&out.stderr, key));
}

#[test]
fn cassette_flags_are_checked_before_anything_runs() {
    let home = tempfile::tempdir().unwrap();
    let flow = example("dynamic-connection.weft.yaml");
    let run = |args: &[&str]| {
        weft(home.path())
            .args(["flow", "run"])
            .arg(&flow)
            .args(args)
            .output()
            .unwrap()
    };
    let a = home.path().join("a.jsonl");
    let both = run(&["--record", path(&a), "--replay", "b.jsonl"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        text(&both.stderr).contains("cannot be used with"),
        "{}",
        text(&both.stderr)
    );
    // Strict is a replay's: --record calls everything, --cassette records what is missing.
    for recording in ["--record", "--cassette"] {
        let strict = run(&[recording, path(&a), "--strict"]);
        assert_eq!(strict.status.code(), Some(2), "{recording}");
        assert!(
            text(&strict.stderr).contains("cannot be used with '--strict'"),
            "{recording}: {}",
            text(&strict.stderr)
        );
    }
    let pace = run(&["--pace", "recorded"]);
    assert_eq!(pace.status.code(), Some(2), "--pace without a cassette");
    assert!(!a.exists(), "refused flags wrote nothing");

    // A run that fails before any call leaves the cassette it would have rewritten as it was.
    let kept = write(
        home.path(),
        "kept.cassette.jsonl",
        "{\"recorded\": \"before\"}\n",
    );
    let typo = run(&["--record", path(&kept)]);
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo.stderr));
    assert!(
        tally_line(&text(&typo.stderr), &kept).ends_with(": 0 replayed, 0 recorded, 0 live"),
        "{}",
        text(&typo.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "{\"recorded\": \"before\"}\n"
    );

    let missing = home.path().join("never.cassette.jsonl");
    let out = dynamic_run(
        home.path(),
        "http://127.0.0.1:9",
        "k",
        "q",
        &["--replay", path(&missing)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("record one with --record"),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists());
}

/// The chat example's connection, `azure-ai`, saved with `key` and pointing at `base`.
/// `weft connection create` of the `azure-ai` connection the examples name, at `base`.
fn create_azure_ai(home: &Path, base: &str) -> Command {
    let mut cmd = weft(home);
    cmd.args([
        "connection",
        "create",
        "--name",
        "azure-ai",
        "--type",
        "azure_ai",
    ])
    .args(["--set", &format!("endpoint={base}/models")]);
    cmd
}

fn connect(home: &Path, base: &str, key: &str) {
    let out = common::piped(
        create_azure_ai(home, base).args(["--secret", "api_key"]),
        &format!("{key}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn questions(dir: &Path, rows: usize) -> PathBuf {
    let text: String = (0..rows)
        .map(|i| format!("{{\"question\": \"question {i}\"}}\n"))
        .collect();
    write(dir, "questions.jsonl", &text)
}

/// `chat.eval.yaml` (its text `eval`) beside a copy of the chat example in `dir`.
fn chat_eval(dir: &Path, eval: &str) -> PathBuf {
    std::fs::copy(example("chat.weft.yaml"), dir.join("chat.weft.yaml")).unwrap();
    write(dir, "chat.eval.yaml", eval)
}

/// `weft eval run FILE` on the store at `home`.
fn eval_run(home: &Path, file: &Path) -> Command {
    let mut cmd = weft(home);
    cmd.args(["eval", "run"]).arg(file);
    cmd
}

fn chat_batch(home: &Path, data: &Path, flags: &[&str]) -> Output {
    weft(home)
        .args(["batch", "run"])
        .arg(example("chat.weft.yaml"))
        .args(["--data", path(data)])
        .args(["--column-mapping", "question=${data.question}", "--json"])
        .args(flags)
        .output()
        .unwrap()
}

#[test]
fn a_batch_cassette_records_what_it_lacks_and_replays_the_rest() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::ZERO).start();
    let home = tempfile::tempdir().unwrap();
    let key = "sk-cassette-batch-4e7c";
    connect(home.path(), &fake.base, key);
    let cassette = home.path().join("batch.cassette.jsonl");
    let data = questions(home.path(), 3);
    let first = chat_batch(home.path(), &data, &["--cassette", path(&cassette)]);
    let stderr = text(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 0 replayed, 3 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 3);

    // One more row: only it is called.
    let data = questions(home.path(), 4);
    let second = chat_batch(home.path(), &data, &["--cassette", path(&cassette)]);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 3 replayed, 1 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 4);

    let replayed = chat_batch(
        home.path(),
        &data,
        &["--replay", path(&cassette), "--strict"],
    );
    let stderr = text(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(0), "{stderr}");
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 4 replayed, 0 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 4, "the replay called nothing");
    let summary: Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(summary["succeeded"], 4, "{summary}");
    let id = summary["batch_id"].as_str().unwrap();
    let shown = weft(home.path())
        .args(["batch", "show", id])
        .output()
        .unwrap();
    assert!(
        text(&shown.stdout).contains("\ncassette     replay: 4 replayed, 0 recorded, 0 live\n"),
        "{}",
        text(&shown.stdout)
    );
    let bytes = std::fs::read(&cassette).unwrap();
    assert_eq!(text(&bytes).lines().count(), 4);
    assert!(!holds(&bytes, key), "the key is in the cassette");
}

#[test]
fn an_eval_recorded_once_replays_strictly_to_the_same_report() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::ZERO).start();
    let home = tempfile::tempdir().unwrap();
    let key = "sk-cassette-eval-b3a9";
    connect(home.path(), &fake.base, key);
    // The fake answers "Hello from <model>": `mini` passes its rows, `large` fails them.
    write(
        home.path(),
        "rows.jsonl",
        "{\"q\": \"one\"}\n{\"q\": \"two\"}\n",
    );
    let file = chat_eval(
        home.path(),
        "flow: chat.weft.yaml\ndata: rows.jsonl\ncolumn_mapping: { question: \"${data.q}\" }\n\
         variants:\n  - { name: mini, set: { chat.deployment: gpt-4o-mini } }\n\
         \x20 - { name: large, set: { chat.deployment: gpt-4o } }\n\
         assert:\n  - { type: icontains, value: gpt-4o-mini }\n",
    );
    let cassette = home.path().join("chat.cassette.jsonl");
    let eval = |flags: &[&str]| {
        eval_run(home.path(), &file)
            .arg("--json")
            .args(flags)
            .output()
            .unwrap()
    };
    let recorded = eval(&["--record", path(&cassette)]);
    let stderr = text(&recorded.stderr);
    assert_eq!(recorded.status.code(), Some(2), "{stderr}");
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 0 replayed, 4 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 4);
    let first: Value = serde_json::from_slice(&recorded.stdout).unwrap();
    assert_eq!(first["cassette"]["mode"], "record", "{first}");

    let replayed = eval(&["--replay", path(&cassette), "--strict"]);
    let stderr = text(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(2), "{stderr}");
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 4 replayed, 0 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 4, "the replay called nothing");
    let second: Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(second["cassette"]["replayed"], 4, "{second}");
    for field in [
        "variant",
        "rows",
        "passed",
        "failed",
        "pass_rate",
        "prompt_tokens",
    ] {
        for variant in 0..2 {
            assert_eq!(
                second["variants"][variant][field], first["variants"][variant][field],
                "{field}"
            );
        }
    }
    assert!(!holds(&std::fs::read(&cassette).unwrap(), key));
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_an_eval_with_exit_130_and_keeps_the_calls_recorded_so_far() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::from_millis(200)).start();
    let home = tempfile::tempdir().unwrap();
    connect(home.path(), &fake.base, "sk-cassette-cancel-77e1");
    let rows: String = (0..40).map(|i| format!("{{\"q\": \"q{i}\"}}\n")).collect();
    write(home.path(), "rows.jsonl", &rows);
    let file = chat_eval(
        home.path(),
        "flow: chat.weft.yaml\ndata: rows.jsonl\ncolumn_mapping: { question: \"${data.q}\" }\n\
         assert:\n  - { type: icontains, value: hello }\n",
    );
    let cassette = home.path().join("cancel.cassette.jsonl");
    let log = home.path().join("stderr.log");
    let child = eval_run(home.path(), &file)
        .args(["--concurrency", "1", "--json", "--record", path(&cassette)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fake.requests() < 3 {
        assert!(std::time::Instant::now() < deadline, "no calls were made");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelling"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "cancelled", "{report}");
    let line = tally_line(&stderr, &cassette);
    let recorded: u64 = line
        .split(", ")
        .find_map(|part| part.strip_suffix(" recorded"))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((2..40).contains(&recorded), "{line}");
    let saved = std::fs::read_to_string(&cassette).unwrap();
    assert_eq!(saved.lines().count() as u64, recorded, "{saved}");
}

/// README's "Test your flows in CI": a cassette recorded on a machine with the key replays on one
/// with no Secret Service at all, through a keyless (Entra ID) connection of the same name and
/// endpoint, to the same verdicts and a JUnit file; only a connection with a key needs the
/// keychain there, and says so.
#[test]
fn a_cassette_replays_on_a_machine_without_a_keychain_through_a_keyless_connection() {
    if common::keychain().is_none() {
        return;
    }
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::ZERO).start();
    let project = tempfile::tempdir().unwrap();
    let dev = tempfile::tempdir().unwrap();
    let key = "sk-cassette-ci-7d21";
    connect(dev.path(), &fake.base, key);
    questions(project.path(), 3);
    let file = chat_eval(
        project.path(),
        "flow: chat.weft.yaml\ndata: questions.jsonl\n\
         column_mapping: { question: \"${data.question}\" }\n\
         assert:\n  - { type: icontains, value: hello from }\n",
    );
    let cassette = project.path().join("chat.eval.cassette.jsonl");
    let recorded = eval_run(dev.path(), &file)
        .args(["--record", path(&cassette)])
        .output()
        .unwrap();
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        text(&recorded.stderr)
    );
    assert_eq!(fake.requests(), 3);

    // The CI machine: its own store, and no D-Bus session for a Secret Service to answer on.
    let ci = tempfile::tempdir().unwrap();
    let no_bus = "unix:path=/nonexistent/weft-test-no-bus";
    let with_key = common::piped(
        create_azure_ai(ci.path(), &fake.base)
            .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
            .args(["--secret", "api_key"]),
        "sk-not-stored\n",
    );
    assert_eq!(with_key.status.code(), Some(1));
    assert!(
        text(&with_key.stderr).contains("no Secret Service (D-Bus) is reachable"),
        "{}",
        text(&with_key.stderr)
    );
    let keyless = create_azure_ai(ci.path(), &fake.base)
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .args(["--set", "auth_mode=meid_token"])
        .output()
        .unwrap();
    assert!(keyless.status.success(), "{}", text(&keyless.stderr));
    let junit = project.path().join("eval-results.xml");
    let replayed = eval_run(ci.path(), &file)
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .args([
            "--replay",
            path(&cassette),
            "--strict",
            "--junit",
            path(&junit),
        ])
        .output()
        .unwrap();
    let stderr = text(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(0), "{stderr}");
    assert!(
        tally_line(&stderr, &cassette).ends_with(": 3 replayed, 0 recorded, 0 live"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 3, "the replay called the service");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}
