//! Declare variable: gives a variable its first value.

use serde_json::Value;

use super::{NodeContext, NodeDone, required};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
    let value = ctx.props.get("initial").cloned().unwrap_or(Value::Null);
    Ok(NodeDone {
        set_var: Some((required(&ctx.props, "name")?.to_owned(), value.clone())),
        ..NodeDone::output(value)
    })
}
