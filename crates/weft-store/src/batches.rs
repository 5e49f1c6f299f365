//! Batch runs: one flow over every row of a dataset, and each row's result.
//!
//! The runner writes finished rows in small transactions while the batch runs, so that a crash
//! loses no finished row and a resume knows which rows are done. Callers redact before storing.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use crate::runs::json;
use crate::{Database, DbError};

/// A batch as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    pub id: String,
    pub name: Option<String>,
    pub flow_path: String,
    pub flow_hash: String,
    /// The flow as run: a resume runs this snapshot, not the file as it is now.
    pub flow_text: String,
    pub data_path: String,
    pub data_size: i64,
    pub data_modified_ms: i64,
    /// Object: flow input -> mapping text.
    pub mapping: Value,
    /// `"auto"` or a number.
    pub concurrency: String,
    /// How long one node may take, retries included, in milliseconds: a resume keeps it.
    pub node_timeout_ms: i64,
    /// `"local"` or `"azure-batch"`.
    pub engine: String,
    pub profile: Option<String>,
    /// running | succeeded | failed | cancelled | stopped
    pub status: String,
    pub message: Option<String>,
    pub created_at_ms: i64,
    /// The heartbeat: every write of rows moves it, so a `running` batch whose heartbeat is old
    /// was interrupted.
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// Known once the reader reached the end of the dataset.
    pub total_rows: Option<i64>,
    /// How the batch used a cassette (JSON: mode and counts); `None`: it had none.
    pub cassette: Option<Value>,
}

/// One dataset row's latest result.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRowRecord {
    pub batch_id: String,
    /// 0-based among the dataset's data rows.
    pub row: i64,
    /// 1-based line of the file where the row starts.
    pub line: i64,
    /// succeeded | failed | cancelled
    pub status: String,
    pub inputs: Value,
    pub outputs: Value,
    pub nodes: Value,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub finished_at_ms: i64,
}

/// How many of a batch's rows ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
}

/// Which rows of a batch to list. (The app's own filter, which crosses IPC, is weft-core's.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFilter {
    All,
    Succeeded,
    Failed,
    Cancelled,
}

impl RowFilter {
    fn status(self) -> Option<&'static str> {
        match self {
            Self::All => None,
            Self::Succeeded => Some("succeeded"),
            Self::Failed => Some("failed"),
            Self::Cancelled => Some("cancelled"),
        }
    }
}

const BATCH_COLUMNS: &str = "id, name, flow_path, flow_hash, flow_text, data_path, data_size, \
    data_modified, mapping, concurrency, engine, profile, status, message, created_at, updated_at, \
    finished_at, total_rows, node_timeout, cassette";

const ROW_COLUMNS: &str = "batch_id, row, line, status, inputs, outputs, nodes, error, latency_ms, \
    prompt_tokens, completion_tokens, finished_at";

fn read_batch(row: &Row<'_>) -> rusqlite::Result<BatchRecord> {
    Ok(BatchRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        flow_path: row.get(2)?,
        flow_hash: row.get(3)?,
        flow_text: row.get(4)?,
        data_path: row.get(5)?,
        data_size: row.get(6)?,
        data_modified_ms: row.get(7)?,
        mapping: json(row.get(8)?, 8)?,
        concurrency: row.get(9)?,
        engine: row.get(10)?,
        profile: row.get(11)?,
        status: row.get(12)?,
        message: row.get(13)?,
        created_at_ms: row.get(14)?,
        updated_at_ms: row.get(15)?,
        finished_at_ms: row.get(16)?,
        total_rows: row.get(17)?,
        node_timeout_ms: row.get(18)?,
        cassette: row
            .get::<_, Option<String>>(19)?
            .map(|text| json(text, 19))
            .transpose()?,
    })
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<BatchRowRecord> {
    Ok(BatchRowRecord {
        batch_id: row.get(0)?,
        row: row.get(1)?,
        line: row.get(2)?,
        status: row.get(3)?,
        inputs: json(row.get(4)?, 4)?,
        outputs: json(row.get(5)?, 5)?,
        nodes: json(row.get(6)?, 6)?,
        error: row.get(7)?,
        latency_ms: row.get(8)?,
        prompt_tokens: row.get(9)?,
        completion_tokens: row.get(10)?,
        finished_at_ms: row.get(11)?,
    })
}

