//! Sending one request, for any service Weft calls (the model APIs, and the tools' services): timeouts,
//! no redirects, a cap on the reply, cancellation, and retries with backoff that honour
//! `Retry-After`, with every secret the request carries masked in what it reports; for a client
//! built with an [`Admission`], a permit per attempt from the endpoint's [`Limiter`].

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::BoxFuture;
use reqwest::Response;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{InferenceError, TimeoutPhase};
use crate::limiter::{Admission, EndpointLoad, Limiter, Permit, endpoint_key};
use crate::request::{PreparedRequest, Reply, not_json};
use crate::retry::{RetryPolicy, is_retryable, retry_after};
use crate::status::Failure;

/// How long to wait. Defaults: 10 s to connect, 120 s for the first byte, 60 s between events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            idle: Duration::from_secs(60),
        }
    }
}

/// How much a reply may hold. Defaults: 32 MiB for a whole body (an answer, an error page,
/// `/info`) and for the text a stream assembles, 8 MiB for one line (one event) of a stream. Real
/// answers are far smaller, so more means a wrong URL or a hostile endpoint, never a bigger answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub body: usize,
    pub sse_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body: 32 * 1024 * 1024,
            sse_line: 8 * 1024 * 1024,
        }
    }
}

/// What a caller hears while a call runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// Streamed text, as it arrives.
    Delta(String),
    /// The call will be tried again after `delay`.
    Retrying {
        attempt: u32,
        of: u32,
        delay: Duration,
        reason: String,
    },
}

impl fmt::Display for ClientEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Delta(text) => f.write_str(text),
            Self::Retrying {
                attempt,
                of,
                delay,
                reason,
            } => write!(
                f,
                "{reason}, retrying in {:.0} s (attempt {attempt}/{of})",
                delay.as_secs_f64().ceil()
            ),
        }
    }
}

/// The caller's handles on one call: cancelling the token ends it at once, waiting or reading;
/// `events` (when given) hears each retry and each piece of streamed text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watch<'a> {
    pub cancel: &'a CancellationToken,
    pub events: Option<&'a UnboundedSender<ClientEvent>>,
}

impl Watch<'_> {
    pub(crate) fn emit(&self, event: ClientEvent) {
        if let Some(events) = self.events {
            // A caller that stopped listening does not stop the call.
            let _ = events.send(event);
        }
    }
}

/// The HTTP side every client of this crate shares: one connection pool, its timeouts, retry
/// policy and reply limits, and (for a batch's client) the limiter its clones share.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    timeouts: Timeouts,
    retry: RetryPolicy,
    limits: Limits,
    limiter: Option<Limiter>,
}

/// What a successful exchange gives back: the answer, the request id, and the attempt's permit
/// when the client has a limiter. A caller that goes on reading the reply (a stream) keeps the
/// permit until it is done; dropping it gives the place back.
pub(crate) struct Exchanged<T> {
    pub answer: T,
    pub request_id: Option<String>,
    pub permit: Option<Permit>,
}

