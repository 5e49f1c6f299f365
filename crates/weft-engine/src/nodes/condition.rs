//! Condition: evaluates an expression; nodes gated on the branch not taken are skipped.

use serde_json::{Map, Value};
use weft_flow::kinds::condition::Props;

use super::{NodeContext, NodeDone, NodeError, environment, props, variables};

pub(super) fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let env = environment();
    let expression = env
        .compile_expression(&props.expression)
        .map_err(|err| format!("the expression is not valid: {err}"))?;
    let result = expression
        .eval(variables(&props.variables))
        .map_err(|err| format!("the expression could not be evaluated: {err}"))?
        .is_true();
    Ok(NodeDone {
        ports: Map::from_iter([
            ("output".to_owned(), Value::Bool(result)),
            ("true".to_owned(), Value::Bool(result)),
            ("false".to_owned(), Value::Bool(!result)),
        ]),
        usage: None,
        set_var: None,
    })
}
