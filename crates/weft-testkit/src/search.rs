//! A fake Azure AI Search service on 127.0.0.1: document search over in-memory indexes.
//!
//! The contract, from the published REST reference and its OpenAPI file:
//! - `POST {endpoint}/indexes/{index}/docs/search?api-version=2024-07-01` (the form the how-to
//!   articles use; the reference writes the same operation as
//!   `/indexes('{index}')/docs/search.post.search`, which the fake also serves), the key in the
//!   `api-key` header
//!   (https://learn.microsoft.com/rest/api/searchservice/documents/search-post;
//!   Azure/azure-rest-api-specs specification/search/data-plane/Azure.Search/stable/2024-07-01/examples/SearchIndexSearchDocumentsPost.json).
//! - body: `search` (`*` or absent: every document), `searchFields`, `select` (comma-separated
//!   field names), `filter` (OData), `top` (50 when absent:
//!   https://learn.microsoft.com/azure/search/search-pagination-page-layout), `count`,
//!   `vectorQueries: [{kind: "vector", vector: [...], fields: "<field>", k}]`.
//! - answer `{"@odata.count"?, value: [{"@search.score": …, …fields}]}`.
//! - statuses (https://learn.microsoft.com/rest/api/searchservice/http-status-codes): 400 with
//!   a message naming the problem, 401 when credentials are missing, 403 for a refused api-key
//!   (the older page: "Returned when you pass an invalid api-key"), 404 when the index does not
//!   exist, 429 and 503 when throttled. Neither page shows a body for 401/403: the fake sends
//!   none. An unknown index is 404 `{"error": {"code": "", "message": "The index '<name>' for
//!   service '<service>' was not found."}}`, the body the service sends (quoted in
//!   microsoft/semantic-kernel#3015).
//! - The docs give no exact text for a bad filter or a missing api-version: those messages are
//!   illustrative. The fake's filter knows `<field> eq '<text>'` and `<field> eq <number>` only;
//!   anything else is the 400 a bad filter gets. Scores are the fake's own (term counts, cosine
//!   similarity, reciprocal-rank fusion for hybrid queries); only their order means anything.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::azure::Recorded;
use crate::service::{Answer, Failure, Failures, Requests, query_pairs, serve};

pub const SEARCH_API_VERSION: &str = "2024-07-01";
/// `top` when the request leaves it out.
const DEFAULT_TOP: usize = 50;

/// What the fake service holds: its name (for the 404 text), the keys it accepts (none
/// listed: any), its indexes and their documents, and the failures it answers with first.
#[derive(Debug)]
pub struct SearchSetup {
    service: String,
    keys: HashSet<String>,
    indexes: HashMap<String, Vec<Map<String, Value>>>,
    failures: Failures,
}

impl Default for SearchSetup {
    fn default() -> Self {
        Self {
            service: "weft-fake".to_owned(),
            keys: HashSet::new(),
            indexes: HashMap::new(),
            failures: Failures::default(),
        }
    }
}

impl SearchSetup {
    /// Accept this `api-key`; once one is listed, anything else is refused.
    pub fn key(mut self, key: &str) -> Self {
        self.keys.insert(key.to_owned());
        self
    }

    /// An index holding `documents` (JSON objects; a vector field is an array of numbers).
    pub fn index(mut self, name: &str, documents: Vec<Value>) -> Self {
        let documents = documents
            .into_iter()
            .map(|document| match document {
                Value::Object(fields) => fields,
                other => panic!("a document is a JSON object, not {other}"),
            })
            .collect();
        self.indexes.insert(name.to_owned(), documents);
        self
    }

    /// Answer the next request with `failure` (after those already queued).
    pub fn fail_next(mut self, failure: Failure) -> Self {
        self.failures.push(failure);
        self
    }

    pub fn start(self) -> SearchFake {
        let setup = Arc::new(Mutex::new(self));
        let state = setup.clone();
        let (base, requests) = serve(move |request| answer(&mut state.lock().unwrap(), request));
        SearchFake {
            base,
            requests,
            setup,
        }
    }
}

/// A running fake service: `base` stands for `https://<service>.search.windows.net`.
pub struct SearchFake {
    pub base: String,
    requests: Requests,
    setup: Arc<Mutex<SearchSetup>>,
}

impl SearchFake {
    pub fn setup() -> SearchSetup {
        SearchSetup::default()
    }

    /// Every request so far, in the order they came.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Queue a failure on the running fake.
    pub fn fail_next(&self, failure: Failure) {
        self.setup.lock().unwrap().failures.push(failure);
    }
}

