//! The Content Safety client against weft-testkit's fake resource: the documented request, each
//! error class, retries, and the key only where it belongs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::client;
use weft_ai::content_safety::{
    Analysis, AnalyzeRequest, Category, ContentSafetyTarget, MAX_TEXT_CHARS, OutputType, analyze,
};
use weft_ai::{ApiKey, ClientEvent, Handles, InferenceError};
use weft_testkit::{ContentSafetyFake, Failure};

const KEY: &str = "cs-key-0123456789";

/// Analyses `request` against `fake` with `key`, through the fast-retry client and no handles.
async fn ask(
    fake: &ContentSafetyFake,
    key: &str,
    request: &AnalyzeRequest,
) -> Result<Analysis, InferenceError> {
    analyze(&client(), &target(fake, key), request, &Handles::default()).await
}

fn target(fake: &ContentSafetyFake, key: &str) -> ContentSafetyTarget {
    ContentSafetyTarget::new(&fake.base, ApiKey::new(key)).unwrap()
}

fn text(text: &str) -> AnalyzeRequest {
    AnalyzeRequest {
        text: text.to_owned(),
        ..AnalyzeRequest::default()
    }
}

#[tokio::test]
async fn analyses_a_text_with_the_documented_request_and_reads_the_answer() {
    let fake = ContentSafetyFake::setup()
        .key(KEY)
        .severity("Violence", 5)
        .blocklist("brand-terms", &["Contoso Ultra"])
        .start();
    let request = AnalyzeRequest {
        text: "Is the contoso ultra safe?".into(),
        categories: vec![Category::Hate, Category::Violence],
        blocklist_names: vec!["brand-terms".into()],
        halt_on_blocklist_hit: false,
        output_type: OutputType::EightSeverityLevels,
    };
    let analysis = ask(&fake, KEY, &request).await.unwrap();
    assert_eq!(analysis.severity(Category::Violence), Some(5));
    assert_eq!(analysis.severity(Category::Hate), Some(0));
    assert_eq!(analysis.severity(Category::Sexual), None, "not asked for");
    assert_eq!(analysis.blocklists_match.len(), 1);
    assert_eq!(analysis.blocklists_match[0].blocklist_name, "brand-terms");
    assert_eq!(
        analysis.blocklists_match[0].blocklist_item_text,
        "Contoso Ultra"
    );

    let [sent] = fake.requests().try_into().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.target,
        "/contentsafety/text:analyze?api-version=2024-09-01"
    );
    assert_eq!(sent.header("Ocp-Apim-Subscription-Key"), Some(KEY));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.json(),
        json!({
            "text": "Is the contoso ultra safe?",
            "categories": ["Hate", "Violence"],
            "blocklistNames": ["brand-terms"],
            "outputType": "EightSeverityLevels",
        })
    );
    // The key travels in its header and nowhere else.
    let elsewhere: Vec<&(String, String)> = sent
        .headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("Ocp-Apim-Subscription-Key"))
        .collect();
    assert!(!format!("{elsewhere:?}").contains(KEY), "{elsewhere:?}");
    assert!(!sent.target.contains(KEY) && !sent.body.contains(KEY));
}

