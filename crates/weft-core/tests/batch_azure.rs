//! Batches on the Azure OpenAI Batch API (`engine: azure-batch`) through `AppCore`, against
//! weft-testkit's BatchApiFake on 127.0.0.1 (files, batches moving over polls, result files),
//! compared with the same rows run locally against the chat fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use weft_core::{
    AppCore, AppError, BatchEngine, BatchEvent, BatchOrder, BatchRowStatus, BatchRowView,
    BatchStatus, BatchSummary, Concurrency, RowFilter,
};
use weft_testkit::{AzureFake, BatchApiFake, Reply, holds, stored_bytes};

mod common;
use common::Files;

const KEY: &str = "sk-azure-batch-key-51d9";
const DEPLOYMENT: &str = "gpt-4o-mini";
/// The fake's batches complete on their third poll: a test waits about 3 of these.
const POLL: Duration = Duration::from_millis(150);

fn core(dir: &Path) -> Arc<AppCore> {
    weft_core::set_batch_poll_for_tests(POLL);
    common::core(dir)
}

fn with_connection(core: &AppCore, base: &str) {
    common::with_connection(core, base, KEY);
}

/// A template before the chat node and one after it: only the chat call goes to Azure.
const FLOW: &str = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  answer: { value: \"${chat.output}\" }\n  loud: { value: \"${shout.output}\" }\nnodes:\n\
    \x20 - { id: ask, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"Q: {{ q }}\", variables: { q: \"${inputs.question}\" } } }\n\
    \x20 - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ p }}\", variables: { p: \"${ask.output}\" } } }\n\
    \x20 - { id: shout, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"{{ a | upper }}\", variables: { a: \"${chat.output}\" } } }\n";

/// Two model calls: the second (`again`) keeps it off the Batch API.
const TWO_CALLS: &str = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  answer: { value: \"${again.output}\" }\nnodes:\n\
    \x20 - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ q }}\", variables: { q: \"${inputs.question}\" } } }\n\
    \x20 - { id: again, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ a }}\", variables: { a: \"${chat.output}\" } } }\n";

fn questions(rows: usize) -> String {
    (0..rows)
        .map(|i| format!("{{\"question\": \"question {i}\"}}\n"))
        .collect()
}

fn order(flow: PathBuf, data: PathBuf, engine: BatchEngine) -> BatchOrder {
    BatchOrder {
        batch_id: weft_core::new_run_id(),
        name: None,
        flow_path: flow,
        data_path: data,
        mapping: BTreeMap::new(),
        concurrency: Concurrency::Fixed(NonZeroU32::new(1).unwrap()),
        node_timeout: Duration::from_secs(30),
        engine,
        cassette: None,
    }
}

async fn run(
    core: &Arc<AppCore>,
    order: BatchOrder,
) -> (Result<BatchSummary, AppError>, Vec<BatchEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let summary = core.run_batch(order, events).await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (summary, seen)
}

fn rows(core: &AppCore, id: &str) -> Vec<BatchRowView> {
    core.batch_rows(id, RowFilter::All, 0, 1000).unwrap()
}

/// The chat completion the Batch API fake answers a line with, as a live reply.
fn live_answer(text: &str) -> Reply {
    Reply::Json(
        200,
        json!({
            "id": "chatcmpl-live", "object": "chat.completion", "model": DEPLOYMENT,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Hello from {DEPLOYMENT}: {text}")}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_run_on_azure_are_stored_as_a_local_run_stores_them() {
    const N: usize = 6;
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", FLOW);
    let data = files.write("rows.jsonl", &questions(N));

    // The same rows locally, the chat fake answering each as the Batch API fake does.
    let mut live = AzureFake::setup().deployment(DEPLOYMENT);
    for i in 0..N {
        live = live.reply(DEPLOYMENT, live_answer(&format!("Q: question {i}")));
    }
    let live = live.start();
    let local_dir = tempfile::tempdir().unwrap();
    let local_core = core(local_dir.path());
    with_connection(&local_core, &live.base);
    let local_order = order(flow.clone(), data.clone(), BatchEngine::Local);
    let local_id = local_order.batch_id.clone();
    let (local, _) = run(&local_core, local_order).await;
    assert_eq!(local.unwrap().status, BatchStatus::Succeeded);

    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data, BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let (summary, events) = run(&core, order).await;
    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    assert_eq!((summary.total, summary.succeeded), (N as u64, N as u64));
    assert_eq!(
        (summary.prompt_tokens, summary.completion_tokens),
        (9 * N as u64, 3 * N as u64)
    );

    let local_rows = rows(&local_core, &local_id);
    let batched = rows(&core, &id);
    assert_eq!(batched.len(), N);
    for (row, local) in batched.iter().zip(&local_rows) {
        assert_eq!(row.status, BatchRowStatus::Succeeded, "{row:?}");
        assert_eq!(row.outputs, local.outputs);
        assert_eq!(row.inputs, local.inputs);
        assert_eq!(
            (row.prompt_tokens, row.completion_tokens),
            (local.prompt_tokens, local.completion_tokens)
        );
        assert_eq!(
            row.nodes.keys().collect::<Vec<_>>(),
            local.nodes.keys().collect::<Vec<_>>()
        );
    }
    assert_eq!(
        batched[2].outputs["loud"],
        Value::from("HELLO FROM GPT-4O-MINI: Q: QUESTION 2")
    );

    let view = core.batch(&id).unwrap();
    assert_eq!(view.engine, "azure-batch");
    // One upload, one batch, polled to completion, two result files read.
    let requests = fake.requests();
    let routes: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path().to_owned()))
        .collect();
    assert_eq!(routes[0], ("POST".into(), "/openai/v1/files".into()));
    assert_eq!(routes[1], ("POST".into(), "/openai/v1/batches".into()));
    assert!(
        routes
            .iter()
            .filter(|(_, p)| p.ends_with("/content"))
            .count()
            == 2,
        "{routes:?}"
    );
    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].lines().count(), N);
    let first: Value = serde_json::from_str(uploads[0].lines().next().unwrap()).unwrap();
    assert_eq!(first["custom_id"], "0");
    assert_eq!(first["body"]["model"], DEPLOYMENT);
    assert_eq!(
        first["body"]["messages"],
        json!([{"role": "user", "content": "Q: question 0"}])
    );
    // The key travels in a header only.
    assert!(!uploads[0].contains(KEY));
    assert!(!holds(&stored_bytes(dir.path()), KEY));
    assert!(requests.iter().all(|r| r.header("api-key") == Some(KEY)));
    assert!(requests.iter().all(|r| !r.body.contains(KEY)));

    let remote: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::Remote { status, .. } => Some(status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(remote, ["in_progress", "finalizing", "completed"]);
    // While Azure works nothing new is committed, and no progress repeats the same count.
    let done: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::Progress(progress) => Some(progress.done),
            _ => None,
        })
        .collect();
    assert!(done.windows(2).all(|w| w[0] != w[1]), "{done:?}");
    assert_eq!(done.last(), Some(&(N as u64)));
    assert!(events.iter().any(|e| matches!(
        e,
        BatchEvent::Remote { status, completed, failed: 0, total } if status == "completed" && *completed == N as u64 && *total == N as u64
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_in_the_error_file_fail_their_rows_with_the_message() {
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", FLOW);
    let data = files.write("rows.jsonl", &questions(5));
    let fake = BatchApiFake::setup()
        .deployment(DEPLOYMENT)
        .failing_line("1")
        .failing_line("3")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data, BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let summary = run(&core, order).await.0.unwrap();
    assert_eq!(summary.status, BatchStatus::Failed);
    assert_eq!((summary.succeeded, summary.failed), (3, 2));
    for row in rows(&core, &id) {
        if row.row == 1 || row.row == 3 {
            assert_eq!(row.status, BatchRowStatus::Failed);
            let error = row.error.unwrap();
            assert!(
                error.contains(&format!("The request {} is invalid.", row.row)),
                "{error}"
            );
            // The node after the model call did not run on a failed answer.
            assert_eq!(row.outputs["loud"], Value::Null, "{:?}", row.outputs);
        } else {
            assert_eq!(row.status, BatchRowStatus::Succeeded, "{row:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_with_two_model_calls_is_refused_naming_the_second_before_any_request() {
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", TWO_CALLS);
    let data = files.write("rows.jsonl", &questions(3));
    let fake = BatchApiFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let err = run(&core, order(flow, data, BatchEngine::AzureBatch))
        .await
        .0
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`again` is a second model call beside `chat`")
            && text.contains("local engine"),
        "{text}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(core.batches(10).unwrap().is_empty(), "nothing is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_azure_fails_says_why_and_is_failed() {
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", FLOW);
    let data = files.write("rows.jsonl", &questions(3));
    // No Global-Batch deployment of that name: validation fails the batch.
    let fake = BatchApiFake::setup().deployment("another").start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data, BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let summary = run(&core, order).await.0.unwrap();
    assert_eq!(summary.status, BatchStatus::Failed);
    let message = summary.message.unwrap();
    assert!(
        message.contains("Azure refused the batch")
            && message.contains("line 1: The model deployment name"),
        "{message}"
    );
    let view = core.batch(&id).unwrap();
    assert_eq!(view.status, BatchStatus::Failed);
    assert_eq!(view.message.as_deref(), Some(message.as_str()));
    let stored = rows(&core, &id);
    assert_eq!(stored.len(), 3);
    for row in stored {
        assert_eq!(row.status, BatchRowStatus::Failed);
        assert!(row.error.unwrap().contains("Azure refused the batch"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_cancels_the_azure_batch_and_its_rows() {
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", FLOW);
    let data = files.write("rows.jsonl", &questions(4));
    let fake = BatchApiFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data, BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let (events, mut received) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let core = core.clone();
        async move { core.run_batch(order, events).await }
    });
    // Cancel once Azure reports the batch in progress.
    while let Some(event) = received.recv().await {
        if matches!(&event, BatchEvent::Remote { status, .. } if status == "in_progress") {
            assert!(core.cancel_run(&id));
            break;
        }
    }
    let summary = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(summary.status, BatchStatus::Cancelled);
    assert_eq!(summary.cancelled, 4);
    let cancels: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/cancel"))
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(cancels, ["/openai/v1/batches/batch_0001/cancel"]);
    for row in rows(&core, &id) {
        assert_eq!(row.status, BatchRowStatus::Cancelled);
        assert_eq!(
            row.inputs["question"],
            Value::from(format!("question {}", row.row))
        );
    }
    assert_eq!(core.batch(&id).unwrap().status, BatchStatus::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_file_changed_while_azure_ran_leaves_its_rows_unstored() {
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", FLOW);
    let data = files.write("rows.jsonl", &questions(3));
    let fake = BatchApiFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data.clone(), BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let (events, mut received) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let core = core.clone();
        async move { core.run_batch(order, events).await }
    });
    while let Some(event) = received.recv().await {
        if matches!(event, BatchEvent::Remote { .. }) {
            // A row put first: the answers' row numbers would now fall on other rows.
            std::fs::write(
                &data,
                format!("{{\"question\": \"new\"}}\n{}", questions(3)),
            )
            .unwrap();
            break;
        }
    }
    let summary = running.await.unwrap().unwrap();
    assert_eq!(summary.status, BatchStatus::Failed);
    let message = summary.message.unwrap();
    assert!(
        message.contains("changed while Azure ran the batch") && message.contains(&id),
        "{message}"
    );
    assert!(rows(&core, &id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_sends_only_the_rows_that_did_not_succeed_to_azure_again() {
    let files = Files::new();
    let flow = files.write("flow.weft.yaml", FLOW);
    let data = files.write("rows.jsonl", &questions(5));
    let fake = BatchApiFake::setup()
        .deployment(DEPLOYMENT)
        .failing_line("3")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data, BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let first = run(&core, order).await.0.unwrap();
    assert_eq!((first.succeeded, first.failed), (4, 1));

    let (events, _received) = mpsc::unbounded_channel();
    let again = core.resume_batch(&id, None, events).await.unwrap();
    // Row 3 fails at Azure again, the others are not sent.
    assert_eq!((again.succeeded, again.failed), (4, 1));
    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 2);
    let resent: Vec<Value> = uploads[1]
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["custom_id"].clone())
        .collect();
    assert_eq!(resent, [Value::from("3")]);
    assert_eq!(rows(&core, &id).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embeddings_flow_goes_to_the_embeddings_endpoint() {
    let flow = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  vector: { value: \"${embed.output}\" }\nnodes:\n\
        \x20 - { id: embed, type: embeddings, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, input: \"${inputs.question}\" } }\n";
    let files = Files::new();
    let flow = files.write("embed.weft.yaml", flow);
    let data = files.write("rows.jsonl", &questions(2));
    let fake = BatchApiFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let core = core(dir.path());
    with_connection(&core, &fake.base);
    let order = order(flow, data, BatchEngine::AzureBatch);
    let id = order.batch_id.clone();
    let summary = run(&core, order).await.0.unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    let created = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path() == "/openai/v1/batches")
        .unwrap();
    assert_eq!(created.json()["endpoint"], "/v1/embeddings");
    let line: Value = serde_json::from_str(fake.uploads()[0].lines().next().unwrap()).unwrap();
    assert_eq!(line["url"], "/v1/embeddings");
    for row in rows(&core, &id) {
        assert_eq!(row.status, BatchRowStatus::Succeeded, "{row:?}");
        assert_ne!(row.outputs["vector"], Value::Null, "{row:?}");
    }
}
