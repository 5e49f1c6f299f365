//! The client against a scripted server on 127.0.0.1: exact wire shapes per style, streaming,
//! every error class, every retry rule, timeouts and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{End, Reply, Server};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{
    ApiKey, Call, ChatRequest, Client, ClientEvent, EmbeddingsRequest, Endpoint, FinishReason,
    InferenceError, Message, RetryPolicy, Role, TimeoutPhase, Timeouts,
};

const KEY: &str = "test-key-5e3c1b";

fn answer(text: &str) -> serde_json::Value {
    json!({
        "id": "c1", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    })
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::new(Role::System, "be brief"),
            Message::new(Role::User, "hi"),
        ],
        temperature: Some(0.2),
        max_completion_tokens: Some(64),
        seed: Some(7),
        ..ChatRequest::default()
    }
}

fn client(retry: RetryPolicy) -> Client {
    Client::new(Timeouts::default(), retry).unwrap()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

fn foundry(server: &Server) -> Endpoint {
    Endpoint::Foundry {
        endpoint: Url::parse(&format!("{}/models", server.base)).unwrap(),
        api_version: "2024-05-01-preview".into(),
    }
}

fn call<'a>(endpoint: &'a Endpoint, key: &'a ApiKey) -> Call<'a> {
    Call {
        endpoint,
        key,
        deployment: Some("gpt-4o-mini"),
        cancel: CancellationToken::new(),
        events: None,
    }
}

#[tokio::test]
async fn each_style_sends_its_url_auth_and_body() {
    let server = Server::start((0..5).map(|_| Reply::json(200, answer("hello"))).collect()).await;
    let base = Url::parse(&server.base).unwrap();
    let styles = [
        (
            foundry(&server),
            "/models/chat/completions?api-version=2024-05-01-preview",
            "api-key",
            Some("gpt-4o-mini"),
            "max_tokens",
        ),
        (
            Endpoint::AzureOpenAi {
                resource: base.clone(),
                deployment: None,
                api_version: "2024-10-21".into(),
            },
            "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
            "api-key",
            None,
            "max_completion_tokens",
        ),
        (
            Endpoint::AzureOpenAiV1 {
                base: base.join("/openai/v1").unwrap(),
            },
            "/openai/v1/chat/completions",
            "api-key",
            Some("gpt-4o-mini"),
            "max_completion_tokens",
        ),
        (
            Endpoint::Serverless {
                api_base: base.clone(),
                api_version: "2024-05-01-preview".into(),
            },
            "/chat/completions?api-version=2024-05-01-preview",
            "authorization",
            Some("gpt-4o-mini"),
            "max_tokens",
        ),
        (
            Endpoint::OpenAi {
                base_url: base.join("/v1").unwrap(),
                organization: Some("org-1".into()),
            },
            "/v1/chat/completions",
            "authorization",
            Some("gpt-4o-mini"),
            "max_completion_tokens",
        ),
    ];
    let key = ApiKey::new(KEY);
    let client = client(RetryPolicy::default());
    for (endpoint, _, _, _, _) in &styles {
        let reply = client
            .chat(&call(endpoint, &key), &request())
            .await
            .unwrap();
        assert_eq!(reply.text, "hello");
        assert_eq!(reply.finish_reason, Some(FinishReason::Stop));
        assert_eq!(reply.usage.unwrap().total_tokens, 11);
    }
    let requests = server.requests();
    for (sent, (_, target, auth, model, max_field)) in requests.iter().zip(&styles) {
        assert_eq!(sent.method, "POST");
        assert_eq!(&sent.target, target);
        match *auth {
            "api-key" => {
                assert_eq!(sent.header("api-key"), Some(KEY), "{target}");
                assert_eq!(sent.header("authorization"), None, "{target}");
            }
            _ => {
                assert_eq!(
                    sent.header("authorization"),
                    Some(format!("Bearer {KEY}").as_str()),
                    "{target}"
                );
                assert_eq!(sent.header("api-key"), None, "{target}");
            }
        }
        assert!(
            sent.header("x-ms-client-request-id")
                .is_some_and(|id| id.len() == 36)
        );
        let body = sent.json();
        assert_eq!(body["model"].as_str(), *model, "{target}");
        assert_eq!(body[*max_field], 64, "{target}");
        let other = if *max_field == "max_tokens" {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        assert!(body.get(other).is_none(), "{target} sent {other}");
        assert_eq!(
            body["messages"],
            json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
        );
        assert_eq!(body["seed"], 7);
        assert!(
            body.get("stream").is_none()
                && body.get("tools").is_none()
                && body.get("stop").is_none()
        );
    }
    assert_eq!(requests[4].header("openai-organization"), Some("org-1"));
}

#[tokio::test]
async fn a_stream_delivers_deltas_as_they_arrive_and_tolerates_empty_choices() {
    let server = Server::start(vec![Reply::sse(&[
        json!({"choices": [], "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}),
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "Hel"}}], "unknown_field": true}),
        json!({"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": null}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "model": "gpt-4o-mini"}),
        json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
    ])])
    .await;
    let endpoint = Endpoint::AzureOpenAiV1 {
        base: Url::parse(&format!("{}/openai/v1", server.base)).unwrap(),
    };
    let key = ApiKey::new(KEY);
    let (events, mut received) = mpsc::unbounded_channel();
    let mut call = call(&endpoint, &key);
    call.events = Some(events);
    let reply = client(RetryPolicy::default())
        .chat_stream(&call, &request())
        .await
        .unwrap();
    assert_eq!(reply.text, "Hello");
    assert_eq!(reply.finish_reason, Some(FinishReason::Stop));
    assert_eq!(reply.usage.unwrap().total_tokens, 7);
    assert_eq!(reply.request_id.as_deref(), Some("req-stream-1"));
    let mut deltas = Vec::new();
    while let Ok(event) = received.try_recv() {
        deltas.push(event);
    }
    assert_eq!(
        deltas,
        [
            ClientEvent::Delta("Hel".into()),
            ClientEvent::Delta("lo".into())
        ]
    );
    let body = server.requests()[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

async fn error_for(reply: Reply) -> (InferenceError, usize) {
    let server = Server::start(vec![reply]).await;
    let endpoint = foundry(&server);
    let key = ApiKey::new(KEY);
    let policy = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let err = client(policy)
        .chat(&call(&endpoint, &key), &request())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(KEY), "the key leaked: {err}");
    (err, server.requests().len())
}

