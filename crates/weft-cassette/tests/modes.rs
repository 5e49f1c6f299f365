//! What each mode does with a call the file does not hold: strict replay refuses it naming what
//! differs from the closest recording, plain replay lets it through uncounted as recorded, Fill
//! records only what is missing; and the file itself: missing, corrupt, sorted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use url::Url;
use weft_ai::{Endpoint, InferenceError};
use weft_cassette::{Cassette, CassetteError, CassetteMode, CassetteOptions, Pace, Tally};
use weft_testkit::{AzureFake, Reply};

/// A cassette at `path` holding one answer to `ask("Hello")`, recorded against `fake`.
async fn recorded_hello(fake: &AzureFake, path: &std::path::Path) {
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let recording = open(path, CassetteMode::Record);
    recording
        .wrap(live())
        .model
        .chat(&call, &ask("Hello"))
        .await
        .unwrap();
    recording.save().unwrap();
}

#[tokio::test]
async fn strict_replay_refuses_an_unrecorded_call_naming_the_file_and_what_differs() {
    let fake = AzureFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.cassette.jsonl");
    recorded_hello(&fake, &path).await;

    let strict = open_with(&path, CassetteMode::Replay, true, Pace::Instant);
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let err = strict
        .wrap(live())
        .model
        .chat(&call, &ask("Hi"))
        .await
        .unwrap_err();
    let InferenceError::NotRecorded { message } = &err else {
        panic!("{err:?}");
    };
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains(r#"body.messages[1].content: "Hi" ≠ "Hello""#),
        "{message}"
    );
    assert_eq!(fake.requests().len(), 1, "nothing went live");
    assert_eq!(strict.tally(), Tally::default());

    let embeddings = weft_ai::EmbeddingsRequest {
        input: vec!["cat".into()],
        dimensions: None,
    };
    let err = strict
        .wrap(live())
        .model
        .embeddings(&call, &embeddings)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("holds no embeddings call at all"),
        "{err}"
    );
}

#[tokio::test]
async fn plain_replay_lets_an_unrecorded_call_through_live_and_keeps_the_file() {
    let fake = AzureFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.cassette.jsonl");
    recorded_hello(&fake, &path).await;
    let before = std::fs::read(&path).unwrap();

    let replaying = open(&path, CassetteMode::Replay);
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let ports = replaying.wrap(live());
    ports.model.chat(&call, &ask("Hello")).await.unwrap();
    let answer = ports.model.chat(&call, &ask("Hi")).await.unwrap();
    assert_eq!(answer.text, "Hello from gpt-4o-mini");
    assert_eq!(
        replaying.tally(),
        Tally {
            replayed: 1,
            recorded: 0,
            live: 1
        }
    );
    replaying.save().unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a replay writes nothing"
    );
    assert_eq!(
        fake.requests().len(),
        2,
        "the recording and the unrecorded call"
    );
}

#[tokio::test]
async fn fill_records_only_what_is_missing() {
    let fake = AzureFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.cassette.jsonl");
    recorded_hello(&fake, &path).await;

    let filling = open(&path, CassetteMode::Fill);
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let ports = filling.wrap(live());
    ports.model.chat(&call, &ask("Hello")).await.unwrap();
    ports.model.chat(&call, &ask("Bonjour")).await.unwrap();
    // A second Hello is a repeat the file does not hold yet: missing, so recorded.
    ports.model.chat(&call, &ask("Hello")).await.unwrap();
    filling.save().unwrap();
    assert_eq!(
        filling.tally(),
        Tally {
            replayed: 1,
            recorded: 2,
            live: 0
        }
    );
    let sent = fake.requests();
    assert_eq!(
        sent.len(),
        3,
        "the first recording, Bonjour and the second Hello"
    );
    assert!(sent[1].body.contains("Bonjour"));

    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("\"seq\":1"),
        "the second Hello is repeat 1: {text}"
    );
    let again = open_with(&path, CassetteMode::Replay, true, Pace::Instant);
    let ports = again.wrap(offline());
    ports.model.chat(&call, &ask("Hello")).await.unwrap();
    ports.model.chat(&call, &ask("Bonjour")).await.unwrap();
    assert_eq!(again.tally().replayed, 2);
}

