//! Running an eval: per variant, a batch of the variant's flow over the data through the batch
//! runner, then the checker over the batch's rows in row order (the data row read again beside
//! each), the verdicts stored a page at a time; then thresholds and the baseline's changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use weft_batch::{DataReader, DataRow};
use weft_engine::NodeRecord;
use weft_eval::{
    Checker, RowPass, RowUnderTest, RowVerdict, Summariser, TokenCount, VariantSummary,
    check_thresholds, compare,
};
use weft_store::{BatchRowRecord, EvalEnd, RowFilter, VerdictRecord};

use crate::batch::{BatchEngine, BatchOrder, BatchStatus, Concurrency};
use crate::cassette::CassetteMark;
use crate::eval::plan::{EvalPlan, VariantPlan};
use crate::eval::views::{EvalEvent, EvalOrder, EvalReport, EvalStatus};
use crate::runs::now_ms;
use crate::{AppCore, AppError};

/// Rows checked per page: read from SQLite together, their verdicts stored in one transaction.
const PAGE_ROWS: u32 = 256;
/// Rows checked at once with `auto` (a judge or evaluator flow calls a model per row).
const AUTO_CHECKS: usize = 16;
/// How often a running eval moves its heartbeat: well within the 10 s after which history
/// calls a running eval interrupted.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// At most one [`EvalEvent::Checking`] this often, besides the last.
const CHECKING_EVERY: Duration = Duration::from_millis(100);

/// A variant's rows checked: its summary and whether each row passed.
struct Checked {
    summary: VariantSummary,
    passes: Vec<RowPass>,
}

/// How far the eval got.
enum Ran {
    Done(Vec<Checked>),
    Cancelled(Vec<Checked>),
}

impl AppCore {
    /// Runs the eval file of `order`: each chosen variant's flow over the file's data as a batch
    /// (named `eval <name> · <variant>` in batch history), then its assertions on every row; the
    /// verdicts are stored per row and the report is returned and stored. `Err`: it could not
    /// start (a bad file, flow, mapping or baseline, before any call) or could not go on (the
    /// database failed). Cancel it with [`AppCore::cancel_run`] and its eval id: the batch and
    /// the checking stop, and the report holds the variants checked before.
    pub async fn run_eval(
        self: &Arc<Self>,
        order: EvalOrder,
        events: UnboundedSender<EvalEvent>,
    ) -> Result<EvalReport, AppError> {
        let cancel = CancellationToken::new();
        let _registered = self.register_run(&order.eval_id, &cancel)?;
        let mark = order.cassette.as_ref().map(CassetteMark::new);
        let me = self.clone();
        let token = cancel.clone();
        let plan = Arc::new(self.blocking(move |_| me.plan_eval(order, token)).await?);
        let _ = events.send(EvalEvent::Started {
            eval_id: plan.order.eval_id.clone(),
            variants: plan.variants.iter().map(|v| v.name.clone()).collect(),
        });
        // The heartbeat stops when this guard drops: at the end, or if the caller drops the run.
        let beating = CancellationToken::new();
        let stop_heartbeat = beating.clone().drop_guard();
        tokio::spawn(self.clone().heartbeat(plan.order.eval_id.clone(), beating));
        let ran = self.run_variants(&plan, &cancel, &events).await;
        drop(stop_heartbeat);
        let cassette = mark.as_ref().map(CassetteMark::use_since);
        let (status, checked, failure) = match ran {
            Ok(Ran::Done(checked)) => (EvalStatus::Finished, checked, None),
            Ok(Ran::Cancelled(checked)) => (EvalStatus::Cancelled, checked, None),
            Err(err) => (EvalStatus::Failed, Vec::new(), Some(err)),
        };
        let summaries: Vec<VariantSummary> = checked.iter().map(|c| c.summary.clone()).collect();
        let thresholds = check_thresholds(&plan.file.thresholds, &summaries);
        let current: Vec<RowPass> = checked.into_iter().flat_map(|c| c.passes).collect();
        let changes = match &plan.baseline {
            Some((_, before)) => compare(before, &current),
            None => Vec::new(),
        };
        let report = EvalReport {
            eval_id: plan.order.eval_id.clone(),
            name: plan.name.clone(),
            eval_path: plan.order.path.display().to_string(),
            status,
            message: failure.as_ref().map(ToString::to_string),
            started_at_ms: plan.started_at_ms,
            finished_at_ms: now_ms(),
            passed: status == EvalStatus::Finished && thresholds.iter().all(|t| t.holds),
            variants: summaries,
            thresholds,
            baseline: plan.baseline.as_ref().map(|(id, _)| id.clone()),
            changes,
            cassette,
        };
        let stored = report.clone();
        let saved = self.blocking(move |core| core.store_report(&stored)).await;
        match failure {
            Some(err) => {
                if let Err(also) = saved {
                    tracing::warn!("the failed eval was not saved as failed: {also}");
                }
                Err(err)
            }
            None => saved.map(|()| report),
        }
    }

