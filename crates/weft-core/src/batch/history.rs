//! Stored batches and their rows, as the CLI and the app show them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use weft_batch::ColumnMapping;
use weft_flow::FlowDocument;
use weft_store::{BatchRecord, BatchRowRecord};

use crate::batch::{
    BatchCounts, BatchRowStatus, BatchRowView, BatchStatus, BatchView, DataFileFormat, DataPreview,
    PreviewRow, RowFilter,
};
use crate::cassette::CassetteUse;
use crate::runs::now_ms;
use crate::{AppCore, AppError};

/// A `running` batch that has not written for this long was left by a process that ended: a
/// running batch writes at least every 2 s.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(10);

/// The status a stored batch shows: `running` with an old heartbeat is interrupted.
fn status(record: &BatchRecord, now_ms: i64) -> BatchStatus {
    match record.status.as_str() {
        "running" => {
            let stale = i64::try_from(STALE_AFTER.as_millis()).unwrap_or(i64::MAX);
            if now_ms.saturating_sub(record.updated_at_ms) > stale {
                BatchStatus::Interrupted
            } else {
                BatchStatus::Running
            }
        }
        "succeeded" => BatchStatus::Succeeded,
        "cancelled" => BatchStatus::Cancelled,
        "stopped" => BatchStatus::Stopped,
        _ => BatchStatus::Failed,
    }
}

fn view(record: BatchRecord, counts: weft_store::BatchCounts, now_ms: i64) -> BatchView {
    let status = status(&record, now_ms);
    let mapping: BTreeMap<String, String> = record
        .mapping
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    BatchView {
        id: record.id,
        name: record.name,
        flow_path: record.flow_path,
        data_path: record.data_path,
        status,
        counts: BatchCounts {
            succeeded: counts.succeeded,
            failed: counts.failed,
            cancelled: counts.cancelled,
        },
        total: record.total_rows.and_then(|t| u64::try_from(t).ok()),
        created_at_ms: record.created_at_ms,
        finished_at_ms: record.finished_at_ms,
        mapping,
        concurrency: record.concurrency,
        engine: record.engine,
        profile: record.profile,
        message: record.message,
        cassette: CassetteUse::from_json(record.cassette),
    }
}

fn row_view(row: BatchRowRecord) -> Result<BatchRowView, AppError> {
    let status = match row.status.as_str() {
        "succeeded" => BatchRowStatus::Succeeded,
        "cancelled" => BatchRowStatus::Cancelled,
        _ => BatchRowStatus::Failed,
    };
    let nodes = serde_json::from_value(row.nodes).map_err(|err| {
        AppError::Internal(format!(
            "row {} of batch `{}` has node records this build cannot read ({err})",
            row.row, row.batch_id
        ))
    })?;
    Ok(BatchRowView {
        row: u64::try_from(row.row).unwrap_or_default(),
        line: u64::try_from(row.line).unwrap_or_default(),
        status,
        inputs: row.inputs,
        outputs: row.outputs,
        nodes,
        error: row.error,
        latency_ms: row.latency_ms,
        prompt_tokens: u64::try_from(row.prompt_tokens).unwrap_or_default(),
        completion_tokens: u64::try_from(row.completion_tokens).unwrap_or_default(),
    })
}

impl AppCore {
    /// The newest batches first.
    pub fn batches(&self, limit: u32) -> Result<Vec<BatchView>, AppError> {
        let now = now_ms();
        Ok(self
            .db()?
            .batches(limit)?
            .into_iter()
            .map(|(record, counts)| view(record, counts, now))
            .collect())
    }

    /// The batch with this id, or the one batch whose id starts with it.
    pub fn batch(&self, id: &str) -> Result<BatchView, AppError> {
        let record = self.batch_record(id)?;
        let counts = self.db()?.batch_counts(&record.id)?;
        Ok(view(record, counts, now_ms()))
    }

