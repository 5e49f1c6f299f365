//! The Azure OpenAI Batch API: one JSONL file of requests uploaded, run by Azure within 24 h
//! at its batch price and quota, its answers downloaded as another JSONL file.
//!
//! The contract, from Azure's documentation:
//! - Upload: `POST {resource}/openai/v1/files`, `multipart/form-data` with `purpose=batch` and
//!   the `file`, answered by a file object `{id, bytes, filename, purpose, status}`
//!   (https://learn.microsoft.com/azure/foundry/reference/rest/files-create-file; the how-to's
//!   curl sends the file part as `type=application/json`,
//!   https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch, REST tab).
//! - Create: `POST {resource}/openai/v1/batches` with `{input_file_id, endpoint,
//!   completion_window: "24h"}`; `endpoint` is one of the reference's enum, `/v1/chat/completions`
//!   or `/v1/embeddings` (https://learn.microsoft.com/azure/foundry/reference/rest/batches-create-batch).
//!   The window must be `24h` ("If you set any other value than 24h your job will fail").
//!   A full enqueued-token quota fails the create at once with a 400 whose message holds
//!   `token_limit_exceeded` (the how-to's "Queueing batch jobs").
//! - Status: `GET …/batches/{id}`; `POST …/batches/{id}/cancel`
//!   (https://learn.microsoft.com/azure/foundry/reference/rest/batches-cancel-batch). The batch
//!   object's `status` is one of `validating, failed, in_progress, finalizing, completed,
//!   expired, cancelling, cancelled` (the REST examples also show `Validating`, so it is read
//!   without case); `request_counts {total, completed, failed}` may hold nulls; `output_file_id`
//!   and `error_file_id` may be null or `""`; a failed batch says why in
//!   `errors: {object: "list", data: [{code, message}]}` (the how-to's "Troubleshooting").
//!   The how-to recommends "waiting at least 60 seconds in between each status call".
//! - Results: `GET …/files/{id}/content`, JSONL, one line per request, in no particular order:
//!   `{custom_id, response: {status_code, request_id, body} | null, error: {code, message} | null}`
//!   (`error` for "requests that failed with a non-HTTP error", OpenAI's BatchRequestOutput,
//!   whose shape the how-to's output examples follow).
//! - Input lines: `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body":
//!   {"model": <the Global-Batch deployment>, …}}`; the same deployment on every line; custom
//!   ids unique (the how-to's "Input format" and error codes `model_mismatch`,
//!   `duplicate_custom_id`, `url_mismatch`).
//! - Auth: the `api-key` header, or `Authorization: Bearer` with a Microsoft Entra ID token
//!   (the how-to's key and Entra ID tabs).
//!
//! Every call goes through the shared transport: timeouts, no redirects, the reply cap,
//! cancellation, retries of 429/5xx honouring `Retry-After`, the key masked in what it reports.
//! The JSONL file holds the requests only; the credential travels in a header, never in it.

use std::time::Duration;

use reqwest::{Method, Response};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use url::Url;

use super::Handles;
use crate::client::{completion, embeddings};
use crate::credential::Authorization;
use crate::endpoint::{Auth, Endpoint};
use crate::error::{InferenceError, TimeoutPhase};
use crate::request::{PreparedRequest, json_body};
use crate::status::{Failure, cut, model_error};
use crate::transport::{cancellable, host, with_sources};
use crate::wire::{RawCompletion, RawEmbeddings};
use crate::{ChatRequest, ChatResponse, Client, Credential, EmbeddingsRequest, EmbeddingsResponse};

/// The only completion window Azure takes.
pub const COMPLETION_WINDOW: &str = "24h";
/// The most requests one input file may hold, and its largest size ("Maximum requests per
/// file: 100,000", "Maximum input file size: 200 MB",
/// https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch, "Batch limits"; MB read as
/// 10^6 bytes, the smaller reading).
pub const MAX_REQUESTS: usize = 100_000;
pub const MAX_FILE_BYTES: usize = 200_000_000;

