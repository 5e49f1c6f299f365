//! A fake Azure OpenAI Batch API on 127.0.0.1: files in, batches run over a few polls, results
//! out, following Azure's documentation (the routes and shapes are listed at the top of
//! `weft_ai::batch_api`; the how-to is https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch):
//! - `POST /openai/v1/files` (multipart `purpose=batch` + `file`) → the file object;
//!   `GET /openai/v1/files/{id}` and `GET /openai/v1/files/{id}/content`.
//! - `POST /openai/v1/batches` `{input_file_id, endpoint, completion_window: "24h"}` → the batch
//!   object, `validating`; each `GET /openai/v1/batches/{id}` moves it on: `in_progress`,
//!   `finalizing`, `completed` (or `failed` with `errors.data` when the input breaks a rule the
//!   how-to's error table names, or `expired` when told to). `POST …/{id}/cancel` →
//!   `cancelling`, then `cancelled`.
//! - Each line is answered as the chat fake answers (`Hello from <deployment>: <user text>`), into
//!   the output file as `{id, custom_id, response: {status_code: 200, request_id, body}, error:
//!   null}`; a line told to fail goes to the error file with `status_code: 400` and an error body.
//! - Errors are `{"error": {"code", "message"}}`; a wrong `api-key` is Azure's 401.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::azure::Recorded;
use crate::service::{Answer, Failure, Failures, Requests, serve};

/// What the fake serves and how its batches go.
#[derive(Debug, Default)]
pub struct BatchApiSetup {
    key: Option<String>,
    deployments: Vec<String>,
    failing: HashSet<String>,
    refusal: Option<(String, String)>,
    expire: bool,
    create_failures: Failures,
}

impl BatchApiSetup {
    /// Accept only this `api-key` (or `Authorization: Bearer <it>`); without it any is taken.
    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    /// A Global-Batch deployment; a line naming no listed one fails the batch (`model_not_found`).
    pub fn deployment(mut self, name: &str) -> Self {
        self.deployments.push(name.to_owned());
        self
    }

    /// The request of the line with this `custom_id` fails: it goes to the error file.
    pub fn failing_line(mut self, custom_id: &str) -> Self {
        self.failing.insert(custom_id.to_owned());
        self
    }

    /// Validation fails every batch with this error (as `errors.data[0]`).
    pub fn refuse(mut self, code: &str, message: &str) -> Self {
        self.refusal = Some((code.to_owned(), message.to_owned()));
        self
    }

    /// Batches expire while in progress, with nothing done.
    pub fn expire(mut self) -> Self {
        self.expire = true;
        self
    }

    /// The next `POST /openai/v1/batches` is answered with this failure before it is looked at.
    pub fn fail_create(mut self, failure: Failure) -> Self {
        self.create_failures.push(failure);
        self
    }

    pub fn start(self) -> BatchApiFake {
        let state = Arc::new(Mutex::new(State {
            setup: self,
            files: BTreeMap::new(),
            batches: BTreeMap::new(),
        }));
        let shared = state.clone();
        let (base, requests) = serve(move |request| route(&mut shared.lock().unwrap(), request));
        BatchApiFake {
            base,
            requests,
            state,
        }
    }
}

struct File {
    filename: String,
    content: String,
}

struct Batch {
    input_file_id: String,
    endpoint: String,
    status: &'static str,
    /// Set at create: why validation fails, if it does.
    refusal: Option<Value>,
    total: u64,
    completed: u64,
    failed: u64,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
}

struct State {
    setup: BatchApiSetup,
    files: BTreeMap<String, File>,
    batches: BTreeMap<String, Batch>,
}

/// A running fake: `base` stands for `https://<resource>.openai.azure.com`.
pub struct BatchApiFake {
    pub base: String,
    requests: Requests,
    state: Arc<Mutex<State>>,
}

impl BatchApiFake {
    pub fn setup() -> BatchApiSetup {
        BatchApiSetup::default()
    }

    /// Every request so far, in the order they came.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The content of every uploaded file, in upload order, as received.
    pub fn uploads(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let mut files: Vec<(&String, &File)> = state
            .files
            .iter()
            .filter(|(_, file)| file.filename != RESULT_FILE)
            .collect();
        files.sort_by_key(|(id, _)| *id);
        files
            .into_iter()
            .map(|(_, file)| file.content.clone())
            .collect()
    }
}

/// The name the fake gives the files it writes.
const RESULT_FILE: &str = "batch_results.jsonl";

fn error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

fn not_found() -> Answer {
    error(404, "404", "Resource not found")
}

