//! Create Azure AI connection: a connection from a URL and a key given at run time. Its variable
//! carries a handle to it, never the key.

use serde_json::json;
use weft_ai::{ApiKey, Credential, Endpoint, FoundryApi, UrlOrigin};

use weft_flow::kinds::create_azure_ai_connection::{Api, Props};

use super::{NodeContext, NodeDone, NodeError, props};
use crate::connection::Target;

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    // The scheduler registered the key as a secret before this node was recorded.
    let props = props(ctx, Props::from_evaluated)?;
    let api = props.api.map(|api| match api {
        Api::V1 => FoundryApi::V1,
        Api::ModelInference => FoundryApi::ModelInference,
    });
    // A Foundry URL reaches the v1 API unless `api` pins the retired /models one; an Azure
    // OpenAI URL keeps its dated deployments API unless `api` asks for v1.
    let endpoint = Endpoint::from_url(
        &props.endpoint,
        api,
        props.api_version.as_deref(),
        UrlOrigin::RunTime,
    )?;
    let id = ctx.connections.make(Target {
        name: format!("{} (dynamic)", ctx.id),
        endpoint,
        credential: Credential::Key(ApiKey::new(props.api_key.expose())),
    })?;
    // The variable holds a handle, never the key.
    let value = json!({ "connection": id, "endpoint": props.endpoint, "api_key": "******" });
    Ok(NodeDone {
        set_var: Some((props.variable, value.clone())),
        ..NodeDone::output(value)
    })
}
