//! AI Search lookup: one query over an index; in vector or hybrid mode without a vector, the
//! query is first embedded with the model connection the node names.

use serde_json::json;
use weft_ai::search::{SearchRequest, VectorQuery};
use weft_ai::{Call, EmbeddingsRequest};
use weft_flow::kinds::ai_search::{Embedder, Props};

use super::{NodeContext, NodeDone, NodeError, call_service, forward, props, saved};
use crate::connection::ResolvedConnection;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let target = saved(ctx, &props.connection, ResolvedConnection::into_search).await?;
    let vector = match (&props.vector, props.mode.needs_vector()) {
        (_, false) => None,
        (Some(vector), true) => Some(vector.clone()),
        (None, true) => Some(embed(ctx, &props).await?),
    };
    let request = SearchRequest {
        index: props.index.clone(),
        search: props
            .mode
            .matches_text()
            .then(|| props.query.clone())
            .flatten(),
        search_fields: Vec::new(),
        vector: vector.map(|vector| VectorQuery {
            vector,
            fields: props.vector_field.iter().cloned().collect(),
            k: props.top_k,
        }),
        select: props.select.clone(),
        filter: props.filter.clone(),
        top: Some(props.top_k),
    };
    let documents = call_service(ctx, |handles| async move {
        let port = &ctx.services.document_search;
        port.query(&target, &request, &handles).await
    })
    .await?;
    Ok(NodeDone::output(json!(documents)))
}

/// The query's vector, from the node's embeddings model.
async fn embed(ctx: &NodeContext, props: &Props) -> Result<Vec<f32>, NodeError> {
    let (
        Some(Embedder {
            connection,
            deployment,
        }),
        Some(query),
    ) = (&props.embedder, &props.query)
    else {
        return Err(NodeError::from(
            "this search needs a vector: wire one (such as ${embed.output}), or give a query with an embeddings connection and deployment to embed it"
                .to_owned(),
        ));
    };
    let target = saved(ctx, connection, ResolvedConnection::into_model).await?;
    let (sender, forwarder) = forward(ctx);
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: Some(deployment),
        cancel: ctx.cancel.clone(),
        events: Some(sender),
    };
    let request = EmbeddingsRequest {
        input: vec![query.clone()],
        dimensions: None,
    };
    let result = ctx.services.model.embeddings(&call, &request).await;
    drop(call);
    let _ = forwarder.await;
    let reply = result
        .map_err(|err| NodeError::service(&err, format!("embedding the query failed: {err}")))?;
    reply.vectors.into_iter().next().ok_or_else(|| {
        NodeError::from("the embeddings model returned no vector for the query".to_owned())
    })
}
