//! Azure AI Search: keyword, vector and hybrid queries over one index.
//!
//! The contract (https://learn.microsoft.com/rest/api/searchservice/documents/search-post and
//! Azure/azure-rest-api-specs
//! specification/search/data-plane/Azure.Search/stable/2024-07-01/examples/SearchIndexSearchDocumentsPost.json):
//! - `POST {endpoint}/indexes/{index}/docs/search?api-version=2024-07-01` (the form of
//!   https://learn.microsoft.com/azure/search/vector-search-how-to-query; the reference writes
//!   the same operation as `/indexes('{index}')/docs/search.post.search`), the key (admin or
//!   query) in the `api-key` header.
//! - body: `search` (the text; absent in a pure vector query), `searchFields`, `select`
//!   (comma-separated field names), `filter` (OData `$filter`), `top`, `vectorQueries:
//!   [{kind: "vector", vector: [...], fields: "<vector field>", k}]`; a body with both `search`
//!   and `vectorQueries` is a hybrid query.
//! - answer `{value: [{"@search.score": …, …the document's (selected) fields}]}`.
//! - statuses (https://learn.microsoft.com/rest/api/searchservice/http-status-codes): 400 (a
//!   bad filter, an unknown field; the body says which), 401 (no credential), 403 (a refused
//!   api-key: "Returned when you pass an invalid api-key"), 404 (no such index: `{"error":
//!   {"code": "", "message": "The index '<name>' for service '<service>' was not found."}}`, as
//!   quoted in microsoft/semantic-kernel#3015), 429 and 503 when throttled (retried).

use serde::Serialize;
use serde_json::{Map, Value};
use url::Url;

use super::{Handles, base_url, join};
use crate::error::InferenceError;
use crate::request::PreparedRequest;
use crate::status::Failure;
use crate::{ApiKey, Client};

/// The Azure AI Search data-plane API version Weft calls: the current GA one.
pub const SEARCH_API_VERSION: &str = "2024-07-01";

/// A search service and its key.
#[derive(Debug, Clone)]
pub struct SearchTarget {
    endpoint: Url,
    key: ApiKey,
    api_version: String,
}

impl SearchTarget {
    /// `endpoint` is the service's, `https://<service>.search.windows.net`.
    pub fn new(endpoint: &str, key: ApiKey) -> Result<Self, InferenceError> {
        Ok(Self {
            endpoint: base_url(
                "Azure AI Search",
                endpoint,
                "https://<service>.search.windows.net",
            )?,
            key,
            api_version: SEARCH_API_VERSION.to_owned(),
        })
    }

    /// Another API version (the connection's), instead of [`SEARCH_API_VERSION`].
    pub fn with_api_version(mut self, api_version: &str) -> Self {
        api_version.clone_into(&mut self.api_version);
        self
    }

    /// The URL a query of `index` is sent to (the key is not in it: it travels in a header).
    pub fn url(&self, index: &str) -> Url {
        let mut url = join(&self.endpoint, &["indexes", index, "docs", "search"]);
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);
        url
    }
}

/// The nearest neighbours of a vector in a vector field.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    pub vector: Vec<f32>,
    /// The vector field(s) to compare with.
    pub fields: Vec<String>,
    /// How many neighbours to find.
    pub k: u32,
}

/// One query: text (keyword), a vector, or both (hybrid).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    pub index: String,
    /// The text to match; None in a pure vector query.
    pub search: Option<String>,
    /// The fields the text is matched in (empty: all searchable ones).
    pub search_fields: Vec<String>,
    pub vector: Option<VectorQuery>,
    /// The fields to return (empty: all retrievable ones).
    pub select: Vec<String>,
    /// An OData filter, as `category eq 'faq'`.
    pub filter: Option<String>,
    /// How many documents to return (None: the service's default, 50, per
    /// https://learn.microsoft.com/azure/search/search-pagination-page-layout).
    pub top: Option<u32>,
}

/// One document found: its score and the fields the service returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub score: f64,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search_fields: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    select: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vector_queries: Vec<WireVectorQuery<'a>>,
}

