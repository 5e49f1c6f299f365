//! Chat completion: asks a chat model, streaming its answer.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{
    CONNECTION, ConnectionChoice, DEPLOYMENT, DYNAMIC_CONNECTION, VARIABLES, WHEN, out, prop,
};
use super::props::{Evaluated, PropsError};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

pub const SYSTEM_PROMPT: PropertySpec = prop(
    "system_prompt",
    "System prompt",
    ValueType::String,
    false,
    Editor::Template,
    "How the model should behave; Jinja text.",
);
pub const USER_PROMPT: PropertySpec = prop(
    "user_prompt",
    "User prompt",
    ValueType::String,
    true,
    Editor::Template,
    "What to ask; Jinja text, such as {{ question }}.",
);
pub const CHAT_HISTORY: PropertySpec = prop(
    "chat_history",
    "Chat history",
    ValueType::List,
    false,
    Editor::Json,
    "Earlier turns: a list of { role, content }.",
);
pub const TEMPERATURE: PropertySpec = prop(
    "temperature",
    "Temperature",
    ValueType::Number,
    false,
    Editor::Number {
        min: 0.0,
        max: 2.0,
        step: 0.1,
    },
    "Higher is more varied; empty uses the model's default.",
);
pub const MAX_TOKENS: PropertySpec = prop(
    "max_tokens",
    "Max tokens",
    ValueType::Number,
    false,
    Editor::Number {
        min: 1.0,
        max: 1_000_000.0,
        step: 1.0,
    },
    "The longest answer, in tokens; empty uses the model's default.",
);
pub const RESPONSE_FORMAT: PropertySpec = prop(
    "response_format",
    "Response format",
    ValueType::String,
    false,
    Editor::Select {
        options: &["text", "json_object", "json_schema"],
    },
    "JSON formats parse the answer into an object.",
);
pub const JSON_SCHEMA: PropertySpec = prop(
    "json_schema",
    "JSON schema",
    ValueType::Object,
    false,
    Editor::Json,
    "With the json_schema format: { name, schema, strict }.",
);
pub const STREAM: PropertySpec = prop(
    "stream",
    "Stream",
    ValueType::Bool,
    false,
    Editor::Switch,
    "Show the answer as it is written (on unless switched off).",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::ChatCompletion,
    title: "Chat completion",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "chat",
    icon: "✦",
    description: "Asks a chat model and streams its answer.",
    properties: &[
        CONNECTION,
        DYNAMIC_CONNECTION,
        DEPLOYMENT,
        SYSTEM_PROMPT,
        USER_PROMPT,
        VARIABLES,
        CHAT_HISTORY,
        TEMPERATURE,
        MAX_TOKENS,
        RESPONSE_FORMAT,
        JSON_SCHEMA,
        STREAM,
        WHEN,
    ],
    // `output` is the text, or the parsed JSON with a JSON response format.
    outputs: &[
        out("output", ValueType::Any),
        out("finish_reason", ValueType::String),
        out("usage", ValueType::Object),
    ],
    summary: &[DEPLOYMENT.key, CONNECTION.key, USER_PROMPT.key],
    writes_variable: None,
};

/// Who said an earlier turn; a turn without a role is the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnRole {
    #[default]
    User,
    Assistant,
    System,
}

/// One earlier turn of `chat_history`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Turn {
    #[serde(default)]
    pub role: TurnRole,
    /// Text, or any value (sent as its text).
    #[serde(default)]
    pub content: Value,
}

/// The `response_format` choice; JSON formats parse the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    #[default]
    Text,
    JsonObject,
    JsonSchema,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub connection: ConnectionChoice,
    pub deployment: String,
    /// Jinja source, as written.
    pub system_prompt: Option<String>,
    /// Jinja source, as written.
    pub user_prompt: String,
    pub variables: Map<String, Value>,
    pub chat_history: Vec<Turn>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub response_format: ResponseFormat,
    /// With `ResponseFormat::JsonSchema`: `{ name, schema, strict }`.
    pub json_schema: Option<Value>,
    /// On unless switched off.
    pub stream: bool,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            connection: ConnectionChoice::read(&props)?,
            deployment: props.required(&DEPLOYMENT)?,
            system_prompt: props.optional(&SYSTEM_PROMPT)?,
            user_prompt: props.required(&USER_PROMPT)?,
            variables: props.optional(&VARIABLES)?.unwrap_or_default(),
            chat_history: props.optional(&CHAT_HISTORY)?.unwrap_or_default(),
            temperature: props.optional(&TEMPERATURE)?,
            max_tokens: props.optional(&MAX_TOKENS)?,
            response_format: props.optional(&RESPONSE_FORMAT)?.unwrap_or_default(),
            json_schema: props.optional(&JSON_SCHEMA)?,
            stream: props.optional(&STREAM)?.unwrap_or(true),
        })
    }
}
