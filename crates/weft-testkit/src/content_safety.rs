//! A fake Azure AI Content Safety resource on 127.0.0.1: the text analysis operation only.
//!
//! The contract, from the published REST reference and its OpenAPI file:
//! - `POST {endpoint}/contentsafety/text:analyze?api-version=2024-09-01`, the key in the
//!   `Ocp-Apim-Subscription-Key` header
//!   (https://learn.microsoft.com/rest/api/contentsafety/text-operations/analyze-text;
//!   Azure/azure-rest-api-specs specification/cognitiveservices/data-plane/ContentSafety/stable/2024-09-01/contentsafety.json).
//! - body `{text, categories?, blocklistNames?, haltOnBlocklistHit?, outputType?}`: `text` at
//!   most 10,000 Unicode code points; categories `Hate`, `SelfHarm`, `Sexual`, `Violence` (all
//!   four when none are named); `outputType` `FourSeverityLevels` (the default, severities 0, 2,
//!   4, 6) or `EightSeverityLevels` (0 to 7).
//! - answer `{blocklistsMatch: [{blocklistName, blocklistItemId, blocklistItemText}],
//!   categoriesAnalysis: [{category, severity}]}`; with `haltOnBlocklistHit` and a hit, "further
//!   analyses of harmful content will not be performed", so the fake leaves the categories empty.
//! - errors: `{"error": {"code", "message", "target"?, "details"?, "innererror"?}}`
//!   (`Azure.Core.Foundations.ErrorResponse`) with an `x-ms-error-code` header; the codes are
//!   those of https://learn.microsoft.com/azure/ai-services/content-safety/concepts/response-codes
//!   (`InvalidRequestBody`, `ResourceNotFound`, `InternalError`, `ServerBusy`,
//!   `TooManyRequests`). That page gives no HTTP status per code: the fake uses the
//!   conventional ones (400, 404, 500, 503, 429).
//! - a refused key: 401 `{"error": {"code": "401", "message": "Access denied due to invalid
//!   subscription key or wrong API endpoint. …"}}`, the text Azure AI services send (quoted in
//!   MicrosoftDocs/azure-docs#36456 and microsoft/semantic-kernel#10337).
//! - The docs do not say what an unknown route or api-version answers, nor the exact message of
//!   a bad body or an unknown blocklist: the fake answers 404 `Resource not found` for the first
//!   (as the model fake does) and illustrative messages for the others.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::azure::Recorded;
use crate::service::{Answer, Failure, Failures, Requests, query_pairs, serve};

pub const CONTENT_SAFETY_API_VERSION: &str = "2024-09-01";
/// The most Unicode code points one request's `text` may hold.
pub const MAX_TEXT_CHARS: usize = 10_000;
const CATEGORIES: [&str; 4] = ["Hate", "SelfHarm", "Sexual", "Violence"];

/// What the fake resource knows: the keys it accepts (none listed: any), its blocklists, the
/// severity it finds per category (on the eight-level scale; 0 unless set) and the failures
/// it answers with first.
#[derive(Debug, Default)]
pub struct ContentSafetySetup {
    keys: HashSet<String>,
    blocklists: HashMap<String, Vec<String>>,
    severities: HashMap<String, u8>,
    failures: Failures,
}

impl ContentSafetySetup {
    /// Accept this key; once one is listed, anything else is refused.
    pub fn key(mut self, key: &str) -> Self {
        self.keys.insert(key.to_owned());
        self
    }

    /// A blocklist whose items match a text that contains them (case-insensitively).
    pub fn blocklist(mut self, name: &str, items: &[&str]) -> Self {
        self.blocklists.insert(
            name.to_owned(),
            items.iter().map(|item| (*item).to_owned()).collect(),
        );
        self
    }

    /// The severity found for `category` in every text, 0 to 7; four-level answers round it
    /// down to an even level as the service's scale has them.
    pub fn severity(mut self, category: &str, level: u8) -> Self {
        self.severities.insert(category.to_owned(), level.min(7));
        self
    }

    /// Answer the next request with `failure` (after those already queued).
    pub fn fail_next(mut self, failure: Failure) -> Self {
        self.failures.push(failure);
        self
    }

    pub fn start(self) -> ContentSafetyFake {
        let setup = Arc::new(Mutex::new(self));
        let state = setup.clone();
        let (base, requests) = serve(move |request| answer(&mut state.lock().unwrap(), request));
        ContentSafetyFake {
            base,
            requests,
            setup,
        }
    }
}

/// A running fake resource: `base` stands for `https://<resource>.cognitiveservices.azure.com`.
pub struct ContentSafetyFake {
    pub base: String,
    requests: Requests,
    setup: Arc<Mutex<ContentSafetySetup>>,
}

