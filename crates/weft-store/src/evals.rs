//! Evaluation runs: an eval file run once per variant (each variant a batch of its own), and the
//! verdict on every row of every variant. Callers redact before storing, as for runs.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use crate::runs::json;
use crate::{Database, DbError};

/// An eval run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalRecord {
    pub id: String,
    pub name: String,
    pub eval_path: String,
    /// The eval file as run.
    pub eval_text: String,
    /// running | finished | cancelled | failed
    pub status: String,
    pub message: Option<String>,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// The heartbeat: moved every few seconds while it runs, so a `running` eval whose
    /// heartbeat is old was interrupted.
    pub updated_at_ms: i64,
    /// Whether every threshold held; `None` until it finished.
    pub passed: Option<bool>,
    /// The report once it ended.
    pub report: Option<Value>,
    /// How it used a cassette (JSON: mode and counts); `None`: it had none.
    pub cassette: Option<Value>,
}

/// How an eval run ended, for [`Database::finish_eval`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalEnd<'a> {
    pub status: &'a str,
    pub message: Option<&'a str>,
    pub passed: Option<bool>,
    pub report: &'a Value,
    pub cassette: Option<&'a Value>,
    pub finished_at_ms: i64,
}

/// The verdict on one row of one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRecord {
    pub row: i64,
    pub pass: bool,
    pub score: f64,
    /// Every assertion's verdict and the row's cost.
    pub verdict: Value,
}

/// One cell of the results grid: a row's verdict under one variant, with what the row's run
/// took and gave (from its batch).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalCellRecord {
    pub row: i64,
    pub variant: String,
    pub pass: bool,
    pub score: f64,
    pub verdict: Value,
    /// The batch row's inputs, outputs, error and latency; `None` when the batch row is gone.
    pub inputs: Option<Value>,
    pub outputs: Option<Value>,
    pub error: Option<String>,
    pub latency_ms: Option<f64>,
}

const EVAL_COLUMNS: &str = "id, name, eval_path, eval_text, status, message, started_at, \
    finished_at, passed, report, cassette, updated_at";

fn optional_json(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<Value>> {
    row.get::<_, Option<String>>(column)?
        .map(|text| json(text, column))
        .transpose()
}

fn read_eval(row: &Row<'_>) -> rusqlite::Result<EvalRecord> {
    Ok(EvalRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        eval_path: row.get(2)?,
        eval_text: row.get(3)?,
        status: row.get(4)?,
        message: row.get(5)?,
        started_at_ms: row.get(6)?,
        finished_at_ms: row.get(7)?,
        passed: row.get(8)?,
        report: optional_json(row, 9)?,
        cassette: optional_json(row, 10)?,
        updated_at_ms: row.get(11)?,
    })
}

