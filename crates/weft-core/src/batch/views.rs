//! The types a batch run shows the CLI and the app: what to run, its events while it runs, and the
//! stored batch and its rows as history shows them.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;
use weft_cassette::Cassette;
use weft_engine::NodeRecord;

use crate::cassette::CassetteUse;

/// The most rows a batch runs at once when its caller fixes the number.
pub const MAX_CONCURRENCY: u32 = 1024;

/// How many rows a batch runs at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TS)]
#[ts(export, type = "\"auto\" | number")]
pub enum Concurrency {
    /// As many as the endpoints take: an adaptive limiter per endpoint finds out.
    Auto,
    /// At most this many, 1 to [`MAX_CONCURRENCY`].
    Fixed(NonZeroU32),
}

/// Why a concurrency could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "concurrency `{0}` is not `auto` or a number from 1 to {MAX_CONCURRENCY}; give one of those"
)]
pub struct BadConcurrency(pub String);

impl Concurrency {
    fn fixed(n: u64) -> Result<Self, BadConcurrency> {
        u32::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_CONCURRENCY)
            .and_then(NonZeroU32::new)
            .map(Concurrency::Fixed)
            .ok_or_else(|| BadConcurrency(n.to_string()))
    }
}

impl FromStr for Concurrency {
    type Err = BadConcurrency;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("auto") {
            return Ok(Concurrency::Auto);
        }
        raw.parse::<u64>()
            .map_err(|_| BadConcurrency(raw.to_owned()))
            .and_then(Concurrency::fixed)
    }
}

impl fmt::Display for Concurrency {
    /// As stored and as `--concurrency` takes it: `auto` or the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Concurrency::Auto => f.write_str("auto"),
            Concurrency::Fixed(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for Concurrency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Concurrency::Auto => serializer.serialize_str("auto"),
            Concurrency::Fixed(n) => serializer.serialize_u32(n.get()),
        }
    }
}

impl<'de> Deserialize<'de> for Concurrency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Concurrency::fixed(n),
            Raw::Text(text) => text.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// What a batch run needs: the flow, the data, how data columns fill the flow's inputs.
#[derive(Clone)]
pub struct BatchOrder {
    /// Chosen by the caller (see [`crate::new_run_id`]), so it can cancel the batch with
    /// [`crate::AppCore::cancel_run`] before it starts.
    pub batch_id: String,
    pub name: Option<String>,
    pub flow_path: PathBuf,
    /// A JSONL (`.jsonl`, `.ndjson`) or CSV (`.csv`, header row) file.
    pub data_path: PathBuf,
    /// Flow input → `${data.COLUMN}` or a static value.
    pub mapping: BTreeMap<String, String>,
    pub concurrency: Concurrency,
    /// How long one node of one row may take, retries included.
    pub node_timeout: Duration,
    /// Where the rows' model calls run.
    pub engine: BatchEngine,
    /// Records or replays the rows' service calls (local engine only); saving it is the
    /// caller's, when the batch ends.
    pub cassette: Option<Arc<Cassette>>,
}

impl fmt::Debug for BatchOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchOrder")
            .field("batch_id", &self.batch_id)
            .field("name", &self.name)
            .field("flow_path", &self.flow_path)
            .field("data_path", &self.data_path)
            .field("mapping", &self.mapping)
            .field("concurrency", &self.concurrency)
            .field("node_timeout", &self.node_timeout)
            .field("engine", &self.engine)
            .field("cassette", &self.cassette.as_ref().map(|c| c.path()))
            .finish()
    }
}

/// Where a batch's model calls run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum BatchEngine {
    /// Row by row from this machine, as many at once as the concurrency allows.
    #[default]
    Local,
    /// On the Azure OpenAI Batch API: every row's one model call in one uploaded file, run by
    /// Azure within 24 h; the rest of the flow runs here once the answers are back.
    AzureBatch,
}

impl BatchEngine {
    /// As stored in the batch's record and as `--engine` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchEngine::Local => "local",
            BatchEngine::AzureBatch => "azure-batch",
        }
    }
}

impl fmt::Display for BatchEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BatchEngine {
    type Err = BadChoice;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(BatchEngine::Local),
            "azure-batch" => Ok(BatchEngine::AzureBatch),
            _ => Err(BadChoice {
                given: raw.to_owned(),
                choices: "local, azure-batch",
            }),
        }
    }
}

