//! Declare variable: makes a typed variable with a starting value.

use serde_json::{Map, Value};

use super::common::{out, prop};
use super::props::{Evaluated, PropsError};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

/// What a declared variable may hold (the `value_type` choice).
const VALUE_TYPES: &[&str] = &["string", "number", "bool", "object", "list"];

pub const NAME: PropertySpec = prop(
    "name",
    "Name",
    ValueType::String,
    true,
    Editor::Text,
    "Read it elsewhere as ${vars.<name>}.",
);
pub const VALUE_TYPE: PropertySpec = prop(
    "value_type",
    "Type",
    ValueType::String,
    true,
    Editor::Select {
        options: VALUE_TYPES,
    },
    "What the variable holds.",
);
pub const INITIAL: PropertySpec = prop(
    "initial",
    "Initial value",
    ValueType::Any,
    false,
    Editor::Json,
    "Its value until a Set variable node changes it.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::DeclareVariable,
    title: "Declare variable",
    group: NodeGroup::Variables,
    role: NodeRole::Runnable,
    id_stem: "declare",
    icon: "𝑥",
    description: "Makes a typed variable with a starting value.",
    properties: &[NAME, VALUE_TYPE, INITIAL],
    outputs: &[out("output", ValueType::Any)],
    summary: &[NAME.key],
    writes_variable: Some(NAME.key),
};

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub name: String,
    pub value_type: ValueType,
    /// Null when the node gives none.
    pub initial: Value,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            name: props.required(&NAME)?,
            value_type: props.required(&VALUE_TYPE)?,
            initial: props.any(&INITIAL),
        })
    }
}
