//! A plain HTTP request, for the HTTP request node: any method, URL, headers, query and JSON
//! body, under the same rules as every other call (timeouts, no redirects, the reply cap,
//! cancellation, retries of 408/429/5xx and failed connections honouring `Retry-After`). The
//! reply is parsed as JSON when its `Content-Type` says JSON (`application/json` or a
//! `+json` type, RFC 6839), else returned as text.
//!
//! Secrets (a custom connection's, put into the request by templates) are listed with the
//! request: a header whose value holds one is sent as a sensitive header, and each is masked
//! in every URL and message this module reports. The reply itself is the node's output and is
//! returned as the server sent it; the run's redactor masks the secrets in what it shows.
//! A non-2xx reply is an error naming the status, as for the other services.
//!
//! `secret_origin` says where the secrets may go (the custom connection's `base_url`): a
//! request to any other origin (scheme, host and port) that carries one of them, in its URL,
//! a header or the body, is refused before anything is sent, so a template cannot hand a
//! connection's secret to a host the connection does not name.

use serde_json::Value;
use url::Url;

use super::{Handles, base_url};
use crate::error::InferenceError;
use crate::request::PreparedRequest;
use crate::secret::Secrets;
use crate::{ApiKey, Client};

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, …
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Appended to the URL's own query, in order.
    pub query: Vec<(String, String)>,
    /// Sent as `application/json`.
    pub body: Option<Value>,
    /// Every secret the fields above may hold.
    pub secrets: Vec<ApiKey>,
    /// The only origin a request carrying one of `secrets` may go to (None: any).
    pub secret_origin: Option<String>,
}

/// The reply's body.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpBody {
    Json(Value),
    Text(String),
}

/// A 2xx reply.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Names lower-cased, in the order received; a value that is not text is read lossily.
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
}

impl HttpRequest {
    fn prepare(&self) -> Result<PreparedRequest, InferenceError> {
        let mut secrets = Secrets::default();
        for secret in &self.secrets {
            secrets.push(secret);
        }
        let mask = |text: &str| secrets.mask(text);
        let method =
            reqwest::Method::from_bytes(self.method.trim().to_ascii_uppercase().as_bytes())
                .map_err(|_| {
                    InferenceError::Config(format!(
                        "`{}` is not an HTTP method; use GET, POST, PUT, PATCH or DELETE",
                        mask(&self.method)
                    ))
                })?;
        let mut url = base_url("request", &self.url, "https://api.example.com/path")
            .map_err(|_| {
                InferenceError::Config(format!(
                    "`{}` is not an http(s) URL; give the whole address, as https://api.example.com/path",
                    mask(&self.url)
                ))
            })?;
        // base_url drops the query: put the URL's own back, then the node's.
        if let Ok(given) = Url::parse(self.url.trim()) {
            url.set_query(given.query());
        }
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let mut prepared = PreparedRequest::new(method, url);
        for secret in &self.secrets {
            prepared = prepared.secret(secret);
        }
        for (name, value) in &self.headers {
            match self
                .secrets
                .iter()
                .find(|secret| !secret.expose().is_empty() && value.contains(secret.expose()))
            {
                Some(secret) => prepared = prepared.secret_header(name, value, secret),
                None => prepared = prepared.header(name, value),
            }
        }
        if let Some(body) = &self.body {
            prepared = prepared.json(body)?;
        }
        if let Some(allowed) = &self.secret_origin {
            self.check_origin(&prepared, allowed, &secrets)?;
        }
        Ok(prepared)
    }

    /// Refuses a request that carries a secret to an origin other than `allowed`.
    fn check_origin(
        &self,
        prepared: &PreparedRequest,
        allowed: &str,
        secrets: &Secrets,
    ) -> Result<(), InferenceError> {
        let allowed = Url::parse(allowed.trim()).map_err(|err| {
            InferenceError::Config(format!(
                "the connection's base_url `{}` is not a URL ({err}); the request's secrets may only go there",
                secrets.mask(allowed)
            ))
        })?;
        let target = prepared.url();
        if target.origin() == allowed.origin() {
            return Ok(());
        }
        let mut sent = target.as_str().to_owned();
        for (name, value) in &self.headers {
            sent.push_str(&format!("\n{name}: {value}"));
        }
        if let Some(body) = &self.body {
            sent.push_str(&body.to_string());
        }
        if secrets.mask(&sent) == sent {
            return Ok(());
        }
        Err(InferenceError::Config(format!(
            "the request to {} carries a secret of the connection, which may only go to {}; point the URL at the connection's base_url, or leave the secret out",
            target.origin().ascii_serialization(),
            allowed.origin().ascii_serialization()
        )))
    }
}

/// Sends `request` and reads the whole reply.
pub async fn send(
    client: &Client,
    request: &HttpRequest,
    handles: &Handles,
) -> Result<HttpResponse, InferenceError> {
    let prepared = request.prepare()?;
    let reply = client
        .transport()
        .send(
            &prepared,
            handles.watch(),
            "check the request's URL and method",
        )
        .await?;
    let headers = reply
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let is_json = reply
        .content_type()
        .is_some_and(|media| media == "application/json" || media.ends_with("+json"));
    let body = if is_json {
        HttpBody::Json(reply.json().map_err(|_| InferenceError::Protocol {
            what: format!(
                "the reply says it is JSON ({}) but is not valid JSON",
                reply.content_type().unwrap_or_default()
            ),
        })?)
    } else {
        HttpBody::Text(reply.text())
    };
    Ok(HttpResponse {
        status: reply.status,
        headers,
        body,
    })
}
