//! Whole flows through the engine against a fake model endpoint on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{ApiKey, Credential, Endpoint, RetryPolicy, Timeouts};
use weft_engine::services::Services;
use weft_engine::{
    ConnectionSource, Engine, FailureCause, NodeState, Plan, ResolvedConnection, Reuse, RunError,
    RunEvent, RunRequest, RunStatus, Target,
};
use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection, ValidFlow};
use weft_testkit::{DYNAMIC_KEY, FakeEndpoint, Reply, SOURCES, dynamic_key_flow};

const KEY: &str = "sk-engine-test-7f2a91";

struct Saved(HashMap<String, Target>);

impl ConnectionSource for Saved {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        self.0
            .get(name)
            .cloned()
            .map(ResolvedConnection::Model)
            .ok_or_else(|| format!("no connection `{name}`"))
    }
}

fn saved(fake: &FakeEndpoint) -> Arc<Saved> {
    let endpoint = Endpoint::ModelInference {
        endpoint: Url::parse(&format!("{}/models", fake.base)).unwrap(),
        api_version: "2024-05-01-preview".into(),
    };
    Arc::new(Saved(HashMap::from([(
        "azure-ai".into(),
        Target {
            name: "azure-ai".into(),
            endpoint,
            credential: Credential::Key(ApiKey::new(KEY)),
        },
    )])))
}

fn document(name: &str) -> FlowDocument {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    FlowDocument::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The flow as a run gets it: validated (with the connections these tests save), which fails
/// the test when it has an error.
fn valid(doc: FlowDocument) -> Arc<ValidFlow> {
    let context = Context {
        connections: vec![
            SavedConnection::new("azure-ai", ConnectionType::AzureAi),
            SavedConnection::new("aoai", ConnectionType::AzureOpenAi),
        ],
        strict: false,
    };
    let checked = weft_flow::validation(&doc, &context);
    let errors: Vec<String> = checked.errors().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    Arc::new(checked.valid.unwrap())
}

fn example(name: &str) -> Arc<ValidFlow> {
    valid(document(name))
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
    Engine::new(Services::from_client(
        weft_ai::Client::new(Timeouts::default(), retry).unwrap(),
    ))
}

fn request(
    flow: Arc<ValidFlow>,
    inputs: Value,
    connections: Arc<dyn ConnectionSource>,
) -> RunRequest {
    RunRequest {
        run_id: "test-run".into(),
        flow,
        inputs: serde_json::from_value(inputs).unwrap(),
        connections,
        cancel: CancellationToken::new(),
        node_timeout: Duration::from_secs(30),
        plan: Plan::All,
        reuse: Reuse::default(),
    }
}

async fn run(
    flow: Arc<ValidFlow>,
    inputs: Value,
    connections: Arc<dyn ConnectionSource>,
    cancel: CancellationToken,
) -> (Result<weft_engine::RunOutcome, RunError>, Vec<RunEvent>) {
    execute(RunRequest {
        cancel,
        ..request(flow, inputs, connections)
    })
    .await
}

async fn execute(
    request: RunRequest,
) -> (Result<weft_engine::RunOutcome, RunError>, Vec<RunEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let outcome = engine().run(request, events).await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (outcome, seen)
}

#[tokio::test]
async fn the_chat_example_streams_tokens_and_returns_the_answer() {
    // The connection's key is 21 bytes, so the last 20 streamed bytes wait for the next delta
    // (they could begin the key), and what is left comes at the end.
    let words = ["Weft designs flows ", "on your own ", "machine."];
    let fake = FakeEndpoint::start(vec![stream(&words)]);
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
        json!({"answer": "Weft designs flows on your own machine."})
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
            "token Weft design",
            "token s flows ",
            "token on your own machine.",
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
    let sent = &fake.requests()[0];
    assert!(
        sent.head
            .to_ascii_lowercase()
            .contains(&format!("api-key: {KEY}").to_ascii_lowercase())
    );
    // A pasted …/models URL reaches the resource's v1 API: no api-version, the deployment in
    // the body.
    assert!(
        sent.head.starts_with("POST /openai/v1/chat/completions "),
        "{}",
        sent.head
    );
    assert_eq!(sent.json()["model"], "gpt-4o-mini");
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
async fn a_dynamic_connection_can_pin_the_models_api() {
    let fake = FakeEndpoint::start(vec![stream(&["Old API."])]);
    let mut flow = document("dynamic-connection.weft.yaml");
    let connect = flow.nodes.iter_mut().find(|n| n.id == "connect").unwrap();
    connect
        .properties
        .insert("api".into(), json!("model_inference"));
    let inputs =
        json!({"endpoint": format!("{}/models", fake.base), "api_key": KEY, "question": "hi"});
    let (outcome, _) = run(
        valid(flow),
        inputs,
        Arc::new(Saved(HashMap::new())),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.unwrap().status, RunStatus::Succeeded);
    let sent = &fake.requests()[0];
    assert!(
        sent.head
            .starts_with("POST /models/chat/completions?api-version=2024-05-01-preview "),
        "{}",
        sent.head
    );
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
    // What a batch's circuit breaker reads, without parsing the sentence.
    assert_eq!(outcome.nodes["chat"].cause, Some(FailureCause::Auth));
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
    assert_eq!(outcome.nodes["chat"].cause, Some(FailureCause::Cancelled));
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
        nothing.clone(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        outcome.unwrap_err().to_string(),
        "the input `question` should be String, not `42`"
    );
    // A secret's value is never echoed, even a wrongly typed one.
    let secret = example("dynamic-connection.weft.yaml");
    let (outcome, _) = run(
        secret,
        json!({"endpoint": "http://127.0.0.1:9/models", "api_key": 4815162342_u64, "question": "q"}),
        nothing,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        outcome.unwrap_err().to_string(),
        "the input `api_key` should be String; its value is not shown because it is secret"
    );
}

#[tokio::test]
async fn a_node_that_outlasts_its_timeout_fails_and_says_so() {
    let fake = FakeEndpoint::start(vec![Reply::Stall(Duration::from_secs(10))]);
    let at = Instant::now();
    let (outcome, events) = execute(RunRequest {
        node_timeout: Duration::from_millis(200),
        ..request(
            example("chat.weft.yaml"),
            json!({"question": "q"}),
            saved(&fake),
        )
    })
    .await;
    let outcome = outcome.unwrap();
    assert!(
        at.elapsed() < Duration::from_secs(5),
        "the stall was waited out"
    );
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(
        outcome.nodes["chat"].error.as_deref(),
        Some("the node took longer than its 0.2 s timeout")
    );
    assert_eq!(outcome.nodes["chat"].cause, Some(FailureCause::Timeout));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::NodeFailed { node, .. } if node == "chat"))
    );
}

