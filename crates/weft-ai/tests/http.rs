//! The plain HTTP request client against weft-testkit's scripted server: what is sent, JSON
//! and text replies, errors, retries, and the request's secrets masked in what it reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::client;
use weft_ai::http::{HttpBody, HttpRequest, send};
use weft_ai::{ApiKey, Handles, InferenceError};
use weft_testkit::{Answer, HttpFake};

const SECRET: &str = "custom-secret-7f3a";

fn get(url: String) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url,
        headers: Vec::new(),
        query: Vec::new(),
        body: None,
        secrets: Vec::new(),
        secret_origin: None,
    }
}

#[tokio::test]
async fn sends_method_url_query_headers_and_a_json_body_and_parses_a_json_reply() {
    let fake = HttpFake::start(vec![
        Answer::json(201, &json!({"id": 7, "ok": true})).header("x-trace", "abc"),
    ]);
    let reply = send(
        &client(),
        &HttpRequest {
            method: "post".into(),
            url: format!("{}/v1/items?source=weft", fake.base),
            headers: vec![("X-Api-Token".into(), format!("Token {SECRET}"))],
            query: vec![("q".into(), "a b&c".into())],
            body: Some(json!({"name": "item"})),
            secrets: vec![ApiKey::new(SECRET)],
            secret_origin: Some(format!("{}/v1", fake.base)),
        },
        &Handles::default(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body, HttpBody::Json(json!({"id": 7, "ok": true})));
    assert!(
        reply
            .headers
            .contains(&("x-trace".to_owned(), "abc".to_owned())),
        "{:?}",
        reply.headers
    );

    let [sent] = fake.requests().try_into().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.target, "/v1/items?source=weft&q=a+b%26c");
    assert_eq!(
        sent.header("x-api-token"),
        Some(format!("Token {SECRET}").as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.json(), json!({"name": "item"}));
}

#[tokio::test]
async fn a_reply_is_json_only_when_it_says_so() {
    let fake = HttpFake::start(vec![
        Answer::text(
            200,
            "text/plain; charset=utf-8",
            "{\"looks\": \"like json\"}",
        ),
        Answer::text(
            200,
            "application/problem+json",
            "{\"title\": \"a problem\"}",
        ),
        Answer::text(200, "application/json", "not json"),
    ]);
    let url = format!("{}/x", fake.base);
    let text = send(&client(), &get(url.clone()), &Handles::default())
        .await
        .unwrap();
    assert_eq!(
        text.body,
        HttpBody::Text("{\"looks\": \"like json\"}".into())
    );
    let problem = send(&client(), &get(url.clone()), &Handles::default())
        .await
        .unwrap();
    assert_eq!(problem.body, HttpBody::Json(json!({"title": "a problem"})));
    let err = send(&client(), &get(url), &Handles::default())
        .await
        .unwrap_err();
    assert!(matches!(err, InferenceError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("says it is JSON"), "{err}");
}

#[tokio::test]
async fn a_failed_status_is_an_error_with_the_secrets_masked() {
    let fake = HttpFake::start(vec![Answer::json(
        404,
        &json!({"error": {"message": format!("no route for key {SECRET}")}}),
    )]);
    let err = send(
        &client(),
        &HttpRequest {
            query: vec![("token".into(), SECRET.into())],
            secrets: vec![ApiKey::new(SECRET)],
            ..get(format!("{}/missing", fake.base))
        },
        &Handles::default(),
    )
    .await
    .unwrap_err();
    let InferenceError::NotFound { url, hint, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(url.ends_with("/missing?token=******"), "{url}");
    assert!(hint.contains("check the request's URL"), "{hint}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("no route for key ******"), "{shown}");
}

#[tokio::test]
async fn throttling_and_server_failures_are_retried_honouring_retry_after() {
    let fake = HttpFake::start(vec![
        Answer::text(429, "text/plain", "slow down").header("Retry-After", "1"),
        Answer::text(502, "text/html", "<html>bad gateway</html>"),
        Answer::text(200, "text/plain", "done"),
    ]);
    let started = Instant::now();
    let reply = send(
        &client(),
        &get(format!("{}/work", fake.base)),
        &Handles::default(),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(reply.body, HttpBody::Text("done".into()));
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let fake = HttpFake::start(vec![
        Answer::empty(307).header("location", "https://elsewhere.example/next"),
    ]);
    let err = send(
        &client(),
        &get(format!("{}/old", fake.base)),
        &Handles::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, InferenceError::Redirected { status: 307, ref to } if to == "https://elsewhere.example/next"),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_bad_method_or_url_is_refused_before_any_call_without_showing_secrets() {
    let fake = HttpFake::start(Vec::new());
    let err = send(
        &client(),
        &HttpRequest {
            method: "GE T".into(),
            ..get(format!("{}/x", fake.base))
        },
        &Handles::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("is not an HTTP method"), "{err}");

    let err = send(
        &client(),
        &HttpRequest {
            secrets: vec![ApiKey::new(SECRET)],
            ..get(format!("api.example.com/?key={SECRET}"))
        },
        &Handles::default(),
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("is not an http(s) URL"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_secret_goes_only_to_the_connections_origin() {
    let fake = HttpFake::start(vec![Answer::text(200, "text/plain", "ok")]);
    let other = HttpFake::start(Vec::new());
    let guarded = |url: String| HttpRequest {
        secrets: vec![ApiKey::new(SECRET)],
        secret_origin: Some(fake.base.clone()),
        ..get(url)
    };
    for request in [
        HttpRequest {
            query: vec![("key".into(), SECRET.into())],
            ..guarded(format!("{}/steal", other.base))
        },
        HttpRequest {
            headers: vec![("authorization".into(), format!("Bearer {SECRET}"))],
            ..guarded(format!("{}/steal", other.base))
        },
        HttpRequest {
            body: Some(json!({"nested": {"token": SECRET}})),
            ..guarded(format!("{}/steal", other.base))
        },
    ] {
        let err = send(&client(), &request, &Handles::default())
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("carries a secret of the connection"),
            "{message}"
        );
        assert!(message.contains(&fake.base), "{message}");
        assert!(!message.contains(SECRET), "{message}");
    }
    assert!(other.requests().is_empty(), "nothing was sent");

    // Without a secret in it, another origin is fine; with one, the connection's own is.
    let plain = HttpFake::start(vec![Answer::text(200, "text/plain", "public")]);
    send(
        &client(),
        &guarded(format!("{}/public", plain.base)),
        &Handles::default(),
    )
    .await
    .unwrap();
    send(
        &client(),
        &HttpRequest {
            headers: vec![("authorization".into(), format!("Bearer {SECRET}"))],
            ..guarded(format!("{}/mine", fake.base))
        },
        &Handles::default(),
    )
    .await
    .unwrap();
    assert_eq!(fake.requests().len(), 1);
}

/// The engine's ports box these futures as `Send`: this stops compiling if one stops being.
#[test]
fn the_call_is_a_send_future() {
    fn is_send<T: Send>(_: &T) {}
    let (client, handles) = (client(), Handles::default());
    let request = get("https://api.example.com".into());
    is_send(&send(&client, &request, &handles));
}
