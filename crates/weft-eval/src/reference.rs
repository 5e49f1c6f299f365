//! `${data.x}`, `${run.outputs.y}` and `${run.inputs.z}` in assertion values and in an evaluator
//! flow's `inputs:`, as Prompt flow's column mapping writes them; anything else is a literal
//! (https://microsoft.github.io/promptflow/how-to-guides/run-and-evaluate-a-flow/use-column-mapping.html).

use serde_json::{Map, Value};

/// What references read for one row.
pub(crate) struct Scope<'a> {
    pub data: &'a Map<String, Value>,
    pub inputs: &'a Map<String, Value>,
    pub outputs: &'a Map<String, Value>,
}

/// Whether `text` holds a reference (then it is resolved per row, not checked once at load).
pub(crate) fn has_reference(text: &str) -> bool {
    text.contains("${")
}

fn lookup(scope: &Scope<'_>, reference: &str) -> Result<Value, String> {
    let (map, name, what) = if let Some(name) = reference.strip_prefix("data.") {
        (scope.data, name, "the data row has no column")
    } else if let Some(name) = reference.strip_prefix("run.outputs.") {
        (scope.outputs, name, "the flow gave no output")
    } else if let Some(name) = reference.strip_prefix("run.inputs.") {
        (scope.inputs, name, "the flow had no input")
    } else {
        return Err(format!(
            "`${{{reference}}}` is not `${{data.…}}`, `${{run.outputs.…}}` or `${{run.inputs.…}}`"
        ));
    };
    map.get(name)
        .cloned()
        .ok_or_else(|| format!("{what} `{name}`"))
}

/// Text as assertions compare it: a string as it is, anything else as JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `value` with its references resolved: a string that is one reference becomes the value
/// itself (a number stays a number); references inside longer text become text.
pub(crate) fn resolve(value: &Value, scope: &Scope<'_>) -> Result<Value, String> {
    match value {
        Value::String(template) => resolve_text(template, scope),
        Value::Array(items) => items
            .iter()
            .map(|item| resolve(item, scope))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .iter()
            .map(|(key, item)| Ok((key.clone(), resolve(item, scope)?)))
            .collect::<Result<_, String>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

fn resolve_text(template: &str, scope: &Scope<'_>) -> Result<Value, String> {
    let trimmed = template.trim();
    if let Some(inner) = trimmed
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        && !inner.contains('}')
    {
        return lookup(scope, inner.trim());
    }
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{template}` has a `${{` without its `}}`"))?;
        out.push_str(&text(&lookup(scope, after[..end].trim())?));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn a_whole_reference_keeps_its_type_and_text_interpolates() {
        let data = json!({"n": 3, "city": "Paris"})
            .as_object()
            .unwrap()
            .clone();
        let outputs = json!({"answer": "Paris!"}).as_object().unwrap().clone();
        let inputs = json!({"question": "Capital?"}).as_object().unwrap().clone();
        let scope = Scope {
            data: &data,
            inputs: &inputs,
            outputs: &outputs,
        };
        assert_eq!(resolve(&json!("${data.n}"), &scope).unwrap(), json!(3));
        assert_eq!(
            resolve(
                &json!("Is ${data.city} in ${run.outputs.answer} for ${run.inputs.question}"),
                &scope
            )
            .unwrap(),
            json!("Is Paris in Paris! for Capital?")
        );
        assert_eq!(resolve(&json!("plain"), &scope).unwrap(), json!("plain"));
        assert_eq!(
            resolve(&json!("${data.missing}"), &scope).unwrap_err(),
            "the data row has no column `missing`"
        );
        assert!(
            resolve(&json!("${inputs.x}"), &scope)
                .unwrap_err()
                .contains("is not")
        );
    }
}
