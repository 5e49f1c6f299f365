//! Cassettes in flow runs and batches through `AppCore`: a run recorded against a fake endpoint
//! on 127.0.0.1, replayed strictly without it answering, and history marking both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use weft_core::{
    AppCore, BatchEngine, BatchOrder, BatchStatus, Cassette, CassetteMode, CassetteOptions,
    CassetteUse, Concurrency, ErrorKind, Pace, RunOrder, RunPlan, RunSummary,
};
use weft_flow::FlowDocument;
use weft_testkit::{AzureFake, holds};

mod common;
use common::{Files, core, with_connection};

const KEY: &str = "sk-cassette-key-91d2";
const DEPLOYMENT: &str = "gpt-4o-mini";

const CHAT_FLOW: &str = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  answer: { value: \"${chat.output}\" }\nnodes:\n\
    \x20 - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ q }}\", variables: { q: \"${inputs.question}\" } } }\n";

fn cassette(path: &Path, mode: CassetteMode) -> Arc<Cassette> {
    Cassette::open(
        path,
        CassetteOptions {
            mode,
            strict: mode == CassetteMode::Replay,
            pace: Pace::Instant,
        },
    )
    .unwrap()
}

fn use_of(mode: &str, replayed: u64, recorded: u64, live: u64) -> CassetteUse {
    CassetteUse {
        mode: mode.into(),
        replayed,
        recorded,
        live,
    }
}

async fn run_flow(
    core: &Arc<AppCore>,
    flow: &Path,
    question: &str,
    cassette: Option<Arc<Cassette>>,
) -> RunSummary {
    let document = FlowDocument::parse(&std::fs::read_to_string(flow).unwrap()).unwrap();
    let order = RunOrder {
        run_id: weft_core::new_run_id(),
        path: Some(flow.display().to_string()),
        inputs: Map::from_iter([("question".to_owned(), Value::from(question))]),
        plan: RunPlan::All,
        given: Default::default(),
        node_timeout: Duration::from_secs(30),
        cassette,
    };
    let (events, _received) = mpsc::unbounded_channel();
    core.run_flow(document, order, events).await.unwrap()
}

fn batch_order(flow: &Path, data: &Path, cassette: Option<Arc<Cassette>>) -> BatchOrder {
    BatchOrder {
        batch_id: weft_core::new_run_id(),
        name: None,
        flow_path: flow.to_owned(),
        data_path: data.to_owned(),
        mapping: BTreeMap::new(),
        concurrency: Concurrency::Fixed(NonZeroU32::new(2).unwrap()),
        node_timeout: Duration::from_secs(30),
        engine: BatchEngine::Local,
        cassette,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_flow_run_replays_without_the_endpoint_and_history_marks_both() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment(DEPLOYMENT).key(KEY).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let tape = home.path().join("chat.cassette.jsonl");

    let recording = cassette(&tape, CassetteMode::Record);
    let recorded = run_flow(&core, &flow, "Hi", Some(recording.clone())).await;
    recording.save().unwrap();
    assert_eq!(recorded.cassette, Some(use_of("record", 0, 1, 0)));
    assert_eq!(fake.requests().len(), 1);

    let replayed = run_flow(
        &core,
        &flow,
        "Hi",
        Some(cassette(&tape, CassetteMode::Replay)),
    )
    .await;

    assert_eq!(fake.requests().len(), 1, "the replay called the endpoint");
    assert_eq!(replayed.outputs, recorded.outputs);
    assert_eq!(replayed.outputs["answer"], "Hello from gpt-4o-mini");
    assert_eq!(replayed.cassette, Some(use_of("replay", 1, 0, 0)));
    let history = core.list_runs(10).unwrap();
    assert_eq!(history[0].cassette, Some(use_of("replay", 1, 0, 0)));
    assert_eq!(history[1].cassette, Some(use_of("record", 0, 1, 0)));
    let plain = run_flow(&core, &flow, "Hi", None).await;
    assert_eq!(plain.cassette, None);
    assert_eq!(core.run(&plain.run_id).unwrap().cassette, None);
    assert!(
        !holds(&std::fs::read(&tape).unwrap(), KEY),
        "the key is in the cassette"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_replay_of_another_input_fails_the_node_naming_what_differs() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment(DEPLOYMENT).key(KEY).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let tape = home.path().join("chat.cassette.jsonl");
    let recording = cassette(&tape, CassetteMode::Record);
    run_flow(&core, &flow, "Hi", Some(recording.clone())).await;
    recording.save().unwrap();

    let summary = run_flow(
        &core,
        &flow,
        "Hello",
        Some(cassette(&tape, CassetteMode::Replay)),
    )
    .await;

    assert_eq!(fake.requests().len(), 1);
    let error = summary.nodes["chat"].error.clone().unwrap_or_default();
    assert!(error.contains("Hello"), "{error}");
    assert!(error.contains("chat.cassette.jsonl"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_fills_its_cassette_then_replays_it_and_its_history_says_so() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment(DEPLOYMENT).key(KEY).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write(
        "q.jsonl",
        "{\"question\": \"a\"}\n{\"question\": \"b\"}\n{\"question\": \"c\"}\n",
    );
    let tape = home.path().join("batch.cassette.jsonl");
    let filling = cassette(&tape, CassetteMode::Fill);
    let order = batch_order(&flow, &data, Some(filling.clone()));
    let first = order.batch_id.clone();
    let (events, _received) = mpsc::unbounded_channel();
    let summary = core.run_batch(order, events).await.unwrap();
    filling.save().unwrap();
    assert_eq!(summary.status, BatchStatus::Succeeded);
    assert_eq!(fake.requests().len(), 3);

    let order = batch_order(&flow, &data, Some(cassette(&tape, CassetteMode::Replay)));
    let second = order.batch_id.clone();
    let (events, _received) = mpsc::unbounded_channel();
    let summary = core.run_batch(order, events).await.unwrap();

    assert_eq!(summary.status, BatchStatus::Succeeded);
    assert_eq!(fake.requests().len(), 3, "the replay called the endpoint");
    assert_eq!(
        core.batch(&first).unwrap().cassette,
        Some(use_of("fill", 0, 3, 0))
    );
    assert_eq!(
        core.batch(&second).unwrap().cassette,
        Some(use_of("replay", 3, 0, 0))
    );
    let rows = core
        .batch_rows(&second, weft_core::RowFilter::All, 0, 10)
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.outputs["answer"] == "Hello from gpt-4o-mini")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cassette_with_the_azure_batch_engine_is_refused_before_anything_is_stored() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup().deployment(DEPLOYMENT).key(KEY).start();
    with_connection(&core, &fake.base, KEY);
    let flow = files.write("chat.weft.yaml", CHAT_FLOW);
    let data = files.write("q.jsonl", "{\"question\": \"a\"}\n");
    let tape = home.path().join("batch.cassette.jsonl");
    let order = BatchOrder {
        engine: BatchEngine::AzureBatch,
        ..batch_order(&flow, &data, Some(cassette(&tape, CassetteMode::Record)))
    };
    let (events, _received) = mpsc::unbounded_channel();

    let err = core.run_batch(order, events).await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Azure Batch engine"), "{err}");
    assert!(err.to_string().contains("local engine"), "{err}");
    assert!(
        !err.to_string().contains("  "),
        "a message with runs of spaces: {err}"
    );
    assert!(core.batches(10).unwrap().is_empty());
    assert!(fake.requests().is_empty());
}
