//! Content Safety (Text): analyses a text with an Azure AI Content Safety resource and
//! suggests Accept or Reject, as Prompt flow's Content Safety (Text) tool does (its inputs and
//! output: microsoft/promptflow docs/reference/tools-reference/contentsafety_text_tool.md).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::common::{WHEN, out, prop, saved_connection};
use super::props::{Evaluated, PropsError};
use crate::kind::{
    ConnectionType, Editor, NodeGroup, NodeKind, NodeKindSpec, NodeRole, PropertySpec, ValueType,
};

pub const CONNECTION: PropertySpec = saved_connection(
    true,
    &[ConnectionType::AzureContentSafety],
    "A saved Azure AI Content Safety connection.",
);
pub const TEXT: PropertySpec = prop(
    "text",
    "Text",
    ValueType::String,
    true,
    Editor::Text,
    "The text to analyse (at most 10,000 characters), such as ${inputs.question}.",
);
const SENSITIVITIES: &[&str] = &[
    "disable",
    "low_sensitivity",
    "medium_sensitivity",
    "high_sensitivity",
];
const fn category(key: &'static str, label: &'static str) -> PropertySpec {
    prop(
        key,
        label,
        ValueType::String,
        false,
        Editor::Select {
            options: SENSITIVITIES,
        },
        "How strictly to reject this category: disable never does; low rejects severity 6 and up, medium 4, high 2 (medium when empty).",
    )
}
pub const HATE_CATEGORY: PropertySpec = category("hate_category", "Hate");
pub const SEXUAL_CATEGORY: PropertySpec = category("sexual_category", "Sexual");
pub const SELF_HARM_CATEGORY: PropertySpec = category("self_harm_category", "Self-harm");
pub const VIOLENCE_CATEGORY: PropertySpec = category("violence_category", "Violence");
pub const OUTPUT_TYPE: PropertySpec = prop(
    "output_type",
    "Severity levels",
    ValueType::String,
    false,
    Editor::Select {
        options: &["FourSeverityLevels", "EightSeverityLevels"],
    },
    "Four levels (0, 2, 4, 6; the default) or eight (0 to 7).",
);
pub const BLOCKLIST_NAMES: PropertySpec = prop(
    "blocklist_names",
    "Blocklists",
    ValueType::List,
    false,
    Editor::Json,
    "Names of the resource's blocklists to check; any match rejects the text.",
);
pub const HALT_ON_BLOCKLIST_HIT: PropertySpec = prop(
    "halt_on_blocklist_hit",
    "Stop at a blocklist match",
    ValueType::Bool,
    false,
    Editor::Switch,
    "When a blocklist matches, skip the category analysis.",
);

pub const SPEC: NodeKindSpec = NodeKindSpec {
    kind: NodeKind::ContentSafetyText,
    title: "Content Safety (Text)",
    group: NodeGroup::Ai,
    role: NodeRole::Runnable,
    id_stem: "safety",
    icon: "⊘",
    description: "Checks a text for harm with Azure AI Content Safety; suggests Accept or Reject.",
    properties: &[
        CONNECTION,
        TEXT,
        HATE_CATEGORY,
        SEXUAL_CATEGORY,
        SELF_HARM_CATEGORY,
        VIOLENCE_CATEGORY,
        OUTPUT_TYPE,
        BLOCKLIST_NAMES,
        HALT_ON_BLOCKLIST_HIT,
        WHEN,
    ],
    outputs: &[
        out("output", ValueType::Object),
        out("suggested_action", ValueType::String),
    ],
    summary: &[CONNECTION.key, TEXT.key],
    writes_variable: None,
};

/// How strictly one category is judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Not analysed, never rejects.
    Disable,
    LowSensitivity,
    #[default]
    MediumSensitivity,
    HighSensitivity,
}

impl Sensitivity {
    /// The lowest severity that rejects (promptflow-tools' `switch_category_threshold`);
    /// None when the category is disabled.
    pub fn threshold(self) -> Option<u8> {
        match self {
            Self::Disable => None,
            Self::LowSensitivity => Some(6),
            Self::MediumSensitivity => Some(4),
            Self::HighSensitivity => Some(2),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OutputType {
    #[default]
    FourSeverityLevels,
    EightSeverityLevels,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    /// The saved connection's name.
    pub connection: String,
    pub text: String,
    pub hate: Sensitivity,
    pub sexual: Sensitivity,
    pub self_harm: Sensitivity,
    pub violence: Sensitivity,
    pub output_type: OutputType,
    pub blocklist_names: Vec<String>,
    pub halt_on_blocklist_hit: bool,
}

impl Props {
    pub fn from_evaluated(props: &Map<String, Value>) -> Result<Self, PropsError> {
        let props = Evaluated(props);
        Ok(Self {
            connection: props.required(&CONNECTION)?,
            text: props.required(&TEXT)?,
            hate: props.optional(&HATE_CATEGORY)?.unwrap_or_default(),
            sexual: props.optional(&SEXUAL_CATEGORY)?.unwrap_or_default(),
            self_harm: props.optional(&SELF_HARM_CATEGORY)?.unwrap_or_default(),
            violence: props.optional(&VIOLENCE_CATEGORY)?.unwrap_or_default(),
            output_type: props.optional(&OUTPUT_TYPE)?.unwrap_or_default(),
            blocklist_names: props.optional(&BLOCKLIST_NAMES)?.unwrap_or_default(),
            halt_on_blocklist_hit: props.optional(&HALT_ON_BLOCKLIST_HIT)?.unwrap_or(false),
        })
    }
}
