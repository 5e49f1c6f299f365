//! One executor per node kind, in a file named as the kind's module in `weft_flow::kinds`. Each
//! gets its evaluated properties and returns its output ports; the one `match` below is
//! exhaustive, so a kind without an executor does not compile.

mod ai_search;
mod chat_completion;
mod condition;
mod content_safety_text;
mod create_azure_ai_connection;
mod declare_variable;
mod embeddings;
mod http_request;
mod prompt_template;
mod python;
mod serp_search;
mod set_variable;

use std::future::Future;
use std::sync::{Arc, Mutex};

use minijinja::Environment;
use serde_json::{Map, Value};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;
use weft_ai::{ClientEvent, Handles, InferenceError, Usage};
use weft_flow::kinds::common::ConnectionChoice;
use weft_flow::kinds::props::PropsError;
use weft_flow::{NodeKind, PropertySpec};

use crate::connection::{Connections, ResolvedConnection, Target, WrongConnection};
use crate::event::{FailureCause, RunEvent};
use crate::redact::{Redactor, StreamRedactor};
use crate::services::Services;

pub(crate) struct NodeContext {
    /// The flow being run (a Python node reads its folder and `python:` settings).
    pub flow: Arc<weft_flow::ValidFlow>,
    pub id: String,
    pub kind: NodeKind,
    pub props: Map<String, Value>,
    pub services: Services,
    pub connections: Connections,
    pub redactor: Arc<Mutex<Redactor>>,
    pub cancel: CancellationToken,
    pub events: UnboundedSender<RunEvent>,
}

/// Why a node failed: its message (masked before anyone sees it) and, when a service call failed,
/// the cause the client reported.
#[derive(Debug)]
pub(crate) struct NodeError {
    pub message: String,
    pub cause: Option<FailureCause>,
}

impl NodeError {
    /// A failed service call, with `message` in place of the client's own.
    fn service(err: &InferenceError, message: String) -> Self {
        Self {
            message,
            cause: Some(cause(err)),
        }
    }
}

/// A failure of the node's own (a property, a template, a connection): no service said anything.
impl From<String> for NodeError {
    fn from(message: String) -> Self {
        Self {
            message,
            cause: None,
        }
    }
}

impl From<InferenceError> for NodeError {
    fn from(err: InferenceError) -> Self {
        Self::service(&err, err.to_string())
    }
}

/// The one mapping from a client error to a [`FailureCause`].
fn cause(err: &InferenceError) -> FailureCause {
    match err {
        InferenceError::Unauthorized { .. }
        | InferenceError::Forbidden { .. }
        | InferenceError::TokenRefused { .. }
        | InferenceError::SignIn(_) => FailureCause::Auth,
        InferenceError::NotFound { .. } | InferenceError::RetiredApi { .. } => {
            FailureCause::NotFound
        }
        InferenceError::RateLimited { .. } => FailureCause::RateLimited,
        InferenceError::Timeout { .. } => FailureCause::Timeout,
        InferenceError::Network { .. }
        | InferenceError::Dns { .. }
        | InferenceError::Tls { .. } => FailureCause::Network,
        InferenceError::Server { .. } => FailureCause::Service,
        InferenceError::BadRequest { .. }
        | InferenceError::ContentFiltered { .. }
        | InferenceError::Config(_)
        | InferenceError::NotRecorded { .. } => FailureCause::Invalid,
        // The stream broke off: why is the error it broke on.
        InferenceError::Interrupted { source, .. } => cause(source),
        InferenceError::Cancelled { .. } => FailureCause::Cancelled,
        InferenceError::Redirected { .. }
        | InferenceError::TooLarge { .. }
        | InferenceError::Protocol { .. } => FailureCause::Other,
    }
}

pub(crate) struct NodeDone {
    pub ports: Map<String, Value>,
    pub usage: Option<Usage>,
    /// A variable this node sets: applied by the scheduler when the node finishes.
    pub set_var: Option<(String, Value)>,
}

impl NodeDone {
    fn output(value: Value) -> Self {
        Self {
            ports: Map::from_iter([("output".to_owned(), value)]),
            usage: None,
            set_var: None,
        }
    }
}

pub(crate) async fn execute(ctx: NodeContext) -> Result<NodeDone, NodeError> {
    match ctx.kind {
        // Their role is `FlowPort`: the scheduler records them without starting them.
        NodeKind::Inputs | NodeKind::Outputs => Err(NodeError::from(format!(
            "internal: `{}` only shows the flow's inputs or outputs and was started; please report it",
            ctx.id
        ))),
        NodeKind::DeclareVariable => declare_variable::run(&ctx),
        NodeKind::SetVariable => set_variable::run(&ctx),
        NodeKind::PromptTemplate => prompt_template::run(&ctx),
        NodeKind::Condition => condition::run(&ctx),
        NodeKind::CreateAzureAiConnection => create_azure_ai_connection::run(&ctx),
        NodeKind::ChatCompletion => chat_completion::run(&ctx).await,
        NodeKind::Embeddings => embeddings::run(&ctx).await,
        NodeKind::ContentSafetyText => content_safety_text::run(&ctx).await,
        NodeKind::SerpSearch => serp_search::run(&ctx).await,
        NodeKind::AiSearch => ai_search::run(&ctx).await,
        NodeKind::HttpRequest => http_request::run(&ctx).await,
        NodeKind::Python => python::run(&ctx).await,
    }
}

