//! The SerpApi client against weft-testkit's fake: the parameters per engine, each error
//! class, retries, and the key masked in every URL and message although it travels in the
//! query string.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::client;
use weft_ai::serp::{Engine, OrganicResult, SerpRequest, SerpTarget, search};
use weft_ai::{ApiKey, ClientEvent, Handles, InferenceError};
use weft_testkit::{Answer, Failure, HttpFake, Recorded, SerpFake, SerpSetup};

/// A key with characters a query string must encode, so masking is tested in that form too.
const KEY: &str = "serp/key+42&x=1";

/// Sends `request` to the fake at `base` with `key`, through the fast-retry client and no handles.
async fn run(
    base: &str,
    key: &str,
    request: &SerpRequest,
) -> Result<Vec<OrganicResult>, InferenceError> {
    search(&client(), &target(base, key), request, &Handles::default()).await
}

fn three_results(setup: SerpSetup) -> SerpFake {
    setup
        .result(
            "Rust",
            "https://www.rust-lang.org/",
            "A language empowering everyone",
        )
        .result(
            "The Book",
            "https://doc.rust-lang.org/book/",
            "The Rust Programming Language",
        )
        .result(
            "Rust (video game)",
            "https://rust.facepunch.com/",
            "A survival game",
        )
        .start()
}

fn target(base: &str, key: &str) -> SerpTarget {
    SerpTarget::new(base, ApiKey::new(key)).unwrap()
}

fn ask(query: &str) -> SerpRequest {
    SerpRequest {
        query: query.to_owned(),
        ..SerpRequest::default()
    }
}

/// The query string's pairs, decoded.
fn params(request: &Recorded) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_google_search_sends_googles_parameters_and_cuts_the_results_to_num() {
    let fake = three_results(SerpFake::setup().key(KEY));
    let results = run(
        &fake.base,
        KEY,
        &SerpRequest {
            engine: Engine::Google,
            query: "rust language".into(),
            num: Some(2),
            location: Some("Austin, Texas, United States".into()),
            language: Some("en".into()),
            safe: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].position, 1);
    assert_eq!(results[1].title, "The Book");
    assert_eq!(results[1].link, "https://doc.rust-lang.org/book/");
    assert_eq!(
        results[0].snippet.as_deref(),
        Some("A language empowering everyone")
    );

    let [sent] = fake.requests().try_into().unwrap();
    assert_eq!(sent.method, "GET");
    assert_eq!(sent.path(), "/search.json");
    assert_eq!(
        params(&sent),
        pairs(&[
            ("engine", "google"),
            ("q", "rust language"),
            ("location", "Austin, Texas, United States"),
            ("num", "2"),
            ("hl", "en"),
            ("safe", "active"),
            ("api_key", KEY),
        ])
    );
    // The key is in the query string and nowhere else.
    assert!(
        !format!("{:?}", sent.headers).contains("serp"),
        "{:?}",
        sent.headers
    );
    assert!(sent.body.is_empty());
}

#[tokio::test]
async fn a_bing_search_sends_bings_parameters() {
    let fake = three_results(SerpFake::setup());
    run(
        &fake.base,
        KEY,
        &SerpRequest {
            engine: Engine::Bing,
            query: "rust".into(),
            num: Some(80),
            location: None,
            language: Some("en-GB".into()),
            safe: true,
        },
    )
    .await
    .unwrap();
    let [sent] = fake.requests().try_into().unwrap();
    assert_eq!(
        params(&sent),
        pairs(&[
            ("engine", "bing"),
            ("q", "rust"),
            ("count", "50"),
            ("mkt", "en-GB"),
            ("safeSearch", "Strict"),
            ("api_key", KEY),
        ])
    );
}

#[tokio::test]
async fn a_search_that_finds_nothing_is_an_empty_list() {
    let fake = SerpFake::setup().start();
    let results = run(&fake.base, KEY, &ask("zxqv nothing")).await.unwrap();
    assert!(results.is_empty());
}

