//! Each port recorded against weft-testkit's loopback fakes, then replayed with no network
//! behind the ports at all: the same answers, and not one more request at the fakes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;
use weft_ai::content_safety::{Analysis, AnalyzeRequest, Category, ContentSafetyTarget};
use weft_ai::http::{HttpBody, HttpRequest};
use weft_ai::search::{SearchRequest, SearchTarget, VectorQuery};
use weft_ai::serp::{SerpRequest, SerpTarget};
use weft_ai::{ApiKey, ChatResponse, EmbeddingsRequest, Handles};
use weft_cassette::{CassetteMode, Tally};
use weft_testkit::{
    Answer, AzureFake, ContentSafetyFake, HttpFake, Reply, SearchFake, SerpFake, chat_stream,
};

/// `answer` without the service's request id, which a cassette does not keep.
fn unnamed(answer: ChatResponse) -> ChatResponse {
    ChatResponse {
        request_id: None,
        ..answer
    }
}

#[tokio::test]
async fn a_chat_completion_replays_offline_as_it_was_answered() {
    let fake = AzureFake::setup()
        .deployment(DEPLOYMENT)
        .reply(DEPLOYMENT, Reply::Json(200, completion("Paris.")))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.cassette.jsonl");
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);

    let recording = open(&path, CassetteMode::Record);
    let live = recording.wrap(live());
    let recorded = live
        .model
        .chat(&call, &ask("Capital of France?"))
        .await
        .unwrap();
    assert_eq!(recorded.text, "Paris.");
    recording.save().unwrap();
    assert_eq!(
        recording.tally(),
        Tally {
            replayed: 0,
            recorded: 1,
            live: 0
        }
    );

    let replaying = open(&path, CassetteMode::Replay);
    let offline = replaying.wrap(offline());
    let replayed = offline
        .model
        .chat(&call, &ask("Capital of France?"))
        .await
        .unwrap();
    assert!(recorded.request_id.is_some());
    assert_eq!(
        replayed,
        unnamed(recorded),
        "all but the request id, which names a live call"
    );
    assert_eq!(
        replaying.tally(),
        Tally {
            replayed: 1,
            recorded: 0,
            live: 0
        }
    );
    assert_eq!(fake.requests().len(), 1, "the replay asked nobody");
}

