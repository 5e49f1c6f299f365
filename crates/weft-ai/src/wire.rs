//! Request and response bodies. Responses are read leniently (unknown fields ignored, everything
//! optional) and checked afterwards, so a surprising reply becomes a Protocol error, not a panic.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Endpoint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: Content,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: Content::Text(text.into()),
            tool_call_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: Value },
}

/// A chat completion request, independent of the style it is sent to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Azure OpenAI and OpenAI only; sent as `max_tokens` to the Foundry and serverless APIs.
    pub max_completion_tokens: Option<u32>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub response_format: Option<ResponseFormat>,
    pub tools: Vec<Value>,
    pub tool_choice: Option<Value>,
}

/// The JSON body as one style accepts it: nothing it does not know.
#[derive(Debug, Serialize)]
pub(crate) struct ChatBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<&'a ResponseFormat>,
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    tools: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'a Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<Value>,
}

impl ChatRequest {
    pub(crate) fn body<'a>(
        &'a self,
        endpoint: &Endpoint,
        model: Option<&'a str>,
        stream: bool,
    ) -> ChatBody<'a> {
        let (max_tokens, max_completion_tokens) = if endpoint.knows_max_completion_tokens() {
            (self.max_tokens, self.max_completion_tokens)
        } else {
            (self.max_tokens.or(self.max_completion_tokens), None)
        };
        ChatBody {
            model,
            messages: &self.messages,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens,
            max_completion_tokens,
            stop: &self.stop,
            seed: self.seed,
            response_format: self.response_format.as_ref(),
            tools: &self.tools,
            tool_choice: self.tool_choice.as_ref(),
            stream,
            stream_options: (stream && endpoint.knows_stream_options())
                .then(|| serde_json::json!({ "include_usage": true })),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u32,
    #[serde(default)]
    pub completion_tokens: u32,
    #[serde(default)]
    pub total_tokens: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// A finished chat completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<FinishReason>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
    /// The service's request id, for support tickets.
    pub request_id: Option<String>,
}

// What the services send back. Every field optional: checked in `client`, never indexed blindly.

#[derive(Debug, Deserialize)]
pub(crate) struct RawCompletion {
    #[serde(default)]
    pub choices: Vec<RawChoice>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawChoice {
    #[serde(default)]
    pub index: u32,
    pub message: Option<RawMessage>,
    pub delta: Option<RawMessage>,
    pub finish_reason: Option<FinishReason>,
    pub content_filter_results: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawMessage {
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<RawToolCall>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawToolCall {
    #[serde(default)]
    pub index: usize,
    pub id: Option<String>,
    pub function: Option<RawFunction>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawFunction {
    pub name: Option<String>,
    pub arguments: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbeddingsRequest {
    pub input: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingsResponse {
    /// One vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawEmbeddings {
    #[serde(default)]
    pub data: Vec<RawEmbedding>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawEmbedding {
    #[serde(default)]
    pub index: usize,
    pub embedding: Option<Vec<f32>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn request() -> ChatRequest {
        ChatRequest {
            messages: vec![Message::new(Role::User, "hi")],
            max_completion_tokens: Some(50),
            ..ChatRequest::default()
        }
    }

    #[test]
    fn foundry_gets_max_tokens_and_no_stream_options() {
        let endpoint = Endpoint::ModelInference {
            endpoint: Url::parse("https://r/models").unwrap(),
            api_version: "v".into(),
        };
        let req = request();
        let body = serde_json::to_value(req.body(&endpoint, Some("d"), true)).unwrap();
        assert_eq!(body["max_tokens"], 50);
        assert!(body.get("max_completion_tokens").is_none());
        assert!(body.get("stream_options").is_none());
        assert_eq!(body["stream"], true);
        assert_eq!(body["model"], "d");
        assert!(body.get("stop").is_none() && body.get("tools").is_none());
    }

    #[test]
    fn azure_openai_keeps_max_completion_tokens_and_asks_for_stream_usage() {
        let endpoint = Endpoint::AzureV1 {
            base: Url::parse("https://r/openai/v1").unwrap(),
        };
        let req = request();
        let body = serde_json::to_value(req.body(&endpoint, Some("d"), true)).unwrap();
        assert_eq!(body["max_completion_tokens"], 50);
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["stream_options"]["include_usage"], true);
    }

    #[test]
    fn content_parts_serialise_in_the_openai_shape() {
        let message = Message {
            role: Role::User,
            content: Content::Parts(vec![
                ContentPart::Text {
                    text: "what is this?".into(),
                },
                ContentPart::ImageUrl {
                    image_url: ImageUrl {
                        url: "data:image/png;base64,AAA".into(),
                    },
                },
            ]),
            tool_call_id: None,
        };
        assert_eq!(
            serde_json::to_value(message).unwrap(),
            serde_json::json!({"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}
            ]})
        );
    }
}
