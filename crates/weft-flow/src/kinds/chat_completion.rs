//! Chat completion: asks a chat model, streaming its answer.

use std::sync::LazyLock;

use regex::Regex;
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
    "What to ask; Jinja text, such as {{ question }}. Required unless a chat template is set.",
)
.unless("chat_template");
pub const CHAT_TEMPLATE: PropertySpec = prop(
    "chat_template",
    "Chat template",
    ValueType::String,
    false,
    Editor::Template,
    "A Prompt flow chat prompt: rendered with its variables, then split into messages at \
     # system: / # user: / # assistant: lines; used instead of the system and user prompts.",
);
pub const STOP: PropertySpec = prop(
    "stop",
    "Stop sequences",
    ValueType::List,
    false,
    Editor::Json,
    "Strings that end the answer where the model writes them, such as [\"\\nuser:\"].",
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
        CHAT_TEMPLATE,
        VARIABLES,
        CHAT_HISTORY,
        TEMPERATURE,
        MAX_TOKENS,
        STOP,
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

/// One message of a rendered chat template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMessage {
    /// `system`, `user`, `assistant` or `function`, in lower case.
    pub role: String,
    pub content: String,
}

/// Splits a rendered chat template into messages as Prompt flow does: promptflow-tools'
/// `parse_chat` (`src/promptflow-tools/promptflow/tools/common.py` in microsoft/promptflow) splits
/// `"\n" + text` at `(?i)\n+\s*#?\s*(system|user|assistant|function)\s*:\s*\n`, so `# system:`,
/// `system:` and `# User :` lines all start a message. Text before the first role line is
/// returned apart (Prompt flow refuses it when it is not blank); each message's text is trimmed.
pub fn split_chat_template(text: &str) -> (String, Vec<TemplateMessage>) {
    static ROLE_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?i)\n+\s*#?\s*(system|user|assistant|function)\s*:\s*\n").ok()
    });
    let text = format!("\n{text}");
    let Some(re) = ROLE_LINE.as_ref() else {
        return (text.trim().to_owned(), Vec::new());
    };
    let mut messages: Vec<TemplateMessage> = Vec::new();
    let mut prefix = String::new();
    let mut last = 0;
    for caps in re.captures_iter(&text) {
        let (Some(whole), Some(role)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let before = text[last..whole.start()].trim().to_owned();
        match messages.last_mut() {
            Some(message) => message.content = before,
            None => prefix = before,
        }
        messages.push(TemplateMessage {
            role: role.as_str().to_lowercase(),
            content: String::new(),
        });
        last = whole.end();
    }
    let rest = text[last..].trim().to_owned();
    match messages.last_mut() {
        Some(message) => message.content = rest,
        None => prefix = rest,
    }
    (prefix, messages)
}

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
    /// Jinja source, as written; empty with a chat template.
    pub user_prompt: String,
    /// A Prompt flow chat prompt (Jinja), split into messages after rendering.
    pub chat_template: Option<String>,
    /// The request's `stop` sequences.
    pub stop: Vec<String>,
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
            user_prompt: props.optional(&USER_PROMPT)?.unwrap_or_default(),
            chat_template: props.optional(&CHAT_TEMPLATE)?,
            stop: props.optional(&STOP)?.unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_splits_at_role_lines_in_any_case_with_or_without_a_hash() {
        let (prefix, messages) =
            split_chat_template("# system:\nBe brief.\n\n# User :\nHi\nassistant:\nHello\n");
        assert_eq!(prefix, "");
        let got: Vec<(&str, &str)> = messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("system", "Be brief."),
                ("user", "Hi"),
                ("assistant", "Hello")
            ]
        );
    }

    #[test]
    fn text_before_the_first_role_line_is_returned_apart() {
        let (prefix, messages) = split_chat_template("Hello\nuser:\nHi");
        assert_eq!(prefix, "Hello");
        assert_eq!(messages.len(), 1);
        assert_eq!(split_chat_template("No roles").0, "No roles");
    }

    #[test]
    fn stop_and_the_template_are_read() {
        let props: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "connection": "c", "deployment": "d", "chat_template": "user:\n{{ q }}", "stop": ["\nuser:"]
        }))
        .unwrap();
        let props = Props::from_evaluated(&props).unwrap();
        assert_eq!(props.stop, ["\nuser:"]);
        assert_eq!(props.user_prompt, "");
        assert!(props.chat_template.is_some());
    }
}
