//! A fake SerpApi on 127.0.0.1: `GET /search.json` for the `google` and `bing` engines.
//!
//! The contract, from SerpApi's documentation:
//! - `GET {endpoint}/search.json?engine=…&q=…&api_key=…`; the key travels in the query string.
//!   Google takes `location`, `hl` (language), `gl` (country), `num` and `safe=active`
//!   (https://serpapi.com/search-api); Bing takes `location`, `mkt` (`<language>-<country>`,
//!   not together with `cc`), `cc`, `count` (1 to 50), `first` and `safeSearch`
//!   (https://serpapi.com/bing-search-api). Google has stopped honouring `num`
//!   (https://serpapi.com/blog/google-experiments-with-restricting-results-per-page/): the
//!   fake still returns at most that many, which is what the client promises its callers.
//! - answer: `organic_results: [{position, title, link, snippet, …}]` beside `search_metadata`
//!   (`status` `Success`) and `search_parameters`.
//! - errors (https://serpapi.com/api-status-and-error-codes): `{"error": "<message>"}`; 400
//!   "Missing query `q` parameter.", 401 "Invalid API key. Your API key should be here:
//!   https://serpapi.com/manage-api-key", 429 "Your account has run out of searches." (429 also
//!   means the hourly throughput limit), 500/503 on SerpApi's side.
//! - a search with no results is a success: 200 with `search_metadata.status` `Success`,
//!   `search_information.organic_results_state` "Fully empty" and a top-level `error`
//!   (https://serpapi.com/search-errors).
//! - The docs say nothing of `Retry-After` on a 429, nor what an unknown engine or route
//!   answers: the fake sends `Retry-After` only when told to, and illustrative 400/404 texts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::azure::Recorded;
use crate::service::{Answer, Failure, Failures, Requests, query_pairs, serve};

/// Results per page when the request names no number.
const DEFAULT_COUNT: usize = 10;

/// One organic result the fake finds for every query.
#[derive(Debug, Clone)]
struct Organic {
    title: String,
    link: String,
    snippet: String,
}

/// What the fake knows: the keys it accepts (none listed: any), the organic results it finds
/// for every query, and the failures it answers with first.
#[derive(Debug, Default)]
pub struct SerpSetup {
    keys: HashSet<String>,
    results: Vec<Organic>,
    failures: Failures,
}

impl SerpSetup {
    /// Accept this `api_key`; once one is listed, anything else is refused.
    pub fn key(mut self, key: &str) -> Self {
        self.keys.insert(key.to_owned());
        self
    }

    /// One more organic result, after those already listed.
    pub fn result(mut self, title: &str, link: &str, snippet: &str) -> Self {
        self.results.push(Organic {
            title: title.to_owned(),
            link: link.to_owned(),
            snippet: snippet.to_owned(),
        });
        self
    }

    /// Answer the next request with `failure` (after those already queued).
    pub fn fail_next(mut self, failure: Failure) -> Self {
        self.failures.push(failure);
        self
    }

    pub fn start(self) -> SerpFake {
        let setup = Arc::new(Mutex::new(self));
        let state = setup.clone();
        let (base, requests) = serve(move |request| answer(&mut state.lock().unwrap(), request));
        SerpFake {
            base,
            requests,
            setup,
        }
    }
}

/// A running fake: `base` stands for `https://serpapi.com`.
pub struct SerpFake {
    pub base: String,
    requests: Requests,
    setup: Arc<Mutex<SerpSetup>>,
}

impl SerpFake {
    pub fn setup() -> SerpSetup {
        SerpSetup::default()
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
    Answer::json(status, &json!({ "error": message }))
}

fn answer(setup: &mut SerpSetup, request: &Recorded) -> Answer {
    if request.method != "GET" || request.path() != "/search.json" {
        return error(404, "The requested resource doesn't exist.");
    }
    if let Some(next) = setup.failures.next() {
        let message = match next {
            Failure::RateLimited { .. } => "Your account has run out of searches.",
            Failure::Unavailable { .. } | Failure::Internal => {
                "We couldn't get valid results for this search. Please try again later."
            }
        };
        return next.with_wait(error(next.status(), message));
    }
    let params = query_pairs(request);
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let key = param("api_key");
    if !setup.keys.is_empty() && !key.is_some_and(|key| setup.keys.contains(key)) {
        return error(
            401,
            "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key",
        );
    }
    let engine = param("engine").unwrap_or("google");
    let count_param = match engine {
        "google" => "num",
        "bing" => "count",
        other => return error(400, &format!("Unsupported `{other}` search engine.")),
    };
    let Some(query) = param("q").filter(|q| !q.trim().is_empty()) else {
        return error(400, "Missing query `q` parameter.");
    };
    let count = param(count_param)
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_COUNT);
    let parameters: serde_json::Map<String, Value> = params
        .iter()
        .filter(|(name, _)| name != "api_key")
        .map(|(name, value)| (name.clone(), json!(value)))
        .collect();
    let metadata = json!({"id": "fake-search", "status": "Success"});
    if setup.results.is_empty() {
        let name = if engine == "bing" { "Bing" } else { "Google" };
        return Answer::json(
            200,
            &json!({
                "search_metadata": metadata,
                "search_parameters": parameters,
                "search_information": {"organic_results_state": "Fully empty", "query_displayed": query},
                "error": format!("{name} hasn't returned any results for this query."),
            }),
        );
    }
    let organic: Vec<Value> = setup
        .results
        .iter()
        .take(count)
        .enumerate()
        .map(|(index, result)| {
            json!({
                "position": index + 1,
                "title": result.title,
                "link": result.link,
                "displayed_link": result.link,
                "snippet": result.snippet,
            })
        })
        .collect();
    Answer::json(
        200,
        &json!({
            "search_metadata": metadata,
            "search_parameters": parameters,
            "search_information": {"query_displayed": query},
            "organic_results": organic,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::raw;

    #[test]
    fn answers_the_documented_errors_and_counts_per_engine() {
        let fake = SerpFake::setup()
            .key("k")
            .result("a", "https://a.example", "A")
            .result("b", "https://b.example", "B")
            .start();
        let (status, _, body) = raw(&fake.base, "GET", "/search.json?q=x&api_key=bad", &[], "");
        assert_eq!(status, 401);
        assert!(body.contains("Invalid API key"), "{body}");
        let (status, _, body) = raw(&fake.base, "GET", "/search.json?api_key=k", &[], "");
        assert_eq!(
            (status, body.as_str()),
            (400, r#"{"error":"Missing query `q` parameter."}"#)
        );
        let unknown = "/search.json?engine=altavista&q=x&api_key=k";
        assert_eq!(raw(&fake.base, "GET", unknown, &[], "").0, 400);
        for (target, count) in [
            ("/search.json?q=x&num=1&api_key=k", 1),
            ("/search.json?engine=bing&q=x&num=1&api_key=k", 2),
            ("/search.json?engine=bing&q=x&count=1&api_key=k", 1),
        ] {
            let (status, _, body) = raw(&fake.base, "GET", target, &[], "");
            assert_eq!(status, 200);
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                body["organic_results"].as_array().unwrap().len(),
                count,
                "{target}"
            );
            assert!(body["search_parameters"].get("api_key").is_none());
        }
    }
}
