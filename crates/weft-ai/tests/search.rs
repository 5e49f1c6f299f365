//! The Azure AI Search client against weft-testkit's fake service: keyword, vector and hybrid
//! queries as documented, each error class, retries, and the key only in its header.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::client;
use weft_ai::search::{Document, SearchRequest, SearchTarget, VectorQuery, query};
use weft_ai::{ApiKey, Handles, InferenceError};
use weft_testkit::{Failure, SearchFake, SearchSetup};

const KEY: &str = "search-query-key-42";

/// Sends `request` to `fake` with `key`, through the fast-retry client and no handles.
async fn ask(
    fake: &SearchFake,
    key: &str,
    request: &SearchRequest,
) -> Result<Vec<Document>, InferenceError> {
    query(&client(), &target(fake, key), request, &Handles::default()).await
}

fn docs(setup: SearchSetup) -> SearchFake {
    setup
        .index(
            "handbook",
            vec![
                json!({"id": "1", "title": "Holidays", "content": "Holiday rules and holiday pay", "category": "hr", "embedding": [1.0, 0.0]}),
                json!({"id": "2", "title": "Expenses", "content": "How to claim expenses", "category": "finance", "embedding": [0.0, 1.0]}),
                json!({"id": "3", "title": "Sick leave", "content": "Sick leave and holiday overlap", "category": "hr", "embedding": [0.7, 0.7]}),
            ],
        )
        .start()
}

fn target(fake: &SearchFake, key: &str) -> SearchTarget {
    SearchTarget::new(&fake.base, ApiKey::new(key)).unwrap()
}

