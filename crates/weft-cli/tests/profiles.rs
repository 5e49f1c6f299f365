//! Environment profiles: one flow, one connection name, another endpoint and key per profile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{text, weft, weft_with_stdin};
use weft_testkit::{FakeEndpoint, Reply, holds, stored_bytes};

const BASE_KEY: &str = "sk-base-profile-1f2e";
const DEV_KEY: &str = "sk-dev-profile-6a01";
const PROD_KEY: &str = "sk-prod-profile-9b77";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn answer(word: &str) -> Reply {
    Reply::Sse(vec![
        serde_json::json!({"choices": [{"index": 0, "delta": {"content": word}}]}),
        serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ])
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn run(home: &Path, args: &[&str]) -> Output {
    weft(home).args(args).output().unwrap()
}

/// `azure-ai` pointing nowhere reachable, with `dev` and `prod` profiles that each send it to
/// their own fake endpoint with their own key.
fn connection_with_two_profiles(home: &Path, dev: &FakeEndpoint, prod: &FakeEndpoint) {
    ok(&weft_with_stdin(
        home,
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            // Port 9 (discard) on loopback: a run that used the connection's own endpoint fails.
            "endpoint=http://127.0.0.1:9/models",
            "--secret",
            "api_key",
        ],
        &format!("{BASE_KEY}\n"),
    ));
    for (profile, fake, key) in [("dev", dev, DEV_KEY), ("prod", prod, PROD_KEY)] {
        ok(&run(home, &["profile", "create", profile]));
        ok(&weft_with_stdin(
            home,
            &[
                "connection",
                "update",
                "azure-ai",
                "--profile",
                profile,
                "--set",
                &format!("endpoint={}/models", fake.base),
                "--secret",
                "api_key",
            ],
            &format!("{key}\n"),
        ));
    }
}

/// The run id from `weft flow run`'s stderr, and the profile it names.
fn run_line(stderr: &str) -> (String, String) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("run "))
        .unwrap_or_else(|| panic!("no run line in {stderr}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[2..4], ["under", "profile"], "{line}");
    (words[1].to_owned(), words[4].to_owned())
}

#[test]
fn one_flow_reaches_each_profiles_endpoint_with_its_key() {
    if common::keychain().is_none() {
        return;
    }
    let dev = FakeEndpoint::start(vec![answer("from dev")]);
    let prod = FakeEndpoint::start(vec![answer("from prod")]);
    let home = tempfile::tempdir().unwrap();
    connection_with_two_profiles(home.path(), &dev, &prod);
    let chat = example("chat.weft.yaml");

    // The flag wins over the environment.
    let under_dev = weft(home.path())
        .args(["--profile", "dev", "flow", "run"])
        .arg(&chat)
        .args(["--input", "question=q"])
        .env("WEFT_PROFILE", "prod")
        .output()
        .unwrap();
    ok(&under_dev);
    assert_eq!(text(&under_dev.stdout), "answer: from dev\n");
    let under_prod = weft(home.path())
        .args(["flow", "run"])
        .arg(&chat)
        .args(["--input", "question=q"])
        .env("WEFT_PROFILE", "prod")
        .output()
        .unwrap();
    ok(&under_prod);
    assert_eq!(text(&under_prod.stdout), "answer: from prod\n");

    for (fake, own, other) in [(&dev, DEV_KEY, PROD_KEY), (&prod, PROD_KEY, DEV_KEY)] {
        let got = fake.requests();
        assert_eq!(got.len(), 1, "each endpoint is called once: {got:?}");
        let head = got[0].head.to_ascii_lowercase();
        assert!(head.contains(&format!("api-key: {own}")), "{head}");
        assert!(!head.contains(other) && !head.contains(BASE_KEY), "{head}");
    }

    let (dev_run, dev_profile) = run_line(&text(&under_dev.stderr));
    let (prod_run, prod_profile) = run_line(&text(&under_prod.stderr));
    assert_eq!(
        (dev_profile.as_str(), prod_profile.as_str()),
        ("dev", "prod")
    );
    for (id, profile) in [(&dev_run, "dev"), (&prod_run, "prod")] {
        let shown = run(home.path(), &["runs", "show", &id[..8]]);
        ok(&shown);
        assert!(
            text(&shown.stdout).contains(&format!("\nprofile  {profile}\n")),
            "{}",
            text(&shown.stdout)
        );
    }
    let listed: serde_json::Value =
        serde_json::from_slice(&run(home.path(), &["runs", "list", "--json"]).stdout).unwrap();
    let profiles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["profile"].as_str().unwrap())
        .collect();
    assert_eq!(profiles.len(), 2);
    assert!(
        profiles.contains(&"dev") && profiles.contains(&"prod"),
        "{profiles:?}"
    );

    let stored = stored_bytes(home.path());
    for key in [BASE_KEY, DEV_KEY, PROD_KEY] {
        assert!(!holds(&stored, key), "a key reached Weft's files");
    }
    assert!(holds(&stored, &dev.base), "sanity: the overrides are there");
    ok(&run(home.path(), &["connection", "delete", "azure-ai"]));
}