/// Events as `kind node` strings, for the nodes' part of a run.
fn node_events(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| {
            let v = serde_json::to_value(e).unwrap();
            let node = v["node"].as_str()?.to_owned();
            Some(format!("{} {node}", v["event"].as_str().unwrap()))
        })
        .filter(|e| !e.starts_with("token"))
        .collect()
}

#[tokio::test]
async fn running_from_a_node_reuses_upstream_results_and_their_dynamic_connection() {
    let fake = FakeEndpoint::start(vec![stream(&["First."]), stream(&["Second."])]);
    let flow = example("dynamic-connection.weft.yaml");
    let inputs =
        json!({"endpoint": format!("{}/models", fake.base), "api_key": KEY, "question": "hi"});
    let nothing_saved = Arc::new(Saved(HashMap::new()));
    let (first, _) = execute(request(flow.clone(), inputs.clone(), nothing_saved.clone())).await;
    let first = first.unwrap();
    assert_eq!(first.status, RunStatus::Succeeded);

    let (again, events) = execute(RunRequest {
        plan: Plan::From("chat".into()),
        reuse: first.reuse,
        ..request(flow, inputs, nothing_saved)
    })
    .await;
    let again = again.unwrap();
    assert_eq!(again.status, RunStatus::Succeeded, "{again:#?}");
    assert_eq!(
        node_events(&events),
        [
            "node_reused declare",
            "node_reused connect",
            "node_started chat",
            "node_finished chat"
        ]
    );
    assert_eq!(again.nodes["connect"].state, NodeState::Reused);
    assert_eq!(Value::Object(again.outputs), json!({"answer": "Second."}));
    // The reused connection still carries the key to the service, and nothing reports it.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1]
            .head
            .to_ascii_lowercase()
            .contains(&format!("api-key: {KEY}").to_ascii_lowercase())
    );
    let reported =
        serde_json::to_string(&events).unwrap() + &serde_json::to_string(&again.nodes).unwrap();
    assert!(!reported.contains(KEY), "the key leaked: {reported}");
}

#[tokio::test]
async fn running_from_a_node_runs_upstream_nodes_that_have_no_result() {
    let fake = FakeEndpoint::start(vec![stream(&["Answer."])]);
    let (outcome, events) = execute(RunRequest {
        plan: Plan::From("chat".into()),
        ..request(
            example("chat.weft.yaml"),
            json!({"question": "q"}),
            saved(&fake),
        )
    })
    .await;
    assert_eq!(outcome.unwrap().status, RunStatus::Succeeded);
    assert_eq!(
        node_events(&events),
        ["node_started chat", "node_finished chat"]
    );
}

