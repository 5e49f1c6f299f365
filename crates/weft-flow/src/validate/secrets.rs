//! Keys: a secret property comes whole from a reference, and an input that carries a key says so.

use serde_json::Value;

use super::{Checker, Severity, is_empty};
use crate::reference::find_references;

impl<'a> Checker<'a> {
    /// A secret property must come whole from a reference: a literal would be saved in the flow
    /// file.
    pub(super) fn check_secret(&mut self, id: &str, key: &str, value: &Value) {
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
    pub(super) fn check_secret_inputs(&mut self) {
        let doc = self.doc;
        let plain: Vec<String> = self
            .secret_inputs
            .iter()
            .filter(|name| doc.inputs.get(*name).is_some_and(|input| !input.secret))
            .cloned()
            .collect();
        for name in plain {
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

#[cfg(test)]
mod tests {

    use crate::validate::tests::{check, errors};

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
}
