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
}

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
    /// The name of a saved connection.
    Connection,
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
}

impl PropertySpec {
    const fn secret(self) -> Self {
        Self {
            secret: true,
            ..self
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

const fn prop(
    key: &'static str,
    label: &'static str,
    value_type: ValueType,
    required: bool,
    editor: Editor,
    help: &'static str,
) -> PropertySpec {
    PropertySpec {
        key,
        label,
        value_type,
        required,
        editor,
        help,
        secret: false,
    }
}

const fn out(port: &'static str, value_type: ValueType) -> OutputSpec {
    OutputSpec { port, value_type }
}

use Editor::{Json, Map, Switch, Text as Line};
use ValueType::{Any, Bool, Connection, List, Number, Object, String as Text};

/// Runs the node only on a Condition branch: `when: ${route.true}`.
const WHEN: PropertySpec = prop(
    "when",
    "Run when",
    Bool,
    false,
    Editor::Variable,
    "A Condition's branch, such as ${route.true}; when it is false the node is skipped.",
);
const VARIABLES: PropertySpec = prop(
    "variables",
    "Template variables",
    Object,
    false,
    Map,
    "Names the template can use, each a value or a reference such as ${inputs.question}.",
);
const CONNECTION: PropertySpec = prop(
    "connection",
    "Connection",
    Text,
    false,
    Editor::Connection,
    "A saved connection. A dynamic connection, when set, is used instead.",
);
const DYNAMIC_CONNECTION: PropertySpec = prop(
    "dynamic_connection",
    "Dynamic connection",
    Connection,
    false,
    Editor::Variable,
    "A variable that a Create Azure AI connection node filled, such as ${vars.conn}.",
);
const DEPLOYMENT: PropertySpec = prop(
    "deployment",
    "Deployment",
    Text,
    true,
    Line,
    "The model deployment to call, such as gpt-4o-mini.",
);
const VALUE_TYPES: &[&str] = &["string", "number", "bool", "object", "list"];

const DECLARE_VARIABLE: &[PropertySpec] = &[
    prop(
        "name",
        "Name",
        Text,
        true,
        Line,
        "Read it elsewhere as ${vars.<name>}.",
    ),
    prop(
        "value_type",
        "Type",
        Text,
        true,
        Editor::Select {
            options: VALUE_TYPES,
        },
        "What the variable holds.",
    ),
    prop(
        "initial",
        "Initial value",
        Any,
        false,
        Json,
        "Its value until a Set variable node changes it.",
    ),
];
const SET_VARIABLE: &[PropertySpec] = &[
    prop(
        "name",
        "Name",
        Text,
        true,
        Line,
        "A variable that a Declare variable node made.",
    ),
    prop("value", "Value", Any, true, Json, "A value or a reference."),
    WHEN,
];
const PROMPT_TEMPLATE: &[PropertySpec] = &[
    prop(
        "template",
        "Template",
        Text,
        true,
        Editor::Template,
        "Jinja text; {{ name }} is a template variable.",
    ),
    VARIABLES,
    WHEN,
];
const CHAT_COMPLETION: &[PropertySpec] = &[
    CONNECTION,
    DYNAMIC_CONNECTION,
    DEPLOYMENT,
    prop(
        "system_prompt",
        "System prompt",
        Text,
        false,
        Editor::Template,
        "How the model should behave; Jinja text.",
    ),
    prop(
        "user_prompt",
        "User prompt",
        Text,
        true,
        Editor::Template,
        "What to ask; Jinja text, such as {{ question }}.",
    ),
    VARIABLES,
    prop(
        "chat_history",
        "Chat history",
        List,
        false,
        Json,
        "Earlier turns: a list of { role, content }.",
    ),
    prop(
        "temperature",
        "Temperature",
        Number,
        false,
        Editor::Number {
            min: 0.0,
            max: 2.0,
            step: 0.1,
        },
        "Higher is more varied; empty uses the model's default.",
    ),
    prop(
        "max_tokens",
        "Max tokens",
        Number,
        false,
        Editor::Number {
            min: 1.0,
            max: 1_000_000.0,
            step: 1.0,
        },
        "The longest answer, in tokens; empty uses the model's default.",
    ),
    prop(
        "response_format",
        "Response format",
        Text,
        false,
        Editor::Select {
            options: &["text", "json_object", "json_schema"],
        },
        "JSON formats parse the answer into an object.",
    ),
    prop(
        "json_schema",
        "JSON schema",
        Object,
        false,
        Json,
        "With the json_schema format: { name, schema, strict }.",
    ),
    prop(
        "stream",
        "Stream",
        Bool,
        false,
        Switch,
        "Show the answer as it is written (on unless switched off).",
    ),
    WHEN,
];
const CREATE_AZURE_AI_CONNECTION: &[PropertySpec] = &[
    prop(
        "endpoint",
        "Endpoint",
        Text,
        true,
        Line,
        "A Foundry resource URL (…/models, the bare resource or …/openai/v1) or an Azure OpenAI URL, or a reference to one.",
    ),
    prop(
        "api_key",
        "API key",
        Text,
        true,
        Line,
        "A reference to a secret input or a variable, such as ${inputs.api_key}; masked everywhere.",
    )
    .secret(),
    prop(
        "api",
        "API",
        Text,
        false,
        Editor::Select {
            options: &["v1", "model_inference"],
        },
        "For a Foundry URL: v1 (the default) serves every deployment; model_inference calls the /models API, which Azure retired on 2026-08-26.",
    ),
    prop(
        "api_version",
        "API version",
        Text,
        false,
        Line,
        "Only for the /models API and Azure OpenAI deployment URLs; empty uses the default.",
    ),
    prop(
        "variable",
        "Store in variable",
        Text,
        true,
        Line,
        "The declared variable that will hold the connection.",
    ),
    WHEN,
];
const EMBEDDINGS: &[PropertySpec] = &[
    CONNECTION,
    DYNAMIC_CONNECTION,
    DEPLOYMENT,
    prop(
        "input",
        "Input",
        Any,
        true,
        Json,
        "A text or a list of texts.",
    ),
    WHEN,
];
const CONDITION: &[PropertySpec] = &[
    prop(
        "expression",
        "Expression",
        Text,
        true,
        Editor::Expression,
        "A Jinja expression over the variables, such as score > 0.5.",
    ),
    VARIABLES,
    WHEN,
];

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

use NodeGroup::{Ai, InputsOutputs, Logic, Variables};
use NodeRole::{FlowPort, Runnable};

const INPUTS_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Inputs,
    title: "Inputs",
    group: InputsOutputs,
    role: FlowPort,
    id_stem: "inputs",
    icon: "⇥",
    description: "The flow's inputs, given at each run.",
    properties: &[],
    outputs: &[],
    summary: &[],
    writes_variable: None,
};
const OUTPUTS_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Outputs,
    title: "Outputs",
    group: InputsOutputs,
    role: FlowPort,
    id_stem: "outputs",
    icon: "⇤",
    description: "What the flow returns.",
    properties: &[],
    outputs: &[],
    summary: &[],
    writes_variable: None,
};
const DECLARE_VARIABLE_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::DeclareVariable,
    title: "Declare variable",
    group: Variables,
    role: Runnable,
    id_stem: "declare",
    icon: "𝑥",
    description: "Makes a typed variable with a starting value.",
    properties: DECLARE_VARIABLE,
    outputs: VARIABLE_OUT,
    summary: &["name"],
    writes_variable: Some("name"),
};
const SET_VARIABLE_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::SetVariable,
    title: "Set variable",
    group: Variables,
    role: Runnable,
    id_stem: "set",
    icon: "≔",
    description: "Changes a declared variable's value.",
    properties: SET_VARIABLE,
    outputs: VARIABLE_OUT,
    summary: &["name"],
    writes_variable: Some("name"),
};
const PROMPT_TEMPLATE_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::PromptTemplate,
    title: "Prompt template",
    group: Ai,
    role: Runnable,
    id_stem: "prompt",
    icon: "¶",
    description: "Renders a Jinja template to text.",
    properties: PROMPT_TEMPLATE,
    outputs: TEXT_OUT,
    summary: &["template"],
    writes_variable: None,
};
const CHAT_COMPLETION_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::ChatCompletion,
    title: "Chat completion",
    group: Ai,
    role: Runnable,
    id_stem: "chat",
    icon: "✦",
    description: "Asks a chat model and streams its answer.",
    properties: CHAT_COMPLETION,
    outputs: CHAT_OUT,
    summary: &["deployment", "connection", "user_prompt"],
    writes_variable: None,
};
const CREATE_AZURE_AI_CONNECTION_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::CreateAzureAiConnection,
    title: "Create Azure AI connection",
    group: Ai,
    role: Runnable,
    id_stem: "connect",
    icon: "⇄",
    description: "Builds a connection at run time from an endpoint and a key.",
    properties: CREATE_AZURE_AI_CONNECTION,
    outputs: CONNECTION_OUT,
    summary: &["endpoint"],
    writes_variable: Some("variable"),
};
const EMBEDDINGS_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Embeddings,
    title: "Embeddings",
    group: Ai,
    role: Runnable,
    id_stem: "embed",
    icon: "⋮",
    description: "Turns text into vectors.",
    properties: EMBEDDINGS,
    outputs: VECTORS_OUT,
    summary: &["deployment", "connection"],
    writes_variable: None,
};
const CONDITION_SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::Condition,
    title: "Condition",
    group: Logic,
    role: Runnable,
    id_stem: "condition",
    icon: "◇",
    description: "Takes the true or the false branch; the other is skipped.",
    properties: CONDITION,
    outputs: CONDITION_OUT,
    summary: &["expression"],
    writes_variable: None,
};