#[tokio::test]
async fn a_flow_port_or_an_unknown_node_cannot_be_run_alone_and_nothing_starts() {
    let fake = FakeEndpoint::start(Vec::new());
    for (plan, expected) in [
        (
            Plan::Only("inputs".into()),
            "`inputs` only shows the flow's inputs or outputs; it does not run on its own",
        ),
        (
            Plan::Only("outputs".into()),
            "`outputs` only shows the flow's inputs or outputs; it does not run on its own",
        ),
        (Plan::Only("nope".into()), "the flow has no node `nope`"),
        (Plan::From("nope".into()), "the flow has no node `nope`"),
    ] {
        let (refused, events) = execute(RunRequest {
            plan: plan.clone(),
            ..request(
                example("chat.weft.yaml"),
                json!({"question": "q"}),
                saved(&fake),
            )
        })
        .await;
        assert_eq!(refused.unwrap_err().to_string(), expected, "{plan:?}");
        assert!(events.is_empty(), "{plan:?}: {events:?}");
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_single_node_runs_on_the_values_it_is_given() {
    let flow = valid(
        FlowDocument::parse(
            "schema: 1\ninputs:\n  topic: { type: string, default: tea }\nnodes:\n\
             - { id: prompt, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"About {{ t }}\", variables: { t: \"${inputs.topic}\" } } }\n\
             - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: azure-ai, deployment: d, stream: false, user_prompt: \"{{ p }}\", variables: { p: \"${prompt.output}\" } } }\n",
        )
        .unwrap(),
    );
    let fake = FakeEndpoint::start(vec![Reply::Json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}),
    )]);

    let (refused, events) = execute(RunRequest {
        plan: Plan::Only("chat".into()),
        ..request(flow.clone(), json!({}), saved(&fake))
    })
    .await;
    assert_eq!(
        refused.unwrap_err().to_string(),
        "`chat` reads `prompt` with no result to reuse; run the flow once, or give it a value"
    );
    assert!(events.is_empty());

    let mut given = Reuse::default();
    given.set_output("prompt", json!("A given prompt"));
    let (outcome, events) = execute(RunRequest {
        plan: Plan::Only("chat".into()),
        reuse: given,
        ..request(flow, json!({}), saved(&fake))
    })
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert_eq!(
        node_events(&events),
        [
            "node_reused prompt",
            "node_started chat",
            "node_finished chat"
        ]
    );
    assert_eq!(outcome.nodes.keys().collect::<Vec<_>>(), ["chat", "prompt"]);
    let sent: Value = serde_json::from_str(&fake.requests()[0].body).unwrap();
    assert_eq!(sent["messages"][0]["content"], "A given prompt");
    assert!(outcome.outputs.is_empty());
}

