//! Microsoft Entra ID connections end to end: no secret on create, a token from the developer's
//! own sign-in (a stand-in `az` on PATH) on test, and `weft doctor`'s sign-in lines.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{ENTRA_TENANT, ENTRA_TOKEN, StandInAz, text, weft};
use serde_json::json;
use weft_testkit::{FakeEndpoint, Reply};

/// 2027-01-15T08:00:00Z: far enough ahead that the token is fresh whenever the test runs.
const EXPIRES_ON: i64 = 1_800_000_000;

/// `weft` with only the stand-in `az` on its PATH.
fn weft_signed(home: &Path, az: &StandInAz) -> Command {
    let mut cmd = weft(home);
    cmd.env("PATH", az.path());
    cmd
}

fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().unwrap()
}

fn create_entra(home: &Path, az: &StandInAz, endpoint: &str) {
    let out = run(
        &mut weft_signed(home, az),
        &[
            "connection",
            "create",
            "--name",
            "entra",
            "--type",
            "azure_ai",
            "--set",
            &format!("endpoint={endpoint}"),
            "--set",
            "auth_mode=meid_token",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn chat_ok() -> Reply {
    Reply::Json(
        200,
        json!({
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"content": "OK"}, "finish_reason": "stop"}]
        }),
    )
}

#[test]
fn an_entra_connection_needs_no_secret_and_calls_v1_with_the_sign_ins_token() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let fake = FakeEndpoint::start(vec![chat_ok()]);
    let az = StandInAz::signed_in(EXPIRES_ON);
    let home = tempfile::tempdir().unwrap();
    // The endpoint as the seed told users to paste it: the /models URL.
    create_entra(home.path(), &az, &format!("{}/models", fake.base));

    let out = run(
        &mut weft_signed(home.path(), &az),
        &["connection", "show", "entra", "--json"],
    );
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["secrets"], json!({}));
    assert_eq!(view["config"]["auth_mode"], "meid_token");
    let id = view["id"].as_str().unwrap();
    assert_eq!(
        keychain.get(&format!("{id}/api_key")).unwrap(),
        None,
        "an Entra ID connection has no keychain entry"
    );

    let out = run(
        &mut weft_signed(home.path(), &az),
        &["connection", "test", "entra", "--deployment", "gpt-4o-mini"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with("ok: `entra` answered a chat completion through the OpenAI v1 API in "),
        "{stdout}"
    );
    assert!(!stdout.contains(ENTRA_TOKEN) && !text(&out.stderr).contains(ENTRA_TOKEN));

    let sent = &fake.requests()[0];
    let head = sent.head.to_ascii_lowercase();
    assert!(
        sent.head
            .starts_with("POST /openai/v1/chat/completions HTTP/1.1"),
        "{}",
        sent.head
    );
    assert!(
        head.contains(&format!(
            "authorization: bearer {}",
            ENTRA_TOKEN.to_ascii_lowercase()
        )),
        "{}",
        sent.head
    );
    assert!(!head.contains("api-key:"), "{}", sent.head);
    assert_eq!(sent.json()["model"], "gpt-4o-mini");

    let runs = az.runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(
        runs[0]
            .starts_with("account get-access-token -o json --scope https://ai.azure.com/.default"),
        "{runs:?}"
    );
}

#[test]
fn signed_out_the_test_fails_with_exit_1_and_says_to_run_az_login() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![chat_ok()]);
    let az = StandInAz::signed_out();
    let home = tempfile::tempdir().unwrap();
    create_entra(home.path(), &az, &fake.base);
    let out = run(
        &mut weft_signed(home.path(), &az),
        &["connection", "test", "entra", "--deployment", "gpt-4o-mini"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run `az login`"), "{stderr}");
    assert!(fake.requests().is_empty(), "called without a token");
    assert_eq!(az.runs().len(), 1);
}

#[test]
fn doctor_shows_which_sign_in_answered_its_tenant_and_expiry() {
    if common::keychain().is_none() {
        return;
    }
    let az = StandInAz::signed_in(EXPIRES_ON);
    let home = tempfile::tempdir().unwrap();
    create_entra(home.path(), &az, "https://res.services.ai.azure.com");
    let out = run(&mut weft_signed(home.path(), &az), &["doctor"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "entra id     https://ai.azure.com/.default for entra\n             signed in through the Azure CLI, tenant {ENTRA_TENANT}, token expires 2027-01-15T08:00:00Z\n"
        )),
        "{stdout}"
    );
    assert!(!stdout.contains(ENTRA_TOKEN));

    let out = run(&mut weft_signed(home.path(), &az), &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["entra"],
        json!([{
            "scope": "https://ai.azure.com/.default",
            "connections": ["entra"],
            "signIn": {
                "status": "ok",
                "credential": "Azure CLI",
                "tenant": ENTRA_TENANT,
                "expiresAt": "2027-01-15T08:00:00Z",
            },
        }])
    );
}

