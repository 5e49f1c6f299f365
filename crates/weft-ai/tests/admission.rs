//! A client built with an admission (a batch's client) against throttled endpoints on
//! 127.0.0.1: it keeps to a deployment's in-flight limit with few 429s, a `retry-after-ms`
//! holds back every call to that endpoint and no other, and a streamed answer holds its place
//! until it has been read or dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{
    Admission, ApiKey, Call, ChatRequest, Client, ClientEvent, Credential, Endpoint, Message,
    RetryPolicy, Role, Timeouts,
};
use weft_testkit::{Arrival, LimitedChat};

use support::{End, Reply, Server};

const DEPLOYMENT: &str = "gpt-4o-mini";

fn batch_client(admission: Admission) -> Client {
    Client::new(Timeouts::default(), RetryPolicy::default())
        .unwrap()
        .with_admission(admission)
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![Message::new(Role::User, "hi")],
        ..ChatRequest::default()
    }
}

fn v1(base: &str) -> Endpoint {
    Endpoint::azure_openai_v1(Url::parse(base).unwrap())
}

fn key() -> Credential {
    Credential::Key(ApiKey::new("batch-key-5e2a"))
}

fn call<'a>(endpoint: &'a Endpoint, credential: &'a Credential) -> Call<'a> {
    Call {
        endpoint,
        credential,
        deployment: Some(DEPLOYMENT),
        cancel: CancellationToken::new(),
        events: None,
    }
}

/// One chat to `endpoint`, streamed or not, that must succeed.
async fn chat(client: &Client, endpoint: &Endpoint, stream: bool) {
    let credential = key();
    let call = call(endpoint, &credential);
    let answer = if stream {
        client.chat_stream(&call, &request()).await
    } else {
        client.chat(&call, &request()).await
    };
    assert!(answer.unwrap().text.starts_with("Hello"));
}

