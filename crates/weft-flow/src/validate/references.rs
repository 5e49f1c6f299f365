//! `${…}` references: each points at an input, a declared variable or a node's output, and
//! yields a type; the flow's outputs are references.

use super::Checker;
use crate::document::Node;
use crate::kind::ValueType;
use crate::reference::{Reference, Source, find_references};

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

#[cfg(test)]
mod tests {

    use crate::validate::tests::{CHAT, errors};

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
