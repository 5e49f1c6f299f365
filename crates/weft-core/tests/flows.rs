//! The editor's use cases through `AppCore`: flow files, recovery copies, and test runs against a
//! fake model endpoint on 127.0.0.1, with a real SQLite file and the in-memory keychain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use weft_core::{
    AppCore, ConnectionInput, ConnectionKind, ErrorKind, FileVersion, Replace, RunOrder, RunPlan,
    Settings,
};
use weft_engine::{NodeState, RunEvent, RunStatus};
use weft_flow::{FlowDocument, FlowInput, ValueType};
use weft_store::{DataDir, Keychain};
use weft_testkit::{FakeEndpoint, Reply};

const KEY: &str = "sk-core-flows-3b9d";

fn core(dir: &tempfile::TempDir) -> Arc<AppCore> {
    let settings = Settings {
        data_dir: DataDir::new(dir.path()),
        keyring_service: "weft-test".into(),
        retention: Default::default(),
    };
    Arc::new(
        AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap()).unwrap(),
    )
}

fn with_connection(core: &AppCore, fake: &FakeEndpoint) {
    core.create_connection(ConnectionInput {
        name: "azure-ai".into(),
        kind: ConnectionKind::AzureAi,
        config: BTreeMap::from([("endpoint".into(), format!("{}/models", fake.base))]),
        secrets: BTreeMap::from([("api_key".into(), KEY.into())]),
    })
    .unwrap();
}

fn answer(text: &str) -> Reply {
    Reply::Json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}),
    )
}

/// A prompt template feeding a chat completion (not streamed, so one reply is one request).
fn two_nodes() -> FlowDocument {
    FlowDocument::parse(
        "schema: 1\ninputs:\n  topic: { type: string }\noutputs:\n  answer: { value: \"${chat.output}\" }\nnodes:\n\
         \x20 - { id: prompt, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"About {{ t }}\", variables: { t: \"${inputs.topic}\" } } }\n\
         \x20 - { id: chat, type: chat_completion, position: { x: 300, y: 0 }, properties: { connection: azure-ai, deployment: d, stream: false, user_prompt: \"{{ p }}\", variables: { p: \"${prompt.output}\" } } }\n",
    )
    .unwrap()
}

fn order(plan: RunPlan, topic: &str) -> RunOrder {
    RunOrder {
        run_id: weft_core::new_run_id(),
        path: Some("/flows/two.weft.yaml".into()),
        inputs: Map::from_iter([("topic".to_owned(), Value::from(topic))]),
        plan,
        given: Default::default(),
        node_timeout: Duration::from_secs(30),
        cassette: None,
    }
}

async fn run(
    core: &Arc<AppCore>,
    flow: FlowDocument,
    order: RunOrder,
) -> (
    Result<weft_core::RunSummary, weft_core::AppError>,
    Vec<RunEvent>,
) {
    let (events, mut received) = mpsc::unbounded_channel();
    let summary = core.run_flow(flow, order, events).await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (summary, seen)
}

#[test]
fn a_saved_flow_opens_unchanged_and_never_holds_a_secret_value() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let mut document = core.sample_flow().unwrap().document;
    document.inputs.insert(
        "api_key".into(),
        FlowInput {
            kind: ValueType::String,
            default: Some(Value::from(KEY)),
            secret: true,
            description: String::new(),
        },
    );
    let path = dir.path().join("chat.weft.yaml");
    let saved = core.save_flow(&path, &document, &Replace::Any).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(KEY), "{text}");
    let opened = core.open_flow(&path).unwrap();
    document.inputs["api_key"].default = None;
    assert_eq!(opened.document, document);
    assert_eq!(opened.path.as_deref(), Some(path.to_str().unwrap()));
    assert_eq!(opened.version, Some(saved));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn a_broken_flow_file_says_where_and_a_missing_one_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    let path = dir.path().join("broken.weft.yaml");
    std::fs::write(&path, "schema: 1\nnodes:\n  - id: a\n    type: [oops\n").unwrap();
    let err = core.open_flow(&path).unwrap_err().to_string();
    assert!(err.contains("broken.weft.yaml: line 4, column "), "{err}");
    let err = core
        .open_flow(&dir.path().join("gone.weft.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("could not read ") && err.contains("gone.weft.yaml"),
        "{err}"
    );
}

#[test]
fn the_recovery_copy_comes_back_once_and_a_damaged_one_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    assert_eq!(core.take_recovery().unwrap(), None);
    let document = two_nodes();
    let version = FileVersion("4f2a".into());
    core.save_recovery(
        Some("/flows/two.weft.yaml".into()),
        Some(version.clone()),
        document.clone(),
    )
    .unwrap();
    let recovered = core.take_recovery().unwrap().unwrap();
    assert_eq!(recovered.document, document);
    assert_eq!(recovered.path.as_deref(), Some("/flows/two.weft.yaml"));
    assert_eq!(recovered.version, Some(version));
    core.clear_recovery().unwrap();
    assert_eq!(core.take_recovery().unwrap(), None);

    // A copy from before versions were kept still comes back.
    let older = serde_json::json!({"path": null, "document": document, "saved_at_ms": 1});
    std::fs::write(dir.path().join("recovery.json"), older.to_string()).unwrap();
    assert_eq!(core.take_recovery().unwrap().unwrap().version, None);

    std::fs::write(dir.path().join("recovery.json"), "{ not json").unwrap();
    assert_eq!(core.take_recovery().unwrap(), None);
    assert!(dir.path().join("recovery.json.damaged").exists());
}