/// What a batch reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum BatchEvent {
    Started {
        batch_id: String,
        resumed: bool,
        /// Rows that succeeded before and are not run again.
        #[ts(type = "number")]
        skipped: u64,
    },
    /// At most every 100 ms.
    Progress(BatchProgress),
    /// An endpoint asked to wait (a 429); its calls are held meanwhile.
    Throttled {
        endpoint: String,
        #[ts(type = "number")]
        wait_ms: u64,
    },
    /// A row that could not be read or mapped: it is counted as failed and was not run.
    BadRow {
        #[ts(type = "number")]
        row: u64,
        #[ts(type = "number")]
        line: u64,
        message: String,
    },
    /// The batch stopped itself: its first rows failed in a way every row would (a wrong key, a
    /// missing deployment). The message says what to fix.
    Stopped { message: String },
    /// With the Azure Batch engine, where Azure is with the batch's requests (each status
    /// poll): `validating`, `in_progress`, `finalizing`, … as Azure names it.
    Remote {
        status: String,
        #[ts(type = "number")]
        completed: u64,
        #[ts(type = "number")]
        failed: u64,
        #[ts(type = "number")]
        total: u64,
    },
}

/// How far a batch is.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BatchProgress {
    /// Rows finished and saved.
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub succeeded: u64,
    #[ts(type = "number")]
    pub failed: u64,
    #[ts(type = "number")]
    pub cancelled: u64,
    /// The rows of the file, once it has been read to its end.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    pub rows_per_s: f64,
    /// The current limit on calls in flight (with `auto`, the adaptive limit; otherwise the
    /// fixed number).
    pub concurrency: u32,
    pub in_flight: u32,
    /// 429s met so far.
    #[ts(type = "number")]
    pub throttles: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    #[ts(type = "number | null")]
    pub eta_ms: Option<u64>,
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BatchSummary {
    pub batch_id: String,
    pub status: BatchStatus,
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub succeeded: u64,
    #[ts(type = "number")]
    pub failed: u64,
    #[ts(type = "number")]
    pub cancelled: u64,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    pub rows_per_s: f64,
    #[ts(type = "number")]
    pub throttles: u64,
    #[ts(type = "number")]
    pub prompt_tokens: u64,
    #[ts(type = "number")]
    pub completion_tokens: u64,
    /// Why it stopped or could not finish, when it did not simply run to its end.
    pub message: Option<String>,
}

/// Where a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BatchStatus {
    Running,
    /// Every row succeeded.
    Succeeded,
    /// It ran to its end with failed rows.
    Failed,
    Cancelled,
    /// Its circuit breaker stopped it (see [`BatchEvent::Stopped`]).
    Stopped,
    /// Stored as running, but nothing has written to it for a while: its process ended without
    /// finishing it (a crash, a kill). Resume it.
    Interrupted,
}

impl BatchStatus {
    /// As stored (an interrupted batch is stored as `running`).
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Running => "running",
            BatchStatus::Succeeded => "succeeded",
            BatchStatus::Failed => "failed",
            BatchStatus::Cancelled => "cancelled",
            BatchStatus::Stopped => "stopped",
            BatchStatus::Interrupted => "interrupted",
        }
    }
}

/// A row's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BatchRowStatus {
    Succeeded,
    /// It ran and a node failed, or it could not be read or mapped (then its error says why).
    Failed,
    /// It was running when the batch was cancelled or stopped.
    Cancelled,
}

impl BatchRowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchRowStatus::Succeeded => "succeeded",
            BatchRowStatus::Failed => "failed",
            BatchRowStatus::Cancelled => "cancelled",
        }
    }
}

/// Which rows of a batch to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RowFilter {
    #[default]
    All,
    Succeeded,
    Failed,
    Cancelled,
}

/// Why a row filter or export format could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not one of {choices}; give one of those")]
pub struct BadChoice {
    pub given: String,
    pub choices: &'static str,
}

impl FromStr for RowFilter {
    type Err = BadChoice;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(RowFilter::All),
            "succeeded" => Ok(RowFilter::Succeeded),
            "failed" => Ok(RowFilter::Failed),
            "cancelled" => Ok(RowFilter::Cancelled),
            _ => Err(BadChoice {
                given: raw.to_owned(),
                choices: "all, succeeded, failed, cancelled",
            }),
        }
    }
}

/// The file format of a batch export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExportFormat {
    /// One JSON object per row.
    Jsonl,
    /// One line per row: the row's fields, then `inputs.X` and `outputs.Y` columns.
    Csv,
}

impl FromStr for ExportFormat {
    type Err = BadChoice;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "jsonl" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(BadChoice {
                given: raw.to_owned(),
                choices: "jsonl, csv",
            }),
        }
    }
}

/// How many rows of a batch ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BatchCounts {
    #[ts(type = "number")]
    pub succeeded: u64,
    #[ts(type = "number")]
    pub failed: u64,
    #[ts(type = "number")]
    pub cancelled: u64,
}

