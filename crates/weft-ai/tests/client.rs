//! The client against a scripted server on 127.0.0.1: exact wire shapes per style, streaming,
//! every error class, every retry rule, timeouts and cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{End, Reply, Server, plain_http_port};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{
    AZURE_OPENAI_API_VERSION, ApiKey, Call, ChatRequest, Client, ClientEvent, Credential,
    EmbeddingsRequest, Endpoint, FinishReason, InferenceError, Limits, MODEL_INFERENCE_API_VERSION,
    Message, RetryPolicy, Role, TimeoutPhase, Timeouts,
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
    Endpoint::ModelInference {
        endpoint: Url::parse(&format!("{}/models", server.base)).unwrap(),
        api_version: MODEL_INFERENCE_API_VERSION.into(),
    }
}

fn call<'a>(endpoint: &'a Endpoint, key: &'a Credential) -> Call<'a> {
    Call {
        endpoint,
        credential: key,
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
                api_version: AZURE_OPENAI_API_VERSION.into(),
            },
            "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
            "api-key",
            None,
            "max_completion_tokens",
        ),
        (
            Endpoint::AzureV1 {
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
                api_version: MODEL_INFERENCE_API_VERSION.into(),
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
    let key = Credential::Key(ApiKey::new(KEY));
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
    let endpoint = Endpoint::AzureV1 {
        base: Url::parse(&format!("{}/openai/v1", server.base)).unwrap(),
    };
    let key = Credential::Key(ApiKey::new(KEY));
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
    let key = Credential::Key(ApiKey::new(KEY));
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
    let key = Credential::Key(ApiKey::new(KEY));
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
    let key = Credential::Key(ApiKey::new(KEY));
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
        let key = Credential::Key(ApiKey::new(KEY));
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
        let key = Credential::Key(ApiKey::new(KEY));
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
        err.to_string().starts_with(
            "the answer broke off after 5 characters: could not reach 127.0.0.1: the stream failed"
        ),
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
    let key = Credential::Key(ApiKey::new(KEY));
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
    let key = Credential::Key(ApiKey::new(KEY));
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
        api_version: MODEL_INFERENCE_API_VERSION.into(),
    };
    let key = Credential::Key(ApiKey::new(KEY));
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

#[tokio::test]
async fn a_redirect_is_never_followed_and_the_other_host_sees_nothing() {
    for status in [307, 302] {
        let other = Server::start(vec![Reply::json(200, answer("stolen"))]).await;
        let server = Server::start(vec![
            Reply::json(status, json!({}))
                .with_header("location", &format!("{}/collect", other.base)),
        ])
        .await;
        let endpoint = Endpoint::AzureOpenAi {
            resource: Url::parse(&server.base).unwrap(),
            deployment: Some("gpt-4o".into()),
            api_version: AZURE_OPENAI_API_VERSION.into(),
        };
        let key = Credential::Key(ApiKey::new(KEY));
        let err = client(fast_retries())
            .chat(&call(&endpoint, &key), &request())
            .await
            .unwrap_err();
        assert!(
            matches!(err, InferenceError::Redirected { status: s, .. } if s == status),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "the endpoint redirected (HTTP {status}) to {}/collect; use the final URL in the connection",
                other.base
            )
        );
        assert_eq!(
            other.connections(),
            0,
            "{status}: the other host was contacted"
        );
        assert_eq!(server.requests().len(), 1, "{status} was retried");
    }
}

#[tokio::test]
async fn absurd_retry_after_values_are_a_rate_limit_error_at_once() {
    for (name, value) in [("retry-after", "1e20"), ("retry-after-ms", "1e300")] {
        let (result, events, requests, _) = retried(
            vec![
                throttled().with_header(name, value),
                Reply::json(200, answer("late")),
            ],
            RetryPolicy::default(),
        )
        .await;
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                InferenceError::RateLimited {
                    retry_after: Some(_),
                    ..
                }
            ),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("try again in 86400 s"), "{err}");
        assert_eq!((requests, events.len()), (1, 0), "{name}");
    }
}

fn tool_call_delta(index: u64) -> serde_json::Value {
    json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": index, "id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    ]}}]})
}

