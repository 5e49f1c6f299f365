//! `weft batch run … --engine azure-batch` against weft-testkit's BatchApiFake: the summary, the
//! poll lines on stderr, the stored engine, a flow that does not fit refused before any call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use weft_testkit::BatchApiFake;

use common::{text, weft};

const KEY: &str = "sk-cli-azure-batch-9e21";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}"))
}

fn connect(home: &Path, base: &str) {
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
        &format!("{KEY}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn azure_batch(home: &Path, flow: &Path, data: &Path) -> Output {
    weft(home)
        .args(["batch", "run"])
        .arg(flow)
        .arg("--data")
        .arg(data)
        // The chat example's input has a default, which beats a same-named column.
        .args(["--column-mapping", "question=${data.question}"])
        .args(["--engine", "azure-batch", "--json"])
        // The fake completes a batch on its third poll; 60 s apart would be three minutes.
        .env(weft_core::BATCH_POLL_ENV, "100")
        .output()
        .unwrap()
}

#[test]
fn an_azure_batch_polls_azure_and_stores_its_rows() {
    if common::keychain().is_none() {
        return;
    }
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment("gpt-4o-mini")
        .start();
    let home = tempfile::tempdir().unwrap();
    connect(home.path(), &fake.base);
    let data = home.path().join("questions.jsonl");
    std::fs::write(
        &data,
        "{\"question\": \"one\"}\n{\"question\": \"two\"}\n{\"question\": \"three\"}\n",
    )
    .unwrap();
    let out = azure_batch(home.path(), &example("chat.weft.yaml"), &data);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["succeeded"].as_u64(), summary["failed"].as_u64()),
        (Some(3), Some(0))
    );
    assert!(
        stderr.contains("Azure batch completed: 3 of 3 requests done, 0 failed"),
        "{stderr}"
    );
    let id = summary["batch_id"].as_str().unwrap();
    let shown = weft(home.path())
        .args(["batch", "show", id, "--rows", "--json"])
        .output()
        .unwrap();
    let shown_text = text(&shown.stdout);
    let shown: Value = serde_json::from_str(&shown_text).unwrap();
    assert_eq!(shown["engine"], "azure-batch", "{shown}");
    assert!(
        shown_text.contains("Hello from gpt-4o-mini: two"),
        "{shown_text}"
    );
    assert!(!shown_text.contains(KEY) && !stderr.contains(KEY));
    assert!(fake.uploads().iter().all(|file| !file.contains(KEY)));
}

#[test]
fn a_flow_the_batch_api_cannot_run_exits_1_before_any_call() {
    let fake = BatchApiFake::setup().deployment("gpt-4o-mini").start();
    let home = tempfile::tempdir().unwrap();
    // No model call at all: nothing for Azure to run. (No connection needed: refused first.)
    let flow = home.path().join("template.weft.yaml");
    std::fs::write(
        &flow,
        "schema: 1\ninputs:\n  q: { type: string }\noutputs:\n  said: { value: \"${say.output}\" }\nnodes:\n\
         \x20 - { id: say, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"{{ q }}\", variables: { q: \"${inputs.q}\" } } }\n",
    )
    .unwrap();
    let data = home.path().join("rows.jsonl");
    std::fs::write(&data, "{\"q\": \"one\", \"question\": \"one\"}\n").unwrap();
    let out = azure_batch(home.path(), &flow, &data);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("nothing for the Azure OpenAI Batch API to run"),
        "{stderr}"
    );
    assert!(fake.requests().is_empty());
    let bad = weft(home.path())
        .args(["batch", "run"])
        .arg(&flow)
        .arg("--data")
        .arg(&data)
        .args(["--engine", "cluster"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("local, azure-batch"),
        "{}",
        text(&bad.stderr)
    );
}
