use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::credential::{Authorization, ENTRA_FALLBACK_SCOPE, EntraSignIn, Tokens, entra_scope};
use crate::endpoint::{Operation, Target};
use crate::error::{InferenceError, TimeoutPhase};
use crate::retry::{RetryPolicy, is_retryable, retry_after};
use crate::sse::SseDecoder;
use crate::wire::{
    ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, FinishReason, RawCompletion,
    RawEmbeddings, RawErrorBody, RawToolCall, ToolCall, Usage,
};
use crate::{ApiKey, Credential, Endpoint};

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

/// The most tool calls one streamed answer may hold: their index comes from the server, and
/// each one below it is allocated.
const MAX_TOOL_CALLS: usize = 128;

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

/// One call: where it goes, its credential, which deployment, and the caller's handles.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub endpoint: &'a Endpoint,
    pub credential: &'a Credential,
    pub deployment: Option<&'a str>,
    /// Cancelling it ends the call, waiting or streaming, right away.
    pub cancel: CancellationToken,
    pub events: Option<UnboundedSender<ClientEvent>>,
}

impl Call<'_> {
    fn emit(&self, event: ClientEvent) {
        if let Some(events) = &self.events {
            // A caller that stopped listening does not stop the call.
            let _ = events.send(event);
        }
    }
}

/// The inference client. Make one per process and share it: it pools connections and holds the
/// Microsoft Entra ID tokens its calls fetch (in memory, shared by clones).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    timeouts: Timeouts,
    retry: RetryPolicy,
    limits: Limits,
    tokens: Tokens,
}

