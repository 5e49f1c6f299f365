//! What validation hands on: the diagnostics, and a `ValidFlow` when none is an error.

use std::collections::BTreeSet;

use super::{Diagnostic, Severity};
use crate::document::FlowDocument;
use crate::graph::Graph;
use crate::reference::Reference;

/// The result of one validation pass.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Every finding, errors and warnings, for the editor or the terminal.
    pub diagnostics: Vec<Diagnostic>,
    /// The flow, ready to run, when no diagnostic is an error.
    pub valid: Option<ValidFlow>,
}

impl Validation {
    pub(super) fn new(
        doc: &FlowDocument,
        diagnostics: Vec<Diagnostic>,
        graph: Graph,
        secret_inputs: BTreeSet<String>,
        secret_references: Vec<Reference>,
    ) -> Self {
        let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
        let valid = (!failed).then(|| ValidFlow {
            doc: doc.clone(),
            graph,
            secret_inputs,
            secret_references,
            base_dir: None,
        });
        Self { diagnostics, valid }
    }

    /// The diagnostics that block a run.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

/// A flow that validated without an error, with what running it needs computed once: its
/// `Graph` and which of its values are secrets.
///
/// Its fields are private and only `validation()` makes one, so a `ValidFlow` is proof that the
/// flow passed: an engine that takes one cannot be handed a flow that did not validate, and
/// does not check it again. Building one by hand does not compile:
///
/// ```compile_fail,E0451
/// fn forge(doc: weft_flow::FlowDocument) -> weft_flow::ValidFlow {
///     weft_flow::ValidFlow {
///         graph: weft_flow::Graph::new(&doc),
///         doc,
///         secret_inputs: Default::default(),
///         secret_references: Vec::new(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ValidFlow {
    doc: FlowDocument,
    graph: Graph,
    secret_inputs: BTreeSet<String>,
    secret_references: Vec<Reference>,
    base_dir: Option<std::path::PathBuf>,
}

impl ValidFlow {
    /// The flow file's folder: what a Python node's `source` and the flow's
    /// `python.interpreter` are relative to. A flow that was never saved has none.
    pub fn with_base_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }

    pub fn base_dir(&self) -> Option<&std::path::Path> {
        self.base_dir.as_deref()
    }

    pub fn document(&self) -> &FlowDocument {
        &self.doc
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The inputs whose value is a secret: marked `secret`, or feeding a secret property.
    pub fn secret_inputs(&self) -> &BTreeSet<String> {
        &self.secret_inputs
    }

    /// Every reference whose value is a secret (see taint.rs), in no particular order.
    pub fn secret_references(&self) -> &[Reference] {
        &self.secret_references
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::tests::CHAT;
    use crate::validate::{Context, validation};
    use crate::{FlowDocument, Severity};

    fn context() -> Context {
        Context {
            connections: vec![crate::SavedConnection::new(
                "azure-ai",
                crate::ConnectionType::AzureAi,
            )],
            strict: false,
        }
    }

    #[test]
    fn a_flow_with_an_error_gives_no_valid_flow_and_warnings_do_not_block() {
        let broken =
            FlowDocument::parse(&CHAT.replace("${inputs.question}", "${inputs.q}")).unwrap();
        let checked = validation(&broken, &context());
        assert!(checked.valid.is_none());
        assert_eq!(checked.errors().count(), 1);

        let warned = CHAT.replace("\"{{ question }}\"", "\"{{ question }} {{ context }}\"");
        let checked = validation(&FlowDocument::parse(&warned).unwrap(), &context());
        assert_eq!(checked.diagnostics[0].severity, Severity::Warning);
        assert!(checked.valid.is_some());
    }

    #[test]
    fn a_valid_flow_carries_the_document_its_graph_and_its_secrets() {
        let yaml = format!(
            "{CHAT}  - {{ id: declare, type: declare_variable, position: {{ x: 0, y: 0 }}, properties: {{ name: conn, value_type: object }} }}\n  - {{ id: connect, type: create_azure_ai_connection, position: {{ x: 0, y: 0 }}, properties: {{ endpoint: \"https://r.openai.azure.com/openai/v1\", api_key: \"${{inputs.key}}\", variable: conn }} }}\n"
        )
        .replace("inputs:\n", "inputs:\n  key: { type: string }\n");
        let doc = FlowDocument::parse(&yaml).unwrap();
        let checked = validation(&doc, &context());
        assert_eq!(checked.errors().count(), 0, "{:#?}", checked.diagnostics);
        let valid = checked.valid.unwrap();
        assert_eq!(valid.document(), &doc);
        assert_eq!(
            valid
                .graph()
                .dependencies("chat")
                .iter()
                .collect::<Vec<_>>(),
            Vec::<&String>::new()
        );
        assert_eq!(
            valid
                .graph()
                .dependencies("connect")
                .iter()
                .collect::<Vec<_>>(),
            ["declare"]
        );
        // `key` is plain, but it feeds a key: it is a secret all the same (and warned about).
        assert_eq!(valid.secret_inputs().iter().collect::<Vec<_>>(), ["key"]);
        assert!(!valid.secret_references().is_empty());
    }
}