impl Database {
    pub fn create_batch(&mut self, batch: &BatchRecord) -> Result<(), DbError> {
        self.conn().execute(
            &format!(
                "INSERT INTO batch_runs ({BATCH_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
            ),
            params![
                batch.id,
                batch.name,
                batch.flow_path,
                batch.flow_hash,
                batch.flow_text,
                batch.data_path,
                batch.data_size,
                batch.data_modified_ms,
                batch.mapping.to_string(),
                batch.concurrency,
                batch.engine,
                batch.profile,
                batch.status,
                batch.message,
                batch.created_at_ms,
                batch.updated_at_ms,
                batch.finished_at_ms,
                batch.total_rows,
                batch.node_timeout_ms,
                batch.cassette.as_ref().map(Value::to_string),
            ],
        )?;
        Ok(())
    }

    /// Stores `rows` under `batch_id` (their own `batch_id` is not read) in one transaction, and
    /// moves the batch's heartbeat to `now_ms`. A row that already has an entry (a resume ran it
    /// again) gets the new one.
    pub fn write_batch_rows(
        &mut self,
        batch_id: &str,
        rows: &[BatchRowRecord],
        now_ms: i64,
    ) -> Result<(), DbError> {
        // Immediate: take the write lock (waiting out the busy timeout) before the first insert,
        // rather than failing at commit when the app reads while the CLI writes.
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            // Cached: the runner calls this every few hundred rows, all through one statement.
            let mut insert = tx.prepare_cached(&format!(
                "INSERT OR REPLACE INTO batch_rows ({ROW_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ))?;
            for row in rows {
                insert.execute(params![
                    batch_id,
                    row.row,
                    row.line,
                    row.status,
                    row.inputs.to_string(),
                    row.outputs.to_string(),
                    row.nodes.to_string(),
                    row.error,
                    row.latency_ms,
                    row.prompt_tokens,
                    row.completion_tokens,
                    row.finished_at_ms,
                ])?;
            }
        }
        tx.execute(
            "UPDATE batch_runs SET updated_at = ?2 WHERE id = ?1",
            params![batch_id, now_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a batch's status and message and its finish time (`None` clears it: a resumed batch
    /// is running again). `total_rows` of `None` keeps the total already known.
    pub fn set_batch_status(
        &mut self,
        id: &str,
        status: &str,
        message: Option<&str>,
        total_rows: Option<i64>,
        finished_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE batch_runs SET status = ?2, message = ?3, total_rows = coalesce(?4, total_rows), \
             finished_at = ?5, updated_at = ?6 WHERE id = ?1",
            params![id, status, message, total_rows, finished_at_ms, now_ms],
        )?;
        Ok(())
    }

    /// Stores how the batch used its cassette (the calls of this run of it: a resume replaces it).
    pub fn set_batch_cassette(&mut self, id: &str, cassette: &Value) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE batch_runs SET cassette = ?2 WHERE id = ?1",
            params![id, cassette.to_string()],
        )?;
        Ok(())
    }

    /// The batch with id `prefix`, or else the one whose id starts with `prefix` (at least 4
    /// characters), if exactly one does.
    pub fn batch(&self, prefix: &str) -> Result<Option<BatchRecord>, DbError> {
        let prefix = prefix.trim();
        if prefix.len() < 4 {
            return Ok(None);
        }
        let exact = self
            .conn()
            .query_row(
                &format!("SELECT {BATCH_COLUMNS} FROM batch_runs WHERE id = ?1"),
                [prefix],
                read_batch,
            )
            .optional()?;
        if exact.is_some() {
            return Ok(exact);
        }
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {BATCH_COLUMNS} FROM batch_runs WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"
        ))?;
        let mut found: Vec<BatchRecord> = stmt
            .query_map([prefix], read_batch)?
            .collect::<Result<_, _>>()?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    /// Whether a batch id prefix names more than one batch and none exactly.
    pub fn batch_prefix_is_ambiguous(&self, prefix: &str) -> Result<bool, DbError> {
        Ok(self.conn().query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM batch_runs WHERE id = ?1) AND count(*) > 1 \
             FROM batch_runs WHERE substr(id, 1, length(?1)) = ?1",
            [prefix.trim()],
            |row| row.get(0),
        )?)
    }

    /// The most recent batches first, each with its counts.
    pub fn batches(&self, limit: u32) -> Result<Vec<(BatchRecord, BatchCounts)>, DbError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {BATCH_COLUMNS} FROM batch_runs ORDER BY created_at DESC, rowid DESC LIMIT ?1"
        ))?;
        let batches: Vec<BatchRecord> = stmt
            .query_map([limit], read_batch)?
            .collect::<Result<_, _>>()?;
        batches
            .into_iter()
            .map(|batch| {
                let counts = self.batch_counts(&batch.id)?;
                Ok((batch, counts))
            })
            .collect()
    }

    pub fn batch_counts(&self, id: &str) -> Result<BatchCounts, DbError> {
        // Read from the (batch_id, status, row) index alone.
        Ok(self.conn().query_row(
            "SELECT coalesce(sum(status = 'succeeded'), 0), coalesce(sum(status = 'failed'), 0), \
             coalesce(sum(status = 'cancelled'), 0) FROM batch_rows WHERE batch_id = ?1",
            [id],
            |row| {
                // A count is never negative; rusqlite reads integers as i64.
                let count = |i| row.get::<_, i64>(i).map(|n| n.unsigned_abs());
                Ok(BatchCounts {
                    succeeded: count(0)?,
                    failed: count(1)?,
                    cancelled: count(2)?,
                })
            },
        )?)
    }

    /// One page of a batch's rows in row order: at most `limit` of those `filter` keeps, after
    /// skipping `offset` of them.
    pub fn batch_rows(
        &self,
        id: &str,
        filter: RowFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<BatchRowRecord>, DbError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        // Two statements rather than `?2 IS NULL OR status = ?2`, which would keep SQLite from
        // seeking the status index.
        let rows = match filter.status() {
            None => self
                .conn()
                .prepare_cached(&format!(
                    "SELECT {ROW_COLUMNS} FROM batch_rows WHERE batch_id = ?1 \
                     ORDER BY row LIMIT ?2 OFFSET ?3"
                ))?
                .query_map(params![id, limit, offset], read_row)?
                .collect::<Result<_, _>>()?,
            Some(status) => self
                .conn()
                .prepare_cached(&format!(
                    "SELECT {ROW_COLUMNS} FROM batch_rows WHERE batch_id = ?1 AND status = ?2 \
                     ORDER BY row LIMIT ?3 OFFSET ?4"
                ))?
                .query_map(params![id, status, limit, offset], read_row)?
                .collect::<Result<_, _>>()?,
        };
        Ok(rows)
    }

    pub fn batch_row(&self, id: &str, row: i64) -> Result<Option<BatchRowRecord>, DbError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM batch_rows WHERE batch_id = ?1 AND row = ?2"),
                params![id, row],
                read_row,
            )
            .optional()?)
    }

    /// Hands every row of the batch to `f` in row order, one at a time (an export of 100,000
    /// rows never holds them all), and returns how many it handed. An error from `f` stops there.
    pub fn for_each_batch_row(
        &self,
        id: &str,
        f: &mut dyn FnMut(BatchRowRecord) -> Result<(), DbError>,
    ) -> Result<u64, DbError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {ROW_COLUMNS} FROM batch_rows WHERE batch_id = ?1 ORDER BY row"
        ))?;
        let mut rows = stmt.query([id])?;
        let mut handed = 0;
        while let Some(row) = rows.next()? {
            f(read_row(row)?)?;
            handed += 1;
        }
        Ok(handed)
    }

    /// The rows that succeeded, in order: what a resume skips.
    pub fn succeeded_rows(&self, id: &str) -> Result<Vec<i64>, DbError> {
        let mut stmt = self.conn().prepare(
            "SELECT row FROM batch_rows WHERE batch_id = ?1 AND status = 'succeeded' ORDER BY row",
        )?;
        let rows = stmt
            .query_map([id], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn open(dir: &tempfile::TempDir) -> Database {
        Database::open(&dir.path().join("w.sqlite3"), "t").unwrap()
    }

    fn batch(id: &str, created: i64) -> BatchRecord {
        BatchRecord {
            id: id.into(),
            name: Some("nightly eval".into()),
            flow_path: "/flows/chat.weft.yaml".into(),
            flow_hash: "abc".into(),
            flow_text: "inputs: {}\n".into(),
            data_path: "/data/questions.jsonl".into(),
            data_size: 4_096,
            data_modified_ms: 900,
            mapping: json!({"question": "${data.q}"}),
            concurrency: "auto".into(),
            node_timeout_ms: 45_000,
            engine: "local".into(),
            profile: None,
            status: "running".into(),
            message: None,
            created_at_ms: created,
            updated_at_ms: created,
            finished_at_ms: None,
            total_rows: None,
            cassette: None,
        }
    }

    fn row(batch_id: &str, row: i64, status: &str) -> BatchRowRecord {
        BatchRowRecord {
            batch_id: batch_id.into(),
            row,
            line: row + 1,
            status: status.into(),
            inputs: json!({"question": format!("q{row}")}),
            outputs: json!({"answer": format!("a{row}")}),
            nodes: json!({"chat": {"state": status}}),
            error: (status != "succeeded").then(|| format!("row {row} {status}")),
            latency_ms: 201.5,
            prompt_tokens: 12,
            completion_tokens: 7,
            finished_at_ms: 2_000 + row,
        }
    }

    fn rows_of(id: &str, statuses: &[(i64, &str)]) -> Vec<BatchRowRecord> {
        statuses.iter().map(|&(n, s)| row(id, n, s)).collect()
    }

    fn numbers(rows: &[BatchRowRecord]) -> Vec<i64> {
        rows.iter().map(|r| r.row).collect()
    }

    #[test]
    fn lists_batches_newest_first_with_their_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat-old", 1_000)).unwrap();
        db.create_batch(&batch("bat-new", 2_000)).unwrap();
        let written = rows_of(
            "bat-old",
            &[
                (0, "succeeded"),
                (1, "failed"),
                (2, "succeeded"),
                (3, "cancelled"),
            ],
        );
        db.write_batch_rows("bat-old", &written, 3_000).unwrap();

        let listed = db.batches(10).unwrap();
        let ids: Vec<&str> = listed.iter().map(|(b, _)| b.id.as_str()).collect();
        assert_eq!(ids, ["bat-new", "bat-old"]);
        assert_eq!(listed[0].1, BatchCounts::default());
        assert_eq!(
            listed[1].1,
            BatchCounts {
                succeeded: 2,
                failed: 1,
                cancelled: 1
            }
        );
        assert_eq!(
            listed[1].0,
            BatchRecord {
                updated_at_ms: 3_000,
                ..batch("bat-old", 1_000)
            },
            "every field comes back, and writing rows moved the heartbeat"
        );
        assert_eq!(db.batches(1).unwrap().len(), 1);
    }

    #[test]
    fn finds_a_batch_by_its_id_or_a_unique_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        for id in ["abcd", "abcd1111", "abcd2222"] {
            db.create_batch(&batch(id, 1_000)).unwrap();
        }
        assert_eq!(db.batch("abcd1").unwrap().unwrap().id, "abcd1111");
        assert_eq!(
            db.batch(" abcd ").unwrap().unwrap().id,
            "abcd",
            "an exact id wins over the longer ids it starts"
        );
        assert!(!db.batch_prefix_is_ambiguous("abcd").unwrap());
        assert_eq!(db.batch("abcd2222x").unwrap(), None);
        assert_eq!(db.batch("abc").unwrap(), None, "too short to be a prefix");

        db.create_batch(&batch("ffff1111", 1_000)).unwrap();
        db.create_batch(&batch("ffff2222", 1_000)).unwrap();
        assert_eq!(db.batch("ffff").unwrap(), None);
        assert!(db.batch_prefix_is_ambiguous("ffff").unwrap());
        assert!(!db.batch_prefix_is_ambiguous("ffff1").unwrap());
    }

    #[test]
    fn a_resumed_row_replaces_its_failed_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        let first = rows_of("bat1", &[(0, "succeeded"), (1, "failed"), (2, "cancelled")]);
        db.write_batch_rows("bat1", &first, 2_000).unwrap();
        assert_eq!(db.succeeded_rows("bat1").unwrap(), [0]);

        let retried = rows_of("bat1", &[(1, "succeeded"), (2, "failed")]);
        db.write_batch_rows("bat1", &retried, 5_000).unwrap();
        assert_eq!(
            db.batch_counts("bat1").unwrap(),
            BatchCounts {
                succeeded: 2,
                failed: 1,
                cancelled: 0
            }
        );
        assert_eq!(db.batch_row("bat1", 1).unwrap().unwrap(), retried[0]);
        assert_eq!(db.batch_row("bat1", 1).unwrap().unwrap().error, None);
        assert_eq!(db.batch_row("bat1", 9).unwrap(), None);
        assert_eq!(db.batch("bat1").unwrap().unwrap().updated_at_ms, 5_000);
    }

    #[test]
    fn rows_are_filtered_by_status_and_paged_in_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        db.create_batch(&batch("bat2", 1_000)).unwrap();
        // Rows finish out of order; they are listed by row.
        let written: Vec<BatchRowRecord> = [7, 3, 0, 5, 1, 6, 2, 4]
            .into_iter()
            .map(|n| row("bat1", n, if n % 3 == 0 { "failed" } else { "succeeded" }))
            .collect();
        db.write_batch_rows("bat1", &written, 2_000).unwrap();
        db.write_batch_rows("bat2", &rows_of("bat2", &[(0, "failed")]), 2_000)
            .unwrap();

        let page =
            |filter, offset, limit| numbers(&db.batch_rows("bat1", filter, offset, limit).unwrap());
        assert_eq!(page(RowFilter::All, 0, 100), [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(page(RowFilter::All, 2, 3), [2, 3, 4]);
        assert_eq!(page(RowFilter::Failed, 0, 100), [0, 3, 6]);
        assert_eq!(page(RowFilter::Failed, 1, 1), [3]);
        assert_eq!(page(RowFilter::Succeeded, 3, 100), [5, 7]);
        assert_eq!(page(RowFilter::Cancelled, 0, 100), Vec::<i64>::new());
        assert_eq!(page(RowFilter::All, 8, 100), Vec::<i64>::new());
        assert_eq!(
            db.batch_rows("bat1", RowFilter::All, 0, 1).unwrap()[0],
            row("bat1", 0, "failed")
        );
    }

    #[test]
    fn for_each_streams_a_batchs_rows_in_row_order_and_stops_at_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        db.create_batch(&batch("bat2", 1_000)).unwrap();
        db.write_batch_rows(
            "bat1",
            &rows_of("bat1", &[(2, "failed"), (0, "succeeded")]),
            2_000,
        )
        .unwrap();
        db.write_batch_rows("bat1", &rows_of("bat1", &[(1, "succeeded")]), 2_000)
            .unwrap();
        db.write_batch_rows("bat2", &rows_of("bat2", &[(5, "succeeded")]), 2_000)
            .unwrap();

        let mut seen = Vec::new();
        let handed = db
            .for_each_batch_row("bat1", &mut |r| {
                seen.push(r);
                Ok(())
            })
            .unwrap();
        assert_eq!(handed, 3);
        assert_eq!(
            seen,
            rows_of("bat1", &[(0, "succeeded"), (1, "succeeded"), (2, "failed")])
        );

        let mut calls = 0;
        let err = db
            .for_each_batch_row("bat1", &mut |_| {
                calls += 1;
                Err(DbError::Poisoned)
            })
            .unwrap_err();
        assert!(matches!(err, DbError::Poisoned), "got {err:?}");
        assert_eq!(calls, 1);
    }

    #[test]
    fn succeeded_rows_are_sorted_for_resume() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        let written = rows_of(
            "bat1",
            &[
                (9, "succeeded"),
                (4, "failed"),
                (2, "succeeded"),
                (5, "cancelled"),
                (3, "succeeded"),
            ],
        );
        db.write_batch_rows("bat1", &written, 2_000).unwrap();
        assert_eq!(db.succeeded_rows("bat1").unwrap(), [2, 3, 9]);
        assert_eq!(db.succeeded_rows("nope").unwrap(), Vec::<i64>::new());
    }

    #[test]
    fn a_status_change_sets_the_finish_and_keeps_a_known_total() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        db.set_batch_status(
            "bat1",
            "failed",
            Some("2 rows failed"),
            Some(40),
            Some(9_000),
            9_000,
        )
        .unwrap();
        let done = db.batch("bat1").unwrap().unwrap();
        assert_eq!(
            (
                done.status.as_str(),
                done.message.as_deref(),
                done.total_rows,
                done.finished_at_ms
            ),
            ("failed", Some("2 rows failed"), Some(40), Some(9_000))
        );

        db.set_batch_status("bat1", "running", None, None, None, 12_000)
            .unwrap();
        let resumed = db.batch("bat1").unwrap().unwrap();
        assert_eq!(
            (
                resumed.status.as_str(),
                resumed.message,
                resumed.total_rows,
                resumed.finished_at_ms
            ),
            ("running", None, Some(40), None)
        );
        assert_eq!(resumed.updated_at_ms, 12_000);
    }

    #[test]
    fn a_batch_keeps_how_it_used_a_cassette() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        assert_eq!(db.batch("bat1").unwrap().unwrap().cassette, None);
        let use_ = json!({"mode": "fill", "replayed": 3, "recorded": 1, "live": 0});
        db.set_batch_cassette("bat1", &use_).unwrap();
        assert_eq!(db.batch("bat1").unwrap().unwrap().cassette, Some(use_));
    }

    #[test]
    fn rows_of_an_unknown_batch_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        let err = db
            .write_batch_rows("nope", &rows_of("nope", &[(0, "succeeded")]), 2_000)
            .unwrap_err();
        assert!(matches!(err, DbError::Sqlite(_)), "got {err:?}");
        assert_eq!(db.batch_counts("nope").unwrap(), BatchCounts::default());
    }

    #[test]
    fn deleting_a_batch_deletes_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_batch(&batch("bat1", 1_000)).unwrap();
        db.create_batch(&batch("bat2", 1_000)).unwrap();
        db.write_batch_rows(
            "bat1",
            &rows_of("bat1", &[(0, "succeeded"), (1, "failed")]),
            2_000,
        )
        .unwrap();
        db.write_batch_rows("bat2", &rows_of("bat2", &[(0, "succeeded")]), 2_000)
            .unwrap();
        db.conn()
            .execute("DELETE FROM batch_runs WHERE id = 'bat1'", [])
            .unwrap();
        let left: i64 = db
            .conn()
            .query_row("SELECT count(*) FROM batch_rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
        assert_eq!(db.batch_counts("bat2").unwrap().succeeded, 1);
    }
}
