//! Stored eval runs as the CLI and the app show them: the list, a report, the results grid.

use weft_eval::RowVerdict;
use weft_store::{EvalCellRecord, EvalRecord};

use crate::batch::STALE_AFTER;
use crate::cassette::CassetteUse;
use crate::eval::views::{EvalCell, EvalReport, EvalRowView, EvalStatus, EvalView};
use crate::runs::now_ms;
use crate::{AppCore, AppError};

/// Why a running eval whose heartbeat stopped shows as failed.
const INTERRUPTED: &str = "interrupted: the process running it ended before it finished (a crash, \
    a kill); run the eval again";

/// Whether the record says running but nothing has moved its heartbeat for a while: the
/// process that ran it ended.
fn interrupted(record: &EvalRecord, now_ms: i64) -> bool {
    let stale = i64::try_from(STALE_AFTER.as_millis()).unwrap_or(i64::MAX);
    record.status == EvalStatus::Running.as_str()
        && now_ms.saturating_sub(record.updated_at_ms) > stale
}

/// The status a stored eval shows: an interrupted one failed.
fn status(record: &EvalRecord, now_ms: i64) -> EvalStatus {
    if interrupted(record, now_ms) {
        EvalStatus::Failed
    } else {
        EvalStatus::parse(&record.status)
    }
}

/// The report stored with an eval run; one that has none yet (it runs, or was interrupted)
/// reads as what the record says.
fn report_of(record: EvalRecord, now_ms: i64) -> Result<EvalReport, AppError> {
    let shown = status(&record, now_ms);
    let message = match interrupted(&record, now_ms) {
        true => Some(INTERRUPTED.to_owned()),
        false => record.message,
    };
    match record.report {
        Some(report) => serde_json::from_value(report).map_err(|err| {
            AppError::Internal(format!(
                "eval run `{}` has a report this build cannot read ({err})",
                record.id
            ))
        }),
        None => Ok(EvalReport {
            eval_id: record.id,
            name: record.name,
            eval_path: record.eval_path,
            status: shown,
            message,
            started_at_ms: record.started_at_ms,
            finished_at_ms: record.finished_at_ms.unwrap_or(record.started_at_ms),
            variants: Vec::new(),
            thresholds: Vec::new(),
            passed: false,
            baseline: None,
            changes: Vec::new(),
            cassette: CassetteUse::from_json(record.cassette),
        }),
    }
}

fn view(record: EvalRecord, now_ms: i64) -> EvalView {
    let shown = status(&record, now_ms);
    let variants = record
        .report
        .as_ref()
        .and_then(|report| serde_json::from_value::<EvalReport>(report.clone()).ok())
        .map(|report| report.variants)
        .unwrap_or_default();
    EvalView {
        id: record.id,
        name: record.name,
        eval_path: record.eval_path,
        status: shown,
        started_at_ms: record.started_at_ms,
        finished_at_ms: record.finished_at_ms,
        passed: record.passed,
        variants,
        cassette: CassetteUse::from_json(record.cassette),
    }
}

fn cell(record: EvalCellRecord) -> EvalCell {
    // A verdict this build cannot read shows its pass and score without reasons.
    let verdict: Option<RowVerdict> = serde_json::from_value(record.verdict).ok();
    let (verdicts, cost) = verdict.map_or((Vec::new(), None), |v| (v.verdicts, v.cost));
    EvalCell {
        variant: record.variant,
        pass: record.pass,
        score: record.score,
        verdicts,
        cost,
        outputs: record.outputs.unwrap_or_default(),
        error: record.error,
        latency_ms: record.latency_ms.unwrap_or_default(),
    }
}

impl AppCore {
    /// The newest eval runs first.
    pub fn evals(&self, limit: u32) -> Result<Vec<EvalView>, AppError> {
        let now = now_ms();
        Ok(self
            .db()?
            .evals(limit)?
            .into_iter()
            .map(|record| view(record, now))
            .collect())
    }

    /// The report of the eval run with this id, or the one whose id starts with it.
    pub fn eval_report(&self, id: &str) -> Result<EvalReport, AppError> {
        report_of(self.eval_record(id)?, now_ms())
    }

    /// A page of an eval run's rows in row order, each with a cell per variant: `limit` rows
    /// after skipping `offset`.
    pub fn eval_rows(
        &self,
        id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<EvalRowView>, AppError> {
        let record = self.eval_record(id)?;
        let cells = self.db()?.eval_cells(&record.id, offset, limit)?;
        let mut rows: Vec<EvalRowView> = Vec::new();
        for record in cells {
            let row = u64::try_from(record.row).unwrap_or_default();
            let inputs = record.inputs.clone();
            match rows.last_mut() {
                Some(last) if last.row == row => {
                    if last.inputs.is_null() {
                        last.inputs = inputs.unwrap_or_default();
                    }
                    last.cells.push(cell(record));
                }
                _ => rows.push(EvalRowView {
                    row,
                    inputs: inputs.unwrap_or_default(),
                    cells: vec![cell(record)],
                }),
            }
        }
        Ok(rows)
    }

    /// The stored eval run `id` (or the one its id starts with).
    pub(crate) fn eval_record(&self, id: &str) -> Result<EvalRecord, AppError> {
        let db = self.db()?;
        match db.eval(id)? {
            Some(record) => Ok(record),
            None if db.eval_prefix_is_ambiguous(id)? => Err(AppError::Invalid(format!(
                "several eval runs start with `{id}`; give more of the id"
            ))),
            None => Err(AppError::NotFound(format!(
                "no eval run `{id}`; `weft eval list` shows the ids"
            ))),
        }
    }
}
