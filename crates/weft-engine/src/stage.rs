//! Which flows the Azure OpenAI Batch API can run, and how, without a second way of building
//! requests.
//!
//! A flow fits when its model calls form one stage: a single Chat completion or Embeddings node,
//! and no node anywhere that calls another service (Content Safety, web or document search, an
//! HTTP request), so that every node the model node waits for is pure (inputs, templates,
//! variables, conditions, a connection made from inputs) and so is everything after it.
//! [`stage`] says so, or names the node that prevents it, before anything is uploaded.
//!
//! Such a flow runs in two passes over each row, both by the engine itself, with the model port
//! swapped ([`Services::model`](crate::services::Services)):
//! 1. [`Capture`] stands in for the model client: the engine evaluates the row up to the model
//!    node, which builds its request exactly as in a local run and hands it to the port; the
//!    port keeps it (with the endpoint, credential and deployment) and fails the call, so the
//!    run stops there. That request becomes the row's line of the batch's input file.
//! 2. Once the batch is done, [`Replay`] stands in with the row's answer from the output file:
//!    the engine runs the row again, the model node "calls" and gets the batched answer, and
//!    the rest of the flow runs locally. The row's record is a local run's, node by node.

use std::sync::{Mutex, PoisonError};

use weft_ai::batch_api::{BatchTarget, OutputLine};
use weft_ai::{
    Call, ChatRequest, ChatResponse, ClientEvent, Credential, EmbeddingsRequest,
    EmbeddingsResponse, Endpoint, InferenceError,
};
use weft_flow::{NodeKind, ValidFlow};

use crate::services::{BoxFuture, ModelClient};

/// The model call a batch makes for each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageCall {
    Chat,
    Embeddings,
}

/// The flow's one model-call stage: the node whose calls go to the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub node: String,
    pub call: StageCall,
}

/// Why a flow cannot run on the Batch API. Each names the node and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error(
        "the flow calls no model, so there is nothing for the Azure OpenAI Batch API to run; run it with the local engine"
    )]
    NoModelCall,
    #[error(
        "`{second}` is a second model call beside `{first}`: the Batch API makes one model call per row, so run this flow with the local engine, or split it into one flow per model call"
    )]
    TwoModelCalls { first: String, second: String },
    #[error(
        "`{node}` ({title}) calls a service {place}; with the Batch API only the model call leaves this machine, so run this flow with the local engine, or move `{node}` into a flow of its own"
    )]
    CallsService {
        node: String,
        title: &'static str,
        /// Where it stands against the model node, in words.
        place: String,
    },
}

/// What a node of `kind` does to a batch.
enum Part {
    /// Computes from its inputs, on this machine.
    Pure,
    Model(StageCall),
    /// Calls a service other than the model.
    Service,
}

fn part(kind: NodeKind) -> Part {
    match kind {
        NodeKind::Inputs
        | NodeKind::Outputs
        | NodeKind::DeclareVariable
        | NodeKind::SetVariable
        | NodeKind::PromptTemplate
        | NodeKind::Condition
        // It turns a URL and a key into a connection; it calls nothing.
        | NodeKind::CreateAzureAiConnection => Part::Pure,
        NodeKind::ChatCompletion => Part::Model(StageCall::Chat),
        NodeKind::Embeddings => Part::Model(StageCall::Embeddings),
        NodeKind::ContentSafetyText
        | NodeKind::SerpSearch
        | NodeKind::AiSearch
        | NodeKind::HttpRequest => Part::Service,
        // The user's own code may call anything, so it is not run twice around a stage.
        NodeKind::Python => Part::Service,
    }
}

