use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use weft_ai::Usage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RunStatus {
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NodeState {
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
    /// Taken from an earlier run instead of running again.
    Reused,
}

/// Why a node failed, as far as its service call tells: what a batch's circuit breaker and the UI
/// branch on without parsing the error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FailureCause {
    /// The credential was refused (HTTP 401 or 403, an Entra ID token refused, no sign-in).
    Auth,
    /// Nothing at that address (HTTP 404: a wrong URL or deployment), or a retired API.
    NotFound,
    /// Throttled (HTTP 429) past the client's retries.
    RateLimited,
    /// No answer in time: the client's timeout or the node's.
    Timeout,
    /// The service could not be reached (DNS, TLS, a refused or broken connection).
    Network,
    /// The service failed (HTTP 5xx).
    Service,
    /// The service rejected the request itself (HTTP 400, the content filter, a bad setting).
    Invalid,
    Cancelled,
    /// Anything else: an unexpected reply, a redirect, a reply too large, a bug.
    Other,
}

/// What a run reports, in order. Texts and values are already redacted.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(export)]
pub enum RunEvent {
    RunStarted {
        run_id: String,
    },
    NodeStarted {
        node: String,
    },
    /// Streamed text from a Chat completion node.
    Token {
        node: String,
        text: String,
    },
    /// The node's service call is being retried (throttling, a transient failure).
    Retrying {
        node: String,
        message: String,
    },
    NodeFinished {
        node: String,
        output: Value,
        latency_ms: f64,
        usage: Option<Usage>,
    },
    NodeFailed {
        node: String,
        error: String,
    },
    NodeSkipped {
        node: String,
        reason: String,
    },
    /// The node's result from an earlier run is used; it does not run.
    NodeReused {
        node: String,
    },
    RunFinished {
        status: RunStatus,
        outputs: Value,
        latency_ms: f64,
    },
}
