//! `weft connection …` as scripts use it: a real binary, a real SQLite file, the real keychain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{text, weft, weft_with_stdin};
use weft_testkit::{holds, stored_bytes};

const SECRET: &str = "sk-cli-test-0d6f3a9b77e1";
const ENDPOINT: &str = "https://res.services.ai.azure.com/models";

fn create_azure_ai(home: &Path) {
    let out = weft_with_stdin(
        home,
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            &format!("endpoint={ENDPOINT}/"),
            "--secret",
            "api_key",
        ],
        &format!("{SECRET}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "created connection `azure-ai` (azure_ai)\n"
    );
}

fn connection_id(home: &Path, name: &str) -> String {
    let out = weft(home)
        .args(["connection", "show", name, "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["id"].as_str().unwrap().to_owned()
}

#[test]
fn the_secret_goes_to_the_keychain_and_nowhere_else() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    create_azure_ai(home.path());

    let mut outputs = String::new();
    for args in [
        &["connection", "show", "azure-ai"][..],
        &["connection", "show", "AZURE-AI", "--json"],
        &["connection", "list"],
        &["connection", "list", "--json"],
    ] {
        let out = weft(home.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        outputs += &text(&out.stdout);
        outputs += &text(&out.stderr);
    }
    assert!(
        !outputs.contains(SECRET),
        "the secret was printed:\n{outputs}"
    );
    assert!(outputs.contains("api_key    ******"), "{outputs}");
    assert!(
        outputs.contains(&format!("azure-ai  azure_ai  {ENDPOINT}")),
        "{outputs}"
    );
    assert!(outputs.contains("\"api_key\": \"******\""), "{outputs}");
    assert!(
        !holds(&stored_bytes(home.path()), SECRET),
        "the secret reached SQLite"
    );

    let id = connection_id(home.path(), "azure-ai");
    assert_eq!(
        keychain.get(&format!("{id}/api_key")).unwrap().as_deref(),
        Some(SECRET)
    );
}

#[test]
fn secrets_are_refused_on_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let out = weft(home.path())
        .args([
            "connection",
            "create",
            "--name",
            "x",
            "--type",
            "serp",
            "--set",
            &format!("api_key={SECRET}"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("pass --secret api_key"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[test]
fn a_yaml_file_with_user_input_reads_secrets_from_stdin_in_order() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("custom.yaml");
    std::fs::write(
        &file,
        "$schema: https://azuremlschemas.azureedge.net/promptflow/latest/CustomConnection.schema.json\n\
         name: search-backend\ntype: custom\nconfigs:\n  region: westeurope\n  port: 8080\n\
         secrets:\n  token: <user-input>\n  password: <user-input>\n",
    )
    .unwrap();
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--file",
            file.to_str().unwrap(),
            "--secrets-stdin",
            "--json",
        ],
        "first-token\nsecond-password\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["connection"]["config"]["port"], "8080");
    assert_eq!(json["connection"]["secrets"]["token"], "******");
    let id = json["connection"]["id"].as_str().unwrap();
    assert_eq!(
        keychain.get(&format!("{id}/token")).unwrap().as_deref(),
        Some("first-token")
    );
    assert_eq!(
        keychain.get(&format!("{id}/password")).unwrap().as_deref(),
        Some("second-password")
    );
}

#[test]
fn a_file_asking_for_secrets_without_a_terminal_says_how_to_pipe_them() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("serp.yaml");
    std::fs::write(&file, "name: serp\ntype: serp\napi_key: <user-input>\n").unwrap();
    let out = weft(home.path())
        .args(["connection", "create", "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("pass --secrets-stdin"),
        "{}",
        text(&out.stderr)
    );
}

/// serde-saphyr shows a source snippet by default, and serde quotes values it cannot take.
#[test]
fn a_broken_connection_file_is_reported_without_its_secrets() {
    let secret = "sk-inline-key-in-a-broken-file-77";
    let home = tempfile::tempdir().unwrap();
    for (name, yaml) in [
        // A syntax error on the line after the key.
        (
            "syntax",
            format!("name: a\ntype: serp\napi_key: {secret}\n  bad: [indent\n"),
        ),
        // A key where a map is expected: serde quotes the value.
        (
            "type",
            format!("name: a\ntype: custom\nsecrets: \"{secret}\"\n"),
        ),
    ] {
        let file = home.path().join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        let out = weft(home.path())
            .args(["connection", "create", "--file", file.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("is not a valid connection file"),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains(&secret[..12]), "{name}: {stderr}");
        assert!(!text(&out.stdout).contains(&secret[..12]), "{name}");
    }
}

#[test]
fn a_wrong_endpoint_for_the_type_is_a_usage_error_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "a",
            "--type",
            "azure_ai",
            "--set",
            "endpoint=https://r.openai.azure.com/openai/deployments/gpt-4o",
            "--secret",
            "api_key",
        ],
        "k\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("use an Azure OpenAI connection (azure_open_ai)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn update_keeps_the_secret_unless_replaced_and_delete_removes_it() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    create_azure_ai(home.path());
    let id = connection_id(home.path(), "azure-ai");
    let account = format!("{id}/api_key");

    let out = weft(home.path())
        .args([
            "connection",
            "update",
            "azure-ai",
            "--set",
            "api=model_inference",
            "--set",
            "api_version=2024-08-01-preview",
            "--rename",
            "prod-ai",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keychain.get(&account).unwrap().as_deref(), Some(SECRET));
    let show = text(
        &weft(home.path())
            .args(["connection", "show", "prod-ai"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(show.contains("api_version  2024-08-01-preview"), "{show}");

    let out = weft_with_stdin(
        home.path(),
        &["connection", "update", "prod-ai", "--secret", "api_key"],
        "rotated\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keychain.get(&account).unwrap().as_deref(), Some("rotated"));

    let out = weft(home.path())
        .args(["connection", "delete", "prod-ai"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(keychain.get(&account).unwrap(), None);
    let out = weft(home.path())
        .args(["connection", "show", "prod-ai"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no connection is named `prod-ai`"));
}

#[test]
fn a_taken_name_is_a_usage_error() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    create_azure_ai(home.path());
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "Azure-AI",
            "--type",
            "serp",
            "--secret",
            "api_key",
        ],
        "k\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
}
