//! The Content Safety (Text) node against the loopback Content Safety fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_ai::ApiKey;
use weft_ai::content_safety::ContentSafetyTarget;
use weft_engine::{FailureCause, NodeState, ResolvedConnection, RunEvent, RunStatus};
use weft_flow::ConnectionType;
use weft_testkit::{ContentSafetyFake, Failure};

use common::{
    cancel_after, node_events, reported, run, run_resolving, source, valid, wrong_connection_type,
};

const KEY: &str = "cs-engine-key-5d1e07";

const FLOW: &str = r#"
schema: 1
inputs:
  text: { type: string }
outputs:
  verdict: { value: "${safety.suggested_action}" }
  report: { value: "${safety.output}" }
nodes:
  - id: safety
    type: content_safety_text
    position: { x: 0, y: 0 }
    properties:
      connection: moderation
      text: "${inputs.text}"
      hate_category: medium_sensitivity
      sexual_category: disable
      violence_category: low_sensitivity
      blocklist_names: [banned]
"#;

fn moderation(fake: &ContentSafetyFake) -> ResolvedConnection {
    ResolvedConnection::ContentSafety {
        name: "moderation".into(),
        target: ContentSafetyTarget::new(&fake.base, ApiKey::new(KEY)).unwrap(),
        key: ApiKey::new(KEY),
    }
}

async fn analyse(fake: &ContentSafetyFake, text: &str) -> (weft_engine::RunOutcome, Vec<RunEvent>) {
    run_resolving(
        FLOW,
        &[("moderation", ConnectionType::AzureContentSafety)],
        json!({ "text": text }),
        vec![moderation(fake)],
    )
    .await
}

fn failure(outcome: &weft_engine::RunOutcome) -> &str {
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:#?}");
    assert_eq!(outcome.nodes["safety"].state, NodeState::Failed);
    outcome.nodes["safety"].error.as_deref().unwrap()
}

#[tokio::test]
async fn a_category_at_its_threshold_rejects_and_the_request_names_the_judged_categories() {
    let fake = ContentSafetyFake::setup()
        .key(KEY)
        .blocklist("banned", &["forbidden word"])
        .severity("Hate", 4)
        .severity("Violence", 4)
        .severity("Sexual", 6)
        .start();
    let (outcome, events) = analyse(&fake, "some text").await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(outcome.outputs["verdict"], "Reject");
    assert_eq!(
        outcome.outputs["report"],
        json!({
            "suggested_action": "Reject",
            // Medium rejects 4 and up; low only 6 and up; a disabled category never rejects
            // and is not asked for.
            "action_by_category": {"Hate": "Reject", "SelfHarm": "Accept", "Sexual": "Accept", "Violence": "Accept"},
            "severity_by_category": {"Hate": 4, "SelfHarm": 0, "Sexual": null, "Violence": 4},
            "blocklist_matches": [],
        })
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.header("Ocp-Apim-Subscription-Key"), Some(KEY));
    assert_eq!(
        sent.json(),
        json!({
            "text": "some text",
            "categories": ["Hate", "SelfHarm", "Violence"],
            "blocklistNames": ["banned"],
            "outputType": "FourSeverityLevels",
        })
    );
    assert_eq!(node_events(&events, "safety"), ["started", "finished"]);
    assert!(!reported(&outcome, &events).contains(KEY));
}

#[tokio::test]
async fn a_blocklist_match_rejects_a_text_every_category_accepts() {
    let fake = ContentSafetyFake::setup()
        .blocklist("banned", &["forbidden word"])
        .start();
    let (outcome, _) = analyse(&fake, "It has a Forbidden Word in it").await;

    assert_eq!(outcome.outputs["verdict"], "Reject", "{outcome:#?}");
    let report = &outcome.outputs["report"];
    assert_eq!(report["action_by_category"]["Hate"], "Accept");
    assert_eq!(
        report["blocklist_matches"],
        json!([{"blocklist_name": "banned", "item_id": report["blocklist_matches"][0]["item_id"], "item_text": "forbidden word"}])
    );
    let (outcome, _) = analyse(&fake, "a harmless text").await;
    assert_eq!(outcome.outputs["verdict"], "Accept");
}

