//! Prompt template: renders a Jinja template with the node's variables.

use serde_json::Value;
use weft_flow::kinds::prompt_template::{Props, TEMPLATE};

use super::{NodeContext, NodeDone, NodeError, props, render};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let text = render(&TEMPLATE, &props.template, &props.variables)?;
    Ok(NodeDone::output(Value::String(text)))
}
