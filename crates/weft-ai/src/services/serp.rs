//! SerpApi: a Google or Bing web search, its organic results.
//!
//! The contract, from SerpApi's documentation:
//! - `GET {endpoint}/search.json?engine=google|bing&q=…&api_key=…`. The key travels in the
//!   query string, so the request marks it secret: every URL Weft shows or logs reads
//!   `api_key=******`.
//! - Google (https://serpapi.com/search-api): `location`, `hl` (interface language), `num`,
//!   `safe=active`. Google no longer honours `num`
//!   (https://serpapi.com/blog/google-experiments-with-restricting-results-per-page/), so the
//!   results are also cut to the number asked for here.
//! - Bing (https://serpapi.com/bing-search-api): `location`, `mkt` (the market,
//!   `<language>-<country>` such as `en-US`; it takes the language), `count` (1 to 50),
//!   `safeSearch` (`Strict` for safe search). The parameter names per engine are those of
//!   Prompt flow's SerpAPI tool (microsoft/promptflow src/promptflow-tools/promptflow/tools/serpapi.py).
//! - answer `{search_metadata: {status}, organic_results: [{position, title, link, snippet?, …}]}`.
//! - errors (https://serpapi.com/api-status-and-error-codes): `{"error": "<message>"}` with 400
//!   (a missing parameter), 401 (no valid key), 403 (the account may not), 429 (the hourly
//!   throughput or the account's searches are used up), 500/503. A search that finds nothing
//!   is a success (https://serpapi.com/search-errors): 200, `search_metadata.status`
//!   `Success`, no `organic_results` and an `error` text; it is an empty list here. A 200 whose
//!   status is `Error` is a failed search.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Handles, base_url, join};
use crate::error::InferenceError;
use crate::request::PreparedRequest;
use crate::status::Failure;
use crate::{ApiKey, Client};

/// Where SerpApi answers, unless the connection names a proxy or a test server.
pub const SERP_DEFAULT_ENDPOINT: &str = "https://serpapi.com";
/// The most results Bing gives per page (`count`).
pub const BING_MAX_COUNT: u32 = 50;

/// SerpApi (or a stand-in) and its key.
#[derive(Debug, Clone)]
pub struct SerpTarget {
    endpoint: Url,
    key: ApiKey,
}

impl SerpTarget {
    /// `endpoint` is [`SERP_DEFAULT_ENDPOINT`] unless the connection says otherwise.
    pub fn new(endpoint: &str, key: ApiKey) -> Result<Self, InferenceError> {
        Ok(Self {
            endpoint: base_url("SerpApi", endpoint, SERP_DEFAULT_ENDPOINT)?,
            key,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Google,
    Bing,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Bing => "bing",
        }
    }
}

/// One web search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SerpRequest {
    pub engine: Engine,
    pub query: String,
    /// How many results (None: the engine's default, 10). Bing gives at most
    /// [`BING_MAX_COUNT`]; more is asked as that many.
    pub num: Option<u32>,
    /// Where the search comes from, as `Austin, Texas, United States`.
    pub location: Option<String>,
    /// Google: the interface language (`en`); Bing: the market (`en-US`).
    pub language: Option<String>,
    pub safe: bool,
}

impl SerpRequest {
    /// The URL this search asks, without the key ([`search`] appends `api_key` to it).
    pub fn url(&self, target: &SerpTarget) -> Result<Url, InferenceError> {
        if self.query.trim().is_empty() {
            return Err(InferenceError::Config(
                "the web search has no query; give it the text to search for".to_owned(),
            ));
        }
        let mut url = join(&target.endpoint, &["search.json"]);
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("engine", self.engine.as_str())
                .append_pair("q", &self.query);
            if let Some(location) = self.location.as_deref().filter(|l| !l.is_empty()) {
                pairs.append_pair("location", location);
            }
            let language = self.language.as_deref().filter(|l| !l.is_empty());
            match self.engine {
                Engine::Google => {
                    if let Some(num) = self.num {
                        pairs.append_pair("num", &num.to_string());
                    }
                    if let Some(language) = language {
                        pairs.append_pair("hl", language);
                    }
                    if self.safe {
                        pairs.append_pair("safe", "active");
                    }
                }
                Engine::Bing => {
                    if let Some(num) = self.num {
                        pairs.append_pair("count", &num.min(BING_MAX_COUNT).to_string());
                    }
                    if let Some(language) = language {
                        pairs.append_pair("mkt", language);
                    }
                    if self.safe {
                        pairs.append_pair("safeSearch", "Strict");
                    }
                }
            }
        }
        Ok(url)
    }
}

/// One organic result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganicResult {
    pub position: u32,
    pub title: String,
    pub link: String,
    #[serde(default)]
    pub snippet: Option<String>,
}

#[derive(Deserialize)]
struct WireResults {
    #[serde(default)]
    search_metadata: WireMetadata,
    #[serde(default)]
    organic_results: Vec<OrganicResult>,
    error: Option<String>,
}

#[derive(Default, Deserialize)]
struct WireMetadata {
    status: Option<String>,
}

/// Runs the search and returns its organic results, at most `request.num` of them.
pub async fn search(
    client: &Client,
    target: &SerpTarget,
    request: &SerpRequest,
    handles: &Handles,
) -> Result<Vec<OrganicResult>, InferenceError> {
    let prepared = PreparedRequest::new(reqwest::Method::GET, request.url(target)?)
        .secret_query("api_key", &target.key)
        .header("accept", "application/json");
    let reply = client
        .transport()
        .send_mapped(&prepared, handles.watch(), error)
        .await?;
    let results: WireResults = reply.json()?;
    if results.search_metadata.status.as_deref() == Some("Error") {
        let message = results.error.map_or_else(
            || "no details given".to_owned(),
            |error| prepared.mask(&error),
        );
        return Err(InferenceError::Protocol {
            what: format!("SerpApi could not complete the search: {message}"),
        });
    }
    let mut organic = results.organic_results;
    if let Some(num) = request.num {
        organic.truncate(num as usize);
    }
    Ok(organic)
}

fn error(failure: Failure) -> InferenceError {
    failure.into_error(
        "check the connection's endpoint: SerpApi answers at https://serpapi.com/search.json",
    )
}
