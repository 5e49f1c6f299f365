//! Batch runs through `AppCore`: a real SQLite file, the in-memory keychain, and fake model
//! endpoints on 127.0.0.1 that count what they were sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;
use weft_core::{
    AppCore, AppError, BatchEvent, BatchOrder, BatchRowStatus, BatchStatus, BatchSummary,
    Concurrency, ErrorKind, ExportFormat, RowFilter,
};
use weft_store::DataDir;
use weft_testkit::{AzureFake, LimitedChat, Reply, holds, stored_bytes};

mod common;
use common::{Files, core, with_connection};

const KEY: &str = "sk-batch-key-7f3c";
const DEPLOYMENT: &str = "gpt-4o-mini";

/// One chat node answering `question` (not streamed: one row, one request).
const CHAT_FLOW: &str = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  answer: { value: \"${chat.output}\" }\nnodes:\n\
    \x20 - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ q }}\", variables: { q: \"${inputs.question}\" } } }\n";

/// No model call: the row's inputs joined by a template.
const TEMPLATE_FLOW: &str = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  text: { value: \"${prompt.output}\" }\nnodes:\n\
    \x20 - { id: prompt, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"Q: {{ q }}\", variables: { q: \"${inputs.question}\" } } }\n";

fn questions(rows: usize) -> String {
    (0..rows)
        .map(|i| format!("{{\"question\": \"question {i}\"}}\n"))
        .collect()
}

fn order(flow: PathBuf, data: PathBuf, concurrency: Concurrency) -> BatchOrder {
    BatchOrder {
        batch_id: weft_core::new_run_id(),
        name: Some("test".into()),
        flow_path: flow,
        data_path: data,
        mapping: BTreeMap::new(),
        concurrency,
        node_timeout: Duration::from_secs(30),
        engine: weft_core::BatchEngine::Local,
        cassette: None,
    }
}

fn fixed(n: u32) -> Concurrency {
    Concurrency::Fixed(NonZeroU32::new(n).unwrap())
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

async fn resume(
    core: &Arc<AppCore>,
    id: &str,
) -> (Result<BatchSummary, AppError>, Vec<BatchEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let summary = core.resume_batch(id, None, events).await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (summary, seen)
}

fn export(core: &AppCore, id: &str, format: ExportFormat) -> String {
    let mut out = Vec::new();
    core.export_batch(id, format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_row_batch_stores_every_row() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment(DEPLOYMENT).key(KEY).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(200));
    let order = order(flow, data, Concurrency::Auto);
    let id = order.batch_id.clone();

    let (summary, events) = run(&core, order).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    assert_eq!(
        (summary.total, summary.succeeded, summary.failed),
        (200, 200, 0)
    );
    assert_eq!(summary.prompt_tokens, 200 * 9);
    assert_eq!(summary.completion_tokens, 200 * 3);
    assert_eq!(fake.requests().len(), 200);
    assert!(matches!(
        &events[0],
        BatchEvent::Started {
            resumed: false,
            skipped: 0,
            ..
        }
    ));
    let last = events.iter().rev().find_map(|e| match e {
        BatchEvent::Progress(p) => Some(p.clone()),
        _ => None,
    });
    let last = last.expect("progress events");
    assert_eq!(
        (last.done, last.succeeded, last.total),
        (200, 200, Some(200))
    );

    let rows = core.batch_rows(&id, RowFilter::All, 0, 1000).unwrap();
    assert_eq!(rows.len(), 200);
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row.row, index as u64);
        assert_eq!(row.line, index as u64 + 1);
        assert_eq!(row.status, BatchRowStatus::Succeeded);
        assert_eq!(row.inputs, json!({"question": format!("question {index}")}));
        assert_eq!(
            row.outputs,
            json!({"answer": format!("Hello from {DEPLOYMENT}")})
        );
        assert_eq!(row.nodes["chat"].usage.as_ref().unwrap().prompt_tokens, 9);
    }
    let view = core.batch(&id[..8]).unwrap();
    assert_eq!(view.status, BatchStatus::Succeeded);
    assert_eq!(view.counts.succeeded, 200);
    assert_eq!(view.total, Some(200));
    assert_eq!(core.batches(10).unwrap()[0].id, id);
    assert_eq!(export(&core, &id, ExportFormat::Jsonl).lines().count(), 200);
    let csv = export(&core, &id, ExportFormat::Csv);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "row,line,status,error,latency_ms,prompt_tokens,completion_tokens,inputs.question,outputs.answer"
    );
    let first = lines.next().unwrap();
    assert!(first.starts_with("0,1,succeeded,,"), "{first}");
    assert!(
        first.ends_with(",9,3,question 0,Hello from gpt-4o-mini"),
        "{first}"
    );
    assert_eq!(lines.count(), 199);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_never_reach_batch_rows_or_exports() {
    const SECRET: &str = "row-secret-9d1e44";
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    // The model repeats what it was sent: the row's secret and the connection's key come back.
    let echo = Reply::Json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": format!("you said {SECRET} with {KEY}")}, "finish_reason": "stop"}]}),
    );
    let mut setup = AzureFake::setup().deployment(DEPLOYMENT).key(KEY);
    for _ in 0..10 {
        setup = setup.reply(DEPLOYMENT, echo.clone());
    }
    let fake = setup.start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write(
        "secret.weft.yaml",
        "schema: 1\ninputs:\n  question: { type: string }\n  token: { type: string, secret: true }\noutputs:\n  answer: { value: \"${chat.output}\" }\nnodes:\n\
         \x20 - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ q }} {{ t }}\", variables: { q: \"${inputs.question}\", t: \"${inputs.token}\" } } }\n",
    );
    let data: String = (0..10)
        .map(|i| format!("{{\"question\": \"q{i}\", \"secret\": \"{SECRET}\"}}\n"))
        .collect();
    let data = files.write("secret.jsonl", &data);
    let mut order = order(flow, data, fixed(2));
    order
        .mapping
        .insert("token".into(), "${data.secret}".into());
    let id = order.batch_id.clone();

    let summary = run(&core, order).await.0.unwrap();

    assert_eq!(summary.succeeded, 10, "{summary:?}");
    // The secret did reach the model (so the checks below could fail)…
    assert!(fake.requests().iter().all(|r| r.body.contains(SECRET)));
    // …and nothing Weft keeps or exports holds it, nor the key.
    let rows = core.batch_rows(&id, RowFilter::All, 0, 100).unwrap();
    assert_eq!(rows[0].inputs["token"], "******");
    assert!(
        rows[0].outputs["answer"]
            .as_str()
            .unwrap()
            .contains("******")
    );
    let stored = stored_bytes(home.path());
    assert!(
        holds(&stored, "you said ******"),
        "the rows are in the bytes searched"
    );
    for secret in [SECRET, KEY] {
        assert!(!holds(&stored, secret), "`{secret}` is in the data folder");
        for format in [ExportFormat::Jsonl, ExportFormat::Csv] {
            let exported = export(&core, &id, format);
            assert!(
                !exported.contains(secret),
                "`{secret}` is in the {format:?} export"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_fail_with_their_line_and_the_others_run() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let flow = files.write("template.weft.yaml", TEMPLATE_FLOW);
    let data = files.write(
        "mixed.jsonl",
        "{\"question\": \"a\"}\n{\"question\": \n\n[1, 2]\n{\"question\": \"d\"}\n{\"other\": 1}\n",
    );
    let order = order(flow, data, fixed(4));
    let id = order.batch_id.clone();

    let (summary, events) = run(&core, order).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Failed);
    assert_eq!(
        (summary.total, summary.succeeded, summary.failed),
        (5, 2, 3)
    );
    let bad: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::BadRow { row, line, .. } => Some((*row, *line)),
            _ => None,
        })
        .collect();
    let mut bad = bad;
    bad.sort_unstable();
    assert_eq!(bad, [(1, 2), (2, 4), (4, 6)]);
    let failed = core.batch_rows(&id, RowFilter::Failed, 0, 10).unwrap();
    let lines: Vec<u64> = failed.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4, 6]);
    for row in &failed {
        let error = row.error.as_deref().unwrap();
        assert!(
            error.contains(&format!("line {}", row.line)) || error.contains("question"),
            "{error}"
        );
        assert!(row.nodes.is_empty(), "a bad row is not run");
    }
    assert!(failed[2].error.as_deref().unwrap().contains("question"));
    let ok = core.batch_rows(&id, RowFilter::Succeeded, 0, 10).unwrap();
    assert_eq!(ok[1].outputs, json!({"text": "Q: d"}));
    assert_eq!(ok[1].line, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_beats_default_beats_a_same_named_column() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let flow = files.write(
        "precedence.weft.yaml",
        "schema: 1\ninputs:\n  mapped: { type: string }\n  defaulted: { type: string, default: from-default }\n  named: { type: string }\n  count: { type: number }\n\
         outputs:\n  text: { value: \"${prompt.output}\" }\nnodes:\n\
         \x20 - { id: prompt, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"{{ m }}|{{ d }}|{{ n }}|{{ c + 1 }}\", variables: { m: \"${inputs.mapped}\", d: \"${inputs.defaulted}\", n: \"${inputs.named}\", c: \"${inputs.count}\" } } }\n",
    );
    let data = files.write(
        "precedence.csv",
        "mapped,defaulted,named,source\nfrom-column,from-column,named-1,from-source\nx,y,named-2,source-2\n",
    );
    let mut order = order(flow, data, fixed(2));
    order.mapping = BTreeMap::from([
        ("mapped".into(), "${data.source}".into()),
        ("count".into(), "41".into()),
    ]);
    let id = order.batch_id.clone();

    let summary = run(&core, order).await.0.unwrap();

    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    let rows = core.batch_rows(&id, RowFilter::All, 0, 10).unwrap();
    assert_eq!(
        rows[0].outputs["text"],
        "from-source|from-default|named-1|42"
    );
    assert_eq!(rows[1].outputs["text"], "source-2|from-default|named-2|42");
    assert_eq!(
        core.batch(&id).unwrap().mapping,
        BTreeMap::from([
            ("count".to_owned(), "41".to_owned()),
            ("mapped".to_owned(), "${data.source}".to_owned())
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_mapping_is_refused_before_any_row() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let flow = files.write("template.weft.yaml", TEMPLATE_FLOW);
    let data = files.write("q.csv", "prompt\nhello\n");
    let order = order(flow, data, fixed(2));

    let err = run(&core, order).await.0.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("question"), "{err}");
    assert!(core.batches(10).unwrap().is_empty(), "nothing recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_on_the_first_rows_stops_the_batch() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment(DEPLOYMENT).key(KEY).start();
    with_connection(&core, &fake.base, "sk-wrong-key-0000");
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(300));
    let order = order(flow, data, fixed(4));
    let id = order.batch_id.clone();

    let (summary, events) = run(&core, order).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Stopped, "{summary:?}");
    let requests = fake.requests().len();
    assert!(
        requests <= 8,
        "{requests} requests for a key that every row would have sent"
    );
    let stopped: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::Stopped { message } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(stopped.len(), 1, "{events:?}");
    assert!(stopped[0].contains("refused the API key"), "{}", stopped[0]);
    assert!(stopped[0].contains("weft batch resume"), "{}", stopped[0]);
    assert_eq!(summary.message.as_deref(), Some(stopped[0].as_str()));
    let view = core.batch(&id).unwrap();
    assert_eq!(view.status, BatchStatus::Stopped);
    assert!(view.counts.succeeded + view.counts.failed + view.counts.cancelled <= 8);
    assert!(view.counts.failed >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_keeps_finished_rows_and_a_resume_runs_only_the_rest() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = LimitedChat::new(Duration::from_millis(100)).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(80));
    let order = order(flow, data, fixed(5));
    let id = order.batch_id.clone();

    let (events, mut received) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let core = core.clone();
        async move { core.run_batch(order, events).await }
    });
    // Cancel once some rows are saved.
    loop {
        match received.recv().await.unwrap() {
            BatchEvent::Progress(p) if p.done >= 10 => break,
            _ => {}
        }
    }
    let asked = Instant::now();
    assert!(core.cancel_run(&id));
    let summary = running.await.unwrap().unwrap();
    let took = asked.elapsed();

    assert!(took < Duration::from_secs(1), "cancelling took {took:?}");
    assert_eq!(summary.status, BatchStatus::Cancelled);
    let view = core.batch(&id).unwrap();
    assert_eq!(view.status, BatchStatus::Cancelled);
    let succeeded = view.counts.succeeded;
    assert!(succeeded >= 10, "{view:?}");
    assert!(
        view.counts.cancelled >= 1,
        "the rows in flight are kept as cancelled: {view:?}"
    );
    assert!(
        succeeded + view.counts.cancelled < 80,
        "unread rows are not stored: {view:?}"
    );
    for row in core.batch_rows(&id, RowFilter::Cancelled, 0, 100).unwrap() {
        assert_eq!(row.nodes["chat"].state, weft_engine::NodeState::Cancelled);
    }
    let before = fake.requests();

    let (summary, events) = resume(&core, &id).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    assert_eq!((summary.total, summary.succeeded), (80, 80));
    assert_eq!(
        fake.requests() - before,
        80 - succeeded,
        "only the rows that did not succeed ran"
    );
    assert!(
        matches!(&events[0], BatchEvent::Started { resumed: true, skipped, .. } if *skipped == succeeded),
        "{:?}",
        events[0]
    );
    assert_eq!(
        core.batch_rows(&id, RowFilter::Succeeded, 0, 100)
            .unwrap()
            .len(),
        80
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_reruns_failed_rows_only() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let rejected = Reply::Json(
        400,
        json!({"error": {"code": "BadRequest", "message": "this one is refused"}}),
    );
    // One row at a time, so the first three requests are rows 0 to 2.
    let mut setup = AzureFake::setup().deployment(DEPLOYMENT).key(KEY);
    for _ in 0..3 {
        setup = setup.reply(DEPLOYMENT, rejected.clone());
    }
    let fake = setup.start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(12));
    let order = order(flow, data, fixed(1));
    let id = order.batch_id.clone();

    let summary = run(&core, order).await.0.unwrap();
    assert_eq!(
        summary.status,
        BatchStatus::Failed,
        "a 400 does not stop the batch"
    );
    assert_eq!((summary.succeeded, summary.failed), (9, 3));
    let failed = core.batch_rows(&id, RowFilter::Failed, 0, 10).unwrap();
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("this one is refused")
    );
    assert_eq!(
        failed[0].nodes["chat"].cause,
        Some(weft_engine::FailureCause::Invalid)
    );

    let (summary, _) = resume(&core, &id[..6]).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    assert_eq!((summary.succeeded, summary.failed), (12, 0));
    assert_eq!(fake.requests().len(), 12 + 3);
    let rows: Vec<u64> = core
        .batch_rows(&id, RowFilter::All, 0, 20)
        .unwrap()
        .iter()
        .map(|r| r.row)
        .collect();
    assert_eq!(rows, (0..12).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_keeps_the_node_timeout_the_batch_started_with() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    // Answers after 1.5 s: past the batch's 0.3 s node timeout, well within any default one.
    let fake = LimitedChat::new(Duration::from_millis(1500)).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(2));
    let order = BatchOrder {
        node_timeout: Duration::from_millis(300),
        ..order(flow, data, fixed(2))
    };
    let id = order.batch_id.clone();
    assert_eq!(run(&core, order).await.0.unwrap().failed, 2);

    let summary = resume(&core, &id).await.0.unwrap();

    assert_eq!(
        (summary.succeeded, summary.failed),
        (0, 2),
        "the resumed rows waited longer than the batch's own timeout"
    );
    for row in core.batch_rows(&id, RowFilter::Failed, 0, 10).unwrap() {
        let error = row.error.unwrap();
        assert!(error.contains("0.3 s timeout"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_data_file_refuses_a_resume() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let flow = files.write("template.weft.yaml", TEMPLATE_FLOW);
    let data = files.write("q.jsonl", &questions(3));
    let order = order(flow, data.clone(), fixed(1));
    let id = order.batch_id.clone();
    run(&core, order).await.0.unwrap();
    std::fs::write(&data, questions(4)).unwrap();

    let err = resume(&core, &id).await.0.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("changed since batch"), "{err}");
    assert!(err.to_string().contains("weft batch run"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_batch_ids_say_where_to_find_them() {
    let (home, _files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let err = core.batch("nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("weft batch list"), "{err}");
    let (events, _) = mpsc::unbounded_channel();
    let err = core.resume_batch("nope", None, events).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_concurrency_keeps_to_what_the_endpoint_admits() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = LimitedChat::new(Duration::from_millis(50))
        .max_in_flight(16)
        .start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(300));
    let order = order(flow, data, Concurrency::Auto);

    let (summary, events) = run(&core, order).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded, "{summary:?}");
    assert_eq!(summary.succeeded, 300);
    // The limiter starts above what the fake admits, is cut by its 429s, and stays under.
    let throttled = fake.throttled();
    assert!(
        throttled >= 1,
        "the fake never refused: the limit was never tested"
    );
    assert!(
        throttled * 10 <= fake.requests(),
        "{throttled} of {} requests refused",
        fake.requests()
    );
    assert_eq!(summary.throttles, throttled);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, BatchEvent::Throttled { endpoint, .. } if endpoint.contains("127.0.0.1"))),
        "no throttle notice"
    );
}

#[test]
fn a_preview_shows_the_first_rows_and_proposes_a_mapping() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let flow = weft_flow::FlowDocument::parse(TEMPLATE_FLOW).unwrap();
    let data = files.write(
        "p.csv",
        "Question,other\nhello,1\nbroken\nthird,3\nfourth,4\n",
    );

    let preview = core.preview_data(&flow, &data, 3).unwrap();

    assert_eq!(preview.format, weft_core::DataFileFormat::Csv);
    assert_eq!(preview.columns, ["Question", "other"]);
    assert_eq!(preview.rows.len(), 3);
    assert_eq!(
        preview.rows[0].fields.as_ref().unwrap()["Question"],
        "hello"
    );
    assert_eq!(
        (preview.rows[1].line, preview.rows[1].fields.is_none()),
        (3, true)
    );
    assert!(preview.rows[1].error.as_deref().unwrap().contains("line 3"));
    assert_eq!(
        preview.mapping,
        BTreeMap::from([("question".to_owned(), "${data.Question}".to_owned())])
    );
    let err = core
        .preview_data(&flow, &files.write("p.txt", "x"), 3)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_deployment_on_the_first_rows_stops_the_batch() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment("another-model").start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(100));

    let (summary, _) = run(&core, order(flow, data, fixed(2))).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Stopped, "{summary:?}");
    assert!(
        summary.message.as_deref().unwrap().contains("HTTP 404"),
        "{summary:?}"
    );
    assert!(
        fake.requests().len() <= 4,
        "{} requests",
        fake.requests().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_row_succeeded_refused_rows_fail_and_the_batch_runs_on() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let refused = Reply::Json(
        401,
        json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}),
    );
    let ok = Reply::Json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}]}),
    );
    // One row at a time: row 0 succeeds, rows 1 to 3 are refused (a key rotated mid-batch).
    let mut setup = AzureFake::setup()
        .deployment(DEPLOYMENT)
        .reply(DEPLOYMENT, ok);
    for _ in 0..3 {
        setup = setup.reply(DEPLOYMENT, refused.clone());
    }
    let fake = setup.start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("questions.jsonl", &questions(10));

    let (summary, events) = run(&core, order(flow, data, fixed(1))).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Failed, "{summary:?}");
    assert_eq!((summary.succeeded, summary.failed), (7, 3));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, BatchEvent::Stopped { .. }))
    );
    assert_eq!(fake.requests().len(), 10);
    let failed = core
        .batch_rows(&summary.batch_id, RowFilter::Failed, 0, 10)
        .unwrap();
    let rows: Vec<u64> = failed.iter().map(|r| r.row).collect();
    assert_eq!(rows, [1, 2, 3]);
    assert_eq!(
        failed[0].nodes["chat"].cause,
        Some(weft_engine::FailureCause::Auth)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_left_running_shows_as_interrupted_and_resumes() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let flow = files.write("template.weft.yaml", TEMPLATE_FLOW);
    let data = files.write(
        "q.jsonl",
        "{\"question\": \"a\"}\nnot json\n{\"question\": \"c\"}\n",
    );
    let order = order(flow, data, fixed(2));
    let id = order.batch_id.clone();
    run(&core, order).await.0.unwrap();
    // What a process killed mid-batch leaves: `running`, last written a minute ago.
    let minute_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 60_000;
    weft_store::Database::open(&DataDir::new(home.path()).database_path(), "test")
        .unwrap()
        .set_batch_status(&id, "running", None, None, None, minute_ago)
        .unwrap();
    assert_eq!(core.batch(&id).unwrap().status, BatchStatus::Interrupted);
    assert_eq!(core.batches(5).unwrap()[0].status, BatchStatus::Interrupted);

    let (summary, events) = resume(&core, &id).await;

    let summary = summary.unwrap();
    assert_eq!(summary.status, BatchStatus::Failed);
    assert_eq!((summary.succeeded, summary.failed), (2, 1));
    assert!(matches!(
        &events[0],
        BatchEvent::Started {
            resumed: true,
            skipped: 2,
            ..
        }
    ));
    let rerun: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::BadRow { row, .. } => Some(*row),
            _ => None,
        })
        .collect();
    assert_eq!(rerun, [1], "only the row that did not succeed ran again");
    assert_eq!(core.batch(&id).unwrap().status, BatchStatus::Failed);
}
