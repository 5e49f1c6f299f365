//! The HTTP request node against the scripted HTTP fake, with a custom connection whose
//! secrets go only into what is sent, and only to its base_url.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_ai::ApiKey;
use weft_engine::{CustomSettings, NodeState, ResolvedConnection, RunEvent, RunOutcome, RunStatus};
use weft_flow::{ConnectionType, SavedConnection, Severity};
use weft_testkit::{Answer, HttpFake};

use common::{
    cancel_after, node_events, reported, run, run_resolving, source, valid, validation,
    wrong_connection_type,
};

const TOKEN: &str = "tok-http-engine-6a93d2";

const FLOW: &str = r#"
schema: 1
inputs:
  id: { type: string }
outputs:
  item: { value: "${http.output}" }
  status: { value: "${http.status}" }
  headers: { value: "${http.headers}" }
nodes:
  - id: http
    type: http_request
    position: { x: 0, y: 0 }
    properties:
      connection: tracker
      method: POST
      url: "${connection.configs.base_url}/items/${inputs.id}"
      headers:
        Authorization: "Bearer ${connection.secrets.token}"
        X-Team: "${connection.configs.team}"
      query: { verbose: "true" }
      body: { id: "${inputs.id}", note: "sent by weft" }
"#;

fn tracker(base_url: &str) -> ResolvedConnection {
    ResolvedConnection::Custom(CustomSettings {
        name: "tracker".into(),
        configs: BTreeMap::from([
            ("base_url".into(), base_url.into()),
            ("team".into(), "flows".into()),
        ]),
        secrets: BTreeMap::from([("token".into(), ApiKey::new(TOKEN))]),
    })
}

async fn call(flow: &str, base_url: &str) -> (RunOutcome, Vec<RunEvent>) {
    run_resolving(
        flow,
        &[("tracker", ConnectionType::Custom)],
        json!({ "id": "42" }),
        vec![tracker(base_url)],
    )
    .await
}

fn failure(outcome: &RunOutcome, events: &[RunEvent]) -> String {
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:#?}");
    assert_eq!(outcome.nodes["http"].state, NodeState::Failed);
    let all = reported(outcome, events);
    assert!(!all.contains(TOKEN), "{all}");
    outcome.nodes["http"].error.clone().unwrap()
}

