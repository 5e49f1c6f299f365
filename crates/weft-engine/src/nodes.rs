//! One executor per node kind. Each gets its evaluated properties and returns its output ports.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::Environment;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;
use weft_ai::{
    AZURE_OPENAI_API_VERSION, ApiKey, Call, ChatRequest, ClientEvent, Credential, DetectedUrl,
    EmbeddingsRequest, Endpoint, FoundryApi, MODEL_INFERENCE_API_VERSION, Message, ResponseFormat,
    Role, Usage, detect_azure_url,
};
use weft_flow::NodeKind;

use crate::event::RunEvent;
use crate::redact::{Redactor, StreamRedactor};
use crate::scheduler::{ConnectionSource, Target};
use crate::services::Services;
use crate::values::as_text;

/// Connections made at run time, by id; their values in variables carry only the id.
pub(crate) type DynamicConnections = Arc<Mutex<HashMap<String, Target>>>;

pub(crate) struct NodeContext {
    pub id: String,
    pub kind: NodeKind,
    pub props: Map<String, Value>,
    pub services: Services,
    pub connections: Arc<dyn ConnectionSource>,
    pub dynamic: DynamicConnections,
    pub redactor: Arc<Mutex<Redactor>>,
    pub cancel: CancellationToken,
    pub events: UnboundedSender<RunEvent>,
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

fn text<'p>(props: &'p Map<String, Value>, key: &str) -> Option<&'p str> {
    props
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn required<'p>(props: &'p Map<String, Value>, key: &str) -> Result<&'p str, String> {
    text(props, key).ok_or_else(|| format!("`{key}` is empty at run time"))
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

fn render(props: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    let Some(source) = props.get(key).and_then(Value::as_str) else {
        return Ok(None);
    };
    let variables = props.get("variables").cloned().unwrap_or_else(|| json!({}));
    environment()
        .render_str(
            source,
            minijinja::Value::from(minijinja::value::Serde(&variables)),
        )
        .map(Some)
        .map_err(|err| format!("`{key}` could not be rendered: {err}"))
}

pub(crate) async fn execute(ctx: NodeContext) -> Result<NodeDone, String> {
    let props = &ctx.props;
    match ctx.kind {
        NodeKind::Inputs | NodeKind::Outputs => {
            Err("the Inputs and Outputs nodes do not run".into())
        }
        NodeKind::DeclareVariable => {
            let value = props.get("initial").cloned().unwrap_or(Value::Null);
            Ok(NodeDone {
                set_var: Some((required(props, "name")?.to_owned(), value.clone())),
                ..NodeDone::output(value)
            })
        }
        NodeKind::SetVariable => {
            let value = props.get("value").cloned().unwrap_or(Value::Null);
            Ok(NodeDone {
                set_var: Some((required(props, "name")?.to_owned(), value.clone())),
                ..NodeDone::output(value)
            })
        }
        NodeKind::PromptTemplate => Ok(NodeDone::output(Value::String(
            render(props, "template")?.unwrap_or_default(),
        ))),
        NodeKind::Condition => {
            let variables = props.get("variables").cloned().unwrap_or_else(|| json!({}));
            let env = environment();
            let expression = env
                .compile_expression(required(props, "expression")?)
                .map_err(|err| format!("the expression is not valid: {err}"))?;
            let result = expression
                .eval(minijinja::Value::from(minijinja::value::Serde(&variables)))
                .map_err(|err| format!("the expression could not be evaluated: {err}"))?
                .is_true();
            Ok(NodeDone {
                ports: Map::from_iter([
                    ("output".to_owned(), Value::Bool(result)),
                    ("true".to_owned(), Value::Bool(result)),
                    ("false".to_owned(), Value::Bool(!result)),
                ]),
                usage: None,
                set_var: None,
            })
        }
        NodeKind::CreateAzureAiConnection => create_connection(&ctx),
        NodeKind::ChatCompletion => chat(&ctx).await,
        NodeKind::Embeddings => embeddings(&ctx).await,
    }
}

