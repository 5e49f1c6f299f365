//! Reading a node's evaluated properties (references already replaced by values) into its kind's
//! typed `Props`. Each read names the property spec, so a key is written once, in the spec; a
//! value of the wrong shape is an error naming the property.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::kind::{Editor, PropertySpec, ValueType};

/// Why a node's evaluated properties do not fit its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropsError {
    #[error(
        "`{key}` is empty at run time; give it a value, or check what the reference it reads held"
    )]
    Missing { key: &'static str },
    #[error(
        "`{key}` does not fit at run time ({problem}); check the value or what its reference held"
    )]
    Invalid { key: &'static str, problem: String },
    #[error(
        "no connection: set `connection`, or a `dynamic_connection` that a Create Azure AI connection node filled"
    )]
    NoConnection,
}

/// Text that is a secret (a key): never shown by `Debug`, and never quoted in a `PropsError`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("******")
    }
}

/// A node's evaluated properties, read through its kind's property specs.
pub(crate) struct Evaluated<'m>(pub(crate) &'m Map<String, Value>);

impl Evaluated<'_> {
    /// The value as the node means it: text trimmed (templates kept as written), and null or
    /// blank text is no value, as an emptied field in the editor is. `Any` values are taken as
    /// they are: an empty text is a value there.
    fn value(&self, spec: &PropertySpec) -> Option<Value> {
        match self.0.get(spec.key)? {
            Value::Null => None,
            Value::String(text) if spec.value_type == ValueType::Any => {
                Some(Value::String(text.clone()))
            }
            Value::String(text) if matches!(spec.editor, Editor::Template) => {
                Some(Value::String(text.clone()))
            }
            Value::String(text) if text.trim().is_empty() => None,
            Value::String(text) => Some(Value::String(text.trim().to_owned())),
            other => Some(other.clone()),
        }
    }

    pub(crate) fn optional<T: DeserializeOwned>(
        &self,
        spec: &'static PropertySpec,
    ) -> Result<Option<T>, PropsError> {
        let Some(value) = self.value(spec) else {
            return Ok(None);
        };
        serde_json::from_value(value).map(Some).map_err(|err| {
            // serde quotes the value it met; a secret's must not show.
            let problem = if spec.secret {
                format!("expected {}", expected(spec.value_type))
            } else {
                err.to_string()
            };
            PropsError::Invalid {
                key: spec.key,
                problem,
            }
        })
    }

    pub(crate) fn required<T: DeserializeOwned>(
        &self,
        spec: &'static PropertySpec,
    ) -> Result<T, PropsError> {
        self.optional(spec)?
            .ok_or(PropsError::Missing { key: spec.key })
    }

    /// A whole number within the range the spec's number editor offers (see
    /// [`super::common::count`]), `default` when the node has none.
    pub(crate) fn count(
        &self,
        spec: &'static PropertySpec,
        default: u32,
    ) -> Result<u32, PropsError> {
        let Some(n) = self.optional::<f64>(spec)? else {
            return Ok(default);
        };
        // A spec without a number editor has no range of its own: any count a u32 holds.
        let (min, max) = match spec.editor {
            Editor::Number { min, max, .. } => (min, max),
            _ => (0.0, f64::from(u32::MAX)),
        };
        if n.fract() == 0.0 && (min..=max).contains(&n) {
            Ok(n as u32)
        } else {
            Err(PropsError::Invalid {
                key: spec.key,
                problem: format!("{n} is not a whole number from {min} to {max}"),
            })
        }
    }

    /// An `Any` value, null when the node has none.
    pub(crate) fn any(&self, spec: &'static PropertySpec) -> Value {
        self.value(spec).unwrap_or(Value::Null)
    }
}