impl Client {
    pub fn new(timeouts: Timeouts, retry: RetryPolicy) -> Result<Self, InferenceError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            // reqwest's default policy follows up to 10 redirects and, on a change of origin,
            // strips only `Authorization`, `Cookie` and `Proxy-Authorization`
            // (https://docs.rs/reqwest/0.13/reqwest/redirect/struct.Policy.html): Azure's
            // `api-key` header and the prompt would go to the new host, even over plain http.
            // With `none()` the 3xx itself comes back and `send` reports it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| InferenceError::Config(format!("could not set up HTTPS: {err}")))?;
        Ok(Self {
            http,
            timeouts,
            retry,
            limits: Limits::default(),
            tokens: Tokens::new(None),
        })
    }

    /// The same client, but the Azure CLI and the Azure Developer CLI are looked up on `path`
    /// instead of this process's `PATH` (tests put a stand-in `az` there), with a token cache of
    /// its own.
    pub fn with_sign_in_path(mut self, path: impl Into<std::ffi::OsString>) -> Self {
        self.tokens = Tokens::new(Some(path.into()));
        self
    }

    /// Which Microsoft Entra ID sign-in gives tokens for `scope` (None: the default scope), in
    /// which tenant, and until when; the token itself stays in the cache.
    pub async fn entra_sign_in(&self, scope: Option<&str>) -> Result<EntraSignIn, InferenceError> {
        let (scope, _) = entra_scope(scope);
        Ok(self.tokens.get(scope).await?.sign_in)
    }

    /// The same client with other reply limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// A chat completion, waiting for the whole answer.
    pub async fn chat(
        &self,
        call: &Call<'_>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, InferenceError> {
        let target = self.target(call, Operation::ChatCompletions)?;
        let body = to_body(&request.body(call.endpoint, target.model.as_deref(), false))?;
        let (raw, request_id) = self
            .send(call, &target, Method::POST, Some(body), |response| {
                Box::pin(self.read_json::<RawCompletion>(call, &target, response))
            })
            .await?;
        completion(raw, request_id)
    }

    /// A streamed chat completion: each piece of text goes to `call.events` as it arrives, and
    /// the assembled answer is returned at the end.
    pub async fn chat_stream(
        &self,
        call: &Call<'_>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, InferenceError> {
        let target = self.target(call, Operation::ChatCompletions)?;
        let body = to_body(&request.body(call.endpoint, target.model.as_deref(), true))?;
        let (response, request_id) = self
            .send(call, &target, Method::POST, Some(body), |response| {
                Box::pin(async { Ok(response) })
            })
            .await?;
        let mut answer = Assembly::new(request_id, self.limits.body);
        match self.read_stream(call, &target, response, &mut answer).await {
            Ok(()) => answer.finish(),
            Err(InferenceError::Cancelled { .. }) => Err(InferenceError::Cancelled {
                partial: answer.text,
            }),
            Err(err) if answer.text.is_empty() && answer.tool_calls.is_empty() => Err(err),
            Err(err) => Err(InferenceError::Interrupted {
                partial: answer.text,
                source: Box::new(err),
            }),
        }
    }

    pub async fn embeddings(
        &self,
        call: &Call<'_>,
        request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, InferenceError> {
        let target = self.target(call, Operation::Embeddings)?;
        let mut body =
            serde_json::to_value(request).map_err(|err| InferenceError::Config(err.to_string()))?;
        if let (Some(model), Some(map)) = (&target.model, body.as_object_mut()) {
            map.insert("model".into(), Value::String(model.clone()));
        }
        let body = to_body(&body)?;
        let (raw, _) = self
            .send(call, &target, Method::POST, Some(body), |response| {
                Box::pin(self.read_json::<RawEmbeddings>(call, &target, response))
            })
            .await?;
        let mut data = raw.data;
        data.sort_by_key(|item| item.index);
        if data.len() != request.input.len() {
            return Err(InferenceError::Protocol {
                what: format!(
                    "{} inputs but {} embeddings came back",
                    request.input.len(),
                    data.len()
                ),
            });
        }
        let vectors = data
            .into_iter()
            .map(|item| {
                item.embedding.ok_or_else(|| InferenceError::Protocol {
                    what: "an embedding without a vector".into(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(EmbeddingsResponse {
            vectors,
            usage: raw.usage,
            model: raw.model,
        })
    }

    /// `GET {endpoint}/info`: the model behind a serverless or Foundry endpoint.
    pub async fn info(&self, call: &Call<'_>) -> Result<Value, InferenceError> {
        let target = self.target(call, Operation::Info)?;
        let (info, _) = self
            .send(call, &target, Method::GET, None, |response| {
                Box::pin(self.read_json(call, &target, response))
            })
            .await?;
        Ok(info)
    }

    fn target(&self, call: &Call<'_>, operation: Operation) -> Result<Target, InferenceError> {
        call.endpoint
            .target(operation, call.deployment)
            .map_err(InferenceError::Config)
    }

    /// Sends until a success that `take` accepts, a failure not worth retrying, or the budget
    /// runs out. `take` turns the successful response into the answer; when reading it breaks
    /// off (nothing has reached the caller yet) the call is retried like a failed connection.
    async fn send<'a, T>(
        &self,
        call: &Call<'_>,
        target: &Target,
        method: Method,
        body: Option<Vec<u8>>,
        take: impl Fn(Response) -> BoxFuture<'a, Result<T, InferenceError>>,
    ) -> Result<(T, Option<String>), InferenceError> {
        let started = Instant::now();
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let (mut auth, mut may_fall_back) = self.authorize(call, target, None).await?;
        let mut fell_back = false;
        let mut retries = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), target.url.clone())
                .header(auth.name, &auth.value)
                .header("x-ms-client-request-id", &client_request_id);
            if let Some(org) = &target.organization {
                request = request.header("OpenAI-Organization", org);
            }
            if let Some(body) = &body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let outcome = cancellable(&call.cancel, async {
                tokio::time::timeout(self.timeouts.first_byte, request.send()).await
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
                Ok(Err(err)) => match transport_error(&err, target, &self.timeouts) {
                    error @ (InferenceError::Dns { .. } | InferenceError::Tls { .. }) => {
                        return Err(error);
                    }
                    error => (error, None),
                },
                Ok(Ok(response)) if response.status().is_success() => {
                    let request_id =
                        request_id(&response).or_else(|| Some(client_request_id.clone()));
                    match take(response).await {
                        Ok(answer) => {
                            if fell_back {
                                self.tokens.remember_fallback(origin(target));
                            }
                            return Ok((answer, request_id));
                        }
                        Err(
                            error @ (InferenceError::Network { .. }
                            | InferenceError::Timeout { .. }),
                        ) => (error, None),
                        Err(error) => return Err(error),
                    }
                }
                Ok(Ok(response)) if response.status().is_redirection() => {
                    return Err(redirected(&response, target, &auth.secret));
                }
                Ok(Ok(response)) if response.status().as_u16() == 401 && may_fall_back => {
                    // Foundry resources take tokens for both audiences; an older resource or
                    // a gateway may know only the Cognitive Services one. Tried once, at once.
                    drop(response);
                    may_fall_back = false;
                    fell_back = true;
                    auth = self
                        .authorize(call, target, Some(ENTRA_FALLBACK_SCOPE))
                        .await?
                        .0;
                    continue;
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let wait = retry_after(response.headers(), SystemTime::now());
                    let request_id =
                        request_id(&response).or_else(|| Some(client_request_id.clone()));
                    let text = self
                        .read_text(call, target, response)
                        .await
                        .unwrap_or_default();
                    let error = status_error(
                        status,
                        &auth.secret.mask(&text),
                        &auth,
                        target,
                        call.endpoint,
                        wait,
                        request_id,
                    );
                    if !is_retryable(status) {
                        return Err(error);
                    }
                    (error, wait)
                }
            };
            // Only failures before any answer, and transient statuses, get here.
            if retries >= self.retry.max_retries {
                return Err(error);
            }
            retries += 1;
            let delay = wait.unwrap_or_else(|| self.retry.backoff(retries));
            let left = self.retry.budget.saturating_sub(started.elapsed());
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
            tracing::info!(%reason, retries, ?delay, "retrying inference call");
            call.emit(ClientEvent::Retrying {
                attempt: retries,
                of: self.retry.max_retries,
                delay,
                reason,
            });
            cancellable(&call.cancel, tokio::time::sleep(delay)).await?;
        }
    }

    /// The header for `call`'s credential, and whether a 401 may be tried once more with the
    /// fallback scope (a token for the default scope only). `scope` overrides the credential's.
    async fn authorize(
        &self,
        call: &Call<'_>,
        target: &Target,
        scope: Option<&str>,
    ) -> Result<(Authorization, bool), InferenceError> {
        match call.credential {
            Credential::Key(key) => Ok((Authorization::key(target.auth, key), false)),
            Credential::Entra { .. } if matches!(call.endpoint, Endpoint::OpenAi { .. }) => {
                Err(InferenceError::Config(
                    "Microsoft Entra ID sign-in works with Azure endpoints only; use an API key for an OpenAI endpoint".into(),
                ))
            }
            Credential::Entra { scope: own } => {
                let (scope, default) = match scope {
                    Some(scope) => (scope, false),
                    None => match entra_scope(own.as_deref()) {
                        (_, true) if self.tokens.takes_fallback(&origin(target)) => {
                            (ENTRA_FALLBACK_SCOPE, false)
                        }
                        chosen => chosen,
                    },
                };
                let token = cancellable(&call.cancel, self.tokens.get(scope)).await??;
                Ok((Authorization::token(&token, scope), default))
            }
        }
    }

    /// The whole body, read chunk by chunk: each chunk within the idle timeout, the whole within
    /// the body limit.
    async fn read_text(
        &self,
        call: &Call<'_>,
        target: &Target,
        mut response: Response,
    ) -> Result<String, InferenceError> {
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
        let mut body = Vec::new();
        loop {
            match cancellable(&call.cancel, tokio::time::timeout(idle, response.chunk())).await? {
                Err(_) => {
                    return Err(InferenceError::Timeout {
                        phase: TimeoutPhase::Idle,
                        after: idle,
                    });
                }
                Ok(Err(err)) => {
                    return Err(InferenceError::Network {
                        host: host(target),
                        message: format!("the answer broke off: {}", with_sources(&err)),
                    });
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) if body.len() + chunk.len() > limit => return Err(too_large()),
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            }
        }
        Ok(String::from_utf8(body)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
    }

    async fn read_json<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        target: &Target,
        response: Response,
    ) -> Result<T, InferenceError> {
        let text = self.read_text(call, target, response).await?;
        serde_json::from_str(&text).map_err(|err| InferenceError::Protocol {
            what: not_json(&text, &err),
        })
    }

    async fn read_stream(
        &self,
        call: &Call<'_>,
        target: &Target,
        response: Response,
        answer: &mut Assembly,
    ) -> Result<(), InferenceError> {
        let idle = self.timeouts.idle;
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::new(self.limits.sse_line);
        loop {
            let next = cancellable(&call.cancel, tokio::time::timeout(idle, body.next())).await?;
            let events = match next {
                Err(_) => {
                    return Err(InferenceError::Timeout {
                        phase: TimeoutPhase::Idle,
                        after: idle,
                    });
                }
                Ok(Some(Err(err))) => {
                    return Err(InferenceError::Network {
                        host: host(target),
                        message: format!("the stream failed: {}", with_sources(&err)),
                    });
                }
                Ok(Some(Ok(bytes))) => decoder.push(&bytes)?,
                Ok(None) => {
                    if let Some(data) = decoder.finish()?
                        && answer.event(call, &data)?
                    {
                        return Ok(());
                    }
                    // Some OpenAI-compatible servers end without `[DONE]`; a finish reason
                    // already says the answer is whole.
                    if answer.finish_reason.is_some() {
                        return Ok(());
                    }
                    return Err(InferenceError::Protocol {
                        what: "the stream ended without [DONE]".into(),
                    });
                }
            };
            for data in events {
                if answer.event(call, &data)? {
                    return Ok(());
                }
            }
        }
    }
}

/// Runs `work` unless the token is cancelled first.
async fn cancellable<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = T>,
) -> Result<T, InferenceError> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(InferenceError::Cancelled { partial: String::new() }),
        out = work => Ok(out),
    }
}

