//! A streamed chat completion: server-sent events read within the idle timeout and the line
//! limit, each piece of text passed on as a [`ClientEvent::Delta`], the answer assembled within
//! the body limit.

use futures_util::StreamExt;
use reqwest::Response;

use crate::error::{InferenceError, TimeoutPhase};
use crate::request::not_json;
use crate::sse::SseDecoder;
use crate::status::filtered_categories;
use crate::transport::{ClientEvent, Transport, Watch, cancellable, host, with_sources};
use crate::wire::{ChatResponse, FinishReason, RawCompletion, RawToolCall, ToolCall, Usage};

/// The most tool calls one streamed answer may hold: their index comes from the server, and
/// each one below it is allocated.
const MAX_TOOL_CALLS: usize = 128;

/// A streamed answer being put together.
pub(crate) struct Assembly {
    /// Bytes of text, tool names and arguments so far, held within `limit`.
    size: usize,
    limit: usize,
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    finish_reason: Option<FinishReason>,
    filtered: Option<Vec<String>>,
    usage: Option<Usage>,
    model: Option<String>,
    request_id: Option<String>,
}

impl Assembly {
    pub(crate) fn new(request_id: Option<String>, limit: usize) -> Self {
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

    /// Reads `response`'s events into this answer until `[DONE]` (or the end of a stream whose
    /// answer already has a finish reason).
    pub(crate) async fn read(
        &mut self,
        transport: &Transport,
        watch: Watch<'_>,
        response: Response,
    ) -> Result<(), InferenceError> {
        let idle = transport.timeouts().idle;
        let host = host(response.url());
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::new(transport.limits().sse_line);
        loop {
            let next = cancellable(watch.cancel, tokio::time::timeout(idle, body.next())).await?;
            let events = match next {
                Err(_) => {
                    return Err(InferenceError::Timeout {
                        phase: TimeoutPhase::Idle,
                        after: idle,
                    });
                }
                Ok(Some(Err(err))) => {
                    return Err(InferenceError::Network {
                        host,
                        message: format!("the stream failed: {}", with_sources(&err)),
                    });
                }
                Ok(Some(Ok(bytes))) => decoder.push(&bytes)?,
                Ok(None) => {
                    if let Some(data) = decoder.finish()?
                        && self.event(watch, &data)?
                    {
                        return Ok(());
                    }
                    // Some OpenAI-compatible servers end without `[DONE]`; a finish reason
                    // already says the answer is whole.
                    if self.finish_reason.is_some() {
                        return Ok(());
                    }
                    return Err(InferenceError::Protocol {
                        what: "the stream ended without [DONE]".into(),
                    });
                }
            };
            for data in events {
                if self.event(watch, &data)? {
                    return Ok(());
                }
            }
        }
    }

    /// Takes one event; `true` at `[DONE]`.
    fn event(&mut self, watch: Watch<'_>, data: &str) -> Result<bool, InferenceError> {
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
                    watch.emit(ClientEvent::Delta(text));
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

    pub(crate) fn finish(self) -> Result<ChatResponse, InferenceError> {
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
