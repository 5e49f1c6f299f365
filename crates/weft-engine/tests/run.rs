//! Whole flows through the engine against a fake model endpoint on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{ApiKey, Endpoint, RetryPolicy, Timeouts};
use weft_engine::{
    ConnectionSource, Engine, NodeState, RunError, RunEvent, RunRequest, RunStatus, Target,
};
use weft_flow::FlowDocument;
use weft_testkit::{FakeEndpoint, Reply};

const KEY: &str = "sk-engine-test-7f2a91";

struct Saved(HashMap<String, Target>);

impl ConnectionSource for Saved {
    fn connection(&self, name: &str) -> Result<Target, String> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no connection `{name}`"))
    }
}

fn saved(fake: &FakeEndpoint) -> Arc<Saved> {
    let endpoint = Endpoint::Foundry {
        endpoint: Url::parse(&format!("{}/models", fake.base)).unwrap(),
        api_version: "2024-05-01-preview".into(),
    };
    Arc::new(Saved(HashMap::from([(
        "azure-ai".into(),
        Target {
            name: "azure-ai".into(),
            endpoint,
            key: ApiKey::new(KEY),
        },
    )])))
}

fn example(name: &str) -> Arc<FlowDocument> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    Arc::new(FlowDocument::parse(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn stream(words: &[&str]) -> Reply {
    let mut events = vec![json!({"choices": [], "prompt_filter_results": []})];
    events.extend(
        words
            .iter()
            .map(|w| json!({"choices": [{"index": 0, "delta": {"content": w}}]})),
    );
    events.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    events.push(json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}));
    Reply::Sse(events)
}

fn engine() -> Engine {
    let retry = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    Engine::new(weft_ai::Client::new(Timeouts::default(), retry).unwrap())
}

async fn run(
    flow: Arc<FlowDocument>,
    inputs: Value,
    connections: Arc<dyn ConnectionSource>,
    cancel: CancellationToken,
) -> (Result<weft_engine::RunOutcome, RunError>, Vec<RunEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let inputs: Map<String, Value> = serde_json::from_value(inputs).unwrap();
    let request = RunRequest {
        flow,
        inputs,
        connections,
        cancel,
        node_timeout: Duration::from_secs(30),
    };
    let outcome = engine().run(request, events).await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (outcome, seen)
}

#[tokio::test]
async fn the_chat_example_streams_tokens_and_returns_the_answer() {
    let fake = FakeEndpoint::start(vec![stream(&["Weft ", "designs ", "flows."])]);
    let (outcome, events) = run(
        example("chat.weft.yaml"),
        json!({"question": "What is Weft?"}),
        saved(&fake),
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert_eq!(
        Value::Object(outcome.outputs),
        json!({"answer": "Weft designs flows."})
    );
    assert_eq!(
        outcome.nodes["chat"].usage.as_ref().unwrap().total_tokens,
        15
    );

    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e {
            RunEvent::Token { text, .. } => format!("token {text}"),
            other => serde_json::to_value(other).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "node_started",
            "token Weft ",
            "token designs ",
            "token flows.",
            "node_finished",
            "run_finished"
        ]
    );

    let sent = fake.requests()[0].json();
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "You are a helpful assistant. Answer in at most three sentences."},
            {"role": "user", "content": "What is Weft?"}
        ])
    );
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["stream"], true);
}

#[tokio::test]
async fn the_dynamic_connection_overrides_and_its_key_is_redacted_everywhere() {
    let fake = FakeEndpoint::start(vec![stream(&["Hello ", KEY])]);
    let inputs =
        json!({"endpoint": format!("{}/models", fake.base), "api_key": KEY, "question": "hi"});
    let nothing_saved = Arc::new(Saved(HashMap::new()));
    let (outcome, events) = run(
        example("dynamic-connection.weft.yaml"),
        inputs,
        nothing_saved,
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert!(
        fake.requests()[0]
            .head
            .to_ascii_lowercase()
            .contains(&format!("api-key: {KEY}").to_ascii_lowercase())
    );
    // Even when the model echoes the key, nothing the run reports contains it.
    assert_eq!(
        Value::Object(outcome.outputs.clone()),
        json!({"answer": "Hello ******"})
    );
    let reported =
        serde_json::to_string(&events).unwrap() + &serde_json::to_string(&outcome).unwrap();
    assert!(!reported.contains(KEY), "the key leaked: {reported}");
    assert_eq!(outcome.nodes["connect"].inputs["api_key"], "******");
}

#[tokio::test]
async fn the_untaken_branch_is_skipped_and_parallel_work_still_runs() {
    let fake = FakeEndpoint::start(vec![stream(&["Short answer."])]);
    let (outcome, _) = run(
        example("condition-branches.weft.yaml"),
        json!({"text": "Is this short?"}),
        saved(&fake),
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert_eq!(outcome.nodes["summarize"].state, NodeState::Skipped);
    assert_eq!(
        outcome.nodes["summarize"].error.as_deref(),
        Some("its branch was not taken")
    );
    assert_eq!(outcome.nodes["answer"].state, NodeState::Succeeded);
    assert_eq!(
        Value::Object(outcome.outputs),
        json!({"summary": null, "answer": "Short answer.", "keywords": "Keywords of: Is this short?"})
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_failing_node_fails_the_run_with_the_services_sentence() {
    let fake = FakeEndpoint::start(vec![Reply::Json(
        401,
        json!({"error": {"code": "401", "message": "invalid key"}}),
    )]);
    let (outcome, events) = run(
        example("chat.weft.yaml"),
        json!({"question": "q"}),
        saved(&fake),
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.nodes["chat"].error.as_deref().unwrap();
    assert!(
        error.contains("the service refused the API key (HTTP 401)"),
        "{error}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::NodeFailed { node, .. } if node == "chat"))
    );
    assert_eq!(Value::Object(outcome.outputs), json!({"answer": null}));
}

#[tokio::test]
async fn cancelling_stops_a_run_within_100_ms_and_keeps_what_finished() {
    let fake = FakeEndpoint::start(vec![Reply::Stall(Duration::from_secs(10))]);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let flow = example("chat.weft.yaml");
    let task = tokio::spawn(run(flow, json!({"question": "q"}), saved(&fake), cancel));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at = Instant::now();
    trigger.cancel();
    let (outcome, events) = task.await.unwrap();
    let reaction = at.elapsed();
    let outcome = outcome.unwrap();
    assert!(reaction < Duration::from_millis(100), "took {reaction:?}");
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(outcome.nodes["chat"].state, NodeState::Cancelled);
    assert!(matches!(
        events.last(),
        Some(RunEvent::RunFinished {
            status: RunStatus::Cancelled,
            ..
        })
    ));
}

#[tokio::test]
async fn inputs_are_checked_before_anything_runs() {
    let nothing = Arc::new(Saved(HashMap::new()));
    let (outcome, events) = run(
        example("azure-openai.weft.yaml"),
        json!({}),
        nothing.clone(),
        CancellationToken::new(),
    )
    .await;
    assert!(matches!(outcome, Err(RunError::MissingInput(ref name)) if name == "question"));
    assert!(events.is_empty());
    let (outcome, _) = run(
        example("chat.weft.yaml"),
        json!({"question": 42}),
        nothing,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        outcome.unwrap_err().to_string(),
        "the input `question` should be String, not `42`"
    );
}