#[tokio::test]
async fn another_api_version_replays_the_same_recording() {
    let fake = AzureFake::setup().deployment(DEPLOYMENT).start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dated.cassette.jsonl");
    let dated = |version: &str| Endpoint::AzureOpenAi {
        resource: Url::parse(&fake.base).unwrap(),
        deployment: None,
        api_version: version.to_owned(),
    };
    let credential = key();
    let old = dated("2024-10-21");
    let (call_old, _) = call(&old, &credential);
    let recording = open(&path, CassetteMode::Record);
    let recorded = recording
        .wrap(live())
        .model
        .chat(&call_old, &ask("Hello"))
        .await
        .unwrap();
    recording.save().unwrap();
    assert!(fake.requests()[0].target.contains("api-version=2024-10-21"));

    let new = dated("2025-04-01-preview");
    let (call_new, _) = call(&new, &credential);
    let strict = open_with(&path, CassetteMode::Replay, true, Pace::Instant);
    let replayed = strict
        .wrap(offline())
        .model
        .chat(&call_new, &ask("Hello"))
        .await
        .unwrap();
    assert_eq!(replayed.text, recorded.text);
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("api-version"),
        "the version is not written either"
    );
}

#[tokio::test]
async fn the_file_has_one_sorted_line_per_interaction_and_records_again_the_same() {
    let fake = AzureFake::setup()
        .deployment(DEPLOYMENT)
        .reply(DEPLOYMENT, Reply::Json(200, completion("one")))
        .reply(DEPLOYMENT, Reply::Json(200, completion("two")))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.cassette.jsonl");
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let record = || async {
        let recording = open(&path, CassetteMode::Record);
        let ports = recording.wrap(live());
        for text in ["b", "a", "c", "a"] {
            ports.model.chat(&call, &ask(text)).await.unwrap();
        }
        recording.save().unwrap();
        std::fs::read_to_string(&path).unwrap()
    };
    let first = record().await;
    let lines: Vec<serde_json::Value> = first
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{first}");
    let order: Vec<(String, u64)> = lines
        .iter()
        .map(|line| {
            (
                line["key"].as_str().unwrap().to_owned(),
                line["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "sorted by key, then repeat");
    assert!(lines.iter().all(|line| line["service"] == "chat"));
    assert!(
        lines
            .iter()
            .all(|line| line["request"]["body"]["temperature"] == 0.2)
    );
    // The scripted answers ran out after two: from then on the fake answers the same each
    // time, so a second recording of the same calls writes the same bytes but the durations.
    let strip = |text: &str| {
        text.lines()
            .map(|line| {
                let mut line: serde_json::Value = serde_json::from_str(line).unwrap();
                line["duration_ms"] = 0.into();
                line.to_string()
            })
            .collect::<Vec<_>>()
    };
    let second = record().await;
    let third = record().await;
    assert_eq!(strip(&second), strip(&third));
}

#[test]
fn a_missing_replay_file_and_a_corrupt_line_are_errors_that_say_where() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.cassette.jsonl");
    let replay = CassetteOptions {
        mode: CassetteMode::Replay,
        strict: false,
        pace: Pace::Instant,
    };
    let err = Cassette::open(&path, replay).err().unwrap();
    assert!(matches!(err, CassetteError::Missing { .. }));
    assert!(
        err.to_string().contains("record one with --record FILE"),
        "{err}"
    );
    let fill = CassetteOptions {
        mode: CassetteMode::Fill,
        ..replay
    };
    assert!(
        Cassette::open(&path, fill).is_ok(),
        "Fill starts a new file"
    );

    std::fs::write(
        &path,
        "\n{\"key\":\"k\",\"service\":\"chat\",\"seq\":0,\"duration_ms\":1,\"request\":{},\"response\":{\"text\":\"hi\",\"finish_reason\":null,\"usage\":null,\"model\":null,\"request_id\":null}}\n{not json\n",
    )
    .unwrap();
    let err = Cassette::open(&path, replay).err().unwrap();
    assert!(
        matches!(err, CassetteError::BadLine { line: 3, .. }),
        "{err}"
    );
    std::fs::write(
        &path,
        "{\"key\":\"k\",\"service\":\"embeddings\",\"seq\":0,\"duration_ms\":1,\"request\":{},\"response\":{\"text\":\"hi\"}}\n",
    )
    .unwrap();
    let err = Cassette::open(&path, replay).err().unwrap();
    assert!(
        matches!(err, CassetteError::BadLine { line: 1, .. })
            && err.to_string().contains("embeddings answer"),
        "{err}"
    );
}