fn to_body<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, InferenceError> {
    serde_json::to_vec(body)
        .map_err(|err| InferenceError::Config(format!("could not encode the request: {err}")))
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

fn not_json(text: &str, err: &serde_json::Error) -> String {
    let head = text.trim_start();
    if head.starts_with('<') {
        "an HTML page instead of JSON (a proxy or a wrong URL?)".into()
    } else if head.is_empty() {
        "an empty body instead of JSON".into()
    } else {
        format!("a body that is not the expected JSON ({err})")
    }
}

/// Scheme, host and port: what one resource's answers about tokens hold for.
fn origin(target: &Target) -> String {
    target.url.origin().ascii_serialization()
}

fn host(target: &Target) -> String {
    target.url.host_str().unwrap_or_default().to_owned()
}

/// The error and every error under it, as one line.
fn with_sources(err: &reqwest::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message = format!("{message}: {inner}");
        source = inner.source();
    }
    message
}

/// Sorts a failure before any response into what a retry can fix (a refused or reset
/// connection, a timeout) and what it cannot (a name that does not resolve, a TLS handshake).
fn transport_error(err: &reqwest::Error, target: &Target, timeouts: &Timeouts) -> InferenceError {
    if err.is_timeout() && err.is_connect() {
        return InferenceError::Timeout {
            phase: TimeoutPhase::Connect,
            after: timeouts.connect,
        };
    }
    let (host, message) = (host(target), with_sources(err));
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
fn redirected(response: &Response, target: &Target, key: &ApiKey) -> InferenceError {
    let to = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|location| {
            let location = String::from_utf8_lossy(location.as_bytes());
            target
                .url
                .join(&location)
                .map_or_else(|_| location.into_owned(), String::from)
        })
        .unwrap_or_else(|| "an address it did not give (no Location header)".to_owned());
    InferenceError::Redirected {
        status: response.status().as_u16(),
        to: key.mask(&to),
    }
}

