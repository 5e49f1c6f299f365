//! No secret in a cassette: recorded with an API key, a Microsoft Entra ID bearer token, service
//! keys, and an HTTP request node carrying secrets in a header, the query and the body (which
//! the server echoes back), the file's bytes hold none of them; and it still replays.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use serde_json::json;
use weft_ai::content_safety::{AnalyzeRequest, ContentSafetyTarget};
use weft_ai::http::{HttpBody, HttpRequest};
use weft_ai::search::{SearchRequest, SearchTarget};
use weft_ai::serp::{SerpRequest, SerpTarget};
use weft_ai::{ApiKey, Credential, EmbeddingsRequest, Handles};
use weft_cassette::{CassetteMode, Pace};
use weft_engine::services::Services;
use weft_testkit::{
    Answer, AzureFake, ContentSafetyFake, HttpFake, SearchFake, SerpFake, holds, stored_bytes,
};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ0In0.c2lnbmF0dXJlLWVudHJh";
const CONTENT_SAFETY_KEY: &str = "cs-key-8d2f61aa";
const SERP_KEY: &str = "serp-key-0b7e44c1";
const SEARCH_KEY: &str = "search-key-93ac5d70";
const HEADER_SECRET: &str = "hdr-secret-4411";
const QUERY_SECRET: &str = "q+secret/77==";
const BODY_SECRET: &str = "body-secret-\"quoted\"-12";

/// A directory holding a stand-in `az` that hands out [`TOKEN`], as `az account
/// get-access-token -o json` prints one (shell builtins only: nothing else is on that PATH).
fn az() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let printed = json!({
        "accessToken": TOKEN,
        "expiresOn": "2100-01-01 00:00:00.000000",
        "expires_on": 4_102_444_800_i64,
        "subscription": "00000000-0000-0000-0000-000000000000",
        "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "tokenType": "Bearer",
    });
    let script = format!("#!/bin/sh\nprintf '%s\\n' '{printed}'\n");
    let path = dir.path().join("az");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn no_key_token_or_secret_reaches_the_cassette() {
    let azure = AzureFake::setup()
        .deployment(DEPLOYMENT)
        .key(KEY)
        .token(TOKEN)
        .start();
    let safety = ContentSafetyFake::setup().key(CONTENT_SAFETY_KEY).start();
    let serp = SerpFake::setup()
        .key(SERP_KEY)
        .result("Rust", "https://www.rust-lang.org", "A language")
        .start();
    let search = SearchFake::setup()
        .key(SEARCH_KEY)
        .index("handbook", vec![json!({"id": "1", "content": "policy"})])
        .start();
    let http = HttpFake::start(vec![
        Answer::json(200, &json!({"echo": BODY_SECRET, "seen": QUERY_SECRET}))
            .header("x-echo", HEADER_SECRET),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.cassette.jsonl");
    let sign_in = az();
    let live = Services::from_client(client().with_sign_in_path(sign_in.path()));
    let recording = open(&path, CassetteMode::Record);
    let ports = recording.wrap(live);
    let handles = Handles::default();

    let endpoint = v1(&azure.base);
    let with_key = key();
    let (call, _) = call(&endpoint, &with_key);
    // A prompt that quotes the key is masked too.
    let quoting = ask(&format!("is {KEY} a key?"));
    ports.model.chat(&call, &quoting).await.unwrap();
    ports
        .model
        .chat_stream(&call, &ask("stream"))
        .await
        .unwrap();
    let embeddings = EmbeddingsRequest {
        input: vec!["cat".into()],
        dimensions: None,
    };
    ports.model.embeddings(&call, &embeddings).await.unwrap();
    let entra = Credential::Entra { scope: None };
    let (signed_in, _) = common::call(&endpoint, &entra);
    ports
        .model
        .chat(&signed_in, &ask("with a token"))
        .await
        .unwrap();
    assert_eq!(
        azure.requests().last().unwrap().header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str()),
        "the call did carry the token"
    );

    let safety_target =
        ContentSafetyTarget::new(&safety.base, ApiKey::new(CONTENT_SAFETY_KEY)).unwrap();
    let text = AnalyzeRequest {
        text: "hello".into(),
        ..AnalyzeRequest::default()
    };
    ports
        .content_safety
        .analyze(&safety_target, &text, &handles)
        .await
        .unwrap();
    let serp_target = SerpTarget::new(&serp.base, ApiKey::new(SERP_KEY)).unwrap();
    let web = SerpRequest {
        query: "rust".into(),
        ..SerpRequest::default()
    };
    ports
        .web_search
        .search(&serp_target, &web, &handles)
        .await
        .unwrap();
    let search_target = SearchTarget::new(&search.base, ApiKey::new(SEARCH_KEY)).unwrap();
    let lookup = SearchRequest {
        index: "handbook".into(),
        search: Some("policy".into()),
        ..SearchRequest::default()
    };
    ports
        .document_search
        .query(&search_target, &lookup, &handles)
        .await
        .unwrap();
    let node = HttpRequest {
        method: "POST".into(),
        url: format!("{}/v1/hook?token={QUERY_SECRET}", http.base),
        headers: vec![
            ("X-Api-Token".into(), format!("Token {HEADER_SECRET}")),
            ("Authorization".into(), format!("Bearer {HEADER_SECRET}")),
        ],
        query: vec![("also".into(), QUERY_SECRET.into())],
        body: Some(
            json!({"token": BODY_SECRET, "note": format!("{{\"k\": {}}}", json!(BODY_SECRET))}),
        ),
        secrets: [HEADER_SECRET, QUERY_SECRET, BODY_SECRET]
            .into_iter()
            .map(ApiKey::new)
            .collect(),
        secret_origin: None,
    };
    let sent = ports.http.send(&node, &handles).await.unwrap();
    assert_eq!(
        sent.body,
        HttpBody::Json(json!({"echo": BODY_SECRET, "seen": QUERY_SECRET}))
    );
    recording.save().unwrap();
    assert_eq!(recording.tally().recorded, 8);

    let bytes = stored_bytes(dir.path());
    for secret in [
        KEY,
        TOKEN,
        CONTENT_SAFETY_KEY,
        SERP_KEY,
        SEARCH_KEY,
        HEADER_SECRET,
        QUERY_SECRET,
        BODY_SECRET,
        // As JSON and a query string write them.
        "q%2Bsecret%2F77%3D%3D",
        "body-secret-\\\"quoted\\\"-12",
    ] {
        assert!(!holds(&bytes, secret), "{secret} is in the cassette");
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.to_ascii_lowercase().contains("authorization"),
        "{text}"
    );
    assert!(text.contains("******"));

    // Masked the same way each time, the requests still find their recordings.
    let replaying = open_with(&path, CassetteMode::Replay, true, Pace::Instant);
    let ports = replaying.wrap(offline());
    ports.model.chat(&call, &quoting).await.unwrap();
    ports
        .model
        .chat(&signed_in, &ask("with a token"))
        .await
        .unwrap();
    let replayed = ports.http.send(&node, &handles).await.unwrap();
    assert_eq!(
        replayed.body,
        HttpBody::Json(json!({"echo": "******", "seen": "******"}))
    );
    assert_eq!(replaying.tally().replayed, 3);
}
