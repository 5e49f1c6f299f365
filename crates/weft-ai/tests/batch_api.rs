//! The Batch API client against the fake Batch API: the whole path (upload, create, poll,
//! download), each way a batch ends, the service's refusals, retries and cancellation, and what
//! the uploaded file holds (the live call's body, never the key).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::batch_api::{
    self, Batch, BatchEndpoint, BatchError, BatchStatus, BatchTarget, OutputLine,
};
use weft_ai::{
    ApiKey, Call, ChatRequest, Credential, Endpoint, Handles, InferenceError, Message, Role,
};
use weft_testkit::{AzureFake, BatchApiFake, Failure};

const KEY: &str = "batch-s3cret-key";
const DEPLOYMENT: &str = "gpt-4o-batch";

fn target(base: &str, key: &str) -> BatchTarget {
    let endpoint = Endpoint::azure_openai_v1(Url::parse(base).unwrap());
    BatchTarget::new(&endpoint, Credential::Key(ApiKey::new(key))).unwrap()
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::new(Role::System, "Answer briefly."),
            Message::new(Role::User, text),
        ],
        temperature: Some(0.2),
        max_tokens: Some(50),
        ..ChatRequest::default()
    }
}

/// The input file of rows `row-0`, `row-1`… asking about each text.
fn jsonl(target: &BatchTarget, texts: &[&str]) -> Vec<u8> {
    texts
        .iter()
        .enumerate()
        .flat_map(|(row, text)| {
            target
                .chat_line(&format!("row-{row}"), DEPLOYMENT, &request(text))
                .unwrap()
        })
        .collect()
}

fn handles() -> Handles {
    Handles::new(CancellationToken::new())
}

/// Uploads `texts` and starts a batch over them.
async fn start(fake: &BatchApiFake, texts: &[&str]) -> (BatchTarget, Batch) {
    let client = support::client();
    let target = target(&fake.base, KEY);
    let file = batch_api::upload(
        &client,
        &target,
        "rows.jsonl",
        jsonl(&target, texts),
        &handles(),
    )
    .await
    .unwrap();
    let batch = batch_api::create(
        &client,
        &target,
        &file.id,
        BatchEndpoint::ChatCompletions,
        &handles(),
    )
    .await
    .unwrap();
    (target, batch)
}

async fn lines(target: &BatchTarget, file_id: &str) -> Vec<OutputLine> {
    let mut lines = Vec::new();
    let count = batch_api::download(&support::client(), target, file_id, &handles(), |line| {
        lines.push(line)
    })
    .await
    .unwrap();
    assert_eq!(count as usize, lines.len());
    lines
}

#[tokio::test]
async fn a_batch_is_uploaded_run_polled_and_its_answers_read_like_live_ones() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .failing_line("row-2")
        .start();
    let (target, batch) = start(&fake, &["one", "two", "three"]).await;
    assert_eq!(batch.status, BatchStatus::Validating);
    let mut seen = Vec::new();
    let done = batch_api::wait(
        &support::client(),
        &target,
        &batch.id,
        Duration::from_millis(1),
        &handles(),
        |batch| seen.push(batch.status.clone()),
    )
    .await
    .unwrap();
    assert_eq!(
        seen,
        [
            BatchStatus::InProgress,
            BatchStatus::Finalizing,
            BatchStatus::Completed
        ]
    );
    assert_eq!(
        (
            done.request_counts.total,
            done.request_counts.completed,
            done.request_counts.failed
        ),
        (3, 2, 1)
    );

    let output = lines(&target, done.output_file_id.as_deref().unwrap()).await;
    let answers: Vec<(String, String)> = output
        .iter()
        .map(|line| (line.custom_id.clone(), line.chat(&target).unwrap().text))
        .collect();
    assert_eq!(
        answers,
        [
            (
                "row-0".to_owned(),
                "Hello from gpt-4o-batch: one".to_owned()
            ),
            (
                "row-1".to_owned(),
                "Hello from gpt-4o-batch: two".to_owned()
            ),
        ]
    );
    let reply = output[0].chat(&target).unwrap();
    assert_eq!(reply.usage.unwrap().completion_tokens, 3);
    assert_eq!(reply.request_id.as_deref(), Some("req-0"));

    let errors = lines(&target, done.error_file_id.as_deref().unwrap()).await;
    assert_eq!(errors.len(), 1);
    let err = errors[0].chat(&target).unwrap_err();
    assert!(
        matches!(err, InferenceError::BadRequest { status: 400, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("The request row-2 is invalid"),
        "{err}"
    );

    // The routes and methods of the documented contract, each with the key in its header.
    let calls: Vec<(String, String)> = fake
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path().to_owned()))
        .collect();
    assert_eq!(calls[0], ("POST".into(), "/openai/v1/files".into()));
    assert_eq!(calls[1], ("POST".into(), "/openai/v1/batches".into()));
    assert_eq!(
        calls[2],
        ("GET".into(), format!("/openai/v1/batches/{}", batch.id))
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("api-key") == Some(KEY))
    );
    let create = fake.requests()[1].json();
    assert_eq!(
        create,
        serde_json::json!({"input_file_id": "file-0001", "endpoint": "/v1/chat/completions", "completion_window": "24h"})
    );
}

