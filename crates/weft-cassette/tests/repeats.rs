//! One request made several times: its answers replay in the order they were recorded, wrap
//! around after the last, and concurrent calls each get the next one, each answer exactly once
//! a cycle. And a replayed stream at the recorded pace keeps its gaps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use weft_ai::InferenceError;
use weft_ai::{
    Call, ChatRequest, ChatResponse, ClientEvent, EmbeddingsRequest, EmbeddingsResponse,
};
use weft_cassette::{CassetteMode, Pace};
use weft_engine::services::{BoxFuture, ModelClient, Services};
use weft_testkit::{AzureFake, Reply};

const ANSWERS: [&str; 4] = ["first", "second", "third", "fourth"];

/// A cassette holding the four answers to one request, recorded in order.
async fn four_repeats(path: &std::path::Path) -> AzureFake {
    let mut setup = AzureFake::setup().deployment(DEPLOYMENT);
    for text in ANSWERS {
        setup = setup.reply(DEPLOYMENT, Reply::Json(200, completion(text)));
    }
    let fake = setup.start();
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let recording = open(path, CassetteMode::Record);
    let ports = recording.wrap(live());
    for text in ANSWERS {
        assert_eq!(
            ports.model.chat(&call, &ask("same")).await.unwrap().text,
            text
        );
    }
    recording.save().unwrap();
    fake
}

#[tokio::test]
async fn repeats_replay_in_recorded_order_and_wrap_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeats.cassette.jsonl");
    let fake = four_repeats(&path).await;
    let endpoint = v1(&fake.base);
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    let replaying = open(&path, CassetteMode::Replay);
    let ports = replaying.wrap(offline());
    let mut heard = Vec::new();
    for _ in 0..6 {
        heard.push(ports.model.chat(&call, &ask("same")).await.unwrap().text);
    }
    assert_eq!(
        heard,
        ["first", "second", "third", "fourth", "first", "second"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_calls_get_each_of_four_answers_once_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeats.cassette.jsonl");
    let fake = four_repeats(&path).await;
    let replaying = open(&path, CassetteMode::Replay);
    let ports = replaying.wrap(offline());
    let base = Arc::new(fake.base.clone());
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let ports = ports.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let endpoint = v1(&base);
                let credential = key();
                let (call, _) = call(&endpoint, &credential);
                ports.model.chat(&call, &ask("same")).await.unwrap().text
            })
        })
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for handle in calls {
        *counts.entry(handle.await.unwrap()).or_default() += 1;
    }
    assert_eq!(
        counts,
        ANSWERS
            .iter()
            .map(|text| (text.to_string(), 4))
            .collect::<BTreeMap<_, _>>()
    );
    assert_eq!(replaying.tally().replayed, 16);
    assert_eq!(
        fake.requests().len(),
        4,
        "only the recording reached the fake"
    );
}

/// A model that streams "a", "b", "c" with `GAP` between them (in-process: the gaps are its own).
struct Slow;

const GAP: Duration = Duration::from_millis(150);

impl ModelClient for Slow {
    fn chat<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        self.chat_stream(call, request)
    }

    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        _: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        Box::pin(async move {
            for (index, piece) in ["a", "b", "c"].into_iter().enumerate() {
                if index > 0 {
                    tokio::time::sleep(GAP).await;
                }
                call.events
                    .as_ref()
                    .unwrap()
                    .send(ClientEvent::Delta(piece.into()))
                    .unwrap();
            }
            Ok(ChatResponse {
                text: "abc".into(),
                tool_calls: Vec::new(),
                finish_reason: None,
                usage: None,
                model: None,
                request_id: None,
            })
        })
    }

    fn embeddings<'a>(
        &'a self,
        _: &'a Call<'_>,
        _: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        unreachable!("not asked")
    }
}

/// When each piece of a replayed stream arrived after the call began.
async fn replay_times(ports: &Services) -> Vec<Duration> {
    let endpoint = v1("http://127.0.0.1:9");
    let credential = key();
    let (call, mut heard) = call(&endpoint, &credential);
    let request = ask("slow");
    let started = Instant::now();
    let replay = ports.model.chat_stream(&call, &request);
    tokio::pin!(replay);
    let mut times = Vec::new();
    loop {
        tokio::select! {
            Some(ClientEvent::Delta(_)) = heard.recv() => times.push(started.elapsed()),
            answer = &mut replay => {
                assert_eq!(answer.unwrap().text, "abc");
                break;
            }
        }
    }
    while let Ok(ClientEvent::Delta(_)) = heard.try_recv() {
        times.push(started.elapsed());
    }
    times
}

#[tokio::test]
async fn a_stream_replays_at_its_recorded_pace_or_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.cassette.jsonl");
    let recording = open(&path, CassetteMode::Record);
    let slow = {
        let mut ports = offline();
        ports.model = Arc::new(Slow);
        ports
    };
    let endpoint = v1("http://127.0.0.1:9");
    let credential = key();
    let (call, _) = call(&endpoint, &credential);
    recording
        .wrap(slow)
        .model
        .chat_stream(&call, &ask("slow"))
        .await
        .unwrap();
    recording.save().unwrap();

    let paced = open_with(&path, CassetteMode::Replay, true, Pace::Recorded);
    let times = replay_times(&paced.wrap(offline())).await;
    assert_eq!(times.len(), 3);
    let tolerance = Duration::from_millis(20);
    assert!(times[1] - times[0] + tolerance >= GAP, "{times:?}");
    assert!(times[2] - times[1] + tolerance >= GAP, "{times:?}");
    assert!(
        times[2] < GAP * 6,
        "roughly the recorded gaps, not more: {times:?}"
    );

    let instant = open_with(&path, CassetteMode::Replay, true, Pace::Instant);
    let times = replay_times(&instant.wrap(offline())).await;
    assert_eq!(times.len(), 3);
    assert!(times[2] < GAP / 2, "{times:?}");
}
