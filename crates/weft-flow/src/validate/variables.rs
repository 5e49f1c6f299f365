//! Variables: a written name is text, declared once, and declared before anything sets it.

use std::collections::BTreeMap;

use super::{Checker, is_empty};
use crate::graph::written_variable;
use crate::kind::NodeKind;

impl<'a> Checker<'a> {
    /// A variable's name is text, declared once, and declared before anything sets it.
    pub(super) fn check_variables(&mut self) {
        let mut declared: BTreeMap<&str, &str> = BTreeMap::new();
        for node in &self.doc.nodes {
            let Some(key) = node.kind.writes_variable() else {
                continue;
            };
            let Some(name) = written_variable(node) else {
                // YAML reads a bare `n`, `no` or `on` as a boolean: say so rather than ignore it.
                // An empty one is reported as missing by check_node.
                if node.properties.get(key).is_some_and(|v| !is_empty(v)) {
                    self.error(
                        Some(&node.id),
                        Some(key),
                        format!("`{key}` must be text; write it in quotes"),
                    );
                }
                continue;
            };
            if node.kind == NodeKind::DeclareVariable
                && let Some(first) = declared.insert(name, &node.id)
            {
                self.error(
                    Some(&node.id),
                    Some(key),
                    format!("`{name}` is already declared by `{first}`"),
                );
            }
        }
        let undeclared: Vec<(String, String)> = self
            .graph
            .setters()
            .iter()
            .filter(|(name, _)| self.graph.declaration(name).is_none())
            .flat_map(|(name, setters)| setters.iter().map(|s| (name.clone(), s.clone())))
            .collect();
        for (name, setter) in undeclared {
            self.error(
                Some(&setter),
                None,
                format!("sets `vars.{name}`, which no Declare variable node declares; add one"),
            );
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::validate::tests::{check, errors};

    #[test]
    fn the_dynamic_connection_example_orders_itself_through_the_variable() {
        let yaml = r#"
schema: 1
inputs:
  endpoint: { type: string }
  api_key: { type: string, secret: true }
  question: { type: string }
outputs:
  answer: { value: "${chat.output}" }
nodes:
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: conn, value_type: object } }
  - id: connect
    type: create_azure_ai_connection
    position: { x: 200, y: 0 }
    properties: { endpoint: "${inputs.endpoint}", api_key: "${inputs.api_key}", variable: conn }
  - id: chat
    type: chat_completion
    position: { x: 400, y: 0 }
    properties:
      dynamic_connection: "${vars.conn}"
      deployment: gpt-4o-mini
      user_prompt: "{{ q }}"
      variables: { q: "${inputs.question}" }
"#;
        assert_eq!(check(yaml), []);
    }

    #[test]
    fn a_variable_is_text_declared_once_and_declared_before_it_is_set() {
        let yaml = r#"
schema: 1
nodes:
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: count, value_type: number } }
  - { id: again, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: count, value_type: number } }
  - { id: one, type: set_variable, position: { x: 0, y: 0 }, properties: { name: n, value: 1 } }
  - { id: two, type: set_variable, position: { x: 0, y: 0 }, properties: { name: total, value: 2 } }
"#;
        // YAML 1.1 reads a bare `n` as false; a variable name that is not text is reported.
        assert_eq!(
            errors(yaml),
            [
                "error: node again, name: `count` is already declared by `declare`",
                "error: node one, name: `name` must be text; write it in quotes",
                "error: node two: sets `vars.total`, which no Declare variable node declares; add one",
            ]
        );
    }
}
