//! Test helpers shared by Weft's crates: a model endpoint on 127.0.0.1 that answers each request
//! with the next scripted reply and records what it was sent. Never anything but loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

mod azure;
mod batch_api;
mod content_safety;
mod dynamic_key;
mod limited;
mod pf_store;
mod search;
mod serp;
mod service;
mod stored;
pub use azure::{AzureFake, AzureSetup, Recorded};
pub use batch_api::{BatchApiFake, BatchApiSetup};
pub use content_safety::{
    CONTENT_SAFETY_API_VERSION, ContentSafetyFake, ContentSafetySetup, MAX_TEXT_CHARS,
};
pub use dynamic_key::{DYNAMIC_KEY, SOURCES, dynamic_key_flow};
pub use limited::{Arrival, LimitedChat, LimitedFake};
pub use pf_store::{PfConnection, pf_generate_key, write_pf_store};
pub use search::{SEARCH_API_VERSION, SearchFake, SearchSetup};
pub use serp::{SerpFake, SerpSetup};
pub use service::{Answer, Failure, HttpFake};
pub use stored::{holds, stored_bytes};

/// How the fake endpoint answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Json(u16, Value),
    /// A `text/event-stream` of these `data:` payloads, then `[DONE]`.
    Sse(Vec<Value>),
    /// Headers of a stream, then silence for this long (to test timeouts and cancellation).
    Stall(Duration),
}

/// One request as received: the head (request line and headers) and the body.
#[derive(Debug, Clone)]
pub struct Received {
    pub head: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Reads one HTTP/1.1 request; `None` when the client closed the connection or sent garbage.
fn read_request(reader: &mut impl BufRead) -> Option<Received> {
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The content type and body of a reply that answers at once (not a stall).
fn content(reply: &Reply) -> Option<(&'static str, String)> {
    match reply {
        Reply::Json(_, body) => Some(("application/json", body.to_string())),
        Reply::Sse(events) => Some((
            "text/event-stream",
            events
                .iter()
                .map(|e| format!("data: {e}\n\n"))
                .collect::<String>()
                + "data: [DONE]\n\n",
        )),
        Reply::Stall(_) => None,
    }
}

/// Answers one request with `reply` and closes the connection (a stall first waits).
fn write_reply(mut socket: TcpStream, reply: &Reply) {
    let Some((kind, body)) = content(reply) else {
        if let Reply::Stall(pause) = reply {
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
            std::thread::sleep(*pause);
        }
        return;
    };
    let status = match reply {
        Reply::Json(status, _) => *status,
        _ => 200,
    };
    let _ = socket.write_all(
        format!("HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
            .as_bytes(),
    );
}

pub struct FakeEndpoint {
    pub base: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl FakeEndpoint {
    /// Serves `replies` in order, one connection each, then stops accepting.
    pub fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for reply in replies {
                let Ok((socket, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let Some(received) = read_request(&mut reader) else {
                    return;
                };
                seen.lock().unwrap().push(received);
                write_reply(socket, &reply);
            }
        });
        Self { base, requests }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

/// A zero-latency endpoint for benchmarks: every request on every (keep-alive) connection gets
/// the same reply at once. Runs until the process ends.
pub fn serve_forever(reply: &Reply) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (kind, body) = content(reply).expect("serve_forever answers at once, it cannot stall");
    let response = Arc::new(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let response = response.clone();
            std::thread::spawn(move || {
                let _ = socket.set_nodelay(true);
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let mut socket = socket;
                while read_request(&mut reader).is_some() {
                    if socket.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}

/// A chat completion streamed as Azure does it, with a usage chunk at the end.
pub fn chat_stream(words: &[&str]) -> Reply {
    let mut events = vec![serde_json::json!({"choices": [], "prompt_filter_results": []})];
    events.extend(
        words
            .iter()
            .map(|w| serde_json::json!({"choices": [{"index": 0, "delta": {"content": w}}]})),
    );
    events
        .push(serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
    events.push(serde_json::json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}));
    Reply::Sse(events)
}