/// An input file being written: lines appended until the next would break Azure's limits,
/// when the caller starts another batch.
#[derive(Debug, Default)]
pub struct InputFile {
    bytes: Vec<u8>,
    lines: usize,
}

impl InputFile {
    /// Whether `line` still fits in this file.
    pub fn fits(&self, line: &[u8]) -> bool {
        self.lines < MAX_REQUESTS && self.bytes.len() + line.len() <= MAX_FILE_BYTES
    }

    /// Appends `line` (from [`BatchTarget::chat_line`] or [`BatchTarget::embeddings_line`]);
    /// check [`Self::fits`] first.
    pub fn push(&mut self, line: &[u8]) {
        self.bytes.extend_from_slice(line);
        self.lines += 1;
    }

    pub fn lines(&self) -> usize {
        self.lines
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// What every request of one batch calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEndpoint {
    ChatCompletions,
    /// In the REST reference's enum; Azure's how-to FAQ still says embeddings models cannot be
    /// batched, so the service may refuse such a batch when it validates it.
    Embeddings,
}

impl BatchEndpoint {
    /// The value of `endpoint` at create and of each line's `url`.
    pub fn path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "/v1/chat/completions",
            Self::Embeddings => "/v1/embeddings",
        }
    }
}

/// An Azure resource's Batch API and the credential its calls carry.
#[derive(Debug, Clone)]
pub struct BatchTarget {
    /// `{resource}/openai/v1`.
    base: Url,
    credential: Credential,
}

impl BatchTarget {
    /// The Batch API of the Azure resource `endpoint` calls. Azure OpenAI and Foundry resources
    /// serve it on their v1 API; a serverless or OpenAI endpoint has none.
    pub fn new(endpoint: &Endpoint, credential: Credential) -> Result<Self, InferenceError> {
        let base = match endpoint {
            Endpoint::AzureV1 { base } => base.clone(),
            Endpoint::AzureOpenAi { resource, .. } => v1_base(resource),
            Endpoint::ModelInference { endpoint, .. } => {
                let mut resource = endpoint.clone();
                let path = resource.path().trim_end_matches('/');
                let path = path.strip_suffix("/models").unwrap_or(path).to_owned();
                resource.set_path(&path);
                v1_base(&resource)
            }
            Endpoint::Serverless { .. } | Endpoint::OpenAi { .. } => {
                return Err(InferenceError::Config(format!(
                    "the Azure OpenAI Batch API runs on Azure OpenAI and Azure AI Foundry resources, and this connection is an {}; choose a connection to an Azure resource with a Global-Batch deployment, or run the batch locally",
                    endpoint.api_label()
                )));
            }
        };
        Ok(Self { base, credential })
    }

    fn url(&self, segments: &[&str]) -> Url {
        super::join(&self.base, segments)
    }

    /// The v1 endpoint whose body rules (`max_completion_tokens`) the batched bodies follow.
    fn endpoint(&self) -> Endpoint {
        Endpoint::AzureV1 {
            base: self.base.clone(),
        }
    }

    /// One input line (with its `\n`) asking `deployment` for `request`: the body a live call
    /// would send, unstreamed.
    pub fn chat_line(
        &self,
        custom_id: &str,
        deployment: &str,
        request: &ChatRequest,
    ) -> Result<Vec<u8>, InferenceError> {
        let body = request.body(&self.endpoint(), Some(deployment), false);
        line(custom_id, BatchEndpoint::ChatCompletions, &body)
    }

    /// One input line asking `deployment` for embeddings of `request`, as a live call sends it.
    pub fn embeddings_line(
        &self,
        custom_id: &str,
        deployment: &str,
        request: &EmbeddingsRequest,
    ) -> Result<Vec<u8>, InferenceError> {
        let mut body = serde_json::to_value(request).map_err(|err| {
            InferenceError::Config(format!("could not encode the request: {err}"))
        })?;
        if let Some(map) = body.as_object_mut() {
            map.insert("model".into(), Value::String(deployment.to_owned()));
        }
        line(custom_id, BatchEndpoint::Embeddings, &body)
    }
}

fn v1_base(resource: &Url) -> Url {
    match Endpoint::azure_openai_v1(resource.clone()) {
        Endpoint::AzureV1 { base } => base,
        _ => resource.clone(),
    }
}

