//! The AI Search lookup node against the loopback AI Search fake (and, to embed a query on the
//! fly, the scripted model endpoint).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use url::Url;
use weft_ai::{ApiKey, Credential, Endpoint};
use weft_engine::{NodeState, ResolvedConnection, RunEvent, RunOutcome, RunStatus, Target};
use weft_flow::{ConnectionType, SavedConnection};
use weft_testkit::{Failure, FakeEndpoint, Reply, SearchFake, SearchSetup};

use common::{
    cancel_after, errors, node_events, reported, run, run_resolving, search_connection, source,
    valid, wrong_connection_type,
};

const KEY: &str = "search-engine-key-8e21f0";
const MODEL_KEY: &str = "sk-embed-key-4410ab";

const SAVED: &[(&str, ConnectionType)] = &[
    ("docs", ConnectionType::CognitiveSearch),
    ("azure-ai", ConnectionType::AzureAi),
];

const KEYWORD: &str = r#"
schema: 1
inputs:
  question: { type: string }
outputs:
  docs: { value: "${search.output}" }
nodes:
  - id: search
    type: ai_search
    position: { x: 0, y: 0 }
    properties:
      connection: docs
      index: handbook
      query: "${inputs.question}"
      top_k: 2
      select: title, category
      filter: category eq 'hr'
"#;

const VECTOR: &str = r#"
schema: 1
inputs:
  question: { type: string }
outputs:
  docs: { value: "${search.output}" }
nodes:
  - id: search
    type: ai_search
    position: { x: 0, y: 0 }
    properties:
      connection: docs
      index: handbook
      mode: vector
      query: "${inputs.question}"
      vector_field: embedding
      embeddings_connection: azure-ai
      embeddings_deployment: text-embedding-3-small
      top_k: 1
      select: title
"#;

fn handbook() -> SearchSetup {
    SearchFake::setup().key(KEY).index(
        "handbook",
        vec![
            json!({"id": "1", "title": "Holidays", "content": "Holiday rules and holiday pay", "category": "hr", "embedding": [1.0, 0.0]}),
            json!({"id": "2", "title": "Expenses", "content": "How to claim expenses", "category": "finance", "embedding": [0.0, 1.0]}),
            json!({"id": "3", "title": "Sick leave", "content": "Sick leave and holiday overlap", "category": "hr", "embedding": [0.7, 0.7]}),
        ],
    )
}

fn docs(base: &str) -> ResolvedConnection {
    search_connection("docs", base, KEY)
}

fn model(fake: &FakeEndpoint) -> ResolvedConnection {
    ResolvedConnection::Model(Target {
        name: "azure-ai".into(),
        endpoint: Endpoint::ModelInference {
            endpoint: Url::parse(&format!("{}/models", fake.base)).unwrap(),
            api_version: "2024-05-01-preview".into(),
        },
        credential: Credential::Key(ApiKey::new(MODEL_KEY)),
    })
}

async fn lookup(flow: &str, connections: Vec<ResolvedConnection>) -> (RunOutcome, Vec<RunEvent>) {
    run_resolving(flow, SAVED, json!({ "question": "holiday" }), connections).await
}

fn failure(outcome: &RunOutcome, events: &[RunEvent]) -> String {
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:#?}");
    assert_eq!(outcome.nodes["search"].state, NodeState::Failed);
    assert!(!reported(outcome, events).contains(KEY));
    outcome.nodes["search"].error.clone().unwrap()
}

#[tokio::test]
async fn a_keyword_lookup_outputs_scored_documents_with_the_selected_fields() {
    let fake = handbook().start();
    let (outcome, events) = lookup(KEYWORD, vec![docs(&fake.base)]).await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    let found = outcome.outputs["docs"].as_array().unwrap();
    assert_eq!(found.len(), 2);
    for doc in found {
        assert!(doc["score"].as_f64().unwrap() > 0.0, "{doc}");
        assert_eq!(doc["category"], "hr");
        // Only the selected fields, and no service annotations.
        let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["category", "score", "title"]);
    }
    let sent = &fake.requests()[0];
    assert!(
        sent.target
            .ends_with("/indexes/handbook/docs/search?api-version=2024-07-01"),
        "{}",
        sent.target
    );
    assert_eq!(sent.header("api-key"), Some(KEY));
    assert_eq!(
        sent.json(),
        json!({"search": "holiday", "select": "title,category", "filter": "category eq 'hr'", "top": 2})
    );
    assert_eq!(node_events(&events, "search"), ["started", "finished"]);
    assert!(!reported(&outcome, &events).contains(KEY));
}

