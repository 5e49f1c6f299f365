//! Web search (SerpAPI): one search, its organic results as a list for a template.

use serde_json::json;
use weft_ai::Handles;
use weft_ai::serp::{Engine, SerpRequest};
use weft_flow::kinds::serp_search::{self, Props};

use super::{NodeContext, NodeDone, forward, props, saved};
use crate::connection::ResolvedConnection;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
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
    let (sender, forwarder) = forward(ctx);
    let handles = Handles::new(ctx.cancel.clone()).with_events(sender);
    let result = ctx
        .services
        .web_search
        .search(&target, &request, &handles)
        .await;
    drop(handles);
    let _ = forwarder.await;
    let results = result.map_err(|err| err.to_string())?;
    Ok(NodeDone::output(json!(results)))
}
