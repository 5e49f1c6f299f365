//! Running a batch: rows read on a blocking thread, run by the engine a bounded number at a
//! time, written to SQLite in batched transactions.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::batch::{BatchEvent, BatchOrder, BatchSummary, Concurrency};
use crate::{AppCore, AppError};

impl AppCore {
    /// Runs the flow of `order` over every row of its data file, storing each row as it
    /// finishes. `Err`: the batch could not start (a bad flow, data file or mapping), before any
    /// call. Cancel it with [`AppCore::cancel_run`] and its batch id.
    pub async fn run_batch(
        self: &Arc<Self>,
        order: BatchOrder,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let _ = (order, events);
        Err(AppError::Internal("not built yet".into()))
    }

    /// Runs again the rows of a stored batch that did not succeed, with the flow as it was run.
    pub async fn resume_batch(
        self: &Arc<Self>,
        id: &str,
        concurrency: Option<Concurrency>,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let _ = (id, concurrency, events);
        Err(AppError::Internal("not built yet".into()))
    }
}
