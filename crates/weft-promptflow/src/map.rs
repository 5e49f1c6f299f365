//! The mapping itself: Prompt flow's nodes to Weft's kinds, one function per Prompt flow node
//! type, then a layout.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::LazyLock;

use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Map, Value, json};
use weft_flow::kinds::chat_completion::split_chat_template;
use weft_flow::{FlowDocument, FlowInput, FlowOutput, Node, NodeKind, Position, ValueType};

use crate::{ImportError, Imported, ReportEntry, Severity};

/// The llm tool's own parameters (promptflow-tools `AzureOpenAI.chat` / `OpenAI.chat`); every
/// other input of an llm node is a template variable.
const LLM_PARAMS: &[&str] = &[
    "deployment_name",
    "model",
    "temperature",
    "max_tokens",
    "stop",
    "response_format",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "functions",
    "function_call",
    "tools",
    "tool_choice",
    "seed",
    "n",
    "stream",
    "suffix",
    "echo",
    "best_of",
    "logprobs",
];

/// A node's variants: each variant id with the properties it maps to.
type Variants = Vec<(String, Map<String, Value>)>;

const COLUMN: f64 = 320.0;
const ROW: f64 = 200.0;

static REF_NODE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\.").ok());

/// A `*.eval.yaml` (weft-eval's format, docs/eval-format.md): the flow, its dataset and column
/// mapping, and one variant per Prompt flow node variant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalOut {
    pub name: String,
    pub description: String,
    pub flow: String,
    pub data: String,
    pub column_mapping: BTreeMap<String, String>,
    pub variants: Vec<EvalVariant>,
}

/// `node.property` → its value in this variant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalVariant {
    pub name: String,
    pub set: BTreeMap<String, Value>,
}

impl EvalOut {
    pub fn to_yaml(&self) -> String {
        let mut options = serde_saphyr::SerializerOptions::default();
        options.compact_list_indent = false;
        serde_saphyr::to_string_with_options(self, options).unwrap_or_default()
    }
}

pub(crate) struct Importer<'a> {
    dir: &'a Path,
    text: &'a str,
    name: &'a str,
    report: Vec<ReportEntry>,
    needs: Vec<(String, String)>,
}

impl<'a> Importer<'a> {
    pub(crate) fn new(dir: &'a Path, text: &'a str, name: &'a str) -> Self {
        Self {
            dir,
            text,
            name,
            report: Vec::new(),
            needs: Vec::new(),
        }
    }

    fn entry(&mut self, severity: Severity, node: &str, line: Option<usize>, message: String) {
        self.report.push(ReportEntry {
            severity,
            node: node.to_owned(),
            line,
            message,
        });
    }

    fn need(&mut self, name: &str, kind: &str) {
        if !self.needs.iter().any(|(n, _)| n == name) {
            self.needs.push((name.to_owned(), kind.to_owned()));
        }
    }