/// One input line. The body is serialised as itself, not through a `Value`, so its numbers are
/// written as a live call writes them (an `f32` temperature of 0.2 stays `0.2`).
#[derive(serde::Serialize)]
struct InputLine<'a, T: serde::Serialize + ?Sized> {
    custom_id: &'a str,
    method: &'static str,
    url: &'static str,
    body: &'a T,
}

fn line<T: serde::Serialize + ?Sized>(
    custom_id: &str,
    endpoint: BatchEndpoint,
    body: &T,
) -> Result<Vec<u8>, InferenceError> {
    let mut bytes = json_body(&InputLine {
        custom_id,
        method: "POST",
        url: endpoint.path(),
        body,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileObject {
    pub id: String,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// Where a batch is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchStatus {
    Validating,
    Failed,
    InProgress,
    Finalizing,
    Completed,
    Expired,
    Cancelling,
    Cancelled,
    /// A status the documentation does not list yet, as sent.
    Other(String),
}

impl BatchStatus {
    fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "validating" => Self::Validating,
            "failed" => Self::Failed,
            "in_progress" => Self::InProgress,
            "finalizing" => Self::Finalizing,
            "completed" => Self::Completed,
            "expired" => Self::Expired,
            "cancelling" => Self::Cancelling,
            "cancelled" | "canceled" => Self::Cancelled,
            _ => Self::Other(raw.to_owned()),
        }
    }

    /// Whether the batch will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Failed | Self::Completed | Self::Expired | Self::Cancelled
        )
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Validating => "validating",
            Self::Failed => "failed",
            Self::InProgress => "in_progress",
            Self::Finalizing => "finalizing",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Cancelling => "cancelling",
            Self::Cancelled => "cancelled",
            Self::Other(raw) => raw,
        }
    }
}

impl<'de> Deserialize<'de> for BatchStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// How many requests of a batch are done; Azure sends nulls before it has counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct RequestCounts {
    #[serde(default, deserialize_with = "count")]
    pub total: u64,
    #[serde(default, deserialize_with = "count")]
    pub completed: u64,
    #[serde(default, deserialize_with = "count")]
    pub failed: u64,
}

fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(deserializer)?.unwrap_or_default())
}

/// Null and `""` both mean no file.
fn file_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|id| !id.trim().is_empty()))
}

/// One reason a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BatchIssue {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// The input line it is about, when the service says.
    #[serde(default)]
    pub line: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct Issues {
    #[serde(default)]
    data: Vec<BatchIssue>,
}

fn issues<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<BatchIssue>, D::Error> {
    Ok(Option::<Issues>::deserialize(deserializer)?
        .unwrap_or_default()
        .data)
}

/// A batch as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Batch {
    pub id: String,
    pub status: BatchStatus,
    #[serde(default, deserialize_with = "file_id")]
    pub input_file_id: Option<String>,
    #[serde(default, deserialize_with = "file_id")]
    pub output_file_id: Option<String>,
    #[serde(default, deserialize_with = "file_id")]
    pub error_file_id: Option<String>,
    #[serde(default, deserialize_with = "counts")]
    pub request_counts: RequestCounts,
    #[serde(default, deserialize_with = "issues")]
    pub errors: Vec<BatchIssue>,
}

fn counts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RequestCounts, D::Error> {
    Ok(Option::<RequestCounts>::deserialize(deserializer)?.unwrap_or_default())
}

impl Batch {
    /// The service's reasons, one per line it named: `line 3: The input file is empty…`.
    fn reasons(&self) -> String {
        let reasons: Vec<String> = self
            .errors
            .iter()
            .map(|issue| {
                let text = issue
                    .message
                    .as_deref()
                    .or(issue.code.as_deref())
                    .unwrap_or("no reason given");
                match issue.line {
                    Some(line) => format!("line {line}: {}", cut(text)),
                    None => cut(text),
                }
            })
            .collect();
        if reasons.is_empty() {
            "no reason given".to_owned()
        } else {
            reasons.join("; ")
        }
    }
}

