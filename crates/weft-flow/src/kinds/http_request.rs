//! HTTP request: one request to any HTTP endpoint, the first user of a custom connection. Its
//! URL, headers, query and body may read the connection's settings as
//! `${connection.configs.x}` and `${connection.secrets.y}`; secrets go only to the origin of
//! the connection's `base_url` config.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{WHEN, out, prop, saved_connection};
use super::props::{Evaluated, PropsError};
use crate::kind::{
    ConnectionType, Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType,
};

pub const CONNECTION: PropertySpec = saved_connection(
    false,
    &[ConnectionType::Custom],
    "A saved custom connection whose settings the request reads as ${connection.configs.x} and ${connection.secrets.y}.",
);
pub const METHOD: PropertySpec = prop(
    "method",
    "Method",
    ValueType::String,
    false,
    Editor::Select {
        options: &["GET", "POST", "PUT", "PATCH", "DELETE"],
    },
    "The HTTP method (GET when empty).",
);
pub const URL: PropertySpec = prop(
    "url",
    "URL",
    ValueType::String,
    true,
    Editor::Text,
    "The whole address, such as ${connection.configs.base_url}/items/${inputs.id}.",
);
pub const HEADERS: PropertySpec = prop(
    "headers",
    "Headers",
    ValueType::Object,
    false,
    Editor::Map,
    "Header names mapped to values, such as Authorization: Bearer ${connection.secrets.token}.",
);
pub const QUERY: PropertySpec = prop(
    "query",
    "Query",
    ValueType::Object,
    false,
    Editor::Map,
    "Query parameters added to the URL's own.",
);
pub const BODY: PropertySpec = prop(
    "body",
    "Body",
    ValueType::Any,
    false,
    Editor::Json,
    "Sent as JSON.",
);

/// The config of a custom connection that names where its secrets may go.
pub const BASE_URL_CONFIG: &str = "base_url";

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::HttpRequest,
    title: "HTTP request",
    group: NodeGroup::Logic,
    role: NodeRole::Runnable,
    id_stem: "http",
    icon: "⇅",
    description: "Calls an HTTP endpoint; the reply is parsed when it is JSON.",
    properties: &[CONNECTION, METHOD, URL, HEADERS, QUERY, BODY, WHEN],
    outputs: &[
        out("output", ValueType::Any),
        out("status", ValueType::Number),
        out("headers", ValueType::Object),
    ],
    summary: &[METHOD.key, URL.key],
    writes_variable: None,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Method {
    #[default]
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// The saved custom connection's name.
    pub connection: Option<String>,
    pub method: Method,
    pub url: String,
    /// In the order written; a value that is not text is sent as its JSON.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// Names mapped to values, each value as text.
fn pairs(map: Option<Map<String, Value>>) -> Vec<(String, String)> {
    map.unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (name, value)
        })
        .collect()
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        let body = props.any(&BODY);
        Ok(Self {
            connection: props.optional(&CONNECTION)?,
            method: props.optional(&METHOD)?.unwrap_or_default(),
            url: props.required(&URL)?,
            headers: pairs(props.optional(&HEADERS)?),
            query: pairs(props.optional(&QUERY)?),
            body: (!body.is_null()).then_some(body),
        })
    }
}
