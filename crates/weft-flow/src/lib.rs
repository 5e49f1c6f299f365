//! Weft's flow documents: the `*.weft.yaml` format, the node kinds and their property schemas,
//! Prompt-flow-style `${…}` references (which are the flow's edges, see ADR 3) and validation.
//! No IO beyond parsing text, no Tauri, no network.

mod document;
pub mod graph;
mod kind;
pub mod kinds;
mod reference;
mod schema;
mod taint;
mod template;
mod validate;

pub use document::{
    FlowDocument, FlowInput, FlowOutput, Node, Note, ParseError, Position, PythonSettings,
    SCHEMA_VERSION,
};
pub use graph::Graph;
pub use kind::{
    ConnectionType, Editor, MODEL_CONNECTIONS, NodeGroup, NodeKind, NodeKindSpec, NodeRole,
    OutputSpec, PropertySpec, ValueType,
};
pub use reference::{ConnectionSection, Reference, Source, find_references};
pub use schema::{catalog, json_schema};
pub use taint::{secret_inputs, secret_references};
pub use validate::{
    Context, Diagnostic, SavedConnection, Severity, ValidFlow, Validation, validate, validation,
};
