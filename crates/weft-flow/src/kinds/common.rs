//! What several kinds share: the spec builders, the properties more than one kind has, and the
//! saved-or-dynamic connection that the model-calling kinds take.

use serde::Deserialize;
use serde_json::Value;

use super::props::{Evaluated, PropsError};
use crate::document::Node;
use crate::kind::{Editor, OutputSpec, PropertySpec, ValueType};
use crate::reference::find_references;
use crate::validate::{Context, Diagnostic};

pub(crate) const fn prop(
    key: &'static str,
    label: &'static str,
    value_type: ValueType,
    required: bool,
    editor: Editor,
    help: &'static str,
) -> PropertySpec {
    PropertySpec {
        key,
        label,
        value_type,
        required,
        editor,
        help,
        secret: false,
    }
}

pub(crate) const fn out(port: &'static str, value_type: ValueType) -> OutputSpec {
    OutputSpec { port, value_type }
}

/// Runs the node only on a Condition branch: `when: ${route.true}`. The scheduler reads it
/// before the node runs, so no kind's `Props` carries it.
pub const WHEN: PropertySpec = prop(
    "when",
    "Run when",
    ValueType::Bool,
    false,
    Editor::Variable,
    "A Condition's branch, such as ${route.true}; when it is false the node is skipped.",
);
/// The names a template or expression sees.
pub const VARIABLES: PropertySpec = prop(
    "variables",
    "Template variables",
    ValueType::Object,
    false,
    Editor::Map,
    "Names the template can use, each a value or a reference such as ${inputs.question}.",
);
pub const CONNECTION: PropertySpec = prop(
    "connection",
    "Connection",
    ValueType::String,
    false,
    Editor::Connection,
    "A saved connection. A dynamic connection, when set, is used instead.",
);
pub const DYNAMIC_CONNECTION: PropertySpec = prop(
    "dynamic_connection",
    "Dynamic connection",
    ValueType::Connection,
    false,
    Editor::Variable,
    "A variable that a Create Azure AI connection node filled, such as ${vars.conn}.",
);
pub const DEPLOYMENT: PropertySpec = prop(
    "deployment",
    "Deployment",
    ValueType::String,
    true,
    Editor::Text,
    "The model deployment to call, such as gpt-4o-mini.",
);

/// What a Create Azure AI connection node leaves in its variable: a handle to the connection the
/// engine keeps for the run, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConnectionHandle {
    pub connection: String,
}

/// The connection a model-calling node uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionChoice {
    /// Made in this run by a Create Azure AI connection node; wins over a saved one.
    Dynamic(ConnectionHandle),
    /// A saved connection, by name.
    Saved(String),
}

impl ConnectionChoice {
    pub(crate) fn read(props: &Evaluated<'_>) -> Result<Self, PropsError> {
        if let Some(handle) = props.optional(&DYNAMIC_CONNECTION)? {
            return Ok(Self::Dynamic(handle));
        }
        match props.optional(&CONNECTION)? {
            Some(name) => Ok(Self::Saved(name)),
            None => Err(PropsError::NoConnection),
        }
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

/// A kind with `connection` needs a saved connection that exists, or a dynamic one.
pub(crate) fn check_connection(node: &Node, context: &Context, found: &mut Vec<Diagnostic>) {
    let dynamic = node
        .properties
        .get(DYNAMIC_CONNECTION.key)
        .is_some_and(|v| !is_blank(v));
    let key = CONNECTION.key;
    match node.properties.get(key) {
        Some(Value::String(name)) if !name.trim().is_empty() => {
            let known = context
                .connections
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name.trim()));
            if !known && find_references(name).is_ok_and(|refs| refs.is_empty()) {
                found.push(Diagnostic::error(
                    Some(&node.id),
                    Some(key),
                    format!(
                        "unknown connection `{}`; create it in Connections or with `weft connection create`",
                        name.trim()
                    ),
                ));
            }
        }
        _ if dynamic => {}
        _ => found.push(Diagnostic::error(
            Some(&node.id),
            Some(key),
            "needs a connection, or a dynamic connection".into(),
        )),
    }
}
