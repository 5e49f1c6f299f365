//! Node ids: well formed, unique, not a reference's reserved word, and a flow port's pinned.

use std::collections::BTreeSet;

use super::Checker;
use crate::kind::NodeRole;

impl<'a> Checker<'a> {
    pub(super) fn check_ids(&mut self) {
        let mut seen = BTreeSet::new();
        for node in &self.doc.nodes {
            let id = node.id.as_str();
            // A flow port is one per flow, and references name it by its kind's id stem.
            let spec = node.kind.spec();
            let pinned = (spec.role == NodeRole::FlowPort).then_some(spec.id_stem);
            let valid = id
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                self.error(
                    Some(id),
                    None,
                    "a node id starts with a letter and has only letters, digits, `_` and `-`"
                        .into(),
                );
            } else if pinned.is_some_and(|pinned| pinned != id) {
                self.error(
                    Some(id),
                    None,
                    format!(
                        "the {} node's id must be `{}`",
                        spec.title,
                        pinned.unwrap_or_default()
                    ),
                );
            } else if pinned.is_none() && matches!(id, "inputs" | "outputs" | "vars" | "connection")
            {
                self.error(
                    Some(id),
                    None,
                    format!("`{id}` is reserved for references; pick another id"),
                );
            }
            if !seen.insert(id) {
                self.error(
                    Some(id),
                    None,
                    format!("two nodes have the id `{id}`; ids must be unique"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::validate::tests::errors;

    #[test]
    fn ids_are_well_formed_unique_and_not_reserved() {
        let yaml = r#"
schema: 1
nodes:
  - { id: "9lives", type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi } }
  - { id: vars, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi } }
  - { id: twice, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi } }
  - { id: twice, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi } }
  - { id: x, type: outputs, position: { x: 0, y: 0 } }
"#;
        let found = errors(yaml);
        assert!(
            found
                .iter()
                .any(|e| e.contains("node 9lives: a node id starts with a letter")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("node vars: `vars` is reserved")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("node x: the Outputs node's id must be `outputs`")),
            "{found:?}"
        );
        assert!(
            found.iter().any(
                |e| e == "error: node twice: two nodes have the id `twice`; ids must be unique"
            ),
            "{found:?}"
        );
    }
}
