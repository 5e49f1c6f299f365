//! What several kinds share: the spec builders, the properties more than one kind has, and the
//! saved-or-dynamic connection that the model-calling kinds take.

use serde::Deserialize;
use serde_json::Value;

use super::props::{Evaluated, PropsError};
use crate::document::Node;
use crate::kind::{ConnectionType, Editor, MODEL_CONNECTIONS, OutputSpec, PropertySpec, ValueType};
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
        unless: None,
    }
}

/// A kind's `connection`: a saved connection of one of `types`.
pub(crate) const fn saved_connection(
    required: bool,
    types: &'static [ConnectionType],
    help: &'static str,
) -> PropertySpec {
    prop(
        "connection",
        "Connection",
        ValueType::String,
        required,
        Editor::Connection { types },
        help,
    )
}

/// A whole number from 1 to `max`; [`Evaluated::count`] reads it within that range.
pub(crate) const fn count(
    key: &'static str,
    label: &'static str,
    max: f64,
    help: &'static str,
) -> PropertySpec {
    prop(
        key,
        label,
        ValueType::Number,
        false,
        Editor::Number {
            min: 1.0,
            max,
            step: 1.0,
        },
        help,
    )
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
pub const CONNECTION: PropertySpec = saved_connection(
    false,
    MODEL_CONNECTIONS,
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

/// The types in `accepted`, for messages: `azure_ai, azure_open_ai, open_ai or serverless`.
pub(crate) fn type_list(accepted: &[ConnectionType]) -> String {
    let names: Vec<&str> = accepted.iter().map(|t| t.as_str()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A saved connection named in `key` exists and is one of the types the property takes. A
/// reference (`${inputs.conn}`) is checked when the run reads it. Returns whether the property
/// names a connection at all.
pub(crate) fn check_saved_connection(
    node: &Node,
    key: &str,
    accepted: &[ConnectionType],
    context: &Context,
    found: &mut Vec<Diagnostic>,
) -> bool {
    let Some(Value::String(name)) = node.properties.get(key) else {
        return false;
    };
    let name = name.trim();
    if name.is_empty() {
        return false;
    }
    if !find_references(name).is_ok_and(|refs| refs.is_empty()) {
        return true;
    }
    match context.connection(name) {
        None => found.push(Diagnostic::error(
            Some(&node.id),
            Some(key),
            format!(
                "unknown connection `{name}`; create it in Connections or with `weft connection create`"
            ),
        )),
        Some(saved) if !accepted.contains(&saved.kind) => found.push(Diagnostic::error(
            Some(&node.id),
            Some(key),
            format!(
                "`{}` is a {} connection, and this node takes {} connections; choose one of those",
                saved.name,
                saved.kind.as_str(),
                type_list(accepted)
            ),
        )),
        Some(_) => {}
    }
    true
}

/// A kind whose `connection` takes only a saved connection: when one is named, it exists and is
/// of a type the kind's spec takes.
pub(crate) fn check_saved_only(node: &Node, context: &Context, found: &mut Vec<Diagnostic>) {
    let accepted = node.kind.spec().connection_types();
    check_saved_connection(node, CONNECTION.key, accepted, context, found);
}

/// A kind with `connection` needs a saved connection of a type its spec takes, or a dynamic one.
pub(crate) fn check_connection(node: &Node, context: &Context, found: &mut Vec<Diagnostic>) {
    let dynamic = node
        .properties
        .get(DYNAMIC_CONNECTION.key)
        .is_some_and(|v| !is_blank(v));
    let accepted = node.kind.spec().connection_types();
    if !check_saved_connection(node, CONNECTION.key, accepted, context, found) && !dynamic {
        found.push(Diagnostic::error(
            Some(&node.id),
            Some(CONNECTION.key),
            "needs a connection, or a dynamic connection".into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::kind::ConnectionType;
    use crate::validate::tests::CHAT;
    use crate::{Context, FlowDocument, SavedConnection, Severity, validate};

    #[test]
    fn a_saved_connection_of_another_type_is_an_error_naming_the_types_the_node_takes() {
        let context = Context {
            connections: vec![
                SavedConnection::new("azure-ai", ConnectionType::AzureAi),
                SavedConnection::new("web", ConnectionType::Serp),
            ],
            strict: false,
        };
        let check = |yaml: &str| -> Vec<String> {
            validate(&FlowDocument::parse(yaml).unwrap(), &context)
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.to_string())
                .collect()
        };
        assert!(check(CHAT).is_empty());
        // Names are compared ignoring case, as the store does.
        assert_eq!(
            check(&CHAT.replace("connection: azure-ai", "connection: WEB")),
            [
                "error: node chat, connection: `web` is a serp connection, and this node takes azure_ai, azure_open_ai, open_ai or serverless connections; choose one of those"
            ]
        );
    }
}