#[tokio::test]
async fn the_azure_openai_example_calls_the_deployment_url() {
    let fake = FakeEndpoint::start(vec![stream(&["Deployed."])]);
    let aoai = Arc::new(Saved(HashMap::from([(
        "aoai".into(),
        Target {
            name: "aoai".into(),
            endpoint: Endpoint::AzureOpenAi {
                resource: Url::parse(&fake.base).unwrap(),
                deployment: None,
                api_version: "2024-10-21".into(),
            },
            credential: Credential::Key(ApiKey::new(KEY)),
        },
    )])));
    let (outcome, _) = run(
        example("azure-openai.weft.yaml"),
        json!({"question": "Where?"}),
        aoai,
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(
        Value::Object(outcome.outputs),
        json!({"answer": "Deployed."})
    );
    let sent = &fake.requests()[0];
    assert!(
        sent.head.starts_with(
            "POST /openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21 "
        ),
        "{}",
        sent.head
    );
    assert_eq!(sent.json()["temperature"], 0.2);
}

/// A fixture flow, checked to validate without errors.
fn dynamic_key_case(source: &str) -> (Arc<ValidFlow>, Value) {
    let (yaml, inputs) = dynamic_key_flow(source);
    (valid(FlowDocument::parse(&yaml).unwrap()), inputs)
}

#[tokio::test]
async fn a_dynamic_key_is_masked_whatever_its_source_even_split_over_deltas() {
    let (a, rest) = DYNAMIC_KEY.split_at(11);
    let (b, c) = rest.split_at(11);
    for source in SOURCES {
        let fake = FakeEndpoint::start(vec![stream(&["Your key: ", a, b, c, " ok"])]);
        let (flow, mut inputs) = dynamic_key_case(source);
        inputs["endpoint"] = json!(format!("{}/models", fake.base));
        let (outcome, events) = run(
            flow,
            inputs,
            Arc::new(Saved(HashMap::new())),
            CancellationToken::new(),
        )
        .await;
        let outcome = outcome.unwrap();
        assert_eq!(
            outcome.status,
            RunStatus::Succeeded,
            "{source}: {outcome:#?}"
        );
        let sent = &fake.requests()[0];
        assert!(
            sent.head
                .to_ascii_lowercase()
                .contains(&format!("api-key: {DYNAMIC_KEY}")),
            "{source}: the key must still reach its service"
        );
        assert_eq!(
            Value::Object(outcome.outputs.clone()),
            json!({"answer": "Your key: ****** ok"}),
            "{source}"
        );
        let streamed: String = events
            .iter()
            .filter_map(|e| match e {
                RunEvent::Token { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(streamed, "Your key: ****** ok", "{source}");
        let reported =
            serde_json::to_string(&events).unwrap() + &serde_json::to_string(&outcome).unwrap();
        for leaked in [DYNAMIC_KEY, b] {
            assert!(
                !reported.contains(leaked),
                "{source}: {leaked} in {reported}"
            );
        }
        assert_eq!(
            outcome.nodes["connect"].inputs["api_key"], "******",
            "{source}"
        );
        assert_eq!(
            outcome.inputs["question"], "Repeat my key ******",
            "{source}"
        );
    }
}

#[tokio::test]
async fn a_secret_inside_an_object_input_is_masked_leaf_by_leaf() {
    let fake = FakeEndpoint::start(vec![stream(&["fine"])]);
    let yaml = r#"
schema: 1
inputs:
  creds: { type: object, secret: true }
outputs:
  echoed: { value: "${show.output}" }
nodes:
  - { id: show, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "key={{ k }}", variables: { k: "${inputs.creds.api_key}" } } }
"#;
    let (outcome, events) = run(
        valid(FlowDocument::parse(yaml).unwrap()),
        json!({"creds": {"api_key": DYNAMIC_KEY, "region": "westeurope"}}),
        saved(&fake),
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(
        Value::Object(outcome.outputs.clone()),
        json!({"echoed": "key=******"})
    );
    assert_eq!(outcome.inputs["creds"], "******");
    assert_eq!(outcome.nodes["show"].inputs["variables"]["k"], "******");
    let reported =
        serde_json::to_string(&events).unwrap() + &serde_json::to_string(&outcome).unwrap();
    assert!(!reported.contains(DYNAMIC_KEY), "{reported}");
}

/// A connection source that misbehaves: panics, or blocks like a keychain waiting on an unlock
/// prompt until the test lets it go.
struct Misbehaving {
    panic: bool,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl ConnectionSource for Misbehaving {
    fn connection(&self, _: &str) -> Result<ResolvedConnection, String> {
        if self.panic {
            panic!("the store fell over");
        }
        let _ = self
            .release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(5));
        Err("the keychain never answered".into())
    }
}

#[tokio::test]
async fn a_node_that_panics_fails_the_run_and_its_dependents_are_skipped() {
    let (_keep, release) = std::sync::mpsc::channel();
    let source = Arc::new(Misbehaving {
        panic: true,
        release: std::sync::Mutex::new(release),
    });
    let (outcome, events) = run(
        example("chat.weft.yaml"),
        json!({"question": "q"}),
        source,
        CancellationToken::new(),
    )
    .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(outcome.nodes["chat"].state, NodeState::Failed);
    let error = outcome.nodes["chat"].error.as_deref().unwrap();
    assert!(
        error.starts_with("internal error in node `chat`") && error.contains("the store fell over"),
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
async fn the_node_timeout_and_cancel_work_while_the_keychain_blocks() {
    for cancel_it in [false, true] {
        let (release_tx, release) = std::sync::mpsc::channel::<()>();
        let source = Arc::new(Misbehaving {
            panic: false,
            release: std::sync::Mutex::new(release),
        });
        let cancel = CancellationToken::new();
        let request = RunRequest {
            node_timeout: Duration::from_millis(if cancel_it { 30_000 } else { 200 }),
            cancel: cancel.clone(),
            ..request(example("chat.weft.yaml"), json!({"question": "q"}), source)
        };
        if cancel_it {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                cancel.cancel();
            });
        }
        let (outcome, _) = execute(request).await;
        let outcome = outcome.unwrap();
        // Let the blocked lookup go only now: had it blocked the run, it would have ended with
        // the source's own error instead.
        drop(release_tx);
        if cancel_it {
            assert_eq!(outcome.status, RunStatus::Cancelled);
            assert_eq!(outcome.nodes["chat"].state, NodeState::Cancelled);
        } else {
            assert_eq!(
                outcome.nodes["chat"].error.as_deref(),
                Some("the node took longer than its 0.2 s timeout")
            );
        }
    }
}