/// The error a non-2xx status means. `text` is the body with the key already masked; the message
/// parsed from it is masked again (JSON escapes can spell the key in ways the raw text hides),
/// and only then cut, so a cut never leaves a piece of the key. Azure documents its error body
/// as `{"error": {"code", "message", "param", "type", "innererror"}}`
/// (https://learn.microsoft.com/azure/ai-foundry/openai/reference, "ErrorResponse"); anything
/// else (a gateway's or proxy's text) is shown raw, so the mask runs on the whole body first.
fn status_error(
    status: u16,
    text: &str,
    auth: &Authorization,
    target: &Target,
    endpoint: &Endpoint,
    wait: Option<Duration>,
    request_id: Option<String>,
) -> InferenceError {
    let key = &auth.secret;
    let body: RawErrorBody = serde_json::from_str(text).unwrap_or_default();
    let error = body.error.unwrap_or_default();
    let code = error.code.as_ref().map(|code| match code {
        Value::String(code) => code.clone(),
        other => other.to_string(),
    });
    let message = match (error.message.as_deref(), text.trim()) {
        (Some(message), _) => cut(&key.mask(message)),
        (None, "") => "no details given".to_owned(),
        (None, t) if t.starts_with('<') => {
            "the reply was an HTML page (a proxy or a wrong URL?)".to_owned()
        }
        (None, t) => cut(t),
    };
    if code.as_deref() == Some("content_filter") {
        return InferenceError::ContentFiltered {
            categories: filtered_categories(error.innererror.as_ref()),
            in_prompt: true,
            request_id,
        };
    }
    let model_inference = matches!(endpoint, Endpoint::ModelInference { .. });
    match status {
        401 => match &auth.scope {
            Some(scope) => InferenceError::TokenRefused {
                scope: scope.clone(),
                message,
                request_id,
            },
            None => InferenceError::Unauthorized {
                message,
                request_id,
            },
        },
        404 | 410 if model_inference && !names_a_deployment(code.as_deref(), &message) => {
            InferenceError::RetiredApi { status, request_id }
        }
        403 => InferenceError::Forbidden {
            message,
            request_id,
        },
        404 => {
            let mut url = target.url.clone();
            url.set_query(target.url.query());
            let hint = not_found_hint(&target.url, code.as_deref(), &message);
            InferenceError::NotFound {
                url: url.to_string(),
                hint,
                message,
                request_id,
            }
        }
        429 => InferenceError::RateLimited {
            retry_after: wait,
            message,
            request_id,
        },
        500..=599 => InferenceError::Server {
            status,
            message,
            request_id,
        },
        _ => InferenceError::BadRequest {
            status,
            message,
            request_id,
        },
    }
}