#[tokio::test]
async fn four_levels_by_default_and_a_blocklist_hit_can_halt_the_analysis() {
    let fake = ContentSafetyFake::setup()
        .severity("Hate", 5)
        .blocklist("words", &["forbidden"])
        .start();
    let four = ask(&fake, KEY, &text("plain")).await.unwrap();
    assert_eq!(four.severity(Category::Hate), Some(4));
    assert_eq!(
        four.categories_analysis.len(),
        4,
        "all four when none named"
    );

    let halted = ask(
        &fake,
        KEY,
        &AnalyzeRequest {
            text: "a forbidden word".into(),
            blocklist_names: vec!["words".into()],
            halt_on_blocklist_hit: true,
            ..AnalyzeRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(halted.blocklists_match.len(), 1);
    assert!(halted.categories_analysis.is_empty());
    assert_eq!(
        fake.requests()[0].json()["outputType"],
        "FourSeverityLevels"
    );
    assert_eq!(fake.requests()[1].json()["haltOnBlocklistHit"], true);
}

#[tokio::test]
async fn a_refused_key_says_to_check_the_connections_key_and_never_shows_it() {
    let fake = ContentSafetyFake::setup().key(KEY).start();
    let wrong = "wrong-key-987";
    let err = ask(&fake, wrong, &text("hello")).await.unwrap_err();
    assert!(
        matches!(err, InferenceError::Unauthorized { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("check the connection's key"), "{message}");
    assert!(message.contains("Access denied"), "{message}");
    assert!(!message.contains(wrong), "{message}");
    assert_eq!(fake.requests().len(), 1, "a refused key is not retried");
}

#[tokio::test]
async fn an_unknown_blocklist_is_named_as_the_thing_to_check() {
    let fake = ContentSafetyFake::setup().start();
    let err = ask(
        &fake,
        KEY,
        &AnalyzeRequest {
            text: "hello".into(),
            blocklist_names: vec!["missing-list".into()],
            ..AnalyzeRequest::default()
        },
    )
    .await
    .unwrap_err();
    let InferenceError::NotFound { hint, message, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(hint.contains("blocklist"), "{hint}");
    assert!(message.contains("missing-list"), "{message}");
}

#[tokio::test]
async fn a_wrong_endpoint_path_is_a_not_found_that_says_what_the_endpoint_looks_like() {
    let fake = ContentSafetyFake::setup().start();
    let err = analyze(
        &client(),
        &ContentSafetyTarget::new(&format!("{}/some/proxy/", fake.base), ApiKey::new(KEY)).unwrap(),
        &text("hello"),
        &Handles::default(),
    )
    .await
    .unwrap_err();
    let InferenceError::NotFound { url, hint, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(
        url.ends_with("/some/proxy/contentsafety/text:analyze?api-version=2024-09-01"),
        "{url}"
    );
    assert!(hint.contains("cognitiveservices.azure.com"), "{hint}");
}

#[tokio::test]
async fn text_over_the_limit_is_refused_before_any_call() {
    let fake = ContentSafetyFake::setup().start();
    // Code points, not bytes: 10,000 two-byte characters are within the limit.
    let at_limit = "é".repeat(MAX_TEXT_CHARS);
    ask(&fake, KEY, &text(&at_limit)).await.unwrap();
    let over = "é".repeat(MAX_TEXT_CHARS + 1);
    let err = ask(&fake, KEY, &text(&over)).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, InferenceError::Config(_)), "{err:?}");
    assert!(message.contains("10001 characters"), "{message}");
    assert!(message.contains("at most 10000"), "{message}");
    assert!(message.contains("split it upstream"), "{message}");
    assert_eq!(fake.requests().len(), 1, "only the call within the limit");
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for() {
    let fake = ContentSafetyFake::setup()
        .fail_next(Failure::RateLimited {
            retry_after: Some(1),
        })
        .start();
    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let analysis = analyze(
        &client(),
        &target(&fake, KEY),
        &text("hello"),
        &Handles::default().with_events(events),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(analysis.categories_analysis.len(), 4);
    assert_eq!(fake.requests().len(), 2);
    match heard.try_recv().unwrap() {
        ClientEvent::Retrying { attempt, delay, .. } => {
            assert_eq!(attempt, 1);
            assert_eq!(delay, Duration::from_secs(1));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_ends_as_rate_limited_and_a_500_as_a_server_error() {
    let fake = ContentSafetyFake::setup()
        .fail_next(Failure::RateLimited { retry_after: None })
        .fail_next(Failure::RateLimited { retry_after: None })
        .fail_next(Failure::RateLimited { retry_after: None })
        .start();
    let err = ask(&fake, KEY, &text("hello")).await.unwrap_err();
    assert!(matches!(err, InferenceError::RateLimited { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("rate limited (HTTP 429)"),
        "{err}"
    );
    assert!(err.to_string().contains("exceeded the quota"), "{err}");
    assert_eq!(fake.requests().len(), 3, "the first try and two retries");

    for _ in 0..3 {
        fake.fail_next(Failure::Internal);
    }
    let err = ask(&fake, KEY, &text("hello")).await.unwrap_err();
    assert!(
        matches!(err, InferenceError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("try again later"), "{err}");
}

#[tokio::test]
async fn a_cancelled_call_ends_during_its_wait() {
    let fake = ContentSafetyFake::setup()
        .fail_next(Failure::RateLimited {
            retry_after: Some(30),
        })
        .start();
    let handles = Handles::default();
    let cancel = handles.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    let err = analyze(&client(), &target(&fake, KEY), &text("hello"), &handles)
        .await
        .unwrap_err();
    assert!(matches!(err, InferenceError::Cancelled { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_endpoint_that_is_not_a_url_says_what_one_looks_like() {
    let err = ContentSafetyTarget::new("contoso-safety", ApiKey::new(KEY)).unwrap_err();
    assert!(
        err.to_string()
            .contains("https://<resource>.cognitiveservices.azure.com"),
        "{err}"
    );
}

/// The engine's ports box these futures as `Send`: this stops compiling if one stops being.
#[test]
fn the_call_is_a_send_future() {
    fn send<T: Send>(_: &T) {}
    let (client, handles) = (client(), Handles::default());
    let target =
        ContentSafetyTarget::new("https://x.cognitiveservices.azure.com", ApiKey::new(KEY))
            .unwrap();
    let request = text("hello");
    send(&analyze(&client, &target, &request, &handles));
}

#[tokio::test]
async fn the_analysis_carries_the_services_request_id() {
    let resource = weft_testkit::HttpFake::start(vec![
        weft_testkit::Answer::json(200, &json!({"categoriesAnalysis": []}))
            .header("apim-request-id", "req-123"),
    ]);
    let target = ContentSafetyTarget::new(&resource.base, ApiKey::new(KEY)).unwrap();
    let analysis = analyze(&client(), &target, &text("hello"), &Handles::default())
        .await
        .unwrap();
    assert_eq!(analysis.request_id.as_deref(), Some("req-123"));
}
