//! Chat completion with a Prompt flow chat template: rendered whole, split at its role lines,
//! sent as messages with the `stop` sequences; checked on the wire against the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{ApiKey, Credential, Endpoint};
use weft_engine::{ResolvedConnection, RunStatus, Target};
use weft_flow::{ConnectionType, SavedConnection};
use weft_testkit::{FakeEndpoint, Reply};

const FLOW: &str = r#"
schema: 1
inputs:
  question: { type: string }
  chat_history: { type: list, default: [] }
outputs:
  answer: { value: "${chat.output}" }
nodes:
  - id: chat
    type: chat_completion
    position: { x: 0, y: 0 }
    properties:
      connection: aoai
      deployment: gpt-4o-mini
      stream: false
      stop: ["\nuser:"]
      chat_template: |
        # system:
        You are a helpful assistant.

        {% for item in chat_history %}
        # user:
        {{item.inputs.question}}
        # assistant:
        {{item.outputs.answer}}
        {% endfor %}

        # User:
        {{question}}
      variables:
        question: ${inputs.question}
        chat_history: ${inputs.chat_history}
"#;

fn connection(fake: &FakeEndpoint) -> ResolvedConnection {
    ResolvedConnection::Model(Target {
        name: "aoai".into(),
        endpoint: Endpoint::ModelInference {
            endpoint: Url::parse(&format!("{}/models", fake.base)).unwrap(),
            api_version: "2024-05-01-preview".into(),
        },
        credential: Credential::Key(ApiKey::new("sk-template-1")),
    })
}

fn answer(text: &str) -> Reply {
    Reply::Json(
        200,
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}),
    )
}

#[tokio::test]
async fn the_template_is_rendered_split_into_messages_and_sent_with_stop() {
    let fake = FakeEndpoint::start(vec![answer("It is Paris.")]);
    let flow = common::valid(FLOW, &[("aoai", ConnectionType::AzureAi)]);
    let history = json!([{"inputs": {"question": "Hi"}, "outputs": {"answer": "Hello!"}}]);
    let (outcome, _) = common::run(
        flow,
        json!({"question": "Capital of France?", "chat_history": history}),
        common::source(vec![connection(&fake)]),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded);
    assert_eq!(
        Value::Object(outcome.outputs),
        json!({"answer": "It is Paris."})
    );
    let sent = fake.requests()[0].json();
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Capital of France?"}
        ])
    );
    assert_eq!(sent["stop"], json!(["\nuser:"]));
}

#[tokio::test]
async fn a_template_with_text_before_its_first_role_fails_saying_how_to_start_it() {
    let fake = FakeEndpoint::start(vec![answer("unused")]);
    let yaml = FLOW.replace(
        "        # system:\n",
        "        Preamble\n        # system:\n",
    );
    let flow = common::valid(&yaml, &[("aoai", ConnectionType::AzureAi)]);
    let (outcome, events) = common::run(
        flow,
        json!({"question": "Q"}),
        common::source(vec![connection(&fake)]),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(
        common::reported(&outcome, &events).contains("text before its first role line"),
        "{}",
        common::reported(&outcome, &events)
    );
    assert!(fake.requests().is_empty());
}

#[test]
fn a_chat_completion_needs_a_user_prompt_or_a_chat_template() {
    let yaml = FLOW
        .lines()
        .take_while(|l| !l.contains("chat_template"))
        .collect::<Vec<_>>()
        .join("\n");
    let errors = common::errors(
        &yaml,
        &[SavedConnection::new("aoai", ConnectionType::AzureAi)],
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`user_prompt` is required, unless `chat_template` is set")),
        "{errors:#?}"
    );
}
