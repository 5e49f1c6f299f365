//! Set variable: gives a declared variable a new value.

use weft_flow::kinds::set_variable::Props;

use super::{NodeContext, NodeDone, NodeError, props};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let Props { name, value } = props(ctx, Props::from_evaluated)?;
    Ok(NodeDone {
        set_var: Some((name, value.clone())),
        ..NodeDone::output(value)
    })
}
