//! The canonical form of a request: what a cassette keys on and writes down. It holds what
//! decides the answer (the service, where the call goes, the deployment, the body, whether it
//! streams) and nothing that only varies from call to call, and never a credential: keys and
//! tokens travel in headers the ports never see, and every secret a request names is masked
//! before anything is hashed or written.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use url::Url;
use weft_ai::ApiKey;
use weft_ai::http::HttpRequest;

/// What stands for a secret in a cassette, as in every other place Weft shows one.
pub(crate) const MASK: &str = "******";

/// Body fields of a model call that change nothing in the answer, left out of the key and the
/// file. From the chat completions reference
/// (https://platform.openai.com/docs/api-reference/chat/create, which Azure's v1 API follows,
/// https://learn.microsoft.com/azure/ai-foundry/openai/reference-preview-latest):
/// - `user`, `safety_identifier`: an end-user id "to help OpenAI monitor and detect abuse"
///   (https://help.openai.com/en/articles/5428082-how-to-incorporate-a-safety-identifier).
/// - `prompt_cache_key`: a bucketing hint for the provider's prompt cache.
/// - `metadata`, `store`: tags for, and whether to keep, the completion in the provider's logs.
/// - `stream_options`: only adds a usage chunk to a stream; whether the call streams is kept,
///   in the request's own `stream` flag.
///
/// `seed` is kept: the reference says a call with a seed is sampled (best-effort)
/// deterministically, so another seed asks for another answer.
pub(crate) const VOLATILE_FIELDS: &[&str] = &[
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "metadata",
    "store",
    "stream_options",
];

/// The query parameter that only names the API's version: another version of the same API
/// answers the same request, so a cassette recorded on one replays on the next.
const API_VERSION: &str = "api-version";

/// Headers of an HTTP request node that carry credentials: never written, never keyed on,
/// whatever they hold (a secret typed into a header is not always one Weft knows of).
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
    "cookie",
];

/// The kind of service a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Service {
    Chat,
    Embeddings,
    ContentSafety,
    WebSearch,
    DocumentSearch,
    Http,
}

impl Service {
    /// The call as people name it, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Chat => "chat completion",
            Self::Embeddings => "embeddings",
            Self::ContentSafety => "Content Safety",
            Self::WebSearch => "web search",
            Self::DocumentSearch => "document search",
            Self::Http => "HTTP",
        }
    }
}

/// One request in canonical form, its key, and the secrets to mask in its answer too.
#[derive(Debug, Clone)]
pub(crate) struct Canonical {
    pub service: Service,
    pub request: Value,
    pub key: String,
    pub secrets: Secrets,
}

impl Canonical {
    fn new(service: Service, request: Value, secrets: Secrets) -> Self {
        let mut request = secrets.mask(sorted(request));
        if let Some(map) = request.as_object_mut() {
            map.insert("service".into(), json!(service));
        }
        let key = key(&request);
        Self {
            service,
            request,
            key,
            secrets,
        }
    }

    /// A model call: chat (streamed or not) or embeddings, to `url` with `body` as sent.
    pub(crate) fn model(
        service: Service,
        url: &Url,
        deployment: Option<&str>,
        mut body: Value,
        stream: bool,
        key: Option<&ApiKey>,
    ) -> Self {
        if let Some(map) = body.as_object_mut() {
            for field in VOLATILE_FIELDS {
                map.remove(*field);
            }
            // Kept once, in the request's own flag, whichever way the style writes it.
            map.remove("stream");
        }
        let mut request = place(url);
        request.insert("deployment".into(), json!(deployment));
        request.insert("body".into(), body);
        if service == Service::Chat {
            request.insert("stream".into(), json!(stream));
        }
        Self::new(service, Value::Object(request), Secrets::of(key))
    }

    /// A service call with its URL (without the key) and its JSON body, if any.
    pub(crate) fn service(service: Service, url: &Url, body: Option<Value>) -> Self {
        let mut request = place(url);
        if let Some(body) = body {
            request.insert("body".into(), body);
        }
        Self::new(service, Value::Object(request), Secrets::default())
    }

