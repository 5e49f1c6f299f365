use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The type of a value on a port or in a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
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
    ContentSafetyText,
    SerpSearch,
    AiSearch,
    HttpRequest,
    Python,
}

/// The type of a saved connection, as weft-store names it (a connection's `type:`). A kind's
/// spec lists the types its `connection` property takes, so the validator refuses another
/// and the property panel can offer only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionType {
    AzureAi,
    AzureOpenAi,
    OpenAi,
    Serverless,
    AzureContentSafety,
    CognitiveSearch,
    Serp,
    Custom,
}

impl ConnectionType {
    /// The name a connection file and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AzureAi => "azure_ai",
            Self::AzureOpenAi => "azure_open_ai",
            Self::OpenAi => "open_ai",
            Self::Serverless => "serverless",
            Self::AzureContentSafety => "azure_content_safety",
            Self::CognitiveSearch => "cognitive_search",
            Self::Serp => "serp",
            Self::Custom => "custom",
        }
    }
}

/// The connection types a model-calling property takes.
pub const MODEL_CONNECTIONS: &[ConnectionType] = &[
    ConnectionType::AzureAi,
    ConnectionType::AzureOpenAi,
    ConnectionType::OpenAi,
    ConnectionType::Serverless,
];

/// The palette's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NodeGroup {
    InputsOutputs,
    Variables,
    Ai,
    Logic,
}

/// Whether a node kind takes part in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NodeRole {
    /// Places the flow's inputs or outputs on the canvas: one per flow, never run.
    FlowPort,
    /// A step the engine runs.
    Runnable,
}

/// How the property panel edits a property.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Editor {
    /// One line of text; may hold `${…}` references.
    Text,
    /// Jinja text rendered with the node's `variables`, in a code editor.
    Template,
    /// A minijinja expression, such as `score > 0.5`.
    Expression,
    Number {
        min: f64,
        max: f64,
        step: f64,
    },
    Switch,
    Select {
        options: &'static [&'static str],
    },
    /// The name of a saved connection, of one of `types`.
    Connection {
        types: &'static [ConnectionType],
    },
    /// A reference to a variable, such as `${vars.conn}`.
    Variable,
    /// Any JSON value, or a reference.
    Json,
    /// Names mapped to values or references: what a template sees.
    Map,
}

/// One property of a node kind: what the editor shows, the validator checks and the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct PropertySpec {
    pub key: &'static str,
    pub label: &'static str,
    pub value_type: ValueType,
    pub required: bool,
    pub editor: Editor,
    /// One sentence for the property panel.
    pub help: &'static str,
    /// The value is a secret whatever its source: the engine masks it everywhere before the
    /// node is recorded, and validation refuses a literal (it would be saved in the file).
    pub secret: bool,
    /// A required property another one can stand in for: given that one, this one may be left
    /// out (a chat completion's user prompt, when a chat template is set).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unless: Option<&'static str>,
}

impl PropertySpec {
    /// Required unless `other` is given.
    pub(crate) const fn unless(self, other: &'static str) -> Self {
        Self {
            unless: Some(other),
            ..self
        }
    }

    pub(crate) const fn secret(self) -> Self {
        Self {
            secret: true,
            ..self
        }
    }

    /// The connection types a connection property takes (none for any other property).
    pub fn connection_types(&self) -> &'static [ConnectionType] {
        match self.editor {
            Editor::Connection { types } => types,
            _ => &[],
        }
    }

    /// Jinja text rendered with the node's `variables`.
    pub fn is_template(&self) -> bool {
        matches!(self.editor, Editor::Template)
    }
}

/// One output port of a node kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct OutputSpec {
    pub port: &'static str,
    pub value_type: ValueType,
}

/// Everything the editor needs to know of a node kind; the UI's catalog is generated from these.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct NodeKindSpec {
    pub kind: NodeKind,
    pub title: &'static str,
    pub group: NodeGroup,
    pub role: NodeRole,
    /// The stem of a new node's id, short as in the examples: `chat`, `chat_2`…
    pub id_stem: &'static str,
    /// The glyph on the palette entry and the card.
    pub icon: &'static str,
    pub description: &'static str,
    pub properties: &'static [PropertySpec],
    pub outputs: &'static [OutputSpec],
    /// The property keys worth reading on the card, in this order.
    pub summary: &'static [&'static str],
    /// The key of the property naming the variable the node writes, when it writes one.
    pub writes_variable: Option<&'static str>,
}

impl NodeKindSpec {
    /// The connection types the kind's `connection` property takes (none: it has no such property).
    pub fn connection_types(&self) -> &'static [ConnectionType] {
        self.properties
            .iter()
            .find(|p| p.key == "connection")
            .map_or(&[], PropertySpec::connection_types)
    }
}

impl NodeKind {
    pub const ALL: [NodeKind; 14] = [
        Self::Inputs,
        Self::Outputs,
        Self::DeclareVariable,
        Self::SetVariable,
        Self::PromptTemplate,
        Self::ChatCompletion,
        Self::CreateAzureAiConnection,
        Self::Embeddings,
        Self::Condition,
        Self::ContentSafetyText,
        Self::SerpSearch,
        Self::AiSearch,
        Self::HttpRequest,
        Self::Python,
    ];

    /// Whether the engine runs nodes of this kind (flow ports only place the flow's inputs and
    /// outputs on the canvas).
    pub fn runs(self) -> bool {
        self.spec().role == NodeRole::Runnable
    }

    pub fn properties(self) -> &'static [PropertySpec] {
        self.spec().properties
    }

    pub fn outputs(self) -> &'static [OutputSpec] {
        self.spec().outputs
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
        self.spec().writes_variable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_takes_anything_but_typed_properties_do_not() {
        assert!(ValueType::List.flows_into(ValueType::String));
        assert!(ValueType::Any.flows_into(ValueType::Connection));
        assert!(!ValueType::List.flows_into(ValueType::Connection));
        assert!(!ValueType::String.flows_into(ValueType::Number));
    }
}
