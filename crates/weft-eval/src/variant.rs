//! Variants: the same flow with some node properties set otherwise (`chat.deployment: gpt-4o`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use weft_flow::FlowDocument;

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

/// The flow with the variant's properties set.
pub fn apply_variant(flow: &FlowDocument, variant: &Variant) -> Result<FlowDocument, VariantError> {
    todo!("{flow:?} {variant:?}")
}
