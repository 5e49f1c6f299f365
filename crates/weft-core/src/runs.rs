//! Run history as the app and `weft runs` see it: stored redacted, shown as stored.

use std::time::{SystemTime, UNIX_EPOCH};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;
use weft_cassette::Cassette;
use weft_engine::{NodeRecord, Plan, Reuse, RunError, RunEvent, RunOutcome, RunRequest, RunStatus};
use weft_flow::{FlowDocument, ValidFlow, Validation};
use weft_store::{Retention, RunRecord};

use crate::cassette::{CassetteMark, CassetteUse};
use crate::{AppCore, AppError, StoreConnections};

/// Which part of a flow a run runs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[ts(export)]
pub enum RunPlan {
    All,
    /// This node and what follows it, reusing the last run's results for the nodes before it.
    From {
        node: String,
    },
    /// Only this node, on the last run's results for what it reads.
    Only {
        node: String,
    },
}

/// A finished run, redacted, as the run panel shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RunSummary {
    pub run_id: String,
    pub status: RunStatus,
    #[ts(type = "Record<string, unknown>")]
    pub outputs: Map<String, Value>,
    pub nodes: BTreeMap<String, NodeRecord>,
    pub latency_ms: f64,
    /// The profile the run used; `None`: no profile. Optional in TypeScript, since runs from
    /// before profiles have none.
    #[ts(optional = nullable)]
    pub profile: Option<String>,
    /// How the run used a cassette; `None`: it had none, every call was live.
    #[ts(optional = nullable)]
    pub cassette: Option<CassetteUse>,
}

/// What a flow run needs besides the flow.
pub struct RunOrder {
    /// Chosen by the caller (see [`new_run_id`]), so it can cancel the run before it starts.
    pub run_id: String,
    /// The file the flow was opened from; `None` for an unsaved flow.
    pub path: Option<String>,
    pub inputs: Map<String, Value>,
    pub plan: RunPlan,
    /// Node results given by hand (the CLI's `--given`); they win over the last run's.
    pub given: Reuse,
    pub node_timeout: Duration,
    /// Records or replays the run's service calls; saving it is the caller's (when it ends).
    pub cassette: Option<Arc<Cassette>>,
}

/// A fresh id for [`RunOrder::run_id`].
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The runs in progress, by id, and per flow the results later runs may reuse. In memory only:
/// reusable results hold unredacted values.
#[derive(Debug, Default)]
pub(crate) struct RunSlots {
    active: HashMap<String, CancellationToken>,
    reuse: HashMap<String, Reuse>,
}

