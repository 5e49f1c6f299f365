//! AI Search lookup: a keyword, vector or hybrid query over one Azure AI Search index, its
//! documents as a list ready for a template (`{% for d in docs %}`). The vector is an upstream
//! Embeddings node's, or the query embedded on the fly with a model connection named here.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{
    WHEN, check_saved_connection, check_saved_only, count, out, prop, saved_connection,
};
use super::props::{Evaluated, PropsError};
use crate::document::Node;
use crate::kind::{
    ConnectionType, Editor, MODEL_CONNECTIONS, NodeGroup, NodeKind, NodeKindSpec, NodeRole,
    PropertySpec, ValueType,
};
use crate::validate::{Context, Diagnostic};

pub const CONNECTION: PropertySpec = saved_connection(
    true,
    &[ConnectionType::CognitiveSearch],
    "A saved Azure AI Search connection.",
);
pub const INDEX: PropertySpec = prop(
    "index",
    "Index",
    ValueType::String,
    true,
    Editor::Text,
    "The index to query (names are case-sensitive).",
);
pub const MODE: PropertySpec = prop(
    "mode",
    "Mode",
    ValueType::String,
    false,
    Editor::Select {
        options: &["keyword", "vector", "hybrid"],
    },
    "Match the text (keyword, the default), the nearest vectors, or both (hybrid).",
);
pub const QUERY: PropertySpec = prop(
    "query",
    "Query",
    ValueType::String,
    false,
    Editor::Text,
    "The text to match; in vector mode, the text to embed when no vector is given.",
);
pub const VECTOR: PropertySpec = prop(
    "vector",
    "Vector",
    ValueType::List,
    false,
    Editor::Json,
    "A vector, such as ${embed.output} (the first one when it holds several).",
);
pub const VECTOR_FIELD: PropertySpec = prop(
    "vector_field",
    "Vector field",
    ValueType::String,
    false,
    Editor::Text,
    "The index's vector field to compare with (vector and hybrid modes).",
);
pub const EMBEDDINGS_CONNECTION: PropertySpec = prop(
    "embeddings_connection",
    "Embeddings connection",
    ValueType::String,
    false,
    Editor::Connection {
        types: MODEL_CONNECTIONS,
    },
    "A model connection that embeds the query when no vector is given.",
);
pub const EMBEDDINGS_DEPLOYMENT: PropertySpec = prop(
    "embeddings_deployment",
    "Embeddings deployment",
    ValueType::String,
    false,
    Editor::Text,
    "The embeddings model to call, such as text-embedding-3-small.",
);
pub const TOP_K: PropertySpec = count(
    "top_k",
    "Top k",
    1000.0,
    "How many documents (5 when empty).",
);
pub const SELECT: PropertySpec = prop(
    "select",
    "Fields",
    ValueType::String,
    false,
    Editor::Text,
    "The fields to return, comma-separated (all retrievable ones when empty).",
);
pub const FILTER: PropertySpec = prop(
    "filter",
    "Filter",
    ValueType::String,
    false,
    Editor::Text,
    "An OData filter, such as category eq 'faq'.",
);

/// Documents returned when `top_k` is empty.
pub const DEFAULT_TOP_K: u32 = 5;

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::AiSearch,
    title: "AI Search lookup",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "search",
    icon: "⌸",
    description: "Finds documents in an Azure AI Search index by text, vector or both.",
    properties: &[
        CONNECTION,
        INDEX,
        MODE,
        QUERY,
        VECTOR,
        VECTOR_FIELD,
        EMBEDDINGS_CONNECTION,
        EMBEDDINGS_DEPLOYMENT,
        TOP_K,
        SELECT,
        FILTER,
        WHEN,
    ],
    outputs: &[out("output", ValueType::List)],
    summary: &[INDEX.key, MODE.key],
    writes_variable: None,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Keyword,
    Vector,
    Hybrid,
}

impl Mode {
    pub fn matches_text(self) -> bool {
        matches!(self, Self::Keyword | Self::Hybrid)
    }

    pub fn needs_vector(self) -> bool {
        matches!(self, Self::Vector | Self::Hybrid)
    }
}