    /// Moves the eval's heartbeat every [`HEARTBEAT_EVERY`] until `beating` is cancelled, so
    /// that history can tell an eval in progress (in this process or another) from one whose
    /// process ended.
    async fn heartbeat(self: Arc<Self>, eval_id: String, beating: CancellationToken) {
        let mut every = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            tokio::select! {
                () = beating.cancelled() => return,
                _ = every.tick() => {}
            }
            let id = eval_id.clone();
            let beat = self
                .blocking(move |core| Ok(core.db()?.touch_eval(&id, now_ms())?))
                .await;
            if let Err(err) = beat {
                tracing::warn!("the eval's heartbeat was not stored: {err}");
            }
        }
    }

    fn store_report(&self, report: &EvalReport) -> Result<(), AppError> {
        let json = serde_json::to_value(report)
            .map_err(|err| AppError::Internal(format!("the eval report: {err}")))?;
        let cassette = report.cassette.as_ref().map(|c| c.to_json());
        let passed = (report.status == EvalStatus::Finished).then_some(report.passed);
        self.db()?.finish_eval(
            &report.eval_id,
            &EvalEnd {
                status: report.status.as_str(),
                message: report.message.as_deref(),
                passed,
                report: &json,
                cassette: cassette.as_ref(),
                finished_at_ms: report.finished_at_ms,
            },
        )?;
        Ok(())
    }

    async fn run_variants(
        self: &Arc<Self>,
        plan: &Arc<EvalPlan>,
        cancel: &CancellationToken,
        events: &UnboundedSender<EvalEvent>,
    ) -> Result<Ran, AppError> {
        let mut checked = Vec::new();
        for (index, variant) in plan.variants.iter().enumerate() {
            if cancel.is_cancelled() {
                return Ok(Ran::Cancelled(checked));
            }
            let batch_id = crate::new_run_id();
            let (eval_id, name) = (plan.order.eval_id.clone(), variant.name.clone());
            let id = batch_id.clone();
            self.blocking(move |core| Ok(core.db()?.add_eval_variant(&eval_id, &name, &id)?))
                .await?;
            let status = self
                .run_variant_batch(plan, variant, &batch_id, cancel, events)
                .await?;
            if status == BatchStatus::Cancelled || cancel.is_cancelled() {
                return Ok(Ran::Cancelled(checked));
            }
            let Some(done) = self
                .check_variant(plan, index, &batch_id, cancel, events)
                .await?
            else {
                return Ok(Ran::Cancelled(checked));
            };
            let _ = events.send(EvalEvent::VariantDone(done.summary.clone()));
            checked.push(done);
        }
        Ok(Ran::Done(checked))
    }

    /// The variant's flow over the data, as a batch of its own; its events forwarded.
    async fn run_variant_batch(
        self: &Arc<Self>,
        plan: &EvalPlan,
        variant: &VariantPlan,
        batch_id: &str,
        cancel: &CancellationToken,
        events: &UnboundedSender<EvalEvent>,
    ) -> Result<BatchStatus, AppError> {
        let order = BatchOrder {
            batch_id: batch_id.to_owned(),
            name: Some(format!("eval {} · {}", plan.name, variant.name)),
            flow_path: plan.flow_path.clone(),
            data_path: plan.data_path.clone(),
            mapping: plan.file.column_mapping.clone(),
            concurrency: plan.order.concurrency,
            node_timeout: plan.order.node_timeout,
            engine: BatchEngine::Local,
            cassette: plan.order.cassette.clone(),
        };
        let (sender, mut received) = mpsc::unbounded_channel();
        let forward = tokio::spawn({
            let (events, variant) = (events.clone(), variant.name.clone());
            async move {
                while let Some(event) = received.recv().await {
                    let _ = events.send(EvalEvent::Batch {
                        variant: variant.clone(),
                        event,
                    });
                }
            }
        });
        let summary = self
            .run_batch_of(
                order,
                variant.document.clone(),
                cancel.child_token(),
                sender,
            )
            .await;
        // Every sender is gone once the batch returned: the forwarder ends after the last event.
        let _ = forward.await;
        Ok(summary?.status)
    }

    /// The checker over every stored row of the variant's batch, in row order; `None` when the
    /// eval was cancelled meanwhile.
    async fn check_variant(
        self: &Arc<Self>,
        plan: &Arc<EvalPlan>,
        index: usize,
        batch_id: &str,
        cancel: &CancellationToken,
        events: &UnboundedSender<EvalEvent>,
    ) -> Result<Option<Checked>, AppError> {
        let variant = &plan.variants[index];
        let id = batch_id.to_owned();
        let total = self
            .blocking(move |core| {
                let counts = core.db()?.batch_counts(&id)?;
                Ok(counts.succeeded + counts.failed + counts.cancelled)
            })
            .await?;
        let data_path = plan.data_path.clone();
        let mut reader = Some(
            tokio::task::spawn_blocking(move || DataReader::open(&data_path))
                .await
                .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))?
                .map_err(|err| AppError::Invalid(err.to_string()))?,
        );
        let at_once = match plan.order.concurrency {
            Concurrency::Auto => AUTO_CHECKS,
            Concurrency::Fixed(n) => usize::try_from(n.get()).unwrap_or(AUTO_CHECKS),
        };
        let mut summariser = Summariser::new(variant.name.clone());
        let mut passes = Vec::new();
        let mut pending: Option<DataRow> = None;
        let (mut done, mut offset, mut last_event) = (0u64, 0u64, None::<Instant>);
        loop {
            if cancel.is_cancelled() {
                return Ok(None);
            }
            let id = batch_id.to_owned();
            let page = self
                .blocking(move |core| {
                    Ok(core
                        .db()?
                        .batch_rows(&id, RowFilter::All, offset, PAGE_ROWS)?)
                })
                .await?;
            if page.is_empty() {
                break;
            }
            offset += page.len() as u64;
            // The data rows beside the page's rows: stored rows are in row order, and a row
            // the batch never stored (it was cancelled first) has no verdict.
            let wanted: Vec<u64> = page
                .iter()
                .map(|r| u64::try_from(r.row).unwrap_or_default())
                .collect();
            let mut taken = reader.take();
            let carried = pending.take();
            let (back, data, carry) = tokio::task::spawn_blocking(move || {
                let rows = data_rows(taken.as_mut(), carried, &wanted);
                (taken, rows.0, rows.1)
            })
            .await
            .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))?;
            reader = back;
            pending = carry;
            let verdicts = check_page(&plan.checker, variant, page, data, at_once).await;
            if cancel.is_cancelled() {
                // A judge cut short by the cancel fails its row: those verdicts are not kept.
                return Ok(None);
            }
            let mut records = Vec::with_capacity(verdicts.len());
            for (row, verdict, latency_ms, tokens) in verdicts {
                summariser.push(&verdict, latency_ms, tokens);
                passes.push(RowPass {
                    variant: variant.name.clone(),
                    row,
                    pass: verdict.pass,
                });
                records.push(VerdictRecord {
                    row: i64::try_from(row).unwrap_or(i64::MAX),
                    pass: verdict.pass,
                    score: verdict.score,
                    verdict: serde_json::to_value(&verdict).unwrap_or(Value::Null),
                });
            }
            done += records.len() as u64;
            let (eval_id, name) = (plan.order.eval_id.clone(), variant.name.clone());
            self.blocking(move |core| {
                Ok(core.db()?.write_eval_verdicts(&eval_id, &name, &records)?)
            })
            .await?;
            if last_event.is_none_or(|at| at.elapsed() >= CHECKING_EVERY) || done >= total {
                last_event = Some(Instant::now());
                let _ = events.send(EvalEvent::Checking {
                    variant: variant.name.clone(),
                    done,
                    total,
                });
            }
        }
        Ok(Some(Checked {
            summary: summariser.finish(),
            passes,
        }))
    }
}

