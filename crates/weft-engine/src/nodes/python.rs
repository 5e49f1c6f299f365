//! Python: calls the user's `@tool` function in a worker of the flow's interpreter (see
//! `crate::python`). Only the connections bound in `connections` are sent, over the worker's
//! stdin, and their secrets are registered with the run's redactor first, so the node's log,
//! output and errors never show them. What the function prints is the node's log (its
//! `Token` events). It calls no service port, so a cassette has nothing to record or replay.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use weft_ai::Endpoint;
use weft_flow::FlowDocument;
use weft_flow::kinds::python::Props;

use super::{NodeContext, NodeDone, NodeError, props, saved};
use crate::connection::ResolvedConnection;
use crate::event::{FailureCause, RunEvent};
use crate::python::Failed;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let dir = ctx.flow.base_dir().ok_or_else(|| {
        "a Python node's `source` is relative to the flow file: save the flow, then run it from its file".to_owned()
    })?;
    let source = dir.join(&props.source);
    if !source.is_file() {
        return Err(format!(
            "cannot find `{}`: `source` is relative to the flow file's folder ({})",
            props.source,
            dir.display()
        )
        .into());
    }
    let mut connections = Map::new();
    for (parameter, name) in &props.connections {
        let resolved = saved(ctx, name, Ok).await?;
        connections.insert(parameter.clone(), connection(&resolved));
    }
    let request = json!({
        "source": source,
        "function": props.function,
        "inputs": props.inputs,
        "connections": connections,
        "flow_dir": dir,
    })
    .to_string();
    let pool = ctx
        .services
        .python
        .pool(&interpreter(ctx.flow.document(), dir), dir);
    // Dropping the call (here on cancel, or the scheduler's timeout) kills the worker.
    let result = tokio::select! {
        result = pool.call(&request) => result,
        () = ctx.cancel.cancelled() => {
            return Err(NodeError {
                message: "cancelled; the Python worker was stopped".into(),
                cause: Some(FailureCause::Cancelled),
            });
        }
    };
    match result {
        Ok(reply) => {
            log(ctx, &reply.log);
            Ok(NodeDone::output(reply.output))
        }
        Err(Failed {
            error,
            log: printed,
        }) => {
            log(ctx, &printed);
            Err(error.to_string().into())
        }
    }
}

/// The flow's `python.interpreter` (relative to the flow file when it is a path), or
/// `python3` on PATH.
fn interpreter(doc: &FlowDocument, dir: &Path) -> PathBuf {
    let chosen = doc
        .python
        .as_ref()
        .and_then(|p| p.interpreter.as_deref())
        .map(str::trim)
        .filter(|i| !i.is_empty());
    match chosen {
        None => PathBuf::from("python3"),
        Some(name) if !name.contains(['/', '\\']) => PathBuf::from(name),
        Some(path) => dir.join(path),
    }
}

/// What the function printed, masked, as the node's log.
fn log(ctx: &NodeContext, text: &str) {
    if text.is_empty() {
        return;
    }
    let Ok(redactor) = ctx.redactor.lock() else {
        return;
    };
    let _ = ctx.events.send(RunEvent::Token {
        node: ctx.id.clone(),
        text: redactor.text(text),
    });
}

/// The connection as runner.py builds Prompt flow's classes from it: `type` names the class,
/// `fields` its attributes (a custom connection: `configs` and `secrets`).
fn connection(resolved: &ResolvedConnection) -> Value {
    let name = resolved.name();
    match resolved {
        ResolvedConnection::Custom(settings) => {
            let secrets: Map<String, Value> = settings
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.expose())))
                .collect();
            json!({"type": "custom", "name": name, "configs": settings.configs, "secrets": secrets})
        }
        ResolvedConnection::Model(target) => {
            let key = target.credential.key().map(|k| k.expose().to_owned());
            let (kind, fields) = match &target.endpoint {
                Endpoint::AzureOpenAi {
                    resource,
                    api_version,
                    ..
                } => (
                    "azure_open_ai",
                    json!({"api_key": key, "api_base": resource.as_str(), "api_version": api_version}),
                ),
                Endpoint::ModelInference {
                    endpoint,
                    api_version,
                } => (
                    "serverless",
                    json!({"api_key": key, "api_base": endpoint.as_str(), "api_version": api_version}),
                ),
                Endpoint::Serverless {
                    api_base,
                    api_version,
                } => (
                    "serverless",
                    json!({"api_key": key, "api_base": api_base.as_str(), "api_version": api_version}),
                ),
                Endpoint::AzureV1 { base } => (
                    "azure_open_ai",
                    json!({"api_key": key, "api_base": base.as_str()}),
                ),
                Endpoint::OpenAi {
                    base_url,
                    organization,
                } => (
                    "open_ai",
                    json!({"api_key": key, "base_url": base_url.as_str(), "organization": organization}),
                ),
            };
            json!({"type": kind, "name": name, "fields": fields})
        }
        ResolvedConnection::ContentSafety { key, .. } => {
            json!({"type": "azure_content_safety", "name": name, "fields": {"api_key": key.expose()}})
        }
        ResolvedConnection::Search { key, .. } => {
            json!({"type": "cognitive_search", "name": name, "fields": {"api_key": key.expose()}})
        }
        ResolvedConnection::Serp { key, .. } => {
            json!({"type": "serp", "name": name, "fields": {"api_key": key.expose()}})
        }
    }
}
