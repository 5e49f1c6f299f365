//! Evaluating properties: literals stay, references are replaced by what they point at.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use weft_flow::{Reference, Source, find_references};

/// How `${connection.` reads inside a value a reference brought into a node that fills in
/// connection settings: inert, so only what the flow's author wrote reads the connection (an
/// upstream answer cannot ask for a secret). The node turns it back after filling in.
pub(crate) const INERT_CONNECTION: &str = "$\u{0}{connection.";
const CONNECTION: &str = "${connection.";

/// `value` with each `${connection.` in its strings made inert.
fn inert(value: Value) -> Value {
    match value {
        Value::String(text) if text.contains(CONNECTION) => {
            Value::String(text.replace(CONNECTION, INERT_CONNECTION))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(inert).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, inert(v))).collect()),
        other => other,
    }
}

/// Text as sent: inert `${connection.` turned back into what the value held.
pub(crate) fn revive(text: &str) -> String {
    text.replace(INERT_CONNECTION, CONNECTION)
}

/// `value` as the user should see it in the run record: what the references brought in, as
/// they held it (the inert marker is the engine's, not the user's).
pub(crate) fn revived(value: Value) -> Value {
    match value {
        Value::String(text) if text.contains(INERT_CONNECTION) => Value::String(revive(&text)),
        Value::Array(items) => Value::Array(items.into_iter().map(revived).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, revived(v))).collect())
        }
        other => other,
    }
}

/// What references can see while a node starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub inputs: Map<String, Value>,
    pub vars: Map<String, Value>,
    /// Finished nodes: id -> port -> value.
    pub nodes: BTreeMap<String, Map<String, Value>>,
}

impl Scope {
    /// The value a reference points at (`null` for what is not there yet); None for a
    /// `${connection.…}` reference, which stays as written for the node that sends it.
    pub fn lookup(&self, reference: &Reference) -> Result<Option<Value>, String> {
        let base = match &reference.source {
            Source::Input(name) => self.inputs.get(name),
            Source::Var(name) => self.vars.get(name),
            Source::Node { id, port } => self.nodes.get(id).and_then(|ports| ports.get(port)),
            Source::Connection { .. } => return Ok(None),
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
        Ok(Some(value))
    }

    /// A property's value with its references resolved: a string that is one reference becomes
    /// the referenced value; references inside text become text.
    pub fn eval(&self, value: &Value) -> Result<Value, String> {
        self.eval_as(value, false)
    }

    /// [`Scope::eval`] for a node that fills in `${connection.…}` (`guarded`): what the
    /// references bring in is made inert first.
    pub fn eval_as(&self, value: &Value, guarded: bool) -> Result<Value, String> {
        let lookup = |reference: &Reference| -> Result<Option<Value>, String> {
            let found = self.lookup(reference)?;
            Ok(if guarded { found.map(inert) } else { found })
        };
        Ok(match value {
            Value::String(text) => {
                let refs = find_references(text)?;
                match refs.first() {
                    None => value.clone(),
                    Some(only) if refs.len() == 1 && only.is_whole(text) => {
                        lookup(only)?.unwrap_or_else(|| value.clone())
                    }
                    Some(_) => {
                        let mut out = String::new();
                        let mut at = 0;
                        for reference in &refs {
                            out.push_str(&text[at..reference.span.start]);
                            match lookup(reference)? {
                                Some(found) => out.push_str(&as_text(&found)),
                                None => out.push_str(&text[reference.span.clone()]),
                            }
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
                    .map(|item| self.eval_as(item, guarded))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.eval_as(v, guarded)?)))
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

    #[test]
    fn connection_references_stay_as_written_for_the_node_that_sends_them() {
        let mut scope = Scope::default();
        scope.inputs.insert("id".into(), json!(7));
        assert_eq!(
            scope
                .eval(&json!("${connection.configs.base_url}/items/${inputs.id}"))
                .unwrap(),
            json!("${connection.configs.base_url}/items/7")
        );
        assert_eq!(
            scope
                .eval(&json!({"auth": "${connection.secrets.token}"}))
                .unwrap(),
            json!({"auth": "${connection.secrets.token}"})
        );
    }

    #[test]
    fn a_connection_reference_a_value_brings_in_is_inert_where_settings_are_filled_in() {
        let mut scope = Scope::default();
        scope
            .inputs
            .insert("note".into(), json!("leak ${connection.secrets.token}"));
        let written = json!({"text": "${inputs.note} (${connection.configs.team})", "whole": "${inputs.note}"});
        let guarded = scope.eval_as(&written, true).unwrap();
        assert_eq!(
            guarded,
            json!({
                "text": "leak $\u{0}{connection.secrets.token} (${connection.configs.team})",
                "whole": "leak $\u{0}{connection.secrets.token}",
            })
        );
        assert_eq!(
            revive(guarded["whole"].as_str().unwrap()),
            "leak ${connection.secrets.token}"
        );
        // Elsewhere a value is taken as it is.
        assert_eq!(
            scope.eval(&json!("${inputs.note}")).unwrap(),
            json!("leak ${connection.secrets.token}")
        );
    }
}
