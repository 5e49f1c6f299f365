//! Python: the user's own `@tool` function (Prompt flow's Python tool), run by weft-engine in a
//! child interpreter. `source` is the `.py` file relative to the flow file, `function` the
//! `@tool` function's name (default: the file's one `@tool` function), `inputs` its keyword
//! arguments and `connections` the saved connections it is given as connection objects.
//!
//! Prompt flow's own node (`type: python`, `source: {type: code, path: x.py}`, `inputs:`) is
//! described in its docs/reference/flow-yaml-schema-reference.md (microsoft/promptflow); the
//! importer maps it onto these properties.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::common::{WHEN, out, prop};
use super::props::{Evaluated, PropsError};
use crate::document::{FlowDocument, Node};
use crate::kind::{Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType};
use crate::reference::find_references;
use crate::validate::{Context, Diagnostic};

pub const SOURCE: PropertySpec = prop(
    "source",
    "Source file",
    ValueType::String,
    true,
    Editor::Text,
    "The .py file, relative to the flow file, such as tools/classify.py.",
);
pub const FUNCTION: PropertySpec = prop(
    "function",
    "Function",
    ValueType::String,
    false,
    Editor::Text,
    "The @tool function to call; empty: the file's one @tool function.",
);
pub const INPUTS: PropertySpec = prop(
    "inputs",
    "Inputs",
    ValueType::Object,
    false,
    Editor::Map,
    "The function's parameters mapped to values or references, such as text: ${inputs.question}.",
);
pub const CONNECTIONS: PropertySpec = prop(
    "connections",
    "Connections",
    ValueType::Object,
    false,
    Editor::Map,
    "Parameters mapped to saved connection names; the function gets a connection object there.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Python,
    title: "Python",
    group: NodeGroup::Logic,
    role: NodeRole::Runnable,
    id_stem: "python",
    icon: "λ",
    description: "Calls a @tool function of your own Python file; its JSON result is the output.",
    properties: &[SOURCE, FUNCTION, INPUTS, CONNECTIONS, WHEN],
    outputs: &[out("output", ValueType::Any)],
    summary: &[SOURCE.key, FUNCTION.key],
    writes_variable: None,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// As written: relative to the flow file (or absolute).
    pub source: String,
    pub function: Option<String>,
    /// Keyword arguments, in the order written.
    pub inputs: Map<String, Value>,
    /// Parameter name → saved connection name, in the order written.
    pub connections: IndexMap<String, String>,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        let connections: Option<Map<String, Value>> = props.optional(&CONNECTIONS)?;
        let mut bound = IndexMap::new();
        for (parameter, name) in connections.unwrap_or_default() {
            match name {
                Value::String(name) if !name.trim().is_empty() => {
                    bound.insert(parameter, name.trim().to_owned());
                }
                other => {
                    return Err(PropsError::Invalid {
                        key: CONNECTIONS.key,
                        problem: format!(
                            "`{parameter}` is {other}, not the name of a saved connection"
                        ),
                    });
                }
            }
        }
        Ok(Self {
            source: props.required(&SOURCE)?,
            function: props.optional(&FUNCTION)?,
            inputs: props.optional(&INPUTS)?.unwrap_or_default(),
            connections: bound,
        })
    }
}

/// Each connection the node binds is a saved connection (any type: the function gets its
/// settings). A parameter given both a value and a connection is an error.
pub(crate) fn check(node: &Node, context: &Context, found: &mut Vec<Diagnostic>) {
    let Some(Value::Object(connections)) = node.properties.get(CONNECTIONS.key) else {
        return;
    };
    let inputs = node.properties.get(INPUTS.key).and_then(Value::as_object);
    for (parameter, name) in connections {
        let Value::String(name) = name else {
            found.push(Diagnostic::error(
                Some(&node.id),
                Some(CONNECTIONS.key),
                format!("`{parameter}` needs the name of a saved connection"),
            ));
            continue;
        };
        if inputs.is_some_and(|inputs| inputs.contains_key(parameter)) {
            found.push(Diagnostic::error(
                Some(&node.id),
                Some(CONNECTIONS.key),
                format!("`{parameter}` is given both an input and a connection; keep one"),
            ));
        }
        let literal = find_references(name).is_ok_and(|refs| refs.is_empty());
        if literal && context.connection(name).is_none() {
            found.push(Diagnostic::error(
                Some(&node.id),
                Some(CONNECTIONS.key),
                format!(
                    "`{parameter}`: unknown connection `{}`; create it in Connections or with `weft connection create`",
                    name.trim()
                ),
            ));
        }
    }
}

/// The checks that need the flow's folder (validation has none): each Python node's `source`
/// exists, and has the `@tool` function it calls (exactly one when `function` is empty).
/// The file is read, never run.
pub fn check_sources(doc: &FlowDocument, flow_dir: &Path) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for node in doc.nodes.iter().filter(|n| n.kind == NodeKind::Python) {
        let Some(Value::String(source)) = node.properties.get(SOURCE.key) else {
            continue;
        };
        let source = source.trim();
        if source.is_empty() || !find_references(source).is_ok_and(|refs| refs.is_empty()) {
            continue;
        }
        let path = flow_dir.join(source);
        let error = |message: String| Diagnostic::error(Some(&node.id), Some(SOURCE.key), message);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                found.push(error(format!(
                    "cannot read `{}` ({err}); `source` is relative to the flow file's folder",
                    path.display()
                )));
                continue;
            }
        };
        let tools = tool_functions(&text);
        let function = node
            .properties
            .get(FUNCTION.key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|f| !f.is_empty());
        match (function, tools.as_slice()) {
            (Some(function), _) if tools.iter().any(|t| t == function) => {}
            (Some(function), _) => found.push(Diagnostic::error(
                Some(&node.id),
                Some(FUNCTION.key),
                format!(
                    "`{source}` has no @tool function `{function}`{}",
                    listed(&tools)
                ),
            )),
            (None, [_]) => {}
            (None, []) => found.push(error(format!(
                "`{source}` has no function decorated with @tool; add `from promptflow.core import tool` and `@tool` above the function to call"
            ))),
            (None, _) => found.push(Diagnostic::error(
                Some(&node.id),
                Some(FUNCTION.key),
                format!(
                    "`{source}` has {} @tool functions ({}); name the one to call in `function`",
                    tools.len(),
                    tools.join(", ")
                ),
            )),
        }
    }
    found
}

