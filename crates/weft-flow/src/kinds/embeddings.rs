//! Embeddings: turns text into vectors.

use serde_json::{Map, Value};

use super::common::{
    CONNECTION, ConnectionChoice, DEPLOYMENT, DYNAMIC_CONNECTION, WHEN, out, prop,
};
use super::props::{Evaluated, PropsError};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

pub const INPUT: PropertySpec = prop(
    "input",
    "Input",
    ValueType::Any,
    true,
    Editor::Json,
    "A text or a list of texts.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Embeddings,
    title: "Embeddings",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "embed",
    icon: "⋮",
    description: "Turns text into vectors.",
    properties: &[CONNECTION, DYNAMIC_CONNECTION, DEPLOYMENT, INPUT, WHEN],
    outputs: &[out("output", ValueType::List)],
    summary: &[DEPLOYMENT.key, CONNECTION.key],
    writes_variable: None,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub connection: ConnectionChoice,
    pub deployment: String,
    /// The texts to embed: a list's items, or the one value given.
    pub input: Vec<Value>,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        let input = match props.required(&INPUT)? {
            Value::Array(items) => items,
            one => vec![one],
        };
        Ok(Self {
            connection: ConnectionChoice::read(&props)?,
            deployment: props.required(&DEPLOYMENT)?,
            input,
        })
    }
}
