//! Run history as the app and `weft runs` see it: stored redacted, shown as stored.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use weft_engine::RunOutcome;
use weft_flow::FlowDocument;
use weft_store::{Retention, RunRecord};

use crate::{AppCore, AppError};

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub id: String,
    pub flow_path: String,
    pub flow_hash: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub status: String,
    pub inputs: Value,
    pub outputs: Value,
    pub nodes: Value,
}

impl From<RunRecord> for RunView {
    fn from(run: RunRecord) -> Self {
        Self {
            id: run.id,
            flow_path: run.flow_path,
            flow_hash: run.flow_hash,
            started_at_ms: run.started_at_ms,
            finished_at_ms: run.finished_at_ms,
            status: run.status,
            inputs: run.inputs,
            outputs: run.outputs,
            nodes: run.nodes,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Inputs as they may be stored: secret inputs are `******`.
pub fn redact_inputs(flow: &FlowDocument, inputs: &Map<String, Value>) -> Value {
    Value::Object(
        inputs
            .iter()
            .map(|(name, value)| {
                let secret = flow.inputs.get(name).is_some_and(|spec| spec.secret);
                (
                    name.clone(),
                    if secret {
                        Value::String("******".into())
                    } else {
                        value.clone()
                    },
                )
            })
            .collect(),
    )
}

impl AppCore {
    /// Stores a finished run (already redacted by the engine; inputs redacted here) and prunes
    /// the history.
    pub fn record_run(
        &self,
        flow_path: &str,
        flow_text: &str,
        flow: &FlowDocument,
        inputs: &Map<String, Value>,
        outcome: &RunOutcome,
    ) -> Result<(), AppError> {
        let finished = now_ms();
        let latency = outcome.latency_ms.round() as i64;
        let record = RunRecord {
            id: outcome.run_id.clone(),
            flow_path: flow_path.to_owned(),
            flow_hash: format!("{:x}", Sha256::digest(flow_text.as_bytes())),
            started_at_ms: finished - latency,
            finished_at_ms: finished,
            status: serde_json::to_value(outcome.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            inputs: redact_inputs(flow, inputs),
            outputs: Value::Object(outcome.outputs.clone()),
            nodes: serde_json::to_value(&outcome.nodes)
                .map_err(|err| AppError::Internal(err.to_string()))?,
        };
        self.db()?
            .record_run(&record, self.settings().retention, finished)?;
        Ok(())
    }

    pub fn list_runs(&self, limit: u32) -> Result<Vec<RunView>, AppError> {
        Ok(self
            .db()?
            .runs(limit)?
            .into_iter()
            .map(RunView::from)
            .collect())
    }

    /// The run with this id, or the one run whose id starts with it.
    pub fn run(&self, id: &str) -> Result<RunView, AppError> {
        let db = self.db()?;
        match db.run(id)? {
            Some(run) => Ok(run.into()),
            None if db.run_prefix_is_ambiguous(id)? => Err(AppError::Invalid(format!(
                "several runs start with `{id}`; give more of the id"
            ))),
            None => Err(AppError::Invalid(format!(
                "no run `{id}`; `weft runs list` shows the ids"
            ))),
        }
    }
}

/// How much run history to keep, from the environment (`WEFT_RUNS_KEEP`, `WEFT_RUNS_MAX_AGE_DAYS`).
pub(crate) fn retention_from(keep: Option<String>, days: Option<String>) -> Retention {
    let default = Retention::default();
    Retention {
        max_runs: keep
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default.max_runs),
        max_age: days
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|d| std::time::Duration::from_secs(d * 24 * 3600))
            .unwrap_or(default.max_age),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_inputs_are_masked_and_retention_reads_the_environment() {
        let flow = FlowDocument::parse(
            "schema: 1\ninputs:\n  key: { type: string, secret: true }\n  q: { type: string }\n",
        )
        .unwrap();
        let inputs: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"key": "sk-1", "q": "hi"})).unwrap();
        assert_eq!(
            redact_inputs(&flow, &inputs),
            serde_json::json!({"key": "******", "q": "hi"})
        );
        let retention = retention_from(Some("10".into()), Some("2".into()));
        assert_eq!(retention.max_runs, 10);
        assert_eq!(retention.max_age.as_secs(), 2 * 24 * 3600);
        assert_eq!(
            retention_from(Some("lots".into()), None),
            Retention::default()
        );
    }
}