/// Waits (up to 5 s) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(5), "never {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn throttled_seen(client: &Client, endpoint: &str) -> u64 {
    client
        .load()
        .iter()
        .find(|load| load.endpoint == endpoint)
        .map_or(0, |load| load.throttled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_client_keeps_to_a_deployments_in_flight_limit() {
    let (latency, max, calls) = (Duration::from_millis(50), 8, 200);
    let fake = LimitedChat::new(latency).max_in_flight(max).start();
    let client = batch_client(Admission::adaptive(4, 64));
    assert!(client.load().is_empty());
    let endpoint = v1(&fake.base);
    let started = Instant::now();
    join_all((0..calls).map(|i| chat(&client, &endpoint, i % 2 == 0))).await;
    let elapsed = started.elapsed();

    let ideal = latency * calls / max as u32;
    let share = fake.throttled() as f64 / fake.requests() as f64;
    let load = client.load();
    eprintln!(
        "{calls} calls in {elapsed:?} (ideal {ideal:?}, ratio {:.2}); {} requests, {} throttled ({:.1} %); peak in flight {}; {load:?}",
        ideal.as_secs_f64() / elapsed.as_secs_f64(),
        fake.requests(),
        fake.throttled(),
        share * 100.0,
        fake.peak_in_flight(),
    );
    assert!(
        fake.peak_in_flight() <= max + 2,
        "{}",
        fake.peak_in_flight()
    );
    assert!(share <= 0.10, "{share}");
    assert_eq!(load.len(), 1, "{load:?}");
    assert_eq!(load[0].endpoint, format!("{}/{DEPLOYMENT}", fake.base));
    assert!((6..=10).contains(&load[0].limit), "{load:?}");
    assert_eq!(load[0].in_flight, 0);
    assert_eq!(load[0].throttled, fake.throttled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_pauses_every_call_to_that_endpoint_and_no_other() {
    let paused = LimitedChat::new(Duration::from_millis(100))
        .max_in_flight(2)
        .retry_after_ms(300)
        .start();
    let free = LimitedChat::new(Duration::from_millis(10)).start();
    let client = batch_client(Admission::adaptive(4, 4));
    let (throttling, other) = (v1(&paused.base), v1(&free.base));
    let throttling_key = format!("{}/{DEPLOYMENT}", paused.base);

    // Three at once to a deployment that takes two: one is told to wait 300 ms.
    let first = join_all((0..3).map(|_| chat(&client, &throttling, false)));
    let after = async {
        until("saw the 429", || {
            throttled_seen(&client, &throttling_key) == 1
        })
        .await;
        let seen = Instant::now();
        let pause_left = client
            .load()
            .into_iter()
            .find(|load| load.endpoint == throttling_key)
            .unwrap()
            .paused_ms;
        assert!(pause_left > 0 && pause_left <= 300, "{pause_left}");
        // A new call to the paused endpoint waits; one to another endpoint does not.
        let held = chat(&client, &throttling, true);
        let elsewhere = async {
            chat(&client, &other, false).await;
            seen.elapsed()
        };
        let ((), elsewhere) = tokio::join!(held, elsewhere);
        assert!(
            elsewhere < Duration::from_millis(300),
            "the other endpoint waited {elsewhere:?}"
        );
    };
    tokio::join!(first, after);

    let arrivals = paused.arrivals();
    let refused: Vec<&Arrival> = arrivals.iter().filter(|a| a.throttled).collect();
    assert_eq!(refused.len(), 1, "{arrivals:?}");
    let at = refused[0].at;
    let during: Vec<&Arrival> = arrivals
        .iter()
        .filter(|a| a.at > at && a.at < at + Duration::from_millis(300))
        .collect();
    assert!(during.is_empty(), "requests during the pause: {arrivals:?}");
    // The throttled call's retry and the held call, both after the pause.
    assert_eq!(arrivals.len(), 5, "{arrivals:?}");
    let load = client.load();
    assert_eq!(load.len(), 2, "{load:?}");
    assert_eq!(load[0].throttled + load[1].throttled, 1, "{load:?}");
}

/// A stream whose first event comes at once and the rest over `spread`.
fn slow_stream(spread: Duration) -> Reply {
    let event = |text: &str| {
        format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": text}}]})
        )
    };
    Reply::Stream {
        parts: vec![
            (Duration::ZERO, event("Hello ")),
            (spread / 2, event("from ")),
            (spread / 2, event("a stream")),
            (
                Duration::ZERO,
                format!(
                    "data: {}\n\ndata: [DONE]\n\n",
                    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                ),
            ),
        ],
        end: End::Clean,
    }
}

/// Starts `stream` (a streamed chat whose events go to the returned receiver's sender) and
/// waits for its first piece of text: the head has come, the stream is being read.
async fn first_delta(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<ClientEvent>,
    streaming: &mut (impl Future + Unpin),
) {
    tokio::select! {
        event = events.recv() => assert!(matches!(event, Some(ClientEvent::Delta(_)))),
        _ = streaming => panic!("the stream ended before its first event was seen"),
    }
}

#[tokio::test]
async fn a_stream_holds_its_place_until_read_or_dropped() {
    let server = Server::start(vec![
        slow_stream(Duration::from_millis(300)),
        Reply::json(
            200,
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, second"}, "finish_reason": "stop"}]}),
        ),
        slow_stream(Duration::from_secs(20)),
        Reply::json(
            200,
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello, fourth"}, "finish_reason": "stop"}]}),
        ),
    ])
    .await;
    let client = batch_client(Admission::adaptive(1, 1));
    let endpoint = v1(&server.base);
    let credential = key();
    let request = request();

    // Read to the end: the next call goes once the stream is done, not when its head came.
    let (sender, mut events) = unbounded_channel();
    let streamed = Call {
        events: Some(sender),
        ..call(&endpoint, &credential)
    };
    let mut streaming = Box::pin(client.chat_stream(&streamed, &request));
    first_delta(&mut events, &mut streaming).await;
    let next = chat(&client, &endpoint, false);
    tokio::pin!(next);
    let waited = tokio::time::timeout(Duration::from_millis(100), &mut next).await;
    assert!(
        waited.is_err(),
        "the second call went while the stream was read"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(client.load()[0].in_flight, 1);
    let (answer, ()) = tokio::join!(streaming, next);
    assert_eq!(answer.unwrap().text, "Hello from a stream");
    assert_eq!(server.requests().len(), 2);

    // Dropped mid-stream: its place is free at once.
    let (sender, mut events) = unbounded_channel();
    let streamed = Call {
        events: Some(sender),
        ..call(&endpoint, &credential)
    };
    let mut streaming = Box::pin(client.chat_stream(&streamed, &request));
    first_delta(&mut events, &mut streaming).await;
    drop(streaming);
    tokio::time::timeout(Duration::from_secs(2), chat(&client, &endpoint, false))
        .await
        .expect("the dropped stream gave its place back");
    assert_eq!(client.load()[0].in_flight, 0);
}
