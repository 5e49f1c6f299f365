//! Flows run against a hand-written `ModelClient`: no HTTP server, no socket. What the nodes hand
//! the port, and what the port answers, is all a run depends on, which is what lets a recording
//! or replaying client stand in later.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{
    ApiKey, Call, ChatRequest, ChatResponse, ClientEvent, Credential, EmbeddingsRequest,
    EmbeddingsResponse, Endpoint, FinishReason, InferenceError, Message, Role, Usage,
};
use weft_engine::services::{BoxFuture, ModelClient, Services};
use weft_engine::{
    ConnectionSource, Engine, Plan, ResolvedConnection, Reuse, RunEvent, RunOutcome, RunRequest,
    RunStatus, Target,
};
use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection};

/// One chat call as the port saw it.
#[derive(Debug)]
struct Chat {
    streamed: bool,
    deployment: Option<String>,
    messages: Vec<Message>,
}

/// Answers every chat with `words` (as deltas when streamed) and every embedding with one
/// vector per input; records what it was asked.
#[derive(Default)]
struct Scripted {
    words: Vec<&'static str>,
    chats: Mutex<Vec<Chat>>,
    embedded: Mutex<Vec<Vec<String>>>,
}

impl Scripted {
    fn answer(&self, call: &Call<'_>, request: &ChatRequest, stream: bool) -> ChatResponse {
        self.chats.lock().unwrap().push(Chat {
            streamed: stream,
            deployment: call.deployment.map(str::to_owned),
            messages: request.messages.clone(),
        });
        if stream && let Some(events) = &call.events {
            for word in &self.words {
                events.send(ClientEvent::Delta((*word).to_owned())).unwrap();
            }
        }
        ChatResponse {
            text: self.words.concat(),
            tool_calls: Vec::new(),
            finish_reason: Some(FinishReason::Stop),
            usage: Some(Usage {
                prompt_tokens: 7,
                completion_tokens: 2,
                total_tokens: 9,
            }),
            model: None,
            request_id: None,
        }
    }
}

impl ModelClient for Scripted {
    fn chat<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        Box::pin(async move { Ok(self.answer(call, request, false)) })
    }

    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        Box::pin(async move { Ok(self.answer(call, request, true)) })
    }

    fn embeddings<'a>(
        &'a self,
        _call: &'a Call<'_>,
        request: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        Box::pin(async move {
            self.embedded.lock().unwrap().push(request.input.clone());
            Ok(EmbeddingsResponse {
                vectors: request
                    .input
                    .iter()
                    .map(|text| vec![text.len() as f32, 0.5])
                    .collect(),
                usage: None,
                model: None,
            })
        })
    }
}

/// Every name is a connection whose host does not exist: a request that left the process would
/// fail the run.
struct Nowhere;

impl ConnectionSource for Nowhere {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        Ok(ResolvedConnection::Model(Target {
            name: name.to_owned(),
            endpoint: Endpoint::ModelInference {
                endpoint: Url::parse("https://weft-no-such-host.invalid/models").unwrap(),
                api_version: "2024-05-01-preview".into(),
            },
            credential: Credential::Key(ApiKey::new("sk-never-sent")),
        }))
    }
}

/// Validated as a run's flow is; the connections are the two these flows name.
fn valid(yaml: &str) -> weft_flow::ValidFlow {
    let context = Context {
        connections: vec![
            SavedConnection::new("azure-ai", ConnectionType::AzureAi),
            SavedConnection::new("search", ConnectionType::AzureAi),
        ],
        strict: false,
    };
    let checked = weft_flow::validation(&FlowDocument::parse(yaml).unwrap(), &context);
    checked
        .valid
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics))
}

async fn run(model: Arc<Scripted>, flow: &str, inputs: Value) -> (RunOutcome, Vec<RunEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let request = RunRequest {
        run_id: "fake-run".into(),
        flow: Arc::new(valid(flow)),
        inputs: serde_json::from_value(inputs).unwrap(),
        connections: Arc::new(Nowhere),
        cancel: CancellationToken::new(),
        node_timeout: Duration::from_secs(5),
        plan: Plan::All,
        reuse: Reuse::default(),
    };
    // The other ports are never called by these flows.
    let unused = weft_ai::Client::new(
        weft_ai::Timeouts::default(),
        weft_ai::RetryPolicy::default(),
    )
    .unwrap();
    let outcome = Engine::new(Services {
        model,
        ..Services::from_client(unused)
    })
    .run(request, events)
    .await
    .unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (outcome, seen)
}

#[tokio::test]
async fn the_chat_node_hands_the_port_its_rendered_messages_and_its_answer_is_the_flows_output() {
    let model = Arc::new(Scripted {
        words: vec!["Flows ", "run ", "offline."],
        ..Scripted::default()
    });
    let flow = include_str!("../../../examples/chat.weft.yaml");
    let (outcome, events) = run(model.clone(), flow, json!({"question": "Who calls?"})).await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(
        Value::Object(outcome.outputs),
        json!({"answer": "Flows run offline."})
    );
    assert_eq!(
        outcome.nodes["chat"].usage.as_ref().unwrap().total_tokens,
        9
    );
    let chats = model.chats.lock().unwrap();
    let [
        Chat {
            streamed,
            deployment,
            messages,
        },
    ] = &chats[..]
    else {
        panic!("one chat call expected, got {chats:?}");
    };
    assert!(*streamed, "the node streams unless `stream: false`");
    assert_eq!(deployment.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(
        messages,
        &[
            Message::new(
                Role::System,
                "You are a helpful assistant. Answer in at most three sentences."
            ),
            Message::new(Role::User, "Who calls?"),
        ]
    );
    // The port's deltas reach the run's events as the node's tokens (joined by the stream
    // redactor, which holds back what could begin the connection's key).
    let tokens: String = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Token { node, text } if node == "chat" => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(tokens, "Flows run offline.");
}

#[tokio::test]
async fn the_embeddings_node_gets_its_inputs_as_text_and_outputs_the_ports_vectors() {
    let model = Arc::new(Scripted::default());
    let flow = r#"
schema: 1
inputs:
  texts: { type: list }
outputs:
  vectors: { value: "${embed.output}" }
nodes:
  - id: embed
    type: embeddings
    position: { x: 0, y: 0 }
    properties: { connection: search, deployment: text-embedding-3-small, input: "${inputs.texts}" }
"#;
    let (outcome, _) = run(model.clone(), flow, json!({"texts": ["abc", 42]})).await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(
        *model.embedded.lock().unwrap(),
        [vec!["abc".to_owned(), "42".to_owned()]]
    );
    assert_eq!(
        Value::Object(outcome.outputs),
        json!({"vectors": [[3.0, 0.5], [2.0, 0.5]]})
    );
}