/// The data rows whose indexes are `wanted` (ascending), read on from `reader`, each as a map
/// (a row that could not be read: empty). Returns them and the row read past the last wanted
/// one, which the next page starts with.
fn data_rows(
    reader: Option<&mut DataReader>,
    mut pending: Option<DataRow>,
    wanted: &[u64],
) -> (Vec<Map<String, Value>>, Option<DataRow>) {
    let mut rows = Vec::with_capacity(wanted.len());
    let mut reader = reader;
    for &index in wanted {
        let found = loop {
            let next = match pending.take() {
                Some(row) => Some(row),
                None => reader
                    .as_deref_mut()
                    .and_then(|r| r.next())
                    .and_then(Result::ok),
            };
            match next {
                Some(row) if row.index < index => continue,
                Some(row) if row.index == index => break row.fields.ok(),
                Some(row) => {
                    pending = Some(row);
                    break None;
                }
                None => break None,
            }
        };
        rows.push(found.unwrap_or_default());
    }
    (rows, pending)
}

/// One page of rows checked, at most `at_once` at a time, returned in row order with what the
/// summary needs besides the verdict.
async fn check_page(
    checker: &Arc<Checker>,
    variant: &VariantPlan,
    page: Vec<BatchRowRecord>,
    data: Vec<Map<String, Value>>,
    at_once: usize,
) -> Vec<(u64, RowVerdict, f64, TokenCount)> {
    let slots = Arc::new(tokio::sync::Semaphore::new(at_once.max(1)));
    let deployments = Arc::new(variant.deployments.clone());
    let mut tasks = JoinSet::new();
    let count = page.len();
    for (position, (record, data)) in page.into_iter().zip(data).enumerate() {
        // Rows start in row order (the slot is taken before the task exists), so that the
        // repeats of one request reach a cassette in the same order on every run.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let (checker, deployments) = (checker.clone(), deployments.clone());
        tasks.spawn(async move {
            let _slot = slot;
            let nodes: BTreeMap<String, NodeRecord> =
                serde_json::from_value(record.nodes).unwrap_or_default();
            let as_map = |value: Value| match value {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            let (inputs, outputs) = (as_map(record.inputs), as_map(record.outputs));
            let error = (record.status != "succeeded").then(|| {
                record
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("the row {}", record.status))
            });
            let row = u64::try_from(record.row).unwrap_or_default();
            let under_test = RowUnderTest {
                row,
                data: &data,
                inputs: &inputs,
                outputs: &outputs,
                error: error.as_deref(),
                latency_ms: record.latency_ms,
                nodes: &nodes,
                deployments: &deployments,
            };
            let verdict = checker.check(&under_test).await;
            let tokens = TokenCount {
                prompt: u64::try_from(record.prompt_tokens).unwrap_or_default(),
                completion: u64::try_from(record.completion_tokens).unwrap_or_default(),
            };
            (position, (row, verdict, record.latency_ms, tokens))
        });
    }
    let mut checked: Vec<Option<(u64, RowVerdict, f64, TokenCount)>> = vec![None; count];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((position, result)) => checked[position] = Some(result),
            Err(err) => tracing::warn!("a row's check stopped: {err}"),
        }
    }
    checked.into_iter().flatten().collect()
}
