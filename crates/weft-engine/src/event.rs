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
