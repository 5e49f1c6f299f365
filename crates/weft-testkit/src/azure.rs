//! A fake Azure resource on 127.0.0.1 that knows its routes: the OpenAI v1 API for every
//! deployment, the dated deployment URLs, and the retired Azure AI Model Inference API.
//!
//! The shapes it answers with, from the published contracts:
//! - v1: `POST /openai/v1/chat/completions` and `/openai/v1/embeddings`, the deployment in the
//!   body's `model`, no `api-version`
//!   (https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle, "v1 API").
//! - dated: `POST /openai/deployments/{deployment}/chat/completions?api-version=…`
//!   (https://learn.microsoft.com/azure/ai-foundry/openai/reference).
//! - errors: `{"error": {"code", "message"}}` (the reference's "ErrorResponse"); an unknown
//!   deployment is 404 `DeploymentNotFound` with the text Azure OpenAI sends, an unknown route
//!   404 `{"error":{"code":"404","message":"Resource not found"}}` as the service sends it.
//! - retired: Azure retired the Model Inference API (`/models/*`) on 2026-08-26
//!   (https://learn.microsoft.com/azure/ai-foundry/how-to/model-inference-to-openai-migration)
//!   and documents no reply for the old routes; the fake answers 410 in the same error shape,
//!   with an illustrative code.
//! - a refused key is 401 in the error shape; a refused bearer token is 401 with the
//!   `{"statusCode", "message"}` body the service sends for one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::{Reply, chat_stream, read_request, write_reply};

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the fake resource serves: its deployments, the credentials it accepts (none listed:
/// any), and scripted replies per deployment (once they run out, a default answer).
#[derive(Debug, Default)]
pub struct AzureSetup {
    deployments: Vec<String>,
    keys: HashSet<String>,
    tokens: HashSet<String>,
    scripts: HashMap<String, VecDeque<Reply>>,
}

impl AzureSetup {
    pub fn deployment(mut self, name: &str) -> Self {
        self.deployments.push(name.to_owned());
        self
    }

    /// Accept this `api-key`; once a key or a token is listed, anything else is refused.
    pub fn key(mut self, key: &str) -> Self {
        self.keys.insert(key.to_owned());
        self
    }

    /// Accept `Authorization: Bearer <token>`.
    pub fn token(mut self, token: &str) -> Self {
        self.tokens.insert(token.to_owned());
        self
    }

    /// The next answer `deployment` gives, after those already scripted.
    pub fn reply(mut self, deployment: &str, reply: Reply) -> Self {
        self.scripts
            .entry(deployment.to_owned())
            .or_default()
            .push_back(reply);
        self
    }

    /// Serves on 127.0.0.1 until the process ends.
    pub fn start(self) -> AzureFake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            setup: self,
            requests: Vec::new(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(&state, socket));
            }
        });
        AzureFake { base, state }
    }
}

struct State {
    setup: AzureSetup,
    requests: Vec<Recorded>,
}

/// A running fake resource: `base` is its URL, as `https://<resource>.services.ai.azure.com`.
pub struct AzureFake {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl AzureFake {
    pub fn setup() -> AzureSetup {
        AzureSetup::default()
    }

    /// Every request so far, in the order they came.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn serve(state: &Mutex<State>, socket: TcpStream) {
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let Some(received) = read_request(&mut reader) else {
        return;
    };
    let recorded = parse(&received.head, received.body);
    let reply = {
        let mut state = state.lock().unwrap();
        let reply = answer(&mut state.setup, &recorded);
        state.requests.push(recorded);
        reply
    };
    write_reply(socket, &reply);
}

pub(crate) fn parse(head: &str, body: String) -> Recorded {
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Recorded {
        method,
        target,
        headers,
        body,
    }
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::Json(status, json!({"error": {"code": code, "message": message}}))
}

#[derive(Clone, Copy)]
enum Operation {
    Chat,
    Embeddings,
}

fn answer(setup: &mut AzureSetup, request: &Recorded) -> Reply {
    let path = request.path().trim_end_matches('/');
    if path == "/models" || path.starts_with("/models/") {
        return error(
            410,
            "ApiRetired",
            "The Azure AI Model Inference API was retired on 2026-08-26. Use the OpenAI v1 API at /openai/v1.",
        );
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    let (deployment, operation) = match segments.as_slice() {
        ["openai", "v1", "chat", "completions"] => (body["model"].as_str(), Operation::Chat),
        ["openai", "v1", "embeddings"] => (body["model"].as_str(), Operation::Embeddings),
        ["openai", "deployments", name, "chat", "completions"] => (Some(*name), Operation::Chat),
        ["openai", "deployments", name, "embeddings"] => (Some(*name), Operation::Embeddings),
        _ => return error(404, "404", "Resource not found"),
    };
    if request.method != "POST" {
        return error(404, "404", "Resource not found");
    }
    if let Some(refused) = refuse(setup, request) {
        return refused;
    }
    let Some(deployment) = deployment.filter(|d| setup.deployments.iter().any(|n| n == d)) else {
        return error(
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        );
    };
    if let Some(reply) = setup
        .scripts
        .get_mut(deployment)
        .and_then(VecDeque::pop_front)
    {
        return reply;
    }
    match operation {
        Operation::Chat if body["stream"] == true => chat_stream(&["Hello from ", deployment]),
        Operation::Chat => Reply::Json(
            200,
            json!({
                "id": "chatcmpl-fake", "object": "chat.completion", "model": deployment,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Hello from {deployment}")}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
            }),
        ),
        Operation::Embeddings => {
            let inputs = body["input"].as_array().map_or(1, Vec::len);
            let data: Vec<Value> = (0..inputs)
                .map(|index| json!({"object": "embedding", "index": index, "embedding": [0.25, -0.5, index as f64]}))
                .collect();
            Reply::Json(
                200,
                json!({"object": "list", "model": deployment, "data": data, "usage": {"prompt_tokens": 4, "total_tokens": 4}}),
            )
        }
    }
}

/// The 401 Azure answers when the listed credentials do not include the request's.
fn refuse(setup: &AzureSetup, request: &Recorded) -> Option<Reply> {
    if setup.keys.is_empty() && setup.tokens.is_empty() {
        return None;
    }
    if let Some(key) = request.header("api-key") {
        return (!setup.keys.contains(key)).then(|| {
            error(
                401,
                "401",
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
            )
        });
    }
    let token = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "));
    match token {
        Some(token) if setup.tokens.contains(token) => None,
        _ => Some(Reply::Json(
            401,
            json!({"statusCode": 401, "message": "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}),
        )),
    }
}