/// The node's evaluated properties read into its kind's typed `Props`.
fn props<P>(
    ctx: &NodeContext,
    read: fn(&Map<String, Value>) -> Result<P, PropsError>,
) -> Result<P, String> {
    read(&ctx.props).map_err(|err| err.to_string())
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

/// A node's `variables`, as its templates and expressions see them.
fn variables(variables: &Map<String, Value>) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(variables))
}

/// The template `source` of the property `spec`, rendered.
fn render(spec: &PropertySpec, source: &str, vars: &Map<String, Value>) -> Result<String, String> {
    environment()
        .render_str(source, variables(vars))
        .map_err(|err| format!("`{}` could not be rendered: {err}", spec.key))
}

/// The connection the node chose: one made in this run, or a saved model connection.
async fn target(ctx: &NodeContext, choice: &ConnectionChoice) -> Result<Target, String> {
    match choice {
        ConnectionChoice::Dynamic(handle) => ctx.connections.made(&handle.connection),
        ConnectionChoice::Saved(name) => saved(ctx, name, ResolvedConnection::into_model).await,
    }
}

/// The saved connection `name` as the type the node calls (`into`: one of
/// `ResolvedConnection`'s `into_…`, whose error names the type needed). Its keys are registered
/// as secrets before anything else happens, whatever its type.
async fn saved<T>(
    ctx: &NodeContext,
    name: &str,
    into: fn(ResolvedConnection) -> Result<T, WrongConnection>,
) -> Result<T, String> {
    let resolved = ctx.connections.saved(name).await?;
    {
        let mut redactor = ctx.redactor.lock().map_err(|_| "internal: redactor lock")?;
        for key in resolved.secrets() {
            redactor.add(key.expose());
        }
    }
    into(resolved).map_err(|err| err.to_string())
}

/// One service call with the node's cancel token, its retry notices forwarded as run events;
/// every event has been sent by the time it returns, so none comes after the node's end.
async fn call_service<T, F, Fut>(ctx: &NodeContext, call: F) -> Result<T, NodeError>
where
    F: FnOnce(Handles) -> Fut,
    Fut: Future<Output = Result<T, InferenceError>>,
{
    let (sender, forwarder) = forward(ctx);
    // The call owns the handles, and with them the sender: the forwarder ends when it does.
    let result = call(Handles::new(ctx.cancel.clone()).with_events(sender)).await;
    let _ = forwarder.await;
    result.map_err(NodeError::from)
}

/// Forwards the client's streamed text and retry notices as run events, until the call ends.
/// Text is masked over the joined stream, so a key split across deltas never shows.
fn forward(ctx: &NodeContext) -> (UnboundedSender<ClientEvent>, tokio::task::JoinHandle<()>) {
    let (sender, mut receiver) = unbounded_channel();
    let events = ctx.events.clone();
    let node = ctx.id.clone();
    let redactor = ctx.redactor.clone();
    let task = tokio::spawn(async move {
        let mut stream = StreamRedactor::default();
        let token = |text: String| RunEvent::Token {
            node: node.clone(),
            text,
        };
        while let Some(event) = receiver.recv().await {
            let Ok(redactor) = redactor.lock() else {
                return;
            };
            let event = match event {
                ClientEvent::Delta(text) => token(stream.push(&redactor, &text)),
                retry @ ClientEvent::Retrying { .. } => RunEvent::Retrying {
                    node: node.clone(),
                    message: redactor.text(&retry.to_string()),
                },
            };
            drop(redactor);
            if !matches!(&event, RunEvent::Token { text, .. } if text.is_empty()) {
                let _ = events.send(event);
            }
        }
        let rest = match redactor.lock() {
            Ok(redactor) => stream.finish(&redactor),
            Err(_) => return,
        };
        if !rest.is_empty() {
            let _ = events.send(token(rest));
        }
    });
    (sender, task)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use weft_ai::TimeoutPhase;

    use super::*;

    #[test]
    fn each_client_error_maps_to_the_cause_a_batch_branches_on() {
        let cases = [
            (
                InferenceError::Forbidden {
                    message: String::new(),
                    request_id: None,
                },
                FailureCause::Auth,
            ),
            (
                InferenceError::NotFound {
                    url: "u".into(),
                    hint: "h".into(),
                    message: String::new(),
                    request_id: None,
                },
                FailureCause::NotFound,
            ),
            (
                InferenceError::RateLimited {
                    retry_after: None,
                    message: String::new(),
                    request_id: None,
                },
                FailureCause::RateLimited,
            ),
            (
                InferenceError::Server {
                    status: 503,
                    message: String::new(),
                    request_id: None,
                },
                FailureCause::Service,
            ),
            (
                InferenceError::Timeout {
                    phase: TimeoutPhase::FirstByte,
                    after: Duration::from_secs(1),
                },
                FailureCause::Timeout,
            ),
            (
                InferenceError::Interrupted {
                    partial: "half".into(),
                    source: Box::new(InferenceError::Network {
                        host: "h".into(),
                        message: "reset".into(),
                    }),
                },
                FailureCause::Network,
            ),
            (
                InferenceError::Protocol { what: "?".into() },
                FailureCause::Other,
            ),
        ];
        for (err, expected) in cases {
            let text = err.to_string();
            let failed = NodeError::from(err);
            assert_eq!(failed.cause, Some(expected), "{text}");
            assert_eq!(failed.message, text);
        }
        // A node's own failure (a template, a property) has no service cause.
        assert_eq!(NodeError::from("bad template".to_owned()).cause, None);
    }
}
