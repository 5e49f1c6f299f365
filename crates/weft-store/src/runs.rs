//! Run history: one row per flow run, pruned by count and age.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use crate::{Database, DbError};

/// A finished run as stored. Callers redact before storing.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub flow_path: String,
    pub flow_hash: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub status: String,
    pub inputs: Value,
    pub outputs: Value,
    pub nodes: Value,
    /// The profile the run was started with; `None`: no profile.
    pub profile: Option<String>,
    /// How the run used a cassette (JSON: mode and counts); `None`: it had none.
    pub cassette: Option<Value>,
}

/// How much history to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_runs: u32,
    pub max_age: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_runs: 500,
            max_age: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// A JSON column read back; text that does not parse is a conversion error naming the column.
pub(crate) fn json(text: String, column: usize) -> rusqlite::Result<Value> {
    serde_json::from_str(&text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            Box::new(err),
        )
    })
}

fn read(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        flow_path: row.get(1)?,
        flow_hash: row.get(2)?,
        started_at_ms: row.get(3)?,
        finished_at_ms: row.get(4)?,
        status: row.get(5)?,
        inputs: json(row.get(6)?, 6)?,
        outputs: json(row.get(7)?, 7)?,
        nodes: json(row.get(8)?, 8)?,
        profile: row.get(9)?,
        cassette: row
            .get::<_, Option<String>>(10)?
            .map(|text| json(text, 10))
            .transpose()?,
    })
}

const COLUMNS: &str = "id, flow_path, flow_hash, started_at, finished_at, status, inputs, outputs, \
    nodes, profile, cassette";

impl Database {
    /// Stores a run, then prunes what `retention` no longer keeps.
    pub fn record_run(
        &mut self,
        run: &RunRecord,
        retention: Retention,
        now_ms: i64,
    ) -> Result<(), DbError> {
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            &format!(
                "INSERT INTO runs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                run.id,
                run.flow_path,
                run.flow_hash,
                run.started_at_ms,
                run.finished_at_ms,
                run.status,
                run.inputs.to_string(),
                run.outputs.to_string(),
                run.nodes.to_string(),
                run.profile,
                run.cassette.as_ref().map(Value::to_string)
            ],
        )?;
        let oldest =
            now_ms.saturating_sub(i64::try_from(retention.max_age.as_millis()).unwrap_or(i64::MAX));
        tx.execute("DELETE FROM runs WHERE started_at < ?1", [oldest])?;
        tx.execute(
            "DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY started_at DESC LIMIT ?1)",
            [retention.max_runs],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The most recent runs first.
    pub fn runs(&self, limit: u32) -> Result<Vec<RunRecord>, DbError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM runs ORDER BY started_at DESC LIMIT ?1"
        ))?;
        let runs = stmt.query_map([limit], read)?.collect::<Result<_, _>>()?;
        Ok(runs)
    }

    /// The run whose id starts with `prefix` (at least 4 characters), if exactly one does.
    pub fn run(&self, prefix: &str) -> Result<Option<RunRecord>, DbError> {
        let prefix = prefix.trim();
        if prefix.len() < 4 {
            return Ok(None);
        }
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"
        ))?;
        let mut found: Vec<RunRecord> =
            stmt.query_map([prefix], read)?.collect::<Result<_, _>>()?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    /// Whether a run id prefix names more than one run.
    pub fn run_prefix_is_ambiguous(&self, prefix: &str) -> Result<bool, DbError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT count(*) > 1 FROM runs WHERE substr(id, 1, length(?1)) = ?1",
                [prefix.trim()],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, started: i64) -> RunRecord {
        RunRecord {
            id: id.into(),
            flow_path: "/flows/chat.weft.yaml".into(),
            flow_hash: "abc".into(),
            started_at_ms: started,
            finished_at_ms: started + 5,
            status: "succeeded".into(),
            inputs: serde_json::json!({"question": "hi"}),
            outputs: serde_json::json!({"answer": "hello"}),
            nodes: serde_json::json!({"chat": {"state": "succeeded"}}),
            profile: None,
            cassette: None,
        }
    }

    #[test]
    fn records_lists_newest_first_and_finds_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Database::open(&dir.path().join("w.sqlite3"), "t").unwrap();
        let keep = Retention::default();
        db.record_run(&run("aaaa1111", 1_000), keep, 2_000).unwrap();
        db.record_run(&run("aaaa2222", 1_500), keep, 2_000).unwrap();
        let ids: Vec<String> = db.runs(10).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["aaaa2222", "aaaa1111"]);
        assert_eq!(db.run("aaaa1").unwrap().unwrap(), run("aaaa1111", 1_000));
        assert_eq!(db.run("aaaa").unwrap(), None);
        assert!(db.run_prefix_is_ambiguous("aaaa").unwrap());
        assert_eq!(db.run("aaa").unwrap(), None, "too short to be a prefix");
    }

    #[test]
    fn a_run_keeps_its_profile() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Database::open(&dir.path().join("w.sqlite3"), "t").unwrap();
        let prod = RunRecord {
            profile: Some("prod".into()),
            ..run("bbbb1111", 1_000)
        };
        db.record_run(&prod, Retention::default(), 2_000).unwrap();
        db.record_run(&run("bbbb2222", 1_500), Retention::default(), 2_000)
            .unwrap();
        assert_eq!(
            db.run("bbbb1").unwrap().unwrap().profile.as_deref(),
            Some("prod")
        );
        assert_eq!(db.run("bbbb2").unwrap().unwrap().profile, None);
    }

    #[test]
    fn a_run_keeps_how_it_used_a_cassette() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Database::open(&dir.path().join("w.sqlite3"), "t").unwrap();
        let use_ = serde_json::json!({"mode": "replay", "replayed": 2, "recorded": 0, "live": 0});
        let replayed = RunRecord {
            cassette: Some(use_.clone()),
            ..run("cccc1111", 1_000)
        };
        db.record_run(&replayed, Retention::default(), 2_000)
            .unwrap();
        db.record_run(&run("cccc2222", 1_500), Retention::default(), 2_000)
            .unwrap();
        assert_eq!(db.run("cccc1").unwrap().unwrap().cassette, Some(use_));
        assert_eq!(db.run("cccc2").unwrap().unwrap().cassette, None);
    }

    #[test]
    fn prunes_by_count_and_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Database::open(&dir.path().join("w.sqlite3"), "t").unwrap();
        let retention = Retention {
            max_runs: 2,
            max_age: Duration::from_secs(10),
        };
        for (i, started) in [1_000, 2_000, 3_000].into_iter().enumerate() {
            db.record_run(&run(&format!("run-{i}"), started), retention, 3_000)
                .unwrap();
        }
        let ids: Vec<String> = db.runs(10).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["run-2", "run-1"]);
        db.record_run(&run("run-3", 20_000), retention, 20_000)
            .unwrap();
        let ids: Vec<String> = db.runs(10).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["run-3"], "runs older than 10 s are gone");
    }
}
