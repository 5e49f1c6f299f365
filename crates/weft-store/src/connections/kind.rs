use std::collections::BTreeMap;
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
    /// One of the field's `choices`.
    Choice,
}

/// One value a choice field accepts, and how the form names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// A field that belongs to the connection only while another (choice) field has one value:
/// the form hides it otherwise, validation neither requires nor stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ShownWhen {
    pub field: &'static str,
    pub equals: &'static str,
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
    /// The accepted values of a `choice` field (empty for the other inputs).
    pub choices: &'static [Choice],
    pub shown_when: Option<ShownWhen>,
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

impl KindSpec {
    pub fn field(&self, key: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|field| field.key == key)
    }

    /// Whether `field` belongs to a connection with this `config`: always, or while the field it
    /// depends on has the value it needs (given, else that field's default).
    pub fn shows(&self, field: &FieldSpec, config: &BTreeMap<String, String>) -> bool {
        let Some(when) = field.shown_when else {
            return true;
        };
        let value = config
            .get(when.field)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
            .or_else(|| self.field(when.field).and_then(|field| field.default));
        value.is_some_and(|value| value.eq_ignore_ascii_case(when.equals))
    }
}

pub fn kind_specs() -> &'static [KindSpec] {
    &SPECS
}

/// How a connection proves who is calling: Prompt flow's `auth_mode` field and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// An API key from the keychain.
    Key,
    /// A Microsoft Entra ID token from the developer's own sign-in; no secret is stored.
    MeidToken,
}

impl AuthMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::MeidToken => "meid_token",
        }
    }
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
        choices: &[],
        shown_when: None,
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

const fn shown_when(spec: FieldSpec, field: &'static str, equals: &'static str) -> FieldSpec {
    FieldSpec {
        shown_when: Some(ShownWhen { field, equals }),
        ..spec
    }
}

/// The dated version of its REST API that a service is called with.
const fn api_version(help: &'static str, default: &'static str) -> FieldSpec {
    optional(
        FieldSpec {
            help,
            ..field("api_version", "API version", FieldInput::Text)
        },
        Some(default),
    )
}

const AUTH_MODE: FieldSpec = FieldSpec {
    help: "Microsoft Entra ID signs in as you, through `az login` or `azd auth login`, and stores no secret.",
    choices: &[
        Choice {
            value: AuthMode::Key.as_str(),
            label: "API key",
        },
        Choice {
            value: AuthMode::MeidToken.as_str(),
            label: "Microsoft Entra ID",
        },
    ],
    ..optional(
        field("auth_mode", "Authentication", FieldInput::Choice),
        Some(AuthMode::Key.as_str()),
    )
};

/// The API key of a connection that can also sign in with Entra ID.
const KEYED_API_KEY: FieldSpec = shown_when(API_KEY, "auth_mode", AuthMode::Key.as_str());

const TOKEN_SCOPE: FieldSpec = shown_when(
    optional(
        FieldSpec {
            placeholder: "https://ai.azure.com/.default",
            help: "The token's audience; leave empty for https://ai.azure.com/.default.",
            ..field("token_scope", "Token scope", FieldInput::Text)
        },
        None,
    ),
    "auth_mode",
    AuthMode::MeidToken.as_str(),
);

/// Declared by weft-ai too (`MODEL_INFERENCE_API_VERSION`, `AZURE_OPENAI_API_VERSION`), which
/// this crate does not depend on; a weft-core test fails when they differ.
const MODEL_INFERENCE_API_VERSION: &str = "2024-05-01-preview";
const AZURE_OPENAI_API_VERSION: &str = "2024-10-21";

/// The GA version of Azure AI Content Safety's REST API that the Content Safety node calls
/// (`POST {endpoint}/contentsafety/text:analyze?api-version=2024-09-01`,
/// https://learn.microsoft.com/rest/api/contentsafety/text-operations/analyze-text?view=rest-contentsafety-2024-09-01).
/// Prompt flow's `AzureContentSafetyConnection` still defaults to 2023-10-01, the first GA one.
/// A row saved with no api_version reads as this one; a row that stored 2023-10-01 keeps it:
/// Weft wrote the default into every row it saved, so a stored value cannot be told apart from
/// one the user typed, and 2023-10-01 is a GA version the service still serves.
pub const CONTENT_SAFETY_API_VERSION: &str = "2024-09-01";

/// The latest stable Azure AI Search REST API version
/// (https://learn.microsoft.com/rest/api/searchservice/search-service-api-versions); Prompt
/// flow's `CognitiveSearchConnection` defaults to 2023-11-01. Stored rows as for
/// [`CONTENT_SAFETY_API_VERSION`].
pub const SEARCH_API_VERSION: &str = "2024-07-01";

/// Where SerpAPI answers (https://serpapi.com/search-api: `GET https://serpapi.com/search.json`).
/// A serp connection may name another base, so that a proxy or a test server can stand in.
pub const SERP_ENDPOINT: &str = "https://serpapi.com";