#[test]
fn show_in_a_profile_marks_what_it_sets_and_its_keys_go_with_it() {
    let Some(keychain) = common::keychain() else {
        return;
    };
    let dev = FakeEndpoint::start(vec![]);
    let prod = FakeEndpoint::start(vec![]);
    let home = tempfile::tempdir().unwrap();
    connection_with_two_profiles(home.path(), &dev, &prod);

    let json: serde_json::Value = serde_json::from_slice(
        &run(
            home.path(),
            &[
                "connection",
                "show",
                "azure-ai",
                "--profile",
                "prod",
                "--json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(json["profile"], "prod");
    assert_eq!(
        json["fromProfile"],
        serde_json::json!(["api_key", "endpoint"])
    );
    let view = &json["connection"];
    assert_eq!(view["secrets"]["api_key"], "******");
    let id = view["id"].as_str().unwrap();
    let field = |key: &str| view["config"][key].as_str().unwrap().to_owned();

    let shown = run(
        home.path(),
        &["connection", "show", "azure-ai", "--profile", "prod"],
    );
    ok(&shown);
    assert_eq!(
        text(&shown.stdout),
        format!(
            "name       azure-ai\n\
             type       azure_ai\n\
             profile    prod\n\
             id         {id}\n\
             api        {api}\n\
             auth_mode  {auth}\n\
             endpoint   {prod}/models  (from profile prod)\n\
             api_key    ******  (from profile prod)\n\
             created    {created}\n\
             updated    {updated}\n",
            api = field("api"),
            auth = field("auth_mode"),
            prod = prod.base,
            created = view["createdAt"].as_str().unwrap(),
            updated = view["updatedAt"].as_str().unwrap(),
        )
    );
    let plain = text(&run(home.path(), &["connection", "show", "azure-ai"]).stdout);
    assert!(
        plain.contains("endpoint   http://127.0.0.1:9/models\n"),
        "{plain}"
    );
    assert!(!plain.contains("profile"), "{plain}");

    // --unset returns a field to the connection's own; a profile cannot rename.
    ok(&run(
        home.path(),
        &[
            "connection",
            "update",
            "azure-ai",
            "--profile",
            "prod",
            "--unset",
            "endpoint",
        ],
    ));
    let json: serde_json::Value = serde_json::from_slice(
        &run(
            home.path(),
            &[
                "connection",
                "show",
                "azure-ai",
                "--profile",
                "prod",
                "--json",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(json["fromProfile"], serde_json::json!(["api_key"]));
    assert_eq!(
        json["connection"]["config"]["endpoint"],
        "http://127.0.0.1:9/models"
    );
    let rename = run(
        home.path(),
        &[
            "connection",
            "update",
            "azure-ai",
            "--profile",
            "prod",
            "--rename",
            "x",
        ],
    );
    assert_eq!(rename.status.code(), Some(2));
    assert!(
        text(&rename.stderr).contains("rename it without --profile"),
        "{}",
        text(&rename.stderr)
    );

    // Each profile's key is its own keychain entry; deleting goes through to the keychain.
    let prod_account = format!("{id}@prod/api_key");
    let dev_account = format!("{id}@dev/api_key");
    assert_eq!(
        keychain.get(&prod_account).unwrap().as_deref(),
        Some(PROD_KEY)
    );
    assert_eq!(
        keychain.get(&dev_account).unwrap().as_deref(),
        Some(DEV_KEY)
    );
    ok(&run(home.path(), &["profile", "delete", "prod"]));
    assert_eq!(keychain.get(&prod_account).unwrap(), None);
    ok(&run(home.path(), &["connection", "delete", "azure-ai"]));
    assert_eq!(keychain.get(&dev_account).unwrap(), None);
    assert_eq!(keychain.get(&format!("{id}/api_key")).unwrap(), None);
}

#[test]
fn an_unknown_profile_exits_2_and_says_how_to_create_it() {
    let home = tempfile::tempdir().unwrap();
    for out in [
        weft(home.path())
            .args(["--profile", "qa", "flow", "validate"])
            .arg(example("chat.weft.yaml"))
            .output()
            .unwrap(),
        weft(home.path())
            .args(["connection", "list"])
            .env("WEFT_PROFILE", "qa")
            .output()
            .unwrap(),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr)
                .contains("no profile is named `qa`; create it with `weft profile create qa`"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn profiles_are_listed_created_and_deleted() {
    let home = tempfile::tempdir().unwrap();
    let empty = run(home.path(), &["profile", "list"]);
    ok(&empty);
    assert_eq!(
        text(&empty.stdout),
        "no profiles yet; create one with `weft profile create NAME`\n"
    );
    ok(&run(home.path(), &["profile", "create", "prod"]));
    ok(&run(home.path(), &["profile", "create", "dev"]));
    let taken = run(home.path(), &["profile", "create", "PROD"]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        text(&taken.stderr).contains("already exists"),
        "{}",
        text(&taken.stderr)
    );
    let bad = run(home.path(), &["profile", "create", "a@b"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("not a valid profile name"));
    let listed = run(home.path(), &["profile", "list"]);
    assert_eq!(
        text(&listed.stdout),
        "  dev   changes 0 connections\n  prod  changes 0 connections\n"
    );
    ok(&run(home.path(), &["profile", "delete", "Dev"]));
    let json: serde_json::Value =
        serde_json::from_slice(&run(home.path(), &["profile", "list", "--json"]).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["name"], "prod");
    assert_eq!(json[0]["active"], false);
}

#[test]
fn a_missing_environment_variable_fails_the_run_and_names_it() {
    if common::keychain().is_none() {
        return;
    }
    let fake = FakeEndpoint::start(vec![answer("resolved")]);
    let home = tempfile::tempdir().unwrap();
    ok(&weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            "endpoint=${env:WEFT_TEST_AZURE_ENDPOINT}/models",
            "--secret",
            "api_key",
        ],
        &format!("{BASE_KEY}\n"),
    ));
    let chat = example("chat.weft.yaml");
    let unset = weft(home.path())
        .args(["flow", "run"])
        .arg(&chat)
        .args(["--input", "question=q"])
        .env_remove("WEFT_TEST_AZURE_ENDPOINT")
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(1), "{}", text(&unset.stderr));
    assert!(
        text(&unset.stderr).contains(
            "connection `azure-ai`'s endpoint reads ${env:WEFT_TEST_AZURE_ENDPOINT}, which is not set; set it, or edit the connection"
        ),
        "{}",
        text(&unset.stderr)
    );
    let set = weft(home.path())
        .args(["flow", "run"])
        .arg(&chat)
        .args(["--input", "question=q"])
        .env("WEFT_TEST_AZURE_ENDPOINT", &fake.base)
        .output()
        .unwrap();
    ok(&set);
    assert_eq!(text(&set.stdout), "answer: resolved\n");
    assert_eq!(fake.requests().len(), 1);
    // Stored as written, never resolved.
    let shown = text(&run(home.path(), &["connection", "show", "azure-ai"]).stdout);
    assert!(
        shown.contains("endpoint   ${env:WEFT_TEST_AZURE_ENDPOINT}/models\n"),
        "{shown}"
    );
    assert!(!holds(&stored_bytes(home.path()), &fake.base));
    ok(&run(home.path(), &["connection", "delete", "azure-ai"]));
}
