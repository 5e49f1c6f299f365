//! What the client tests share: a scripted HTTP/1.1 server on 127.0.0.1 that records each
//! request and answers with the next scripted reply, including the ways real endpoints misbehave
//! (stalls, resets mid-stream); and the client the service tests send with.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use weft_ai::{Client, RetryPolicy, Timeouts};

/// The same request record the project's other fakes keep.
pub use weft_testkit::Recorded;

/// A client that retries twice after a few milliseconds, so a test of retries stays fast.
pub fn client() -> Client {
    Client::new(
        Timeouts::default(),
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    )
    .unwrap()
}

#[derive(Debug, Clone)]
pub enum Reply {
    /// A whole response.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A chunked response: each part after its delay, then a clean end, a reset, or a stall.
    Stream {
        parts: Vec<(Duration, String)>,
        end: End,
    },
    /// Headers promising `body`, then only its first `sent` bytes, then a reset.
    Truncated {
        status: u16,
        body: String,
        sent: usize,
    },
    /// A chunked 200 of `content_type`: `prefix`, then `x` until `total` bytes have gone, then a
    /// clean end; written from one small buffer, so the server itself stays small.
    Flood {
        content_type: &'static str,
        prefix: String,
        total: usize,
    },
    /// Accept and never answer.
    Silence,
    /// Close the connection without a byte of response.
    Drop,
}

#[derive(Debug, Clone, Copy)]
pub enum End {
    Clean,
    Reset,
    Stall,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// An SSE stream of these `data:` payloads, ending with `[DONE]`.
    pub fn sse(events: &[serde_json::Value]) -> Self {
        let mut parts: Vec<(Duration, String)> = events
            .iter()
            .map(|event| (Duration::ZERO, format!("data: {event}\n\n")))
            .collect();
        parts.push((Duration::ZERO, "data: [DONE]\n\n".into()));
        Self::Stream {
            parts,
            end: End::Clean,
        }
    }
}

#[derive(Clone)]
pub struct Server {
    pub base: String,
    script: Arc<Mutex<VecDeque<Reply>>>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    accepted: Arc<AtomicUsize>,
}

impl Server {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = Self {
            base,
            script: Arc::new(Mutex::new(replies.into())),
            recorded: Arc::default(),
            accepted: Arc::default(),
        };
        let handle = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                handle.accepted.fetch_add(1, Ordering::SeqCst);
                let handle = handle.clone();
                tokio::spawn(async move { handle.serve(socket).await });
            }
        });
        server
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// TCP connections accepted, whether or not a request came on them.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    async fn serve(&self, mut socket: TcpStream) {
        let Some(request) = read_request(&mut socket).await else {
            return;
        };
        self.recorded.lock().unwrap().push(request);
        let reply = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::json(
                500,
                serde_json::json!({"error": {"message": "script exhausted"}}),
            ));
        match reply {
            Reply::Full {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            }
            Reply::Stream { parts, end } => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\napim-request-id: req-stream-1\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                for (delay, part) in parts {
                    tokio::time::sleep(delay).await;
                    let _ = socket
                        .write_all(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes())
                        .await;
                    let _ = socket.flush().await;
                }
                match end {
                    End::Clean => {
                        let _ = socket.write_all(b"0\r\n\r\n").await;
                    }
                    End::Reset => {
                        // Zero linger turns the close into a TCP reset, and does not block.
                        #[allow(deprecated)]
                        let _ = socket.set_linger(Some(Duration::ZERO));
                        drop(socket);
                        return;
                    }
                    End::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            }
            Reply::Truncated { status, body, sent } => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body.as_bytes()[..sent]).await;
                let _ = socket.flush().await;
                #[allow(deprecated)]
                let _ = socket.set_linger(Some(Duration::ZERO));
                drop(socket);
                return;
            }
            Reply::Flood {
                content_type,
                prefix,
                total,
            } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let chunk = |bytes: &[u8]| {
                    let mut framed = format!("{:x}\r\n", bytes.len()).into_bytes();
                    framed.extend_from_slice(bytes);
                    framed.extend_from_slice(b"\r\n");
                    framed
                };
                if socket.write_all(&chunk(prefix.as_bytes())).await.is_err() {
                    return;
                }
                let filler = chunk(&[b'x'; 64 * 1024]);
                let mut sent = prefix.len();
                while sent < total {
                    // The client hangs up once it has seen enough: that is the point.
                    if socket.write_all(&filler).await.is_err() {
                        return;
                    }
                    sent += 64 * 1024;
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
            Reply::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
            Reply::Drop => return,
        }
        let _ = socket.shutdown().await;
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

/// A listener that answers every connection with plain-HTTP bytes at once, before reading
/// anything: what a TLS client meets when it is pointed at an http-only port. Returns its port
/// and a count of accepted connections.
pub async fn plain_http_port() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (port, accepted)
}