const SPECS: [KindSpec; 8] = [
    KindSpec {
        kind: ConnectionKind::AzureAi,
        label: "Azure AI Foundry",
        description: "Every model deployment of an Azure AI Foundry resource, through the OpenAI v1 API. Nodes pick the deployment.",
        fields: &[
            FieldSpec {
                placeholder: "https://<resource>.services.ai.azure.com",
                help: "The resource URL; …/models, the bare resource or …/openai/v1 are all accepted.",
                ..field("endpoint", "Endpoint", FieldInput::Url)
            },
            FieldSpec {
                help: "v1, because Azure retired the /models API on 2026-08-26 and v1 serves every deployment of the resource.",
                choices: &[
                    Choice {
                        value: "v1",
                        label: "OpenAI v1 API",
                    },
                    Choice {
                        value: "model_inference",
                        label: "Azure AI Model Inference API (/models, retired)",
                    },
                ],
                ..optional(field("api", "API", FieldInput::Choice), Some("v1"))
            },
            AUTH_MODE,
            KEYED_API_KEY,
            TOKEN_SCOPE,
            shown_when(
                api_version(
                    "The Azure AI Model Inference API version.",
                    MODEL_INFERENCE_API_VERSION,
                ),
                "api",
                "model_inference",
            ),
        ],
    },
    KindSpec {
        kind: ConnectionKind::AzureOpenAi,
        label: "Azure OpenAI",
        description: "An Azure OpenAI resource: one deployment (…/openai/deployments/<name>), or every deployment through the v1 API.",
        fields: &[
            FieldSpec {
                placeholder: "https://<resource>.openai.azure.com",
                help: "The resource URL, a full deployment URL (pins the deployment), or an …/openai/v1 base.",
                ..field("api_base", "API base", FieldInput::Url)
            },
            FieldSpec {
                help: "The v1 API serves every deployment of the resource, and the node picks the deployment.",
                choices: &[
                    Choice {
                        value: "deployments",
                        label: "Deployment API (…/openai/deployments)",
                    },
                    Choice {
                        value: "v1",
                        label: "OpenAI v1 API (every deployment)",
                    },
                ],
                ..optional(field("api", "API", FieldInput::Choice), Some("deployments"))
            },
            AUTH_MODE,
            KEYED_API_KEY,
            TOKEN_SCOPE,
            shown_when(
                api_version(
                    "The Azure OpenAI deployment API version.",
                    AZURE_OPENAI_API_VERSION,
                ),
                "api",
                "deployments",
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
            api_version(
                "The Content Safety REST API version.",
                CONTENT_SAFETY_API_VERSION,
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
            api_version("The Azure AI Search REST API version.", SEARCH_API_VERSION),
        ],
    },
    KindSpec {
        kind: ConnectionKind::Serp,
        label: "SerpAPI",
        description: "A SerpAPI key for web search.",
        fields: &[
            API_KEY,
            optional(
                FieldSpec {
                    placeholder: SERP_ENDPOINT,
                    help: "Change it to reach SerpAPI through a proxy, or a test server.",
                    ..field("endpoint", "Endpoint", FieldInput::Url)
                },
                Some(SERP_ENDPOINT),
            ),
        ],
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
    fn choices_and_visibility_rules_are_consistent() {
        for spec in kind_specs() {
            for field in spec.fields {
                let is_choice = field.input == FieldInput::Choice;
                assert_eq!(is_choice, !field.choices.is_empty(), "{}", field.key);
                if is_choice {
                    let default = field.default.unwrap();
                    assert!(
                        field.choices.iter().any(|c| c.value == default),
                        "{}",
                        field.key
                    );
                }
                if let Some(when) = field.shown_when {
                    // Rules depend on an always-shown choice, so one look decides them.
                    let on = spec.field(when.field).unwrap();
                    assert!(on.shown_when.is_none(), "{}", field.key);
                    assert!(
                        on.choices.iter().any(|c| c.value == when.equals),
                        "{}",
                        field.key
                    );
                    assert!(!field.required || field.is_secret(), "{}", field.key);
                    // Validation words a refused hidden secret for this rule only.
                    if field.is_secret() {
                        assert_eq!(when.field, "auth_mode", "{}", field.key);
                    }
                }
            }
        }
    }

    #[test]
    fn fields_show_by_the_given_value_or_the_default() {
        let spec = ConnectionKind::AzureAi.spec();
        let key = spec.field("api_key").unwrap();
        let scope = spec.field("token_scope").unwrap();
        let version = spec.field("api_version").unwrap();
        let config = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let defaults = config(&[]);
        assert!(spec.shows(key, &defaults));
        assert!(!spec.shows(scope, &defaults));
        assert!(!spec.shows(version, &defaults));
        let entra = config(&[("auth_mode", " meid_token "), ("api", "model_inference")]);
        assert!(!spec.shows(key, &entra));
        assert!(spec.shows(scope, &entra));
        assert!(spec.shows(version, &entra));
    }

    #[test]
    fn specs_serialise_choices_and_rules_for_the_form() {
        let json = serde_json::to_value(ConnectionKind::AzureOpenAi.spec()).unwrap();
        let fields = json["fields"].as_array().unwrap();
        let auth = fields.iter().find(|f| f["key"] == "auth_mode").unwrap();
        assert_eq!(auth["input"], "choice");
        assert_eq!(auth["choices"][1]["value"], "meid_token");
        assert_eq!(auth["choices"][1]["label"], "Microsoft Entra ID");
        let version = fields.iter().find(|f| f["key"] == "api_version").unwrap();
        assert_eq!(
            version["shownWhen"],
            serde_json::json!({ "field": "api", "equals": "deployments" })
        );
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
