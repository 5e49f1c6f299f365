//! A chat endpoint on 127.0.0.1 that behaves like a throttled Azure OpenAI deployment: every
//! answer takes `latency`, and beyond `max_in_flight` requests at once it answers 429 at once,
//! in Azure's error shape, as a deployment past its rate limit does. It counts what it saw, so a
//! test or a benchmark can tell how hard the client pushed.
//!
//! Shapes, from the published contracts:
//! - chat completions: `POST …/chat/completions` (the v1 route or a deployment URL), answered
//!   as Azure does, whole or streamed (`"stream": true`) with the same events as
//!   [`crate::chat_stream`] (https://learn.microsoft.com/azure/ai-foundry/openai/reference).
//! - a 429: `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation
//!   under Azure OpenAI API version … have exceeded call rate limit of your current … pricing
//!   tier. Please retry after N seconds. …"}}`, the text Azure sends (quoted in
//!   https://github.com/langchain-ai/langchain/issues/12986 and
//!   https://github.com/jasonacox/TinyLLM/issues/17). `retry-after-ms`, the header Azure adds
//!   (Azure/azure-openai-benchmark, benchmark/oairequester.py), only when the fake is told to.
//! - `GET /stats`: not Azure's; the fake's counters as JSON, for scripts.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::azure::parse;
use crate::{Reply, chat_stream, content, read_request};

/// What the fake does: how long each answer takes, how many requests it admits at once (None:
/// all), and the `retry-after-ms` its 429s carry (None: no header).
#[derive(Debug, Clone)]
pub struct LimitedChat {
    pub latency: Duration,
    pub max_in_flight: Option<usize>,
    pub retry_after_ms: Option<u64>,
}

impl LimitedChat {
    pub fn new(latency: Duration) -> Self {
        Self {
            latency,
            max_in_flight: None,
            retry_after_ms: None,
        }
    }

    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = Some(max);
        self
    }

    pub fn retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// Serves on 127.0.0.1, a thread per connection (kept alive), until the process ends.
    pub fn start(self) -> LimitedFake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            setup: self,
            started: Instant::now(),
            counters: Counters::default(),
            arrivals: Mutex::new(Vec::new()),
        });
        let serving = shared.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming().flatten() {
                let shared = serving.clone();
                std::thread::spawn(move || serve(&shared, socket));
            }
        });
        LimitedFake { base, shared }
    }
}

/// One chat request as it reached the fake: when, and whether it was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Since the fake started.
    pub at: Duration,
    pub throttled: bool,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    throttled: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    /// Wall-clock time of the first chat request (ms since the Unix epoch), so a script can
    /// measure a client's time from its start to its first request from another process.
    first_request_unix_ms: OnceLock<u64>,
}

struct Shared {
    setup: LimitedChat,
    started: Instant,
    counters: Counters,
    arrivals: Mutex<Vec<Arrival>>,
}

/// A running [`LimitedChat`]: `base` is its URL, as `https://<resource>.openai.azure.com`.
pub struct LimitedFake {
    pub base: String,
    shared: Arc<Shared>,
}

impl LimitedFake {
    /// Chat requests received, refused ones included.
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// Requests answered 429.
    pub fn throttled(&self) -> u64 {
        self.shared.counters.throttled.load(Ordering::SeqCst)
    }

    /// The most requests that were at the fake at once, counting each refused one for the
    /// moment it was there: what the client sent concurrently, not only what was admitted.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.counters.peak_in_flight.load(Ordering::SeqCst)
    }

    /// Every chat request so far, in the order they came.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.arrivals.lock().unwrap().clone()
    }

    /// How long the fake has been running: the clock [`Arrival::at`] reads.
    pub fn elapsed(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// The counters as `GET /stats` gives them.
    pub fn stats(&self) -> Value {
        stats(&self.shared.counters)
    }
}

fn stats(counters: &Counters) -> Value {
    json!({
        "requests": counters.requests.load(Ordering::SeqCst),
        "throttled": counters.throttled.load(Ordering::SeqCst),
        "peak_in_flight": counters.peak_in_flight.load(Ordering::SeqCst),
        "first_request_unix_ms": counters.first_request_unix_ms.get(),
    })
}

fn serve(shared: &Shared, socket: TcpStream) {
    let _ = socket.set_nodelay(true);
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let mut socket = socket;
    while let Some(received) = read_request(&mut reader) {
        let request = parse(&received.head, received.body);
        let path = request.path().trim_end_matches('/');
        let (status, headers, reply) = if request.method == "GET" && path == "/stats" {
            (
                200,
                String::new(),
                Reply::Json(200, stats(&shared.counters)),
            )
        } else if request.method == "POST" && path.ends_with("/chat/completions") {
            chat(
                shared,
                &serde_json::from_str(&request.body).unwrap_or(Value::Null),
            )
        } else {
            (
                404,
                String::new(),
                Reply::Json(
                    404,
                    json!({"error": {"code": "404", "message": "Resource not found"}}),
                ),
            )
        };
        let Some((kind, body)) = content(&reply) else {
            return;
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n{headers}\r\n",
            match status {
                200 => "OK",
                404 => "Not Found",
                _ => "Too Many Requests",
            },
            body.len()
        );
        if socket.write_all((head + &body).as_bytes()).is_err() {
            return;
        }
    }
}

/// One chat request: refused at once past the in-flight limit, else answered after the latency.
/// Returns the status, extra header lines and the reply.
fn chat(shared: &Shared, body: &Value) -> (u16, String, Reply) {
    let counters = &shared.counters;
    counters.first_request_unix_ms.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            })
    });
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counters.peak_in_flight.fetch_max(now, Ordering::SeqCst);
    let throttled = shared.setup.max_in_flight.is_some_and(|max| now > max);
    shared.arrivals.lock().unwrap().push(Arrival {
        at: shared.started.elapsed(),
        throttled,
    });
    if throttled {
        counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        counters.throttled.fetch_add(1, Ordering::SeqCst);
        let wait_s = shared
            .setup
            .retry_after_ms
            .map_or(1, |ms| ms.div_ceil(1000));
        let headers = shared
            .setup
            .retry_after_ms
            .map(|ms| format!("retry-after-ms: {ms}\r\n"))
            .unwrap_or_default();
        let message = format!(
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after {wait_s} second{}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
            if wait_s == 1 { "" } else { "s" }
        );
        return (
            429,
            headers,
            Reply::Json(429, json!({"error": {"code": "429", "message": message}})),
        );
    }
    std::thread::sleep(shared.setup.latency);
    // Out of flight before the answer leaves, so a client that sends its next request as soon
    // as this one is answered is never counted twice.
    counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    let model = body["model"].as_str().unwrap_or("gpt-4o-mini").to_owned();
    let reply = if body["stream"] == true {
        chat_stream(&["Hello ", "from ", &model])
    } else {
        Reply::Json(
            200,
            json!({
                "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("Hello from {model}")}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
            }),
        )
    };
    (200, String::new(), reply)
}
