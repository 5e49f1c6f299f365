//! Each node's properties against its kind's spec: known, required, typed across references,
//! one of a select's options; then the kind's own checks.

use serde_json::Value;

use super::{Checker, is_empty, strings};
use crate::document::Node;
use crate::kind::{Editor, PropertySpec};
use crate::reference::find_references;
use crate::template;

impl<'a> Checker<'a> {
    pub(super) fn check_node(&mut self, node: &'a Node) {
        let id = node.id.as_str();
        let kind = node.kind;
        for key in node.properties.keys() {
            if kind.property(key).is_none() {
                let known: Vec<&str> = kind.properties().iter().map(|spec| spec.key).collect();
                self.error(
                    Some(id),
                    Some(key),
                    format!(
                        "unknown property `{key}`; a {kind:?} node has {}",
                        known.join(", ")
                    ),
                );
            }
        }
        for spec in kind.properties() {
            let value = node.properties.get(spec.key);
            let stood_in = spec
                .unless
                .is_some_and(|other| node.properties.get(other).is_some_and(|v| !is_empty(v)));
            if spec.required && !stood_in && value.is_none_or(is_empty) {
                let message = match spec.unless {
                    Some(other) => format!("`{}` is required, unless `{other}` is set", spec.key),
                    None => format!("`{}` is required", spec.key),
                };
                self.error(Some(id), Some(spec.key), message);
            }
            let Some(value) = value else { continue };
            if spec.secret {
                self.check_secret(id, spec.key, value);
            }
            self.check_option(id, spec, value);
            let mut texts = Vec::new();
            strings(value, &mut texts);
            for text in texts {
                let refs = match find_references(text) {
                    Ok(refs) => refs,
                    Err(message) => {
                        self.error(Some(id), Some(spec.key), message);
                        continue;
                    }
                };
                for reference in &refs {
                    let Some(source_type) = self.resolve(Some(node), spec.key, reference) else {
                        continue;
                    };
                    let whole = reference.is_whole(text) && matches!(value, Value::String(_));
                    if whole && !source_type.flows_into(spec.value_type) {
                        self.error(
                            Some(id),
                            Some(spec.key),
                            format!(
                                "type mismatch: `{text}` is {source_type:?}, but `{}` takes {:?}",
                                spec.key, spec.value_type
                            ),
                        );
                    }
                }
            }
            if let Value::String(source) = value {
                match spec.editor {
                    Editor::Template => {
                        self.check_template(node, spec.key, template::check(source));
                    }
                    Editor::Expression => {
                        self.check_template(node, spec.key, template::check_expression(source));
                    }
                    _ => {}
                }
            }
        }
        crate::kinds::check(node, self.context, &mut self.found);
    }

    /// A select property's literal is one of its options (a reference is checked when it runs).
    pub(super) fn check_option(&mut self, id: &str, spec: &PropertySpec, value: &Value) {
        let Editor::Select { options } = spec.editor else {
            return;
        };
        let Value::String(text) = value else { return };
        let literal = find_references(text).is_ok_and(|refs| refs.is_empty());
        if literal && !text.is_empty() && !options.contains(&text.as_str()) {
            self.error(
                Some(id),
                Some(spec.key),
                format!(
                    "`{text}` is not a `{}` value; use one of {}",
                    spec.key,
                    options.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::validate::tests::{CHAT, errors};

    #[test]
    fn unknown_connections_and_missing_properties_name_the_node() {
        let yaml = CHAT
            .replace("connection: azure-ai", "connection: prod-ai")
            .replace("      deployment: gpt-4o-mini\n", "");
        assert_eq!(
            errors(&yaml),
            [
                "error: node chat, deployment: `deployment` is required",
                "error: node chat, connection: unknown connection `prod-ai`; create it in Connections or with `weft connection create`",
            ]
        );
    }

    #[test]
    fn an_unknown_property_names_the_ones_the_kind_has() {
        let yaml = "schema: 1\nnodes:\n  - { id: p, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi, colour: red } }\n";
        assert_eq!(
            errors(yaml),
            [
                "error: node p, colour: unknown property `colour`; a PromptTemplate node has template, variables, when"
            ]
        );
    }

    #[test]
    fn type_mismatches_on_edges_are_errors() {
        let yaml = r#"
schema: 1
nodes:
  - { id: embed, type: embeddings, position: { x: 0, y: 0 }, properties: { connection: azure-ai, deployment: e, input: hello } }
  - id: chat
    type: chat_completion
    position: { x: 0, y: 0 }
    properties: { connection: azure-ai, deployment: d, user_prompt: hi, temperature: "${embed.output}", dynamic_connection: "${embed.output}" }
"#;
        assert_eq!(
            errors(yaml),
            [
                "error: node chat, dynamic_connection: type mismatch: `${embed.output}` is List, but `dynamic_connection` takes Connection",
                "error: node chat, temperature: type mismatch: `${embed.output}` is List, but `temperature` takes Number",
            ]
        );
    }

    #[test]
    fn a_select_property_takes_one_of_its_options() {
        let yaml = r#"
schema: 1
nodes:
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: conn, value_type: dict } }
  - { id: connect, type: create_azure_ai_connection, position: { x: 0, y: 0 }, properties: { endpoint: "https://r.services.ai.azure.com", api_key: "${inputs.key}", api: v2, variable: conn } }
  - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: c, deployment: d, user_prompt: hi, response_format: xml } }
inputs:
  key: { type: string, secret: true }
"#;
        let found = errors(yaml);
        for expected in [
            "error: node declare, value_type: `dict` is not a `value_type` value; use one of string, number, bool, object, list",
            "error: node connect, api: `v2` is not a `api` value; use one of v1, model_inference",
            "error: node chat, response_format: `xml` is not a `response_format` value; use one of text, json_object, json_schema",
        ] {
            assert!(
                found.iter().any(|e| e == expected),
                "{expected}\n{found:#?}"
            );
        }
        let fixed = yaml
            .replace("value_type: dict", "value_type: object")
            .replace("api: v2", "api: model_inference")
            .replace(
                "response_format: xml",
                "response_format: \"${inputs.format}\"",
            )
            .replace("inputs:\n", "inputs:\n  format: { type: string }\n");
        assert!(
            !errors(&fixed).iter().any(|e| e.contains("is not a")),
            "{:#?}",
            errors(&fixed)
        );
    }
}