impl Transport {
    pub(crate) fn new(timeouts: Timeouts, retry: RetryPolicy) -> Result<Self, InferenceError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            // reqwest's default policy follows up to 10 redirects and, on a change of origin,
            // strips only `Authorization`, `Cookie` and `Proxy-Authorization`
            // (https://docs.rs/reqwest/0.13/reqwest/redirect/struct.Policy.html): Azure's
            // `api-key` header and the prompt would go to the new host, even over plain http.
            // With `none()` the 3xx itself comes back and `exchange` reports it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| InferenceError::Config(format!("could not set up HTTPS: {err}")))?;
        Ok(Self {
            http,
            timeouts,
            retry,
            limits: Limits::default(),
            limiter: None,
        })
    }

    /// From now on each attempt waits for a place at its endpoint (a limiter of its own, shared
    /// by this transport's clones).
    pub(crate) fn with_admission(mut self, admission: Admission) -> Self {
        self.limiter = Some(Limiter::new(admission));
        self
    }

    /// The endpoints the limiter has seen (none without an admission).
    pub(crate) fn load(&self) -> Vec<EndpointLoad> {
        self.limiter.as_ref().map(Limiter::load).unwrap_or_default()
    }

    pub(crate) fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Sends `request` under the shared rules and returns its 2xx reply, read whole. Any other
    /// status is the error [`Failure::into_error`] makes of it, with `not_found` as the hint a
    /// 404 gives (say which URL or name to check).
    pub(crate) async fn send(
        &self,
        request: &PreparedRequest,
        watch: Watch<'_>,
        not_found: &str,
    ) -> Result<Reply, InferenceError> {
        self.send_mapped(request, watch, |failure| failure.into_error(not_found))
            .await
    }

    /// [`Self::send`] with the service's own reading of a failed status (a service-specific
    /// code or hint); `map` falls back to [`Failure::into_error`] for the rest.
    pub(crate) async fn send_mapped(
        &self,
        request: &PreparedRequest,
        watch: Watch<'_>,
        map: impl Fn(Failure) -> InferenceError,
    ) -> Result<Reply, InferenceError> {
        let exchanged = self
            .exchange(request, None, watch, map, |response| {
                Box::pin(async move {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let body = self.read_body(watch.cancel, response).await?;
                    Ok((status, headers, body))
                })
            })
            .await?;
        let (status, headers, body) = exchanged.answer;
        Ok(Reply {
            status,
            headers,
            body,
            request_id: exchanged.request_id,
        })
    }

    /// Sends until a success that `take` accepts, a failure not worth retrying, or the budget
    /// runs out. `take` turns the successful response into the answer; when reading it breaks
    /// off (nothing has reached the caller yet) the call is retried like a failed connection.
    /// `map` turns a failed status into its error; the statuses [`is_retryable`] names are
    /// retried whatever it makes of them.
    ///
    /// With a limiter, each attempt first waits for a permit of the endpoint the request's URL
    /// and `model` (the deployment a body names) make; the wait does not count against the retry
    /// budget, which is for the service's failures, not for the client's own queue.
    pub(crate) async fn exchange<'a, T>(
        &self,
        request: &PreparedRequest,
        model: Option<&str>,
        watch: Watch<'_>,
        map: impl Fn(Failure) -> InferenceError,
        take: impl Fn(Response) -> BoxFuture<'a, Result<T, InferenceError>>,
    ) -> Result<Exchanged<T>, InferenceError> {
        let headers = request.header_map()?;
        let endpoint = self
            .limiter
            .as_ref()
            .map(|_| endpoint_key(request.url(), model));
        let started = Instant::now();
        let mut queued = Duration::ZERO;
        let mut retries = 0;
        loop {
            let permit = match (&self.limiter, &endpoint) {
                (Some(limiter), Some(endpoint)) => {
                    let asked = Instant::now();
                    let permit = cancellable(watch.cancel, limiter.acquire(endpoint)).await?;
                    queued += asked.elapsed();
                    Some(permit)
                }
                _ => None,
            };
            let attempt = request.attempt(&self.http, &headers);
            let outcome = cancellable(watch.cancel, async {
                tokio::time::timeout(self.timeouts.first_byte, attempt.send()).await
            })
            .await?;
            let (error, wait) = match outcome {
                Err(_elapsed) => (
                    InferenceError::Timeout {
                        phase: TimeoutPhase::FirstByte,
                        after: self.timeouts.first_byte,
                    },
                    None,
                ),
                Ok(Err(err)) => match transport_error(&err, request.url(), &self.timeouts) {
                    error @ (InferenceError::Dns { .. } | InferenceError::Tls { .. }) => {
                        return Err(error);
                    }
                    error => (error, None),
                },
                Ok(Ok(response)) if response.status().is_success() => {
                    let request_id = request_id(&response)
                        .or_else(|| request.sent_request_id().map(str::to_owned));
                    if let Some(permit) = &permit {
                        permit.answered(response.headers());
                    }
                    match take(response).await {
                        Ok(answer) => {
                            return Ok(Exchanged {
                                answer,
                                request_id,
                                permit,
                            });
                        }
                        Err(
                            error @ (InferenceError::Network { .. }
                            | InferenceError::Timeout { .. }),
                        ) => (error, None),
                        Err(error) => return Err(error),
                    }
                }
                Ok(Ok(response)) if response.status().is_redirection() => {
                    return Err(redirected(&response, request));
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let wait = retry_after(response.headers(), SystemTime::now());
                    if let Some(permit) = permit.as_ref().filter(|_| status == 429) {
                        permit.throttled(response.headers(), wait);
                    }
                    let request_id = request_id(&response)
                        .or_else(|| request.sent_request_id().map(str::to_owned));
                    let body = self
                        .read_body(watch.cancel, response)
                        .await
                        .unwrap_or_default();
                    let text = String::from_utf8_lossy(&body);
                    let error = map(Failure::parse(status, &text, request, wait, request_id));
                    if !is_retryable(status) {
                        return Err(error);
                    }
                    (error, wait)
                }
            };
            // Only failures before any answer, and transient statuses, get here; the attempt is
            // over, so its place goes back before any wait.
            drop(permit);
            if retries >= self.retry.max_retries {
                return Err(error);
            }
            retries += 1;
            let delay = wait.unwrap_or_else(|| self.retry.backoff(retries));
            let left = self
                .retry
                .budget
                .saturating_sub(started.elapsed().saturating_sub(queued));
            if delay > left {
                return Err(match error {
                    InferenceError::RateLimited {
                        message,
                        request_id,
                        ..
                    } => InferenceError::RateLimited {
                        retry_after: Some(delay),
                        message,
                        request_id,
                    },
                    other => other,
                });
            }
            let reason = match &error {
                InferenceError::RateLimited { .. } => "throttled".to_owned(),
                InferenceError::Server { status, .. } => format!("the service answered {status}"),
                InferenceError::Timeout { .. } => "no answer in time".to_owned(),
                _ => "the connection failed".to_owned(),
            };
            tracing::info!(%reason, retries, ?delay, url = %request.shown_url(), "retrying request");
            watch.emit(ClientEvent::Retrying {
                attempt: retries,
                of: self.retry.max_retries,
                delay,
                reason,
            });
            cancellable(watch.cancel, tokio::time::sleep(delay)).await?;
        }
    }

    /// The whole body, read chunk by chunk: each chunk within the idle timeout, the whole within
    /// the body limit.
    pub(crate) async fn read_body(
        &self,
        cancel: &CancellationToken,
        mut response: Response,
    ) -> Result<Vec<u8>, InferenceError> {
        let limit = self.limits.body;
        let too_large = || InferenceError::TooLarge {
            what: "answer",
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let idle = self.timeouts.idle;
        let host = host(response.url());
        let mut body = Vec::new();
        loop {
            match cancellable(cancel, tokio::time::timeout(idle, response.chunk())).await? {
                Err(_) => {
                    return Err(InferenceError::Timeout {
                        phase: TimeoutPhase::Idle,
                        after: idle,
                    });
                }
                Ok(Err(err)) => {
                    return Err(InferenceError::Network {
                        host,
                        message: format!("the answer broke off: {}", with_sources(&err)),
                    });
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) if body.len() + chunk.len() > limit => return Err(too_large()),
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            }
        }
        Ok(body)
    }

    /// The whole body as `T`.
    pub(crate) async fn read_json<T: DeserializeOwned>(
        &self,
        cancel: &CancellationToken,
        response: Response,
    ) -> Result<T, InferenceError> {
        let body = self.read_body(cancel, response).await?;
        serde_json::from_slice(&body).map_err(|err| InferenceError::Protocol {
            what: not_json(&String::from_utf8_lossy(&body), &err),
        })
    }
}

