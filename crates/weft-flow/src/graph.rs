//! The flow's graph: which node waits for which. Edges come from `${node.port}` references (a
//! reader waits for its source) and from variables (a setter waits for the declaration; a reader
//! of `${vars.x}` waits for the declaration and every setter of `x`). Built once from a document;
//! the validator checks it for cycles and races, the engine schedules by it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::document::{FlowDocument, Node};
use crate::kind::NodeKind;
use crate::reference::{Source, find_references};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Graph {
    /// Every node id, with the ids it waits for.
    edges: BTreeMap<String, BTreeSet<String>>,
    /// Variable -> the Declare variable node that declares it (the first, when two do).
    declarations: BTreeMap<String, String>,
    /// Variable -> the other nodes that write it, in file order.
    setters: BTreeMap<String, Vec<String>>,
}

/// The variable a node writes, when it names one as text.
pub(crate) fn written_variable(node: &Node) -> Option<&str> {
    let key = node.kind.writes_variable()?;
    let name = node.properties.get(key)?.as_str()?.trim();
    (!name.is_empty()).then_some(name)
}

fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

static NONE: BTreeSet<String> = BTreeSet::new();

impl Graph {
    pub fn new(doc: &FlowDocument) -> Self {
        let mut graph = Self::default();
        for node in &doc.nodes {
            graph.edges.entry(node.id.clone()).or_default();
            let Some(name) = written_variable(node) else {
                continue;
            };
            if node.kind == NodeKind::DeclareVariable {
                graph
                    .declarations
                    .entry(name.to_owned())
                    .or_insert_with(|| node.id.clone());
            } else {
                graph
                    .setters
                    .entry(name.to_owned())
                    .or_default()
                    .push(node.id.clone());
            }
        }
        let ordered: Vec<(String, String)> = graph
            .setters
            .iter()
            .filter_map(|(name, setters)| Some((setters, graph.declarations.get(name)?)))
            .flat_map(|(setters, declaration)| {
                setters.iter().map(|s| (s.clone(), declaration.clone()))
            })
            .collect();
        for (setter, declaration) in ordered {
            graph.edge(&setter, &declaration);
        }
        let ids: BTreeSet<&str> = doc.nodes.iter().map(|n| n.id.as_str()).collect();
        for node in &doc.nodes {
            let mut texts = Vec::new();
            node.properties
                .values()
                .for_each(|v| strings(v, &mut texts));
            // A malformed reference is the validator's to report; it makes no edge.
            let references = texts
                .into_iter()
                .flat_map(|text| find_references(text).unwrap_or_default());
            for reference in references {
                match reference.source {
                    // A node's own connection is no other node.
                    Source::Input(_) | Source::Connection { .. } => {}
                    Source::Node { id, .. } => {
                        if id != node.id && ids.contains(id.as_str()) {
                            graph.edge(&node.id, &id);
                        }
                    }
                    Source::Var(name) => {
                        let Some(declaration) = graph.declarations.get(&name).cloned() else {
                            continue;
                        };
                        let setters = graph.setters.get(&name).cloned().unwrap_or_default();
                        for writer in std::iter::once(declaration).chain(setters) {
                            if writer != node.id {
                                graph.edge(&node.id, &writer);
                            }
                        }
                    }
                }
            }
        }
        graph
    }

    fn edge(&mut self, from: &str, to: &str) {
        self.edges
            .entry(from.to_owned())
            .or_default()
            .insert(to.to_owned());
    }

    /// Every node id with the ids it waits for.
    pub fn edges(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.edges
    }

    /// The ids `node` waits for (none for an unknown id).
    pub fn dependencies(&self, node: &str) -> &BTreeSet<String> {
        self.edges.get(node).unwrap_or(&NONE)
    }

    /// The Declare variable node of `variable`.
    pub fn declaration(&self, variable: &str) -> Option<&str> {
        self.declarations.get(variable).map(String::as_str)
    }

    /// Each variable with the nodes, other than its declaration, that write it.
    pub fn setters(&self) -> &BTreeMap<String, Vec<String>> {
        &self.setters
    }

