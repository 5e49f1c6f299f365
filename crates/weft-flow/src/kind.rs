use serde::{Deserialize, Serialize};

/// The type of a value on a port or in a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    String,
    Number,
    Bool,
    Object,
    List,
    /// A connection object, made at run time by "Create Azure AI connection".
    Connection,
    Any,
}

impl ValueType {
    /// Whether a value of type `self` may be passed whole into a property of type `target`.
    /// Text properties take anything (it is written out as text).
    pub fn flows_into(self, target: ValueType) -> bool {
        self == target
            || self == ValueType::Any
            || target == ValueType::Any
            || target == ValueType::String
    }
}

/// What a node does. Names are the file's `type:` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Where the flow's inputs appear on the canvas; the inputs themselves are the file's `inputs:`.
    Inputs,
    /// Where the flow's outputs appear on the canvas; they are the file's `outputs:`.
    Outputs,
    DeclareVariable,
    SetVariable,
    PromptTemplate,
    ChatCompletion,
    CreateAzureAiConnection,
    Embeddings,
    Condition,
}

/// One property of a node kind: what the editor shows and the validator checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertySpec {
    pub key: &'static str,
    pub value_type: ValueType,
    pub required: bool,
    /// Jinja text rendered with the node's `variables`.
    pub template: bool,
}

/// One output port of a node kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSpec {
    pub port: &'static str,
    pub value_type: ValueType,
}

const fn prop(key: &'static str, value_type: ValueType, required: bool) -> PropertySpec {
    PropertySpec {
        key,
        value_type,
        required,
        template: false,
    }
}

const fn template(key: &'static str, required: bool) -> PropertySpec {
    PropertySpec {
        key,
        value_type: ValueType::String,
        required,
        template: true,
    }
}

const fn out(port: &'static str, value_type: ValueType) -> OutputSpec {
    OutputSpec { port, value_type }
}

use ValueType::{Any, Bool, Connection, List, Number, Object, String as Text};

/// Runs the node only on a Condition branch: `when: ${route.true}`.
const WHEN: PropertySpec = prop("when", Bool, false);
const VARIABLES: PropertySpec = prop("variables", Object, false);

const DECLARE_VARIABLE: &[PropertySpec] = &[
    prop("name", Text, true),
    prop("value_type", Text, true),
    prop("initial", Any, false),
];
const SET_VARIABLE: &[PropertySpec] = &[prop("name", Text, true), prop("value", Any, true), WHEN];
const PROMPT_TEMPLATE: &[PropertySpec] = &[template("template", true), VARIABLES, WHEN];
const CHAT_COMPLETION: &[PropertySpec] = &[
    prop("connection", Text, false),
    prop("dynamic_connection", Connection, false),
    prop("deployment", Text, true),
    template("system_prompt", false),
    template("user_prompt", true),
    VARIABLES,
    prop("chat_history", List, false),
    prop("temperature", Number, false),
    prop("max_tokens", Number, false),
    prop("response_format", Text, false),
    prop("json_schema", Object, false),
    prop("stream", Bool, false),
    WHEN,
];
const CREATE_AZURE_AI_CONNECTION: &[PropertySpec] = &[
    prop("endpoint", Text, true),
    prop("api_key", Text, true),
    prop("api_version", Text, false),
    prop("variable", Text, true),
    WHEN,
];
const EMBEDDINGS: &[PropertySpec] = &[
    prop("connection", Text, false),
    prop("dynamic_connection", Connection, false),
    prop("deployment", Text, true),
    prop("input", Any, true),
    WHEN,
];
const CONDITION: &[PropertySpec] = &[prop("expression", Text, true), VARIABLES, WHEN];

const VARIABLE_OUT: &[OutputSpec] = &[out("output", Any)];
const TEXT_OUT: &[OutputSpec] = &[out("output", Text)];
// `output` is the text, or the parsed JSON with a JSON response format.
const CHAT_OUT: &[OutputSpec] = &[
    out("output", Any),
    out("finish_reason", Text),
    out("usage", Object),
];
const CONNECTION_OUT: &[OutputSpec] = &[out("output", Connection)];
const VECTORS_OUT: &[OutputSpec] = &[out("output", List)];
const CONDITION_OUT: &[OutputSpec] = &[out("output", Bool), out("true", Bool), out("false", Bool)];

impl NodeKind {
    pub fn properties(self) -> &'static [PropertySpec] {
        match self {
            Self::Inputs | Self::Outputs => &[],
            Self::DeclareVariable => DECLARE_VARIABLE,
            Self::SetVariable => SET_VARIABLE,
            Self::PromptTemplate => PROMPT_TEMPLATE,
            Self::ChatCompletion => CHAT_COMPLETION,
            Self::CreateAzureAiConnection => CREATE_AZURE_AI_CONNECTION,
            Self::Embeddings => EMBEDDINGS,
            Self::Condition => CONDITION,
        }
    }

    pub fn outputs(self) -> &'static [OutputSpec] {
        match self {
            Self::Inputs | Self::Outputs => &[],
            Self::DeclareVariable | Self::SetVariable => VARIABLE_OUT,
            Self::PromptTemplate => TEXT_OUT,
            Self::ChatCompletion => CHAT_OUT,
            Self::CreateAzureAiConnection => CONNECTION_OUT,
            Self::Embeddings => VECTORS_OUT,
            Self::Condition => CONDITION_OUT,
        }
    }

    pub fn property(self, key: &str) -> Option<&'static PropertySpec> {
        self.properties().iter().find(|spec| spec.key == key)
    }

    pub fn output(self, port: &str) -> Option<&'static OutputSpec> {
        self.outputs().iter().find(|spec| spec.port == port)
    }

    /// The variable a node writes (`name` of Declare/Set variable, `variable` of Create Azure AI
    /// connection), when it writes one.
    pub fn writes_variable(self) -> Option<&'static str> {
        match self {
            Self::DeclareVariable | Self::SetVariable => Some("name"),
            Self::CreateAzureAiConnection => Some("variable"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_that_runs_can_be_gated_by_a_condition() {
        for kind in [
            NodeKind::SetVariable,
            NodeKind::PromptTemplate,
            NodeKind::ChatCompletion,
            NodeKind::CreateAzureAiConnection,
            NodeKind::Embeddings,
            NodeKind::Condition,
        ] {
            assert!(kind.property("when").is_some(), "{kind:?}");
        }
    }

    #[test]
    fn text_takes_anything_but_typed_properties_do_not() {
        assert!(ValueType::List.flows_into(ValueType::String));
        assert!(ValueType::Any.flows_into(ValueType::Connection));
        assert!(!ValueType::List.flows_into(ValueType::Connection));
        assert!(!ValueType::String.flows_into(ValueType::Number));
    }
}