/// A service's (or a CLI's) message as an error shows it: at most 300 characters.
pub(crate) fn cut(message: &str) -> String {
    const SHOWN: usize = 300;
    match message.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    }
}

/// Whether a 404 says the deployment (model) is unknown, not the route: Azure OpenAI answers
/// `DeploymentNotFound` ("The API deployment for this resource does not exist…"), the Model
/// Inference API `unknown_model` ("Unknown model: …"). A retired route answers neither.
fn names_a_deployment(code: Option<&str>, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    matches!(code, Some("DeploymentNotFound" | "unknown_model"))
        || lower.contains("deployment")
        || lower.contains("unknown model")
}

fn not_found_hint(url: &url::Url, code: Option<&str>, message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if names_a_deployment(code, message) {
        "the deployment does not exist on this resource (or was created in the last few minutes); check the deployment name".into()
    } else if lower.contains("api-version") || lower.contains("api version") {
        "this API version is not available here; try another api_version in the connection".into()
    } else if url.path().contains("/openai/deployments/") {
        "check the deployment name and that the connection's URL is the resource, not a portal link"
            .into()
    } else {
        "check the endpoint: an Azure resource serves the v1 API at https://<resource>.services.ai.azure.com/openai/v1 (or https://<resource>.openai.azure.com/openai/v1)".into()
    }
}

