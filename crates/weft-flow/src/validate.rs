use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use crate::document::{FlowDocument, Node, SCHEMA_VERSION};
use crate::graph::{Graph, written_variable};
use crate::kind::{Editor, NodeKind, PropertySpec, ValueType};
use crate::reference::{Reference, Source, find_references};
use crate::taint::secret_inputs;
use crate::template;

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
    /// Names of the saved connections (compared ignoring case).
    pub connections: Vec<String>,
    /// Undefined template variables are errors instead of warnings.
    pub strict: bool,
}

struct Checker<'a> {
    doc: &'a FlowDocument,
    context: &'a Context,
    found: Vec<Diagnostic>,
    graph: Graph,
}

/// Checks a flow before anything runs. Errors block a run; warnings do not.
pub fn validate(doc: &FlowDocument, context: &Context) -> Vec<Diagnostic> {
    let mut checker = Checker::new(doc, context);
    checker.run();
    checker.found
}

/// The flow's edges, as the scheduler needs them: each node id with the ids it waits for
/// (references, variable order). Meaningful for a flow that validates.
pub fn dependencies(doc: &FlowDocument) -> BTreeMap<String, BTreeSet<String>> {
    Graph::new(doc).edges().clone()
}

fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

impl<'a> Checker<'a> {
    fn new(doc: &'a FlowDocument, context: &'a Context) -> Self {
        Self {
            doc,
            context,
            found: Vec::new(),
            graph: Graph::new(doc),
        }
    }

    fn report(
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

    fn error(&mut self, node: Option<&str>, property: Option<&str>, message: String) {
        self.report(Severity::Error, node, property, message);
    }

    fn node(&self, id: &str) -> Option<&'a Node> {
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
        self.check_cycles();
        self.check_variable_order();
        self.check_secret_inputs();
    }