    /// The 1-based line of a node's `name: X` line.
    fn node_line(&self, name: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                let line = line.trim_start().trim_start_matches('-').trim_start();
                line.strip_prefix("name:")
                    .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == name)
            })
            .map(|i| i + 1)
    }

    /// The 1-based line of the first `key:` at any indent.
    fn key_line(&self, key: &str) -> Option<usize> {
        self.key_line_after(0, key)
    }

    /// The 1-based line of the first `key:` after line `after` (1-based; 0: from the top).
    fn key_line_after(&self, after: usize, key: &str) -> Option<usize> {
        self.text
            .lines()
            .enumerate()
            .skip(after)
            .find(|(_, line)| {
                line.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
            .map(|(i, _)| i + 1)
    }

    /// A top-level section's entries in file order with their lines (the parsed map is sorted).
    fn section<'v>(
        &self,
        section: &str,
        map: &'v Map<String, Value>,
    ) -> Vec<(&'v String, &'v Value, Option<usize>)> {
        let start = self
            .text
            .lines()
            .position(|l| l.starts_with(&format!("{section}:")))
            .map_or(0, |i| i + 1);
        let mut entries: Vec<_> = map
            .iter()
            .map(|(k, v)| (k, v, self.key_line_after(start, k)))
            .collect();
        entries.sort_by_key(|(_, _, line)| line.unwrap_or(usize::MAX));
        entries
    }

    pub(crate) fn import(mut self, flow: &Value) -> Result<Imported, ImportError> {
        let mut document = FlowDocument {
            schema: weft_flow::SCHEMA_VERSION,
            title: flow
                .get("display_name")
                .and_then(Value::as_str)
                .unwrap_or(self.name)
                .to_owned(),
            description: flow
                .get("description")
                .and_then(Value::as_str)
                .map(|d| d.to_owned())
                .unwrap_or_else(|| {
                    format!("Imported from Prompt flow ({}/flow.dag.yaml).", self.name)
                }),
            python: None,
            inputs: IndexMap::new(),
            outputs: IndexMap::new(),
            nodes: Vec::new(),
            notes: Vec::new(),
        };
        self.inputs(flow, &mut document);
        self.environment(flow);

        let empty = Vec::new();
        let pf_nodes = flow
            .get("nodes")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let evaluator = pf_nodes
            .iter()
            .any(|n| n.get("aggregation").and_then(Value::as_bool) == Some(true));
        let mut dropped = Vec::new();
        let mut nodes = Vec::new();
        let mut variant_sets: Vec<(String, Variants)> = Vec::new();
        for pf in pf_nodes {
            let name = pf
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("node")
                .to_owned();
            let line = self.node_line(&name);
            if pf.get("aggregation").and_then(Value::as_bool) == Some(true) {
                self.entry(
                    Severity::Unmapped,
                    &name,
                    line,
                    "an aggregation node: Weft aggregates an eval's rows itself (pass rate, \
                     metric means per variant), so it is left out; give the evaluator a `score` \
                     or `pass` output instead of log_metric"
                        .into(),
                );
                dropped.push(name);
                continue;
            }
            let body = if pf.get("use_variants").and_then(Value::as_bool) == Some(true) {
                match self.variants(flow, &name, line) {
                    Some((default, others)) => {
                        variant_sets.push((name.clone(), others));
                        default
                    }
                    None => continue,
                }
            } else {
                pf.clone()
            };
            match self.node(&name, line, &body) {
                Some(mut mapped) => {
                    if let Some(activate) = body.get("activate") {
                        let when = self.activate(&name, line, activate);
                        if let Some((condition, reference)) = when {
                            mapped
                                .properties
                                .insert("when".into(), Value::String(reference));
                            nodes.push(condition);
                        }
                    }
                    nodes.push(mapped);
                }
                None => dropped.push(name),
            }
        }
        self.outputs(flow, &dropped, &mut document);
        self.includes(flow);
        if evaluator {
            let has_verdict =
                document.outputs.contains_key("score") || document.outputs.contains_key("pass");
            self.entry(
                if has_verdict { Severity::Mapped } else { Severity::Approximated },
                "outputs",
                self.key_line("outputs"),
                format!(
                    "an evaluation flow: use it from an eval file as `type: flow, flow: {}.weft.yaml` \
                     with its inputs mapped as Prompt flow maps them (${{run.outputs.x}}, ${{data.x}}){}",
                    self.name,
                    if has_verdict { "" } else { "; Weft reads a `score` (number) or `pass` (boolean) output: rename the output that gives the verdict" }
                ),
            );
        }

        document.nodes = layout(nodes);
        let eval_file = self.eval_file(&document, variant_sets);
        Ok(Imported {
            name: self.name.to_owned(),
            document,
            eval_file,
            evaluator,
            report: self.report,
            connections_needed: self.needs,
        })
    }

    fn inputs(&mut self, flow: &Value, document: &mut FlowDocument) {
        let Some(inputs) = flow.get("inputs").and_then(Value::as_object) else {
            return;
        };
        for (name, spec, line) in self.section("inputs", inputs) {
            let pf_type = spec.get("type").and_then(Value::as_str).unwrap_or("string");
            let kind = match pf_type {
                "string" => ValueType::String,
                "int" | "double" => ValueType::Number,
                "bool" => ValueType::Bool,
                "list" => ValueType::List,
                "object" => ValueType::Object,
                other => {
                    self.entry(
                        Severity::Approximated,
                        name,
                        line,
                        format!("input type `{other}` has no Weft type; it takes any value"),
                    );
                    ValueType::Any
                }
            };
            let mut message = format!("input ({pf_type})");
            let mut severity = Severity::Mapped;
            if spec.get("is_chat_input").and_then(Value::as_bool) == Some(true) {
                severity = Severity::Approximated;
                message.push_str(", the chat input: Weft has no chat mode, so it is a plain input to fill in each run");
            }
            if spec.get("is_chat_history").and_then(Value::as_bool) == Some(true) {
                severity = Severity::Approximated;
                message.push_str(", the chat history: a list input ([] when absent) that Weft does not fill by itself; pass the earlier turns in Prompt flow's shape ({inputs, outputs})");
            }
            let default = spec.get("default").cloned().or_else(|| {
                (spec.get("is_chat_history").and_then(Value::as_bool) == Some(true))
                    .then(|| json!([]))
            });
            document.inputs.insert(
                name.clone(),
                FlowInput {
                    kind,
                    default,
                    secret: false,
                    description: spec
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                },
            );
            self.entry(severity, name, line, message);
        }
    }

    fn outputs(&mut self, flow: &Value, dropped: &[String], document: &mut FlowDocument) {
        let Some(outputs) = flow.get("outputs").and_then(Value::as_object) else {
            return;
        };
        for (name, spec, line) in self.section("outputs", outputs) {
            let reference = spec
                .get("reference")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(node) = referenced_nodes(reference)
                .into_iter()
                .find(|n| dropped.contains(n))
            {
                self.entry(
                    Severity::Unmapped,
                    name,
                    line,
                    format!("output of `{node}`, which was left out (above)"),
                );
                continue;
            }
            document.outputs.insert(
                name.clone(),
                FlowOutput {
                    value: reference.to_owned(),
                    description: spec
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                },
            );
            self.entry(Severity::Mapped, name, line, format!("output {reference}"));
        }
    }

    fn environment(&mut self, flow: &Value) {
        if let Some(vars) = flow.get("environment_variables").and_then(Value::as_object) {
            let names: Vec<_> = vars.keys().map(String::as_str).collect();
            // Only the names: a value may be a key or a connection's secret.
            self.entry(
                Severity::Approximated,
                "environment_variables",
                self.key_line("environment_variables"),
                format!(
                    "Weft flows set no environment variables ({}); set them in the shell that \
                     runs `weft` or the app, or pass the values as inputs",
                    names.join(", ")
                ),
            );
        }
        if flow.get("environment").is_some() {
            self.entry(
                Severity::Approximated,
                "environment",
                self.key_line("environment"),
                "the environment (image, python_requirements_txt) is not built by Weft: install \
                 the requirements in the interpreter the flow's Python nodes use (python.interpreter)"
                    .into(),
            );
        }
    }

    fn includes(&mut self, flow: &Value) {
        if let Some(includes) = flow.get("additional_includes").and_then(Value::as_array) {
            let paths: Vec<_> = includes.iter().filter_map(Value::as_str).collect();
            self.entry(
                Severity::Approximated,
                "additional_includes",
                self.key_line("additional_includes"),
                format!(
                    "referenced in place, not copied ({}): the flow is written beside \
                     flow.dag.yaml, so paths relative to it still resolve; keep the files there",
                    paths.join(", ")
                ),
            );
        }
    }

    /// `node_variants.<name>`: its default variant's node, and every variant's node by id.
    fn variants(
        &mut self,
        flow: &Value,
        name: &str,
        line: Option<usize>,
    ) -> Option<(Value, Variants)> {
        let spec = flow.get("node_variants").and_then(|v| v.get(name));
        let Some(spec) = spec else {
            self.entry(
                Severity::Unmapped,
                name,
                line,
                format!("`use_variants: true` but node_variants has no `{name}`; add it or remove use_variants"),
            );
            return None;
        };
        let default_id = spec
            .get("default_variant_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let variants = spec.get("variants").and_then(Value::as_object)?;
        let mut others = Vec::new();
        let mut default = None;
        for (id, variant) in variants {
            let Some(node) = variant.get("node") else {
                continue;
            };
            if id == default_id {
                default = Some(node.clone());
            }
            let mut quiet = Importer::new(self.dir, self.text, self.name);
            if let Some(mapped) = quiet.node(name, line, node) {
                others.push((id.clone(), mapped.properties.into_iter().collect()));
            }
            self.needs.extend(
                quiet
                    .needs
                    .into_iter()
                    .filter(|(n, _)| !self.needs.iter().any(|(m, _)| m == n))
                    .collect::<Vec<_>>(),
            );
        }
        let default = default.or_else(|| {
            variants
                .values()
                .next()
                .and_then(|v| v.get("node").cloned())
        })?;
        let ids: Vec<_> = others.iter().map(|(id, _)| id.as_str()).collect();
        self.entry(
            Severity::Mapped,
            name,
            self.key_line(default_id).or(line),
            format!(
                "node variants ({}): the flow has the default, {default_id}; the eval file has one variant each",
                ids.join(", ")
            ),
        );
        Some((default, others))
    }

    /// `activate: {when, is}` → a Condition node `<name>_active` whose true branch the node runs on.
    fn activate(
        &mut self,
        name: &str,
        line: Option<usize>,
        activate: &Value,
    ) -> Option<(Node, String)> {
        let when = activate.get("when").and_then(Value::as_str)?;
        let is = activate.get("is").cloned().unwrap_or(Value::Bool(true));
        let id = format!("{name}_active");
        self.entry(
            Severity::Mapped,
            name,
            line,
            format!(
                "activate (when {when} is {is}): runs on the true branch of Condition `{id}`; \
                 when it does not, the node and what depends on it are skipped, as Prompt flow bypasses them"
            ),
        );
        let mut properties = IndexMap::new();
        properties.insert("expression".into(), json!("value == expected"));
        properties.insert("variables".into(), json!({ "value": when, "expected": is }));
        Some((
            Node {
                id: id.clone(),
                kind: NodeKind::Condition,
                title: format!("Activate {name}?"),
                position: Position { x: 0.0, y: 0.0 },
                properties,
            },
            format!("${{{id}.true}}"),
        ))
    }

    fn node(&mut self, name: &str, line: Option<usize>, pf: &Value) -> Option<Node> {
        let pf_type = pf.get("type").and_then(Value::as_str).unwrap_or_default();
        let source = pf.get("source").cloned().unwrap_or(Value::Null);
        let inputs = pf
            .get("inputs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let (kind, properties) = match pf_type {
            "llm" => (
                NodeKind::ChatCompletion,
                self.llm(name, line, pf, &source, &inputs)?,
            ),
            "prompt" => (
                NodeKind::PromptTemplate,
                self.prompt(name, line, &source, &inputs)?,
            ),
            "python" if source.get("type").and_then(Value::as_str) == Some("package") => {
                self.package(name, line, &source, &inputs)?
            }
            "python" => (NodeKind::Python, self.python(name, line, &source, &inputs)?),
            other => {
                self.entry(
                    Severity::Unmapped,
                    name,
                    line,
                    format!("node type `{other}` has no Weft kind; rebuild it with a Python node"),
                );
                return None;
            }
        };
        Some(Node {
            id: name.to_owned(),
            kind,
            title: String::new(),
            position: Position { x: 0.0, y: 0.0 },
            properties,
        })
    }

    fn read_source(
        &mut self,
        name: &str,
        line: Option<usize>,
        source: &Value,
    ) -> Option<(String, String)> {
        let Some(path) = source.get("path").and_then(Value::as_str) else {
            self.entry(
                Severity::Unmapped,
                name,
                line,
                "the node has no source path".into(),
            );
            return None;
        };
        match std::fs::read_to_string(self.dir.join(path)) {
            Ok(text) => Some((path.to_owned(), text)),
            Err(err) => {
                self.entry(
                    Severity::Unmapped,
                    name,
                    line,
                    format!(
                        "cannot read its source {path} ({err}); put the file beside flow.dag.yaml"
                    ),
                );
                None
            }
        }
    }

    fn llm(
        &mut self,
        name: &str,
        line: Option<usize>,
        pf: &Value,
        source: &Value,
        inputs: &Map<String, Value>,
    ) -> Option<IndexMap<String, Value>> {
        let (path, template) = self.read_source(name, line, source)?;
        let mut props = IndexMap::new();
        if let Some(connection) = pf.get("connection").and_then(Value::as_str) {
            props.insert("connection".into(), json!(connection));
            let kind = match pf.get("provider").and_then(Value::as_str) {
                Some("OpenAI") => "open_ai",
                _ => "azure_open_ai",
            };
            self.need(connection, kind);
        }
        if let Some(deployment) = inputs
            .get("deployment_name")
            .or_else(|| inputs.get("model"))
        {
            props.insert("deployment".into(), deployment.clone());
        }
        let mut notes = Vec::new();
        let mut severity = Severity::Mapped;
        let api = pf.get("api").and_then(Value::as_str).unwrap_or("chat");
        if api != "chat" {
            severity = Severity::Unmapped;
            notes.push(format!(
                "`api: {api}` is not supported (Weft calls chat models): the whole template is the user prompt; check it with a chat deployment"
            ));
            props.insert("user_prompt".into(), json!(template.trim()));
        } else {
            let (prefix, blocks) = split_chat_template(&template);
            let roles: Vec<&str> = blocks.iter().map(|b| b.role.as_str()).collect();
            let simple = prefix.is_empty()
                && !template.contains("{%")
                && (roles == ["user"] || roles == ["system", "user"]);
            if simple {
                if let Some(system) = blocks.iter().find(|b| b.role == "system") {
                    props.insert("system_prompt".into(), json!(system.content));
                }
                let user = blocks.iter().find(|b| b.role == "user");
                props.insert(
                    "user_prompt".into(),
                    json!(user.map_or("", |b| b.content.as_str())),
                );
                notes.push(format!(
                    "{path}'s # system: / # user: blocks are the system and user prompts"
                ));
            } else {
                props.insert("chat_template".into(), json!(template.trim_end()));
                notes.push(format!(
                    "{path} is the chat template (roles: {}), rendered whole and split at its role lines as Prompt flow does",
                    roles.join(", ")
                ));
            }
        }
        for key in ["temperature", "max_tokens"] {
            if let Some(value) = inputs.get(key) {
                props.insert(key.into(), number(value));
            }
        }
        if let Some(stop) = inputs.get("stop").filter(|v| !v.is_null()) {
            let stop = match stop {
                Value::String(one) => json!([one]),
                other => other.clone(),
            };
            props.insert("stop".into(), stop);
        }
        if let Some(format) = inputs.get("response_format") {
            let kind = format
                .get("type")
                .and_then(Value::as_str)
                .or_else(|| format.as_str())
                .unwrap_or("text");
            props.insert("response_format".into(), json!(kind));
        }
        let mut variables = Map::new();
        let mut dropped = Vec::new();
        for (key, value) in inputs {
            if !LLM_PARAMS.contains(&key.as_str()) {
                variables.insert(key.clone(), value.clone());
            } else if ![
                "deployment_name",
                "model",
                "temperature",
                "max_tokens",
                "stop",
                "response_format",
            ]
            .contains(&key.as_str())
            {
                dropped.push(key.as_str());
            }
        }
        if !variables.is_empty() {
            props.insert("variables".into(), Value::Object(variables));
        }
        if !dropped.is_empty() {
            if severity == Severity::Mapped {
                severity = Severity::Approximated;
            }
            notes.push(format!(
                "left out: {} (Weft's chat completion has no such setting)",
                dropped.join(", ")
            ));
        }
        self.entry(
            severity,
            name,
            line,
            format!("llm → Chat completion: {}", notes.join("; ")),
        );
        Some(props)
    }

    fn prompt(
        &mut self,
        name: &str,
        line: Option<usize>,
        source: &Value,
        inputs: &Map<String, Value>,
    ) -> Option<IndexMap<String, Value>> {
        let (path, template) = self.read_source(name, line, source)?;
        let mut props = IndexMap::new();
        props.insert("template".into(), json!(template.trim_end()));
        if !inputs.is_empty() {
            props.insert("variables".into(), Value::Object(inputs.clone()));
        }
        self.entry(
            Severity::Mapped,
            name,
            line,
            format!("prompt → Prompt template ({path})"),
        );
        Some(props)
    }

    fn python(
        &mut self,
        name: &str,
        line: Option<usize>,
        source: &Value,
        inputs: &Map<String, Value>,
    ) -> Option<IndexMap<String, Value>> {
        let (path, code) = self.read_source(name, line, source)?;
        let connection_params = connection_params(&code);
        let mut values = Map::new();
        let mut connections = Map::new();
        for (key, value) in inputs {
            match connection_params.get(key.as_str()) {
                Some(class) if value.is_string() => {
                    let name = value.as_str().unwrap_or_default();
                    self.need(name, weft_connection_type(class));
                    connections.insert(key.clone(), value.clone());
                }
                _ => {
                    values.insert(key.clone(), value.clone());
                }
            }
        }
        let mut props = IndexMap::new();
        props.insert("source".into(), json!(path));
        if !values.is_empty() {
            props.insert("inputs".into(), Value::Object(values));
        }
        let with = if connections.is_empty() {
            String::new()
        } else {
            let names: Vec<_> = connections.keys().cloned().collect();
            props.insert("connections".into(), Value::Object(connections));
            format!(", connections {}", names.join(", "))
        };
        self.entry(
            Severity::Mapped,
            name,
            line,
            format!("python → Python ({path}{with})"),
        );
        Some(props)
    }

    /// promptflow-tools' built-in tools (`source: {type: package, tool: …}`).
    fn package(
        &mut self,
        name: &str,
        line: Option<usize>,
        source: &Value,
        inputs: &Map<String, Value>,
    ) -> Option<(NodeKind, IndexMap<String, Value>)> {
        let tool = source
            .get("tool")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // (Weft kind, its connection type, Prompt flow input → Weft property)
        let (kind, connection_type, keys, label): (NodeKind, &str, &[(&str, &str)], &str) =
            if tool.starts_with("promptflow.tools.embedding") {
                (
                    NodeKind::Embeddings,
                    "azure_open_ai",
                    &[("deployment_name", "deployment"), ("input", "input")],
                    "Embeddings",
                )
            } else if tool.starts_with("promptflow.tools.azure_content_safety") {
                (
                    NodeKind::ContentSafetyText,
                    "azure_content_safety",
                    &[
                        ("text", "text"),
                        ("hate_category", "hate_category"),
                        ("sexual_category", "sexual_category"),
                        ("self_harm_category", "self_harm_category"),
                        ("violence_category", "violence_category"),
                    ],
                    "Content safety",
                )
            } else if tool.starts_with("promptflow.tools.serpapi") {
                (
                    NodeKind::SerpSearch,
                    "serp",
                    &[
                        ("query", "query"),
                        ("engine", "engine"),
                        ("num", "num"),
                        ("location", "location"),
                        ("safe", "safe"),
                    ],
                    "Serp search",
                )
            } else if tool.contains("vector_db_lookup") || tool.contains("index_lookup") {
                (
                    NodeKind::AiSearch,
                    "cognitive_search",
                    &[
                        ("index_name", "index"),
                        ("vector", "vector"),
                        ("vector_field", "vector_field"),
                        ("top_k", "top_k"),
                        ("queries", "query"),
                        ("query", "query"),
                    ],
                    "AI Search",
                )
            } else {
                self.entry(
                    Severity::Unmapped,
                    name,
                    line,
                    format!(
                        "the package tool `{tool}` has no Weft kind; rebuild it with a Python node"
                    ),
                );
                return None;
            };
        let mut props = IndexMap::new();
        if let Some(connection) = inputs.get("connection").and_then(Value::as_str) {
            props.insert("connection".into(), json!(connection));
            self.need(connection, connection_type);
        }
        if kind == NodeKind::AiSearch {
            props.insert(
                "mode".into(),
                json!(if inputs.contains_key("vector") {
                    "vector"
                } else {
                    "hybrid"
                }),
            );
        }
        let mut left = Vec::new();
        for (key, value) in inputs {
            if key == "connection" {
                continue;
            }
            match keys.iter().find(|(pf, _)| pf == key) {
                Some((_, weft)) => {
                    let value = if *weft == "num" || *weft == "top_k" {
                        number(value)
                    } else {
                        value.clone()
                    };
                    props.insert((*weft).into(), value);
                }
                None => left.push(key.as_str()),
            }
        }
        let severity = if left.is_empty() && kind != NodeKind::AiSearch {
            Severity::Mapped
        } else {
            Severity::Approximated
        };
        let mut message = format!("{tool} → {label}");
        if kind == NodeKind::AiSearch {
            message.push_str(": an Azure AI Search index lookup; check the index, fields and mode");
        }
        if !left.is_empty() {
            message.push_str(&format!("; left out: {}", left.join(", ")));
        }
        self.entry(severity, name, line, message);
        Some((kind, props))
    }

    fn eval_file(
        &mut self,
        document: &FlowDocument,
        variant_sets: Vec<(String, Variants)>,
    ) -> Option<EvalOut> {
        if variant_sets.is_empty() {
            return None;
        }
        let defaults: HashMap<&str, &Node> =
            document.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut by_name: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let mut order = Vec::new();
        for (node, variants) in &variant_sets {
            let Some(default) = defaults.get(node.as_str()) else {
                continue;
            };
            for (id, props) in variants {
                let name = if variant_sets.len() == 1 {
                    id.clone()
                } else {
                    format!("{node}.{id}")
                };
                if !by_name.contains_key(&name) {
                    order.push(name.clone());
                }
                let set = by_name.entry(name).or_default();
                for (key, value) in props {
                    if key == "when" {
                        continue;
                    }
                    if default.properties.get(key) != Some(value) {
                        set.insert(format!("{node}.{key}"), value.clone());
                    }
                }
                for key in default.properties.keys() {
                    if key != "when" && !props.contains_key(key) {
                        set.insert(format!("{node}.{key}"), Value::Null);
                    }
                }
            }
        }
        let data = ["data.jsonl", "data.csv"]
            .into_iter()
            .find(|f| self.dir.join(f).is_file());
        if data.is_none() {
            self.entry(
                Severity::Approximated,
                "node_variants",
                self.key_line("node_variants"),
                "the eval file's dataset is data.jsonl, which the folder lacks: add one row per test case"
                    .into(),
            );
        }
        Some(EvalOut {
            name: format!("{} variants", self.name),
            description:
                "One variant per Prompt flow node variant, made by weft import promptflow.".into(),
            flow: format!("{}.weft.yaml", self.name),
            data: data.unwrap_or("data.jsonl").to_owned(),
            column_mapping: document
                .inputs
                .keys()
                .map(|k| (k.clone(), format!("${{data.{k}}}")))
                .collect(),
            variants: order
                .into_iter()
                .map(|name| EvalVariant {
                    set: by_name.remove(&name).unwrap_or_default(),
                    name,
                })
                .collect(),
        })
    }
}

/// A number given as text (`max_tokens: "256"`) as a number.
fn number(value: &Value) -> Value {
    match value.as_str().and_then(|s| s.trim().parse::<f64>().ok()) {
        Some(n) if n.fract() == 0.0 => json!(n as i64),
        Some(n) => json!(n),
        None => value.clone(),
    }
}

/// The nodes a `${node.…}` reference text names (not `inputs`).
fn referenced_nodes(text: &str) -> Vec<String> {
    REF_NODE
        .as_ref()
        .map(|re| {
            re.captures_iter(text)
                .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
                .filter(|n| n != "inputs")
                .collect()
        })
        .unwrap_or_default()
}

/// The `@tool` function's parameters annotated with a connection class (`conn: CustomConnection`).
fn connection_params(code: &str) -> HashMap<String, String> {
    static PARAM: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([A-Za-z_][A-Za-z0-9_]*Connection)\b").ok()
    });
    let mut found = HashMap::new();
    let Some(start) = code.find("@tool") else {
        return found;
    };
    let rest = &code[start..];
    let Some(def) = rest.find("def ") else {
        return found;
    };
    let signature = &rest[def..rest[def..].find("):").map_or(rest.len(), |e| def + e)];
    if let Some(re) = PARAM.as_ref() {
        for caps in re.captures_iter(signature) {
            if let (Some(p), Some(c)) = (caps.get(1), caps.get(2)) {
                found.insert(p.as_str().to_owned(), c.as_str().to_owned());
            }
        }
    }
    found
}