#[tokio::test]
async fn every_error_class_has_an_actionable_sentence() {
    let body = |code: &str, message: &str| json!({"error": {"code": code, "message": message}});

    let (err, _) = error_for(
        Reply::json(
            401,
            body("401", "Access denied due to invalid subscription key"),
        )
        .with_header("apim-request-id", "r-401"),
    )
    .await;
    assert!(matches!(err, InferenceError::Unauthorized { .. }));
    assert!(
        err.to_string().contains(
            "refused the API key (HTTP 401) (request id r-401): check the connection's key"
        ),
        "{err}"
    );

    let (err, _) = error_for(Reply::json(
        403,
        body("Forbidden", "Public access is disabled"),
    ))
    .await;
    assert!(
        err.to_string()
            .contains("check the endpoint's region, the resource's network rules"),
        "{err}"
    );

    let (err, _) = error_for(Reply::json(
        404,
        body(
            "DeploymentNotFound",
            "The API deployment for this resource does not exist.",
        ),
    ))
    .await;
    let text = err.to_string();
    assert!(
        text.contains("/models/chat/completions?api-version=2024-05-01-preview"),
        "{text}"
    );
    assert!(
        text.contains("the deployment does not exist on this resource"),
        "{text}"
    );

    let (err, _) = error_for(Reply::json(
        400,
        body("invalid_request_error", "temperature must be <= 2"),
    ))
    .await;
    assert!(matches!(
        err,
        InferenceError::BadRequest { status: 400, .. }
    ));
    assert!(
        err.to_string().ends_with("temperature must be <= 2"),
        "{err}"
    );

    let (err, _) = error_for(Reply::json(
        422,
        body(
            "extra_parameters_not_allowed",
            "Extra parameters ['foo'] are not allowed",
        ),
    ))
    .await;
    assert!(
        matches!(err, InferenceError::BadRequest { status: 422, .. }),
        "{err:?}"
    );

    let filtered = json!({"error": {"code": "content_filter", "message": "filtered", "innererror": {
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_result": {"hate": {"filtered": true, "severity": "high"}, "sexual": {"filtered": false, "severity": "safe"}, "violence": {"filtered": true, "severity": "medium"}}
    }}});
    let (err, _) = error_for(Reply::json(400, filtered)).await;
    let text = err.to_string();
    assert!(
        text.starts_with("the content filter blocked the prompt (request id "),
        "{text}"
    );
    assert!(text.ends_with("): hate, violence; rephrase it"), "{text}");

    let (err, _) = error_for(
        Reply::json(429, body("429", "Rate limit reached")).with_header("retry-after", "20"),
    )
    .await;
    assert!(
        matches!(err, InferenceError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(20)),
        "{err:?}"
    );

    let (err, _) = error_for(Reply::json(503, body("ServiceUnavailable", "busy"))).await;
    assert!(
        err.to_string().contains("the service failed (HTTP 503)")
            && err.to_string().contains("try again later")
    );

    let html = Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), "text/html".into())],
        body: "<html>Sign in</html>".into(),
    };
    let (err, _) = error_for(html).await;
    assert!(
        err.to_string().contains("an HTML page instead of JSON"),
        "{err}"
    );

    let (err, _) = error_for(Reply::json(200, json!({"choices": []}))).await;
    assert!(err.to_string().contains("no choices"), "{err}");

    let (err, _) = error_for(Reply::json(
        200,
        json!({"choices": [{"index": 0, "message": {"content": null}}]}),
    ))
    .await;
    assert!(err.to_string().contains("no content"), "{err}");

    let (err, _) = error_for(Reply::json(200, json!({"choices": [{"index": 0, "message": {"content": ""}, "finish_reason": "content_filter",
        "content_filter_results": {"self_harm": {"filtered": true}}}]}))).await;
    assert!(
        err.to_string()
            .starts_with("the content filter blocked the answer"),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(": self_harm; rephrase it"),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_hosts_are_network_errors_naming_the_host() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let endpoint = Endpoint::OpenAi {
        base_url: Url::parse(&format!("http://127.0.0.1:{port}/v1")).unwrap(),
        organization: None,
    };
    let key = ApiKey::new(KEY);
    let policy = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let err = client(policy)
        .chat(&call(&endpoint, &key), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(err, InferenceError::Network { ref host, .. } if host == "127.0.0.1"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("check the endpoint URL and your network")
    );
}

async fn retried(
    replies: Vec<Reply>,
    policy: RetryPolicy,
) -> (
    Result<String, InferenceError>,
    Vec<ClientEvent>,
    usize,
    Duration,
) {
    let server = Server::start(replies).await;
    let endpoint = foundry(&server);
    let key = ApiKey::new(KEY);
    let (events, mut received) = mpsc::unbounded_channel();
    let mut call = call(&endpoint, &key);
    call.events = Some(events);
    let started = Instant::now();
    let result = client(policy)
        .chat(&call, &request())
        .await
        .map(|reply| reply.text);
    let elapsed = started.elapsed();
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (result, seen, server.requests().len(), elapsed)
}

fn throttled() -> Reply {
    Reply::json(
        429,
        json!({"error": {"code": "429", "message": "Rate limit reached"}}),
    )
}

#[tokio::test]
async fn each_retry_after_header_is_honoured() {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    for (name, value, at_least) in [
        ("retry-after-ms", "300".to_owned(), 290),
        ("x-ms-retry-after-ms", "300".to_owned(), 290),
        ("retry-after", "1".to_owned(), 990),
        ("retry-after", date, 1),
    ] {
        let (result, events, requests, elapsed) = retried(
            vec![
                throttled().with_header(name, &value),
                Reply::json(200, answer("ok")),
            ],
            RetryPolicy::default(),
        )
        .await;
        assert_eq!(result.unwrap(), "ok", "{name}");
        assert_eq!(requests, 2, "{name}");
        assert!(
            elapsed >= Duration::from_millis(at_least),
            "{name}: {elapsed:?}"
        );
        match &events[..] {
            [
                event @ ClientEvent::Retrying {
                    attempt: 1, of: 8, ..
                },
            ] => {
                assert!(
                    event.to_string().starts_with("throttled, retrying in "),
                    "{event}"
                );
                assert!(event.to_string().ends_with("(attempt 1/8)"), "{event}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn transient_failures_are_retried_and_others_are_not() {
    let transient = [408, 500, 502, 503, 504]
        .map(|status| Reply::json(status, json!({"error": {"message": "x"}})));
    let mut replies: Vec<Reply> = transient.to_vec();
    replies.push(Reply::Drop); // no response byte at all
    replies.push(Reply::json(200, answer("finally")));
    let (result, events, requests, _) = retried(replies, fast_retries()).await;
    assert_eq!(result.unwrap(), "finally");
    assert_eq!((requests, events.len()), (7, 6));

    for status in [400, 401, 403, 404, 422] {
        let (result, events, requests, _) = retried(
            vec![
                Reply::json(status, json!({"error": {"message": "no"}})),
                Reply::json(200, answer("never")),
            ],
            fast_retries(),
        )
        .await;
        assert!(result.is_err(), "{status}");
        assert_eq!((requests, events.len()), (1, 0), "{status} was retried");
    }
    let filtered = Reply::json(
        400,
        json!({"error": {"code": "content_filter", "message": "f"}}),
    );
    let (result, _, requests, _) = retried(
        vec![filtered, Reply::json(200, answer("never"))],
        fast_retries(),
    )
    .await;
    assert!(matches!(
        result,
        Err(InferenceError::ContentFiltered { .. })
    ));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn retries_stop_at_the_count_and_at_the_time_budget() {
    let (result, events, requests, _) =
        retried((0..12).map(|_| throttled()).collect(), fast_retries()).await;
    assert!(matches!(result, Err(InferenceError::RateLimited { .. })));
    assert_eq!((requests, events.len()), (9, 8));

    // A wait longer than the budget left fails at once, saying when to try again.
    let (result, events, requests, elapsed) = retried(
        vec![
            throttled().with_header("retry-after", "120"),
            Reply::json(200, answer("late")),
        ],
        RetryPolicy::default(),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("try again in 120 s"), "{err}");
    assert_eq!((requests, events.len()), (1, 0));
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");

    let budget = RetryPolicy {
        budget: Duration::from_millis(400),
        ..RetryPolicy::default()
    };
    let (result, _, requests, elapsed) = retried(
        (0..5)
            .map(|_| throttled().with_header("retry-after-ms", "150"))
            .collect(),
        budget,
    )
    .await;
    assert!(result.is_err());
    assert!(requests <= 3, "{requests} requests within a 400 ms budget");
    assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");
}

#[tokio::test]
async fn cancelling_ends_a_backoff_wait_within_100_ms() {
    let server = Server::start(vec![
        throttled().with_header("retry-after", "10"),
        Reply::json(200, answer("no")),
    ])
    .await;
    let endpoint = foundry(&server);
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let client = client(RetryPolicy::default());
    let task = tokio::spawn(async move {
        let key = ApiKey::new(KEY);
        let call = Call {
            cancel: token,
            ..call(&endpoint, &key)
        };
        let started = Instant::now();
        let result = client.chat(&call, &request()).await;
        (result, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, _) = task.await.unwrap();
    let reaction = cancelled_at.elapsed();
    assert!(
        matches!(result, Err(InferenceError::Cancelled { .. })),
        "{result:?}"
    );
    assert!(reaction < Duration::from_millis(100), "took {reaction:?}");
}

fn stream_parts(texts: &[&str]) -> Vec<(Duration, String)> {
    texts
        .iter()
        .map(|text| {
            (
                Duration::ZERO,
                format!(
                    "data: {}\n\n",
                    json!({"choices": [{"index": 0, "delta": {"content": text}}]})
                ),
            )
        })
        .collect()
}

async fn streamed(
    reply: Reply,
    timeouts: Timeouts,
    cancel_after: Option<Duration>,
) -> (Result<String, InferenceError>, usize, Duration) {
    let server = Server::start(vec![reply, Reply::json(200, answer("retried"))]).await;
    let endpoint = foundry(&server);
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let client = Client::new(timeouts, fast_retries()).unwrap();
    let task = tokio::spawn(async move {
        let key = ApiKey::new(KEY);
        let call = Call {
            cancel: token,
            ..call(&endpoint, &key)
        };
        client.chat_stream(&call, &request()).await.map(|r| r.text)
    });
    let mut reaction = Duration::ZERO;
    if let Some(after) = cancel_after {
        tokio::time::sleep(after).await;
        let at = Instant::now();
        cancel.cancel();
        let result = task.await.unwrap();
        reaction = at.elapsed();
        return (result, server.requests().len(), reaction);
    }
    let result = task.await.unwrap();
    (result, server.requests().len(), reaction)
}

#[tokio::test]
async fn a_reset_after_tokens_keeps_the_partial_text_and_is_not_retried() {
    let reply = Reply::Stream {
        parts: stream_parts(&["Hel", "lo"]),
        end: End::Reset,
    };
    let (result, requests, _) = streamed(reply, Timeouts::default(), None).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, InferenceError::Interrupted { ref partial, .. } if partial == "Hello"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the answer broke off after 5 characters"),
        "{err}"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn cancelling_a_stream_keeps_what_arrived_within_100_ms() {
    let reply = Reply::Stream {
        parts: stream_parts(&["partial"]),
        end: End::Stall,
    };
    let (result, _, reaction) =
        streamed(reply, Timeouts::default(), Some(Duration::from_millis(300))).await;
    assert!(
        matches!(result, Err(InferenceError::Cancelled { ref partial }) if partial == "partial"),
        "{result:?}"
    );
    assert!(reaction < Duration::from_millis(100), "took {reaction:?}");
}

#[tokio::test]
async fn first_byte_and_idle_timeouts_fire() {
    let short = Timeouts {
        first_byte: Duration::from_millis(200),
        idle: Duration::from_millis(200),
        ..Timeouts::default()
    };
    let server = Server::start(vec![Reply::Silence]).await;
    let endpoint = foundry(&server);
    let key = ApiKey::new(KEY);
    let policy = RetryPolicy {
        max_retries: 0,
        ..RetryPolicy::default()
    };
    let err = Client::new(short, policy)
        .unwrap()
        .chat(&call(&endpoint, &key), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            InferenceError::Timeout {
                phase: TimeoutPhase::FirstByte,
                ..
            }
        ),
        "{err:?}"
    );

    let reply = Reply::Stream {
        parts: stream_parts(&["slow"]),
        end: End::Stall,
    };
    let (result, requests, _) = streamed(reply, short, None).await;
    let err = result.unwrap_err();
    assert_eq!(err.partial_text(), Some("slow"));
    assert!(
        err.to_string()
            .contains("waiting for the next part of the stream"),
        "{err}"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn embeddings_come_back_in_input_order() {
    let server = Server::start(vec![Reply::json(
        200,
        json!({
            "data": [{"index": 1, "embedding": [0.5, 0.25]}, {"index": 0, "embedding": [1.0, 0.0]}],
            "model": "text-embedding-3-small", "usage": {"prompt_tokens": 4, "total_tokens": 4}
        }),
    )])
    .await;
    let endpoint = foundry(&server);
    let key = ApiKey::new(KEY);
    let mut call = call(&endpoint, &key);
    call.deployment = Some("text-embedding-3-small");
    let request = EmbeddingsRequest {
        input: vec!["a".into(), "b".into()],
        dimensions: None,
    };
    let reply = client(RetryPolicy::default())
        .embeddings(&call, &request)
        .await
        .unwrap();
    assert_eq!(reply.vectors, [vec![1.0, 0.0], vec![0.5, 0.25]]);
    let sent = &server.requests()[0];
    assert_eq!(
        sent.target,
        "/models/embeddings?api-version=2024-05-01-preview"
    );
    assert_eq!(
        sent.json(),
        json!({"input": ["a", "b"], "model": "text-embedding-3-small"})
    );
}

#[tokio::test]
async fn info_is_a_get_without_a_body() {
    let server = Server::start(vec![Reply::json(
        200,
        json!({"model_name": "Meta-Llama-3-8B", "model_type": "chat-completion"}),
    )])
    .await;
    let endpoint = Endpoint::Serverless {
        api_base: Url::parse(&server.base).unwrap(),
        api_version: "2024-05-01-preview".into(),
    };
    let key = ApiKey::new(KEY);
    let info = client(RetryPolicy::default())
        .info(&call(&endpoint, &key))
        .await
        .unwrap();
    assert_eq!(info["model_name"], "Meta-Llama-3-8B");
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.target.as_str()),
        ("GET", "/info?api-version=2024-05-01-preview")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}
