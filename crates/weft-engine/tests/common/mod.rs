//! What the tool nodes' tests share: an engine whose client retries quickly, saved connections
//! given as resolved ones, a flow validated against their types, a run (which a test may cancel
//! midway) and its whole record.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use weft_ai::search::SearchTarget;
use weft_ai::serp::SerpTarget;
use weft_ai::{ApiKey, RetryPolicy, Timeouts};
use weft_engine::services::Services;
use weft_engine::{
    ConnectionSource, Engine, NodeState, Plan, ResolvedConnection, Reuse, RunEvent, RunOutcome,
    RunRequest, RunStatus,
};
use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection, ValidFlow};

/// Saved connections by name, already resolved.
pub struct Source(pub HashMap<String, ResolvedConnection>);

impl ConnectionSource for Source {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no connection `{name}`"))
    }
}

pub fn source(connections: Vec<ResolvedConnection>) -> Arc<Source> {
    Arc::new(Source(
        connections
            .into_iter()
            .map(|c| (c.name().to_owned(), c))
            .collect(),
    ))
}

/// Two quick retries, so a 429's `Retry-After` is what the test waits for.
pub fn engine() -> Engine {
    let retry = RetryPolicy {
        max_retries: 2,
        budget: Duration::from_secs(20),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    };
    Engine::new(Services::from_client(
        weft_ai::Client::new(Timeouts::default(), retry).unwrap(),
    ))
}

/// A SerpAPI connection called `name` with `key`, its service at `base`.
pub fn serp_connection(name: &str, base: &str, key: &str) -> ResolvedConnection {
    ResolvedConnection::Serp {
        name: name.into(),
        target: SerpTarget::new(base, ApiKey::new(key)).unwrap(),
        key: ApiKey::new(key),
    }
}

/// An Azure AI Search connection called `name` with `key`, its service at `base`.
pub fn search_connection(name: &str, base: &str, key: &str) -> ResolvedConnection {
    ResolvedConnection::Search {
        name: name.into(),
        target: SearchTarget::new(base, ApiKey::new(key)).unwrap(),
        key: ApiKey::new(key),
    }
}

/// A token that is cancelled `after` from now, as when the user stops a run midway.
pub fn cancel_after(after: Duration) -> CancellationToken {
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        trigger.cancel();
    });
    cancel
}

/// Validation's result for `yaml` when these connections are saved.
pub fn validation(yaml: &str, saved: &[SavedConnection]) -> weft_flow::Validation {
    let doc = FlowDocument::parse(yaml).unwrap();
    weft_flow::validation(
        &doc,
        &Context {
            connections: saved.to_vec(),
            strict: false,
        },
    )
}

/// `yaml` as a run gets it; fails the test when validation finds an error.
pub fn valid(yaml: &str, saved: &[(&str, ConnectionType)]) -> Arc<ValidFlow> {
    let saved: Vec<SavedConnection> = saved
        .iter()
        .map(|(name, kind)| SavedConnection::new(name, *kind))
        .collect();
    let checked = validation(yaml, &saved);
    let errors: Vec<String> = checked.errors().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    Arc::new(checked.valid.unwrap())
}

/// The validation errors of `yaml` when these connections are saved.
pub fn errors(yaml: &str, saved: &[SavedConnection]) -> Vec<String> {
    validation(yaml, saved)
        .errors()
        .map(ToString::to_string)
        .collect()
}

pub async fn run(
    flow: Arc<ValidFlow>,
    inputs: Value,
    connections: Arc<dyn ConnectionSource>,
    cancel: CancellationToken,
) -> (RunOutcome, Vec<RunEvent>) {
    let request = RunRequest {
        run_id: "tool-run".into(),
        flow,
        inputs: serde_json::from_value(inputs).unwrap(),
        connections,
        cancel,
        node_timeout: Duration::from_secs(30),
        plan: Plan::All,
        reuse: Reuse::default(),
    };
    let (events, mut received) = mpsc::unbounded_channel();
    let outcome = engine().run(request, events).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (outcome, seen)
}

/// `yaml` validated with `saved`, run to its end (never cancelled) with the store resolving
/// its connections to `resolved`.
pub async fn run_resolving(
    yaml: &str,
    saved: &[(&str, ConnectionType)],
    inputs: Value,
    resolved: Vec<ResolvedConnection>,
) -> (RunOutcome, Vec<RunEvent>) {
    run(
        valid(yaml, saved),
        inputs,
        source(resolved),
        CancellationToken::new(),
    )
    .await
}

/// A saved connection of a type the node does not take, met twice. Returns the validation
/// errors of `yaml` when `name` is saved as `wrong`, and the error node `node` fails with when
/// validation saw `name` as `right` but the store changed before the run and resolves it to a
/// `wrong` one (Serp or CognitiveSearch). Fails the test when the run reports that one's key.
pub async fn wrong_connection_type(
    yaml: &str,
    node: &str,
    inputs: Value,
    (name, right): (&str, ConnectionType),
    wrong: ConnectionType,
) -> (Vec<String>, String) {
    const KEY: &str = "wrong-type-key-0451";
    let refused = errors(yaml, &[SavedConnection::new(name, wrong)]);
    let resolved = match wrong {
        ConnectionType::Serp => serp_connection(name, "https://serpapi.com", KEY),
        ConnectionType::CognitiveSearch => {
            search_connection(name, "https://s.search.windows.net", KEY)
        }
        other => panic!("no test connection of type {other:?}"),
    };
    let (outcome, events) = run_resolving(yaml, &[(name, right)], inputs, vec![resolved]).await;
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:#?}");
    assert_eq!(outcome.nodes[node].state, NodeState::Failed);
    assert!(!reported(&outcome, &events).contains(KEY));
    (refused, outcome.nodes[node].error.clone().unwrap())
}

/// Everything a run reports, as text: its record and its events.
pub fn reported(outcome: &RunOutcome, events: &[RunEvent]) -> String {
    format!(
        "{}\n{}",
        serde_json::to_string(outcome).unwrap(),
        serde_json::to_string(events).unwrap()
    )
}

/// The node's events, in order, as their kinds: `started`, `retrying`, `finished`, `failed`…
pub fn node_events(events: &[RunEvent], id: &str) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|event| match event {
            RunEvent::NodeStarted { node } if node == id => Some("started"),
            RunEvent::Retrying { node, .. } if node == id => Some("retrying"),
            RunEvent::NodeFinished { node, .. } if node == id => Some("finished"),
            RunEvent::NodeFailed { node, .. } if node == id => Some("failed"),
            RunEvent::NodeSkipped { node, .. } if node == id => Some("skipped"),
            _ => None,
        })
        .collect()
}