impl NodeKind {
    pub const ALL: [NodeKind; 9] = [
        Self::Inputs,
        Self::Outputs,
        Self::DeclareVariable,
        Self::SetVariable,
        Self::PromptTemplate,
        Self::ChatCompletion,
        Self::CreateAzureAiConnection,
        Self::Embeddings,
        Self::Condition,
    ];

    pub fn spec(self) -> NodeKindSpec {
        match self {
            Self::Inputs => INPUTS_SPEC,
            Self::Outputs => OUTPUTS_SPEC,
            Self::DeclareVariable => DECLARE_VARIABLE_SPEC,
            Self::SetVariable => SET_VARIABLE_SPEC,
            Self::PromptTemplate => PROMPT_TEMPLATE_SPEC,
            Self::ChatCompletion => CHAT_COMPLETION_SPEC,
            Self::CreateAzureAiConnection => CREATE_AZURE_AI_CONNECTION_SPEC,
            Self::Embeddings => EMBEDDINGS_SPEC,
            Self::Condition => CONDITION_SPEC,
        }
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
    fn summary_keys_and_written_variables_are_properties_of_the_kind() {
        for kind in NodeKind::ALL {
            let spec = kind.spec();
            assert_eq!(spec.kind, kind);
            for key in spec.summary.iter().chain(&spec.writes_variable) {
                assert!(kind.property(key).is_some(), "{kind:?}: {key}");
            }
            // Flow ports are never run, so they have nothing to run with.
            if spec.role == NodeRole::FlowPort {
                assert!(spec.properties.is_empty() && spec.outputs.is_empty(), "{kind:?}");
            }
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