#[derive(Serialize)]
struct WireVectorQuery<'a> {
    kind: &'static str,
    vector: &'a [f32],
    fields: String,
    k: u32,
}

/// The service's comma-separated field list; None for no fields.
fn field_list(fields: &[String]) -> Option<String> {
    (!fields.is_empty()).then(|| fields.join(","))
}

impl SearchRequest {
    /// The JSON body [`query`] sends for this request.
    pub fn body(&self) -> Result<Value, InferenceError> {
        // Through the bytes sent, so the vector's `f32`s read as they are sent.
        let bytes = crate::request::json_body(&self.wire()?)?;
        serde_json::from_slice(&bytes)
            .map_err(|err| InferenceError::Config(format!("could not encode the request: {err}")))
    }

    fn wire(&self) -> Result<WireRequest<'_>, InferenceError> {
        if self.index.trim().is_empty() {
            return Err(InferenceError::Config(
                "name the search index to query".to_owned(),
            ));
        }
        if self.search.is_none() && self.vector.is_none() {
            return Err(InferenceError::Config(
                "a search needs a text to match, a vector, or both".to_owned(),
            ));
        }
        let vector_queries = match &self.vector {
            Some(query) if query.fields.is_empty() => {
                return Err(InferenceError::Config(
                    "a vector query needs the vector field to compare with".to_owned(),
                ));
            }
            Some(query) => vec![WireVectorQuery {
                kind: "vector",
                vector: &query.vector,
                fields: query.fields.join(","),
                k: query.k,
            }],
            None => Vec::new(),
        };
        Ok(WireRequest {
            search: self.search.as_deref(),
            search_fields: field_list(&self.search_fields),
            select: field_list(&self.select),
            filter: self.filter.as_deref(),
            top: self.top,
            vector_queries,
        })
    }
}

#[derive(serde::Deserialize)]
struct WireResults {
    value: Vec<Map<String, Value>>,
}

/// Runs `request` and returns the documents found, best first.
pub async fn query(
    client: &Client,
    target: &SearchTarget,
    request: &SearchRequest,
    handles: &Handles,
) -> Result<Vec<Document>, InferenceError> {
    let prepared = PreparedRequest::new(reqwest::Method::POST, target.url(&request.index))
        .secret_header("api-key", target.key.expose(), &target.key)
        .json(&request.wire()?)?
        // A documented request header the service logs, so a support case can name the call.
        .client_request_id(uuid::Uuid::new_v4().to_string());
    let reply = client
        .transport()
        .send_mapped(&prepared, handles.watch(), |failure| {
            error(failure, &request.index)
        })
        .await?;
    let results: WireResults = reply.json()?;
    Ok(results
        .value
        .into_iter()
        .map(|mut fields| {
            let score = fields
                .remove("@search.score")
                .and_then(|score| score.as_f64())
                .unwrap_or_default();
            // The other annotations (highlights, reranker scores) are the service's, not the
            // document's.
            fields.retain(|name, _| !name.starts_with("@search."));
            Document { score, fields }
        })
        .collect())
}

/// What [`Failure`] says of an empty body (the search service sends none with a 403).
const NO_DETAILS: &str = "no details given";

/// A failed status as the search service means it: a 403 is a refused key, a 404 most likely
/// the index.
fn error(failure: Failure, index: &str) -> InferenceError {
    match failure.status {
        403 => {
            let mut message = "the search service refused the api-key; check the connection's key (an admin or query key of this search service)".to_owned();
            // The service sends no body with it; a gateway's text is worth keeping.
            if failure.message != NO_DETAILS {
                message = format!("{message}. {}", failure.message);
            }
            InferenceError::BadRequest {
                status: 403,
                message,
                request_id: failure.request_id,
            }
        }
        404 if failure.message.contains("index") => {
            let hint = format!(
                "there is no index `{index}` on this search service; check the index name (names are case-sensitive) and the connection's endpoint"
            );
            failure.into_error(&hint)
        }
        _ => failure.into_error(
            "check the connection's endpoint: a search service answers at https://<service>.search.windows.net",
        ),
    }
}