fn filtered_categories(inner: Option<&Value>) -> Vec<String> {
    let results = inner
        .and_then(|inner| {
            inner
                .get("content_filter_result")
                .or_else(|| inner.get("content_filter_results"))
        })
        .or(inner);
    let mut categories: Vec<String> = results
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter(|(_, verdict)| {
                    verdict.get("filtered").and_then(Value::as_bool) == Some(true)
                        || verdict.get("detected").and_then(Value::as_bool) == Some(true)
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    categories.sort();
    categories
}

fn completion(
    raw: RawCompletion,
    request_id: Option<String>,
) -> Result<ChatResponse, InferenceError> {
    let choice = raw
        .choices
        .into_iter()
        .find(|choice| choice.index == 0)
        .ok_or_else(|| InferenceError::Protocol {
            what: "the answer had no choices".into(),
        })?;
    if choice.finish_reason == Some(FinishReason::ContentFilter) {
        return Err(InferenceError::ContentFiltered {
            categories: filtered_categories(choice.content_filter_results.as_ref()),
            in_prompt: false,
            request_id,
        });
    }
    let message = choice.message.ok_or_else(|| InferenceError::Protocol {
        what: "the choice had no message".into(),
    })?;
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .into_iter()
        .map(|call| ToolCall {
            id: call.id.unwrap_or_default(),
            name: call
                .function
                .as_ref()
                .and_then(|f| f.name.clone())
                .unwrap_or_default(),
            arguments: call.function.and_then(|f| f.arguments).unwrap_or_default(),
        })
        .collect();
    let text = match (message.content, tool_calls.is_empty()) {
        (Some(text), _) => text,
        (None, false) => String::new(),
        (None, true) => {
            return Err(InferenceError::Protocol {
                what: "the message had no content".into(),
            });
        }
    };
    Ok(ChatResponse {
        text,
        tool_calls,
        finish_reason: choice.finish_reason,
        usage: raw.usage,
        model: raw.model,
        request_id,
    })
}

/// A streamed answer being put together.
struct Assembly {
    /// Bytes of text, tool names and arguments so far, held within `limit`.
    size: usize,
    limit: usize,
    text: String,
    tool_calls: Vec<ToolCall>,
    finish_reason: Option<FinishReason>,
    filtered: Option<Vec<String>>,
    usage: Option<Usage>,
    model: Option<String>,
    request_id: Option<String>,
}

impl Assembly {
    fn new(request_id: Option<String>, limit: usize) -> Self {
        Self {
            size: 0,
            limit,
            text: String::new(),
            tool_calls: Vec::new(),
            finish_reason: None,
            filtered: None,
            usage: None,
            model: None,
            request_id,
        }
    }

    /// Takes one event; `true` at `[DONE]`.
    fn event(&mut self, call: &Call<'_>, data: &str) -> Result<bool, InferenceError> {
        if data.trim() == "[DONE]" {
            return Ok(true);
        }
        let chunk: RawCompletion =
            serde_json::from_str(data).map_err(|err| InferenceError::Protocol {
                what: not_json(data, &err),
            })?;
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if chunk.model.as_deref().is_some_and(|m| !m.is_empty()) {
            self.model = chunk.model;
        }
        // Azure's first chunk (prompt filter results) and the usage chunk have no choices.
        for choice in chunk.choices.into_iter().filter(|choice| choice.index == 0) {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|text| !text.is_empty()) {
                    self.grow(text.len())?;
                    self.text.push_str(&text);
                    call.emit(ClientEvent::Delta(text));
                }
                for part in delta.tool_calls {
                    self.tool_call(part)?;
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
                if reason == FinishReason::ContentFilter {
                    self.filtered =
                        Some(filtered_categories(choice.content_filter_results.as_ref()));
                }
            }
        }
        Ok(false)
    }

    fn grow(&mut self, bytes: usize) -> Result<(), InferenceError> {
        self.size += bytes;
        if self.size > self.limit {
            return Err(InferenceError::TooLarge {
                what: "streamed answer",
                limit: self.limit,
            });
        }
        Ok(())
    }

    fn tool_call(&mut self, part: RawToolCall) -> Result<(), InferenceError> {
        if part.index >= MAX_TOOL_CALLS {
            return Err(InferenceError::Protocol {
                what: format!(
                    "a tool call numbered {}, but at most {MAX_TOOL_CALLS} are supported",
                    part.index
                ),
            });
        }
        let function = part.function.unwrap_or_default();
        let name = function.name.unwrap_or_default();
        let arguments = function.arguments.unwrap_or_default();
        self.grow(name.len() + arguments.len())?;
        if self.tool_calls.len() <= part.index {
            self.tool_calls
                .resize_with(part.index + 1, ToolCall::default);
        }
        let tool = &mut self.tool_calls[part.index];
        if let Some(id) = part.id {
            tool.id = id;
        }
        tool.name.push_str(&name);
        tool.arguments.push_str(&arguments);
        Ok(())
    }

    fn finish(self) -> Result<ChatResponse, InferenceError> {
        if let Some(categories) = self.filtered {
            return Err(InferenceError::Interrupted {
                partial: self.text,
                source: Box::new(InferenceError::ContentFiltered {
                    categories,
                    in_prompt: false,
                    request_id: self.request_id,
                }),
            });
        }
        if self.finish_reason.is_none() && self.text.is_empty() && self.tool_calls.is_empty() {
            return Err(InferenceError::Protocol {
                what: "the stream carried no answer".into(),
            });
        }
        Ok(ChatResponse {
            text: self.text,
            tool_calls: self.tool_calls,
            finish_reason: self.finish_reason,
            usage: self.usage,
            model: self.model,
            request_id: self.request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Auth;

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
        let err = http
            .get("http://weft-test.invalid/models")
            .send()
            .await
            .unwrap_err();
        let target = Target {
            url: url::Url::parse("http://weft-test.invalid/models").unwrap(),
            model: None,
            auth: Auth::ApiKeyHeader,
            organization: None,
        };
        let error = transport_error(&err, &target, &Timeouts::default());
        assert!(
            matches!(error, InferenceError::Dns { ref host, .. } if host == "weft-test.invalid"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("could not find weft-test.invalid in DNS: "),
            "{error}"
        );
    }
}