#[tokio::test]
async fn a_refused_key_says_to_check_it_and_never_shows_it() {
    let fake = three_results(SerpFake::setup().key(KEY));
    let wrong = "wrong/serp+key";
    let err = run(&fake.base, wrong, &ask("rust")).await.unwrap_err();
    assert!(
        matches!(err, InferenceError::Unauthorized { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("check the connection's key"), "{message}");
    assert!(message.contains("Invalid API key"), "{message}");
    assert!(!message.contains("wrong"), "{message}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn every_url_an_error_shows_has_the_key_masked() {
    // A proxy path the service does not know: the 404 names the URL it tried.
    let fake = three_results(SerpFake::setup());
    let err = search(
        &client(),
        &target(&format!("{}/proxy", fake.base), KEY),
        &ask("rust"),
        &Handles::default(),
    )
    .await
    .unwrap_err();
    let InferenceError::NotFound { url, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(url.ends_with("&api_key=******"), "{url}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("serp/key") && !shown.contains("serp%2Fkey"),
        "{shown}"
    );

    // A redirect is never followed, and where it points is shown masked too.
    let redirecting = HttpFake::start(vec![Answer::empty(302).header(
        "location",
        "https://elsewhere.example/search.json?api_key=serp%2Fkey%2B42%26x%3D1&q=rust",
    )]);
    let err = search(
        &client(),
        &target(&redirecting.base, KEY),
        &ask("rust"),
        &Handles::default(),
    )
    .await
    .unwrap_err();
    let InferenceError::Redirected { to, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        to,
        "https://elsewhere.example/search.json?api_key=******&q=rust"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("serp/key") && !shown.contains("serp%2Fkey"),
        "{shown}"
    );
}

#[tokio::test]
async fn an_echoed_key_in_an_error_body_is_masked() {
    let echo = HttpFake::start(vec![Answer::json(
        400,
        &serde_json::json!({"error": format!("Bad request for api_key={KEY} (serp%2Fkey%2B42%26x%3D1)")}),
    )]);
    let err = search(
        &client(),
        &target(&echo.base, KEY),
        &ask("rust"),
        &Handles::default(),
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("Bad request for api_key=******"),
        "{message}"
    );
    assert!(
        !message.contains("serp/key") && !message.contains("serp%2Fkey"),
        "{message}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for_then_ends_as_rate_limited() {
    let fake = three_results(SerpFake::setup().fail_next(Failure::RateLimited {
        retry_after: Some(1),
    }));
    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let results = search(
        &client(),
        &target(&fake.base, KEY),
        &ask("rust"),
        &Handles::default().with_events(events),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(results.len(), 3);
    assert!(matches!(
        heard.try_recv().unwrap(),
        ClientEvent::Retrying { attempt: 1, .. }
    ));

    for _ in 0..3 {
        fake.fail_next(Failure::RateLimited { retry_after: None });
    }
    let err = run(&fake.base, KEY, &ask("rust")).await.unwrap_err();
    assert!(matches!(err, InferenceError::RateLimited { .. }), "{err:?}");
    assert!(err.to_string().contains("run out of searches"), "{err}");
}

#[tokio::test]
async fn a_search_serpapi_could_not_complete_is_an_error() {
    let failed = HttpFake::start(vec![Answer::json(
        200,
        &serde_json::json!({
            "search_metadata": {"status": "Error"},
            "error": "We couldn't get valid results for this search. Please try again later.",
        }),
    )]);
    let err = search(
        &client(),
        &target(&failed.base, KEY),
        &ask("rust"),
        &Handles::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, InferenceError::Protocol { .. }), "{err:?}");
    assert!(
        err.to_string().contains("couldn't get valid results"),
        "{err}"
    );
}

#[tokio::test]
async fn an_empty_query_is_refused_before_any_call() {
    let fake = three_results(SerpFake::setup());
    let err = run(&fake.base, KEY, &ask("  ")).await.unwrap_err();
    assert!(err.to_string().contains("no query"), "{err}");
    assert!(fake.requests().is_empty());
}

/// Every field of every event logged while it is the thread's subscriber, as text.
#[derive(Default, Clone)]
struct Logged(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Logged {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = String::new();
        event.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn the_retry_log_shows_the_url_with_the_key_masked() {
    let fake =
        three_results(SerpFake::setup().fail_next(Failure::Unavailable { retry_after: None }));
    let logged = Logged::default();
    let _guard = tracing::subscriber::set_default(logged.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(run(&fake.base, KEY, &ask("rust")))
        .unwrap();
    assert_eq!(results.len(), 3);
    let lines = logged.0.lock().unwrap().clone();
    let retry = lines
        .iter()
        .find(|line| line.contains("retrying request"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        retry.contains("/search.json?engine=google&q=rust&api_key=******"),
        "{retry}"
    );
    for line in &lines {
        assert!(
            !line.contains("serp/key") && !line.contains("serp%2Fkey"),
            "{line}"
        );
    }
}

/// The engine's ports box these futures as `Send`: this stops compiling if one stops being.
#[test]
fn the_call_is_a_send_future() {
    fn send<T: Send>(_: &T) {}
    let (client, handles) = (client(), Handles::default());
    let target = target("https://serpapi.com", KEY);
    let request = ask("rust");
    send(&search(&client, &target, &request, &handles));
}
