//! Embeddings: turns text into vectors.

use serde_json::{Value, json};
use weft_ai::{Call, EmbeddingsRequest};

use super::{NodeContext, NodeDone, target, text};
use crate::values::as_text;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
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
