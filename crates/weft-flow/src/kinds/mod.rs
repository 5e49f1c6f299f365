//! One module per node kind: its spec (what the editor shows, the validator checks and the engine
//! reads), its kind-specific checks and, for a kind that runs, the typed `Props` the engine reads
//! from the node's evaluated properties. The matches below are exhaustive, so a new `NodeKind`
//! does not compile until it has a module.

pub mod common;
pub mod props;

pub mod ai_search;
pub mod chat_completion;
pub mod condition;
pub mod content_safety_text;
pub mod create_azure_ai_connection;
pub mod declare_variable;
pub mod embeddings;
pub mod http_request;
pub mod inputs;
pub mod outputs;
pub mod prompt_template;
pub mod python;
pub mod serp_search;
pub mod set_variable;

pub use common::{ConnectionChoice, ConnectionHandle};
pub use props::{PropsError, SecretText};

use crate::document::Node;
use crate::kind::{NodeKind, NodeKindSpec};
use crate::validate::{Context, Diagnostic};

impl NodeKind {
    pub fn spec(self) -> NodeKindSpec {
        match self {
            Self::Inputs => inputs::SPEC,
            Self::Outputs => outputs::SPEC,
            Self::DeclareVariable => declare_variable::SPEC,
            Self::SetVariable => set_variable::SPEC,
            Self::PromptTemplate => prompt_template::SPEC,
            Self::ChatCompletion => chat_completion::SPEC,
            Self::CreateAzureAiConnection => create_azure_ai_connection::SPEC,
            Self::Embeddings => embeddings::SPEC,
            Self::Condition => condition::SPEC,
            Self::ContentSafetyText => content_safety_text::SPEC,
            Self::SerpSearch => serp_search::SPEC,
            Self::AiSearch => ai_search::SPEC,
            Self::HttpRequest => http_request::SPEC,
            Self::Python => python::SPEC,
        }
    }
}

/// The checks only some kinds have; the generic ones (required, types, references, templates,
/// choices, secrets) come from the specs.
pub(crate) fn check(node: &Node, context: &Context, found: &mut Vec<Diagnostic>) {
    match node.kind {
        NodeKind::ChatCompletion | NodeKind::Embeddings => {
            common::check_connection(node, context, found)
        }
        NodeKind::ContentSafetyText | NodeKind::SerpSearch | NodeKind::HttpRequest => {
            common::check_saved_only(node, context, found)
        }
        NodeKind::AiSearch => ai_search::check(node, context, found),
        NodeKind::Python => python::check(node, context, found),
        NodeKind::Inputs
        | NodeKind::Outputs
        | NodeKind::DeclareVariable
        | NodeKind::SetVariable
        | NodeKind::PromptTemplate
        | NodeKind::CreateAzureAiConnection
        | NodeKind::Condition => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::NodeRole;

    #[test]
    fn every_kind_that_runs_can_be_gated_by_a_condition() {
        // A declaration is not gated: a variable is declared on every branch.
        for kind in NodeKind::ALL {
            let runs = kind.spec().role == NodeRole::Runnable;
            let gated = runs && kind != NodeKind::DeclareVariable;
            assert_eq!(kind.property(common::WHEN.key).is_some(), gated, "{kind:?}");
        }
    }

    #[test]
    fn summary_keys_and_written_variables_are_properties_of_the_kind() {
        for kind in NodeKind::ALL {
            let spec = kind.spec();
            assert_eq!(spec.kind, kind);
            for key in spec.summary.iter().chain(&spec.writes_variable) {
                assert!(kind.property(key).is_some(), "{kind:?}: {key}");
            }
            // Flow ports are never run, so they have nothing to run with.
            if spec.role == NodeRole::FlowPort {
                assert!(
                    spec.properties.is_empty() && spec.outputs.is_empty(),
                    "{kind:?}"
                );
            }
        }
    }

    /// The palette and the cards tell kinds apart by their glyph first. Each glyph must also be
    /// in the fonts Debian's desktop installs (DejaVu): U+26E8, tried for Content Safety, is in
    /// none of them and drew an empty box.
    #[test]
    fn every_kind_has_its_own_icon_and_id_stem() {
        let mut icons = std::collections::BTreeMap::new();
        let mut stems = std::collections::BTreeMap::new();
        for kind in NodeKind::ALL {
            let spec = kind.spec();
            assert_eq!(spec.icon.chars().count(), 1, "{kind:?}: one glyph");
            if let Some(other) = icons.insert(spec.icon, kind) {
                panic!("{kind:?} and {other:?} share the icon {}", spec.icon);
            }
            if let Some(other) = stems.insert(spec.id_stem, kind) {
                panic!("{kind:?} and {other:?} share the id stem {}", spec.id_stem);
            }
        }
    }
}