impl Database {
    pub fn create_eval(&mut self, eval: &EvalRecord) -> Result<(), DbError> {
        self.conn().execute(
            &format!(
                "INSERT INTO eval_runs ({EVAL_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ),
            params![
                eval.id,
                eval.name,
                eval.eval_path,
                eval.eval_text,
                eval.status,
                eval.message,
                eval.started_at_ms,
                eval.finished_at_ms,
                eval.passed,
                eval.report.as_ref().map(Value::to_string),
                eval.cassette.as_ref().map(Value::to_string),
                eval.updated_at_ms,
            ],
        )?;
        Ok(())
    }

    /// Adds a variant to an eval run, after those it has, with the batch that runs its flow.
    pub fn add_eval_variant(
        &mut self,
        eval_id: &str,
        variant: &str,
        batch_id: &str,
    ) -> Result<(), DbError> {
        self.conn().execute(
            "INSERT INTO eval_variants (eval_id, position, variant, batch_id) VALUES \
             (?1, (SELECT count(*) FROM eval_variants WHERE eval_id = ?1), ?2, ?3)",
            params![eval_id, variant, batch_id],
        )?;
        Ok(())
    }

    /// The variants of an eval run in the order they ran, each with its batch id.
    pub fn eval_variants(&self, eval_id: &str) -> Result<Vec<(String, String)>, DbError> {
        let mut stmt = self.conn().prepare(
            "SELECT variant, batch_id FROM eval_variants WHERE eval_id = ?1 ORDER BY position",
        )?;
        let variants = stmt
            .query_map([eval_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(variants)
    }

    /// Stores verdicts of one variant in one transaction; a row that has one gets the new one.
    pub fn write_eval_verdicts(
        &mut self,
        eval_id: &str,
        variant: &str,
        verdicts: &[VerdictRecord],
    ) -> Result<(), DbError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO eval_verdicts (eval_id, variant, row, pass, score, verdict) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for verdict in verdicts {
                insert.execute(params![
                    eval_id,
                    variant,
                    verdict.row,
                    verdict.pass,
                    verdict.score,
                    verdict.verdict.to_string(),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves an eval run's heartbeat to `now_ms`.
    pub fn touch_eval(&mut self, id: &str, now_ms: i64) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE eval_runs SET updated_at = ?2 WHERE id = ?1",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Stores how an eval run ended.
    pub fn finish_eval(&mut self, id: &str, end: &EvalEnd<'_>) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE eval_runs SET status = ?2, message = ?3, passed = ?4, report = ?5, \
             cassette = ?6, finished_at = ?7, updated_at = ?7 WHERE id = ?1",
            params![
                id,
                end.status,
                end.message,
                end.passed,
                end.report.to_string(),
                end.cassette.map(Value::to_string),
                end.finished_at_ms,
            ],
        )?;
        Ok(())
    }

    /// The eval run with id `prefix`, or else the one whose id starts with `prefix` (at least 4
    /// characters), if exactly one does.
    pub fn eval(&self, prefix: &str) -> Result<Option<EvalRecord>, DbError> {
        let prefix = prefix.trim();
        if prefix.len() < 4 {
            return Ok(None);
        }
        let exact = self
            .conn()
            .query_row(
                &format!("SELECT {EVAL_COLUMNS} FROM eval_runs WHERE id = ?1"),
                [prefix],
                read_eval,
            )
            .optional()?;
        if exact.is_some() {
            return Ok(exact);
        }
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {EVAL_COLUMNS} FROM eval_runs WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"
        ))?;
        let mut found: Vec<EvalRecord> = stmt
            .query_map([prefix], read_eval)?
            .collect::<Result<_, _>>()?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    /// Whether an eval id prefix names more than one eval run and none exactly.
    pub fn eval_prefix_is_ambiguous(&self, prefix: &str) -> Result<bool, DbError> {
        Ok(self.conn().query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM eval_runs WHERE id = ?1) AND count(*) > 1 \
             FROM eval_runs WHERE substr(id, 1, length(?1)) = ?1",
            [prefix.trim()],
            |row| row.get(0),
        )?)
    }

    /// The most recent eval runs first.
    pub fn evals(&self, limit: u32) -> Result<Vec<EvalRecord>, DbError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {EVAL_COLUMNS} FROM eval_runs ORDER BY started_at DESC, rowid DESC LIMIT ?1"
        ))?;
        let evals = stmt
            .query_map([limit], read_eval)?
            .collect::<Result<_, _>>()?;
        Ok(evals)
    }

    /// Whether each row of each variant passed, by variant then row: what a baseline compares.
    pub fn eval_passes(&self, eval_id: &str) -> Result<Vec<(String, i64, bool)>, DbError> {
        let mut stmt = self.conn().prepare(
            "SELECT variant, row, pass FROM eval_verdicts WHERE eval_id = ?1 ORDER BY variant, row",
        )?;
        let passes = stmt
            .query_map([eval_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(passes)
    }

    /// One page of the results grid: the cells of `limit` rows after skipping `offset` rows
    /// (rows that have a verdict under any variant), by row, then variant in the order they ran.
    pub fn eval_cells(
        &self,
        eval_id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<EvalCellRecord>, DbError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let mut stmt = self.conn().prepare_cached(
            "SELECT v.row, v.variant, v.pass, v.score, v.verdict, \
                    b.inputs, b.outputs, b.error, b.latency_ms \
             FROM eval_verdicts v \
             JOIN eval_variants ev ON ev.eval_id = v.eval_id AND ev.variant = v.variant \
             LEFT JOIN batch_rows b ON b.batch_id = ev.batch_id AND b.row = v.row \
             WHERE v.eval_id = ?1 AND v.row IN ( \
                 SELECT DISTINCT row FROM eval_verdicts WHERE eval_id = ?1 \
                 ORDER BY row LIMIT ?2 OFFSET ?3) \
             ORDER BY v.row, ev.position",
        )?;
        let cells = stmt
            .query_map(params![eval_id, limit, offset], |row| {
                Ok(EvalCellRecord {
                    row: row.get(0)?,
                    variant: row.get(1)?,
                    pass: row.get(2)?,
                    score: row.get(3)?,
                    verdict: json(row.get(4)?, 4)?,
                    inputs: optional_json(row, 5)?,
                    outputs: optional_json(row, 6)?,
                    error: row.get(7)?,
                    latency_ms: row.get(8)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(cells)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{BatchRecord, BatchRowRecord};

    fn open(dir: &tempfile::TempDir) -> Database {
        Database::open(&dir.path().join("w.sqlite3"), "t").unwrap()
    }

    fn eval(id: &str, started: i64) -> EvalRecord {
        EvalRecord {
            id: id.into(),
            name: "chat".into(),
            eval_path: "/flows/chat.eval.yaml".into(),
            eval_text: "flow: chat.weft.yaml\n".into(),
            status: "running".into(),
            message: None,
            started_at_ms: started,
            finished_at_ms: None,
            updated_at_ms: started,
            passed: None,
            report: None,
            cassette: None,
        }
    }

    fn batch(id: &str) -> BatchRecord {
        BatchRecord {
            id: id.into(),
            name: Some(format!("eval chat · {id}")),
            flow_path: "/flows/chat.weft.yaml".into(),
            flow_hash: "abc".into(),
            flow_text: "inputs: {}\n".into(),
            data_path: "/data/q.jsonl".into(),
            data_size: 1,
            data_modified_ms: 1,
            mapping: json!({}),
            concurrency: "auto".into(),
            node_timeout_ms: 1_000,
            engine: "local".into(),
            profile: None,
            status: "succeeded".into(),
            message: None,
            created_at_ms: 1,
            updated_at_ms: 1,
            finished_at_ms: Some(2),
            total_rows: Some(3),
            cassette: None,
        }
    }

    fn batch_row(batch_id: &str, row: i64) -> BatchRowRecord {
        BatchRowRecord {
            batch_id: batch_id.into(),
            row,
            line: row + 1,
            status: "succeeded".into(),
            inputs: json!({"question": format!("q{row}")}),
            outputs: json!({"answer": format!("{batch_id} a{row}")}),
            nodes: json!({}),
            error: None,
            latency_ms: 10.0 + row as f64,
            prompt_tokens: 1,
            completion_tokens: 1,
            finished_at_ms: 2,
        }
    }

    fn verdict(row: i64, pass: bool) -> VerdictRecord {
        VerdictRecord {
            row,
            pass,
            score: if pass { 1.0 } else { 0.0 },
            verdict: json!({"pass": pass, "reason": format!("row {row}")}),
        }
    }

    /// An eval run `id` with variants mini and large over three rows; large fails row 1.
    fn two_variants(db: &mut Database, id: &str) {
        db.create_eval(&eval(id, 1_000)).unwrap();
        for variant in ["mini", "large"] {
            let batch_id = format!("{id}-{variant}");
            db.create_batch(&batch(&batch_id)).unwrap();
            let rows: Vec<_> = (0..3).map(|r| batch_row(&batch_id, r)).collect();
            db.write_batch_rows(&batch_id, &rows, 2).unwrap();
            db.add_eval_variant(id, variant, &batch_id).unwrap();
            let verdicts: Vec<_> = (0..3)
                .map(|r| verdict(r, !(variant == "large" && r == 1)))
                .collect();
            db.write_eval_verdicts(id, variant, &verdicts).unwrap();
        }
    }

    #[test]
    fn an_eval_run_is_stored_running_then_finished_and_found_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_eval(&eval("eval1111", 1_000)).unwrap();
        db.create_eval(&eval("eval2222", 2_000)).unwrap();
        assert_eq!(db.eval("eval1").unwrap().unwrap().status, "running");
        assert_eq!(db.eval("eval").unwrap(), None);
        assert!(db.eval_prefix_is_ambiguous("eval").unwrap());
        db.touch_eval("eval1111", 2_500).unwrap();
        assert_eq!(db.eval("eval1111").unwrap().unwrap().updated_at_ms, 2_500);

        let report = json!({"passed": false});
        let cassette = json!({"mode": "replay", "replayed": 4, "recorded": 0, "live": 0});
        db.finish_eval(
            "eval1111",
            &EvalEnd {
                status: "finished",
                message: None,
                passed: Some(false),
                report: &report,
                cassette: Some(&cassette),
                finished_at_ms: 3_000,
            },
        )
        .unwrap();
        let done = db.eval("eval1111").unwrap().unwrap();
        assert_eq!(
            (
                done.status.as_str(),
                done.passed,
                done.finished_at_ms,
                done.updated_at_ms
            ),
            ("finished", Some(false), Some(3_000), 3_000)
        );
        assert_eq!(done.report, Some(report));
        assert_eq!(done.cassette, Some(cassette));
        let ids: Vec<String> = db.evals(10).unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["eval2222", "eval1111"]);
    }

    #[test]
    fn variants_keep_their_order_and_passes_read_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        two_variants(&mut db, "eval1");
        assert_eq!(
            db.eval_variants("eval1").unwrap(),
            [
                ("mini".to_owned(), "eval1-mini".to_owned()),
                ("large".to_owned(), "eval1-large".to_owned())
            ]
        );
        let passes = db.eval_passes("eval1").unwrap();
        assert_eq!(passes.len(), 6);
        assert!(passes.contains(&("large".into(), 1, false)));
        assert!(passes.contains(&("mini".into(), 1, true)));
    }

    #[test]
    fn cells_page_by_row_with_a_cell_per_variant_and_the_rows_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        two_variants(&mut db, "eval1");
        let page = db.eval_cells("eval1", 1, 1).unwrap();
        let cells: Vec<(i64, &str, bool)> = page
            .iter()
            .map(|c| (c.row, c.variant.as_str(), c.pass))
            .collect();
        assert_eq!(cells, [(1, "mini", true), (1, "large", false)]);
        assert_eq!(page[1].outputs, Some(json!({"answer": "eval1-large a1"})));
        assert_eq!(page[1].latency_ms, Some(11.0));
        assert_eq!(page[1].verdict["reason"], "row 1");
        assert_eq!(db.eval_cells("eval1", 0, 10).unwrap().len(), 6);
        assert!(db.eval_cells("eval1", 3, 10).unwrap().is_empty());
    }

    #[test]
    fn verdicts_of_an_unknown_variant_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open(&dir);
        db.create_eval(&eval("eval1", 1_000)).unwrap();
        let err = db
            .write_eval_verdicts("eval1", "nope", &[verdict(0, true)])
            .unwrap_err();
        assert!(matches!(err, DbError::Sqlite(_)), "got {err:?}");
    }
}