/// The flow's model-call stage, or the first node (in file order) that keeps it from being one.
pub fn stage(flow: &ValidFlow) -> Result<Stage, StageError> {
    let nodes = &flow.document().nodes;
    let mut found: Option<Stage> = None;
    for node in nodes {
        if let Part::Model(call) = part(node.kind) {
            if let Some(first) = &found {
                return Err(StageError::TwoModelCalls {
                    first: first.node.clone(),
                    second: node.id.clone(),
                });
            }
            found = Some(Stage {
                node: node.id.clone(),
                call,
            });
        }
    }
    let stage = found.ok_or(StageError::NoModelCall)?;
    let graph = flow.graph();
    if let Some(node) = nodes
        .iter()
        .find(|node| matches!(part(node.kind), Part::Service))
    {
        let place = if graph.reaches(&stage.node, &node.id) {
            format!(
                "that `{}` waits for, so it would have to run before the batch",
                stage.node
            )
        } else if graph.reaches(&node.id, &stage.node) {
            format!("after `{}`, once per row", stage.node)
        } else {
            format!("beside `{}`, once per row", stage.node)
        };
        return Err(StageError::CallsService {
            node: node.id.clone(),
            title: node.kind.spec().title,
            place,
        });
    }
    Ok(stage)
}

/// The request the model node built for one row.
#[derive(Debug, Clone, PartialEq)]
pub enum StageRequest {
    Chat(ChatRequest),
    Embeddings(EmbeddingsRequest),
}

/// One row's model call, as the node made it: where it goes, with which credential, to which
/// deployment, and what it asks. Rows of one batch must agree on all but the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    pub endpoint: Endpoint,
    pub credential: Credential,
    pub deployment: Option<String>,
    pub request: StageRequest,
}

/// The error the model node fails with in the capture pass (the run is not recorded).
const HELD: &str =
    "this request is kept for the Azure OpenAI Batch API; the row runs on when its answer is back";

/// The model port of the first pass: keeps the request and ends the call.
#[derive(Debug, Default)]
pub struct Capture {
    captured: Mutex<Option<Captured>>,
}

impl Capture {
    /// The row's model call, once the capture pass has run (None: the model node did not run,
    /// as when its `when` is false, and the row needs no batched answer).
    pub fn take(&self) -> Option<Captured> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn keep<T>(&self, call: &Call<'_>, request: StageRequest) -> Result<T, InferenceError> {
        let mut captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
        captured.get_or_insert_with(|| Captured {
            endpoint: call.endpoint.clone(),
            credential: call.credential.clone(),
            deployment: call.deployment.map(str::to_owned),
            request,
        });
        Err(InferenceError::Config(HELD.to_owned()))
    }
}

impl ModelClient for Capture {
    fn chat<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        let kept = self.keep(call, StageRequest::Chat(request.clone()));
        Box::pin(async move { kept })
    }

    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        self.chat(call, request)
    }

    fn embeddings<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        let kept = self.keep(call, StageRequest::Embeddings(request.clone()));
        Box::pin(async move { kept })
    }
}

/// The Batch API's answer to one row's request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Chat(ChatResponse),
    Embeddings(EmbeddingsResponse),
}

/// The model port of the second pass: answers the row's one model call with what the batch
/// returned for it (an error line stays that row's error).
#[derive(Debug, Default)]
pub struct Replay {
    held: Mutex<Option<Held>>,
}

#[derive(Debug)]
enum Held {
    Answer(Result<Answer, InferenceError>),
    /// Read when the node calls, so that an embeddings answer is checked against the inputs
    /// the node sends.
    Line(Box<OutputLine>, BatchTarget),
}

impl Replay {
    pub fn new(answer: Result<Answer, InferenceError>) -> Self {
        Self {
            held: Mutex::new(Some(Held::Answer(answer))),
        }
    }

    /// The row's line of the batch's output or error file, from the batch at `target`.
    pub fn from_line(line: OutputLine, target: BatchTarget) -> Self {
        Self {
            held: Mutex::new(Some(Held::Line(Box::new(line), target))),
        }
    }

    fn take(&self) -> Result<Held, InferenceError> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| {
                InferenceError::Config(
                    "the Azure OpenAI Batch API returned no answer for this row; run the row again"
                        .to_owned(),
                )
            })
    }

    fn chat_answer(&self) -> Result<ChatResponse, InferenceError> {
        match self.take()? {
            Held::Answer(answer) => match answer? {
                Answer::Chat(reply) => Ok(reply),
                Answer::Embeddings(_) => Err(mixed()),
            },
            Held::Line(line, target) => line.chat(&target),
        }
    }
}

fn mixed() -> InferenceError {
    InferenceError::Config(
        "internal: the batched answer is not of the kind the node asked for; please report it"
            .to_owned(),
    )
}

