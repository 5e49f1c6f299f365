use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::kind::{NodeKind, ValueType};

/// The format version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A flow file. Field order here is the order on disk, and maps keep their order, so saving an
/// edited flow changes only the lines that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct FlowDocument {
    pub schema: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub description: String,
    /// How the flow's Python nodes run; absent: `python3` on PATH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub python: Option<PythonSettings>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[ts(as = "Option<IndexMap<String, FlowInput>>", optional)]
    pub inputs: IndexMap<String, FlowInput>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[ts(as = "Option<IndexMap<String, FlowOutput>>", optional)]
    pub outputs: IndexMap<String, FlowOutput>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Comments on the canvas; they take no part in a run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<Note>>", optional)]
    pub notes: Vec<Note>,
}

/// The flow's `python:`: the interpreter its Python nodes run in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PythonSettings {
    /// A path relative to the flow file (such as `.venv/bin/python`) or absolute; absent:
    /// `python3` on PATH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub interpreter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Note {
    pub id: String,
    pub text: String,
    #[serde(serialize_with = "position_inline")]
    pub position: Position,
    /// Width on the canvas, when resized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub width: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct FlowInput {
    #[serde(rename = "type")]
    pub kind: ValueType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub default: Option<Value>,
    /// Its value is redacted everywhere and never saved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub secret: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct FlowOutput {
    /// A reference, such as `${chat.output}`.
    pub value: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Node {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: NodeKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[ts(as = "Option<String>", optional)]
    pub title: String,
    #[serde(serialize_with = "position_inline")]
    pub position: Position,
    /// Literals or `${…}` references; see the kind's property specs.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[ts(as = "Option<IndexMap<String, Value>>", optional)]
    pub properties: IndexMap<String, Value>,
}

/// Why a file could not be read as a flow, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", .line.map(|l| format!("line {l}, column {}: ", .column.unwrap_or(1))).unwrap_or_default())]
pub struct ParseError {
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

/// Positions stay on one line (`{x: 0, "y": 120}`, whole numbers without `.0`): moving a node
/// is a one-line diff.
fn position_inline<S: serde::Serializer>(
    position: &Position,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let number = |n: f64| {
        if n.fract() == 0.0 && n.abs() < 1e15 {
            Value::from(n as i64)
        } else {
            Value::from(n)
        }
    };
    let map: serde_json::Map<String, Value> = [
        ("x".into(), number(position.x)),
        ("y".into(), number(position.y)),
    ]
    .into_iter()
    .collect();
    serde_saphyr::FlowMap(map).serialize(serializer)
}

impl FlowDocument {
    /// The file's text: fields in a fixed order, maps in their order, so that saving an edited
    /// flow changes only the lines that changed.
    pub fn to_yaml(&self) -> String {
        let mut options = serde_saphyr::SerializerOptions::default();
        options.compact_list_indent = false;
        // A flow is plain data: serialising it cannot fail.
        serde_saphyr::to_string_with_options(self, options).unwrap_or_default()
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.trim().is_empty() {
            return Err(ParseError {
                line: None,
                column: None,
                message: "the file is empty; a flow starts with `schema: 1`".into(),
            });
        }
        serde_saphyr::from_str(text).map_err(|err| ParseError::from_yaml(&err))
    }
}

impl ParseError {
    /// serde-saphyr's error as one line with its place: the source snippet it renders after the
    /// first line is left out.
    pub fn from_yaml(err: &serde_saphyr::Error) -> Self {
        let location = err.location();
        let message = err.to_string();
        Self {
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message: message.lines().next().unwrap_or_default().trim().to_owned(),
        }
    }