#[tokio::test]
async fn a_streamed_chat_keeps_its_chunks_in_order() {
    let fake = AzureFake::setup()
        .deployment(DEPLOYMENT)
        .reply(
            DEPLOYMENT,
            chat_stream(&["The ", "capital ", "is ", "Paris."]),
        )
        .start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.cassette.jsonl");
    let endpoint = v1(&fake.base);
    let credential = key();

    let recording = open(&path, CassetteMode::Record);
    let (call, mut heard) = call(&endpoint, &credential);
    let recorded = recording
        .wrap(live())
        .model
        .chat_stream(&call, &ask("Capital of France?"))
        .await
        .unwrap();
    let live_pieces = deltas(&mut heard);
    assert_eq!(
        live_pieces,
        ["The ", "capital ", "is ", "Paris."],
        "still heard live"
    );
    recording.save().unwrap();

    let replaying = open(&path, CassetteMode::Replay);
    let (call, mut heard) = common::call(&endpoint, &credential);
    let replayed = replaying
        .wrap(offline())
        .model
        .chat_stream(&call, &ask("Capital of France?"))
        .await
        .unwrap();
    assert_eq!(deltas(&mut heard), live_pieces);
    assert_eq!(replayed, unnamed(recorded));
    assert_eq!(replayed.text, "The capital is Paris.");
    assert_eq!(replayed.usage.unwrap().total_tokens, 15);

    // Streamed and unstreamed are two requests: an unstreamed call finds no recording.
    let strict = open_with(
        &path,
        CassetteMode::Replay,
        true,
        weft_cassette::Pace::Instant,
    );
    let err = strict
        .wrap(offline())
        .model
        .chat(&call, &ask("Capital of France?"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("stream: false ≠ true"), "{err}");
}

#[tokio::test]
async fn embeddings_replay_their_vectors() {
    let fake = AzureFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("embeddings.cassette.jsonl");
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let request = EmbeddingsRequest {
        input: vec!["cat".into(), "dog".into()],
        dimensions: Some(3),
    };

    let recording = open(&path, CassetteMode::Record);
    let recorded = recording
        .wrap(live())
        .model
        .embeddings(&call, &request)
        .await
        .unwrap();
    recording.save().unwrap();
    assert_eq!(
        recorded.vectors,
        vec![vec![0.25, -0.5, 0.0], vec![0.25, -0.5, 1.0]]
    );

    let replaying = open(&path, CassetteMode::Replay);
    let replayed = replaying
        .wrap(offline())
        .model
        .embeddings(&call, &request)
        .await
        .unwrap();
    assert_eq!(replayed, recorded);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn content_safety_web_search_document_search_and_http_replay_offline() {
    let safety = ContentSafetyFake::setup().severity("Violence", 4).start();
    let serp = SerpFake::setup()
        .result(
            "Rust",
            "https://www.rust-lang.org",
            "A language empowering everyone",
        )
        .start();
    let search = SearchFake::setup()
        .index(
            "handbook",
            vec![
                json!({"id": "1", "title": "Holidays", "content": "holiday policy", "embedding": [0.0, 1.0]}),
                json!({"id": "2", "title": "Travel", "content": "travel policy", "embedding": [1.0, 0.0]}),
            ],
        )
        .start();
    let http = HttpFake::start(vec![
        Answer::json(201, &json!({"id": 7, "ok": true})).header("x-trace", "abc"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("services.cassette.jsonl");
    let handles = Handles::default();

    let safety_target = ContentSafetyTarget::new(&safety.base, ApiKey::new("cs-key")).unwrap();
    let analysis = AnalyzeRequest {
        text: "a violent text".into(),
        categories: vec![Category::Violence],
        ..AnalyzeRequest::default()
    };
    let serp_target = SerpTarget::new(&serp.base, ApiKey::new("serp-key")).unwrap();
    let web = SerpRequest {
        query: "rust language".into(),
        num: Some(1),
        ..SerpRequest::default()
    };
    let search_target = SearchTarget::new(&search.base, ApiKey::new("search-key")).unwrap();
    let lookup = SearchRequest {
        index: "handbook".into(),
        search: Some("policy".into()),
        vector: Some(VectorQuery {
            vector: vec![0.1, 0.9],
            fields: vec!["embedding".into()],
            k: 1,
        }),
        select: vec!["id".into(), "title".into()],
        ..SearchRequest::default()
    };
    let post = HttpRequest {
        method: "POST".into(),
        url: format!("{}/v1/items?source=weft", http.base),
        headers: vec![("x-request-kind".into(), "test".into())],
        query: vec![("q".into(), "a b".into())],
        body: Some(json!({"name": "item"})),
        secrets: Vec::new(),
        secret_origin: None,
    };

    let recording = open(&path, CassetteMode::Record);
    let ports = recording.wrap(live());
    let analysed = ports
        .content_safety
        .analyze(&safety_target, &analysis, &handles)
        .await
        .unwrap();
    let found = ports
        .web_search
        .search(&serp_target, &web, &handles)
        .await
        .unwrap();
    let documents = ports
        .document_search
        .query(&search_target, &lookup, &handles)
        .await
        .unwrap();
    let reply = ports.http.send(&post, &handles).await.unwrap();
    recording.save().unwrap();
    assert_eq!(analysed.severity(Category::Violence), Some(4));
    assert_eq!(found[0].link, "https://www.rust-lang.org");
    assert!(!documents.is_empty());
    assert_eq!(reply.status, 201);
    assert_eq!(recording.tally().recorded, 4);

    let replaying = open(&path, CassetteMode::Replay);
    let ports = replaying.wrap(offline());
    assert_eq!(
        ports
            .content_safety
            .analyze(&safety_target, &analysis, &handles)
            .await
            .unwrap(),
        Analysis {
            request_id: None,
            ..analysed
        }
    );
    assert_eq!(
        ports
            .web_search
            .search(&serp_target, &web, &handles)
            .await
            .unwrap(),
        found
    );
    assert_eq!(
        ports
            .document_search
            .query(&search_target, &lookup, &handles)
            .await
            .unwrap(),
        documents
    );
    let replayed = ports.http.send(&post, &handles).await.unwrap();
    assert_eq!(replayed, reply);
    assert_eq!(replayed.body, HttpBody::Json(json!({"id": 7, "ok": true})));
    assert!(replayed.headers.contains(&("x-trace".into(), "abc".into())));
    assert_eq!(
        replaying.tally(),
        Tally {
            replayed: 4,
            recorded: 0,
            live: 0
        }
    );
    assert_eq!(
        (
            safety.requests().len(),
            serp.requests().len(),
            search.requests().len(),
            http.requests().len()
        ),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn the_recorded_request_is_the_body_that_was_sent_without_its_volatile_fields() {
    let fake = AzureFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sent.cassette.jsonl");
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let recording = open(&path, CassetteMode::Record);
    let request = weft_ai::ChatRequest {
        seed: Some(42),
        max_completion_tokens: Some(64),
        ..ask("Hello")
    };
    recording
        .wrap(live())
        .model
        .chat_stream(&call, &request)
        .await
        .unwrap();
    recording.save().unwrap();

    let mut sent = fake.requests()[0].json();
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    let sent = sent.as_object_mut().unwrap();
    sent.remove("stream");
    sent.remove("stream_options");
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
    assert_eq!(line["request"]["body"], json!(sent));
    assert_eq!(
        line["request"]["body"]["seed"], 42,
        "a seed asks for another answer: kept"
    );
    assert_eq!(line["request"]["stream"], true);
    assert_eq!(line["request"]["path"], "/openai/v1/chat/completions");
    assert_eq!(line["request"]["deployment"], DEPLOYMENT);
    assert_eq!(line["chunks"][0]["text"], "Hello from ");
}