impl ModelClient for Replay {
    fn chat<'a>(
        &'a self,
        _call: &'a Call<'_>,
        _request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        let answer = self.chat_answer();
        Box::pin(async move { answer })
    }

    /// The answer's text arrives as one piece, as if the whole stream came at once.
    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        _request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        let answer = self.chat_answer();
        if let (Ok(reply), Some(events)) = (&answer, &call.events)
            && !reply.text.is_empty()
        {
            let _ = events.send(ClientEvent::Delta(reply.text.clone()));
        }
        Box::pin(async move { answer })
    }

    fn embeddings<'a>(
        &'a self,
        _call: &'a Call<'_>,
        request: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        let answer = self.take().and_then(|held| match held {
            Held::Answer(answer) => match answer? {
                Answer::Embeddings(reply) => Ok(reply),
                Answer::Chat(_) => Err(mixed()),
            },
            Held::Line(line, target) => line.embeddings(&target, request.input.len()),
        });
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{Value, json};
    use tokio_util::sync::CancellationToken;
    use weft_ai::{ApiKey, Message, Role, Usage};
    use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection};

    use super::*;
    use crate::services::Services;
    use crate::{ConnectionSource, Engine, Plan, ResolvedConnection, Reuse, RunRequest, Target};

    /// `nodes` under an input `topic` and an output `answer` (the chat node's, when there is one).
    fn valid(nodes: &str) -> Arc<ValidFlow> {
        let answer = if nodes.contains("id: chat,") {
            "chat"
        } else {
            "prompt"
        };
        let yaml = format!(
            "schema: 1\ninputs:\n  topic: {{ type: string, default: tea }}\noutputs:\n  answer: {{ value: \"${{{answer}.output}}\" }}\nnodes:\n{nodes}"
        );
        let doc = FlowDocument::parse(&yaml).unwrap();
        let saved = ["azure-ai", "safety", "serp"]
            .iter()
            .zip([
                ConnectionType::AzureAi,
                ConnectionType::AzureContentSafety,
                ConnectionType::Serp,
            ])
            .map(|(name, kind)| SavedConnection::new(name, kind))
            .collect();
        let checked = weft_flow::validation(
            &doc,
            &Context {
                connections: saved,
                strict: false,
            },
        );
        let errors: Vec<String> = checked.errors().map(ToString::to_string).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        Arc::new(checked.valid.unwrap())
    }

    const PROMPT: &str = "- { id: prompt, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"About {{ t }}\", variables: { t: \"${inputs.topic}\" } } }\n";
    const CHAT: &str = "- { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: azure-ai, deployment: gpt-batch, stream: true, temperature: 0.3, system_prompt: Be brief., user_prompt: \"{{ p }}!\", variables: { p: \"${prompt.output}\" } } }\n";
    const UPPER: &str = "- { id: shout, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: \"{{ a | upper }}\", variables: { a: \"${chat.output}\" } } }\n";

    #[test]
    fn templates_before_and_after_one_chat_node_fit() {
        let flow = valid(&format!("{PROMPT}{CHAT}{UPPER}"));
        assert_eq!(
            stage(&flow).unwrap(),
            Stage {
                node: "chat".into(),
                call: StageCall::Chat
            }
        );
    }

    #[test]
    fn a_flow_without_a_model_call_does_not_fit() {
        let err = stage(&valid(PROMPT)).unwrap_err();
        assert_eq!(err, StageError::NoModelCall);
        assert!(err.to_string().contains("local engine"), "{err}");
    }

    #[test]
    fn a_second_model_call_is_named() {
        let second = "- { id: embed, type: embeddings, position: { x: 0, y: 0 }, properties: { connection: azure-ai, deployment: emb, input: \"${chat.output}\" } }\n";
        let err = stage(&valid(&format!("{PROMPT}{CHAT}{second}"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`embed` is a second model call beside `chat`: the Batch API makes one model call per row, so run this flow with the local engine, or split it into one flow per model call"
        );
    }

    #[test]
    fn a_service_before_or_after_the_model_call_is_named_with_its_place() {
        let search = |text: &str| {
            format!(
                "- {{ id: web, type: serp_search, position: {{ x: 0, y: 0 }}, properties: {{ connection: serp, query: \"{text}\" }} }}\n"
            )
        };
        let chat_on_web = "- { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: azure-ai, deployment: gpt-batch, user_prompt: \"{{ w }}\", variables: { w: \"${web.output}\" } } }\n";
        let before = stage(&valid(&format!(
            "{}{chat_on_web}",
            search("${inputs.topic}")
        )))
        .unwrap_err();
        assert_eq!(
            before.to_string(),
            "`web` (Web search (SerpAPI)) calls a service that `chat` waits for, so it would have to run before the batch; with the Batch API only the model call leaves this machine, so run this flow with the local engine, or move `web` into a flow of its own"
        );
        let after = stage(&valid(&format!(
            "{PROMPT}{CHAT}{}",
            search("${chat.output}")
        )))
        .unwrap_err();
        assert!(
            matches!(&after, StageError::CallsService { node, place, .. } if node == "web" && place.starts_with("after `chat`")),
            "{after:?}"
        );
        let beside = stage(&valid(&format!(
            "{PROMPT}{CHAT}{}",
            search("${inputs.topic}")
        )))
        .unwrap_err();
        assert!(beside.to_string().contains("beside `chat`"), "{beside}");
    }

    struct Saved(Target);

    impl ConnectionSource for Saved {
        fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
            assert_eq!(name, "azure-ai");
            Ok(ResolvedConnection::Model(self.0.clone()))
        }
    }

    fn services(model: Arc<dyn ModelClient>) -> Services {
        Services {
            model,
            ..Services::from_client(
                weft_ai::Client::new(
                    weft_ai::Timeouts::default(),
                    weft_ai::RetryPolicy::default(),
                )
                .unwrap(),
            )
        }
    }

    async fn run(
        model: Arc<dyn ModelClient>,
        flow: &Arc<ValidFlow>,
        topic: &str,
    ) -> crate::RunOutcome {
        run_at(services(model), "https://res.openai.azure.com", flow, topic).await
    }

    /// A row of `flow` run with `services`, its saved connection pointing at `base`.
    async fn run_at(
        services: Services,
        base: &str,
        flow: &Arc<ValidFlow>,
        topic: &str,
    ) -> crate::RunOutcome {
        let target = Target {
            name: "azure-ai".into(),
            endpoint: Endpoint::azure_openai_v1(url::Url::parse(base).unwrap()),
            credential: Credential::Key(ApiKey::new("k3y")),
        };
        let request = RunRequest {
            run_id: "row".into(),
            flow: flow.clone(),
            inputs: serde_json::from_value(json!({"topic": topic})).unwrap(),
            connections: Arc::new(Saved(target)),
            cancel: CancellationToken::new(),
            node_timeout: Duration::from_secs(30),
            plan: Plan::All,
            reuse: Reuse::default(),
        };
        let (events, _received) = tokio::sync::mpsc::unbounded_channel();
        Engine::new(services).run(request, events).await.unwrap()
    }

    #[tokio::test]
    async fn the_batched_line_holds_the_body_a_local_run_sends() {
        let flow = valid(&format!("{PROMPT}{CHAT}{UPPER}"));
        let live = weft_testkit::AzureFake::setup()
            .deployment("gpt-batch")
            .start();
        let client = weft_ai::Client::new(
            weft_ai::Timeouts::default(),
            weft_ai::RetryPolicy::default(),
        )
        .unwrap();
        let local = run_at(Services::from_client(client), &live.base, &flow, "oolong").await;
        assert_eq!(
            local.status,
            crate::RunStatus::Succeeded,
            "{:?}",
            local.nodes
        );
        let mut sent = live.requests()[0].json();
        // A local run streams; a batch line never does.
        let map = sent.as_object_mut().unwrap();
        assert_eq!(map.remove("stream"), Some(Value::Bool(true)));
        map.remove("stream_options");

        let capture = Arc::new(Capture::default());
        run(capture.clone(), &flow, "oolong").await;
        let captured = capture.take().unwrap();
        let StageRequest::Chat(request) = &captured.request else {
            panic!("{captured:?}");
        };
        let batch =
            weft_ai::batch_api::BatchTarget::new(&captured.endpoint, captured.credential.clone())
                .unwrap();
        let line = batch
            .chat_line("row-0", captured.deployment.as_deref().unwrap(), request)
            .unwrap();
        let line: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(line["body"], sent);
        assert!(!line.to_string().contains("k3y"));
    }

    #[tokio::test]
    async fn the_capture_pass_keeps_the_request_a_local_run_builds_and_the_replay_runs_the_rest() {
        let flow = valid(&format!("{PROMPT}{CHAT}{UPPER}"));
        let capture = Arc::new(Capture::default());
        let first = run(capture.clone(), &flow, "green tea").await;
        assert_eq!(
            first.nodes["shout"].state,
            crate::NodeState::Skipped,
            "{:?}",
            first.nodes
        );
        let captured = capture.take().unwrap();
        assert_eq!(captured.deployment.as_deref(), Some("gpt-batch"));
        assert_eq!(captured.credential, Credential::Key(ApiKey::new("k3y")));
        let StageRequest::Chat(request) = &captured.request else {
            panic!("{captured:?}");
        };
        assert_eq!(
            request.messages,
            [
                Message::new(Role::System, "Be brief."),
                Message::new(Role::User, "About green tea!")
            ]
        );
        assert_eq!(request.temperature, Some(0.3));

        let reply = ChatResponse {
            text: "steep it".into(),
            tool_calls: Vec::new(),
            finish_reason: None,
            usage: Some(Usage {
                prompt_tokens: 9,
                completion_tokens: 3,
                total_tokens: 12,
            }),
            model: None,
            request_id: Some("req-0".into()),
        };
        let second = run(
            Arc::new(Replay::new(Ok(Answer::Chat(reply)))),
            &flow,
            "green tea",
        )
        .await;
        assert_eq!(second.outputs["answer"], Value::from("steep it"));
        assert_eq!(second.nodes["shout"].output, Some(json!("STEEP IT")));
        assert_eq!(
            second.nodes["chat"]
                .usage
                .as_ref()
                .unwrap()
                .completion_tokens,
            3
        );
        assert_eq!(second.status, crate::RunStatus::Succeeded);

        let failed = run(
            Arc::new(Replay::new(Err(InferenceError::BadRequest {
                status: 400,
                message: "the Batch API could not run this request: bad".into(),
                request_id: None,
            }))),
            &flow,
            "green tea",
        )
        .await;
        let error = failed.nodes["chat"].error.clone().unwrap();
        assert!(error.contains("could not run this request: bad"), "{error}");
    }

    #[tokio::test]
    async fn a_replay_reads_the_rows_result_line_when_the_node_calls() {
        let flow = valid(&format!("{PROMPT}{CHAT}{UPPER}"));
        let endpoint =
            Endpoint::azure_openai_v1(url::Url::parse("https://res.openai.azure.com").unwrap());
        let target = || {
            weft_ai::batch_api::BatchTarget::new(&endpoint, Credential::Key(ApiKey::new("k3y")))
                .unwrap()
        };
        let line = |response: Value| -> OutputLine {
            serde_json::from_value(
                json!({"custom_id": "row-0", "response": response, "error": null}),
            )
            .unwrap()
        };
        let answered = line(json!({"status_code": 200, "request_id": "r", "body": {
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "pour"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}
        }}));
        let done = run(
            Arc::new(Replay::from_line(answered, target())),
            &flow,
            "tea",
        )
        .await;
        assert_eq!(done.outputs["answer"], Value::from("pour"));
        assert_eq!(done.nodes["shout"].output, Some(json!("POUR")));

        let throttled = line(json!({"status_code": 429, "request_id": "r", "body": {
            "error": {"code": "429", "message": "Rate limit is exceeded."}
        }}));
        let failed = run(
            Arc::new(Replay::from_line(throttled, target())),
            &flow,
            "tea",
        )
        .await;
        let error = failed.nodes["chat"].error.clone().unwrap();
        assert!(error.starts_with("rate limited (HTTP 429)"), "{error}");
        assert_eq!(failed.nodes["shout"].state, crate::NodeState::Skipped);

        let nothing = run(Arc::new(Replay::default()), &flow, "tea").await;
        let error = nothing.nodes["chat"].error.clone().unwrap();
        assert!(error.contains("returned no answer for this row"), "{error}");
    }
}