fn error(status: u16, message: &str) -> Answer {
    Answer::json(status, &json!({"error": {"code": "", "message": message}}))
}

/// The index a path names, in either of the documented spellings.
fn index_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/indexes")?;
    if let Some(quoted) = rest.strip_prefix("('") {
        return quoted.strip_suffix("')/docs/search.post.search");
    }
    rest.strip_prefix('/')?.strip_suffix("/docs/search")
}

fn answer(setup: &mut SearchSetup, request: &Recorded) -> Answer {
    let Some(index) = index_name(request.path()).filter(|_| request.method == "POST") else {
        return error(404, "Resource not found");
    };
    let version = query_pairs(request)
        .into_iter()
        .find(|(name, _)| name == "api-version")
        .map(|(_, value)| value);
    if version.as_deref() != Some(SEARCH_API_VERSION) {
        return error(
            400,
            "Invalid or missing api-version query string parameter.",
        );
    }
    if let Some(next) = setup.failures.next() {
        let message = match next {
            Failure::RateLimited { .. } => {
                "You are sending too many requests. Please try again later."
            }
            Failure::Unavailable { .. } => {
                "Service is temporarily unavailable. Please try again later."
            }
            Failure::Internal => "An internal error occurred.",
        };
        return next.with_wait(error(next.status(), message));
    }
    if !setup.keys.is_empty() {
        match request.header("api-key") {
            None => return Answer::empty(401),
            Some(key) if !setup.keys.contains(key) => return Answer::empty(403),
            Some(_) => {}
        }
    }
    let Some(documents) = setup.indexes.get(index) else {
        return error(
            404,
            &format!(
                "The index '{index}' for service '{}' was not found.",
                setup.service
            ),
        );
    };
    match search(documents, request) {
        Ok(result) => Answer::json(200, &result),
        Err(message) => error(400, &message),
    }
}

fn fields(list: Option<&Value>) -> Option<Vec<String>> {
    list.and_then(Value::as_str).map(|list| {
        list.split(',')
            .map(|field| field.trim().to_owned())
            .filter(|field| !field.is_empty())
            .collect()
    })
}

fn search(documents: &[Map<String, Value>], request: &Recorded) -> Result<Value, String> {
    let body: Value = serde_json::from_str(&request.body)
        .map_err(|_| "The request is invalid. Details: the body is not valid JSON.".to_owned())?;
    let candidates: Vec<&Map<String, Value>> = match body.get("filter").and_then(Value::as_str) {
        Some(filter) => {
            let (field, wanted) = parse_filter(filter)?;
            documents
                .iter()
                .filter(|document| document.get(&field) == Some(&wanted))
                .collect()
        }
        None => documents.iter().collect(),
    };
    let mut rankings = Vec::new();
    let text = body.get("search").and_then(Value::as_str);
    let vectors = body
        .get("vectorQueries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if text.is_some() || vectors.is_empty() {
        let search_fields = fields(body.get("searchFields"));
        rankings.push(keyword(&candidates, text, search_fields.as_deref()));
    }
    for query in &vectors {
        rankings.push(vector(&candidates, query)?);
    }
    let scored = if rankings.len() == 1 {
        rankings.remove(0)
    } else {
        fuse(&rankings)
    };
    let top = body
        .get("top")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_TOP, |top| top as usize);
    let select = fields(body.get("select"));
    let value: Vec<Value> = scored
        .iter()
        .take(top)
        .map(|(index, score)| {
            let mut hit = Map::new();
            hit.insert("@search.score".into(), json!(score));
            for (name, field) in candidates[*index] {
                if select.as_ref().is_none_or(|select| select.contains(name)) {
                    hit.insert(name.clone(), field.clone());
                }
            }
            Value::Object(hit)
        })
        .collect();
    let mut result = json!({ "value": value });
    if body["count"] == true {
        result["@odata.count"] = json!(scored.len());
    }
    Ok(result)
}

/// `<field> eq '<text>'` or `<field> eq <number>`.
fn parse_filter(filter: &str) -> Result<(String, Value), String> {
    let invalid =
        || format!("Invalid expression: Syntax error in '{filter}'.\r\nParameter name: $filter");
    let mut parts = filter.splitn(3, ' ');
    let (Some(field), Some("eq"), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let value = value.trim();
    let wanted = match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(text) => json!(text),
        None => serde_json::from_str::<serde_json::Number>(value)
            .map(Value::Number)
            .map_err(|_| invalid())?,
    };
    Ok((field.to_owned(), wanted))
}

