//! What is sent and what came back: a [`PreparedRequest`] (method, URL, headers, body, and
//! which of them are secret) and the [`Reply`] to it.

use std::fmt;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::InferenceError;
use crate::secret::{ApiKey, MASK, Secrets};

/// One request, ready to send (and to send again on a retry). Secret headers, secret query
/// parameters and any other secret it was given are masked in every URL and text it reports,
/// and in its `Debug`.
#[derive(Clone)]
pub(crate) struct PreparedRequest {
    method: Method,
    url: Url,
    /// Name, value, and whether the value holds a secret (sent as given, never shown).
    headers: Vec<(String, String, bool)>,
    body: Option<Vec<u8>>,
    secret_query: Vec<String>,
    secrets: Secrets,
    client_request_id: Option<String>,
}

impl PreparedRequest {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: None,
            secret_query: Vec::new(),
            secrets: Secrets::default(),
            client_request_id: None,
        }
    }

    pub(crate) fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into(), false));
        self
    }

    /// A header whose `value` holds `secret` (`api-key: <key>`, `Authorization: Bearer <token>`,
    /// `Ocp-Apim-Subscription-Key: <key>`): sent as given, never shown.
    pub(crate) fn secret_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        secret: &ApiKey,
    ) -> Self {
        self.secrets.push(secret);
        self.headers.push((name.into(), value.into(), true));
        self
    }

    /// `name=<secret>` appended to the query string (SerpAPI's `api_key`): shown as
    /// `name=******` in every URL this request reports.
    pub(crate) fn secret_query(mut self, name: &str, secret: &ApiKey) -> Self {
        self.url
            .query_pairs_mut()
            .append_pair(name, secret.expose());
        self.secret_query.push(name.to_owned());
        self.secrets.push(secret);
        self
    }

    /// A secret that is somewhere else in the request (a template put it into the URL, a
    /// header or the body): masked wherever the request's URL or a reply's text is shown.
    pub(crate) fn secret(mut self, secret: &ApiKey) -> Self {
        self.secrets.push(secret);
        self
    }

    /// `body` as JSON, with its content type.
    pub(crate) fn json<T: serde::Serialize + ?Sized>(
        self,
        body: &T,
    ) -> Result<Self, InferenceError> {
        let bytes = serde_json::to_vec(body).map_err(|err| {
            InferenceError::Config(format!("could not encode the request: {err}"))
        })?;
        Ok(self.body("application/json", bytes))
    }

    pub(crate) fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.headers
            .push(("content-type".to_owned(), content_type.to_owned(), false));
        self.body = Some(bytes);
        self
    }

    /// Sends `x-ms-client-request-id: <id>` (Azure logs it), which is also the reply's request
    /// id when the service gives none of its own.
    pub(crate) fn client_request_id(mut self, id: String) -> Self {
        self.headers
            .push(("x-ms-client-request-id".to_owned(), id.clone(), false));
        self.client_request_id = Some(id);
        self
    }

    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as Weft shows and logs it: secret query parameters as `******`, and every other
    /// secret of the request masked wherever it stands.
    pub(crate) fn shown_url(&self) -> String {
        self.mask_url(&self.url)
    }

    /// `url` (this request's, or one a reply points to) as [`Self::shown_url`] shows it.
    pub(crate) fn mask_url(&self, url: &Url) -> String {
        let mut url = url.clone();
        if !self.secret_query.is_empty() && url.query().is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(name, value)| {
                    let value = if self.secret_query.iter().any(|secret| *secret == name) {
                        MASK.to_owned()
                    } else {
                        value.into_owned()
                    };
                    (name.into_owned(), value)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        self.secrets.mask(url.as_str())
    }

    /// `text` (a reply's body, a message) with this request's secrets masked.
    pub(crate) fn mask(&self, text: &str) -> String {
        self.secrets.mask(text)
    }

    /// One attempt at this request on `http`, with the `headers` [`Self::header_map`] made.
    pub(crate) fn attempt(
        &self,
        http: &reqwest::Client,
        headers: &HeaderMap,
    ) -> reqwest::RequestBuilder {
        let attempt = http
            .request(self.method.clone(), self.url.clone())
            .headers(headers.clone());
        match &self.body {
            Some(body) => attempt.body(body.clone()),
            None => attempt,
        }
    }

    /// The client request id this request is sent with, if any.
    pub(crate) fn sent_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }

    /// The headers as HTTP sends them (checked once, before the first attempt): secret values
    /// are marked sensitive, and a name or value HTTP cannot carry is a configuration error
    /// that never shows the value.
    pub(crate) fn header_map(&self) -> Result<HeaderMap, InferenceError> {
        let mut map = HeaderMap::with_capacity(self.headers.len());
        for (name, value, secret) in &self.headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                InferenceError::Config(format!(
                    "`{name}` is not a valid HTTP header name; use letters, digits and `-`"
                ))
            })?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                InferenceError::Config(format!(
                    "the value of the `{name}` header cannot be sent: it holds a line break or another character HTTP headers cannot carry"
                ))
            })?;
            // reqwest and hyper print sensitive values as `Sensitive`.
            value.set_sensitive(*secret);
            map.append(header, value);
        }
        Ok(map)
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value, secret)| {
                if *secret {
                    format!("{name}: {MASK}")
                } else {
                    format!("{name}: {}", self.secrets.mask(value))
                }
            })
            .collect();
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("url", &self.shown_url())
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// A successful (2xx) reply, read whole within the body limit.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The service's request id, else the client request id the request was sent with.
    pub request_id: Option<String>,
}

