//! Condition: evaluates an expression and takes the true or the false branch.

use serde_json::{Map, Value};

use super::common::{VARIABLES, WHEN, out, prop};
use super::props::{Evaluated, PropsError};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

pub const EXPRESSION: PropertySpec = prop(
    "expression",
    "Expression",
    ValueType::String,
    true,
    Editor::Expression,
    "A Jinja expression over the variables, such as score > 0.5.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Condition,
    title: "Condition",
    group: NodeGroup::Logic,
    role: NodeRole::Runnable,
    id_stem: "condition",
    icon: "◇",
    description: "Takes the true or the false branch; the other is skipped.",
    properties: &[EXPRESSION, VARIABLES, WHEN],
    outputs: &[
        out("output", ValueType::Bool),
        out("true", ValueType::Bool),
        out("false", ValueType::Bool),
    ],
    summary: &[EXPRESSION.key],
    writes_variable: None,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub expression: String,
    pub variables: Map<String, Value>,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            expression: props.required(&EXPRESSION)?,
            variables: props.optional(&VARIABLES)?.unwrap_or_default(),
        })
    }
}
