//! The one writer of a batch: finished rows stored in batched transactions, what is committed
//! tallied, and progress and throttle notices reported on it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;
use weft_store::BatchRowRecord;

use super::rows::Finished;
use crate::batch::{BatchEvent, BatchProgress, BatchRowStatus};
use crate::runs::now_ms;
use crate::{AppCore, AppError};

/// Finished rows written in one transaction at most, and how long a finished row may wait.
pub(super) const FLUSH_ROWS: usize = 128;
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Progress events at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// A running batch writes at least this often, rows or not, so that it does not look
/// interrupted while its rows wait on a slow model (see `history::STALE_AFTER`).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// What the writer has committed so far.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Tally {
    succeeded: u64,
    failed: u64,
    cancelled: u64,
    pub(super) throttles: u64,
    pub(super) prompt_tokens: u64,
    pub(super) completion_tokens: u64,
}

impl Tally {
    /// Before any row: the rows a resume skips count as succeeded.
    pub(super) fn skipping(skipped: u64) -> Self {
        Self {
            succeeded: skipped,
            ..Self::default()
        }
    }

    /// Rows committed, with the rows a resume skipped (counted as succeeded).
    fn committed(&self) -> u64 {
        self.succeeded + self.failed + self.cancelled
    }

    /// Rows run per second over `elapsed`, leaving out the `skipped` rows a resume did not run.
    pub(super) fn rows_per_s(&self, skipped: u64, elapsed: Duration) -> f64 {
        let secs = elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.committed() - skipped) as f64 / secs
        } else {
            0.0
        }
    }

    fn add(&mut self, finished: &Finished) {
        match finished.status {
            BatchRowStatus::Succeeded => self.succeeded += 1,
            BatchRowStatus::Failed => self.failed += 1,
            BatchRowStatus::Cancelled => self.cancelled += 1,
        }
        self.prompt_tokens += u64::try_from(finished.record.prompt_tokens).unwrap_or_default();
        self.completion_tokens +=
            u64::try_from(finished.record.completion_tokens).unwrap_or_default();
    }
}

/// Collects finished rows and writes them in batched transactions; reports progress on what is
/// committed.
pub(super) struct Writer {
    pub(super) core: Arc<AppCore>,
    pub(super) batch_id: String,
    pub(super) buffer: Vec<Finished>,
    pub(super) tally: Tally,
    pub(super) skipped: u64,
    pub(super) started: Instant,
    pub(super) total: Arc<OnceLock<u64>>,
    pub(super) client: weft_ai::Client,
    pub(super) slots: Arc<Semaphore>,
    pub(super) rows_at_once: u32,
    pub(super) cancel: CancellationToken,
    /// 429s seen per endpoint at the last report.
    pub(super) throttled: HashMap<String, u64>,
    pub(super) events: UnboundedSender<BatchEvent>,
    /// Progress only when rows were committed since the last report (`Some`: the count then),
    /// for an Azure batch, whose rows wait hours with nothing new; `None`: every 100 ms.
    pub(super) changes_only: Option<u64>,
}

impl Writer {
    pub(super) async fn run(
        mut self,
        mut rows: mpsc::Receiver<Finished>,
    ) -> Result<Tally, AppError> {
        let result = self.collect(&mut rows).await;
        if result.is_err() {
            // Rows can no longer be saved: running more would lose them.
            self.cancel.cancel();
        }
        result.map(|()| self.tally)
    }

    async fn collect(&mut self, rows: &mut mpsc::Receiver<Finished>) -> Result<(), AppError> {
        let mut tick = tokio::time::interval(FLUSH_EVERY.min(PROGRESS_EVERY));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_write = Instant::now();
        let mut last_progress = Instant::now();
        loop {
            let flush = tokio::select! {
                row = rows.recv() => match row {
                    Some(row) => {
                        self.buffer.push(row);
                        self.buffer.len() >= FLUSH_ROWS
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    !self.buffer.is_empty() || last_write.elapsed() >= HEARTBEAT_EVERY
                }
            };
            if flush {
                self.flush().await?;
                last_write = Instant::now();
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                self.report_load();
                self.progress();
                last_progress = Instant::now();
            }
        }
        self.flush().await?;
        self.report_load();
        self.progress();
        Ok(())
    }

    /// Writes the buffered rows in one transaction (an empty write moves the heartbeat); they
    /// count once committed.
    async fn flush(&mut self) -> Result<(), AppError> {
        let mut written = self.tally;
        let records: Vec<BatchRowRecord> = std::mem::take(&mut self.buffer)
            .into_iter()
            .map(|finished| {
                written.add(&finished);
                finished.record
            })
            .collect();
        let core = self.core.clone();
        let id = self.batch_id.clone();
        tokio::task::spawn_blocking(move || {
            core.db()?.write_batch_rows(&id, &records, now_ms())?;
            Ok::<_, AppError>(())
        })
        .await
        .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))??;
        self.tally = written;
        Ok(())
    }

    /// Throttle notices for endpoints that met a 429 since the last look.
    fn report_load(&mut self) {
        let mut throttles = 0;
        for load in self.client.load() {
            throttles += load.throttled;
            let seen = self.throttled.entry(load.endpoint.clone()).or_default();
            if load.throttled > *seen {
                *seen = load.throttled;
                let _ = self.events.send(BatchEvent::Throttled {
                    endpoint: load.endpoint,
                    wait_ms: load.paused_ms,
                });
            }
        }
        self.tally.throttles = throttles;
    }

    fn progress(&mut self) {
        if let Some(reported) = &mut self.changes_only {
            if *reported == self.tally.committed() {
                return;
            }
            *reported = self.tally.committed();
        }
        let elapsed = self.started.elapsed();
        let rows_per_s = self.tally.rows_per_s(self.skipped, elapsed);
        let total = self.total.get().copied();
        let done = self.tally.committed();
        let eta_ms = total.filter(|_| rows_per_s > 0.0).map(|total| {
            let left = total.saturating_sub(done) as f64;
            (left / rows_per_s * 1000.0) as u64
        });
        let free = u32::try_from(self.slots.available_permits()).unwrap_or(u32::MAX);
        let in_flight = self.rows_at_once.saturating_sub(free);
        let limit = self.client.load().iter().map(|l| l.limit).max();
        let _ = self.events.send(BatchEvent::Progress(BatchProgress {
            done,
            succeeded: self.tally.succeeded,
            failed: self.tally.failed,
            cancelled: self.tally.cancelled,
            total,
            rows_per_s,
            concurrency: limit.unwrap_or(self.rows_at_once).min(self.rows_at_once),
            in_flight,
            throttles: self.tally.throttles,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            eta_ms,
        }));
    }
}