impl Reply {
    /// The body as text; bytes that are not UTF-8 become U+FFFD.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, InferenceError> {
        serde_json::from_slice(&self.body).map_err(|err| InferenceError::Protocol {
            what: not_json(&self.text(), &err),
        })
    }

    /// The `content-type` header's media type, lower-cased, without parameters.
    pub(crate) fn content_type(&self) -> Option<String> {
        let value = self
            .headers
            .get(reqwest::header::CONTENT_TYPE)?
            .to_str()
            .ok()?;
        let media = value.split(';').next().unwrap_or_default().trim();
        Some(media.to_ascii_lowercase())
    }
}

/// `body` encoded as JSON.
pub(crate) fn json_body<T: serde::Serialize + ?Sized>(body: &T) -> Result<Vec<u8>, InferenceError> {
    serde_json::to_vec(body)
        .map_err(|err| InferenceError::Config(format!("could not encode the request: {err}")))
}

/// What a body that should have been JSON was instead.
pub(crate) fn not_json(text: &str, err: &serde_json::Error) -> String {
    let head = text.trim_start();
    if head.starts_with('<') {
        "an HTML page instead of JSON (a proxy or a wrong URL?)".into()
    } else if head.is_empty() {
        "an empty body instead of JSON".into()
    } else {
        format!("a body that is not the expected JSON ({err})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_parameters_and_headers_never_show() {
        let key = ApiKey::new("s3cr&t key");
        let request = PreparedRequest::new(
            Method::GET,
            Url::parse("https://serpapi.example/search.json?engine=google&q=rust").unwrap(),
        )
        .secret_query("api_key", &key)
        .secret_header("authorization", format!("Bearer {}", key.expose()), &key)
        .header("accept", "application/json");
        assert!(request.url().as_str().contains("api_key=s3cr%26t+key"));
        assert_eq!(
            request.shown_url(),
            "https://serpapi.example/search.json?engine=google&q=rust&api_key=******"
        );
        let debug = format!("{request:?}");
        assert!(!debug.contains("s3cr"), "{debug}");
        assert!(debug.contains("authorization: ******"), "{debug}");
        assert!(debug.contains("accept: application/json"), "{debug}");
        // A URL a reply points to is shown the same way.
        let elsewhere = Url::parse("https://other.example/?api_key=s3cr%26t+key&x=1").unwrap();
        assert_eq!(
            request.mask_url(&elsewhere),
            "https://other.example/?api_key=******&x=1"
        );
    }

    #[test]
    fn a_header_http_cannot_carry_is_refused_without_showing_its_value() {
        let key = ApiKey::new("k3y\nvalue");
        let request = PreparedRequest::new(Method::GET, Url::parse("https://x.example").unwrap())
            .secret_header("api-key", key.expose(), &key);
        let err = request.header_map().unwrap_err().to_string();
        assert!(err.contains("`api-key` header cannot be sent"), "{err}");
        assert!(!err.contains("k3y"), "{err}");
        let bad_name = PreparedRequest::new(Method::GET, Url::parse("https://x.example").unwrap())
            .header("bad name", "v");
        assert!(
            bad_name
                .header_map()
                .unwrap_err()
                .to_string()
                .contains("not a valid HTTP header name")
        );
    }
}