#[tokio::test]
async fn the_connections_settings_go_into_what_is_sent_and_a_json_reply_is_parsed() {
    let fake = HttpFake::start(vec![
        Answer::json(201, &json!({"id": "42", "echo": format!("Bearer {TOKEN}")}))
            .header("X-Request-Id", "r-1"),
    ]);
    let (outcome, events) = call(FLOW, &fake.base).await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    let sent = &fake.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.target, "/items/42?verbose=true");
    assert_eq!(
        sent.header("Authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(sent.header("X-Team"), Some("flows"));
    assert_eq!(sent.json(), json!({"id": "42", "note": "sent by weft"}));
    assert_eq!(outcome.outputs["status"], 201);
    assert_eq!(outcome.outputs["item"]["id"], "42");
    assert_eq!(outcome.outputs["headers"]["x-request-id"], "r-1");
    // The secret is masked everywhere but in what was sent, even where the server echoes it;
    // the recorded inputs keep the reference as written.
    assert_eq!(outcome.outputs["item"]["echo"], "Bearer ******");
    assert_eq!(
        outcome.nodes["http"].inputs["headers"]["Authorization"],
        "Bearer ${connection.secrets.token}"
    );
    assert!(!reported(&outcome, &events).contains(TOKEN));
    assert_eq!(node_events(&events, "http"), ["started", "finished"]);
}

#[tokio::test]
async fn a_reply_that_is_not_json_is_text_and_no_connection_is_needed_without_references() {
    let fake = HttpFake::start(vec![Answer::text(200, "text/plain", "pong")]);
    let flow = format!(
        r#"
schema: 1
outputs:
  reply: {{ value: "${{http.output}}" }}
nodes:
  - id: http
    type: http_request
    position: {{ x: 0, y: 0 }}
    properties: {{ url: "{}/ping" }}
"#,
        fake.base
    );
    let (outcome, _) = run_resolving(&flow, &[], json!({}), vec![]).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(outcome.outputs["reply"], "pong");
    assert_eq!(fake.requests()[0].method, "GET");
}

#[tokio::test]
async fn a_secret_is_refused_to_any_origin_but_the_connections_base_url() {
    let fake = HttpFake::start(vec![Answer::json(200, &json!({}))]);
    let elsewhere = HttpFake::start(vec![Answer::json(200, &json!({}))]);
    let flow = FLOW.replace(
        "url: \"${connection.configs.base_url}/items/${inputs.id}\"",
        &format!("url: \"{}/items/${{inputs.id}}\"", elsewhere.base),
    );
    let (outcome, events) = call(&flow, &fake.base).await;
    let error = failure(&outcome, &events);
    assert!(
        error.contains("carries a secret of the connection"),
        "{error}"
    );
    assert!(elsewhere.requests().is_empty() && fake.requests().is_empty());
}

#[tokio::test]
async fn each_error_status_fails_the_node_naming_it_and_500s_are_retried() {
    for (status, body) in [(401, "no token"), (404, "no such item"), (400, "bad id")] {
        let fake = HttpFake::start(vec![Answer::text(status, "text/plain", body)]);
        let (outcome, events) = call(FLOW, &fake.base).await;
        let error = failure(&outcome, &events);
        assert!(error.contains(&status.to_string()), "{status}: {error}");
    }
    let fake = HttpFake::start(vec![
        Answer::text(500, "text/plain", "down"),
        Answer::text(500, "text/plain", "down"),
        Answer::text(500, "text/plain", "down"),
    ]);
    let (outcome, events) = call(FLOW, &fake.base).await;
    let error = failure(&outcome, &events);
    assert!(error.contains("500"), "{error}");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(
        node_events(&events, "http"),
        ["started", "retrying", "retrying", "failed"]
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for() {
    let fake = HttpFake::start(vec![
        Answer::text(429, "text/plain", "slow down").header("Retry-After", "1"),
        Answer::json(200, &json!({"ok": true})),
    ]);
    let started = Instant::now();
    let (outcome, events) = call(FLOW, &fake.base).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        node_events(&events, "http"),
        ["started", "retrying", "finished"]
    );
    assert!(!reported(&outcome, &events).contains(TOKEN));
}

#[tokio::test]
async fn cancelling_ends_the_request_while_it_waits_to_retry() {
    let fake = HttpFake::start(vec![
        Answer::text(429, "text/plain", "slow down").header("Retry-After", "3"),
    ]);
    let cancel = cancel_after(Duration::from_millis(300));
    let started = Instant::now();
    let (outcome, _) = run(
        valid(FLOW, &[("tracker", ConnectionType::Custom)]),
        json!({ "id": "42" }),
        source(vec![tracker(&fake.base)]),
        cancel,
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(outcome.nodes["http"].state, NodeState::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_unknown_setting_warns_when_the_connections_keys_are_known_and_fails_the_run() {
    let saved = SavedConnection {
        configs: vec!["base_url".into(), "team".into()],
        secrets: vec!["api_key".into()],
        ..SavedConnection::new("tracker", ConnectionType::Custom)
    };
    let warnings: Vec<String> = validation(FLOW, &[saved])
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: node http, headers: `${connection.secrets.token}`: connection `tracker` has no secret `token` (it has api_key); add it to the connection, or the run fails here"
        ]
    );
    let fake = HttpFake::start(vec![Answer::json(200, &json!({}))]);
    let flow = FLOW.replace("${connection.configs.team}", "${connection.configs.squad}");
    let (outcome, events) = call(&flow, &fake.base).await;
    assert_eq!(
        failure(&outcome, &events),
        "`${connection.configs.squad}`: connection `tracker` has no config `squad` (it has base_url, team); add it to the connection or fix the name"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_connection_of_another_type_is_refused_by_validation_and_at_run_time() {
    let (refused, at_run) = wrong_connection_type(
        FLOW,
        "http",
        json!({ "id": "42" }),
        ("tracker", ConnectionType::Custom),
        ConnectionType::Serp,
    )
    .await;
    assert_eq!(
        refused,
        [
            "error: node http, connection: `tracker` is a serp connection, and this node takes custom connections; choose one of those"
        ]
    );
    assert_eq!(
        at_run,
        "`tracker` is a SerpAPI account, and this node needs a custom connection; choose a connection of type custom"
    );
}

#[tokio::test]
async fn a_connection_reference_inside_an_input_is_sent_as_text_not_filled_in() {
    let fake = HttpFake::start(vec![Answer::json(200, &json!({}))]);
    let (outcome, _) = run_resolving(
        FLOW,
        &[("tracker", ConnectionType::Custom)],
        json!({ "id": "${connection.secrets.token}" }),
        vec![tracker(&fake.base)],
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    // Only what the flow's author wrote reads the connection.
    let sent = &fake.requests()[0];
    assert_eq!(sent.json()["id"], "${connection.secrets.token}");
    assert!(!sent.body.contains(TOKEN) && !sent.target.contains(TOKEN));
    // The run record shows the input's text as it was, without the engine's marker in it.
    assert_eq!(
        outcome.nodes["http"].inputs["body"]["id"],
        "${connection.secrets.token}"
    );
}
