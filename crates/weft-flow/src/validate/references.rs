//! `${…}` references: each points at an input, a declared variable or a node's output, and
//! yields a type; the flow's outputs are references.

use serde_json::Value;

use super::{Checker, Severity};
use crate::document::Node;
use crate::kind::{ConnectionType, ValueType};
use crate::reference::{ConnectionSection, Reference, Source, find_references};

impl<'a> Checker<'a> {
    /// Each flow output is a reference to something that exists.
    pub(super) fn check_outputs(&mut self) {
        for (name, output) in &self.doc.outputs {
            let property = format!("outputs.{name}");
            match find_references(&output.value) {
                Ok(refs) if refs.is_empty() => {
                    self.error(
                        None,
                        Some(&property),
                        format!(
                            "`{}` is not a reference; write e.g. ${{chat.output}}",
                            output.value
                        ),
                    );
                }
                Ok(refs) => {
                    for reference in refs {
                        self.resolve(None, &property, &reference);
                    }
                }
                Err(message) => self.error(None, Some(&property), message),
            }
        }
    }

    /// The type a reference yields, after checking it points at something (the Graph has the edge).
    pub(super) fn resolve(
        &mut self,
        node: Option<&'a Node>,
        property: &str,
        reference: &Reference,
    ) -> Option<ValueType> {
        let here = node.map(|node| node.id.as_str());
        match &reference.source {
            Source::Input(name) => match self.doc.inputs.get(name) {
                Some(input) => Some(input.kind),
                None => {
                    self.error(
                        here,
                        Some(property),
                        format!("`${{inputs.{name}}}`: the flow has no input `{name}`"),
                    );
                    None
                }
            },
            Source::Var(name) => {
                if self.graph.declaration(name).is_none() {
                    self.error(
                        here,
                        Some(property),
                        format!("`${{vars.{name}}}`: no Declare variable node declares `{name}`"),
                    );
                    return None;
                }
                Some(ValueType::Any)
            }
            Source::Connection { section, key } => {
                self.connection_setting(node, property, *section, key);
                Some(ValueType::String)
            }
            Source::Node { id, port } => {
                let Some(source) = self.node(id) else {
                    self.error(
                        here,
                        Some(property),
                        format!("`${{{id}.{port}}}`: there is no node `{id}`"),
                    );
                    return None;
                };
                if here == Some(id.as_str()) {
                    self.error(
                        here,
                        Some(property),
                        format!("`${{{id}.{port}}}`: a node cannot read its own output"),
                    );
                    return None;
                }
                let Some(output) = source.kind.output(port) else {
                    let ports: Vec<&str> = source.kind.outputs().iter().map(|o| o.port).collect();
                    self.error(
                        here,
                        Some(property),
                        format!(
                            "`${{{id}.{port}}}`: node `{id}` has no output `{port}` (it has {})",
                            ports.join(", ")
                        ),
                    );
                    return None;
                };
                if reference.path.is_empty() {
                    Some(output.value_type)
                } else if matches!(output.value_type, ValueType::Object | ValueType::Any) {
                    Some(ValueType::Any)
                } else {
                    self.error(
                        here,
                        Some(property),
                        format!(
                            "`${{{id}.{port}.{}}}`: `{port}` is {:?}, which has no fields",
                            reference.path.join("."),
                            output.value_type
                        ),
                    );
                    None
                }
            }
        }
    }
}

impl Checker<'_> {
    /// `${connection.<section>.<key>}` reads the node's own custom connection: only a kind whose
    /// connection may be custom takes it, and only with a saved connection set. A key the saved
    /// connection does not have is a warning (it may be added before the run, which fails on it).
    fn connection_setting(
        &mut self,
        node: Option<&Node>,
        property: &str,
        section: ConnectionSection,
        key: &str,
    ) {
        let written = format!("${{connection.{}.{key}}}", section.as_str());
        let Some(node) = node.filter(|node| {
            node.kind
                .spec()
                .connection_types()
                .contains(&ConnectionType::Custom)
        }) else {
            self.error(
                node.map(|node| node.id.as_str()),
                Some(property),
                format!(
                    "`{written}` reads a custom connection's settings; only an HTTP request node with a custom connection can use it"
                ),
            );
            return;
        };
        let Some(Value::String(name)) = node.properties.get("connection") else {
            self.error(
                Some(&node.id),
                Some(property),
                format!("`{written}` needs the node's connection: choose a custom connection"),
            );
            return;
        };
        let Some(saved) = self.context.connection(name) else {
            // An unknown connection is reported on `connection` itself.
            return;
        };
        if saved.kind != ConnectionType::Custom {
            return;
        }
        let keys = match section {
            ConnectionSection::Configs => &saved.configs,
            ConnectionSection::Secrets => &saved.secrets,
        };
        if !keys.iter().any(|k| k == key) {
            let has = if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.join(", ")
            };
            self.report(
                Severity::Warning,
                Some(&node.id),
                Some(property),
                format!(
                    "`{written}`: connection `{}` has no {} `{key}` (it has {has}); add it to the connection, or the run fails here",
                    saved.name,
                    section.one()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::validate::tests::{CHAT, errors};

    #[test]
    fn a_connection_reference_outside_a_node_with_a_custom_connection_is_an_error() {
        let yaml = CHAT.replace(
            "system_prompt: You answer in one sentence.",
            "system_prompt: \"Key ${connection.secrets.api_key}\"",
        );
        assert_eq!(
            errors(&yaml),
            [
                "error: node chat, system_prompt: `${connection.secrets.api_key}` reads a custom connection's settings; only an HTTP request node with a custom connection can use it"
            ]
        );
    }

    #[test]
    fn dangling_references_are_reported() {
        let yaml = CHAT
            .replace("${inputs.question}", "${inputs.query}")
            .replace("value: \"${chat.output}\"", "value: \"${chat.answer}\"");
        assert_eq!(
            errors(&yaml),
            [
                "error: node chat, variables: `${inputs.query}`: the flow has no input `query`",
                "error: outputs.answer: `${chat.answer}`: node `chat` has no output `answer` (it has output, finish_reason, usage)",
            ]
        );
        let missing = CHAT.replace("${chat.output}", "${summary.output}");
        assert_eq!(
            errors(&missing),
            ["error: outputs.answer: `${summary.output}`: there is no node `summary`"]
        );
    }
}
