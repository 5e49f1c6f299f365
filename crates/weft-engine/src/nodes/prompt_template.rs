//! Prompt template: renders a Jinja template with the node's variables.

use serde_json::Value;

use super::{NodeContext, NodeDone, render};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
    Ok(NodeDone::output(Value::String(
        render(&ctx.props, "template")?.unwrap_or_default(),
    )))
}
