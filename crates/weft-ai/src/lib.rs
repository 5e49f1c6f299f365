//! Weft's inference client: chat completions (streamed or not) and embeddings against the OpenAI
//! v1 API of Azure resources (Foundry and Azure OpenAI alike), the retired Azure AI Model
//! Inference API (`…/models`) where a resource still serves it, Azure OpenAI deployment URLs,
//! serverless endpoints and OpenAI-compatible servers, with typed errors, retries and timeouts.
//! Calls prove themselves with an API key or a Microsoft Entra ID token from the developer's
//! Azure CLI sign-in.
//!
//! No Tauri, no store: callers describe the endpoint and hold the key.

mod client;
mod credential;
mod endpoint;
mod error;
mod limiter;
mod request;
mod retry;
mod secret;
mod services;
mod sse;
mod status;
mod stream;
mod transport;
mod wire;

pub use client::{Call, Client};
pub use credential::{Credential, ENTRA_DEFAULT_SCOPE, ENTRA_FALLBACK_SCOPE, EntraSignIn};
pub use endpoint::{
    AZURE_OPENAI_API_VERSION, Endpoint, FoundryApi, MODEL_INFERENCE_API_VERSION, Operation,
    UrlOrigin,
};
pub use error::{InferenceError, SignInCli, SignInError, TimeoutPhase};
pub use limiter::{Admission, EndpointLoad};
pub use retry::RetryPolicy;
pub use secret::{ApiKey, text_forms};
pub use services::{Handles, batch_api, content_safety, http, search, serp};
pub use transport::{ClientEvent, Limits, Timeouts};
pub use wire::{
    ChatRequest, ChatResponse, Content, ContentPart, EmbeddingsRequest, EmbeddingsResponse,
    FinishReason, ImageUrl, Message, ResponseFormat, Role, ToolCall, Usage,
};