fn expected(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::String => "text",
        ValueType::Number => "a number",
        ValueType::Bool => "true or false",
        ValueType::Object => "an object",
        ValueType::List => "a list",
        ValueType::Connection => "a connection",
        ValueType::Any => "a value",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::chat_completion::{self, ResponseFormat, TurnRole};
    use crate::kinds::common::{ConnectionChoice, ConnectionHandle};
    use crate::kinds::{
        ai_search, create_azure_ai_connection, declare_variable, embeddings, serp_search,
    };

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_chat_node_reads_typed_properties_with_the_defaults_the_spec_gives() {
        let props = chat_completion::Props::from_evaluated(&map(json!({
            "connection": "  azure-ai ",
            "deployment": "gpt-4o-mini",
            "user_prompt": "{{ q }}\n",
            "system_prompt": "",
            "temperature": "",
            "variables": { "q": "hi" },
        })))
        .unwrap();
        assert_eq!(props.connection, ConnectionChoice::Saved("azure-ai".into()));
        // Templates are kept as written; an emptied field is no value.
        assert_eq!(props.user_prompt, "{{ q }}\n");
        assert_eq!(props.system_prompt.as_deref(), Some(""));
        assert_eq!(props.temperature, None);
        assert_eq!(props.variables["q"], "hi");
        assert!(props.stream);
        assert_eq!(props.response_format, ResponseFormat::Text);
        assert!(props.chat_history.is_empty());

        let full = chat_completion::Props::from_evaluated(&map(json!({
            "connection": "azure-ai",
            "dynamic_connection": { "connection": "3f1c", "endpoint": "https://e", "api_key": "******" },
            "deployment": "d",
            "user_prompt": "hi",
            "chat_history": [{ "role": "assistant", "content": "before" }, { "content": "again" }],
            "max_tokens": 200,
            "response_format": "json_schema",
            "stream": false,
        })))
        .unwrap();
        // A dynamic connection wins over the saved one.
        assert_eq!(
            full.connection,
            ConnectionChoice::Dynamic(ConnectionHandle {
                connection: "3f1c".into()
            })
        );
        assert_eq!(full.chat_history[0].role, TurnRole::Assistant);
        assert_eq!(full.chat_history[1].role, TurnRole::User);
        assert_eq!(full.max_tokens, Some(200));
        assert_eq!(full.response_format, ResponseFormat::JsonSchema);
        assert!(!full.stream);
    }

    #[test]
    fn a_count_is_a_whole_number_within_its_editors_range_or_the_default() {
        let web = |num: Value| {
            serp_search::Props::from_evaluated(&map(
                json!({ "connection": "c", "query": "q", "num": num }),
            ))
            .map(|props| props.num)
        };
        assert_eq!(web(Value::Null), Ok(serp_search::DEFAULT_NUM));
        assert_eq!(web(json!(1)), Ok(1));
        assert_eq!(web(json!(100)), Ok(100));
        for bad in [json!(0), json!(101), json!(2.5)] {
            let problem = format!("{bad} is not a whole number from 1 to 100");
            assert_eq!(
                web(bad),
                Err(PropsError::Invalid {
                    key: "num",
                    problem,
                })
            );
        }
        let search = ai_search::Props::from_evaluated(&map(
            json!({ "connection": "c", "index": "i", "query": "q", "top_k": 1001 }),
        ));
        assert_eq!(
            search.unwrap_err().to_string(),
            "`top_k` does not fit at run time (1001 is not a whole number from 1 to 1000); check the value or what its reference held"
        );
    }

    #[test]
    fn a_value_that_does_not_fit_is_an_error_naming_its_property() {
        let chat = |extra: Value| {
            let mut props =
                map(json!({ "connection": "c", "deployment": "d", "user_prompt": "hi" }));
            props.extend(map(extra));
            chat_completion::Props::from_evaluated(&props).unwrap_err()
        };
        let key = |err: PropsError| match err {
            PropsError::Missing { key } | PropsError::Invalid { key, .. } => key,
            PropsError::NoConnection => "(no connection)",
        };
        assert_eq!(key(chat(json!({ "temperature": "hot" }))), "temperature");
        assert_eq!(key(chat(json!({ "max_tokens": 1.5 }))), "max_tokens");
        assert_eq!(
            key(chat(json!({ "response_format": "xml" }))),
            "response_format"
        );
        assert_eq!(key(chat(json!({ "chat_history": ["hi"] }))), "chat_history");
        assert_eq!(key(chat(json!({ "deployment": " " }))), "deployment");
        assert_eq!(
            chat(json!({ "connection": null })),
            PropsError::NoConnection
        );
        assert!(
            chat(json!({ "stream": "yes" }))
                .to_string()
                .starts_with("`stream` does not fit at run time (invalid type: string \"yes\"")
        );
        let embed = embeddings::Props::from_evaluated(&map(
            json!({ "connection": "c", "deployment": "d" }),
        ));
        assert_eq!(embed.unwrap_err(), PropsError::Missing { key: "input" });
        let declare = declare_variable::Props::from_evaluated(&map(
            json!({ "name": "n", "value_type": "dict" }),
        ));
        assert_eq!(key(declare.unwrap_err()), "value_type");
    }

    #[test]
    fn a_key_is_never_shown() {
        let connect = |key: Value| {
            create_azure_ai_connection::Props::from_evaluated(&map(json!({
                "endpoint": "https://r.services.ai.azure.com",
                "api_key": key,
                "variable": "conn",
            })))
        };
        let props = connect(json!("sk-secret-0001")).unwrap();
        assert_eq!(props.api_key.expose(), "sk-secret-0001");
        assert!(!format!("{props:?}").contains("sk-secret"));
        let err = connect(json!(918_273_645)).unwrap_err().to_string();
        assert!(
            err.contains("`api_key`") && !err.contains("918273645"),
            "{err}"
        );
    }

    #[test]
    fn every_choice_a_select_offers_is_one_its_props_accept() {
        for (spec, read) in [
            (
                &chat_completion::RESPONSE_FORMAT,
                (|v: Value| serde_json::from_value::<ResponseFormat>(v).is_ok())
                    as fn(Value) -> bool,
            ),
            (&create_azure_ai_connection::API, |v| {
                serde_json::from_value::<create_azure_ai_connection::Api>(v).is_ok()
            }),
            (&declare_variable::VALUE_TYPE, |v| {
                serde_json::from_value::<ValueType>(v).is_ok()
            }),
        ] {
            let Editor::Select { options } = spec.editor else {
                panic!("{} is not a select", spec.key);
            };
            for option in options {
                assert!(read(json!(option)), "{}: {option}", spec.key);
            }
        }
    }
}
