//! A whole flow run through a cassette, as `weft flow run --record/--replay` makes it: the
//! engine and its nodes know nothing of it. Replayed offline the run gives the same output;
//! replayed strictly with another question, the chat node fails, named by the engine, with
//! what differs from the recording, and the failure counts as an invalid request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use weft_cassette::{CassetteMode, Pace, Tally};
use weft_engine::services::Services;
use weft_engine::{
    ConnectionSource, Engine, FailureCause, NodeState, Plan, ResolvedConnection, Reuse, RunOutcome,
    RunRequest, RunStatus, Target,
};
use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection};
use weft_testkit::AzureFake;

const FLOW: &str = include_str!("../../../examples/chat.weft.yaml");

/// `azure-ai` is the fake resource, with the test's key.
struct Fake(String);

impl ConnectionSource for Fake {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        Ok(ResolvedConnection::Model(Target {
            name: name.to_owned(),
            endpoint: v1(&self.0),
            credential: key(),
        }))
    }
}

async fn run(services: Services, base: &str, question: &str) -> RunOutcome {
    let context = Context {
        connections: vec![SavedConnection::new("azure-ai", ConnectionType::AzureAi)],
        strict: false,
    };
    let flow = weft_flow::validation(&FlowDocument::parse(FLOW).unwrap(), &context)
        .valid
        .unwrap();
    let request = RunRequest {
        run_id: "cassette-run".into(),
        flow: Arc::new(flow),
        inputs: serde_json::from_value(json!({"question": question})).unwrap(),
        connections: Arc::new(Fake(base.to_owned())),
        cancel: CancellationToken::new(),
        node_timeout: Duration::from_secs(10),
        plan: Plan::All,
        reuse: Reuse::default(),
    };
    let (events, _heard) = mpsc::unbounded_channel();
    Engine::new(services).run(request, events).await.unwrap()
}

#[tokio::test]
async fn a_recorded_flow_run_replays_offline_and_a_strict_miss_fails_its_node() {
    let fake = AzureFake::setup()
        .deployment(DEPLOYMENT)
        .reply(
            DEPLOYMENT,
            weft_testkit::chat_stream(&["Flows ", "run ", "offline."]),
        )
        .start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.cassette.jsonl");

    let recording = open(&path, CassetteMode::Record);
    let recorded = run(recording.wrap(live()), &fake.base, "Who calls?").await;
    recording.save().unwrap();
    assert_eq!(recorded.status, RunStatus::Succeeded, "{recorded:#?}");
    assert_eq!(
        Value::Object(recorded.outputs.clone()),
        json!({"answer": "Flows run offline."})
    );

    let replaying = open_with(&path, CassetteMode::Replay, true, Pace::Instant);
    let replayed = run(replaying.wrap(offline()), &fake.base, "Who calls?").await;
    assert_eq!(replayed.status, RunStatus::Succeeded, "{replayed:#?}");
    assert_eq!(replayed.outputs, recorded.outputs);
    assert_eq!(replayed.nodes["chat"].usage, recorded.nodes["chat"].usage);

    let missed = run(replaying.wrap(offline()), &fake.base, "Who answers?").await;
    assert_eq!(missed.status, RunStatus::Failed);
    let chat = &missed.nodes["chat"];
    assert_eq!(chat.state, NodeState::Failed);
    assert_eq!(chat.cause, Some(FailureCause::Invalid));
    let error = chat.error.as_deref().unwrap();
    assert!(
        error.contains(r#"body.messages[1].content: "Who answers?" ≠ "Who calls?""#),
        "{error}"
    );
    assert!(error.contains("chat.cassette.jsonl"), "{error}");
    assert_eq!(
        replaying.tally(),
        Tally {
            replayed: 1,
            recorded: 0,
            live: 0
        }
    );
    assert_eq!(fake.requests().len(), 1);
}
