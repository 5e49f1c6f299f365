//! Prompt template: renders a Jinja template with the node's variables.

use serde_json::Value;
use weft_flow::kinds::prompt_template::{Props, TEMPLATE};

use super::{NodeContext, NodeDone, props, render};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
    let props = props(ctx, Props::from_evaluated)?;
    let text = render(&TEMPLATE, &props.template, &props.variables)?;
    Ok(NodeDone::output(Value::String(text)))
}