fn route(state: &mut State, request: &Recorded) -> Answer {
    if let Some(refused) = refuse(&state.setup, request) {
        return refused;
    }
    let segments: Vec<&str> = request
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["openai", "v1", "files"]) => upload(state, request),
        ("GET", ["openai", "v1", "files", id]) => match state.files.get(*id) {
            Some(file) => Answer::json(200, &file_object(id, file)),
            None => not_found(),
        },
        ("GET", ["openai", "v1", "files", id, "content"]) => match state.files.get(*id) {
            Some(file) => Answer::text(200, "application/octet-stream", &file.content),
            None => not_found(),
        },
        ("POST", ["openai", "v1", "batches"]) => {
            if let Some(failure) = state.setup.create_failures.next() {
                return failure.with_wait(error(
                    failure.status(),
                    &failure.status().to_string(),
                    "Rate limit is exceeded. Try again later.",
                ));
            }
            create(state, request)
        }
        ("GET", ["openai", "v1", "batches", id]) => {
            let id = (*id).to_owned();
            if !state.batches.contains_key(&id) {
                return not_found();
            }
            advance(state, &id);
            Answer::json(200, &batch_object(&id, &state.batches[&id]))
        }
        ("POST", ["openai", "v1", "batches", id, "cancel"]) => match state.batches.get_mut(*id) {
            Some(batch) if !matches!(batch.status, "completed" | "failed" | "expired") => {
                batch.status = "cancelling";
                Answer::json(200, &batch_object(id, batch))
            }
            Some(batch) => error(
                409,
                "invalid_request",
                &format!("Cannot cancel a batch with status {}.", batch.status),
            ),
            None => not_found(),
        },
        _ => not_found(),
    }
}

/// Azure's 401 when a key is set and the request carries another.
fn refuse(setup: &BatchApiSetup, request: &Recorded) -> Option<Answer> {
    let key = setup.key.as_deref()?;
    let given = request.header("api-key").or_else(|| {
        request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
    });
    (given != Some(key)).then(|| {
        error(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        )
    })
}

/// The parts of a `multipart/form-data` body, by name: (filename, content).
fn parts(request: &Recorded) -> Option<BTreeMap<String, (Option<String>, String)>> {
    let boundary = request
        .header("content-type")?
        .split(';')
        .find_map(|param| param.trim().strip_prefix("boundary="))?
        .trim_matches('"')
        .to_owned();
    let delimiter = format!("--{boundary}");
    let mut parts = BTreeMap::new();
    for part in request.body.split(&delimiter).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n")?;
        let (head, content) = part.split_once("\r\n\r\n")?;
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let disposition = head.lines().find(|line| {
            line.to_ascii_lowercase()
                .starts_with("content-disposition:")
        })?;
        let field = |key: &str| {
            disposition.split(';').find_map(|param| {
                param
                    .trim()
                    .strip_prefix(&format!("{key}="))
                    .map(|value| value.trim_matches('"').to_owned())
            })
        };
        parts.insert(field("name")?, (field("filename"), content.to_owned()));
    }
    Some(parts)
}

fn upload(state: &mut State, request: &Recorded) -> Answer {
    let Some(parts) = parts(request) else {
        return error(
            400,
            "invalid_request",
            "The request must be multipart/form-data with a purpose and a file.",
        );
    };
    match parts.get("purpose") {
        Some((_, purpose)) if purpose == "batch" => {}
        _ => {
            return error(
                400,
                "invalid_request",
                "The purpose of a file for batches must be batch.",
            );
        }
    }
    let Some((filename, content)) = parts.get("file") else {
        return error(400, "invalid_request", "The file part is missing.");
    };
    let id = format!("file-{:04}", state.files.len() + 1);
    let file = File {
        filename: filename
            .clone()
            .unwrap_or_else(|| "upload.jsonl".to_owned()),
        content: content.clone(),
    };
    let answer = Answer::json(200, &file_object(&id, &file));
    state.files.insert(id, file);
    answer
}

fn file_object(id: &str, file: &File) -> Value {
    json!({
        "id": id, "object": "file", "purpose": "batch", "status": "processed",
        "bytes": file.content.len(), "filename": file.filename, "created_at": 1_764_633_600,
    })
}

