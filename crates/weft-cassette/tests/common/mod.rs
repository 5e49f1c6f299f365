//! What the cassette tests share: a client that retries fast, the fakes' endpoints, a set of
//! ports with no network behind them, and short ways to open a cassette and make a call.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::content_safety::{Analysis, AnalyzeRequest, ContentSafetyTarget};
use weft_ai::http::{HttpRequest, HttpResponse};
use weft_ai::search::{Document, SearchRequest, SearchTarget};
use weft_ai::serp::{OrganicResult, SerpRequest, SerpTarget};
use weft_ai::{
    ApiKey, Call, ChatRequest, ChatResponse, Client, ClientEvent, Credential, EmbeddingsRequest,
    EmbeddingsResponse, Endpoint, Handles, InferenceError, Message, RetryPolicy, Role, Timeouts,
};
use weft_cassette::{Cassette, CassetteMode, CassetteOptions, Pace};
use weft_engine::services::{
    BoxFuture, ContentSafety, DocumentSearch, HttpClient, ModelClient, Services, WebSearch,
};

pub const KEY: &str = "az-key-5f0c9e61d2";
pub const DEPLOYMENT: &str = "gpt-4o-mini";

pub fn client() -> Client {
    Client::new(
        Timeouts::default(),
        RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    )
    .unwrap()
}

pub fn live() -> Services {
    Services::from_client(client())
}

pub fn open(path: &Path, mode: CassetteMode) -> Arc<Cassette> {
    open_with(path, mode, false, Pace::Instant)
}

pub fn open_with(path: &Path, mode: CassetteMode, strict: bool, pace: Pace) -> Arc<Cassette> {
    Cassette::open(path, CassetteOptions { mode, strict, pace }).unwrap()
}

/// The OpenAI v1 API of a fake Azure resource.
pub fn v1(base: &str) -> Endpoint {
    Endpoint::AzureV1 {
        base: Url::parse(&format!("{base}/openai/v1")).unwrap(),
    }
}

pub fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::new(Role::System, "Be brief"),
            Message::new(Role::User, text),
        ],
        temperature: Some(0.2),
        ..ChatRequest::default()
    }
}

pub fn key() -> Credential {
    Credential::Key(ApiKey::new(KEY))
}

/// A call to `endpoint` with `credential`, its streamed text going to the receiver.
pub fn call<'a>(
    endpoint: &'a Endpoint,
    credential: &'a Credential,
) -> (Call<'a>, UnboundedReceiver<ClientEvent>) {
    let (events, heard) = unbounded_channel();
    let call = Call {
        endpoint,
        credential,
        deployment: Some(DEPLOYMENT),
        cancel: CancellationToken::new(),
        events: Some(events),
    };
    (call, heard)
}

/// The pieces of streamed text heard so far.
pub fn deltas(heard: &mut UnboundedReceiver<ClientEvent>) -> Vec<String> {
    let mut texts = Vec::new();
    while let Ok(event) = heard.try_recv() {
        if let ClientEvent::Delta(text) = event {
            texts.push(text);
        }
    }
    texts
}

/// A chat completion answer saying `text`, as Azure sends one.
pub fn completion(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": DEPLOYMENT,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    })
}

/// Ports with no network behind them: every call fails as an unreachable host does, so a
/// replay that answers shows it answered from the file alone.
pub fn offline() -> Services {
    let ports = Arc::new(Offline);
    Services {
        model: ports.clone(),
        content_safety: ports.clone(),
        web_search: ports.clone(),
        document_search: ports.clone(),
        http: ports,
        python: Default::default(),
    }
}

struct Offline;

fn unreachable<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, InferenceError>> {
    Box::pin(async {
        Err(InferenceError::Network {
            host: "offline".into(),
            message: "no network in this test".into(),
        })
    })
}

impl ModelClient for Offline {
    fn chat<'a>(
        &'a self,
        _: &'a Call<'_>,
        _: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        unreachable()
    }

    fn chat_stream<'a>(
        &'a self,
        _: &'a Call<'_>,
        _: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        unreachable()
    }

    fn embeddings<'a>(
        &'a self,
        _: &'a Call<'_>,
        _: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        unreachable()
    }
}

impl ContentSafety for Offline {
    fn analyze<'a>(
        &'a self,
        _: &'a ContentSafetyTarget,
        _: &'a AnalyzeRequest,
        _: &'a Handles,
    ) -> BoxFuture<'a, Result<Analysis, InferenceError>> {
        unreachable()
    }
}

impl WebSearch for Offline {
    fn search<'a>(
        &'a self,
        _: &'a SerpTarget,
        _: &'a SerpRequest,
        _: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<OrganicResult>, InferenceError>> {
        unreachable()
    }
}

impl DocumentSearch for Offline {
    fn query<'a>(
        &'a self,
        _: &'a SearchTarget,
        _: &'a SearchRequest,
        _: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<Document>, InferenceError>> {
        unreachable()
    }
}

impl HttpClient for Offline {
    fn send<'a>(
        &'a self,
        _: &'a HttpRequest,
        _: &'a Handles,
    ) -> BoxFuture<'a, Result<HttpResponse, InferenceError>> {
        unreachable()
    }
}
