//! `weft batch`: exit codes 0 / 3 / 1 / 130, the `--json` summary, bad lines named by their line,
//! resume after `kill -9`, Ctrl-C, and exports without secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use weft_testkit::{Reply, holds, stored_bytes};

use common::{text, weft};

/// A flow that calls nothing: its output is its input in a sentence.
fn echo_flow(dir: &Path) -> PathBuf {
    let file = dir.join("echo.weft.yaml");
    std::fs::write(
        &file,
        "schema: 1\ninputs:\n  q: { type: string }\n  n: { type: number, default: 1 }\n\
         outputs:\n  said: { value: \"${say.output}\" }\nnodes:\n\
         \x20 - id: say\n    type: prompt_template\n    position: { x: 0, y: 0 }\n    properties:\n\
         \x20     template: \"{{ n }} x {{ q }}\"\n      variables: { q: \"${inputs.q}\", n: \"${inputs.n}\" }\n",
    )
    .unwrap();
    file
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

fn batch(home: &Path, args: &[&str]) -> Output {
    weft(home).arg("batch").args(args).output().unwrap()
}

fn path(file: &Path) -> &str {
    file.to_str().unwrap()
}

/// The id `weft batch run` names on its first stderr line.
fn batch_id(stderr: &str) -> String {
    let first = stderr.lines().next().unwrap_or_default();
    first
        .strip_prefix("batch ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the first line names the batch: {stderr}"))
        .to_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "{err}: stdout {} stderr {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

#[test]
fn every_row_succeeding_exits_0_with_one_json_summary() {
    let home = tempfile::tempdir().unwrap();
    let flow = echo_flow(home.path());
    let data = write(
        home.path(),
        "rows.jsonl",
        "{\"question\": \"one\"}\n\n{\"question\": \"two\", \"n\": 2}\n{\"question\": \"three\"}\n",
    );
    let out = batch(
        home.path(),
        &[
            "run",
            path(&flow),
            "--data",
            path(&data),
            "--column-mapping",
            "q=${data.question}",
            "--concurrency",
            "2",
            "--name",
            "echoes",
            "--json",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let id = batch_id(&stderr);
    assert!(
        stderr
            .lines()
            .next()
            .unwrap()
            .ends_with(&format!("(resume with `weft batch resume {}`)", &id[..8])),
        "{stderr}"
    );
    // One JSON object and nothing else on stdout.
    assert_eq!(
        text(&out.stdout).lines().count(),
        1,
        "{}",
        text(&out.stdout)
    );
    let summary = json_of(&out);
    let mut keys: Vec<&str> = summary
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "batch_id",
            "cancelled",
            "completion_tokens",
            "elapsed_ms",
            "failed",
            "message",
            "prompt_tokens",
            "rows_per_s",
            "status",
            "succeeded",
            "throttles",
            "total"
        ]
    );
    assert_eq!(summary["batch_id"], id.as_str());
    assert_eq!(summary["status"], "succeeded");
    assert_eq!(
        (
            &summary["total"],
            &summary["succeeded"],
            &summary["failed"],
            &summary["cancelled"]
        ),
        (&json!(3), &json!(3), &json!(0), &json!(0))
    );
    assert!(summary["rows_per_s"].as_f64().unwrap() > 0.0, "{summary}");
    assert_eq!(summary["message"], Value::Null);

    // Without --json, the same in lines.
    let out = batch(
        home.path(),
        &[
            "run",
            path(&flow),
            "--data",
            path(&data),
            "--column-mapping",
            "q=${data.question}",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("status     succeeded\n"), "{stdout}");
    assert!(
        stdout.contains("rows       3 (3 succeeded, 0 failed, 0 cancelled)\n"),
        "{stdout}"
    );
}

#[test]
fn a_malformed_line_fails_its_row_named_by_line_the_others_run_and_it_exits_3() {
    let home = tempfile::tempdir().unwrap();
    let flow = echo_flow(home.path());
    let data = write(
        home.path(),
        "rows.jsonl",
        "{\"q\": \"one\"}\n{\"q\": \"two\"}\n{\"q\": oops\n{\"q\": \"four\"}\n",
    );
    let out = batch(
        home.path(),
        &["run", path(&flow), "--data", path(&data), "--json"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("line 3"), "the bad line is named: {stderr}");
    let summary = json_of(&out);
    assert_eq!(summary["status"], "failed");
    assert_eq!(summary["succeeded"], 3);
    assert_eq!(summary["failed"], 1);

    let id = batch_id(&stderr);
    let shown = batch(home.path(), &["show", &id[..8], "--rows"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown = text(&shown.stdout);
    assert!(shown.contains("status       failed\n"), "{shown}");
    assert!(
        shown.contains("rows         4 (3 succeeded, 1 failed, 0 cancelled)\n"),
        "{shown}"
    );
    let rows: Vec<&str> = shown
        .lines()
        .filter(|line| line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 4, "one line per row: {shown}");
    assert!(
        rows[2].trim_start().starts_with("2  failed") && rows[2].contains("line 3"),
        "{}",
        rows[2]
    );
    assert!(rows[3].trim_start().starts_with("3  succeeded"), "{shown}");
}

#[test]
fn a_mapped_column_missing_from_a_row_fails_that_row_naming_the_column() {
    let home = tempfile::tempdir().unwrap();
    let flow = echo_flow(home.path());
    let data = write(
        home.path(),
        "rows.jsonl",
        "{\"question\": \"one\"}\n{\"other\": \"two\"}\n",
    );
    let out = batch(
        home.path(),
        &[
            "run",
            path(&flow),
            "--data",
            path(&data),
            "--column-mapping",
            "q=${data.question}",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let id = json_of(&out)["batch_id"].as_str().unwrap().to_owned();
    let shown = json_of(&batch(home.path(), &["show", &id, "--rows", "--json"]));
    assert_eq!(
        shown["counts"],
        json!({"succeeded": 1, "failed": 1, "cancelled": 0})
    );
    let failed = &shown["rows"][1];
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("question"),
        "{failed}"
    );
}

#[test]
fn what_stops_a_batch_before_any_call_exits_1_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let flow = echo_flow(home.path());
    let rows = write(home.path(), "rows.jsonl", "{\"q\": \"one\"}\n");
    let csv = write(home.path(), "rows.csv", "question,n\nhello,2\n");
    let missing = home.path().join("missing.jsonl");
    let unknown_format = write(home.path(), "rows.txt", "q\n");
    let invalid_flow = write(
        home.path(),
        "chat.weft.yaml",
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chat.weft.yaml"),
        )
        .unwrap(),
    );
    let cases: [(&Path, &Path, &[&str], &str); 6] = [
        (&flow, &missing, &[], "missing.jsonl"),
        (&flow, &unknown_format, &[], "rows.txt"),
        (
            &flow,
            &rows,
            &["--column-mapping", "nope=${data.q}"],
            "nope",
        ),
        (&flow, &rows, &["--column-mapping", "q"], "INPUT=VALUE"),
        (
            &flow,
            &csv,
            &["--column-mapping", "q=${data.absent}"],
            "absent",
        ),
        (&invalid_flow, &rows, &[], "unknown connection `azure-ai`"),
    ];
    for (flow, data, extra, named) in cases {
        let mut args = vec!["run", path(flow), "--data", path(data)];
        args.extend_from_slice(extra);
        let out = batch(home.path(), &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("weft: ") && stderr.contains(named),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            text(&out.stdout),
            "",
            "{args:?}: no summary for a batch that did not run"
        );
        assert!(
            !stderr.contains("resume with"),
            "{args:?}: nothing to resume: {stderr}"
        );
    }
    // An input nothing fills (no mapping, no default, no column of its name).
    let out = batch(home.path(), &["run", path(&flow), "--data", path(&csv)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nothing fills the flow input `q`"),
        "{}",
        text(&out.stderr)
    );

    // A concurrency out of range is a usage error of the command line itself.
    let out = batch(
        home.path(),
        &[
            "run",
            path(&flow),
            "--data",
            path(&rows),
            "--concurrency",
            "0",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("1 to 1024"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn batches_are_listed_shown_and_exported_as_jsonl_and_csv() {
    let home = tempfile::tempdir().unwrap();
    let flow = echo_flow(home.path());
    let data = write(home.path(), "rows.csv", "q,n\nalpha,2\n\"be, ta\",3\n");
    let out = batch(
        home.path(),
        &[
            "run",
            path(&flow),
            "--data",
            path(&data),
            // `n` has a default, which a column of its name does not beat; a mapping does.
            "--column-mapping",
            "n=${data.n}",
            "--name",
            "greek",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let id = json_of(&out)["batch_id"].as_str().unwrap().to_owned();

    let list = json_of(&batch(home.path(), &["list", "--json"]));
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["name"], "greek");
    assert_eq!(list[0]["status"], "succeeded");
    assert_eq!(list[0]["total"], 2);
    let listed = text(&batch(home.path(), &["list"]).stdout);
    assert!(
        listed.starts_with(&id[..8]) && listed.contains("echo.weft.yaml  greek"),
        "{listed}"
    );

    let shown = json_of(&batch(home.path(), &["show", &id[..6], "--json"]));
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["counts"]["succeeded"], 2);
    assert!(shown.get("rows").is_none(), "{shown}");

    let jsonl = batch(home.path(), &["export", &id, "--format", "jsonl"]);
    assert!(jsonl.status.success(), "{}", text(&jsonl.stderr));
    let lines: Vec<Value> = text(&jsonl.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outputs"]["said"], "2 x alpha");
    assert_eq!(lines[1]["outputs"]["said"], "3 x be, ta");
    assert_eq!(
        lines[1]["inputs"]["n"], 3,
        "a CSV cell read as the input's type"
    );
    assert_eq!(lines[1]["status"], "succeeded");

    let file = home.path().join("out.csv");
    let csv = batch(
        home.path(),
        &["export", &id[..8], "--format", "csv", "--out", path(&file)],
    );
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    assert_eq!(text(&csv.stdout), "", "with --out nothing goes to stdout");
    assert!(text(&csv.stderr).contains("exported 2 rows to "));
    let written = std::fs::read_to_string(&file).unwrap();
    let mut lines = written.lines();
    let header = lines.next().unwrap();
    for column in [
        "row",
        "status",
        "error",
        "latency_ms",
        "inputs.q",
        "outputs.said",
    ] {
        assert!(header.split(',').any(|c| c == column), "{column}: {header}");
    }
    assert!(written.contains("\"3 x be, ta\""), "{written}");
    assert!(!home.path().join("out.partial").exists());

    let unknown = batch(home.path(), &["show", "ffffffff"]);
    assert_eq!(unknown.status.code(), Some(2));
    let bad_format = batch(home.path(), &["export", &id, "--format", "xml"]);
    assert_eq!(bad_format.status.code(), Some(2));
    assert!(text(&bad_format.stderr).contains("jsonl, csv"));
}

/// The chat example's connection, `azure-ai`, saved with `key` and pointing at `base`.
fn connect(home: &Path, base: &str, key: &str) {
    let out = common::weft_with_stdin(
        home,
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            &format!("endpoint={base}/models"),
            "--secret",
            "api_key",
        ],
        &format!("{key}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn chat_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chat.weft.yaml")
}

/// `rows` questions, one a line.
fn questions(dir: &Path, rows: usize) -> PathBuf {
    let text: String = (0..rows)
        .map(|i| format!("{{\"question\": \"question {i}\"}}\n"))
        .collect();
    write(dir, "questions.jsonl", &text)
}

/// `weft batch run` of the chat example over `data`, in the background, stderr to a file (a
/// pipe nobody reads could fill and block it).
fn spawn_chat_batch(home: &Path, data: &Path, concurrency: &str) -> (std::process::Child, PathBuf) {
    let log = home.join("stderr.log");
    let child = weft(home)
        .args(["batch", "run"])
        .arg(chat_example())
        .args(["--data", path(data)])
        .args(["--column-mapping", "question=${data.question}"])
        .args(["--concurrency", concurrency, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (child, log)
}

/// Waits (at most 60 s) until `weft batch run` has named its batch, then until `ready` holds
/// for what `weft batch show ID --rows --json` says.
fn wait_for(home: &Path, log: &Path, ready: impl Fn(&Value) -> bool) -> (String, Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let id = loop {
        let stderr = std::fs::read_to_string(log).unwrap_or_default();
        if stderr.contains('\n') {
            break batch_id(&stderr);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no batch id: {stderr}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    loop {
        let out = batch(home, &["show", &id, "--rows", "--json"]);
        if out.status.success() {
            let shown = json_of(&out);
            if ready(&shown) {
                return (id, shown);
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the batch never got there: {}",
            text(&out.stdout)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn succeeded(shown: &Value) -> u64 {
    shown["counts"]["succeeded"].as_u64().unwrap_or(0)
}

/// Row number → latency of each succeeded row: a row run again would have a new latency.
fn succeeded_rows(shown: &Value) -> std::collections::BTreeMap<u64, f64> {
    shown["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["status"] == "succeeded")
        .map(|row| {
            (
                row["row"].as_u64().unwrap(),
                row["latency_ms"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn a_batch_killed_mid_way_resumes_and_every_row_succeeds_once() {
    if common::keychain().is_none() {
        return;
    }
    const ROWS: usize = 60;
    const CONCURRENCY: u64 = 4;
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::from_millis(250)).start();
    let home = tempfile::tempdir().unwrap();
    connect(home.path(), &fake.base, "sk-batch-kill-0d4e");
    let data = questions(home.path(), ROWS);
    let (mut child, log) = spawn_chat_batch(home.path(), &data, &CONCURRENCY.to_string());
    let (id, before) = wait_for(home.path(), &log, |shown| succeeded(shown) >= 8);
    // Child::kill is SIGKILL on Unix: no handler, no last write.
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    let kept = succeeded_rows(&before);
    assert!(kept.len() >= 8 && kept.len() < ROWS, "{kept:?}");

    let out = batch(home.path(), &["resume", &id[..8], "--json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("rows already succeeded"), "{stderr}");
    let summary = json_of(&out);
    assert_eq!(summary["status"], "succeeded", "{summary}");
    assert_eq!(summary["total"], ROWS);

    let after = json_of(&batch(home.path(), &["show", &id, "--rows", "--json"]));
    assert_eq!(after["status"], "succeeded");
    assert_eq!(
        after["counts"],
        json!({"succeeded": ROWS, "failed": 0, "cancelled": 0})
    );
    let rows = succeeded_rows(&after);
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        (0..ROWS as u64).collect::<Vec<_>>()
    );
    for (row, latency) in &kept {
        assert_eq!(
            rows[row], *latency,
            "row {row} finished before the kill and ran again"
        );
    }
    // Each row once, and a second time only the rows not yet committed at the kill: per slot
    // the one in flight, and one finished since the writer's last commit (it commits every
    // 100 ms, less than one row's 250 ms).
    let requests = fake.requests();
    eprintln!(
        "{requests} requests for {ROWS} rows, {} of them committed before the kill",
        kept.len()
    );
    assert!(
        requests >= ROWS as u64 && requests <= ROWS as u64 + 2 * CONCURRENCY,
        "{requests} requests for {ROWS} rows"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_within_a_second_keeping_finished_rows_and_exits_130() {
    if common::keychain().is_none() {
        return;
    }
    // Slower than the second Ctrl-C has to stop it in: rows in flight must be cancelled, not
    // waited for.
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::from_secs(3)).start();
    let home = tempfile::tempdir().unwrap();
    connect(home.path(), &fake.base, "sk-batch-cancel-7a21");
    let data = questions(home.path(), 12);
    let (child, log) = spawn_chat_batch(home.path(), &data, "4");
    let (id, before) = wait_for(home.path(), &log, |shown| succeeded(shown) >= 4);
    // The next rows are in flight now.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let signalled = std::time::Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let stderr = std::fs::read_to_string(&log).unwrap();
    eprintln!("exited {took:?} after SIGINT");
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        took < std::time::Duration::from_secs(1),
        "took {took:?}: {stderr}"
    );
    assert!(stderr.contains("cancelling"), "{stderr}");
    let summary = json_of(&out);
    assert_eq!(summary["batch_id"], id.as_str());
    assert_eq!(summary["status"], "cancelled");
    assert!(summary["cancelled"].as_u64().unwrap() >= 1, "{summary}");

    let after = json_of(&batch(home.path(), &["show", &id, "--rows", "--json"]));
    assert_eq!(after["status"], "cancelled");
    let kept = succeeded_rows(&after);
    for row in succeeded_rows(&before).keys() {
        assert!(kept.contains_key(row), "row {row} was lost: {after}");
    }
}

#[test]
fn the_connection_key_reaches_its_service_and_no_export_row_or_file() {
    if common::keychain().is_none() {
        return;
    }
    let key = "sk-batch-export-5b1f93";
    let fake = weft_testkit::LimitedChat::new(std::time::Duration::ZERO).start();
    let home = tempfile::tempdir().unwrap();
    connect(home.path(), &fake.base, key);
    let data = questions(home.path(), 5);
    let out = weft(home.path())
        .args(["batch", "run"])
        .arg(chat_example())
        .args(["--data", path(&data)])
        .args(["--column-mapping", "question=${data.question}", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = json_of(&out);
    assert_eq!(summary["succeeded"], 5);
    assert!(summary["prompt_tokens"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(fake.requests(), 5);
    let id = summary["batch_id"].as_str().unwrap().to_owned();

    let mut printed = Vec::new();
    for format in ["jsonl", "csv"] {
        let export = batch(home.path(), &["export", &id, "--format", format]);
        assert!(export.status.success(), "{}", text(&export.stderr));
        assert!(text(&export.stdout).contains("Hello from gpt-4o-mini"));
        printed.extend(export.stdout);
        printed.extend(export.stderr);
    }
    let shown = batch(home.path(), &["show", &id, "--rows", "--json"]);
    printed.extend(shown.stdout);
    printed.extend(out.stdout);
    printed.extend(out.stderr);
    assert!(!holds(&printed, key), "the key was printed");
    assert!(
        !holds(&stored_bytes(home.path()), key),
        "the key reached the data folder"
    );
}

#[test]
fn a_refused_key_stops_the_batch_at_its_first_rows_with_one_message_and_exit_3() {
    if common::keychain().is_none() {
        return;
    }
    let refused = Reply::Json(
        401,
        json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}),
    );
    let fake = weft_testkit::FakeEndpoint::start(vec![refused; 4]);
    let home = tempfile::tempdir().unwrap();
    connect(home.path(), &fake.base, "sk-batch-wrong-3c8a");
    let data = questions(home.path(), 50);
    let out = weft(home.path())
        .args(["batch", "run"])
        .arg(chat_example())
        .args(["--data", path(&data)])
        .args(["--column-mapping", "question=${data.question}"])
        .args(["--concurrency", "2", "--json"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let summary = json_of(&out);
    assert_eq!(summary["status"], "stopped", "{summary}");
    let message = summary["message"].as_str().unwrap();
    assert!(
        message.contains("node `chat`") && message.contains("weft batch resume"),
        "{message}"
    );
    assert_eq!(
        stderr.matches(message).count(),
        1,
        "said once, after the summary: {stderr}"
    );
    assert!(summary["succeeded"] == 0 && summary["total"].as_u64().unwrap() <= 50);
    assert!(
        fake.requests().len() <= 2,
        "the rows after the first failures were not sent: {}",
        fake.requests().len()
    );
}