#[tokio::test]
async fn run_this_node_and_run_from_here_reuse_the_last_run_of_the_flow() {
    let fake = FakeEndpoint::start(vec![answer("first"), answer("second"), answer("third")]);
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    with_connection(&core, &fake);

    let only = RunPlan::Only {
        node: "chat".into(),
    };
    let (refused, _) = run(&core, two_nodes(), order(only.clone(), "tea")).await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("`chat` reads `prompt` with no result to reuse"),
    );

    let (whole, _) = run(&core, two_nodes(), order(RunPlan::All, "tea")).await;
    let whole = whole.unwrap();
    assert_eq!(whole.status, RunStatus::Succeeded);
    assert_eq!(whole.outputs["answer"], "first");

    // The topic changed, but the prompt's result is reused: the model sees the old prompt.
    let (single, events) = run(&core, two_nodes(), order(only, "coffee")).await;
    let single = single.unwrap();
    assert_eq!(single.nodes["prompt"].state, NodeState::Reused);
    assert_eq!(single.nodes["chat"].output, Some(Value::from("second")));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::NodeReused { node } if node == "prompt"))
    );
    let sent: Value = serde_json::from_str(&fake.requests()[1].body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "About tea");

    let from = RunPlan::From {
        node: "prompt".into(),
    };
    let (from, _) = run(&core, two_nodes(), order(from, "coffee")).await;
    assert_eq!(from.unwrap().outputs["answer"], "third");
    let sent: Value = serde_json::from_str(&fake.requests()[2].body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "About coffee");

    let history = core.list_runs(10).unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history
            .iter()
            .all(|r| r.flow_path == "/flows/two.weft.yaml")
    );
    assert!(!serde_json::to_string(&history).unwrap().contains(KEY));
}

#[tokio::test]
async fn an_invalid_flow_is_refused_before_any_call() {
    let fake = FakeEndpoint::start(vec![answer("never")]);
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    // No connection named azure-ai exists.
    let (refused, events) = run(&core, two_nodes(), order(RunPlan::All, "tea")).await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.starts_with("the flow has 1 problem(s); fix them first:"),
        "{message}"
    );
    assert!(
        message.contains("node chat, connection: unknown connection `azure-ai`"),
        "{message}"
    );
    assert!(events.is_empty());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn runs_are_cancelled_by_id_and_one_ending_leaves_the_others_cancellable() {
    let fake = FakeEndpoint::start(vec![
        Reply::Stall(Duration::from_secs(10)),
        answer("the second run's answer"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    with_connection(&core, &fake);
    let first = order(RunPlan::All, "tea");
    let first_id = first.run_id.clone();
    assert!(!core.cancel_run(&first_id), "nothing to cancel yet");
    let running = tokio::spawn({
        let core = core.clone();
        async move { run(&core, two_nodes(), first).await }
    });
    while fake.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The first run's id is taken while it runs: asking again is "busy", not bad input.
    let mut again = order(RunPlan::All, "tea");
    again.run_id = first_id.clone();
    let (busy, _) = run(&core, two_nodes(), again).await;
    let busy = busy.unwrap_err();
    assert_eq!(busy.kind(), ErrorKind::Busy);
    assert!(busy.to_string().contains("cancel"), "{busy}");
    // A second run goes on beside the first and ends; the first stays cancellable.
    let second = order(RunPlan::All, "tea");
    let second_id = second.run_id.clone();
    let (done, _) = run(&core, two_nodes(), second).await;
    assert_eq!(done.unwrap().status, RunStatus::Succeeded);
    assert!(
        !core.cancel_run(&second_id),
        "a finished run has nothing to cancel"
    );
    assert!(!core.cancel_run("no-such-run"));

    assert!(core.cancel_run(&first_id));
    let (summary, _) = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the cancelled run ends")
        .unwrap();
    let summary = summary.unwrap();
    assert_eq!(summary.status, RunStatus::Cancelled);
    assert_eq!(summary.nodes["prompt"].state, NodeState::Succeeded);
    assert_eq!(summary.nodes["chat"].state, NodeState::Cancelled);
    assert!(
        !core.cancel_run(&first_id),
        "the registry forgets a run that ended"
    );
}

#[tokio::test]
async fn an_unknown_run_or_node_is_not_found() {
    let fake = FakeEndpoint::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let core = core(&dir);
    with_connection(&core, &fake);
    assert_eq!(
        core.run("ffffffff").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let (missing, _) = run(
        &core,
        two_nodes(),
        order(
            RunPlan::Only {
                node: "nope".into(),
            },
            "tea",
        ),
    )
    .await;
    let missing = missing.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert!(missing.to_string().contains("nope"));
    assert!(fake.requests().is_empty());
}