#[tokio::test]
async fn each_batched_body_is_the_body_a_live_call_sends_and_the_file_holds_no_key() {
    let batch_fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .start();
    let (_, _) = start(&batch_fake, &["first", "second"]).await;
    let uploaded = batch_fake.uploads().remove(0);
    assert!(!uploaded.contains(KEY), "{uploaded}");
    for request in batch_fake.requests() {
        assert!(!request.body.contains(KEY), "{}", request.body);
    }
    let lines: Vec<serde_json::Value> = uploaded
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["custom_id"], "row-0");
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["url"], "/v1/chat/completions");

    // The same request sent live to the same kind of endpoint.
    let live = AzureFake::setup().deployment(DEPLOYMENT).start();
    let endpoint = Endpoint::azure_openai_v1(Url::parse(&live.base).unwrap());
    let credential = Credential::Key(ApiKey::new(KEY));
    let call = Call {
        endpoint: &endpoint,
        credential: &credential,
        deployment: Some(DEPLOYMENT),
        cancel: CancellationToken::new(),
        events: None,
    };
    support::client()
        .chat(&call, &request("first"))
        .await
        .unwrap();
    assert_eq!(lines[0]["body"], live.requests()[0].json());
    assert_eq!(lines[0]["body"]["model"], DEPLOYMENT);
}

#[tokio::test]
async fn a_failed_batch_says_what_the_service_refused() {
    let fake = BatchApiFake::setup().key(KEY).deployment("another").start();
    let (target, batch) = start(&fake, &["one"]).await;
    let err = batch_api::wait(
        &support::client(),
        &target,
        &batch.id,
        Duration::from_millis(1),
        &handles(),
        |_| {},
    )
    .await
    .unwrap_err();
    let BatchError::Failed { batch: failed } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(failed.errors[0].code.as_deref(), Some("model_not_found"));
    let text = err.to_string();
    assert!(text.contains("line 1: The model deployment name"), "{text}");
    assert!(text.contains("Global-Batch"), "{text}");
}

#[tokio::test]
async fn an_expired_batch_is_an_error_that_keeps_the_batch() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .expire()
        .start();
    let (target, batch) = start(&fake, &["one", "two"]).await;
    let err = batch_api::wait(
        &support::client(),
        &target,
        &batch.id,
        Duration::from_millis(1),
        &handles(),
        |_| {},
    )
    .await
    .unwrap_err();
    let BatchError::Expired { batch: expired } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(expired.status, BatchStatus::Expired);
    assert!(err.to_string().contains("0 of 2 requests done"), "{err}");
}

