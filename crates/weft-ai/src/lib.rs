//! Weft's inference client: chat completions (streamed or not) and embeddings against Azure AI
//! Foundry `/models`, Azure OpenAI (deployment URLs and the v1 API), serverless endpoints and
//! OpenAI-compatible servers, with typed errors, retries and timeouts.
//!
//! No Tauri, no store: callers describe the endpoint and hold the key.

mod client;
mod credential;
mod endpoint;
mod error;
mod retry;
mod secret;
mod sse;
mod wire;

pub use client::{Call, Client, ClientEvent, Limits, Timeouts};
pub use credential::Credential;
pub use endpoint::{DetectedUrl, Endpoint, Operation, classify_azure_url, detect_azure_url};
pub use error::{InferenceError, TimeoutPhase};
pub use retry::RetryPolicy;
pub use secret::{ApiKey, text_forms};
pub use wire::{
    ChatRequest, ChatResponse, Content, ContentPart, EmbeddingsRequest, EmbeddingsResponse,
    FinishReason, ImageUrl, Message, ResponseFormat, Role, ToolCall, Usage,
};
