//! Evaluating properties: literals stay, references are replaced by what they point at.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use weft_flow::{Reference, Source, find_references};

/// What references can see while a node starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub inputs: Map<String, Value>,
    pub vars: Map<String, Value>,
    /// Finished nodes: id -> port -> value.
    pub nodes: BTreeMap<String, Map<String, Value>>,
}

impl Scope {
    /// The value a reference points at (`null` for what is not there yet).
    pub fn lookup(&self, reference: &Reference) -> Result<Value, String> {
        let base = match &reference.source {
            Source::Input(name) => self.inputs.get(name),
            Source::Var(name) => self.vars.get(name),
            Source::Node { id, port } => self.nodes.get(id).and_then(|ports| ports.get(port)),
        };
        let mut value = base.cloned().unwrap_or(Value::Null);
        for field in &reference.path {
            value = match value {
                Value::Object(mut map) => map.remove(field).unwrap_or(Value::Null),
                Value::Array(mut items) => field
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < items.len())
                    .map(|i| items.swap_remove(i))
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            };
        }
        Ok(value)
    }

    /// A property's value with its references resolved: a string that is one reference becomes
    /// the referenced value; references inside text become text.
    pub fn eval(&self, value: &Value) -> Result<Value, String> {
        Ok(match value {
            Value::String(text) => {
                let refs = find_references(text)?;
                match refs.first() {
                    None => value.clone(),
                    Some(only) if refs.len() == 1 && only.is_whole(text) => self.lookup(only)?,
                    Some(_) => {
                        let mut out = String::new();
                        let mut at = 0;
                        for reference in &refs {
                            out.push_str(&text[at..reference.span.start]);
                            out.push_str(&as_text(&self.lookup(reference)?));
                            at = reference.span.end;
                        }
                        out.push_str(&text[at..]);
                        Value::String(out)
                    }
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.eval(item))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.eval(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// How a value reads inside text: strings as they are, everything else as JSON.
pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_references_keep_types_and_embedded_ones_become_text() {
        let mut scope = Scope::default();
        scope.inputs.insert("n".into(), json!(3));
        scope.nodes.insert(
            "chat".into(),
            Map::from_iter([("output".into(), json!({"answer": ["a", "b"]}))]),
        );
        assert_eq!(scope.eval(&json!("${inputs.n}")).unwrap(), json!(3));
        assert_eq!(
            scope.eval(&json!("n = ${inputs.n}!")).unwrap(),
            json!("n = 3!")
        );
        assert_eq!(
            scope.eval(&json!("${chat.output.answer.1}")).unwrap(),
            json!("b")
        );
        assert_eq!(
            scope
                .eval(&json!({"x": ["${chat.output.answer}"]}))
                .unwrap(),
            json!({"x": [["a", "b"]]})
        );
        assert_eq!(
            scope.eval(&json!("${chat.output.missing}")).unwrap(),
            Value::Null
        );
    }
}