fn ids(documents: &[Document]) -> Vec<&str> {
    documents
        .iter()
        .map(|d| d.fields["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_keyword_query_sends_the_documented_body_and_returns_scored_documents() {
    let fake = docs(SearchFake::setup().key(KEY));
    let found = ask(
        &fake,
        KEY,
        &SearchRequest {
            index: "handbook".into(),
            search: Some("holiday".into()),
            search_fields: vec!["content".into()],
            select: vec!["id".into(), "title".into()],
            filter: Some("category eq 'hr'".into()),
            top: Some(5),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(ids(&found), ["1", "3"], "best first");
    assert!(found[0].score > found[1].score);
    assert_eq!(
        found[0].fields.keys().collect::<Vec<_>>(),
        ["id", "title"],
        "only the selected fields, no @search annotations"
    );
    // Ready for a prompt template: {score, …fields}.
    assert_eq!(
        serde_json::to_value(&found[1]).unwrap(),
        json!({"score": found[1].score, "id": "3", "title": "Sick leave"})
    );

    let [sent] = fake.requests().try_into().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.target,
        "/indexes/handbook/docs/search?api-version=2024-07-01"
    );
    assert_eq!(sent.header("api-key"), Some(KEY));
    assert!(sent.header("x-ms-client-request-id").is_some());
    assert_eq!(
        sent.json(),
        json!({
            "search": "holiday",
            "searchFields": "content",
            "select": "id,title",
            "filter": "category eq 'hr'",
            "top": 5,
        })
    );
    let elsewhere: Vec<&(String, String)> = sent
        .headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("api-key"))
        .collect();
    assert!(!format!("{elsewhere:?}").contains(KEY), "{elsewhere:?}");
    assert!(!sent.target.contains(KEY) && !sent.body.contains(KEY));
}

#[tokio::test]
async fn vector_and_hybrid_queries_send_vector_queries() {
    let fake = docs(SearchFake::setup());
    let vector = VectorQuery {
        vector: vec![0.0, 1.0],
        fields: vec!["embedding".into()],
        k: 2,
    };
    let nearest = ask(
        &fake,
        KEY,
        &SearchRequest {
            index: "handbook".into(),
            vector: Some(vector.clone()),
            select: vec!["id".into()],
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(ids(&nearest), ["2", "3"]);
    assert_eq!(
        fake.requests()[0].json(),
        json!({
            "select": "id",
            "vectorQueries": [{"kind": "vector", "vector": [0.0, 1.0], "fields": "embedding", "k": 2}],
        })
    );

    let hybrid = ask(
        &fake,
        KEY,
        &SearchRequest {
            index: "handbook".into(),
            search: Some("holiday".into()),
            vector: Some(vector),
            top: Some(3),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&hybrid)[0],
        "3",
        "found by both the text and the vector"
    );
    let body: Value = fake.requests()[1].json();
    assert_eq!(body["search"], "holiday");
    assert_eq!(body["vectorQueries"][0]["kind"], "vector");
}

#[tokio::test]
async fn a_refused_key_says_to_check_the_connections_key() {
    let fake = docs(SearchFake::setup().key(KEY));
    let wrong = "not-the-key";
    let err = ask(
        &fake,
        wrong,
        &SearchRequest {
            index: "handbook".into(),
            search: Some("*".into()),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, InferenceError::BadRequest { status: 403, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("HTTP 403"), "{message}");
    assert!(
        message
            .ends_with("check the connection's key (an admin or query key of this search service)"),
        "{message}"
    );
    assert!(!message.contains(wrong), "{message}");
    assert_eq!(fake.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn an_unknown_index_is_named() {
    let fake = docs(SearchFake::setup());
    let err = ask(
        &fake,
        KEY,
        &SearchRequest {
            index: "handbok".into(),
            search: Some("holiday".into()),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap_err();
    let InferenceError::NotFound { hint, message, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(hint.contains("no index `handbok`"), "{hint}");
    assert!(message.contains("The index 'handbok'"), "{message}");
}

#[tokio::test]
async fn a_bad_filter_or_vector_field_is_the_services_message() {
    let fake = docs(SearchFake::setup());
    let err = ask(
        &fake,
        KEY,
        &SearchRequest {
            index: "handbook".into(),
            search: Some("holiday".into()),
            filter: Some("category = hr".into()),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, InferenceError::BadRequest { status: 400, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("$filter"), "{err}");

    let err = ask(
        &fake,
        KEY,
        &SearchRequest {
            index: "handbook".into(),
            vector: Some(VectorQuery {
                vector: vec![1.0, 0.0, 0.0],
                fields: vec!["embedding".into()],
                k: 3,
            }),
            ..SearchRequest::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("dimensions"), "{err}");
}

#[tokio::test]
async fn throttling_is_retried_after_the_wait_it_asks_for_then_ends_as_rate_limited() {
    let fake = docs(SearchFake::setup().fail_next(Failure::Unavailable {
        retry_after: Some(1),
    }));
    let request = SearchRequest {
        index: "handbook".into(),
        search: Some("expenses".into()),
        ..SearchRequest::default()
    };
    let started = Instant::now();
    let found = ask(&fake, KEY, &request).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(ids(&found), ["2"]);
    assert_eq!(fake.requests().len(), 2);

    for _ in 0..3 {
        fake.fail_next(Failure::RateLimited { retry_after: None });
    }
    let err = ask(&fake, KEY, &request).await.unwrap_err();
    assert!(matches!(err, InferenceError::RateLimited { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("rate limited (HTTP 429)"),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 5);
}

#[tokio::test]
async fn a_query_without_an_index_or_anything_to_match_is_refused_before_any_call() {
    let fake = docs(SearchFake::setup());
    for (request, says) in [
        (
            SearchRequest {
                search: Some("x".into()),
                ..SearchRequest::default()
            },
            "name the search index",
        ),
        (
            SearchRequest {
                index: "handbook".into(),
                ..SearchRequest::default()
            },
            "a text to match, a vector, or both",
        ),
        (
            SearchRequest {
                index: "handbook".into(),
                vector: Some(VectorQuery {
                    vector: vec![1.0],
                    fields: Vec::new(),
                    k: 1,
                }),
                ..SearchRequest::default()
            },
            "the vector field",
        ),
    ] {
        let err = ask(&fake, KEY, &request).await.unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
    assert!(fake.requests().is_empty());
}

/// The engine's ports box these futures as `Send`: this stops compiling if one stops being.
#[test]
fn the_call_is_a_send_future() {
    fn send<T: Send>(_: &T) {}
    let (client, handles) = (client(), Handles::default());
    let target = SearchTarget::new("https://x.search.windows.net", ApiKey::new(KEY)).unwrap();
    let request = SearchRequest::default();
    send(&query(&client, &target, &request, &handles));
}