fn listed(tools: &[String]) -> String {
    if tools.is_empty() {
        String::new()
    } else {
        format!("; it has {}", tools.join(", "))
    }
}

/// The names of the top-level functions decorated with `@tool` (or `@x.tool`, `@tool(...)`).
pub fn tool_functions(text: &str) -> Vec<String> {
    let mut tools = Vec::new();
    let mut decorated = false;
    for line in text.lines() {
        if let Some(decorator) = line.strip_prefix('@') {
            let name = decorator
                .split(|c: char| c == '(' || c.is_whitespace() || c == '#')
                .next()
                .unwrap_or_default();
            decorated |= name == "tool" || name.ends_with(".tool");
            continue;
        }
        let def = line
            .strip_prefix("async def ")
            .or_else(|| line.strip_prefix("def "));
        if let Some(rest) = def {
            if decorated {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                tools.push(name);
            }
            decorated = false;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            decorated = false;
        }
    }
    tools
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Severity, validate};

    const FLOW: &str = r#"
schema: 1
inputs:
  text: { type: string }
nodes:
  - id: python
    type: python
    position: { x: 0, y: 0 }
    properties:
      source: tools/echo.py
      inputs: { text: "${inputs.text}" }
      connections: { conn: tracker }
"#;

    fn context() -> Context {
        Context {
            connections: vec![crate::SavedConnection::new(
                "tracker",
                crate::ConnectionType::Custom,
            )],
            strict: false,
        }
    }

    #[test]
    fn a_python_node_validates_and_its_props_read_inputs_and_connections() {
        let doc = FlowDocument::parse(FLOW).unwrap();
        let found = validate(&doc, &context());
        assert!(
            found.iter().all(|d| d.severity != Severity::Error),
            "{found:?}"
        );
        let written = doc.nodes[0].properties.clone().into_iter();
        let props = Props::from_evaluated(&Map::from_iter(written)).unwrap();
        assert_eq!(props.source, "tools/echo.py");
        assert_eq!(props.function, None);
        assert_eq!(props.connections["conn"], "tracker");
    }

    #[test]
    fn an_unknown_connection_is_an_error_naming_the_parameter() {
        let doc = FlowDocument::parse(&FLOW.replace("tracker", "nowhere")).unwrap();
        let found = validate(&doc, &context());
        assert!(
            found.iter().any(|d| d.severity == Severity::Error
                && d.message.contains("`conn`: unknown connection `nowhere`")),
            "{found:?}"
        );
    }

    #[test]
    fn the_python_settings_round_trip() {
        let text = FLOW.replace(
            "inputs:\n  text",
            "python:\n  interpreter: .venv/bin/python\ninputs:\n  text",
        );
        let doc = FlowDocument::parse(&text).unwrap();
        let interpreter = doc.python.as_ref().and_then(|p| p.interpreter.as_deref());
        assert_eq!(interpreter, Some(".venv/bin/python"));
        assert_eq!(FlowDocument::parse(&doc.to_yaml()).unwrap(), doc);
    }

    #[test]
    fn tool_functions_are_found_by_their_decorator() {
        let text = "from promptflow.core import tool\n\n@tool\ndef echo(text: str) -> str:\n    return text\n\ndef helper():\n    pass\n\n@promptflow.tool(name='x')\n# a comment\nasync def other():\n    pass\n";
        assert_eq!(tool_functions(text), ["echo", "other"]);
    }

    #[test]
    fn a_missing_source_file_or_no_tool_function_is_an_error() {
        let dir = std::env::temp_dir().join(format!("weft-python-check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let doc = FlowDocument::parse(FLOW).unwrap();
        let found = check_sources(&doc, dir.as_path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("tools/echo.py"), "{found:?}");
        assert!(found[0].message.contains("relative to the flow file"));

        std::fs::create_dir(dir.as_path().join("tools")).unwrap();
        std::fs::write(
            dir.as_path().join("tools/echo.py"),
            "def echo(text):\n    return text\n",
        )
        .unwrap();
        let found = check_sources(&doc, dir.as_path());
        assert!(
            found[0]
                .message
                .contains("no function decorated with @tool"),
            "{found:?}"
        );

        std::fs::write(
            dir.as_path().join("tools/echo.py"),
            "@tool\ndef a():\n    pass\n@tool\ndef b():\n    pass\n",
        )
        .unwrap();
        let found = check_sources(&doc, dir.as_path());
        assert!(
            found[0].message.contains("2 @tool functions (a, b)"),
            "{found:?}"
        );

        let named = FlowDocument::parse(&FLOW.replace(
            "source: tools/echo.py",
            "source: tools/echo.py\n      function: b",
        ))
        .unwrap();
        assert!(check_sources(&named, dir.as_path()).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
