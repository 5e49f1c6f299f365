//! Variants: the same flow with some node properties set otherwise (`chat.deployment: gpt-4o`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use weft_flow::{Context, Editor, FlowDocument, PropertySpec, ValueType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Variant {
    pub name: String,
    /// `node.property` -> its value in this variant.
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    pub set: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariantError {
    #[error("variant `{variant}`: `{key}` is not `node.property`")]
    BadKey { variant: String, key: String },
    #[error("variant `{variant}`: the flow has no node `{node}`")]
    UnknownNode { variant: String, node: String },
    #[error("variant `{variant}`: a {kind} node has no property `{property}`")]
    UnknownProperty {
        variant: String,
        kind: String,
        property: String,
    },
    #[error("variant `{variant}` makes the flow invalid: {message}")]
    Invalid { variant: String, message: String },
}

/// The flow with the variant's properties set. The result must validate as well as the flow
/// did: an error the variant brings in (a number given as text, a choice not offered…) is
/// refused here, naming the variant, instead of failing every row of its batch.
pub fn apply_variant(flow: &FlowDocument, variant: &Variant) -> Result<FlowDocument, VariantError> {
    let mut changed = flow.clone();
    for (key, value) in &variant.set {
        let bad_key = || VariantError::BadKey {
            variant: variant.name.clone(),
            key: key.clone(),
        };
        let (node_id, property) = key.split_once('.').ok_or_else(bad_key)?;
        if node_id.is_empty() || property.is_empty() {
            return Err(bad_key());
        }
        let node = changed
            .nodes
            .iter_mut()
            .find(|node| node.id == node_id)
            .ok_or_else(|| VariantError::UnknownNode {
                variant: variant.name.clone(),
                node: node_id.to_owned(),
            })?;
        let spec = node.kind.spec();
        let Some(property_spec) = spec.properties.iter().find(|p| p.key == property) else {
            return Err(VariantError::UnknownProperty {
                variant: variant.name.clone(),
                kind: spec.title.to_owned(),
                property: property.to_owned(),
            });
        };
        if let Some(message) = wrong_value(property_spec, value) {
            return Err(VariantError::Invalid {
                variant: variant.name.clone(),
                message: format!("node {node_id}, {property}: {message}"),
            });
        }
        node.properties.insert(property.to_owned(), value.clone());
    }
    // Validated without saved connections on both sides: only what the variant changed differs.
    let context = Context {
        connections: Vec::new(),
        strict: false,
    };
    let errors = |doc: &FlowDocument| -> BTreeSet<String> {
        weft_flow::validation(doc, &context)
            .errors()
            .map(ToString::to_string)
            .collect()
    };
    let before = errors(flow);
    if let Some(new) = errors(&changed).difference(&before).next() {
        return Err(VariantError::Invalid {
            variant: variant.name.clone(),
            message: new.clone(),
        });
    }
    Ok(changed)
}

/// What the flow schema refuses in a literal value (validation reads literals when the node
/// runs): a value of another type, a choice not offered. A `${…}` reference is checked by
/// validation.
fn wrong_value(spec: &PropertySpec, value: &Value) -> Option<String> {
    if value
        .as_str()
        .is_some_and(|text| text.trim_start().starts_with("${"))
    {
        return None;
    }
    if let Editor::Select { options } = spec.editor {
        return (!value
            .as_str()
            .is_some_and(|choice| options.contains(&choice)))
        .then(|| format!("{value} is not one of {}", options.join(", ")));
    }
    let fits = match spec.value_type {
        ValueType::String => value.is_string(),
        ValueType::Number => value.is_number(),
        ValueType::Bool => value.is_boolean(),
        ValueType::Object => value.is_object(),
        ValueType::List => value.is_array(),
        ValueType::Connection | ValueType::Any => true,
    };
    (!fits).then(|| format!("{value} is not {}", article(spec.value_type)))
}

fn article(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::String => "text",
        ValueType::Number => "a number",
        ValueType::Bool => "true or false",
        ValueType::Object => "an object",
        ValueType::List => "a list",
        ValueType::Connection | ValueType::Any => "a value",
    }
}
