//! One row run by the engine and stored as the writer takes it, and the breaker that stops a
//! batch whose first rows all fail the same way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;
use weft_batch::{ColumnMapping, DataFormat, DataRow};
use weft_engine::services::Services;
use weft_engine::{
    ConnectionSource, Engine, FailureCause, NodeRecord, NodeState, Plan, Reuse, RunOutcome,
    RunRequest, RunStatus,
};
use weft_flow::ValidFlow;
use weft_store::BatchRowRecord;

use crate::batch::{BatchEvent, BatchRowStatus};
use crate::runs::now_ms;

/// Stops a batch whose first rows fail in a way every row would: a refused key or a missing
/// deployment, before any row succeeded.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    succeeded: AtomicBool,
    tripped: Mutex<Option<String>>,
}

impl Breaker {
    /// A breaker that never trips: for rows whose calls are already made (an Azure batch's
    /// answers), where stopping would only throw answers away.
    pub(super) fn off() -> Self {
        Self {
            succeeded: AtomicBool::new(true),
            tripped: Mutex::default(),
        }
    }

    pub(super) fn message(&self) -> Option<String> {
        self.tripped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What one row needs to run, shared by every row of the batch.
pub(super) struct RowRunner {
    pub(super) batch_id: String,
    pub(super) flow: Arc<ValidFlow>,
    pub(super) mapping: ColumnMapping,
    pub(super) format: DataFormat,
    /// What the rows' nodes call (an Azure batch swaps the model port per pass).
    pub(super) services: Services,
    pub(super) connections: Arc<dyn ConnectionSource>,
    pub(super) cancel: CancellationToken,
    pub(super) node_timeout: Duration,
    pub(super) breaker: Breaker,
    pub(super) events: UnboundedSender<BatchEvent>,
}

/// A row finished, as the writer stores it.
pub(super) struct Finished {
    pub(super) record: BatchRowRecord,
    pub(super) status: BatchRowStatus,
}

impl RowRunner {
    pub(super) async fn run(
        self: Arc<Self>,
        row: DataRow,
        permit: OwnedSemaphorePermit,
        done: mpsc::Sender<Finished>,
    ) {
        let finished = self.finish(&row).await;
        // The slot is free once the row is handed on (or the writer is gone).
        let _ = done.send(finished).await;
        drop(permit);
    }

    async fn finish(&self, row: &DataRow) -> Finished {
        let inputs = match self.inputs(row) {
            Ok(inputs) => inputs,
            Err(message) => return self.bad(row, message),
        };
        let engine = Engine::new(self.services.clone());
        match self.outcome(&engine, row, inputs).await {
            Ok(outcome) => self.ran(row, outcome),
            Err(bad) => bad,
        }
    }

    /// The row's flow inputs, or why it could not be read or mapped (store it with [`Self::bad`]).
    pub(super) fn inputs(&self, row: &DataRow) -> Result<Map<String, Value>, String> {
        match &row.fields {
            Ok(fields) => self
                .mapping
                .inputs(self.flow.document(), fields, self.format)
                // Its text never quotes a secret input's value.
                .map_err(|failure| failure.to_string()),
            Err(bad) => Err(bad.to_string()),
        }
    }

    /// The row run by `engine`, or the row stored as failed when the engine refused its inputs.
    pub(super) async fn outcome(
        &self,
        engine: &Engine,
        row: &DataRow,
        inputs: Map<String, Value>,
    ) -> Result<RunOutcome, Finished> {
        let request = RunRequest {
            run_id: format!("{}/{}", self.batch_id, row.index),
            flow: self.flow.clone(),
            inputs,
            connections: self.connections.clone(),
            cancel: self.cancel.child_token(),
            node_timeout: self.node_timeout,
            plan: Plan::All,
            reuse: Reuse::default(),
        };
        // Nobody watches a row's events; the outcome holds what is stored.
        let (events, _) = mpsc::unbounded_channel();
        engine
            .run(request, events)
            .await
            // The inputs the row gave do not fit the flow (one missing, a wrong type): the engine
            // refused them before any node ran.
            .map_err(|err| self.bad(row, format!("line {}: {err}", row.line)))
    }

    /// A row that was not run: it could not be read, or not mapped to the flow's inputs.
    pub(super) fn bad(&self, row: &DataRow, error: String) -> Finished {
        let _ = self.events.send(BatchEvent::BadRow {
            row: row.index,
            line: row.line,
            message: error.clone(),
        });
        Finished {
            record: BatchRowRecord {
                batch_id: self.batch_id.clone(),
                row: i64::try_from(row.index).unwrap_or(i64::MAX),
                line: i64::try_from(row.line).unwrap_or(i64::MAX),
                status: BatchRowStatus::Failed.as_str().into(),
                inputs: Value::Object(Map::new()),
                outputs: Value::Object(Map::new()),
                nodes: Value::Object(Map::new()),
                error: Some(error),
                latency_ms: 0.0,
                prompt_tokens: 0,
                completion_tokens: 0,
                finished_at_ms: now_ms(),
            },
            status: BatchRowStatus::Failed,
        }
    }

    /// A row the engine ran, redacted by it, and what the breaker makes of it.
    pub(super) fn ran(&self, row: &DataRow, outcome: RunOutcome) -> Finished {
        let status = match outcome.status {
            RunStatus::Succeeded => BatchRowStatus::Succeeded,
            RunStatus::Failed => BatchRowStatus::Failed,
            RunStatus::Cancelled => BatchRowStatus::Cancelled,
        };
        let failed = self.flow.document().nodes.iter().find_map(|node| {
            let record = outcome.nodes.get(&node.id)?;
            (record.state == NodeState::Failed).then_some((node.id.as_str(), record))
        });
        match (status, failed) {
            (BatchRowStatus::Succeeded, _) => self.breaker.succeeded.store(true, Ordering::Relaxed),
            (BatchRowStatus::Failed, Some((node, record))) => self.check_breaker(row, node, record),
            _ => {}
        }
        let error = match status {
            BatchRowStatus::Cancelled => Some("cancelled".to_owned()),
            _ => failed.and_then(|(_, record)| record.error.clone()),
        };
        let (prompt_tokens, completion_tokens) = outcome
            .nodes
            .values()
            .filter_map(|record| record.usage.as_ref())
            .fold((0, 0), |(p, c), usage| {
                (
                    p + i64::from(usage.prompt_tokens),
                    c + i64::from(usage.completion_tokens),
                )
            });
        Finished {
            record: BatchRowRecord {
                batch_id: self.batch_id.clone(),
                row: i64::try_from(row.index).unwrap_or(i64::MAX),
                line: i64::try_from(row.line).unwrap_or(i64::MAX),
                status: status.as_str().into(),
                inputs: Value::Object(outcome.inputs),
                outputs: Value::Object(outcome.outputs),
                nodes: serde_json::to_value(&outcome.nodes).unwrap_or(Value::Null),
                error,
                latency_ms: outcome.latency_ms,
                prompt_tokens,
                completion_tokens,
                finished_at_ms: now_ms(),
            },
            status,
        }
    }

    /// Trips the breaker when no row has succeeded yet and this one failed on a refused
    /// credential or a missing endpoint: every other row would fail the same way.
    fn check_breaker(&self, row: &DataRow, node: &str, record: &NodeRecord) {
        let fatal = matches!(
            record.cause,
            Some(FailureCause::Auth | FailureCause::NotFound)
        );
        if !fatal || self.breaker.succeeded.load(Ordering::Relaxed) {
            return;
        }
        let mut tripped = self
            .breaker
            .tripped
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if tripped.is_some() {
            return;
        }
        let message = format!(
            "stopped after row {} (line {}): node `{node}` failed in a way every row would: {}. Fix that, then resume the batch (`weft batch resume {}`)",
            row.index,
            row.line,
            record.error.as_deref().unwrap_or("no message"),
            self.batch_id
        );
        let _ = self.events.send(BatchEvent::Stopped {
            message: message.clone(),
        });
        *tripped = Some(message);
        self.cancel.cancel();
    }
}
