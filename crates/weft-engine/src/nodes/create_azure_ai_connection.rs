//! Create Azure AI connection: a connection from a URL and a key given at run time. Its variable
//! carries a handle to it, never the key.

use serde_json::json;
use weft_ai::{
    AZURE_OPENAI_API_VERSION, ApiKey, Credential, DetectedUrl, Endpoint, FoundryApi,
    MODEL_INFERENCE_API_VERSION, detect_azure_url,
};

use weft_flow::kinds::create_azure_ai_connection::{Api, Props};

use super::{NodeContext, NodeDone, props};
use crate::connection::Target;

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
    // The scheduler registered the key as a secret before this node was recorded.
    let props = props(ctx, Props::from_evaluated)?;
    let api = props.api.map(|api| match api {
        Api::V1 => FoundryApi::V1,
        Api::ModelInference => FoundryApi::ModelInference,
    });
    let endpoint = dynamic_endpoint(&props.endpoint, api, props.api_version.as_deref())?;
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
