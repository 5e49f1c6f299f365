//! Which values of a flow are secrets whatever their source: the values that reach a secret
//! property (a Create Azure AI connection's `api_key`) through references, followed back through
//! the variables that carry them. The engine masks each of them before it reports anything of the
//! node that produced it, so the key never shows even when it comes from a plain input, a
//! variable or an upstream node's output.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::document::FlowDocument;
use crate::reference::{Reference, Source, find_references};

fn references_in(value: &Value, out: &mut Vec<Reference>) {
    match value {
        Value::String(text) => out.extend(find_references(text).unwrap_or_default()),
        Value::Array(items) => items.iter().for_each(|item| references_in(item, out)),
        Value::Object(map) => map.values().for_each(|item| references_in(item, out)),
        _ => {}
    }
}

/// Every reference whose value is a secret, in no particular order.
pub fn secret_references(doc: &FlowDocument) -> Vec<Reference> {
    let mut found = Vec::new();
    for node in &doc.nodes {
        for spec in node.kind.properties().iter().filter(|spec| spec.secret) {
            if let Some(value) = node.properties.get(spec.key) {
                references_in(value, &mut found);
            }
        }
    }
    // A variable that carries a secret makes its writers' outputs and what they write secret too.
    let mut followed = BTreeSet::new();
    while let Some(var) = found.iter().find_map(|r| match &r.source {
        Source::Var(name) if !followed.contains(name) => Some(name.clone()),
        _ => None,
    }) {
        followed.insert(var.clone());
        for node in &doc.nodes {
            let Some(name_key) = node.kind.writes_variable() else {
                continue;
            };
            let writes = node
                .properties
                .get(name_key)
                .and_then(Value::as_str)
                .is_some_and(|name| name.trim() == var);
            if !writes {
                continue;
            }
            found.push(Reference {
                source: Source::Node {
                    id: node.id.clone(),
                    port: "output".into(),
                },
                path: Vec::new(),
                span: 0..0,
            });
            for (key, value) in &node.properties {
                if key != name_key {
                    references_in(value, &mut found);
                }
            }
        }
    }
    found
}

/// The inputs whose value is a secret: marked `secret`, or feeding a secret property.
pub fn secret_inputs(doc: &FlowDocument) -> BTreeSet<String> {
    secret_inputs_of(doc, &secret_references(doc))
}

/// `secret_inputs`, given the flow's `secret_references`.
pub(crate) fn secret_inputs_of(doc: &FlowDocument, references: &[Reference]) -> BTreeSet<String> {
    let mut secret: BTreeSet<String> = doc
        .inputs
        .iter()
        .filter(|(_, spec)| spec.secret)
        .map(|(name, _)| name.clone())
        .collect();
    secret.extend(
        references
            .iter()
            .filter_map(|reference| match &reference.source {
                Source::Input(name) => Some(name.clone()),
                _ => None,
            }),
    );
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(yaml: &str) -> Vec<String> {
        let doc = FlowDocument::parse(yaml).unwrap();
        let mut out: Vec<String> = secret_references(&doc)
            .into_iter()
            .map(|r| {
                let base = match r.source {
                    Source::Input(name) => format!("inputs.{name}"),
                    Source::Var(name) => format!("vars.{name}"),
                    Source::Node { id, port } => format!("{id}.{port}"),
                    Source::Connection { section, key } => {
                        format!("connection.{}.{key}", section.as_str())
                    }
                };
                std::iter::once(base)
                    .chain(r.path)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn keys_are_followed_back_through_variables() {
        let yaml = r#"
schema: 1
inputs:
  creds: { type: object, secret: true }
  q: { type: string }
nodes:
  - { id: lookup, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ q }}", variables: { q: "${inputs.q}" } } }
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: key, value_type: string, initial: "${lookup.output}" } }
  - { id: conn, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: conn, value_type: object } }
  - { id: a, type: create_azure_ai_connection, position: { x: 0, y: 0 }, properties: { endpoint: e, api_key: "${vars.key}", variable: conn } }
  - { id: b, type: create_azure_ai_connection, position: { x: 0, y: 0 }, properties: { endpoint: e, api_key: "${inputs.creds.api_key}", variable: conn } }
"#;
        assert_eq!(
            sources(yaml),
            [
                "declare.output",
                "inputs.creds.api_key",
                "lookup.output",
                "vars.key"
            ]
        );
        let doc = FlowDocument::parse(yaml).unwrap();
        assert_eq!(
            secret_inputs(&doc).into_iter().collect::<Vec<_>>(),
            ["creds"]
        );
    }
}
