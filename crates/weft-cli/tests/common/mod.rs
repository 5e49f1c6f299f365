//! What the CLI's integration tests share: running `weft` against a private home and keychain
//! service, and knowing whether this machine has a usable keychain.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use weft_store::Keychain;

pub fn service() -> String {
    format!("weft-test-{}", std::process::id())
}

pub fn weft(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.env("WEFT_HOME", home)
        .env("WEFT_KEYRING_SERVICE", service())
        .stdin(Stdio::null());
    cmd
}

/// Runs `weft` with `stdin` piped in.
pub fn weft_with_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = weft(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The real keychain under this test process's service name, or `None` where this machine has
/// none. CI sets WEFT_REQUIRE_KEYCHAIN=1 and provides one, so there these tests cannot skip.
pub fn keychain() -> Option<Keychain> {
    match Keychain::native(service()).and_then(|k| k.probe().result.map(|()| k)) {
        Ok(keychain) => Some(keychain),
        Err(err) if std::env::var_os("WEFT_REQUIRE_KEYCHAIN").is_some() => {
            panic!("WEFT_REQUIRE_KEYCHAIN is set but the keychain is unusable: {err}")
        }
        Err(err) => {
            eprintln!("skipped: no usable OS keychain here ({err})");
            None
        }
    }
}

/// A model endpoint on 127.0.0.1 that answers each request with the next scripted
/// `(status, json)` and records the raw requests (head and body).
pub struct FakeEndpoint {
    pub base: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeEndpoint {
    pub fn start(replies: Vec<(u16, serde_json::Value)>) -> Self {
        use std::io::{BufRead, BufReader, Read};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for (status, body) in replies {
                let Ok((socket, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    head.push_str(&line);
                }
                let mut content = vec![0; length];
                reader.read_exact(&mut content).unwrap();
                seen.lock()
                    .unwrap()
                    .push(format!("{head}\r\n{}", String::from_utf8_lossy(&content)));
                let body = body.to_string();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut socket = socket;
                socket.write_all(reply.as_bytes()).unwrap();
            }
        });
        Self { base, requests }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}
