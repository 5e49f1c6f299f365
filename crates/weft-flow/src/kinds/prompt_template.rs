//! Prompt template: renders a Jinja template to text.

use serde_json::{Map, Value};

use super::common::{VARIABLES, WHEN, out, prop};
use super::props::{Evaluated, PropsError};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};

pub const TEMPLATE: PropertySpec = prop(
    "template",
    "Template",
    ValueType::String,
    true,
    Editor::Template,
    "Jinja text; {{ name }} is a template variable.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::PromptTemplate,
    title: "Prompt template",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "prompt",
    icon: "¶",
    description: "Renders a Jinja template to text.",
    properties: &[TEMPLATE, VARIABLES, WHEN],
    outputs: &[out("output", ValueType::String)],
    summary: &[TEMPLATE.key],
    writes_variable: None,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// Jinja source, as written.
    pub template: String,
    pub variables: Map<String, Value>,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            template: props.required(&TEMPLATE)?,
            variables: props.optional(&VARIABLES)?.unwrap_or_default(),
        })
    }
}
