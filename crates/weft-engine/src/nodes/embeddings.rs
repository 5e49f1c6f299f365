//! Embeddings: turns text into vectors.

use serde_json::json;
use weft_ai::{Call, EmbeddingsRequest};
use weft_flow::kinds::embeddings::Props;

use super::{NodeContext, NodeDone, NodeError, props, target};
use crate::values::as_text;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let target = target(ctx, &props.connection).await?;
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: Some(&props.deployment),
        cancel: ctx.cancel.clone(),
        events: None,
    };
    let request = EmbeddingsRequest {
        input: props.input.iter().map(as_text).collect(),
        dimensions: None,
    };
    let reply = ctx.services.model.embeddings(&call, &request).await?;
    Ok(NodeDone {
        usage: reply.usage,
        ..NodeDone::output(json!(reply.vectors))
    })
}
