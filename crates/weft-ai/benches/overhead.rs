//! Client overhead per call (build request, send, parse) against a zero-latency keep-alive
//! server on 127.0.0.1 in the same process. Wall time per call, server included, so it bounds
//! the client's own CPU cost from above. Run: cargo bench -p weft-ai
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{
    ApiKey, Call, ChatRequest, Client, Credential, Endpoint, MODEL_INFERENCE_API_VERSION, Message,
    RetryPolicy, Role, Timeouts,
};

fn main() {
    divan::main();
}

const ANSWER: &str = r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28}}"#;

fn stream_body() -> String {
    let mut body = String::from("data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n");
    for word in ["The ", "capital ", "of ", "France ", "is ", "Paris", "."] {
        body += &format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}}}}]}}\n\n"
        );
    }
    body += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    body += "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":8,\"total_tokens\":28}}\n\ndata: [DONE]\n\n";
    body
}

/// Answers every request on a connection at once, keeping the connection open.
async fn serve(stream: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/models", listener.local_addr().unwrap());
    let (kind, body) = if stream {
        ("text/event-stream", stream_body())
    } else {
        ("application/json", ANSWER.to_owned())
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut pending = Vec::new();
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    // One request = headers + content-length body; answer each complete one.
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if pending.len() < end + 4 + length {
                            break;
                        }
                        pending.drain(..end + 4 + length);
                        if socket.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    base
}

fn setup(stream: bool) -> (Runtime, Client, Endpoint) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(serve(stream));
    let endpoint = Endpoint::ModelInference {
        endpoint: Url::parse(&base).unwrap(),
        api_version: MODEL_INFERENCE_API_VERSION.into(),
    };
    let client = Client::new(Timeouts::default(), RetryPolicy::default()).unwrap();
    (runtime, client, endpoint)
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::new(Role::System, "Answer in one sentence."),
            Message::new(Role::User, "What is the capital of France?"),
        ],
        temperature: Some(0.0),
        max_tokens: Some(64),
        ..ChatRequest::default()
    }
}

#[divan::bench(sample_count = 2000)]
fn chat(bencher: divan::Bencher) {
    let (runtime, client, endpoint) = setup(false);
    let key = Credential::Key(ApiKey::new("bench-key"));
    let call = Call {
        endpoint: &endpoint,
        credential: &key,
        deployment: Some("gpt-4o-mini"),
        cancel: CancellationToken::new(),
        events: None,
    };
    let request = request();
    runtime.block_on(client.chat(&call, &request)).unwrap(); // warm the connection
    bencher.bench_local(|| runtime.block_on(client.chat(&call, &request)).unwrap());
}

#[divan::bench(sample_count = 2000)]
fn chat_stream(bencher: divan::Bencher) {
    let (runtime, client, endpoint) = setup(true);
    let key = Credential::Key(ApiKey::new("bench-key"));
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let call = Call {
        endpoint: &endpoint,
        credential: &key,
        deployment: Some("gpt-4o-mini"),
        cancel: CancellationToken::new(),
        events: Some(events),
    };
    let request = request();
    runtime
        .block_on(client.chat_stream(&call, &request))
        .unwrap();
    bencher.bench_local(|| {
        let reply = runtime
            .block_on(client.chat_stream(&call, &request))
            .unwrap();
        while received.try_recv().is_ok() {}
        reply
    });
}
