use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use reqwest::{Method, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::endpoint::{Operation, Target};
use crate::error::{InferenceError, TimeoutPhase};
use crate::retry::{RetryPolicy, is_retryable, retry_after};
use crate::sse::SseDecoder;
use crate::wire::{
    ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, FinishReason, RawCompletion,
    RawEmbeddings, RawErrorBody, ToolCall, Usage,
};
use crate::{ApiKey, Endpoint};

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

/// One call: where it goes, the key, which deployment, and the caller's handles.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub endpoint: &'a Endpoint,
    pub key: &'a ApiKey,
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

/// The inference client. Make one per process and share it: it pools connections.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    timeouts: Timeouts,
    retry: RetryPolicy,
}

impl Client {
    pub fn new(timeouts: Timeouts, retry: RetryPolicy) -> Result<Self, InferenceError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| InferenceError::Config(format!("could not set up HTTPS: {err}")))?;
        Ok(Self {
            http,
            timeouts,
            retry,
        })
    }

    /// A chat completion, waiting for the whole answer.
    pub async fn chat(
        &self,
        call: &Call<'_>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, InferenceError> {
        let target = self.target(call, Operation::ChatCompletions)?;
        let body = to_body(&request.body(call.endpoint, target.model.as_deref(), false))?;
        let (response, request_id) = self.send(call, &target, Method::POST, Some(body)).await?;
        let raw: RawCompletion = self.read_json(call, response).await?;
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
        let (response, request_id) = self.send(call, &target, Method::POST, Some(body)).await?;
        let mut answer = Assembly::new(request_id);
        match self.read_stream(call, response, &mut answer).await {
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
        let (response, _) = self.send(call, &target, Method::POST, Some(body)).await?;
        let raw: RawEmbeddings = self.read_json(call, response).await?;
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
        let (response, _) = self.send(call, &target, Method::GET, None).await?;
        self.read_json(call, response).await
    }

    fn target(&self, call: &Call<'_>, operation: Operation) -> Result<Target, InferenceError> {
        call.endpoint
            .target(operation, call.deployment)
            .map_err(InferenceError::Config)
    }

    /// Sends until a success, a failure not worth retrying, or the budget runs out.
    async fn send(
        &self,
        call: &Call<'_>,
        target: &Target,
        method: Method,
        body: Option<Vec<u8>>,
    ) -> Result<(Response, Option<String>), InferenceError> {
        let started = Instant::now();
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let (auth_name, auth_value) = target.auth.header(call.key);
        let mut retries = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), target.url.clone())
                .header(auth_name, &auth_value)
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
                Ok(Err(err)) => (transport_error(&err, target, &self.timeouts), None),
                Ok(Ok(response)) if response.status().is_success() => {
                    let request_id = request_id(&response).or(Some(client_request_id));
                    return Ok((response, request_id));
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let wait = retry_after(response.headers(), SystemTime::now());
                    let request_id =
                        request_id(&response).or_else(|| Some(client_request_id.clone()));
                    let text = self.read_text(call, response).await.unwrap_or_default();
                    let error = status_error(status, &text, target, wait, request_id);
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

    async fn read_text(
        &self,
        call: &Call<'_>,
        response: Response,
    ) -> Result<String, InferenceError> {
        let idle = self.timeouts.idle;
        match cancellable(&call.cancel, tokio::time::timeout(idle, response.text())).await? {
            Err(_) => Err(InferenceError::Timeout {
                phase: TimeoutPhase::Idle,
                after: idle,
            }),
            Ok(Err(err)) => Err(InferenceError::Protocol {
                what: format!("the answer could not be read: {err}"),
            }),
            Ok(Ok(text)) => Ok(text),
        }
    }

    async fn read_json<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        response: Response,
    ) -> Result<T, InferenceError> {
        let text = self.read_text(call, response).await?;
        serde_json::from_str(&text).map_err(|err| InferenceError::Protocol {
            what: not_json(&text, &err),
        })
    }

    async fn read_stream(
        &self,
        call: &Call<'_>,
        response: Response,
        answer: &mut Assembly,
    ) -> Result<(), InferenceError> {
        let idle = self.timeouts.idle;
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::default();
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
                        host: String::new(),
                        message: format!("the stream failed: {err}"),
                    });
                }
                Ok(Some(Ok(bytes))) => decoder
                    .push(&bytes)
                    .map_err(|what| InferenceError::Protocol { what })?,
                Ok(None) => {
                    if let Some(data) = decoder.finish()
                        && answer.event(call, &data)?
                    {
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

fn transport_error(err: &reqwest::Error, target: &Target, timeouts: &Timeouts) -> InferenceError {
    if err.is_timeout() && err.is_connect() {
        return InferenceError::Timeout {
            phase: TimeoutPhase::Connect,
            after: timeouts.connect,
        };
    }
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message = format!("{message}: {inner}");
        source = inner.source();
    }
    InferenceError::Network {
        host: target.url.host_str().unwrap_or_default().to_owned(),
        message,
    }
}

fn status_error(
    status: u16,
    text: &str,
    target: &Target,
    wait: Option<Duration>,
    request_id: Option<String>,
) -> InferenceError {
    let body: RawErrorBody = serde_json::from_str(text).unwrap_or_default();
    let error = body.error.unwrap_or_default();
    let code = error.code.as_ref().map(|code| match code {
        Value::String(code) => code.clone(),
        other => other.to_string(),
    });
    let message = error.message.clone().unwrap_or_else(|| match text.trim() {
        "" => "no details given".to_owned(),
        t if t.starts_with('<') => {
            "the reply was an HTML page (a proxy or a wrong URL?)".to_owned()
        }
        t => t.chars().take(300).collect(),
    });
    if code.as_deref() == Some("content_filter") {
        return InferenceError::ContentFiltered {
            categories: filtered_categories(error.innererror.as_ref()),
            in_prompt: true,
            request_id,
        };
    }
    match status {
        401 => InferenceError::Unauthorized {
            message,
            request_id,
        },
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

fn not_found_hint(url: &url::Url, code: Option<&str>, message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if code == Some("DeploymentNotFound") || lower.contains("deployment") {
        "the deployment does not exist on this resource (or was created in the last few minutes); check the deployment name".into()
    } else if lower.contains("api-version") || lower.contains("api version") {
        "this API version is not available here; try another api_version in the connection".into()
    } else if url.path().contains("/openai/deployments/") {
        "check the deployment name and that the connection's URL is the resource, not a portal link"
            .into()
    } else {
        "check the endpoint: Azure AI Foundry endpoints end in /models, Azure OpenAI v1 ones in /openai/v1".into()
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
    text: String,
    tool_calls: Vec<ToolCall>,
    finish_reason: Option<FinishReason>,
    filtered: Option<Vec<String>>,
    usage: Option<Usage>,
    model: Option<String>,
    request_id: Option<String>,
}

impl Assembly {
    fn new(request_id: Option<String>) -> Self {
        Self {
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
                    self.text.push_str(&text);
                    call.emit(ClientEvent::Delta(text));
                }
                for part in delta.tool_calls {
                    while self.tool_calls.len() <= part.index {
                        self.tool_calls.push(ToolCall {
                            id: String::new(),
                            name: String::new(),
                            arguments: String::new(),
                        });
                    }
                    let tool = &mut self.tool_calls[part.index];
                    if let Some(id) = part.id {
                        tool.id = id;
                    }
                    if let Some(function) = part.function {
                        tool.name
                            .push_str(function.name.as_deref().unwrap_or_default());
                        tool.arguments
                            .push_str(function.arguments.as_deref().unwrap_or_default());
                    }
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
