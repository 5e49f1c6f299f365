//! `weft connection test`: a real call to the service, with the key read from the real keychain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{text, weft, weft_with_stdin};
use serde_json::json;
use weft_testkit::{FakeEndpoint, Reply};

const KEY: &str = "sk-conn-test-4b1d";

fn create(home: &Path, args: &[&str]) {
    let mut all = vec!["connection", "create"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--secret", "api_key"]);
    let out = weft_with_stdin(home, &all, &format!("{KEY}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_foundry_connection_answers_a_tiny_chat_with_the_stored_key() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![Reply::Json(
        200,
        json!({
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"content": "OK"}, "finish_reason": "stop"}]
        }),
    )]);
    let home = tempfile::tempdir().unwrap();
    create(
        home.path(),
        &[
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            &format!("endpoint={}/models", fake.base),
        ],
    );

    let out = weft(home.path())
        .args([
            "connection",
            "test",
            "azure-ai",
            "--deployment",
            "gpt-4o-mini",
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout
            .starts_with("ok: `azure-ai` answered a chat completion through the OpenAI v1 API in "),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with("ms, model gpt-4o-mini-2024-07-18"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY));

    // The /models endpoint the seed told users to paste now reaches the v1 API.
    let request = &fake.requests()[0].head;
    assert!(
        request.starts_with("POST /openai/v1/chat/completions HTTP/1.1"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains(&format!("api-key: {KEY}").to_ascii_lowercase()),
        "{request}"
    );
    assert_eq!(fake.requests()[0].json()["model"], "gpt-4o-mini");
}

#[test]
fn a_pinned_model_inference_api_that_is_gone_says_to_switch_to_v1() {
    if common::keychain().is_none() {
        return;
    }
    // What a retired Azure API answers: 410 and code `Gone`
    // (https://learn.microsoft.com/en-us/answers/questions/5962092/azure-document-intelligence-version).
    let fake = FakeEndpoint::start(vec![Reply::Json(
        410,
        json!({"error": {"code": "Gone", "message": "The requested API version has been retired."}}),
    )]);
    let home = tempfile::tempdir().unwrap();
    create(
        home.path(),
        &[
            "--name",
            "old-ai",
            "--type",
            "azure_ai",
            "--set",
            &format!("endpoint={}", fake.base),
            "--set",
            "api=model_inference",
        ],
    );
    let out = weft(home.path())
        .args([
            "connection",
            "test",
            "old-ai",
            "--deployment",
            "gpt-4o-mini",
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("this resource no longer serves the /models API")
            && stderr.contains("switch the connection to v1"),
        "{stderr}"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "a retired API is not retried");
    assert!(
        requests[0]
            .head
            .starts_with("POST /models/chat/completions?api-version=2024-05-01-preview HTTP/1.1"),
        "{}",
        requests[0].head
    );
}

#[test]
fn a_refused_key_fails_with_a_sentence_and_exit_1() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![Reply::Json(
        401,
        json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key"}}),
    )]);
    let home = tempfile::tempdir().unwrap();
    create(
        home.path(),
        &[
            "--name",
            "aoai",
            "--type",
            "azure_open_ai",
            "--set",
            &format!("api_base={}/openai/deployments/gpt-4o", fake.base),
        ],
    );
    let out = weft(home.path())
        .args(["connection", "test", "aoai"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the service refused the API key (HTTP 401)"),
        "{stderr}"
    );
    assert!(stderr.contains("check the connection's key"), "{stderr}");
    assert!(!stderr.contains(KEY));
    // The pinned deployment from the URL was used, with the default API version.
    assert!(
        fake.requests()[0].head.starts_with(
            "POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21 "
        )
    );
}

#[test]
fn a_multi_deployment_connection_needs_deployment() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    create(
        home.path(),
        &[
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            "endpoint=http://127.0.0.1:9/models",
        ],
    );
    let out = weft(home.path())
        .args(["connection", "test", "azure-ai"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--deployment"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_serverless_endpoint_is_checked_with_info() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![Reply::Json(
        200,
        json!({"model_name": "Meta-Llama-3.1-8B-Instruct", "model_type": "chat-completion"}),
    )]);
    let home = tempfile::tempdir().unwrap();
    create(
        home.path(),
        &[
            "--name",
            "llama",
            "--type",
            "serverless",
            "--set",
            &format!("api_base={}", fake.base),
        ],
    );
    let out = weft(home.path())
        .args(["connection", "test", "llama", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["method"], "GET /info");
    assert_eq!(check["model"], "Meta-Llama-3.1-8B-Instruct");
    assert!(check["latencyMs"].as_f64().unwrap() > 0.0);
    let request = &fake.requests()[0].head;
    assert!(
        request.starts_with("GET /info?api-version=2024-05-01-preview HTTP/1.1"),
        "{request}"
    );
    assert!(request.contains(&format!("Bearer {KEY}")), "{request}");
}

/// A server on 127.0.0.1 that answers every request with `status` and `Location: location`;
/// returns its base URL and how many requests it has answered.
fn redirector(status: u16, location: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            count.fetch_add(1, Ordering::SeqCst);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (base, answered)
}

#[test]
fn a_redirect_to_another_host_fails_and_the_key_never_reaches_it() {
    if common::keychain().is_none() {
        return;
    }
    for status in [307, 302] {
        let other = FakeEndpoint::start(vec![Reply::Json(
            200,
            json!({"choices": [{"index": 0, "message": {"content": "OK"}, "finish_reason": "stop"}]}),
        )]);
        let location = format!("{}/openai/deployments/gpt-4o/chat/completions", other.base);
        let (base, answered) = redirector(status, location.clone());
        let home = tempfile::tempdir().unwrap();
        create(
            home.path(),
            &[
                "--name",
                "aoai",
                "--type",
                "azure_open_ai",
                "--set",
                &format!("api_base={base}/openai/deployments/gpt-4o"),
            ],
        );
        let out = weft(home.path())
            .args(["connection", "test", "aoai"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{status}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "the endpoint redirected (HTTP {status}) to {location}; use the final URL in the connection"
            )),
            "{stderr}"
        );
        assert!(!stderr.contains(KEY));
        assert!(
            other.requests().is_empty(),
            "{status}: the other host got a request"
        );
        assert_eq!(answered.load(Ordering::SeqCst), 1, "{status} was retried");
    }
}
