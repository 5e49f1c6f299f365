//! Chat completion: one call to a chat model, streamed as tokens unless `stream` is false.

use serde_json::{Map, Value};
use weft_ai::{Call, ChatRequest, Message, ResponseFormat, Role};

use super::{NodeContext, NodeDone, forward, render, target, text};
use crate::values::as_text;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, String> {
    let target = target(ctx).await?;
    let props = &ctx.props;
    let mut messages = Vec::new();
    if let Some(system) = render(props, "system_prompt")?.filter(|s| !s.trim().is_empty()) {
        messages.push(Message::new(Role::System, system));
    }
    if let Some(Value::Array(history)) = props.get("chat_history") {
        for turn in history {
            let role = match turn.get("role").and_then(Value::as_str) {
                Some("assistant") => Role::Assistant,
                Some("system") => Role::System,
                _ => Role::User,
            };
            messages.push(Message::new(
                role,
                as_text(turn.get("content").unwrap_or(&Value::Null)),
            ));
        }
    }
    messages.push(Message::new(
        Role::User,
        render(props, "user_prompt")?.unwrap_or_default(),
    ));
    let format = text(props, "response_format").unwrap_or("text");
    let request = ChatRequest {
        messages,
        temperature: props
            .get("temperature")
            .and_then(Value::as_f64)
            .map(|t| t as f32),
        max_tokens: props
            .get("max_tokens")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        response_format: match format {
            "json_object" => Some(ResponseFormat::JsonObject),
            "json_schema" => Some(ResponseFormat::JsonSchema {
                json_schema: props.get("json_schema").cloned().unwrap_or(Value::Null),
            }),
            _ => None,
        },
        ..ChatRequest::default()
    };
    let stream = props.get("stream").and_then(Value::as_bool).unwrap_or(true);
    let (sender, forwarder) = forward(ctx);
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: text(props, "deployment"),
        cancel: ctx.cancel.clone(),
        events: Some(sender),
    };
    let result = if stream {
        ctx.services.model.chat_stream(&call, &request).await
    } else {
        ctx.services.model.chat(&call, &request).await
    };
    drop(call);
    let _ = forwarder.await;
    let reply = result.map_err(|err| err.to_string())?;
    let output = if format == "text" {
        Value::String(reply.text)
    } else {
        serde_json::from_str(&reply.text)
            .map_err(|err| format!("the model's answer is not the JSON asked for ({err})"))?
    };
    let finish = serde_json::to_value(reply.finish_reason).unwrap_or(Value::Null);
    let usage = serde_json::to_value(&reply.usage).unwrap_or(Value::Null);
    Ok(NodeDone {
        ports: Map::from_iter([
            ("output".to_owned(), output),
            ("finish_reason".to_owned(), finish),
            ("usage".to_owned(), usage),
        ]),
        usage: reply.usage,
        set_var: None,
    })
}
