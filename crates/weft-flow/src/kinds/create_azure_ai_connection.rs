//! Create Azure AI connection: builds a connection at run time from an endpoint and a key, and
//! stores a handle to it in a declared variable.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{WHEN, out, prop};
use super::props::{Evaluated, PropsError, SecretText};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

pub const ENDPOINT: PropertySpec = prop(
    "endpoint",
    "Endpoint",
    ValueType::String,
    true,
    Editor::Text,
    "A Foundry resource URL (…/models, the bare resource or …/openai/v1) or an Azure OpenAI URL, or a reference to one.",
);
pub const API_KEY: PropertySpec = prop(
    "api_key",
    "API key",
    ValueType::String,
    true,
    Editor::Text,
    "A reference to a secret input or a variable, such as ${inputs.api_key}; masked everywhere.",
)
.secret();
pub const API: PropertySpec = prop(
    "api",
    "API",
    ValueType::String,
    false,
    Editor::Select {
        options: &["v1", "model_inference"],
    },
    "For a Foundry URL: v1 (the default) serves every deployment; model_inference calls the /models API, which Azure retired on 2026-08-26.",
);
pub const API_VERSION: PropertySpec = prop(
    "api_version",
    "API version",
    ValueType::String,
    false,
    Editor::Text,
    "Only for the /models API and Azure OpenAI deployment URLs; empty uses the default.",
);
pub const VARIABLE: PropertySpec = prop(
    "variable",
    "Store in variable",
    ValueType::String,
    true,
    Editor::Text,
    "The declared variable that will hold the connection.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::CreateAzureAiConnection,
    title: "Create Azure AI connection",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "connect",
    icon: "⇄",
    description: "Builds a connection at run time from an endpoint and a key.",
    properties: &[ENDPOINT, API_KEY, API, API_VERSION, VARIABLE, WHEN],
    outputs: &[out("output", ValueType::Connection)],
    summary: &[ENDPOINT.key],
    writes_variable: Some(VARIABLE.key),
};

/// The `api` choice, for a Foundry URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    V1,
    ModelInference,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub endpoint: String,
    pub api_key: SecretText,
    /// None: the URL's own default.
    pub api: Option<Api>,
    pub api_version: Option<String>,
    /// The declared variable that gets the handle.
    pub variable: String,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            endpoint: props.required(&ENDPOINT)?,
            api_key: props.required(&API_KEY)?,
            api: props.optional(&API)?,
            api_version: props.optional(&API_VERSION)?,
            variable: props.required(&VARIABLE)?,
        })
    }
}
