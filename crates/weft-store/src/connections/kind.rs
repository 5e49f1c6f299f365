use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The services a connection can point at. Names follow Prompt flow's connection `type`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionKind {
    AzureAi,
    AzureOpenAi,
    OpenAi,
    Serverless,
    AzureContentSafety,
    CognitiveSearch,
    Serp,
    Custom,
}

impl ConnectionKind {
    pub const ALL: [ConnectionKind; 8] = [
        Self::AzureAi,
        Self::AzureOpenAi,
        Self::OpenAi,
        Self::Serverless,
        Self::AzureContentSafety,
        Self::CognitiveSearch,
        Self::Serp,
        Self::Custom,
    ];

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

    pub fn spec(self) -> &'static KindSpec {
        // ALL and SPECS list the kinds in the same order.
        &SPECS[self as usize]
    }
}

impl fmt::Display for ConnectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown connection type `{0}`; expected one of azure_ai, azure_open_ai, open_ai, serverless, azure_content_safety, cognitive_search, serp, custom"
)]
pub struct UnknownKind(pub String);

impl FromStr for ConnectionKind {
    type Err = UnknownKind;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let wanted = raw.trim().to_ascii_lowercase();
        // Prompt flow calls the Foundry connection `azure_ai_services`; accept it on import.
        if wanted == "azure_ai_services" {
            return Ok(Self::AzureAi);
        }
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == wanted)
            .ok_or_else(|| UnknownKind(raw.trim().to_owned()))
    }
}

/// How the UI should edit a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum FieldInput {
    Url,
    Text,
    Secret,
}

/// One field of a connection type: what the form shows and what validation enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub input: FieldInput,
    pub required: bool,
    pub default: Option<&'static str>,
    pub placeholder: &'static str,
    pub help: &'static str,
}

impl FieldSpec {
    pub fn is_secret(&self) -> bool {
        self.input == FieldInput::Secret
    }
}

/// A connection type as the UI's form and the validator see it. `custom` has no fixed fields:
/// its `configs` and `secrets` are free key-value maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KindSpec {
    pub kind: ConnectionKind,
    pub label: &'static str,
    pub description: &'static str,
    pub fields: &'static [FieldSpec],
}

pub fn kind_specs() -> &'static [KindSpec] {
    &SPECS
}

const fn field(key: &'static str, label: &'static str, input: FieldInput) -> FieldSpec {
    FieldSpec {
        key,
        label,
        input,
        required: true,
        default: None,
        placeholder: "",
        help: "",
    }
}

const API_KEY: FieldSpec = FieldSpec {
    help: "Stored in your OS keychain, never in Weft's files.",
    ..field("api_key", "API key", FieldInput::Secret)
};

const fn optional(spec: FieldSpec, default: Option<&'static str>) -> FieldSpec {
    FieldSpec {
        required: false,
        default,
        ..spec
    }
}

const SPECS: [KindSpec; 8] = [
    KindSpec {
        kind: ConnectionKind::AzureAi,
        label: "Azure AI Foundry",
        description: "Every model deployment of an Azure AI Foundry resource, through its /models endpoint. Nodes pick the deployment.",
        fields: &[
            FieldSpec {
                placeholder: "https://<resource>.services.ai.azure.com/models",
                help: "The resource's model inference endpoint, ending in /models.",
                ..field("endpoint", "Endpoint", FieldInput::Url)
            },
            API_KEY,
            optional(
                FieldSpec {
                    help: "The Azure AI Model Inference API version.",
                    ..field("api_version", "API version", FieldInput::Text)
                },
                Some("2024-05-01-preview"),
            ),
        ],
    },
    KindSpec {
        kind: ConnectionKind::AzureOpenAi,
        label: "Azure OpenAI",
        description: "An Azure OpenAI resource, one deployment (…/openai/deployments/<name>), or the v1 API (…/openai/v1).",
        fields: &[
            FieldSpec {
                placeholder: "https://<resource>.openai.azure.com",
                help: "The resource URL, a full deployment URL (pins the deployment), or an …/openai/v1 base.",
                ..field("api_base", "API base", FieldInput::Url)
            },
            API_KEY,
            optional(
                FieldSpec {
                    help: "Not used by the v1 API.",
                    ..field("api_version", "API version", FieldInput::Text)
                },
                Some("2024-10-21"),
            ),
            optional(
                field("api_type", "API type", FieldInput::Text),
                Some("azure"),
            ),
        ],
    },
    KindSpec {
        kind: ConnectionKind::OpenAi,
        label: "OpenAI",
        description: "OpenAI, or any server that speaks the OpenAI API (for example a local one).",
        fields: &[
            API_KEY,
            optional(
                FieldSpec {
                    placeholder: "org-…",
                    ..field("organization", "Organization", FieldInput::Text)
                },
                None,
            ),
            optional(
                FieldSpec {
                    help: "Change it to use an OpenAI-compatible server.",
                    ..field("base_url", "Base URL", FieldInput::Url)
                },
                Some("https://api.openai.com/v1"),
            ),
        ],
    },
    KindSpec {
        kind: ConnectionKind::Serverless,
        label: "Serverless endpoint",
        description: "An Azure AI serverless API (models-as-a-service) endpoint; Bearer authentication.",
        fields: &[
            FieldSpec {
                placeholder: "https://<name>.<region>.models.ai.azure.com",
                ..field("api_base", "API base", FieldInput::Url)
            },
            API_KEY,
        ],
    },
    KindSpec {
        kind: ConnectionKind::AzureContentSafety,
        label: "Azure AI Content Safety",
        description: "An Azure AI Content Safety resource.",
        fields: &[
            FieldSpec {
                placeholder: "https://<resource>.cognitiveservices.azure.com",
                ..field("endpoint", "Endpoint", FieldInput::Url)
            },
            API_KEY,
            optional(
                field("api_version", "API version", FieldInput::Text),
                Some("2023-10-01"),
            ),
        ],
    },
    KindSpec {
        kind: ConnectionKind::CognitiveSearch,
        label: "Azure AI Search",
        description: "An Azure AI Search (formerly Cognitive Search) service.",
        fields: &[
            FieldSpec {
                placeholder: "https://<service>.search.windows.net",
                ..field("api_base", "API base", FieldInput::Url)
            },
            API_KEY,
            optional(
                field("api_version", "API version", FieldInput::Text),
                Some("2023-11-01"),
            ),
        ],
    },
    KindSpec {
        kind: ConnectionKind::Serp,
        label: "SerpAPI",
        description: "A SerpAPI key for web search.",
        fields: &[API_KEY],
    },
    KindSpec {
        kind: ConnectionKind::Custom,
        label: "Custom",
        description: "Any key-value settings; each key is plain or secret.",
        fields: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_line_up_with_kinds() {
        for kind in ConnectionKind::ALL {
            assert_eq!(kind.spec().kind, kind);
            assert_eq!(kind.as_str().parse::<ConnectionKind>().unwrap(), kind);
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
        }
    }

    #[test]
    fn parses_prompt_flow_alias_and_rejects_unknown_types() {
        assert_eq!(
            "azure_ai_services".parse::<ConnectionKind>().unwrap(),
            ConnectionKind::AzureAi
        );
        assert_eq!(
            " Azure_Open_AI ".parse::<ConnectionKind>().unwrap(),
            ConnectionKind::AzureOpenAi
        );
        let err = "cosmos".parse::<ConnectionKind>().unwrap_err();
        assert!(
            err.to_string().contains("expected one of azure_ai"),
            "{err}"
        );
    }
}