/// How a batch ended when it did not complete.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Call(#[from] InferenceError),
    #[error(
        "Azure refused the batch {} when it checked the input file: {}; fix what it names (the deployment must be a Global-Batch one, the same on every line) and run the batch again",
        .batch.id, .batch.reasons()
    )]
    Failed { batch: Box<Batch> },
    #[error(
        "the batch {} expired: Azure did not finish it within its 24 h window ({} of {} requests done); the answers it has are in its output file, run the rest again",
        .batch.id, .batch.request_counts.completed, .batch.request_counts.total
    )]
    Expired { batch: Box<Batch> },
    #[error(
        "the batch {} was cancelled ({} of {} requests done); the answers it has are in its output file",
        .batch.id, .batch.request_counts.completed, .batch.request_counts.total
    )]
    Cancelled { batch: Box<Batch> },
}

/// One line of an output or error file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OutputLine {
    pub custom_id: String,
    #[serde(default)]
    pub response: Option<LineResponse>,
    #[serde(default)]
    pub error: Option<LineError>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LineResponse {
    pub status_code: u16,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LineError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl OutputLine {
    /// The chat answer this line holds, read as a live answer is (the content filter, tool
    /// calls), or the error the request met, as a live call would have reported it.
    pub fn chat(&self, target: &BatchTarget) -> Result<ChatResponse, InferenceError> {
        let response = self.answered(target)?;
        let raw: RawCompletion = serde_json::from_value(response.body.clone()).map_err(|err| {
            InferenceError::Protocol {
                what: format!(
                    "the batch's answer to `{}` is not a chat completion ({err})",
                    self.custom_id
                ),
            }
        })?;
        completion(raw, response.request_id.clone())
    }

    /// The embeddings of the `inputs` texts this line's request sent, read as a live answer is.
    pub fn embeddings(
        &self,
        target: &BatchTarget,
        inputs: usize,
    ) -> Result<EmbeddingsResponse, InferenceError> {
        let response = self.answered(target)?;
        let raw: RawEmbeddings = serde_json::from_value(response.body.clone()).map_err(|err| {
            InferenceError::Protocol {
                what: format!(
                    "the batch's answer to `{}` is not an embeddings answer ({err})",
                    self.custom_id
                ),
            }
        })?;
        embeddings(raw, inputs)
    }

    /// The 2xx response, else the line's error as an [`InferenceError`].
    fn answered(&self, target: &BatchTarget) -> Result<&LineResponse, InferenceError> {
        if let Some(error) = &self.error {
            return Err(InferenceError::BadRequest {
                status: self.response.as_ref().map_or(400, |r| r.status_code),
                message: format!(
                    "the Batch API could not run this request: {}",
                    cut(error
                        .message
                        .as_deref()
                        .or(error.code.as_deref())
                        .unwrap_or("no reason given"))
                ),
                request_id: None,
            });
        }
        let Some(response) = &self.response else {
            return Err(InferenceError::Protocol {
                what: format!(
                    "the batch's line for `{}` has neither a response nor an error",
                    self.custom_id
                ),
            });
        };
        if (200..300).contains(&response.status_code) {
            return Ok(response);
        }
        let error = &response.body["error"];
        let failure = Failure {
            status: response.status_code,
            code: error["code"].as_str().map(str::to_owned),
            message: cut(error["message"].as_str().unwrap_or("no details given")),
            innererror: error.get("innererror").cloned(),
            url: target.base.to_string(),
            retry_after: None,
            request_id: response.request_id.clone(),
        };
        Err(model_error(failure, None, &target.endpoint()))
    }
}

/// What a 404 from the Batch API means.
const NOT_FOUND: &str = "the resource has no such batch or file, or does not serve the Batch API; check that the connection points at the Azure resource (https://<resource>.openai.azure.com) that holds the Global-Batch deployment";

/// A failed status, with the Batch API's own hints.
fn batch_error(failure: Failure) -> InferenceError {
    if failure.status == 400 && failure.message.contains("token_limit_exceeded") {
        return InferenceError::BadRequest {
            status: 400,
            message: format!(
                "the deployment's enqueued token quota is full (token_limit_exceeded): wait for its running batches to finish, or raise the Global-Batch deployment's enqueued token quota, then run again. {}",
                failure.message
            ),
            request_id: failure.request_id,
        };
    }
    failure.into_error(NOT_FOUND)
}

async fn authorization(
    client: &Client,
    target: &BatchTarget,
    handles: &Handles,
) -> Result<Authorization, InferenceError> {
    match &target.credential {
        Credential::Key(key) => Ok(Authorization::key(Auth::ApiKeyHeader, key)),
        Credential::Entra { scope } => {
            client
                .entra_authorization(scope.as_deref(), &handles.cancel)
                .await
        }
    }
}

async fn prepare(
    client: &Client,
    target: &BatchTarget,
    method: Method,
    url: Url,
    handles: &Handles,
) -> Result<PreparedRequest, InferenceError> {
    let auth = authorization(client, target, handles).await?;
    Ok(PreparedRequest::new(method, url)
        .secret_header(auth.name, auth.value.as_str(), &auth.secret)
        .client_request_id(uuid::Uuid::new_v4().to_string()))
}

async fn send_json<T: serde::de::DeserializeOwned>(
    client: &Client,
    request: &PreparedRequest,
    handles: &Handles,
) -> Result<T, InferenceError> {
    client
        .transport()
        .send_mapped(request, handles.watch(), batch_error)
        .await?
        .json()
}

/// Uploads `jsonl` (the input lines) as a file for batches, named `filename`.
pub async fn upload(
    client: &Client,
    target: &BatchTarget,
    filename: &str,
    jsonl: Vec<u8>,
    handles: &Handles,
) -> Result<FileObject, InferenceError> {
    if jsonl.len() > MAX_FILE_BYTES {
        return Err(InferenceError::Config(format!(
            "the batch's input file has {} bytes, more than the {MAX_FILE_BYTES} Azure takes; split the rows into several batches",
            jsonl.len()
        )));
    }
    // A random 128-bit boundary: RFC 2046 asks that it appear nowhere in the parts.
    let boundary = format!("weft-{}", uuid::Uuid::new_v4().simple());
    let name = filename.replace(['"', '\r', '\n'], "_");
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\ncontent-type: application/json\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&jsonl);
    drop(jsonl);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = prepare(
        client,
        target,
        Method::POST,
        target.url(&["files"]),
        handles,
    )
    .await?
    .body(&format!("multipart/form-data; boundary={boundary}"), body);
    send_json(client, &request, handles).await
}