#[test]
fn doctor_fails_and_says_to_sign_in_when_an_entra_connection_cannot() {
    if common::keychain().is_none() {
        return;
    }
    let az = StandInAz::signed_out();
    let home = tempfile::tempdir().unwrap();
    create_entra(home.path(), &az, "https://res.services.ai.azure.com");
    let out = run(&mut weft_signed(home.path(), &az), &["doctor"]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains(
            "entra id     https://ai.azure.com/.default for entra\n             FAILED: "
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("weft doctor: entra cannot sign in: ") && stderr.contains("run `az login`"),
        "{stderr}"
    );
}

#[test]
fn doctor_without_entra_connections_runs_no_sign_in() {
    if common::keychain().is_none() {
        return;
    }
    let az = StandInAz::signed_out();
    let home = tempfile::tempdir().unwrap();
    let out = run(&mut weft_signed(home.path(), &az), &["doctor"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("entra id"));
    assert!(az.runs().is_empty());
}

#[test]
fn switching_a_key_connection_to_entra_deletes_its_keychain_entry() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = common::weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "c",
            "--type",
            "azure_ai",
            "--set",
            "endpoint=https://res.services.ai.azure.com",
            "--secret",
            "api_key",
        ],
        "sk-switch-5e7a\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let show = run(
        &mut weft(home.path()),
        &["connection", "show", "c", "--json"],
    );
    let view: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let account = format!("{}/api_key", view["id"].as_str().unwrap());
    assert_eq!(
        keychain.get(&account).unwrap().as_deref(),
        Some("sk-switch-5e7a")
    );

    // A key given with Entra ID is refused, and the stored one stays.
    let out = common::weft_with_stdin(
        home.path(),
        &[
            "connection",
            "update",
            "c",
            "--set",
            "auth_mode=meid_token",
            "--secret",
            "api_key",
        ],
        "sk-other-0c1d\n",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("Microsoft Entra ID connections store no key; remove it, or choose API key"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk-other-0c1d"));
    assert_eq!(
        keychain.get(&account).unwrap().as_deref(),
        Some("sk-switch-5e7a")
    );

    let out = run(
        &mut weft(home.path()),
        &["connection", "update", "c", "--set", "auth_mode=meid_token"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keychain.get(&account).unwrap(), None);
    let show = run(
        &mut weft(home.path()),
        &["connection", "show", "c", "--json"],
    );
    let view: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(view["secrets"], json!({}));

    // Back to a key: one must be given.
    let out = run(
        &mut weft(home.path()),
        &["connection", "update", "c", "--set", "auth_mode=key"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("API key is required"), "{stderr}");
}

#[test]
fn without_the_azure_cli_the_test_says_to_install_it() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![chat_ok()]);
    let home = tempfile::tempdir().unwrap();
    let az = StandInAz::signed_in(EXPIRES_ON);
    create_entra(home.path(), &az, &fake.base);
    // A PATH with neither az nor azd on it.
    let empty = tempfile::tempdir().unwrap();
    let out = weft(home.path())
        .env("PATH", empty.path())
        .args(["connection", "test", "entra", "--deployment", "gpt-4o-mini"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("needs the Azure CLI: install it and run `az login`"),
        "{stderr}"
    );
    assert!(fake.requests().is_empty());
}

/// Two chat completions in a row on one connection.
const TWO_CALLS: &str = r#"schema: 1
title: Two calls
inputs:
  question:
    type: string
outputs:
  answer:
    value: ${second.output}
nodes:
  - id: inputs
    type: inputs
    position: { x: 0, y: 0 }
  - id: first
    type: chat_completion
    position: { x: 200, y: 0 }
    properties:
      connection: entra
      deployment: gpt-4o-mini
      user_prompt: "{{ question }}"
      variables:
        question: ${inputs.question}
  - id: second
    type: chat_completion
    position: { x: 400, y: 0 }
    properties:
      connection: entra
      deployment: gpt-4o-mini
      user_prompt: "Shorter: {{ draft }}"
      variables:
        draft: ${first.output}
  - id: outputs
    type: outputs
    position: { x: 600, y: 0 }
"#;

#[test]
fn a_flow_run_signs_in_once_for_every_call_and_stores_no_token() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![
        weft_testkit::chat_stream(&["Paris ", "is the capital."]),
        weft_testkit::chat_stream(&["Paris."]),
    ]);
    let az = StandInAz::signed_in(EXPIRES_ON);
    let home = tempfile::tempdir().unwrap();
    create_entra(home.path(), &az, &fake.base);
    let flow = home.path().join("two.weft.yaml");
    std::fs::write(&flow, TWO_CALLS).unwrap();
    let out = weft_signed(home.path(), &az)
        .args(["flow", "run"])
        .arg(&flow)
        .args(["--input", "question=Capital of France?", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\"answer\":\"Paris.\"}\n");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for sent in &requests {
        assert!(
            sent.head
                .starts_with("POST /openai/v1/chat/completions HTTP/1.1"),
            "{}",
            sent.head
        );
        assert!(
            sent.head.contains(&format!("Bearer {ENTRA_TOKEN}")),
            "{}",
            sent.head
        );
    }
    assert_eq!(az.runs().len(), 1, "the token is reused: {:?}", az.runs());

    // Nothing Weft keeps, run history included, holds the token.
    let shown = run(&mut weft(home.path()), &["runs", "list", "--json"]);
    assert!(!text(&shown.stdout).contains(ENTRA_TOKEN));
    assert!(
        !weft_testkit::holds(&weft_testkit::stored_bytes(home.path()), ENTRA_TOKEN),
        "the data folder holds the token"
    );
}
