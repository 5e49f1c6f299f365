//! The ports nodes call for outside services. Nodes hold `Arc<dyn …>` ports, never a concrete
//! HTTP client, so a fake, a recording or a replaying client can stand in without a node knowing.
//! A new port (a search client, an HTTP client…) is one more trait here, one more field in
//! [`Services`], and its implementation for the `weft_ai` client that serves it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use weft_ai::content_safety::{Analysis, AnalyzeRequest, ContentSafetyTarget};
use weft_ai::http::{HttpRequest, HttpResponse};
use weft_ai::search::{Document, SearchRequest, SearchTarget};
use weft_ai::serp::{OrganicResult, SerpRequest, SerpTarget};
use weft_ai::{
    Call, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, Handles, InferenceError,
};

/// A boxed future, so the ports stay object-safe (`async fn` in a trait is not `dyn`-callable).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Chat completions and embeddings, as the Chat completion and Embeddings nodes use them.
/// `call` says where the request goes and carries the node's cancel token and event sender:
/// a streamed answer's text goes to `call.events` as `ClientEvent::Delta`s, retry notices as
/// `ClientEvent::Retrying`.
pub trait ModelClient: Send + Sync {
    /// A chat completion, waiting for the whole answer.
    fn chat<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>>;

    /// A streamed chat completion; returns the assembled answer at the end.
    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>>;

    fn embeddings<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>>;
}

impl ModelClient for weft_ai::Client {
    fn chat<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        Box::pin(weft_ai::Client::chat(self, call, request))
    }

    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        Box::pin(weft_ai::Client::chat_stream(self, call, request))
    }

    fn embeddings<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        Box::pin(weft_ai::Client::embeddings(self, call, request))
    }
}

/// Azure AI Content Safety's text analysis, as the Content Safety (Text) node uses it.
/// `handles` carries the node's cancel token and hears each retry.
pub trait ContentSafety: Send + Sync {
    fn analyze<'a>(
        &'a self,
        target: &'a ContentSafetyTarget,
        request: &'a AnalyzeRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Analysis, InferenceError>>;
}

impl ContentSafety for weft_ai::Client {
    fn analyze<'a>(
        &'a self,
        target: &'a ContentSafetyTarget,
        request: &'a AnalyzeRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Analysis, InferenceError>> {
        Box::pin(weft_ai::content_safety::analyze(
            self, target, request, handles,
        ))
    }
}

/// SerpApi's web search, as the Web search node uses it; `handles` as for [`ContentSafety`].
pub trait WebSearch: Send + Sync {
    fn search<'a>(
        &'a self,
        target: &'a SerpTarget,
        request: &'a SerpRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<OrganicResult>, InferenceError>>;
}

impl WebSearch for weft_ai::Client {
    fn search<'a>(
        &'a self,
        target: &'a SerpTarget,
        request: &'a SerpRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<OrganicResult>, InferenceError>> {
        Box::pin(weft_ai::serp::search(self, target, request, handles))
    }
}

/// Azure AI Search's document search, as the AI Search lookup node uses it; `handles` as for
/// [`ContentSafety`].
pub trait DocumentSearch: Send + Sync {
    fn query<'a>(
        &'a self,
        target: &'a SearchTarget,
        request: &'a SearchRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<Document>, InferenceError>>;
}

impl DocumentSearch for weft_ai::Client {
    fn query<'a>(
        &'a self,
        target: &'a SearchTarget,
        request: &'a SearchRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<Document>, InferenceError>> {
        Box::pin(weft_ai::search::query(self, target, request, handles))
    }
}

/// A plain HTTP request, as the HTTP request node sends it; `handles` as for [`ContentSafety`].
pub trait HttpClient: Send + Sync {
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<HttpResponse, InferenceError>>;
}

impl HttpClient for weft_ai::Client {
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<HttpResponse, InferenceError>> {
        Box::pin(weft_ai::http::send(self, request, handles))
    }
}

/// Every port a run's nodes may call. Cheap to clone: each node gets a copy.
#[derive(Clone)]
pub struct Services {
    pub model: Arc<dyn ModelClient>,
    pub content_safety: Arc<dyn ContentSafety>,
    pub web_search: Arc<dyn WebSearch>,
    pub document_search: Arc<dyn DocumentSearch>,
    pub http: Arc<dyn HttpClient>,
    /// The Python nodes' worker processes, kept as long as these services (an engine, a
    /// batch). They call no service port, so a cassette has nothing to wrap here.
    pub python: crate::python::PythonPools,
}

impl Services {
    /// Every port served by the one inference client (it pools connections and holds the Entra
    /// ID tokens, so the app and the CLI make one per process).
    pub fn from_client(client: weft_ai::Client) -> Self {
        let client = Arc::new(client);
        Self {
            model: client.clone(),
            content_safety: client.clone(),
            web_search: client.clone(),
            document_search: client.clone(),
            http: client,
            python: crate::python::PythonPools::default(),
        }
    }
}
