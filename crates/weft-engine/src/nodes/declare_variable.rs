//! Declare variable: gives a variable its first value.

use weft_flow::kinds::declare_variable::Props;

use super::{NodeContext, NodeDone, NodeError, props};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let Props { name, initial, .. } = props(ctx, Props::from_evaluated)?;
    Ok(NodeDone {
        set_var: Some((name, initial.clone())),
        ..NodeDone::output(initial)
    })
}
