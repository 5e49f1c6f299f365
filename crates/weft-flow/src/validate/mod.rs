//! Validation: every check a flow passes before it runs, one concern per module, driven by one
//! `Checker` over the document and its `Graph`.

mod ids;
mod order;
mod properties;
mod references;
mod secrets;
mod templates;
mod valid;
mod variables;

pub use valid::{ValidFlow, Validation};

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::document::{FlowDocument, Node, SCHEMA_VERSION};
use crate::graph::Graph;
use crate::kind::ConnectionType;
use crate::reference::Reference;
use crate::taint::{secret_inputs_of, secret_references};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, tied to the node (and property) the editor should mark.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Diagnostic {
    pub severity: Severity,
    pub node: Option<String>,
    pub property: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn error(node: Option<&str>, property: Option<&str>, message: String) -> Self {
        Self {
            severity: Severity::Error,
            node: node.map(str::to_owned),
            property: property.map(str::to_owned),
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })?;
        match (&self.node, &self.property) {
            (Some(node), Some(property)) => write!(f, ": node {node}, {property}")?,
            (Some(node), None) => write!(f, ": node {node}")?,
            (None, Some(property)) => write!(f, ": {property}")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// What validation needs from outside the file.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The saved connections (names compared ignoring case).
    pub connections: Vec<SavedConnection>,
    /// Undefined template variables are errors instead of warnings.
    pub strict: bool,
}

/// A saved connection as validation sees it: its name, its type and, for a custom connection,
/// the names of its settings (never their values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedConnection {
    pub name: String,
    pub kind: ConnectionType,
    /// A custom connection's `configs` keys.
    pub configs: Vec<String>,
    /// A custom connection's `secrets` keys.
    pub secrets: Vec<String>,
}

impl SavedConnection {
    /// A connection with no custom settings.
    pub fn new(name: &str, kind: ConnectionType) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            configs: Vec::new(),
            secrets: Vec::new(),
        }
    }
}

impl Context {
    /// The saved connection `name`, ignoring case.
    pub fn connection(&self, name: &str) -> Option<&SavedConnection> {
        let name = name.trim();
        self.connections
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

struct Checker<'a> {
    doc: &'a FlowDocument,
    context: &'a Context,
    found: Vec<Diagnostic>,
    graph: Graph,
    /// References whose value is a secret (taint.rs), and the inputs among them.
    secret_references: Vec<Reference>,
    secret_inputs: BTreeSet<String>,
}

/// Checks a flow before anything runs, in one pass: its diagnostics and, when none is an error,
/// the `ValidFlow` to run. Errors block a run; warnings do not.
pub fn validation(doc: &FlowDocument, context: &Context) -> Validation {
    let mut checker = Checker::new(doc, context);
    checker.run();
    Validation::new(
        doc,
        checker.found,
        checker.graph,
        checker.secret_inputs,
        checker.secret_references,
    )
}

/// The diagnostics alone, for callers that only show them (`validation(…).diagnostics`).
pub fn validate(doc: &FlowDocument, context: &Context) -> Vec<Diagnostic> {
    validation(doc, context).diagnostics
}

pub(super) fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

pub(super) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

impl<'a> Checker<'a> {
    fn new(doc: &'a FlowDocument, context: &'a Context) -> Self {
        let secret_references = secret_references(doc);
        Self {
            doc,
            context,
            found: Vec::new(),
            graph: Graph::new(doc),
            secret_inputs: secret_inputs_of(doc, &secret_references),
            secret_references,
        }
    }

    pub(super) fn report(
        &mut self,
        severity: Severity,
        node: Option<&str>,
        property: Option<&str>,
        message: String,
    ) {
        self.found.push(Diagnostic {
            severity,
            node: node.map(str::to_owned),
            property: property.map(str::to_owned),
            message,
        });
    }

    pub(super) fn error(&mut self, node: Option<&str>, property: Option<&str>, message: String) {
        self.report(Severity::Error, node, property, message);
    }

    pub(super) fn node(&self, id: &str) -> Option<&'a Node> {
        self.doc.nodes.iter().find(|node| node.id == id)
    }

    fn run(&mut self) {
        if self.doc.schema != SCHEMA_VERSION {
            let message = format!(
                "this flow uses format version {}; this Weft reads version {SCHEMA_VERSION}{}",
                self.doc.schema,
                if self.doc.schema > SCHEMA_VERSION {
                    ": update Weft to open it"
                } else {
                    ""
                }
            );
            self.error(None, Some("schema"), message);
            return;
        }
        self.check_ids();
        self.check_variables();
        for node in &self.doc.nodes {
            self.check_node(node);
        }
        self.check_outputs();
        self.check_cycles();
        self.check_variable_order();
        self.check_secret_inputs();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn check(yaml: &str) -> Vec<Diagnostic> {
        let doc = FlowDocument::parse(yaml).unwrap();
        validate(
            &doc,
            &Context {
                connections: vec![crate::SavedConnection::new(
                    "azure-ai",
                    crate::ConnectionType::AzureAi,
                )],
                strict: false,
            },
        )
    }

    pub(crate) fn errors(yaml: &str) -> Vec<String> {
        check(yaml)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect()
    }

    pub(crate) const CHAT: &str = r#"
schema: 1
title: Chat
inputs:
  question: { type: string }
outputs:
  answer: { value: "${chat.output}" }
nodes:
  - id: inputs
    type: inputs
    position: { x: 0, y: 0 }
  - id: chat
    type: chat_completion
    position: { x: 300, y: 0 }
    properties:
      connection: azure-ai
      deployment: gpt-4o-mini
      system_prompt: You answer in one sentence.
      user_prompt: "{{ question }}"
      variables: { question: "${inputs.question}" }
"#;

    #[test]
    fn the_chat_example_is_valid() {
        assert_eq!(check(CHAT), []);
    }

    #[test]
    fn another_format_version_is_refused_before_anything_else() {
        assert_eq!(
            errors(
                "schema: 2\nnodes:\n  - { id: \"9lives\", type: inputs, position: { x: 0, y: 0 } }\n"
            ),
            [
                "error: schema: this flow uses format version 2; this Weft reads version 1: update Weft to open it"
            ]
        );
    }
}