    /// Whether `from` waits, directly or through others, for `to` (or is it).
    pub fn reaches(&self, from: &str, to: &str) -> bool {
        let mut stack = vec![from];
        let mut seen = BTreeSet::new();
        while let Some(node) = stack.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node) {
                stack.extend(self.dependencies(node).iter().map(String::as_str));
            }
        }
        false
    }

    /// `start` and every node that waits for it, directly or through others: what a run from
    /// `start` runs again.
    pub fn downstream(&self, start: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::from([start.to_owned()]);
        loop {
            let more: Vec<String> = self
                .edges
                .iter()
                .filter(|(id, on)| !found.contains(*id) && on.iter().any(|d| found.contains(d)))
                .map(|(id, _)| id.clone())
                .collect();
            if more.is_empty() {
                return found;
            }
            found.extend(more);
        }
    }

    /// A cycle, when there is one: its path in data order, first node repeated at the end
    /// (`a → b → a`: b reads a, a reads b).
    pub fn cycle(&self) -> Option<Vec<&str>> {
        // Depth-first search; a node met again while on the stack closes a cycle.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        let deps = |node: &str| -> Vec<&str> {
            self.dependencies(node).iter().map(String::as_str).collect()
        };
        let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
        for start in self.edges.keys().map(String::as_str) {
            if marks.contains_key(start) {
                continue;
            }
            let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, deps(start))];
            marks.insert(start, Mark::Open);
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    Some(next) => match marks.get(next) {
                        Some(Mark::Open) => {
                            let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            // Edges point from reader to source; the path reads in data order.
                            let mut path: Vec<&str> =
                                stack[from..].iter().map(|(n, _)| *n).collect();
                            path.push(next);
                            path.reverse();
                            return Some(path);
                        }
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(next, Mark::Open);
                            stack.push((next, deps(next)));
                        }
                    },
                    None => {
                        marks.insert(node, Mark::Done);
                        stack.pop();
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(yaml: &str) -> Graph {
        Graph::new(&FlowDocument::parse(yaml).unwrap())
    }

    const CONNECTED: &str = r#"
schema: 1
nodes:
  - { id: declare, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: conn, value_type: object } }
  - { id: connect, type: create_azure_ai_connection, position: { x: 0, y: 0 }, properties: { endpoint: e, api_key: k, variable: conn } }
  - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { dynamic_connection: "${vars.conn}", deployment: d, user_prompt: hi } }
  - { id: tail, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ a }}", variables: { a: "${chat.output}" } } }
  - { id: alone, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ a }}", variables: { a: "${inputs.q}" } } }
"#;

    #[test]
    fn edges_come_from_references_and_variable_order() {
        let graph = graph(CONNECTED);
        let of = |id: &str| graph.dependencies(id).iter().cloned().collect::<Vec<_>>();
        assert!(of("declare").is_empty());
        assert_eq!(of("connect"), ["declare"]);
        assert_eq!(of("chat"), ["connect", "declare"]);
        assert_eq!(of("tail"), ["chat"]);
        assert!(of("alone").is_empty());
        assert!(of("nowhere").is_empty());
        assert_eq!(graph.edges().len(), 5);
        assert_eq!(graph.declaration("conn"), Some("declare"));
        assert_eq!(graph.setters()["conn"], ["connect"]);
    }

    #[test]
    fn reachability_follows_edges_transitively_and_downstream_inverts_it() {
        let graph = graph(CONNECTED);
        assert!(graph.reaches("tail", "declare"));
        assert!(graph.reaches("chat", "chat"));
        assert!(!graph.reaches("declare", "tail"));
        assert!(!graph.reaches("alone", "declare"));
        assert_eq!(
            graph.downstream("connect").into_iter().collect::<Vec<_>>(),
            ["chat", "connect", "tail"]
        );
        assert_eq!(graph.cycle(), None);
    }

    #[test]
    fn a_cycle_is_found_with_its_path_in_data_order() {
        let graph = graph(
            r#"
schema: 1
nodes:
  - { id: a, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${c.output}" } } }
  - { id: b, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${a.output}" } } }
  - { id: c, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${b.output}" } } }
  - { id: d, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ x }}", variables: { x: "${d.output}" } } }
"#,
        );
        // A node reading itself is the validator's error, not a cycle.
        assert!(graph.dependencies("d").is_empty());
        assert_eq!(graph.cycle(), Some(vec!["a", "b", "c", "a"]));
    }
}