    /// A variable's name is text, declared once, and declared before anything sets it.
    fn check_variables(&mut self) {
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

    fn check_ids(&mut self) {
        let mut seen = BTreeSet::new();
        for node in &self.doc.nodes {
            let id = node.id.as_str();
            let pinned = match node.kind {
                NodeKind::Inputs => Some("inputs"),
                NodeKind::Outputs => Some("outputs"),
                _ => None,
            };
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
                        "the {:?} node's id must be `{}`",
                        node.kind,
                        pinned.unwrap_or_default()
                    ),
                );
            } else if pinned.is_none() && matches!(id, "inputs" | "outputs" | "vars") {
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

    fn check_node(&mut self, node: &'a Node) {
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
            if spec.required && value.is_none_or(is_empty) {
                self.error(
                    Some(id),
                    Some(spec.key),
                    format!("`{}` is required", spec.key),
                );
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
    fn check_option(&mut self, id: &str, spec: &PropertySpec, value: &Value) {
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

    /// A secret property must come whole from a reference: a literal would be saved in the flow
    /// file.
    fn check_secret(&mut self, id: &str, key: &str, value: &Value) {
        let whole = match value {
            Value::String(text) => match find_references(text) {
                Ok(refs) => refs.len() == 1 && refs[0].is_whole(text),
                Err(_) => return, // reported with the property's references
            },
            _ if is_empty(value) => return, // reported as missing
            _ => false,
        };
        if !whole {
            self.error(
                Some(id),
                Some(key),
                format!(
                    "a key in the flow file would be saved with it; give `{key}` from a secret input or a variable, such as ${{inputs.{key}}}"
                ),
            );
        }
    }

    /// A plain input that carries a key, directly or through variables: masked all the same,
    /// but it should say what it is.
    fn check_secret_inputs(&mut self) {
        for name in secret_inputs(self.doc) {
            if self
                .doc
                .inputs
                .get(&name)
                .is_some_and(|input| !input.secret)
            {
                self.report(
                    Severity::Warning,
                    None,
                    Some(&format!("inputs.{name}")),
                    format!(
                        "`{name}` feeds a dynamic connection's key but is not marked secret: Weft masks it in run history, but mark it secret so it is never kept or shown"
                    ),
                );
            }
        }
    }

    /// The type a reference yields, after checking it points at something; records the edge.
    fn resolve(
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

    fn check_template(
        &mut self,
        node: &Node,
        key: &str,
        parsed: Result<BTreeSet<String>, template::TemplateError>,
    ) {
        match parsed {
            Err(err) => self.error(
                Some(&node.id),
                Some(key),
                format!(
                    "template line {}, column {}: {}",
                    err.line, err.column, err.message
                ),
            ),
            Ok(used) => {
                let declared: BTreeSet<&str> = match node.properties.get("variables") {
                    Some(Value::Object(map)) => map.keys().map(String::as_str).collect(),
                    _ => BTreeSet::new(),
                };
                for name in used.iter().filter(|name| !declared.contains(name.as_str())) {
                    let severity = if self.context.strict {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    self.report(
                        severity,
                        Some(&node.id),
                        Some(key),
                        format!("`{name}` is used but not in `variables`; add it there (e.g. {name}: ${{inputs.{name}}})"),
                    );
                }
            }
        }
    }

    fn check_cycles(&mut self) {
        if let Some(path) = self.graph.cycle() {
            let message = format!("a cycle: {}", path.join(" → "));
            let at = path[0].to_owned();
            self.error(Some(&at), None, message);
        }
    }

    /// Two unordered writers of one variable would race.
    fn check_variable_order(&mut self) {
        let mut races = Vec::new();
        for (name, writers) in self.graph.setters() {
            for (i, a) in writers.iter().enumerate() {
                for b in &writers[i + 1..] {
                    if !self.graph.reaches(a, b) && !self.graph.reaches(b, a) {
                        races.push((name.clone(), a.clone(), b.clone()));
                    }
                }
            }
        }
        for (name, a, b) in races {
            self.error(
                Some(&b),
                None,
                format!("`{a}` and `{b}` both set `vars.{name}` and neither runs after the other, so the value would depend on timing; make one read the other's output"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Vec<Diagnostic> {
        let doc = FlowDocument::parse(yaml).unwrap();
        validate(
            &doc,
            &Context {
                connections: vec!["azure-ai".into()],
                strict: false,
            },
        )
    }

    fn errors(yaml: &str) -> Vec<String> {
        check(yaml)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect()
    }

    const CHAT: &str = r#"
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

    #[test]
    fn cycles_are_reported_with_their_path() {
        let yaml = r#"
schema: 1
nodes:
  - { id: a, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${b.output}" } } }
  - { id: b, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${a.output}" } } }
"#;
        let found = errors(yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0] == "error: node a: a cycle: a → b → a"
                || found[0] == "error: node b: a cycle: b → a → b",
            "{found:?}"
        );
    }

    #[test]
    fn template_errors_have_positions_and_unknown_variables_warn() {
        let broken = CHAT.replace("\"{{ question }}\"", "\"Q:\\n{{ question }\"");
        let found = errors(&broken);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("error: node chat, user_prompt: template line 2, column "),
            "{found:?}"
        );

        let unknown = CHAT.replace("\"{{ question }}\"", "\"{{ question }} {{ context }}\"");
        let found = check(&unknown);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .contains("`context` is used but not in `variables`"),
            "{}",
            found[0]
        );

        let doc = FlowDocument::parse(&unknown).unwrap();
        let strict = validate(
            &doc,
            &Context {
                connections: vec!["azure-ai".into()],
                strict: true,
            },
        );
        assert_eq!(strict[0].severity, Severity::Error);
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
    fn a_dynamic_key_must_come_from_a_reference_and_plain_inputs_warn() {
        let flow = |api_key: &str| {
            format!(
                r#"
schema: 1
inputs:
  key: {{ type: string, secret: true }}
  plain: {{ type: string }}
nodes:
  - {{ id: declare, type: declare_variable, position: {{ x: 0, y: 0 }}, properties: {{ name: conn, value_type: object }} }}
  - {{ id: k, type: declare_variable, position: {{ x: 0, y: 0 }}, properties: {{ name: k, value_type: string }} }}
  - {{ id: connect, type: create_azure_ai_connection, position: {{ x: 0, y: 0 }}, properties: {{ endpoint: "https://r.openai.azure.com/openai/v1", api_key: {api_key}, variable: conn }} }}
"#
            )
        };
        let literal = "a key in the flow file would be saved with it; give `api_key` from a secret input or a variable, such as ${inputs.api_key}";
        for api_key in ["sk-literal-0001", "\"sk-${inputs.key}\"", "12345"] {
            assert_eq!(
                errors(&flow(api_key)),
                [format!("error: node connect, api_key: {literal}")],
                "{api_key}"
            );
        }
        assert_eq!(check(&flow("\"${inputs.key}\"")), []);
        assert_eq!(check(&flow("\"${vars.k}\"")), []);
        let warning = "warning: inputs.plain: `plain` feeds a dynamic connection's key but is not marked secret: Weft masks it in run history, but mark it secret so it is never kept or shown";
        let shown = |yaml: &str| {
            check(yaml)
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&flow("\"${inputs.plain}\"")), [warning]);
        // Through a variable, too.
        let through = flow("\"${vars.k}\"").replace(
            "value_type: string }",
            "value_type: string, initial: \"${inputs.plain}\" }",
        );
        assert_eq!(shown(&through), [warning]);
    }

    #[test]
    fn unordered_writers_of_a_variable_race() {
        let yaml = r#"
schema: 1
nodes:
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: count, value_type: number } }
  - { id: one, type: set_variable, position: { x: 0, y: 0 }, properties: { name: count, value: 1 } }
  - { id: two, type: set_variable, position: { x: 0, y: 0 }, properties: { name: count, value: 2 } }
"#;
        assert_eq!(
            errors(yaml),
            [
                "error: node two: `one` and `two` both set `vars.count` and neither runs after the other, so the value would depend on timing; make one read the other's output"
            ]
        );
        // YAML 1.1 reads a bare `n` as false; a variable name that is not text is reported.
        let boolean = yaml.replace("name: count, value: 1", "name: n, value: 1");
        assert!(
            errors(&boolean)
                .iter()
                .any(|e| e == "error: node one, name: `name` must be text; write it in quotes"),
            "{:?}",
            errors(&boolean)
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

    #[test]
    fn ids_properties_and_versions_are_checked() {
        let yaml = r#"
schema: 1
nodes:
  - { id: "9lives", type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi } }
  - { id: vars, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: hi, colour: red } }
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
                .any(|e| e.contains("unknown property `colour`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("node x: the Outputs node's id must be `outputs`")),
            "{found:?}"
        );

        let newer = errors("schema: 2\n");
        assert_eq!(
            newer,
            [
                "error: schema: this flow uses format version 2; this Weft reads version 1: update Weft to open it"
            ]
        );
    }
}
