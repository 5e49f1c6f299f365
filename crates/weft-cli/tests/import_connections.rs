//! `weft import promptflow-connections`: Prompt flow's YAML files and its local store (a
//! pf.sqlite written by the test, its secrets Fernet tokens made with a key the test puts in the
//! keyring under service `promptflow`, user `encryption_key`), through the real binary and the
//! real keychain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{text, weft};
use weft_store::Keychain;
use weft_testkit::{PfConnection, holds, pf_generate_key, stored_bytes, write_pf_store};

const OPENAI_KEY: &str = "sk-pf-yaml-4c1e9a7b";
const AOAI_KEY: &str = "pf-store-aoai-2b8d0f6e";
const CUSTOM_TOKEN: &str = "pf-store-custom-9e3a5c1d";

fn connection(home: &Path, name: &str) -> serde_json::Value {
    let out = weft(home)
        .args(["connection", "show", name, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn import(home: &Path, args: &[&str]) -> Output {
    weft(home)
        .args(["import", "promptflow-connections"])
        .args(args)
        .output()
        .unwrap()
}

fn shows_no_secret(out: &Output, secrets: &[&str]) {
    for secret in secrets {
        assert!(!holds(&out.stdout, secret), "{secret} on stdout");
        assert!(!holds(&out.stderr, secret), "{secret} on stderr");
    }
}

#[test]
fn yaml_files_import_and_a_clash_is_skipped_until_replace() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let openai = files.path().join("openai.yaml");
    std::fs::write(
        &openai,
        format!(
            "$schema: https://azuremlschemas.azureedge.net/promptflow/latest/OpenAIConnection.schema.json\n\
             name: openai\ntype: open_ai\napi_key: \"{OPENAI_KEY}\"\norganization: org-7\n"
        ),
    )
    .unwrap();
    let qdrant = files.path().join("qdrant.yaml");
    std::fs::write(
        &qdrant,
        "name: vectors\ntype: qdrant\napi_base: https://q.example.com\napi_key: k\n",
    )
    .unwrap();
    let entra = files.path().join("entra.yaml");
    std::fs::write(
        &entra,
        "name: aoai-entra\ntype: azure_open_ai\napi_base: https://e.openai.azure.com/\n\
         api_type: azure\napi_version: 2024-10-21\nauth_mode: meid_token\n",
    )
    .unwrap();
    let custom = files.path().join("custom.yaml");
    std::fs::write(
        &custom,
        format!(
            "name: tools\ntype: custom\nconfigs:\n  region: westeurope\nsecrets:\n  token: \"{CUSTOM_TOKEN}\"\n"
        ),
    )
    .unwrap();
    let (openai, qdrant) = (openai.to_str().unwrap(), qdrant.to_str().unwrap());
    let (entra, custom) = (entra.to_str().unwrap(), custom.to_str().unwrap());

    let out = import(home.path(), &["--from-yaml", openai, qdrant, entra, custom]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("imported aoai-entra (azure_open_ai, Microsoft Entra ID, no key)"),
        "{report}"
    );
    assert!(report.contains("imported tools (custom)"), "{report}");
    let tools = connection(home.path(), "tools");
    assert_eq!(tools["config"]["region"], "westeurope");
    let tools_id = tools["id"].as_str().unwrap().to_owned();
    assert_eq!(
        keychain
            .get(&format!("{tools_id}/token"))
            .unwrap()
            .as_deref(),
        Some(CUSTOM_TOKEN)
    );
    assert_eq!(
        connection(home.path(), "aoai-entra")["secrets"],
        serde_json::json!({})
    );
    assert!(report.contains("imported openai (open_ai)"), "{report}");
    assert!(report.contains("skipped  qdrant"), "{report}");
    assert!(
        report.contains("unknown connection type `qdrant`"),
        "{report}"
    );
    assert!(
        report.ends_with("3 imported, 0 replaced, 1 skipped\n"),
        "{report}"
    );
    shows_no_secret(&out, &[OPENAI_KEY, CUSTOM_TOKEN]);
    let id = connection(home.path(), "openai")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        keychain.get(&format!("{id}/api_key")).unwrap().as_deref(),
        Some(OPENAI_KEY)
    );

    // Again: the name is taken, so it is skipped and says how to overwrite it.
    let out = import(home.path(), &["--from-yaml", openai]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("--replace"),
        "{}",
        text(&out.stdout)
    );

    let out = import(home.path(), &["--from-yaml", openai, "--replace", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["connections"][0]["status"], "replaced");
    assert_eq!(json["connections"][0]["type"], "open_ai");
    shows_no_secret(&out, &[OPENAI_KEY]);
    let stored = stored_bytes(home.path());
    assert!(!holds(&stored, OPENAI_KEY));
    assert!(!holds(&stored, CUSTOM_TOKEN));
    keychain.delete(&format!("{id}/api_key")).unwrap();
    keychain.delete(&format!("{tools_id}/token")).unwrap();
}

#[test]
fn the_local_store_imports_with_the_key_from_the_keyring() {
    // This test writes Prompt flow's own keyring entry, so it runs only in the throwaway keyring
    // of .ci/with-session.sh (which sets WEFT_REQUIRE_KEYCHAIN), never in a developer's.
    if std::env::var_os("WEFT_REQUIRE_KEYCHAIN").is_none() {
        eprintln!("skipped: needs the throwaway keyring of .ci/with-session.sh");
        return;
    }
    let Some(keychain) = common::keychain() else {
        return;
    };
    let pf_keyring = Keychain::native("promptflow");
    assert_eq!(
        pf_keyring.get("encryption_key").unwrap(),
        None,
        "a Prompt flow key is already in this keyring; run under .ci/with-session.sh"
    );
    let home = tempfile::tempdir().unwrap();
    let pf_home = tempfile::tempdir().unwrap();
    let key = pf_generate_key();
    write_pf_store(
        &pf_home.path().join("pf.sqlite"),
        &key,
        &[
            PfConnection {
                name: "aoai",
                pf_type: "AzureOpenAI",
                configs: &[
                    ("api_base", "https://r.openai.azure.com/"),
                    ("api_type", "azure"),
                    ("api_version", "2024-10-21"),
                    ("auth_mode", "key"),
                ],
                secrets: &[("api_key", AOAI_KEY)],
            },
            PfConnection {
                name: "aoai-entra",
                pf_type: "AzureOpenAI",
                configs: &[
                    ("api_base", "https://e.openai.azure.com/"),
                    ("api_version", "2024-10-21"),
                    ("auth_mode", "meid_token"),
                ],
                secrets: &[],
            },
            PfConnection {
                name: "tools",
                pf_type: "Custom",
                configs: &[("region", "westeurope")],
                secrets: &[("token", CUSTOM_TOKEN)],
            },
        ],
    );
    let run = || {
        weft(home.path())
            .args(["import", "promptflow-connections", "--from-local-store"])
            .env("PF_HOME_DIRECTORY", pf_home.path())
            .output()
            .unwrap()
    };

    // No key in the keyring yet: a message that says where it looks and what to do, exit 1.
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("service `promptflow`, user `encryption_key`"),
        "{err}"
    );
    assert!(err.contains("--from-yaml"), "{err}");
    assert!(text(&out.stdout).is_empty());

    pf_keyring.set("encryption_key", &key).unwrap();
    let out = run();
    pf_keyring.delete("encryption_key").unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("imported aoai (azure_open_ai) from pf.sqlite"),
        "{report}"
    );
    assert!(
        report.contains("imported aoai-entra (azure_open_ai, Microsoft Entra ID, no key)"),
        "{report}"
    );
    assert!(report.contains("imported tools (custom)"), "{report}");
    shows_no_secret(&out, &[AOAI_KEY, CUSTOM_TOKEN, &key]);

    let aoai = connection(home.path(), "aoai");
    let entra = connection(home.path(), "aoai-entra");
    let tools = connection(home.path(), "tools");
    assert_eq!(entra["config"]["auth_mode"], "meid_token");
    assert_eq!(entra["secrets"], serde_json::json!({}));
    assert_eq!(tools["config"]["region"], "westeurope");
    assert_eq!(tools["secrets"]["token"], "******");
    let secret = |view: &serde_json::Value, field: &str| {
        keychain
            .get(&format!("{}/{field}", view["id"].as_str().unwrap()))
            .unwrap()
    };
    assert_eq!(secret(&aoai, "api_key").as_deref(), Some(AOAI_KEY));
    assert_eq!(secret(&tools, "token").as_deref(), Some(CUSTOM_TOKEN));
    let stored = stored_bytes(home.path());
    for needle in [AOAI_KEY, CUSTOM_TOKEN, key.as_str()] {
        assert!(!holds(&stored, needle), "{needle} is in Weft's data folder");
    }
    for (view, field) in [(&aoai, "api_key"), (&tools, "token")] {
        keychain
            .delete(&format!("{}/{field}", view["id"].as_str().unwrap()))
            .unwrap();
    }
}