#[tokio::test]
async fn a_refused_key_is_unauthorized_and_never_shown() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .start();
    let wrong = "wrong-s3cret";
    let target = target(&fake.base, wrong);
    let err = batch_api::upload(
        &support::client(),
        &target,
        "rows.jsonl",
        jsonl(&target, &["one"]),
        &handles(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, InferenceError::Unauthorized { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(wrong), "{err}");
    assert_eq!(fake.requests().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_throttled_create_is_tried_again() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .fail_create(Failure::RateLimited { retry_after: None })
        .start();
    let (_, batch) = start(&fake, &["one"]).await;
    assert_eq!(batch.status, BatchStatus::Validating);
    let creates = fake
        .requests()
        .iter()
        .filter(|r| r.path() == "/openai/v1/batches")
        .count();
    assert_eq!(creates, 2);
}

#[tokio::test]
async fn cancelling_the_handles_stops_waiting_at_once() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .start();
    let (target, batch) = start(&fake, &["one"]).await;
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.cancel();
    });
    let started = Instant::now();
    let err = batch_api::wait(
        &support::client(),
        &target,
        &batch.id,
        Duration::from_secs(60),
        &Handles::new(cancel),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BatchError::Call(InferenceError::Cancelled { .. })),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_cancelled_batch_goes_through_cancelling_and_ends_as_cancelled() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .start();
    let (target, batch) = start(&fake, &["one"]).await;
    let client = support::client();
    let cancelling = batch_api::cancel(&client, &target, &batch.id, &handles())
        .await
        .unwrap();
    assert_eq!(cancelling.status, BatchStatus::Cancelling);
    let err = batch_api::wait(
        &client,
        &target,
        &batch.id,
        Duration::from_millis(1),
        &handles(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, BatchError::Cancelled { .. }), "{err:?}");
    assert_eq!(
        fake.requests()[2].path(),
        format!("/openai/v1/batches/{}/cancel", batch.id)
    );
}

#[tokio::test]
async fn an_unknown_batch_is_a_not_found_that_says_what_to_check() {
    let fake = BatchApiFake::setup().key(KEY).start();
    let err = batch_api::get(
        &support::client(),
        &target(&fake.base, KEY),
        "batch_nope",
        &handles(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, InferenceError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("Global-Batch deployment"), "{err}");
}

#[test]
fn a_serverless_endpoint_has_no_batch_api() {
    let endpoint = Endpoint::Serverless {
        api_base: Url::parse("https://m.eastus2.models.ai.azure.com").unwrap(),
        api_version: "2024-05-01-preview".into(),
    };
    let err = BatchTarget::new(&endpoint, Credential::Key(ApiKey::new(KEY))).unwrap_err();
    assert!(err.to_string().contains("run the batch locally"), "{err}");
}

#[test]
fn an_input_file_takes_lines_until_azures_limits() {
    let target = target("https://res.openai.azure.com", KEY);
    let line = target
        .chat_line("row-0", DEPLOYMENT, &request("one"))
        .unwrap();
    let mut file = batch_api::InputFile::default();
    assert!(file.fits(&line));
    file.push(&line);
    assert_eq!(file.lines(), 1);
    assert!(!file.fits(&vec![b'x'; batch_api::MAX_FILE_BYTES]));
    assert_eq!(file.into_bytes(), line);
}

#[tokio::test]
async fn a_dated_azure_openai_or_foundry_connection_reaches_the_resources_v1_batch_api() {
    let fake = BatchApiFake::setup()
        .key(KEY)
        .deployment(DEPLOYMENT)
        .start();
    let resource = Url::parse(&fake.base).unwrap();
    let dated = Endpoint::AzureOpenAi {
        resource: resource.clone(),
        deployment: Some("pinned".into()),
        api_version: "2024-10-21".into(),
    };
    let foundry = Endpoint::foundry(resource, weft_ai::FoundryApi::ModelInference, None).unwrap();
    for endpoint in [dated, foundry] {
        let target = BatchTarget::new(&endpoint, Credential::Key(ApiKey::new(KEY))).unwrap();
        batch_api::upload(
            &support::client(),
            &target,
            "rows.jsonl",
            jsonl(&target, &["one"]),
            &handles(),
        )
        .await
        .unwrap();
    }
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.target == "/openai/v1/files"),
        "{:?}",
        fake.requests()
    );
}

#[tokio::test]
async fn a_line_that_is_not_a_result_line_is_named_by_its_number() {
    let fake = BatchApiFake::setup().key(KEY).start();
    let target = target(&fake.base, KEY);
    let client = support::client();
    let bytes = b"{\"custom_id\": \"row-0\", \"response\": null, \"error\": {\"code\": \"x\", \"message\": \"y\"}}\n\nnot json\n".to_vec();
    let file = batch_api::upload(&client, &target, "odd.jsonl", bytes, &handles())
        .await
        .unwrap();
    let mut seen = Vec::new();
    let err = batch_api::download(&client, &target, &file.id, &handles(), |line| {
        seen.push(line.custom_id)
    })
    .await
    .unwrap_err();
    assert_eq!(seen, ["row-0"]);
    let text = err.to_string();
    assert!(
        text.contains("line 3 of the batch's file file-0001"),
        "{text}"
    );
}