fn create(state: &mut State, request: &Recorded) -> Answer {
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    let endpoint = body["endpoint"].as_str().unwrap_or_default().to_owned();
    if !matches!(endpoint.as_str(), "/v1/chat/completions" | "/v1/embeddings") {
        return error(
            400,
            "invalid_request",
            "endpoint must be one of /v1/responses, /v1/chat/completions, /v1/embeddings, /v1/completions.",
        );
    }
    if body["completion_window"] != "24h" {
        return error(400, "invalid_request", "completion_window must be 24h.");
    }
    let input_file_id = body["input_file_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(file) = state.files.get(&input_file_id) else {
        return error(
            400,
            "invalid_request",
            &format!("No file found with id '{input_file_id}'."),
        );
    };
    let (total, refusal) = match &state.setup.refusal {
        Some((code, message)) => (0, Some(json!({"code": code, "message": message}))),
        None => validate(&state.setup, &endpoint, &file.content),
    };
    let id = format!("batch_{:04}", state.batches.len() + 1);
    let batch = Batch {
        input_file_id,
        endpoint,
        status: "validating",
        refusal,
        total,
        completed: 0,
        failed: 0,
        output_file_id: None,
        error_file_id: None,
    };
    let answer = Answer::json(200, &batch_object(&id, &batch));
    state.batches.insert(id, batch);
    answer
}

/// The line count, or the first rule of the how-to's error table the file breaks.
fn validate(setup: &BatchApiSetup, endpoint: &str, content: &str) -> (u64, Option<Value>) {
    let problem = |code: &str, line: usize, message: &str| {
        Some(json!({"code": code, "line": line, "message": message}))
    };
    let mut ids = HashSet::new();
    let mut model: Option<String> = None;
    let mut total = 0;
    for (index, text) in content.lines().enumerate() {
        let number = index + 1;
        if text.trim().is_empty() {
            continue;
        }
        let Ok(line) = serde_json::from_str::<Value>(text) else {
            return (
                0,
                problem(
                    "invalid_json_line",
                    number,
                    "A line in your input file wasn't able to be parsed as valid json.",
                ),
            );
        };
        if line["url"].as_str() != Some(endpoint) {
            return (
                0,
                problem(
                    "url_mismatch",
                    number,
                    "The URL specified in the input file doesn't match the expected endpoint URL.",
                ),
            );
        }
        let custom_id = line["custom_id"].as_str().unwrap_or_default().to_owned();
        if !ids.insert(custom_id) {
            return (
                0,
                problem(
                    "duplicate_custom_id",
                    number,
                    "The custom ID for this request is a duplicate of the custom ID in another request.",
                ),
            );
        }
        let name = line["body"]["model"].as_str().unwrap_or_default();
        match &model {
            Some(first) if first != name => {
                return (
                    0,
                    problem(
                        "model_mismatch",
                        number,
                        "The model deployment name specified in the model property of this request doesn't match the rest of the file.",
                    ),
                );
            }
            _ => model = Some(name.to_owned()),
        }
        if !setup.deployments.iter().any(|d| d == name) {
            return (
                0,
                problem(
                    "model_not_found",
                    number,
                    "The model deployment name that was specified in the model property of the input file wasn't found.",
                ),
            );
        }
        total += 1;
    }
    if total == 0 {
        return (
            0,
            problem(
                "empty_file",
                0,
                "The input file is empty. Please ensure the batch contains at least one request.",
            ),
        );
    }
    (total, None)
}

/// One poll's worth of progress.
fn advance(state: &mut State, id: &str) {
    let expire = state.setup.expire;
    let Some(batch) = state.batches.get_mut(id) else {
        return;
    };
    batch.status = match batch.status {
        "validating" if batch.refusal.is_some() => "failed",
        "validating" => "in_progress",
        "in_progress" if expire => "expired",
        "in_progress" => "finalizing",
        "finalizing" => "completed",
        "cancelling" => "cancelled",
        other => other,
    };
    if batch.status != "completed" || batch.output_file_id.is_some() {
        return;
    }
    let input = state.files[&batch.input_file_id].content.clone();
    let (mut output, mut errors) = (String::new(), String::new());
    for (index, text) in input.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let line: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let custom_id = line["custom_id"].as_str().unwrap_or_default();
        let request_id = format!("req-{index}");
        if state.setup.failing.contains(custom_id) {
            batch.failed += 1;
            let body = json!({"error": {"code": "invalid_request", "message": format!("The request {custom_id} is invalid.")}});
            errors.push_str(&format!(
                "{}\n",
                json!({"id": format!("batch_req_{index}"), "custom_id": custom_id, "response": {"status_code": 400, "request_id": request_id, "body": body}, "error": null})
            ));
        } else {
            batch.completed += 1;
            output.push_str(&format!(
                "{}\n",
                json!({"id": format!("batch_req_{index}"), "custom_id": custom_id, "response": {"status_code": 200, "request_id": request_id, "body": answer(&batch.endpoint, &line["body"])}, "error": null})
            ));
        }
    }
    let mut write = |content: String| {
        let file_id = format!("file-{:04}", state.files.len() + 1);
        state.files.insert(
            file_id.clone(),
            File {
                filename: RESULT_FILE.to_owned(),
                content,
            },
        );
        file_id
    };
    // As Azure does, a completed batch has an error file even when it is empty.
    batch.output_file_id = Some(write(output));
    batch.error_file_id = Some(write(errors));
}

