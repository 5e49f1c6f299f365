//! The types an eval run shows the CLI and the app: what to run, its events while it runs, its
//! report, and the stored runs and their rows as history shows them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use weft_cassette::Cassette;
use weft_eval::{Change, EvalFile, ThresholdCheck, VariantSummary, Verdict};

use crate::batch::{BatchEvent, Concurrency};
use crate::cassette::CassetteUse;

/// What an eval run needs: the eval file and how to run it.
#[derive(Clone)]
pub struct EvalOrder {
    /// Chosen by the caller (see [`crate::new_run_id`]), so it can cancel the eval with
    /// [`crate::AppCore::cancel_run`] before it starts.
    pub eval_id: String,
    /// The `*.eval.yaml` file; the flow and data it names are relative to its folder.
    pub path: PathBuf,
    /// The variants to run, by name; empty: all of them (or the flow as it is, when the file
    /// has none).
    pub variants: Vec<String>,
    /// A stored eval run (its id or a unique prefix) whose rows this one is compared with.
    pub baseline: Option<String>,
    pub concurrency: Concurrency,
    /// How long one node of one row may take, retries included (judges and evaluator flows too).
    pub node_timeout: Duration,
    /// Records or replays every call: the rows' and the judges'. Saving it is the caller's.
    pub cassette: Option<Arc<Cassette>>,
}

impl fmt::Debug for EvalOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvalOrder")
            .field("eval_id", &self.eval_id)
            .field("path", &self.path)
            .field("variants", &self.variants)
            .field("baseline", &self.baseline)
            .field("concurrency", &self.concurrency)
            .field("node_timeout", &self.node_timeout)
            .field("cassette", &self.cassette.as_ref().map(|c| c.path()))
            .finish()
    }
}

/// The name of the one variant of an eval file that has none: the flow as it is.
pub const AS_IS: &str = "flow";

/// What an eval run reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum EvalEvent {
    Started {
        eval_id: String,
        /// In the order they run.
        variants: Vec<String>,
    },
    /// The batch running a variant's flow over the data.
    Batch { variant: String, event: BatchEvent },
    /// The assertions being checked on a variant's rows; at most every 100 ms, and once at
    /// the end.
    Checking {
        variant: String,
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
    },
    /// A variant run and checked.
    VariantDone(VariantSummary),
}

/// Where an eval run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EvalStatus {
    Running,
    /// Every variant ran and was checked; `passed` says whether the thresholds held.
    Finished,
    /// Cancelled: the report holds the variants checked before.
    Cancelled,
    /// It could not run to its end; the message says why.
    Failed,
}

impl EvalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalStatus::Running => "running",
            EvalStatus::Finished => "finished",
            EvalStatus::Cancelled => "cancelled",
            EvalStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(stored: &str) -> Self {
        match stored {
            "running" => EvalStatus::Running,
            "finished" => EvalStatus::Finished,
            "cancelled" => EvalStatus::Cancelled,
            _ => EvalStatus::Failed,
        }
    }
}

/// An eval run's outcome: per variant its summary, the thresholds, and against a baseline the
/// rows whose verdict changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EvalReport {
    pub eval_id: String,
    pub name: String,
    pub eval_path: String,
    pub status: EvalStatus,
    /// Why it failed, when it did.
    pub message: Option<String>,
    #[ts(type = "number")]
    pub started_at_ms: i64,
    #[ts(type = "number")]
    pub finished_at_ms: i64,
    /// In the order they ran.
    pub variants: Vec<VariantSummary>,
    pub thresholds: Vec<ThresholdCheck>,
    /// Every threshold held (and the eval finished).
    pub passed: bool,
    /// The eval run compared with, by its full id.
    pub baseline: Option<String>,
    /// Rows of a variant both runs have whose verdict changed, by variant then row.
    pub changes: Vec<Change>,
    pub cassette: Option<CassetteUse>,
}

/// A stored eval run, as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct EvalView {
    pub id: String,
    pub name: String,
    pub eval_path: String,
    pub status: EvalStatus,
    #[ts(type = "number")]
    pub started_at_ms: i64,
    #[ts(type = "number | null")]
    pub finished_at_ms: Option<i64>,
    /// `None` until it finished.
    pub passed: Option<bool>,
    /// Empty until it ended.
    pub variants: Vec<VariantSummary>,
    pub cassette: Option<CassetteUse>,
}

/// One data row of an eval run: its verdict under each variant.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct EvalRowView {
    /// 0-based among the data rows, as a batch numbers them.
    #[ts(type = "number")]
    pub row: u64,
    /// The flow inputs the row gave (under the first variant that ran it).
    pub inputs: Value,
    /// One per variant that has a verdict on the row, in the order the variants ran.
    pub cells: Vec<EvalCell>,
}

/// A row's verdict under one variant, with what the row's run gave.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct EvalCell {
    pub variant: String,
    pub pass: bool,
    pub score: f64,
    /// Each assertion's verdict, with its reason.
    pub verdicts: Vec<Verdict>,
    pub cost: Option<f64>,
    pub outputs: Value,
    /// Why the row's run failed, when it did.
    pub error: Option<String>,
    pub latency_ms: f64,
}

/// An eval file as the Evaluate panel edits it: the file, and the flow and data it names
/// resolved against its folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EvalFileView {
    pub file: EvalFile,
    /// Where `file.flow` is, absolute; filled by [`crate::AppCore::open_eval`], not read by save.
    #[serde(default)]
    pub flow_path: String,
    /// Where `file.data` is, absolute; filled by open, not read by save.
    #[serde(default)]
    pub data_path: String,
}