/// A stored batch.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BatchView {
    pub id: String,
    pub name: Option<String>,
    pub flow_path: String,
    pub data_path: String,
    pub status: BatchStatus,
    pub counts: BatchCounts,
    /// The rows of the file, once a run of it has read it to its end.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    #[ts(type = "number | null")]
    pub finished_at_ms: Option<i64>,
    /// Flow input → `${data.COLUMN}` or a static value, as given.
    pub mapping: BTreeMap<String, String>,
    /// `auto` or the number, as given.
    pub concurrency: String,
    /// `local` or `azure-batch`.
    pub engine: String,
    pub profile: Option<String>,
    pub message: Option<String>,
    /// How its last run used a cassette; `None`: it had none. Optional in TypeScript, since
    /// batches from before cassettes have none.
    #[ts(optional = nullable)]
    pub cassette: Option<CassetteUse>,
}

/// A stored row of a batch, redacted as stored.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BatchRowView {
    /// 0-based among the data rows of the file.
    #[ts(type = "number")]
    pub row: u64,
    /// 1-based line of the file where the row starts.
    #[ts(type = "number")]
    pub line: u64,
    pub status: BatchRowStatus,
    pub inputs: Value,
    pub outputs: Value,
    /// What each node did, as a test run's node-by-node view shows it.
    pub nodes: BTreeMap<String, NodeRecord>,
    pub error: Option<String>,
    pub latency_ms: f64,
    #[ts(type = "number")]
    pub prompt_tokens: u64,
    #[ts(type = "number")]
    pub completion_tokens: u64,
}

/// The format of a data file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DataFileFormat {
    Jsonl,
    Csv,
}

/// A data file's first rows, for the Batch panel to show before a run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DataPreview {
    pub format: DataFileFormat,
    /// The CSV header, or the keys of the first JSONL object, in file order.
    pub columns: Vec<String>,
    pub rows: Vec<PreviewRow>,
    /// The mapping proposed for the flow: each input to the column of its name, when there is
    /// one.
    pub mapping: BTreeMap<String, String>,
}

/// One row of a [`DataPreview`]: its fields, or why it cannot be read.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct PreviewRow {
    #[ts(type = "number")]
    pub row: u64,
    #[ts(type = "number")]
    pub line: u64,
    #[ts(type = "Record<string, unknown> | null")]
    pub fields: Option<Map<String, Value>>,
    /// Why the row cannot be read (it would fail in a run); `None` when it can.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_reads_auto_and_numbers_in_range() {
        assert_eq!("auto".parse(), Ok(Concurrency::Auto));
        assert_eq!(" AUTO ".parse(), Ok(Concurrency::Auto));
        assert_eq!(
            "32".parse(),
            Ok(Concurrency::Fixed(NonZeroU32::new(32).unwrap()))
        );
        for bad in ["0", "1025", "-1", "many", ""] {
            let err = bad.parse::<Concurrency>().unwrap_err();
            assert!(err.to_string().contains("1 to 1024"), "{err}");
        }
        assert_eq!(
            Concurrency::Fixed(NonZeroU32::new(7).unwrap()).to_string(),
            "7"
        );
        assert_eq!(
            serde_json::from_value::<Concurrency>(serde_json::json!(8)).unwrap(),
            Concurrency::Fixed(NonZeroU32::new(8).unwrap())
        );
        assert_eq!(
            serde_json::to_value(Concurrency::Auto).unwrap(),
            serde_json::json!("auto")
        );
        assert!(serde_json::from_value::<Concurrency>(serde_json::json!(0)).is_err());
    }

    #[test]
    fn events_cross_with_their_type() {
        let event = BatchEvent::BadRow {
            row: 3,
            line: 5,
            message: "bad".into(),
        };
        assert_eq!(
            serde_json::to_value(event).unwrap(),
            serde_json::json!({"type": "bad_row", "row": 3, "line": 5, "message": "bad"})
        );
    }

    #[test]
    fn engines_read_and_cross_as_stored() {
        assert_eq!("azure-batch".parse(), Ok(BatchEngine::AzureBatch));
        assert_eq!(" Local".parse(), Ok(BatchEngine::Local));
        assert!(
            "cluster"
                .parse::<BatchEngine>()
                .unwrap_err()
                .to_string()
                .contains("local, azure-batch")
        );
        assert_eq!(
            serde_json::to_value(BatchEngine::AzureBatch).unwrap(),
            serde_json::json!(BatchEngine::AzureBatch.as_str())
        );
    }

    #[test]
    fn filters_and_formats_read_their_names() {
        assert_eq!("failed".parse(), Ok(RowFilter::Failed));
        assert_eq!("CSV".parse(), Ok(ExportFormat::Csv));
        assert!(
            "xml"
                .parse::<ExportFormat>()
                .unwrap_err()
                .to_string()
                .contains("jsonl, csv")
        );
    }
}