#[tokio::test]
async fn a_tool_call_index_from_the_server_cannot_make_it_allocate() {
    let (result, requests, _) = streamed(
        Reply::sse(&[tool_call_delta(u64::from(u32::MAX))]),
        Timeouts::default(),
        None,
    )
    .await;
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .contains("a tool call numbered 4294967295, but at most 128 are supported"),
        "{err}"
    );
    assert_eq!(requests, 1);

    // Indices below the cap still assemble.
    let server = Server::start(vec![Reply::sse(&[
        tool_call_delta(1),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ])])
    .await;
    let endpoint = foundry(&server);
    let key = Credential::Key(ApiKey::new(KEY));
    let reply = client(RetryPolicy::default())
        .chat_stream(&call(&endpoint, &key), &request())
        .await
        .unwrap();
    assert_eq!(reply.tool_calls.len(), 2);
    assert_eq!(
        (
            reply.tool_calls[1].name.as_str(),
            reply.tool_calls[1].arguments.as_str()
        ),
        ("lookup", "{}")
    );
}

/// The answer to one non-streamed chat against `reply`, with the default limits unless given.
async fn whole_answer(reply: Reply, limits: Limits) -> (Result<String, InferenceError>, usize) {
    let server = Server::start(vec![reply, Reply::json(200, answer("retried"))]).await;
    let endpoint = foundry(&server);
    let key = Credential::Key(ApiKey::new(KEY));
    let result = client(fast_retries())
        .with_limits(limits)
        .chat(&call(&endpoint, &key), &request())
        .await
        .map(|reply| reply.text);
    (result, server.requests().len())
}