#[tokio::test]
async fn each_refusal_of_the_service_fails_the_node_saying_what_to_do() {
    // A refused key.
    let fake = ContentSafetyFake::setup().key("another-key").start();
    let (outcome, events) = analyse(&fake, "hi").await;
    let error = failure(&outcome);
    assert!(error.contains("401"), "{error}");
    assert!(!reported(&outcome, &events).contains(KEY));
    // A tool's call reports its cause like a model call.
    assert_eq!(outcome.nodes["safety"].cause, Some(FailureCause::Auth));

    // A blocklist the resource does not have.
    let fake = ContentSafetyFake::setup().start();
    let (outcome, _) = analyse(&fake, "hi").await;
    let error = failure(&outcome);
    assert!(error.contains("check the blocklist names"), "{error}");

    // A 500, retried until the retries run out.
    let fake = ContentSafetyFake::setup()
        .blocklist("banned", &[])
        .fail_next(Failure::Internal)
        .fail_next(Failure::Internal)
        .fail_next(Failure::Internal)
        .start();
    let (outcome, events) = analyse(&fake, "hi").await;
    let error = failure(&outcome);
    assert!(error.contains("500"), "{error}");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(
        node_events(&events, "safety"),
        ["started", "retrying", "retrying", "failed"]
    );
}

#[tokio::test]
async fn a_text_over_the_limit_is_refused_before_any_call() {
    let fake = ContentSafetyFake::setup().blocklist("banned", &[]).start();
    let (outcome, _) = analyse(&fake, &"a".repeat(10_001)).await;
    let error = failure(&outcome);
    assert!(
        error.contains("10001 characters")
            && error.contains("at most 10000")
            && error.contains("split it upstream"),
        "{error}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for() {
    let fake = ContentSafetyFake::setup()
        .blocklist("banned", &[])
        .fail_next(Failure::RateLimited {
            retry_after: Some(1),
        })
        .start();
    let started = Instant::now();
    let (outcome, events) = analyse(&fake, "hi").await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(
        node_events(&events, "safety"),
        ["started", "retrying", "finished"]
    );
}

#[tokio::test]
async fn cancelling_ends_the_node_while_it_waits_to_retry() {
    let fake = ContentSafetyFake::setup()
        .blocklist("banned", &[])
        .fail_next(Failure::RateLimited {
            retry_after: Some(3),
        })
        .start();
    let cancel = cancel_after(Duration::from_millis(300));
    let started = Instant::now();
    let (outcome, _) = run(
        valid(FLOW, &[("moderation", ConnectionType::AzureContentSafety)]),
        json!({ "text": "hi" }),
        source(vec![moderation(&fake)]),
        cancel,
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(outcome.nodes["safety"].state, NodeState::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_connection_of_another_type_is_refused_by_validation_and_at_run_time() {
    let (refused, at_run) = wrong_connection_type(
        FLOW,
        "safety",
        json!({ "text": "hi" }),
        ("moderation", ConnectionType::AzureContentSafety),
        ConnectionType::Serp,
    )
    .await;
    assert_eq!(
        refused,
        [
            "error: node safety, connection: `moderation` is a serp connection, and this node takes azure_content_safety connections; choose one of those"
        ]
    );
    assert_eq!(
        at_run,
        "`moderation` is a SerpAPI account, and this node needs an Azure AI Content Safety resource; choose a connection of type azure_content_safety"
    );
}

#[tokio::test]
async fn the_node_reads_eight_levels_when_asked() {
    let fake = ContentSafetyFake::setup()
        .blocklist("banned", &[])
        .severity("Hate", 5)
        .start();
    let flow = FLOW.replace(
        "      blocklist_names: [banned]\n",
        "      blocklist_names: [banned]\n      output_type: EightSeverityLevels\n",
    );
    let (outcome, _) = run_resolving(
        &flow,
        &[("moderation", ConnectionType::AzureContentSafety)],
        json!({ "text": "hi" }),
        vec![moderation(&fake)],
    )
    .await;
    assert_eq!(
        outcome.outputs["report"]["severity_by_category"]["Hate"],
        Value::from(5)
    );
    assert_eq!(
        fake.requests()[0].json()["outputType"],
        "EightSeverityLevels"
    );
}