    /// An HTTP request node's request: method, URL and query as sent, its headers but the
    /// credential ones, its body; each of its secrets masked.
    pub(crate) fn http(request: &HttpRequest) -> Self {
        let secrets = Secrets::from_keys(&request.secrets);
        // Masked as written, before the URL decodes it (a `+` in a key would read as a space).
        let written = secrets.mask_text(request.url.trim().to_owned());
        let mut url = Url::parse(&written).ok();
        if let Some(url) = url.as_mut().filter(|_| !request.query.is_empty()) {
            url.query_pairs_mut().extend_pairs(
                request
                    .query
                    .iter()
                    .map(|(name, value)| (name, secrets.mask_text(value.clone()))),
            );
        }
        let mut canonical = match &url {
            Some(url) => place(url),
            // Not a URL: the live port refuses it; the text is all there is to key on.
            None => Map::from_iter([("url".to_owned(), json!(written))]),
        };
        canonical.insert(
            "method".into(),
            json!(request.method.trim().to_ascii_uppercase()),
        );
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.clone()))
            .filter(|(name, _)| !CREDENTIAL_HEADERS.contains(&name.as_str()))
            .collect();
        headers.sort();
        canonical.insert("headers".into(), json!(headers));
        if let Some(body) = &request.body {
            canonical.insert("body".into(), body.clone());
        }
        Self::new(Service::Http, Value::Object(canonical), secrets)
    }
}

/// Where a call goes: host (and port), path, and the query but its `api-version`, sorted.
fn place(url: &Url) -> Map<String, Value> {
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != API_VERSION)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    query.sort();
    let mut place = Map::new();
    place.insert("host".into(), json!(host));
    // Decoded, so a secret in it reads as itself and is masked as such.
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
    place.insert("path".into(), json!(path));
    if !query.is_empty() {
        place.insert("query".into(), json!(query));
    }
    place
}

