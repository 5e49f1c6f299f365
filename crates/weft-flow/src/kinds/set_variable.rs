//! Set variable: changes a declared variable's value.

use serde_json::{Map, Value};

use super::common::{WHEN, out, prop};
use super::props::{Evaluated, PropsError};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

pub const NAME: PropertySpec = prop(
    "name",
    "Name",
    ValueType::String,
    true,
    Editor::Text,
    "A variable that a Declare variable node made.",
);
pub const VALUE: PropertySpec = prop(
    "value",
    "Value",
    ValueType::Any,
    true,
    Editor::Json,
    "A value or a reference.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::SetVariable,
    title: "Set variable",
    group: NodeGroup::Variables,
    role: NodeRole::Runnable,
    id_stem: "set",
    icon: "≔",
    description: "Changes a declared variable's value.",
    properties: &[NAME, VALUE, WHEN],
    outputs: &[out("output", ValueType::Any)],
    summary: &[NAME.key],
    writes_variable: Some(NAME.key),
};

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub name: String,
    /// Null when a reference gave null: a variable may be set to nothing.
    pub value: Value,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            name: props.required(&NAME)?,
            value: props.any(&VALUE),
        })
    }
}