#[tokio::test]
async fn a_vector_lookup_embeds_the_query_when_no_vector_is_wired() {
    let fake = handbook().start();
    let embedder = FakeEndpoint::start(vec![Reply::Json(
        200,
        json!({"data": [{"index": 0, "embedding": [1.0, 0.0]}], "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
    )]);
    let (outcome, events) = lookup(VECTOR, vec![docs(&fake.base), model(&embedder)]).await;

    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(outcome.outputs["docs"][0]["title"], "Holidays");
    assert_eq!(embedder.requests()[0].json()["input"], json!(["holiday"]));
    let body = fake.requests()[0].json();
    assert_eq!(body.get("search"), None);
    assert_eq!(
        body["vectorQueries"],
        json!([{"kind": "vector", "vector": [1.0, 0.0], "fields": "embedding", "k": 1}])
    );
    let all = reported(&outcome, &events);
    assert!(!all.contains(KEY) && !all.contains(MODEL_KEY));
}

#[tokio::test]
async fn a_hybrid_lookup_takes_an_upstream_vector_as_an_embeddings_node_gives_it() {
    let fake = handbook().start();
    // An Embeddings node's output: one vector per text.
    let flow = VECTOR
        .replace("mode: vector", "mode: hybrid")
        .replace(
            "      embeddings_connection: azure-ai\n      embeddings_deployment: text-embedding-3-small\n",
            "      vector: [[0.0, 1.0]]\n",
        );
    let (outcome, _) = lookup(&flow, vec![docs(&fake.base)]).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    let body = fake.requests()[0].json();
    assert_eq!(body["search"], "holiday");
    assert_eq!(body["vectorQueries"][0]["vector"], json!([0.0, 1.0]));
}

#[tokio::test]
async fn validation_names_what_each_mode_needs() {
    let saved: Vec<SavedConnection> = SAVED
        .iter()
        .map(|(name, kind)| SavedConnection::new(name, *kind))
        .collect();
    let flow = VECTOR
        .replace("      vector_field: embedding\n", "")
        .replace("      embeddings_connection: azure-ai\n", "");
    assert_eq!(
        errors(&flow, &saved),
        [
            "error: node search, vector_field: `vector_field` is required in vector and hybrid modes: name the index's vector field",
            "error: node search, embeddings_connection: `embeddings_connection` is required to embed the query when no vector is given: choose a model connection, or wire a vector such as ${embed.output}",
        ]
    );
    let flow = KEYWORD.replace("      query: \"${inputs.question}\"\n", "");
    assert_eq!(
        errors(&flow, &saved),
        [
            "error: node search, query: `query` is required in keyword and hybrid modes: give the text to match"
        ]
    );
    // The embeddings connection must be a model one.
    let flow = VECTOR.replace(
        "embeddings_connection: azure-ai",
        "embeddings_connection: docs",
    );
    assert_eq!(
        errors(&flow, &saved),
        [
            "error: node search, embeddings_connection: `docs` is a cognitive_search connection, and this node takes azure_ai, azure_open_ai, open_ai or serverless connections; choose one of those"
        ]
    );
}

#[tokio::test]
async fn each_error_class_fails_the_node_saying_what_to_do() {
    // A refused key (403, no body).
    let other = SearchFake::setup()
        .key("another-key")
        .index("handbook", vec![])
        .start();
    let (outcome, events) = lookup(KEYWORD, vec![docs(&other.base)]).await;
    let error = failure(&outcome, &events);
    assert!(error.contains("refused the api-key"), "{error}");

    // An index the service does not have.
    let fake = handbook().start();
    let flow = KEYWORD.replace("index: handbook", "index: handbok");
    let (outcome, events) = lookup(&flow, vec![docs(&fake.base)]).await;
    let error = failure(&outcome, &events);
    assert!(error.contains("there is no index `handbok`"), "{error}");

    // A bad filter: the service's 400 names it.
    let flow = KEYWORD.replace("category eq 'hr'", "category gt");
    let (outcome, events) = lookup(&flow, vec![docs(&fake.base)]).await;
    let error = failure(&outcome, &events);
    assert!(
        error.contains("400") && error.contains("$filter"),
        "{error}"
    );

    // 500s, retried until the retries run out.
    let failing = handbook()
        .fail_next(Failure::Internal)
        .fail_next(Failure::Internal)
        .fail_next(Failure::Internal)
        .start();
    let (outcome, events) = lookup(KEYWORD, vec![docs(&failing.base)]).await;
    let error = failure(&outcome, &events);
    assert!(error.contains("500"), "{error}");
    assert_eq!(
        node_events(&events, "search"),
        ["started", "retrying", "retrying", "failed"]
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for() {
    let fake = handbook()
        .fail_next(Failure::RateLimited {
            retry_after: Some(1),
        })
        .start();
    let started = Instant::now();
    let (outcome, events) = lookup(KEYWORD, vec![docs(&fake.base)]).await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        node_events(&events, "search"),
        ["started", "retrying", "finished"]
    );
}

#[tokio::test]
async fn cancelling_ends_the_lookup_while_it_waits_to_retry() {
    let fake = handbook()
        .fail_next(Failure::Unavailable {
            retry_after: Some(3),
        })
        .start();
    let cancel = cancel_after(Duration::from_millis(300));
    let started = Instant::now();
    let (outcome, _) = run(
        valid(KEYWORD, SAVED),
        json!({ "question": "holiday" }),
        source(vec![docs(&fake.base)]),
        cancel,
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Cancelled);
    assert_eq!(outcome.nodes["search"].state, NodeState::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_connection_of_another_type_is_refused_by_validation_and_at_run_time() {
    let (refused, at_run) = wrong_connection_type(
        KEYWORD,
        "search",
        json!({ "question": "holiday" }),
        ("docs", ConnectionType::CognitiveSearch),
        ConnectionType::Serp,
    )
    .await;
    assert_eq!(
        refused,
        [
            "error: node search, connection: `docs` is a serp connection, and this node takes cognitive_search connections; choose one of those"
        ]
    );
    assert_eq!(
        at_run,
        "`docs` is a SerpAPI account, and this node needs an Azure AI Search service; choose a connection of type cognitive_search"
    );
}