/// Starts a batch over the uploaded `input_file_id`, every line calling `endpoint`.
pub async fn create(
    client: &Client,
    target: &BatchTarget,
    input_file_id: &str,
    endpoint: BatchEndpoint,
    handles: &Handles,
) -> Result<Batch, InferenceError> {
    let request = prepare(
        client,
        target,
        Method::POST,
        target.url(&["batches"]),
        handles,
    )
    .await?
    .json(&json!({
        "input_file_id": input_file_id,
        "endpoint": endpoint.path(),
        "completion_window": COMPLETION_WINDOW,
    }))?;
    send_json(client, &request, handles).await
}

/// The batch as it is now.
pub async fn get(
    client: &Client,
    target: &BatchTarget,
    batch_id: &str,
    handles: &Handles,
) -> Result<Batch, InferenceError> {
    let url = target.url(&["batches", batch_id]);
    let request = prepare(client, target, Method::GET, url, handles).await?;
    send_json(client, &request, handles).await
}

/// Asks the service to cancel the batch; it says `cancelling` for up to 10 minutes, then
/// `cancelled`, with the answers it has in its output file.
pub async fn cancel(
    client: &Client,
    target: &BatchTarget,
    batch_id: &str,
    handles: &Handles,
) -> Result<Batch, InferenceError> {
    let url = target.url(&["batches", batch_id, "cancel"]);
    let request = prepare(client, target, Method::POST, url, handles).await?;
    send_json(client, &request, handles).await
}