/// (candidate index, score), best first; a document matching no term is left out. A keyword
/// score is the number of times the terms occur in the searched fields.
type Ranking = Vec<(usize, f64)>;

fn keyword(
    candidates: &[&Map<String, Value>],
    text: Option<&str>,
    search_fields: Option<&[String]>,
) -> Ranking {
    let terms: Vec<String> = match text.map(str::trim) {
        None | Some("" | "*") => return (0..candidates.len()).map(|i| (i, 1.0)).collect(),
        Some(text) => text.split_whitespace().map(str::to_lowercase).collect(),
    };
    let mut ranking: Ranking = candidates
        .iter()
        .enumerate()
        .filter_map(|(index, document)| {
            let hits: usize = document
                .iter()
                .filter(|(name, _)| search_fields.is_none_or(|only| only.contains(name)))
                .filter_map(|(_, field)| field.as_str())
                .map(|field| {
                    let field = field.to_lowercase();
                    terms
                        .iter()
                        .map(|term| field.matches(term.as_str()).count())
                        .sum::<usize>()
                })
                .sum();
            (hits > 0).then_some((index, hits as f64))
        })
        .collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranking
}

fn vector(candidates: &[&Map<String, Value>], query: &Value) -> Result<Ranking, String> {
    if query["kind"] != "vector" {
        return Err(format!(
            "The vector query kind {} is not supported here; use \"vector\".",
            query["kind"]
        ));
    }
    let wanted: Vec<f64> = query["vector"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let field = query["fields"].as_str().unwrap_or_default();
    let k = query["k"].as_u64().map_or(DEFAULT_TOP, |k| k as usize);
    let mut ranking = Ranking::new();
    for (index, document) in candidates.iter().enumerate() {
        let Some(stored) = document.get(field).and_then(Value::as_array) else {
            return Err(format!("Unknown field '{field}' in vector field list."));
        };
        let stored: Vec<f64> = stored.iter().filter_map(Value::as_f64).collect();
        if stored.len() != wanted.len() {
            return Err(format!(
                "The vector field '{field}' has {} dimensions, but the query vector has {}.",
                stored.len(),
                wanted.len()
            ));
        }
        ranking.push((index, cosine(&stored, &wanted)));
    }
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranking.truncate(k);
    Ok(ranking)
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
}

/// Reciprocal-rank fusion of several rankings (k = 60).
fn fuse(rankings: &[Ranking]) -> Ranking {
    let mut scores: HashMap<usize, f64> = HashMap::new();
    for ranking in rankings {
        for (rank, (index, _)) in ranking.iter().enumerate() {
            *scores.entry(*index).or_default() += 1.0 / (60.0 + rank as f64 + 1.0);
        }
    }
    let mut fused: Ranking = scores.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::raw;

    fn fake() -> SearchFake {
        SearchFake::setup()
            .key("k")
            .index("docs", vec![json!({"id": "1", "text": "alpha beta"})])
            .start()
    }

    #[test]
    fn serves_both_spellings_of_the_search_path() {
        let fake = fake();
        let key = [("api-key", "k")];
        for path in [
            "/indexes/docs/docs/search?api-version=2024-07-01",
            "/indexes('docs')/docs/search.post.search?api-version=2024-07-01",
        ] {
            let (status, _, body) = raw(
                &fake.base,
                "POST",
                path,
                &key,
                r#"{"search":"alpha","count":true}"#,
            );
            assert_eq!(status, 200, "{path}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["@odata.count"], 1);
            assert_eq!(body["value"][0]["id"], "1");
        }
    }

    #[test]
    fn refuses_a_missing_or_wrong_key_a_wrong_version_and_an_unknown_index() {
        let fake = fake();
        let path = "/indexes/docs/docs/search?api-version=2024-07-01";
        let (status, _, body) = raw(&fake.base, "POST", path, &[], "{}");
        assert_eq!(
            (status, body.as_str()),
            (401, ""),
            "no body, as the docs show none"
        );
        assert_eq!(
            raw(&fake.base, "POST", path, &[("api-key", "no")], "{}").0,
            403
        );
        let old = "/indexes/docs/docs/search?api-version=2019-05-06";
        assert_eq!(
            raw(&fake.base, "POST", old, &[("api-key", "k")], "{}").0,
            400
        );
        let (status, _, body) = raw(
            &fake.base,
            "POST",
            "/indexes/nope/docs/search?api-version=2024-07-01",
            &[("api-key", "k")],
            "{}",
        );
        assert_eq!(status, 404);
        assert!(
            body.contains("The index 'nope' for service 'weft-fake' was not found."),
            "{body}"
        );
    }
}