/// Takes a run out of the registry when it ends, however it ends (an error, a panic, a dropped
/// future), and only that run.
pub(crate) struct Registered<'a> {
    core: &'a AppCore,
    run_id: String,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.core.runs().active.remove(&self.run_id);
    }
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RunView {
    pub id: String,
    pub flow_path: String,
    pub flow_hash: String,
    #[ts(type = "number")]
    pub started_at_ms: i64,
    #[ts(type = "number")]
    pub finished_at_ms: i64,
    pub status: String,
    pub inputs: Value,
    pub outputs: Value,
    pub nodes: Value,
    /// The profile the run used; `None`: no profile. Optional in TypeScript, since runs from
    /// before profiles have none.
    #[ts(optional = nullable)]
    pub profile: Option<String>,
    /// How the run used a cassette; `None`: it had none. Optional in TypeScript, since runs
    /// from before cassettes have none.
    #[ts(optional = nullable)]
    pub cassette: Option<CassetteUse>,
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
            profile: run.profile,
            cassette: CassetteUse::from_json(run.cassette),
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl AppCore {
    /// Validates and runs a flow, streaming its events to `events`, and stores it in the run
    /// history. Results are kept so that a later [`RunPlan::From`] or [`RunPlan::Only`] run of the
    /// same flow can reuse them. The flow is validated once, here; the engine runs the
    /// `ValidFlow` that validation made and checks nothing again.
    pub async fn run_flow(
        self: &Arc<Self>,
        flow: FlowDocument,
        order: RunOrder,
        events: UnboundedSender<RunEvent>,
    ) -> Result<RunSummary, AppError> {
        let cancel = CancellationToken::new();
        let _registered = self.register_run(&order.run_id, &cancel)?;
        // Validation and the profile read SQLite: off the async workers. The profile is taken
        // once, so the whole run uses one even if the app switches meanwhile.
        let (checked, profile) = self
            .blocking(move |core| Ok((core.check_flow(&flow, false)?, core.active_profile()?)))
            .await?;
        self.run_checked(ready(checked)?, order, cancel, profile, events)
            .await
    }

    /// [`AppCore::run_flow`] for a flow the caller validated already (the CLI, which prints the
    /// diagnostics itself): only validation makes a `ValidFlow`, so it is not checked again.
    pub async fn run_valid_flow(
        self: &Arc<Self>,
        flow: ValidFlow,
        order: RunOrder,
        events: UnboundedSender<RunEvent>,
    ) -> Result<RunSummary, AppError> {
        let cancel = CancellationToken::new();
        let _registered = self.register_run(&order.run_id, &cancel)?;
        let profile = self.blocking(|core| core.active_profile()).await?;
        self.run_checked(flow, order, cancel, profile, events).await
    }

    async fn run_checked(
        self: &Arc<Self>,
        flow: ValidFlow,
        order: RunOrder,
        cancel: CancellationToken,
        profile: Option<String>,
        events: UnboundedSender<RunEvent>,
    ) -> Result<RunSummary, AppError> {
        let key = order.path.clone().unwrap_or_default();
        let mut reuse = match order.plan {
            RunPlan::All => Reuse::default(),
            _ => self.runs().reuse.get(&key).cloned().unwrap_or_default(),
        };
        reuse.update(order.given);
        let plan = match order.plan {
            RunPlan::All => Plan::All,
            RunPlan::From { node } => Plan::From(node),
            RunPlan::Only { node } => Plan::Only(node),
        };
        let flow = Arc::new(in_folder(
            flow,
            order.path.as_deref().map(std::path::Path::new),
        ));
        let mark = order.cassette.as_ref().map(CassetteMark::new);
        let request = RunRequest {
            run_id: order.run_id.clone(),
            flow: flow.clone(),
            inputs: order.inputs,
            connections: Arc::new(StoreConnections::new(self.clone(), profile.clone())),
            cancel,
            node_timeout: order.node_timeout,
            plan,
            reuse,
        };
        let mut outcome = self
            .engine_with(order.cassette.as_ref())
            .run(request, events)
            .await
            .map_err(|err| match err {
                RunError::UnknownNode(_) => AppError::NotFound(err.to_string()),
                _ => AppError::Invalid(err.to_string()),
            })?;
        self.runs()
            .reuse
            .entry(key)
            .or_default()
            .update(std::mem::take(&mut outcome.reuse));
        let path = order.path.unwrap_or_else(|| "(unsaved flow)".into());
        let cassette = mark.as_ref().map(CassetteMark::use_since);
        let summary = RunSummary {
            run_id: outcome.run_id.clone(),
            status: outcome.status,
            outputs: outcome.outputs.clone(),
            nodes: outcome.nodes.clone(),
            latency_ms: outcome.latency_ms,
            profile: profile.clone(),
            cassette: cassette.clone(),
        };
        // History is a convenience: failing to store it must not change the run's result.
        let stored = self
            .blocking(move |core| {
                let flow_text = flow.document().to_yaml();
                core.record_run(&path, &flow_text, &outcome, profile, cassette.as_ref())
            })
            .await;
        if let Err(err) = stored {
            tracing::warn!("the run was not saved to history: {err}");
        }
        Ok(summary)
    }

    /// Puts a run (or a batch) in the registry, so that [`AppCore::cancel_run`] reaches it; it
    /// leaves when the guard drops.
    pub(crate) fn register_run(
        &self,
        run_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Registered<'_>, AppError> {
        if run_id.trim().is_empty() {
            return Err(AppError::Invalid("a run needs an id".into()));
        }
        let mut runs = self.runs();
        if runs.active.contains_key(run_id) {
            return Err(AppError::Busy(format!(
                "a run with the id `{run_id}` is already in progress; wait for it to end, cancel \
                 it, or start this one with another id"
            )));
        }
        runs.active.insert(run_id.to_owned(), cancel.clone());
        Ok(Registered {
            core: self,
            run_id: run_id.to_owned(),
        })
    }

    /// Runs blocking work (SQLite, the keychain) on tokio's blocking pool.
    pub(crate) async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&AppCore) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let core = self.clone();
        tokio::task::spawn_blocking(move || work(&core))
            .await
            .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))?
    }

    /// Stops the run with this id, if it is in progress; what finished is kept.
    pub fn cancel_run(&self, run_id: &str) -> bool {
        self.runs()
            .active
            .get(run_id)
            .inspect(|token| token.cancel())
            .is_some()
    }

    /// Stores a finished run (redacted by the engine, inputs included) and prunes the history.
    pub fn record_run(
        &self,
        flow_path: &str,
        flow_text: &str,
        outcome: &RunOutcome,
        profile: Option<String>,
        cassette: Option<&CassetteUse>,
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
            inputs: Value::Object(outcome.inputs.clone()),
            outputs: Value::Object(outcome.outputs.clone()),
            nodes: serde_json::to_value(&outcome.nodes)
                .map_err(|err| AppError::Internal(err.to_string()))?,
            profile,
            cassette: cassette.map(CassetteUse::to_json),
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
            None => Err(AppError::NotFound(format!(
                "no run `{id}`; `weft runs list` shows the ids"
            ))),
        }
    }
}

/// The flow with the folder of the file it came from (what Python nodes' files are relative
/// to), unless the caller gave one already; an unsaved flow has none.
pub(crate) fn in_folder(flow: ValidFlow, file: Option<&std::path::Path>) -> ValidFlow {
    match file {
        Some(file) if flow.base_dir().is_none() => {
            let dir = match file.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => std::path::Path::new("."),
            };
            let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
            flow.with_base_dir(dir)
        }
        _ => flow,
    }
}

/// The flow validation made ready to run, or every error it found.
pub(crate) fn ready(checked: Validation) -> Result<ValidFlow, AppError> {
    match checked.valid {
        Some(flow) => Ok(flow),
        None => {
            let errors: Vec<String> = checked.errors().map(ToString::to_string).collect();
            Err(AppError::Invalid(format!(
                "the flow has {} problem(s); fix them first:\n{}",
                errors.len(),
                errors.join("\n")
            )))
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
    fn retention_reads_the_environment() {
        let retention = retention_from(Some("10".into()), Some("2".into()));
        assert_eq!(retention.max_runs, 10);
        assert_eq!(retention.max_age.as_secs(), 2 * 24 * 3600);
        assert_eq!(
            retention_from(Some("lots".into()), None),
            Retention::default()
        );
    }
}
