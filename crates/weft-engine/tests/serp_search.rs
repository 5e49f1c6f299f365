//! The Web search (SerpAPI) node against the loopback SerpApi fake. The key travels in the
//! query string: no URL the run reports may show it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use weft_engine::{NodeState, ResolvedConnection, RunOutcome, RunStatus};
use weft_flow::ConnectionType;
use weft_testkit::{Failure, SerpFake};

use common::{
    cancel_after, node_events, reported, run, run_resolving, serp_connection, source, valid,
    wrong_connection_type,
};

const KEY: &str = "serp-engine-key-0b7c44";

const FLOW: &str = r#"
schema: 1
inputs:
  question: { type: string }
outputs:
  results: { value: "${web.output}" }
nodes:
  - id: web
    type: serp_search
    position: { x: 0, y: 0 }
    properties:
      connection: serp
      query: "${inputs.question}"
      num: 2
      location: Austin, Texas, United States
      language: en
      safe: true
"#;

fn serp(base: &str) -> ResolvedConnection {
    serp_connection("serp", base, KEY)
}

async fn search(
    flow: &str,
    base: &str,
    question: &str,
) -> (RunOutcome, Vec<weft_engine::RunEvent>) {
    run_resolving(
        flow,
        &[("serp", ConnectionType::Serp)],
        json!({ "question": question }),
        vec![serp(base)],
    )
    .await
}

fn fake() -> weft_testkit::SerpSetup {
    SerpFake::setup()
        .key(KEY)
        .result("Weft", "https://weft.example/", "A flow designer.")
        .result("Prompt flow", "https://promptflow.example/", "Flows.")
        .result("Third", "https://third.example/", "Cut by num.")
}

/// The node failed, and nothing it reported shows the key (a masked URL reads `api_key=******`).
fn failure(outcome: &RunOutcome, events: &[weft_engine::RunEvent]) -> String {
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:#?}");
    assert_eq!(outcome.nodes["web"].state, NodeState::Failed);
    let all = reported(outcome, events);
    assert!(!all.contains(KEY), "{all}");
    outcome.nodes["web"].error.clone().unwrap()
}

#[tokio::test]
async fn the_organic_results_are_the_output_and_the_request_carries_googles_parameters() {
    let fake = fake().start();
    let (outcome, events) = search(FLOW, &fake.base, "what is weft").await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(
        outcome.outputs["results"],
        json!([
            {"position": 1, "title": "Weft", "link": "https://weft.example/", "snippet": "A flow designer."},
            {"position": 2, "title": "Prompt flow", "link": "https://promptflow.example/", "snippet": "Flows."},
        ])
    );
    let sent = &fake.requests()[0];
    let query = sent.target.split_once('?').unwrap().1;
    for pair in [
        "engine=google",
        "q=what+is+weft",
        "num=2",
        "hl=en",
        "safe=active",
        &format!("api_key={KEY}"),
    ] {
        assert!(query.split('&').any(|p| p == pair), "{pair} in {query}");
    }
    assert_eq!(node_events(&events, "web"), ["started", "finished"]);
    assert!(!reported(&outcome, &events).contains(KEY));
}

#[tokio::test]
async fn bing_takes_count_and_the_market() {
    let fake = fake().start();
    let flow = FLOW
        .replace("      num: 2\n", "      num: 2\n      engine: bing\n")
        .replace("language: en", "language: en-US");
    let (outcome, _) = search(&flow, &fake.base, "weft").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    let query = fake.requests()[0].target.clone();
    for pair in ["engine=bing", "count=2", "mkt=en-US", "safeSearch=Strict"] {
        assert!(query.contains(pair), "{pair} in {query}");
    }
}

#[tokio::test]
async fn each_error_class_fails_the_node_with_the_key_masked() {
    // A refused key.
    let other = SerpFake::setup().key("another-key").start();
    let (outcome, events) = search(FLOW, &other.base, "weft").await;
    let error = failure(&outcome, &events);
    assert!(
        error.contains("401") && error.contains("Invalid API key"),
        "{error}"
    );

    // Not found: an endpoint that is not SerpApi's root.
    let found = fake().start();
    let (outcome, events) = search(FLOW, &format!("{}/nowhere", found.base), "weft").await;
    let error = failure(&outcome, &events);
    assert!(error.contains("404"), "{error}");

    // A bad request: an empty query is refused before any call.
    let before = found.requests().len();
    let (outcome, events) = search(FLOW, &found.base, "   ").await;
    let error = failure(&outcome, &events);
    assert!(error.contains("`query` is empty"), "{error}");
    assert_eq!(found.requests().len(), before);

    // 500s, retried until the retries run out; the retry notices show no key either.
    let failing = fake()
        .fail_next(Failure::Internal)
        .fail_next(Failure::Internal)
        .fail_next(Failure::Internal)
        .start();
    let (outcome, events) = search(FLOW, &failing.base, "weft").await;
    let error = failure(&outcome, &events);
    assert!(error.contains("500"), "{error}");
    assert_eq!(
        node_events(&events, "web"),
        ["started", "retrying", "retrying", "failed"]
    );
    assert!(!reported(&outcome, &events).contains(KEY));
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for_and_the_notice_masks_the_key() {
    let fake = fake()
        .fail_next(Failure::RateLimited {
            retry_after: Some(1),
        })
        .start();
    let started = Instant::now();
    let (outcome, events) = search(FLOW, &fake.base, "weft").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        node_events(&events, "web"),
        ["started", "retrying", "finished"]
    );
    assert!(!reported(&outcome, &events).contains(KEY));
}

#[tokio::test]
async fn cancelling_ends_the_search_while_it_waits_to_retry() {
    let fake = fake()
        .fail_next(Failure::RateLimited {
            retry_after: Some(3),
        })
        .start();
    let cancel = cancel_after(Duration::from_millis(300));
    let started = Instant::now();
    let (outcome, _) = run(
        valid(FLOW, &[("serp", ConnectionType::Serp)]),
        json!({ "question": "weft" }),
        source(vec![serp(&fake.base)]),
        cancel,
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(outcome.nodes["web"].state, NodeState::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_connection_of_another_type_is_refused_by_validation_and_at_run_time() {
    let (refused, at_run) = wrong_connection_type(
        FLOW,
        "web",
        json!({ "question": "weft" }),
        ("serp", ConnectionType::Serp),
        ConnectionType::CognitiveSearch,
    )
    .await;
    assert_eq!(
        refused,
        [
            "error: node web, connection: `serp` is a cognitive_search connection, and this node takes serp connections; choose one of those"
        ]
    );
    assert_eq!(
        at_run,
        "`serp` is an Azure AI Search service, and this node needs a SerpAPI account; choose a connection of type serp"
    );
}
