//! Azure AI Content Safety: analyse a text for harm (hate, self-harm, sexual, violence) and
//! against the resource's blocklists.
//!
//! The contract (https://learn.microsoft.com/rest/api/contentsafety/text-operations/analyze-text
//! and its OpenAPI file, Azure/azure-rest-api-specs
//! specification/cognitiveservices/data-plane/ContentSafety/stable/2024-09-01/contentsafety.json):
//! - `POST {endpoint}/contentsafety/text:analyze?api-version=2024-09-01`, the key in the
//!   `Ocp-Apim-Subscription-Key` header (Microsoft Entra ID tokens are also accepted; Weft's
//!   Content Safety connection holds a key).
//! - body `{text, categories?, blocklistNames?, haltOnBlocklistHit?, outputType?}`. `text` holds
//!   at most 10,000 Unicode code points ("We support a maximum of 10k Unicode characters
//!   (Unicode code points) in the text of one request", `maxLength: 10000`); no category named
//!   means all four; `outputType` defaults to `FourSeverityLevels` (0, 2, 4, 6), or
//!   `EightSeverityLevels` (0 to 7).
//! - answer `{blocklistsMatch?: [{blocklistName, blocklistItemId, blocklistItemText}],
//!   categoriesAnalysis: [{category, severity?}]}`; both enums are "modelAsString", so a
//!   category Weft does not know yet is kept as its text.
//! - errors `{"error": {"code", "message", "target"?, "details"?, "innererror"?}}` with the
//!   codes of https://learn.microsoft.com/azure/ai-services/content-safety/concepts/response-codes
//!   (`InvalidRequestBody`, `InvalidResourceName`, `ResourceNotFound` — e.g. a blocklist that
//!   does not exist —, `InternalError`, `ServerBusy`, `TooManyRequests`); a refused key is 401.
//!
//! Text over the limit is refused before any call rather than split: the service analyses
//! each request on its own, so a split would judge each part without the rest (a phrase cut in
//! two matches no blocklist item) and the node would have to invent how to merge the verdicts.
//! Splitting upstream, where the flow knows what the parts mean, keeps the verdict honest.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Handles, base_url, join};
use crate::error::InferenceError;
use crate::request::PreparedRequest;
use crate::status::Failure;
use crate::{ApiKey, Client};

/// The Content Safety API version Weft calls: the current GA one.
pub const CONTENT_SAFETY_API_VERSION: &str = "2024-09-01";
/// The most Unicode code points (Rust `char`s) one analysis takes.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// A Content Safety resource and its key.
#[derive(Debug, Clone)]
pub struct ContentSafetyTarget {
    endpoint: Url,
    key: ApiKey,
    api_version: String,
}

impl ContentSafetyTarget {
    /// `endpoint` is the resource's, `https://<resource>.cognitiveservices.azure.com`.
    pub fn new(endpoint: &str, key: ApiKey) -> Result<Self, InferenceError> {
        Ok(Self {
            endpoint: base_url(
                "Content Safety",
                endpoint,
                "https://<resource>.cognitiveservices.azure.com",
            )?,
            key,
            api_version: CONTENT_SAFETY_API_VERSION.to_owned(),
        })
    }

    /// Another API version (the connection's), instead of [`CONTENT_SAFETY_API_VERSION`].
    pub fn with_api_version(mut self, api_version: &str) -> Self {
        api_version.clone_into(&mut self.api_version);
        self
    }

    /// The URL an analysis is sent to (the key is not in it: it travels in a header).
    pub fn url(&self) -> Url {
        let mut url = join(&self.endpoint, &["contentsafety", "text:analyze"]);
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);
        url
    }
}

/// A harm category the service rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Hate,
    SelfHarm,
    Sexual,
    Violence,
}

impl Category {
    pub const ALL: [Category; 4] = [Self::Hate, Self::SelfHarm, Self::Sexual, Self::Violence];

    /// The service's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hate => "Hate",
            Self::SelfHarm => "SelfHarm",
            Self::Sexual => "Sexual",
            Self::Violence => "Violence",
        }
    }
}

/// How fine the severities are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputType {
    /// 0, 2, 4 or 6.
    #[default]
    FourSeverityLevels,
    /// 0 to 7.
    EightSeverityLevels,
}

/// One text to analyse.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeRequest {
    pub text: String,
    /// Empty: all four.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocklist_names: Vec<String>,
    /// Skip the harm analysis when a blocklist matches.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub halt_on_blocklist_hit: bool,
    pub output_type: OutputType,
}

/// What the service found.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    #[serde(default)]
    pub blocklists_match: Vec<BlocklistMatch>,
    #[serde(default)]
    pub categories_analysis: Vec<CategoryAnalysis>,
    /// The resource's id for the call (`apim-request-id`), for a support case, as a chat
    /// answer carries one.
    #[serde(skip)]
    pub request_id: Option<String>,
}

impl Analysis {
    /// The severity found for `category`, if it was analysed.
    pub fn severity(&self, category: Category) -> Option<u8> {
        self.categories_analysis
            .iter()
            .find(|analysis| analysis.category == category.as_str())
            .and_then(|analysis| analysis.severity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlocklistMatch {
    pub blocklist_name: String,
    pub blocklist_item_id: String,
    pub blocklist_item_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CategoryAnalysis {
    /// The service's name (`Hate`, `SelfHarm`, …), kept as text: the service may add more.
    pub category: String,
    pub severity: Option<u8>,
}

/// Analyses `request.text`. Text over [`MAX_TEXT_CHARS`] is refused before any call.
pub async fn analyze(
    client: &Client,
    target: &ContentSafetyTarget,
    request: &AnalyzeRequest,
    handles: &Handles,
) -> Result<Analysis, InferenceError> {
    let length = request.text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(InferenceError::Config(format!(
            "the text to analyse has {length} characters, but Content Safety analyses at most {MAX_TEXT_CHARS} per call; shorten it, or split it upstream and analyse each part with its own node"
        )));
    }
    let prepared = PreparedRequest::new(reqwest::Method::POST, target.url())
        .secret_header(
            "Ocp-Apim-Subscription-Key",
            target.key.expose(),
            &target.key,
        )
        .json(request)?;
    let reply = client
        .transport()
        .send_mapped(&prepared, handles.watch(), |failure| {
            error(failure, &target.api_version)
        })
        .await?;
    let mut analysis: Analysis = reply.json()?;
    analysis.request_id = reply.request_id;
    Ok(analysis)
}

/// A failed status as the Content Safety resource means it.
fn error(failure: Failure, api_version: &str) -> InferenceError {
    let hint = if failure.code.as_deref() == Some("ResourceNotFound") {
        "a blocklist the node names does not exist on this resource; check the blocklist names (they are case-sensitive)".to_owned()
    } else {
        format!(
            "check the endpoint: a Content Safety resource answers at https://<resource>.cognitiveservices.azure.com, with api-version {api_version}"
        )
    };
    failure.into_error(&hint)
}