/// Prompt flow's connection class → Weft's connection type.
fn weft_connection_type(class: &str) -> &'static str {
    match class {
        "AzureOpenAIConnection" => "azure_open_ai",
        "OpenAIConnection" => "open_ai",
        "ServerlessConnection" => "serverless",
        "AzureAIServicesConnection" => "azure_ai",
        "CognitiveSearchConnection" => "cognitive_search",
        "SerpConnection" => "serp",
        "AzureContentSafetyConnection" => "azure_content_safety",
        _ => "custom",
    }
}

/// Left to right by dependency depth: a node one column right of the deepest node it reads.
fn layout(mut nodes: Vec<Node>) -> Vec<Node> {
    let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    let deps: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            let text = serde_json::to_string(&n.properties).unwrap_or_default();
            referenced_nodes(&text)
                .iter()
                .filter_map(|r| ids.iter().position(|id| id == r))
                .collect()
        })
        .collect();
    let mut depth = vec![0usize; nodes.len()];
    // Longest path by relaxation; a cycle stops after n rounds.
    for _ in 0..nodes.len() {
        let mut changed = false;
        for (i, ds) in deps.iter().enumerate() {
            let d = ds.iter().map(|&j| depth[j] + 1).max().unwrap_or(1).max(1);
            if d != depth[i] {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: HashMap<usize, usize> = HashMap::new();
    for (node, &d) in nodes.iter_mut().zip(&depth) {
        let row = rows.entry(d).or_default();
        node.position = Position {
            x: d as f64 * COLUMN,
            y: *row as f64 * ROW,
        };
        *row += 1;
    }
    let last = depth.iter().copied().max().unwrap_or(0) + 1;
    let tallest = rows.values().copied().max().unwrap_or(1);
    let middle = (tallest.saturating_sub(1)) as f64 * ROW / 2.0;
    let mut all = vec![port("inputs", NodeKind::Inputs, 0.0, middle)];
    all.append(&mut nodes);
    all.push(port(
        "outputs",
        NodeKind::Outputs,
        last as f64 * COLUMN,
        middle,
    ));
    all
}

fn port(id: &str, kind: NodeKind, x: f64, y: f64) -> Node {
    Node {
        id: id.into(),
        kind,
        title: String::new(),
        position: Position { x, y },
        properties: IndexMap::new(),
    }
}
