//! Chat completion: one call to a chat model, streamed as tokens unless `stream` is false.

use serde_json::{Map, Value};
use weft_ai::{Call, ChatRequest, Message, ResponseFormat, Role};
use weft_flow::kinds::chat_completion::{
    self, CHAT_TEMPLATE, Props, SYSTEM_PROMPT, TurnRole, USER_PROMPT, split_chat_template,
};

use super::{NodeContext, NodeDone, NodeError, forward, props, render, target};
use crate::values::as_text;

pub(super) async fn run(ctx: &NodeContext) -> Result<NodeDone, NodeError> {
    let props = props(ctx, Props::from_evaluated)?;
    let target = target(ctx, &props.connection).await?;
    let request = ChatRequest {
        messages: messages(&props)?,
        temperature: props.temperature.map(|t| t as f32),
        max_tokens: props.max_tokens,
        stop: props.stop.clone(),
        response_format: match props.response_format {
            chat_completion::ResponseFormat::Text => None,
            chat_completion::ResponseFormat::JsonObject => Some(ResponseFormat::JsonObject),
            chat_completion::ResponseFormat::JsonSchema => Some(ResponseFormat::JsonSchema {
                json_schema: props.json_schema.clone().unwrap_or(Value::Null),
            }),
        },
        ..ChatRequest::default()
    };
    let (sender, forwarder) = forward(ctx);
    let call = Call {
        endpoint: &target.endpoint,
        credential: &target.credential,
        deployment: Some(&props.deployment),
        cancel: ctx.cancel.clone(),
        events: Some(sender),
    };
    let result = if props.stream {
        ctx.services.model.chat_stream(&call, &request).await
    } else {
        ctx.services.model.chat(&call, &request).await
    };
    drop(call);
    let _ = forwarder.await;
    let reply = result?;
    let output = match props.response_format {
        chat_completion::ResponseFormat::Text => Value::String(reply.text),
        chat_completion::ResponseFormat::JsonObject
        | chat_completion::ResponseFormat::JsonSchema => serde_json::from_str(&reply.text)
            .map_err(|err| format!("the model's answer is not the JSON asked for ({err})"))?,
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

/// The system prompt (when it renders to something), the earlier turns, then the user prompt;
/// with a chat template, its messages instead (the earlier turns after its system message).
fn messages(props: &Props) -> Result<Vec<Message>, String> {
    if let Some(template) = &props.chat_template {
        return template_messages(props, template);
    }
    let mut messages = Vec::new();
    if let Some(system) = &props.system_prompt {
        let system = render(&SYSTEM_PROMPT, system, &props.variables)?;
        if !system.trim().is_empty() {
            messages.push(Message::new(Role::System, system));
        }
    }
    history(props, &mut messages);
    let user = render(&USER_PROMPT, &props.user_prompt, &props.variables)?;
    messages.push(Message::new(Role::User, user));
    Ok(messages)
}

fn history(props: &Props, messages: &mut Vec<Message>) {
    for turn in &props.chat_history {
        let role = match turn.role {
            TurnRole::User => Role::User,
            TurnRole::Assistant => Role::Assistant,
            TurnRole::System => Role::System,
        };
        messages.push(Message::new(role, as_text(&turn.content)));
    }
}

/// The whole template rendered, then split at its role lines as Prompt flow splits it.
fn template_messages(props: &Props, template: &str) -> Result<Vec<Message>, String> {
    let text = render(&CHAT_TEMPLATE, template, &props.variables)?;
    let (prefix, parts) = split_chat_template(&text);
    if !prefix.is_empty() {
        return Err(
            "the chat template has text before its first role line; start it with \
                    `# system:` or `# user:`"
                .into(),
        );
    }
    if parts.is_empty() {
        return Err("the chat template renders no message; give it a `# user:` line".into());
    }
    let mut messages = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        let role = match part.role.as_str() {
            "system" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(format!(
                    "the chat template has a `{other}:` message, which Weft does not send; \
                     remove it or make it a user message"
                ));
            }
        };
        let is_system = role == Role::System;
        messages.push(Message::new(role, part.content));
        if i == 0 && is_system {
            history(props, &mut messages);
        }
    }
    if messages.first().is_none_or(|m| m.role != Role::System) {
        let mut with_history = Vec::new();
        history(props, &mut with_history);
        with_history.append(&mut messages);
        messages = with_history;
    }
    Ok(messages)
}