/// `value` with every object's keys in order, whichever map serde_json was built with.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(name, value)| (name, sorted(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The hex sha256 of the canonical request's compact JSON.
fn key(request: &Value) -> String {
    let digest = Sha256::digest(request.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The secrets one call carries, in every form they can take in its request or answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    /// Longest first, so a form holding a shorter one is masked whole.
    forms: Vec<String>,
}

impl Secrets {
    fn of(key: Option<&ApiKey>) -> Self {
        Self::from_keys(key)
    }

    fn from_keys<'a>(keys: impl IntoIterator<Item = &'a ApiKey>) -> Self {
        let mut forms: Vec<String> = keys
            .into_iter()
            .map(ApiKey::expose)
            .filter(|secret| !secret.is_empty())
            .flat_map(|secret| {
                let mut forms = weft_ai::text_forms(secret);
                // As a query string writes it (the path and the query are kept decoded).
                forms.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
                forms
            })
            .collect();
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        forms.dedup();
        Self { forms }
    }

    /// `value` with each secret masked in every string and every key it holds.
    pub(crate) fn mask(&self, value: Value) -> Value {
        if self.forms.is_empty() {
            return value;
        }
        match value {
            Value::String(text) => Value::String(self.mask_text(text)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.mask(v)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(name, value)| (self.mask_text(name), self.mask(value)))
                    .collect(),
            ),
            other => other,
        }
    }

    pub(crate) fn mask_text(&self, mut text: String) -> String {
        for form in &self.forms {
            if text.contains(form.as_str()) {
                text = text.replace(form.as_str(), MASK);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(body: Value) -> Canonical {
        let url = Url::parse("https://r.openai.azure.com/openai/v1/chat/completions").unwrap();
        Canonical::model(Service::Chat, &url, Some("gpt-4o-mini"), body, false, None)
    }

    #[test]
    fn the_key_ignores_the_order_of_keys() {
        let a = chat(
            json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.2}),
        );
        let b = chat(
            json!({"temperature": 0.2, "messages": [{"content": "Hi", "role": "user"}], "model": "m"}),
        );
        assert_eq!(a.key, b.key);
        assert_eq!(a.request.to_string(), b.request.to_string());
    }

    #[test]
    fn the_key_ignores_each_volatile_field() {
        let plain = chat(json!({"model": "m", "messages": []}));
        for field in VOLATILE_FIELDS {
            let mut body = json!({"model": "m", "messages": []});
            body[*field] = json!({"include_usage": true, "tag": "run-1"});
            assert_eq!(chat(body).key, plain.key, "{field} changed the key");
        }
    }

    #[test]
    fn the_key_follows_what_changes_the_answer() {
        let url = Url::parse("https://r.openai.azure.com/openai/v1/chat/completions").unwrap();
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]});
        let base = Canonical::model(Service::Chat, &url, Some("a"), body.clone(), false, None);
        let other_deployment =
            Canonical::model(Service::Chat, &url, Some("b"), body.clone(), false, None);
        let streamed = Canonical::model(Service::Chat, &url, Some("a"), body.clone(), true, None);
        let mut seeded = body.clone();
        seeded["seed"] = json!(7);
        let seeded = Canonical::model(Service::Chat, &url, Some("a"), seeded, false, None);
        let mut other_model = body.clone();
        other_model["model"] = json!("n");
        let other_model =
            Canonical::model(Service::Chat, &url, Some("a"), other_model, false, None);
        let elsewhere =
            Url::parse("https://r.openai.azure.com/openai/v2/chat/completions").unwrap();
        let elsewhere = Canonical::model(Service::Chat, &elsewhere, Some("a"), body, false, None);
        let keys = [
            &base.key,
            &other_deployment.key,
            &streamed.key,
            &seeded.key,
            &other_model.key,
            &elsewhere.key,
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_api_version_is_no_part_of_the_key_but_the_rest_of_the_query_is() {
        let at = |query: &str| {
            let url = Url::parse(&format!("https://r/contentsafety/text:analyze?{query}")).unwrap();
            Canonical::service(Service::ContentSafety, &url, Some(json!({"text": "x"}))).key
        };
        assert_eq!(at("api-version=2024-09-01"), at("api-version=2023-10-01"));
        assert_eq!(at("a=1&b=2&api-version=1"), at("b=2&a=1"));
        assert_ne!(at("a=1"), at("a=2"));
    }

    #[test]
    fn secrets_are_masked_in_every_form_before_the_key_is_taken() {
        let secret = "s3cr/t+\"key";
        let request = HttpRequest {
            method: "post".into(),
            url: format!("https://api.example.com/v1/{secret}/x?token={secret}"),
            headers: vec![
                ("X-Token".into(), format!("t {secret}")),
                ("Authorization".into(), "Bearer literal-token".into()),
            ],
            query: vec![("also".into(), secret.into())],
            body: Some(json!({"key": secret, "nested": [format!("{{\"k\":{}}}", json!(secret))]})),
            secrets: vec![ApiKey::new(secret)],
            secret_origin: None,
        };
        let canonical = Canonical::http(&request);
        let text = canonical.request.to_string();
        for form in &canonical.secrets.forms {
            assert!(!text.contains(form.as_str()), "{form} left in {text}");
        }
        assert!(!text.contains("literal-token"), "{text}");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{text}"
        );
        assert!(text.contains(MASK));
        let mut other = request.clone();
        other.secrets = vec![ApiKey::new("another-one")];
        other.url = other.url.replace(secret, "another-one");
        other.query = vec![("also".into(), "another-one".into())];
        other.headers[0].1 = "t another-one".into();
        other.body = Some(json!({"key": "another-one", "nested": ["{\"k\":\"another-one\"}"]}));
        assert_eq!(
            Canonical::http(&other).key,
            canonical.key,
            "the secret's value is no part of the key"
        );
    }
}
