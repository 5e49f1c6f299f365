//! Web search (SerpAPI): one search, its organic results as a list for a template.

use serde_json::json;
use weft_ai::serp::{Engine, SerpRequest};
use weft_flow::kinds::serp_search::{self, Props};

use super::{NodeContext, NodeDone, NodeError, call_service, props, saved};
use crate::connection::ResolvedConnection;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let target = saved(ctx, &props.connection, ResolvedConnection::into_serp).await?;
    let request = SerpRequest {
        engine: match props.engine {
            serp_search::Engine::Google => Engine::Google,
            serp_search::Engine::Bing => Engine::Bing,
        },
        query: props.query,
        num: Some(props.num),
        location: props.location,
        language: props.language,
        safe: props.safe,
    };
    let results = call_service(ctx, |handles| async move {
        let port = &ctx.services.web_search;
        port.search(&target, &request, &handles).await
    })
    .await?;
    Ok(NodeDone::output(json!(results)))
}
