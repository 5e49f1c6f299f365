use weft_flow::ValueType;

/// Why a run could not start. Once it starts, a node's failure is in its record instead.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the flow needs the input `{0}`; give it a value (the CLI's --input {0}=…)")]
    MissingInput(String),
    #[error("the input `{name}` should be {expected:?}, not `{given}`")]
    InputType {
        name: String,
        expected: ValueType,
        given: String,
    },
    /// A secret's value is never echoed, not even a wrong one.
    #[error(
        "the input `{name}` should be {expected:?}; its value is not shown because it is secret"
    )]
    SecretInputType { name: String, expected: ValueType },
    #[error("the flow has no input `{0}`")]
    UnknownInput(String),
    #[error("the flow has no node `{0}`")]
    UnknownNode(String),
    #[error("`{0}` only shows the flow's inputs or outputs; it does not run on its own")]
    DoesNotRun(String),
    #[error(
        "`{node}` reads {} with no result to reuse; run the flow once, or give {} a value",
        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
        if missing.len() == 1 { "it" } else { "them" }
    )]
    NothingToReuse { node: String, missing: Vec<String> },
}