/// What the chat fake would answer: `Hello from <deployment>: <the last message>`.
fn answer(endpoint: &str, body: &Value) -> Value {
    let deployment = body["model"].as_str().unwrap_or_default();
    if endpoint == "/v1/embeddings" {
        return json!({"object": "list", "model": deployment, "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}], "usage": {"prompt_tokens": 4, "total_tokens": 4}});
    }
    let last = body["messages"]
        .as_array()
        .and_then(|messages| messages.last())
        .and_then(|message| message["content"].as_str())
        .unwrap_or_default();
    json!({
        "id": "chatcmpl-batch", "object": "chat.completion", "model": deployment,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Hello from {deployment}: {last}")}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    })
}

fn batch_object(id: &str, batch: &Batch) -> Value {
    let errors = match (&batch.refusal, batch.status) {
        (Some(refusal), "failed") => json!({"object": "list", "data": [refusal]}),
        _ => Value::Null,
    };
    json!({
        "id": id, "object": "batch", "endpoint": batch.endpoint, "completion_window": "24h",
        "input_file_id": batch.input_file_id, "status": batch.status, "errors": errors,
        "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
        "created_at": 1_764_633_600, "expires_at": 1_764_720_000, "metadata": null,
        "request_counts": {"total": batch.total, "completed": batch.completed, "failed": batch.failed},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::raw;

    #[test]
    fn a_batch_moves_from_validating_to_completed_over_polls() {
        let fake = BatchApiFake::setup()
            .key("k")
            .deployment("gpt-batch")
            .failing_line("b")
            .start();
        let line = |id: &str| {
            json!({"custom_id": id, "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-batch", "messages": [{"role": "user", "content": id}]}}).to_string()
        };
        let body = format!(
            "--XX\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XX\r\ncontent-disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n{}\n{}\n\r\n--XX--\r\n",
            line("a"),
            line("b")
        );
        let headers = [
            ("api-key", "k"),
            ("content-type", "multipart/form-data; boundary=XX"),
        ];
        let (status, _, file) = raw(&fake.base, "POST", "/openai/v1/files", &headers, &body);
        assert_eq!(status, 200, "{file}");
        let file: Value = serde_json::from_str(&file).unwrap();
        let create = json!({"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}).to_string();
        let (_, _, batch) = raw(&fake.base, "POST", "/openai/v1/batches", &headers, &create);
        let batch: Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(batch["status"], "validating");
        let path = format!("/openai/v1/batches/{}", batch["id"].as_str().unwrap());
        let poll = || {
            let (_, _, body) = raw(&fake.base, "GET", &path, &headers, "");
            serde_json::from_str::<Value>(&body).unwrap()
        };
        let statuses: Vec<Value> = (0..3).map(|_| poll()["status"].clone()).collect();
        assert_eq!(statuses, ["in_progress", "finalizing", "completed"]);
        let done = poll();
        assert_eq!(
            done["request_counts"],
            json!({"total": 2, "completed": 1, "failed": 1})
        );
        let content = |id: &Value| {
            raw(
                &fake.base,
                "GET",
                &format!("/openai/v1/files/{}/content", id.as_str().unwrap()),
                &headers,
                "",
            )
            .2
        };
        let output: Value = serde_json::from_str(content(&done["output_file_id"]).trim()).unwrap();
        assert_eq!(
            output["response"]["body"]["choices"][0]["message"]["content"],
            "Hello from gpt-batch: a"
        );
        let failed: Value = serde_json::from_str(content(&done["error_file_id"]).trim()).unwrap();
        assert_eq!(
            (
                failed["custom_id"].as_str(),
                failed["response"]["status_code"].as_u64()
            ),
            (Some("b"), Some(400))
        );
        assert_eq!(
            raw(&fake.base, "GET", &path, &[("api-key", "wrong")], "").0,
            401
        );
    }
}