fn create_connection(ctx: &NodeContext) -> Result<NodeDone, String> {
    let endpoint_text = required(&ctx.props, "endpoint")?;
    // The scheduler registered the key as a secret before this node was recorded.
    let key = required(&ctx.props, "api_key")?;
    let api = text(&ctx.props, "api")
        .map(str::parse::<FoundryApi>)
        .transpose()?;
    let endpoint = dynamic_endpoint(endpoint_text, api, text(&ctx.props, "api_version"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let target = Target {
        name: format!("{} (dynamic)", ctx.id),
        endpoint,
        credential: Credential::Key(ApiKey::new(key)),
    };
    ctx.dynamic
        .lock()
        .map_err(|_| "internal: connection lock")?
        .insert(id.clone(), target);
    // The variable holds a handle, never the key.
    let value = json!({ "connection": id, "endpoint": endpoint_text, "api_key": "******" });
    Ok(NodeDone {
        set_var: Some((required(&ctx.props, "variable")?.to_owned(), value.clone())),
        ..NodeDone::output(value)
    })
}

/// The endpoint a URL given at run time names. A Foundry URL reaches the v1 API unless `api`
/// pins the retired /models one; an Azure OpenAI URL keeps its dated deployments API unless `api`
/// asks for v1 (as a saved Azure OpenAI connection does).
fn dynamic_endpoint(
    raw: &str,
    api: Option<FoundryApi>,
    version: Option<&str>,
) -> Result<Endpoint, String> {
    let azure_openai_version = || version.unwrap_or(AZURE_OPENAI_API_VERSION).to_owned();
    Ok(match detect_azure_url(raw)? {
        DetectedUrl::Foundry { url } => Endpoint::foundry(url, api.unwrap_or_default(), version)?,
        DetectedUrl::AzureV1 { base } => Endpoint::AzureV1 { base },
        DetectedUrl::AzureOpenAiDeployment { resource, .. }
        | DetectedUrl::AzureOpenAiResource { resource }
            if api == Some(FoundryApi::V1) =>
        {
            Endpoint::azure_openai_v1(resource)
        }
        DetectedUrl::AzureOpenAiDeployment {
            resource,
            deployment,
        } => Endpoint::AzureOpenAi {
            resource,
            deployment: Some(deployment),
            api_version: azure_openai_version(),
        },
        DetectedUrl::AzureOpenAiResource { resource } => Endpoint::AzureOpenAi {
            resource,
            deployment: None,
            api_version: azure_openai_version(),
        },
        // Serverless endpoints speak the model inference API's wire format.
        DetectedUrl::Serverless { api_base } => Endpoint::Serverless {
            api_base,
            api_version: version.unwrap_or(MODEL_INFERENCE_API_VERSION).to_owned(),
        },
    })
}

/// The dynamic connection when set (it overrides the static one), else the saved connection.
async fn target(ctx: &NodeContext) -> Result<Target, String> {
    if let Some(handle) = ctx
        .props
        .get("dynamic_connection")
        .and_then(|v| v.get("connection"))
        .and_then(Value::as_str)
    {
        return ctx
            .dynamic
            .lock()
            .map_err(|_| "internal: connection lock")?
            .get(handle)
            .cloned()
            .ok_or_else(|| "the dynamic connection was not created in this run".to_owned());
    }
    let name = text(&ctx.props, "connection")
        .ok_or("no connection: set `connection`, or a `dynamic_connection` that a Create Azure AI connection node filled")?
        .to_owned();
    // SQLite and the keychain block (an unlock prompt may wait on the user): off the async
    // workers, so the node's timeout and cancel still work while it waits.
    let source = ctx.connections.clone();
    let target = match tokio::task::spawn_blocking(move || source.connection(&name)).await {
        Ok(target) => target?,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => return Err(format!("internal: the connection lookup stopped ({err})")),
    };
    // Only a key is known here; an Entra token is fetched by the client and masked there.
    if let Some(key) = target.credential.key() {
        ctx.redactor
            .lock()
            .map_err(|_| "internal: redactor lock")?
            .add(key.expose());
    }
    Ok(target)
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

async fn chat(ctx: &NodeContext) -> Result<NodeDone, String> {
    let target = target(ctx).await?;
    let props = &ctx.props;
    let mut messages = Vec::new();
    if let Some(system) = render(props, "system_prompt")?.filter(|s| !s.trim().is_empty()) {
        messages.push(Message::new(Role::System, system));
    }
    if let Some(Value::Array(history)) = props.get("chat_history") {
        for turn in history {
            let role = match turn.get("role").and_then(Value::as_str) {
                Some("assistant") => Role::Assistant,
                Some("system") => Role::System,
                _ => Role::User,
            };
            messages.push(Message::new(
                role,
                as_text(turn.get("content").unwrap_or(&Value::Null)),
            ));
        }
    }
    messages.push(Message::new(
        Role::User,
        render(props, "user_prompt")?.unwrap_or_default(),
    ));
    let format = text(props, "response_format").unwrap_or("text");
    let request = ChatRequest {
        messages,
        temperature: props
            .get("temperature")
            .and_then(Value::as_f64)
            .map(|t| t as f32),
        max_tokens: props
            .get("max_tokens")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        response_format: match format {
            "json_object" => Some(ResponseFormat::JsonObject),
            "json_schema" => Some(ResponseFormat::JsonSchema {
                json_schema: props.get("json_schema").cloned().unwrap_or(Value::Null),
            }),
            _ => None,
        },
        ..ChatRequest::default()
    };
    let stream = props.get("stream").and_then(Value::as_bool).unwrap_or(true);
    let (sender, forwarder) = forward(ctx);
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: text(props, "deployment"),
        cancel: ctx.cancel.clone(),
        events: Some(sender),
    };
    let result = if stream {
        ctx.services.model.chat_stream(&call, &request).await
    } else {
        ctx.services.model.chat(&call, &request).await
    };
    drop(call);
    let _ = forwarder.await;
    let reply = result.map_err(|err| err.to_string())?;
    let output = if format == "text" {
        Value::String(reply.text)
    } else {
        serde_json::from_str(&reply.text)
            .map_err(|err| format!("the model's answer is not the JSON asked for ({err})"))?
    };
    let finish = serde_json::to_value(reply.finish_reason).unwrap_or(Value::Null);
    let usage = serde_json::to_value(&reply.usage).unwrap_or(Value::Null);
    Ok(NodeDone {
        ports: Map::from_iter([
            ("output".to_owned(), output),
            ("finish_reason".to_owned(), finish),
            ("usage".to_owned(), usage),
        ]),
        usage: reply.usage,
        set_var: None,
    })
}

async fn embeddings(ctx: &NodeContext) -> Result<NodeDone, String> {
    let target = target(ctx).await?;
    let input = match ctx.props.get("input") {
        Some(Value::Array(items)) => items.iter().map(as_text).collect(),
        Some(other) => vec![as_text(other)],
        None => Vec::new(),
    };
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: text(&ctx.props, "deployment"),
        cancel: ctx.cancel.clone(),
        events: None,
    };
    let reply = ctx
        .services
        .model
        .embeddings(
            &call,
            &EmbeddingsRequest {
                input,
                dimensions: None,
            },
        )
        .await
        .map_err(|err| err.to_string())?;
    Ok(NodeDone {
        usage: reply.usage,
        ..NodeDone::output(json!(reply.vectors))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use url::Url;

    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn a_url_given_at_run_time_reaches_v1_unless_the_node_pins_an_older_api() {
        let v1 = |base: &str| Endpoint::AzureV1 { base: url(base) };
        let cases = [
            // Every Foundry shape the portal shows goes to the resource's v1 API.
            (
                "https://r.services.ai.azure.com/models",
                None,
                v1("https://r.services.ai.azure.com/openai/v1"),
            ),
            (
                "https://r.services.ai.azure.com",
                None,
                v1("https://r.services.ai.azure.com/openai/v1"),
            ),
            (
                "https://r.services.ai.azure.com/openai/v1/",
                None,
                v1("https://r.services.ai.azure.com/openai/v1"),
            ),
            (
                "https://r.services.ai.azure.com/models",
                Some(FoundryApi::ModelInference),
                Endpoint::ModelInference {
                    endpoint: url("https://r.services.ai.azure.com/models"),
                    api_version: MODEL_INFERENCE_API_VERSION.into(),
                },
            ),
            // Azure OpenAI URLs keep their dated API unless v1 is asked for.
            (
                "https://r.openai.azure.com/openai/deployments/gpt-4o",
                None,
                Endpoint::AzureOpenAi {
                    resource: url("https://r.openai.azure.com/"),
                    deployment: Some("gpt-4o".into()),
                    api_version: AZURE_OPENAI_API_VERSION.into(),
                },
            ),
            (
                "https://r.openai.azure.com/openai/deployments/gpt-4o",
                Some(FoundryApi::V1),
                v1("https://r.openai.azure.com/openai/v1"),
            ),
            (
                "https://r.openai.azure.com",
                Some(FoundryApi::V1),
                v1("https://r.openai.azure.com/openai/v1"),
            ),
        ];
        for (raw, api, expected) in cases {
            assert_eq!(
                dynamic_endpoint(raw, api, None).unwrap(),
                expected,
                "{raw} {api:?}"
            );
        }
    }
}