    /// The stored batch `id` (or the one its id starts with).
    pub(crate) fn batch_record(&self, id: &str) -> Result<BatchRecord, AppError> {
        let db = self.db()?;
        match db.batch(id)? {
            Some(record) => Ok(record),
            None if db.batch_prefix_is_ambiguous(id)? => Err(AppError::Invalid(format!(
                "several batches start with `{id}`; give more of the id"
            ))),
            None => Err(AppError::NotFound(format!(
                "no batch `{id}`; `weft batch list` shows the ids"
            ))),
        }
    }

    /// A page of a batch's rows, by row.
    pub fn batch_rows(
        &self,
        id: &str,
        filter: RowFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<BatchRowView>, AppError> {
        let record = self.batch_record(id)?;
        let filter = match filter {
            RowFilter::All => weft_store::RowFilter::All,
            RowFilter::Succeeded => weft_store::RowFilter::Succeeded,
            RowFilter::Failed => weft_store::RowFilter::Failed,
            RowFilter::Cancelled => weft_store::RowFilter::Cancelled,
        };
        self.db()?
            .batch_rows(&record.id, filter, offset, limit)?
            .into_iter()
            .map(row_view)
            .collect()
    }

    /// One row with its node records, for the node-by-node view.
    pub fn batch_row(&self, id: &str, row: u64) -> Result<BatchRowView, AppError> {
        let record = self.batch_record(id)?;
        let stored = match i64::try_from(row) {
            Ok(index) => self.db()?.batch_row(&record.id, index)?,
            Err(_) => None,
        };
        match stored {
            Some(stored) => row_view(stored),
            None => Err(AppError::NotFound(format!(
                "batch `{}` has no row {row} stored (rows count from 0; a row not run yet has none); `weft batch show {} --rows` lists them",
                record.id, record.id
            ))),
        }
    }

    /// A data file's columns and first rows, and the mapping proposed for `flow`.
    pub fn preview_data(
        &self,
        flow: &FlowDocument,
        path: &Path,
        rows: usize,
    ) -> Result<DataPreview, AppError> {
        let preview =
            weft_batch::preview(path, rows).map_err(|err| AppError::Invalid(err.to_string()))?;
        let mapping = ColumnMapping::suggest(flow, &preview.columns).to_map();
        Ok(DataPreview {
            format: match preview.format {
                weft_batch::DataFormat::Jsonl => DataFileFormat::Jsonl,
                weft_batch::DataFormat::Csv => DataFileFormat::Csv,
            },
            rows: preview
                .rows
                .into_iter()
                .map(|row| {
                    let (fields, error) = match row.fields {
                        Ok(fields) => (Some(fields), None),
                        Err(bad) => (None, Some(bad.to_string())),
                    };
                    PreviewRow {
                        row: row.index,
                        line: row.line,
                        fields,
                        error,
                    }
                })
                .collect(),
            columns: preview.columns,
            mapping,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(status: &str, updated_at_ms: i64) -> BatchRecord {
        BatchRecord {
            id: "b".into(),
            name: None,
            flow_path: "f".into(),
            flow_hash: "h".into(),
            flow_text: String::new(),
            data_path: "d".into(),
            data_size: 0,
            data_modified_ms: 0,
            mapping: json!({"q": "${data.question}"}),
            concurrency: "auto".into(),
            node_timeout_ms: 300_000,
            engine: "local".into(),
            profile: None,
            status: status.into(),
            message: None,
            created_at_ms: 0,
            updated_at_ms,
            finished_at_ms: None,
            total_rows: None,
            cassette: None,
        }
    }

    #[test]
    fn a_running_batch_without_a_recent_heartbeat_is_interrupted() {
        assert_eq!(
            status(&record("running", 95_000), 100_000),
            BatchStatus::Running
        );
        assert_eq!(
            status(&record("running", 89_999), 100_000),
            BatchStatus::Interrupted
        );
        assert_eq!(
            status(&record("cancelled", 0), 100_000),
            BatchStatus::Cancelled
        );
        let shown = view(record("stopped", 0), Default::default(), 1);
        assert_eq!(shown.status, BatchStatus::Stopped);
        assert_eq!(shown.mapping["q"], "${data.question}");
    }
}