impl ContentSafetyFake {
    pub fn setup() -> ContentSafetySetup {
        ContentSafetySetup::default()
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

fn error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
    .header("x-ms-error-code", code)
}

fn failure(failure: Failure) -> Answer {
    let answer = match failure {
        Failure::RateLimited { .. } => error(
            429,
            "TooManyRequests",
            "The current requests-per-second has exceeded the quota for your current SKU.",
        ),
        Failure::Unavailable { .. } => error(
            503,
            "ServerBusy",
            "The server cannot process the request temporarily.",
        ),
        Failure::Internal => error(500, "InternalError", "An unexpected error occurred."),
    };
    failure.with_wait(answer)
}

fn answer(setup: &mut ContentSafetySetup, request: &Recorded) -> Answer {
    let version = query_pairs(request)
        .into_iter()
        .find(|(name, _)| name == "api-version")
        .map(|(_, value)| value);
    if request.method != "POST"
        || request.path() != "/contentsafety/text:analyze"
        || version.as_deref() != Some(CONTENT_SAFETY_API_VERSION)
    {
        return error(404, "404", "Resource not found");
    }
    if let Some(next) = setup.failures.next() {
        return failure(next);
    }
    let key = request.header("Ocp-Apim-Subscription-Key");
    if !setup.keys.is_empty() && !key.is_some_and(|key| setup.keys.contains(key)) {
        return error(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        );
    }
    match analyze(setup, request) {
        Ok(result) => Answer::json(200, &result),
        Err(answer) => answer,
    }
}

fn bad_body(message: &str) -> Answer {
    error(400, "InvalidRequestBody", message)
}

fn analyze(setup: &ContentSafetySetup, request: &Recorded) -> Result<Value, Answer> {
    let body: Value = serde_json::from_str(&request.body)
        .map_err(|_| bad_body("The request body is not valid JSON."))?;
    let text = body["text"]
        .as_str()
        .ok_or_else(|| bad_body("The text field is required."))?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(bad_body(&format!(
            "The text exceeds the maximum length of {MAX_TEXT_CHARS} characters."
        )));
    }
    let eight = match body.get("outputType").and_then(Value::as_str) {
        None | Some("FourSeverityLevels") => false,
        Some("EightSeverityLevels") => true,
        Some(other) => return Err(bad_body(&format!("Unknown output type '{other}'."))),
    };
    let categories: Vec<&str> = match body.get("categories").and_then(Value::as_array) {
        None => CATEGORIES.to_vec(),
        Some(named) if named.is_empty() => CATEGORIES.to_vec(),
        Some(named) => named
            .iter()
            .map(|name| {
                name.as_str()
                    .filter(|name| CATEGORIES.contains(name))
                    .ok_or_else(|| bad_body(&format!("Unknown category {name}.")))
            })
            .collect::<Result<_, _>>()?,
    };
    let lower = text.to_lowercase();
    let mut matches = Vec::new();
    for name in body["blocklistNames"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        let items = setup.blocklists.get(name).ok_or_else(|| {
            error(
                404,
                "ResourceNotFound",
                &format!("Blocklist '{name}' does not exist."),
            )
        })?;
        for (index, item) in items.iter().enumerate() {
            if lower.contains(&item.to_lowercase()) {
                matches.push(json!({
                    "blocklistName": name,
                    "blocklistItemId": format!("{name}-{index}"),
                    "blocklistItemText": item,
                }));
            }
        }
    }
    let halted = body["haltOnBlocklistHit"] == true && !matches.is_empty();
    let analysis: Vec<Value> = if halted {
        Vec::new()
    } else {
        categories
            .iter()
            .map(|category| {
                let level = setup.severities.get(*category).copied().unwrap_or(0);
                let severity = if eight { level } else { level - level % 2 };
                json!({"category": category, "severity": severity})
            })
            .collect()
    };
    Ok(json!({"blocklistsMatch": matches, "categoriesAnalysis": analysis}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::raw;

    const ANALYZE: &str = "/contentsafety/text:analyze?api-version=2024-09-01";

    #[test]
    fn refuses_what_the_service_refuses() {
        let fake = ContentSafetyFake::setup().key("k").start();
        let key = [("Ocp-Apim-Subscription-Key", "k")];
        let other_version = "/contentsafety/text:analyze?api-version=2023-10-01";
        assert_eq!(raw(&fake.base, "POST", other_version, &key, "{}").0, 404);
        let (status, head, body) = raw(&fake.base, "POST", ANALYZE, &[], r#"{"text":"x"}"#);
        assert_eq!(status, 401);
        assert!(body.contains("Access denied"), "{body}");
        assert!(head.contains("x-ms-error-code: 401"), "{head}");
        let long = json!({"text": "a".repeat(MAX_TEXT_CHARS + 1)}).to_string();
        let (status, head, body) = raw(&fake.base, "POST", ANALYZE, &key, &long);
        assert_eq!(status, 400);
        assert!(
            head.contains("x-ms-error-code: InvalidRequestBody"),
            "{head}"
        );
        assert!(body.contains("maximum length"), "{body}");
        let unknown = r#"{"text":"x","categories":["Spam"]}"#;
        assert_eq!(raw(&fake.base, "POST", ANALYZE, &key, unknown).0, 400);
        fake.fail_next(Failure::Unavailable {
            retry_after: Some(3),
        });
        let (status, head, body) = raw(&fake.base, "POST", ANALYZE, &key, r#"{"text":"x"}"#);
        assert_eq!(status, 503);
        assert!(
            head.contains("Retry-After: 3") && body.contains("ServerBusy"),
            "{head}{body}"
        );
    }
}