/// Polls the batch until it ends: every `every` while it moves, backing off to four times that
/// while nothing changes; `on_progress` hears each status. A completed batch is returned; a
/// failed, expired or cancelled one is the [`BatchError`] that says so (the last two keep the
/// batch, whose output file holds the answers it has). Cancelling `handles` stops waiting
/// (the batch itself runs on; [`cancel`] stops it).
pub async fn wait(
    client: &Client,
    target: &BatchTarget,
    batch_id: &str,
    every: Duration,
    handles: &Handles,
    mut on_progress: impl FnMut(&Batch),
) -> Result<Batch, BatchError> {
    let longest = every.saturating_mul(4);
    let mut delay = every;
    let mut last: Option<(BatchStatus, RequestCounts)> = None;
    loop {
        let batch = get(client, target, batch_id, handles).await?;
        on_progress(&batch);
        match batch.status {
            BatchStatus::Completed => return Ok(batch),
            BatchStatus::Failed => {
                return Err(BatchError::Failed {
                    batch: Box::new(batch),
                });
            }
            BatchStatus::Expired => {
                return Err(BatchError::Expired {
                    batch: Box::new(batch),
                });
            }
            BatchStatus::Cancelled => {
                return Err(BatchError::Cancelled {
                    batch: Box::new(batch),
                });
            }
            _ => {}
        }
        let now = (batch.status.clone(), batch.request_counts);
        delay = if last.as_ref() == Some(&now) {
            delay.saturating_mul(2).min(longest)
        } else {
            every
        };
        last = Some(now);
        cancellable(&handles.cancel, tokio::time::sleep(delay)).await?;
    }
}

/// Reads the file `file_id` (an output or error file) line by line as it arrives, handing each
/// to `each`; returns how many lines there were. Only one line is held at a time (at most the
/// client's stream line limit); a line that is not the documented shape ends the download with
/// an error naming it.
pub async fn download(
    client: &Client,
    target: &BatchTarget,
    file_id: &str,
    handles: &Handles,
    mut each: impl FnMut(OutputLine),
) -> Result<u64, InferenceError> {
    let url = target.url(&["files", file_id, "content"]);
    let request = prepare(client, target, Method::GET, url, handles).await?;
    let transport = client.transport();
    let exchanged = transport
        .exchange(&request, None, handles.watch(), batch_error, |response| {
            Box::pin(async { Ok::<Response, InferenceError>(response) })
        })
        .await?;
    // With a client that limits its sends, the place is held until the file has been read.
    let (mut response, _permit) = (exchanged.answer, exchanged.permit);
    let limit = transport.limits().sse_line;
    let idle = transport.timeouts().idle;
    let from = host(response.url());
    let mut pending: Vec<u8> = Vec::new();
    let mut lines = 0;
    // The file's line number (blank lines included), for a message about a bad line.
    let mut number = 0;
    let mut take = |bytes: &[u8], lines: &mut u64| -> Result<(), InferenceError> {
        number += 1;
        let text = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        *lines += 1;
        let line = serde_json::from_slice(text).map_err(|err| InferenceError::Protocol {
            what: format!(
                "line {number} of the batch's file {file_id} is not a result line ({err})"
            ),
        })?;
        each(line);
        Ok(())
    };
    loop {
        let chunk = cancellable(
            &handles.cancel,
            tokio::time::timeout(idle, response.chunk()),
        )
        .await?
        .map_err(|_| InferenceError::Timeout {
            phase: TimeoutPhase::Idle,
            after: idle,
        })?
        .map_err(|err| InferenceError::Network {
            host: from.clone(),
            message: format!("the file broke off: {}", with_sources(&err)),
        })?;
        let Some(chunk) = chunk else { break };
        let mut rest = &chunk[..];
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            pending.extend_from_slice(&rest[..end]);
            take(&pending, &mut lines)?;
            pending.clear();
            rest = &rest[end + 1..];
        }
        pending.extend_from_slice(rest);
        if pending.len() > limit {
            return Err(InferenceError::TooLarge {
                what: "line of the batch's file",
                limit,
            });
        }
    }
    take(&pending, &mut lines)?;
    Ok(lines)
}
