//! Web search (SerpAPI): a Google or Bing search through SerpApi, its organic results. The
//! properties are those of Prompt flow's SerpAPI tool (microsoft/promptflow
//! src/promptflow-tools/promptflow/tools/serpapi.py: query, engine, num, location, safe), with
//! the language as SerpApi's engines take it.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{WHEN, count, out, prop, saved_connection};
use super::props::{Evaluated, PropsError};
use crate::kind::{
    ConnectionType, Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType,
};

pub const CONNECTION: PropertySpec =
    saved_connection(true, &[ConnectionType::Serp], "A saved SerpAPI connection.");
pub const QUERY: PropertySpec = prop(
    "query",
    "Query",
    ValueType::String,
    true,
    Editor::Text,
    "What to search for, such as ${inputs.question}.",
);
pub const ENGINE: PropertySpec = prop(
    "engine",
    "Engine",
    ValueType::String,
    false,
    Editor::Select {
        options: &["google", "bing"],
    },
    "The search engine (google when empty).",
);
pub const NUM: PropertySpec = count(
    "num",
    "Results",
    100.0,
    "How many results (10 when empty; Bing gives at most 50).",
);
pub const LOCATION: PropertySpec = prop(
    "location",
    "Location",
    ValueType::String,
    false,
    Editor::Text,
    "Where the search comes from, such as Austin, Texas, United States.",
);
pub const LANGUAGE: PropertySpec = prop(
    "language",
    "Language",
    ValueType::String,
    false,
    Editor::Text,
    "Google: the interface language (en); Bing: the market (en-US).",
);
pub const SAFE: PropertySpec = prop(
    "safe",
    "Safe search",
    ValueType::Bool,
    false,
    Editor::Switch,
    "Filter explicit results.",
);

/// The number of results SerpApi gives when none is asked for.
pub const DEFAULT_NUM: u32 = 10;

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::SerpSearch,
    title: "Web search (SerpAPI)",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "web",
    icon: "⌕",
    description: "Searches the web with Google or Bing through SerpAPI; outputs the organic results.",
    properties: &[
        CONNECTION, QUERY, ENGINE, NUM, LOCATION, LANGUAGE, SAFE, WHEN,
    ],
    outputs: &[out("output", ValueType::List)],
    summary: &[QUERY.key, ENGINE.key],
    writes_variable: None,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Google,
    Bing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// The saved connection's name.
    pub connection: String,
    pub query: String,
    pub engine: Engine,
    pub num: u32,
    pub location: Option<String>,
    pub language: Option<String>,
    pub safe: bool,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            connection: props.required(&CONNECTION)?,
            query: props.required(&QUERY)?,
            engine: props.optional(&ENGINE)?.unwrap_or_default(),
            num: props.count(&NUM, DEFAULT_NUM)?,
            location: props.optional(&LOCATION)?,
            language: props.optional(&LANGUAGE)?,
            safe: props.optional(&SAFE)?.unwrap_or(false),
        })
    }
}