/// Runs `work` unless the token is cancelled first.
pub(crate) async fn cancellable<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = T>,
) -> Result<T, InferenceError> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(InferenceError::Cancelled { partial: String::new() }),
        out = work => Ok(out),
    }
}

fn request_id(response: &Response) -> Option<String> {
    ["apim-request-id", "x-request-id", "x-ms-request-id"]
        .iter()
        .find_map(|name| {
            response
                .headers()
                .get(*name)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
}

pub(crate) fn host(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_owned()
}

/// The error and every error under it, as one line, without the URL reqwest names (its query
/// may hold a key; the host is in the error beside this text).
pub(crate) fn with_sources(err: &reqwest::Error) -> String {
    let mut message = err.to_string();
    if let Some(url) = err.url() {
        message = message.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message = format!("{message}: {inner}");
        source = inner.source();
    }
    message
}

/// Sorts a failure before any response into what a retry can fix (a refused or reset
/// connection, a timeout) and what it cannot (a name that does not resolve, a TLS handshake).
fn transport_error(err: &reqwest::Error, url: &Url, timeouts: &Timeouts) -> InferenceError {
    if err.is_timeout() && err.is_connect() {
        return InferenceError::Timeout {
            phase: TimeoutPhase::Connect,
            after: timeouts.connect,
        };
    }
    let (host, message) = (host(url), with_sources(err));
    if err.is_dns() {
        InferenceError::Dns { host, message }
    } else if is_tls(err) {
        InferenceError::Tls { host, message }
    } else {
        InferenceError::Network { host, message }
    }
}

/// Whether a rustls error is in the chain. tokio-rustls hands it up inside `io::Error`s (nested
/// twice today), whose `source()` skips the error they wrap, so those are opened by hand.
fn is_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(inner) = current {
        if inner.is::<rustls::Error>() {
            return true;
        }
        current = match inner.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static)),
            None => inner.source(),
        };
    }
    false
}

/// A 3xx, never followed: the key must only go where the connection points.
fn redirected(response: &Response, request: &PreparedRequest) -> InferenceError {
    let to = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|location| {
            let location = String::from_utf8_lossy(location.as_bytes());
            request
                .url()
                .join(&location)
                .map_or_else(|_| request.mask(&location), |url| request.mask_url(&url))
        })
        .unwrap_or_else(|| "an address it did not give (no Location header)".to_owned());
    InferenceError::Redirected {
        status: response.status().as_u16(),
        to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resolver that knows no name, so the test never asks the network's DNS.
    struct NoNames;

    impl reqwest::dns::Resolve for NoNames {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            Box::pin(async { Err("no such host".into()) })
        }
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_a_dns_error_not_a_network_one() {
        let http = reqwest::Client::builder()
            .dns_resolver(NoNames)
            .build()
            .unwrap();
        let url = Url::parse("http://weft-test.invalid/models?api_key=k3y").unwrap();
        let err = http.get(url.clone()).send().await.unwrap_err();
        let error = transport_error(&err, &url, &Timeouts::default());
        assert!(
            matches!(error, InferenceError::Dns { ref host, .. } if host == "weft-test.invalid"),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(
            text.starts_with("could not find weft-test.invalid in DNS: "),
            "{text}"
        );
        assert!(!text.contains("k3y"), "{text}");
    }
}