#[tokio::test]
async fn a_100_mb_body_stops_at_the_limit() {
    let flood = Reply::Flood {
        content_type: "application/json",
        prefix: r#"{"choices": [{"index": 0, "message": {"content": ""#.into(),
        total: 100_000_000,
    };
    let (result, requests) = whole_answer(flood, Limits::default()).await;
    let err = result.unwrap_err();
    assert!(matches!(err, InferenceError::TooLarge { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the answer is larger than 32 MiB; check that the endpoint URL points at an inference API"
    );
    assert_eq!(requests, 1, "a body over the limit was retried");
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_before_reading() {
    let big = Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: "x".repeat(2000),
    };
    let limits = Limits {
        body: 1000,
        ..Limits::default()
    };
    let (result, _) = whole_answer(big, limits).await;
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the answer is larger than 1000 bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn a_50_mb_stream_line_stops_at_the_limit() {
    let flood = Reply::Flood {
        content_type: "text/event-stream",
        prefix: "data: ".into(),
        total: 50_000_000,
    };
    let (result, requests, _) = streamed(flood, Timeouts::default(), None).await;
    let err = result.unwrap_err();
    assert!(matches!(err, InferenceError::TooLarge { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the line of the stream is larger than 8 MiB; check that the endpoint URL points at an inference API"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_reset_inside_a_whole_body_is_retried() {
    let body = answer("whole").to_string();
    let truncated = Reply::Truncated {
        status: 200,
        sent: body.len() / 2,
        body,
    };
    let (result, events, requests, _) = retried(
        vec![truncated, Reply::json(200, answer("whole"))],
        fast_retries(),
    )
    .await;
    assert_eq!(result.unwrap(), "whole");
    assert_eq!(requests, 2);
    match &events[..] {
        [event @ ClientEvent::Retrying { attempt: 1, .. }] => {
            assert!(
                event
                    .to_string()
                    .starts_with("the connection failed, retrying"),
                "{event}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_tls_handshake_failure_is_reported_at_once() {
    let (port, connections) = plain_http_port().await;
    let endpoint = Endpoint::ModelInference {
        endpoint: Url::parse(&format!("https://127.0.0.1:{port}/models")).unwrap(),
        api_version: MODEL_INFERENCE_API_VERSION.into(),
    };
    let key = Credential::Key(ApiKey::new(KEY));
    let err = client(fast_retries())
        .chat(&call(&endpoint, &key), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(err, InferenceError::Tls { ref host, .. } if host == "127.0.0.1"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the secure connection to 127.0.0.1 failed: "),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("https:// to a plain-http server fails like this"),
        "{err}"
    );
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the handshake was retried"
    );
}

#[tokio::test]
async fn a_stream_may_end_without_a_last_line_end_or_without_done() {
    let mut parts = stream_parts(&["Hi"]);
    parts.push((Duration::ZERO, "data: [DONE]".into()));
    let without_newline = Reply::Stream {
        parts,
        end: End::Clean,
    };
    let (result, _, _) = streamed(without_newline, Timeouts::default(), None).await;
    assert_eq!(result.unwrap(), "Hi");

    let mut parts = stream_parts(&["Bye"]);
    parts.push((
        Duration::ZERO,
        format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        ),
    ));
    let without_done = Reply::Stream {
        parts,
        end: End::Clean,
    };
    let (result, _, _) = streamed(without_done, Timeouts::default(), None).await;
    assert_eq!(result.unwrap(), "Bye");
}

/// The error for one call with `key` against `reply`.
async fn error_with_key(reply: Reply, key: &str) -> InferenceError {
    let server = Server::start(vec![reply]).await;
    let endpoint = foundry(&server);
    let key = Credential::Key(ApiKey::new(key));
    client(fast_retries())
        .chat(&call(&endpoint, &key), &request())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn an_error_body_that_echoes_the_key_never_shows_it() {
    let key = "sk-echo-0123456789abcdefghijklmnop";
    let slashed = "sk/echo/0123456789abcdefghijklmnop";
    let plain = |status: u16, body: String| Reply::Full {
        status,
        headers: vec![("content-type".into(), "text/plain".into())],
        body,
    };
    let cases = [
        (
            key,
            Reply::json(
                401,
                json!({"error": {"code": "401", "message": format!("key {key} is not valid for this resource")}}),
            ),
        ),
        // The key straddles the 300-character cut: cut first, masked after, a prefix would stay.
        (
            key,
            plain(400, format!("{}{key} rejected", "x".repeat(290))),
        ),
        // As JSON writes a `/` when it escapes slashes, in a body of no known shape.
        (
            slashed,
            plain(
                400,
                format!(r#"{{"detail": "bad key {}"}}"#, slashed.replace('/', "\\/")),
            ),
        ),
    ];
    for (key, reply) in cases {
        let text = error_with_key(reply, key).await.to_string();
        let escaped = key.replace('/', "\\/");
        for secret in [key, &key[..8], &escaped, &escaped[..8]] {
            assert!(!text.contains(secret), "`{secret}` leaked: {text}");
        }
        assert!(text.contains("******"), "{text}");
    }

    // A message is cut however it arrives, JSON or not.
    let long = "y".repeat(1000);
    let text = error_with_key(Reply::json(400, json!({"error": {"message": long}})), key)
        .await
        .to_string();
    assert!(text.ends_with(&format!(": {}…", "y".repeat(300))), "{text}");
}

#[tokio::test]
async fn a_whole_body_that_stalls_is_retried() {
    let stall = Reply::Stream {
        parts: vec![(Duration::ZERO, r#"{"choices": ["#.into())],
        end: End::Stall,
    };
    let server = Server::start(vec![stall, Reply::json(200, answer("after the stall"))]).await;
    let endpoint = foundry(&server);
    let key = Credential::Key(ApiKey::new(KEY));
    let short = Timeouts {
        idle: Duration::from_millis(200),
        ..Timeouts::default()
    };
    let reply = Client::new(short, fast_retries())
        .unwrap()
        .chat(&call(&endpoint, &key), &request())
        .await
        .unwrap();
    assert_eq!(reply.text, "after the stall");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn the_text_a_stream_assembles_is_capped() {
    let server = Server::start(vec![Reply::Stream {
        parts: stream_parts(&["0123456789", "0123456789"]),
        end: End::Stall,
    }])
    .await;
    let endpoint = foundry(&server);
    let key = Credential::Key(ApiKey::new(KEY));
    let limits = Limits {
        body: 15,
        ..Limits::default()
    };
    let err = client(fast_retries())
        .with_limits(limits)
        .chat_stream(&call(&endpoint, &key), &request())
        .await
        .unwrap_err();
    assert_eq!(err.partial_text(), Some("0123456789"));
    assert!(
        err.to_string()
            .ends_with(": the streamed answer is larger than 15 bytes; check that the endpoint URL points at an inference API"),
        "{err}"
    );
}