    /// The error without any text of the file it came from. serde quotes offending values
    /// (`invalid type: string "…"`, ``unknown field `…` ``), and a file opened by mistake, or a
    /// connection file, may hold a key. A name in backticks stays only when it is not in the
    /// file, so it came from the schema (``missing field `nodes` ``).
    pub fn without_file_text(&self, text: &str) -> Self {
        let mut kept = String::new();
        // serde-saphyr repeats the location in its message; it is given once, by `Display`.
        let mut rest = self.message.trim_start_matches("error: ");
        if let Some((location, message)) = rest.split_once(": ")
            && location.starts_with("line ")
            && location.contains(" column ")
        {
            rest = message;
        }
        while let Some(start) = rest.find(['"', '`', '\'']) {
            let quote = rest[start..].chars().next().unwrap_or('"');
            kept.push_str(&rest[..=start]);
            let after = &rest[start + 1..];
            let Some(len) = after.find(quote) else {
                // An unclosed quote: everything after it may be the file's text.
                kept.push('…');
                rest = "";
                break;
            };
            let quoted = &after[..len];
            let is_name = quote != '"' && is_a_name(quoted) && !text.contains(quoted);
            kept.push_str(if is_name { quoted } else { "…" });
            kept.push(quote);
            rest = &after[len + 1..];
        }
        kept.push_str(rest);
        Self {
            line: self.line,
            column: self.column.or(self.line.map(|_| 1)),
            message: kept.chars().take(200).collect(),
        }
    }
}

/// A field, variant or type name, or one punctuation mark of YAML's syntax (`expected ','`).
fn is_a_name(quoted: &str) -> bool {
    let mut chars = quoted.chars();
    match chars.next() {
        Some(first) if first.is_ascii_punctuation() => quoted.len() == 1,
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {
            quoted.len() <= 32 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_flow_in_file_order() {
        let doc = FlowDocument::parse(
            "schema: 1\ntitle: Chat\ninputs:\n  question:\n    type: string\n    default: Hi\n  key:\n    type: string\n    secret: true\n\
             outputs:\n  answer:\n    value: ${chat.output}\nnodes:\n  - id: chat\n    type: chat_completion\n    position: { x: 10, y: 20 }\n\
             \x20   properties:\n      deployment: gpt-4o-mini\n      user_prompt: \"{{ question }}\"\n",
        )
        .unwrap();
        assert_eq!(doc.inputs.keys().collect::<Vec<_>>(), ["question", "key"]);
        assert!(doc.inputs["key"].secret);
        assert_eq!(doc.nodes[0].kind, NodeKind::ChatCompletion);
        assert_eq!(
            doc.nodes[0].properties.keys().collect::<Vec<_>>(),
            ["deployment", "user_prompt"]
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err =
            FlowDocument::parse("schema: 1\nnodes:\n  - id: a\n    type: [unclosed\n").unwrap_err();
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.to_string().starts_with("line 4, column "), "{err}");
        let unknown = FlowDocument::parse("schema: 1\nnodez: []\n").unwrap_err();
        assert!(unknown.message.contains("nodez"), "{unknown}");
        assert_eq!(unknown.line, Some(2));
    }

    fn example(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn saved_flows_read_back_the_same() {
        for name in [
            "chat.weft.yaml",
            "dynamic-connection.weft.yaml",
            "condition-branches.weft.yaml",
        ] {
            let doc = FlowDocument::parse(&example(name)).unwrap();
            let saved = doc.to_yaml();
            assert_eq!(
                FlowDocument::parse(&saved).unwrap(),
                doc,
                "{name}:\n{saved}"
            );
            assert!(saved.contains("position: {x: 0, \"y\": "), "{saved}");
        }
    }

    #[test]
    fn a_one_property_edit_is_a_one_line_diff() {
        let mut doc = FlowDocument::parse(&example("dynamic-connection.weft.yaml")).unwrap();
        let before = doc.to_yaml();
        let chat = doc.nodes.iter_mut().find(|n| n.id == "chat").unwrap();
        chat.properties
            .insert("deployment".into(), Value::from("gpt-4.1"));
        chat.position.x += 40.0;
        let after = doc.to_yaml();
        let changed: Vec<(&str, &str)> = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(before.lines().count(), after.lines().count());
        assert_eq!(
            changed,
            [
                (
                    "    position: {x: 840, \"y\": 160}",
                    "    position: {x: 880, \"y\": 160}"
                ),
                ("      deployment: gpt-4o-mini", "      deployment: gpt-4.1"),
            ]
        );
    }

    #[test]
    fn an_empty_file_says_how_a_flow_starts() {
        let err = FlowDocument::parse("  \n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is empty; a flow starts with `schema: 1`"
        );
    }
}