fn given(node: &Node, spec: &PropertySpec) -> bool {
    match node.properties.get(spec.key) {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(_) => true,
    }
}

pub(crate) fn check(node: &Node, context: &Context, found: &mut Vec<Diagnostic>) {
    check_saved_only(node, context, found);
    let embeds = check_saved_connection(
        node,
        EMBEDDINGS_CONNECTION.key,
        EMBEDDINGS_CONNECTION.connection_types(),
        context,
        found,
    );
    // A reference to the mode is read when the run starts; a literal is checked here.
    let mode = match node.properties.get(MODE.key) {
        Some(Value::String(text)) if text.contains("${") => return,
        Some(value) => serde_json::from_value::<Option<Mode>>(value.clone())
            .ok()
            .flatten()
            .unwrap_or_default(),
        None => Mode::default(),
    };
    let mut require = |spec: &PropertySpec, why: &str| {
        found.push(Diagnostic::error(
            Some(&node.id),
            Some(spec.key),
            format!("`{}` is required {why}", spec.key),
        ));
    };
    if mode.matches_text() && !given(node, &QUERY) {
        require(
            &QUERY,
            "in keyword and hybrid modes: give the text to match",
        );
    }
    if mode.needs_vector() {
        if !given(node, &VECTOR_FIELD) {
            require(
                &VECTOR_FIELD,
                "in vector and hybrid modes: name the index's vector field",
            );
        }
        if !given(node, &VECTOR) {
            if !given(node, &QUERY) {
                require(
                    &QUERY,
                    "in vector mode without a vector: give the text to embed, or a vector",
                );
            }
            if !embeds {
                require(
                    &EMBEDDINGS_CONNECTION,
                    "to embed the query when no vector is given: choose a model connection, or wire a vector such as ${embed.output}",
                );
            }
            if !given(node, &EMBEDDINGS_DEPLOYMENT) {
                require(
                    &EMBEDDINGS_DEPLOYMENT,
                    "to embed the query when no vector is given: name the embeddings model",
                );
            }
        }
    }
}

/// The model that embeds the query on the fly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedder {
    /// The saved model connection's name.
    pub connection: String,
    pub deployment: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// The saved search connection's name.
    pub connection: String,
    pub index: String,
    pub mode: Mode,
    pub query: Option<String>,
    /// The vector given (an Embeddings node's first one, when it gives several).
    pub vector: Option<Vec<f32>>,
    pub vector_field: Option<String>,
    pub embedder: Option<Embedder>,
    pub top_k: u32,
    pub select: Vec<String>,
    pub filter: Option<String>,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        // An Embeddings node outputs one vector per text: take the first of a list of lists.
        let vector = match props.optional::<Value>(&VECTOR)? {
            None => None,
            Some(Value::Array(items)) if items.first().is_some_and(Value::is_array) => {
                Some(items[0].clone())
            }
            Some(other) => Some(other),
        };
        let vector = vector
            .map(serde_json::from_value::<Vec<f32>>)
            .transpose()
            .map_err(|err| PropsError::Invalid {
                key: VECTOR.key,
                problem: format!("not a list of numbers ({err})"),
            })?;
        let embedder = match (
            props.optional::<String>(&EMBEDDINGS_CONNECTION)?,
            props.optional::<String>(&EMBEDDINGS_DEPLOYMENT)?,
        ) {
            (Some(connection), Some(deployment)) => Some(Embedder {
                connection,
                deployment,
            }),
            _ => None,
        };
        let select: Option<String> = props.optional(&SELECT)?;
        Ok(Self {
            connection: props.required(&CONNECTION)?,
            index: props.required(&INDEX)?,
            mode: props.optional(&MODE)?.unwrap_or_default(),
            query: props.optional(&QUERY)?,
            vector,
            vector_field: props.optional(&VECTOR_FIELD)?,
            embedder,
            top_k: props.count(&TOP_K, DEFAULT_TOP_K)?,
            select: select
                .iter()
                .flat_map(|list| list.split(','))
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .map(str::to_owned)
                .collect(),
            filter: props.optional(&FILTER)?,
        })
    }
}
