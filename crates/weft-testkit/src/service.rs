//! The loopback server under the service fakes (Content Safety, AI Search, SerpAPI) and the
//! scripted HTTP fake: each request is recorded as a [`Recorded`] and answered with what the
//! fake's router returns, headers and all (a 429 carries its `Retry-After`).

use std::collections::VecDeque;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::azure::{Recorded, parse};
use crate::read_request;

/// One whole HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Sent after `content-type` and before `content-length`.
    pub headers: Vec<(String, String)>,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Self {
        Self::text(status, "application/json; charset=utf-8", &body.to_string())
    }

    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content_type: content_type.to_owned(),
            body: body.to_owned(),
        }
    }

    /// No body at all, as Azure AI Search answers a refused key.
    pub fn empty(status: u16) -> Self {
        Self::text(status, "", "")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A transient failure a fake is told to answer its next request with, before it looks at the
/// request at all; each fake writes it in its service's own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429, with `Retry-After: <seconds>` when given.
    RateLimited { retry_after: Option<u32> },
    /// 503, with `Retry-After: <seconds>` when given.
    Unavailable { retry_after: Option<u32> },
    /// 500.
    Internal,
}

impl Failure {
    pub fn status(self) -> u16 {
        match self {
            Self::RateLimited { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal => 500,
        }
    }

    /// `answer` with this failure's `Retry-After`, if it has one.
    pub(crate) fn with_wait(self, answer: Answer) -> Answer {
        match self {
            Self::RateLimited {
                retry_after: Some(seconds),
            }
            | Self::Unavailable {
                retry_after: Some(seconds),
            } => answer.header("Retry-After", &seconds.to_string()),
            _ => answer,
        }
    }
}

/// The failures a fake has been told to answer with, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Failures(VecDeque<Failure>);

impl Failures {
    pub(crate) fn push(&mut self, failure: Failure) {
        self.0.push_back(failure);
    }

    pub(crate) fn next(&mut self) -> Option<Failure> {
        self.0.pop_front()
    }
}

pub(crate) type Requests = Arc<Mutex<Vec<Recorded>>>;

/// Serves on 127.0.0.1 until the process ends, one thread per connection, each request answered
/// by `route` (called under a lock, so a router may keep state) and then the connection closed.
/// Returns the base URL and the record of requests.
pub(crate) fn serve<R>(route: R) -> (String, Requests)
where
    R: FnMut(&Recorded) -> Answer + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests: Requests = Arc::default();
    let seen = requests.clone();
    let route = Arc::new(Mutex::new(route));
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let (route, seen) = (route.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let Some(received) = read_request(&mut reader) else {
                    return;
                };
                let recorded = parse(&received.head, received.body);
                let answer = (route.lock().unwrap())(&recorded);
                seen.lock().unwrap().push(recorded);
                write_answer(socket, &answer);
            });
        }
    });
    (base, requests)
}

fn write_answer(mut socket: TcpStream, answer: &Answer) {
    let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
    if !answer.content_type.is_empty() {
        head.push_str(&format!("content-type: {}\r\n", answer.content_type));
    }
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        answer.body.len()
    ));
    let _ = socket.write_all(head.as_bytes());
    let _ = socket.write_all(answer.body.as_bytes());
}

/// The query string's pairs, decoded (`+` and `%XX`), in order.
pub(crate) fn query_pairs(request: &Recorded) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.query().unwrap_or_default().as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// Any HTTP server stand-in for the HTTP request node: answers each request with the next
/// scripted [`Answer`] (once they run out, a 500 saying so) and records what it was sent.
pub struct HttpFake {
    pub base: String,
    requests: Requests,
}

impl HttpFake {
    pub fn start(answers: Vec<Answer>) -> Self {
        let mut script: VecDeque<Answer> = answers.into();
        let (base, requests) = serve(move |_| {
            script.pop_front().unwrap_or_else(|| {
                Answer::text(
                    500,
                    "text/plain",
                    "the HttpFake has no scripted answer left",
                )
            })
        });
        Self { base, requests }
    }

    /// Every request so far, in the order they came.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// Raw HTTP/1.1 for the fakes' own tests: sends one request, returns the status, the head and
/// the body.
#[cfg(test)]
pub(crate) fn raw(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::Read;
    let mut socket = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    let mut request = format!("{method} {target} HTTP/1.1\r\nhost: fake\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    socket.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    socket.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_fake_answers_in_order_with_headers_then_says_it_ran_out() {
        let fake = HttpFake::start(vec![
            Answer::text(429, "text/plain", "wait").header("Retry-After", "2"),
            Answer::empty(204),
        ]);
        let (status, head, body) = raw(&fake.base, "PUT", "/a?b=1", &[("x-y", "z")], "hi");
        assert_eq!((status, body.as_str()), (429, "wait"));
        assert!(head.contains("Retry-After: 2"), "{head}");
        assert_eq!(raw(&fake.base, "GET", "/", &[], "").0, 204);
        assert_eq!(raw(&fake.base, "GET", "/", &[], "").0, 500);
        let first = &fake.requests()[0];
        assert_eq!(
            (first.method.as_str(), first.target.as_str()),
            ("PUT", "/a?b=1")
        );
        assert_eq!(
            (first.header("X-Y"), first.body.as_str()),
            (Some("z"), "hi")
        );
    }
}
