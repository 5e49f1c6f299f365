//! Batch runs: one flow over every row of a data file, rows streamed in and results streamed
//! into SQLite, resumable, cancellable like a run.

mod azure;
mod cache;
mod export;
mod history;
mod rows;
mod rowset;
mod run;
mod views;
mod writer;

pub use azure::{POLL_ENV as BATCH_POLL_ENV, set_poll_for_tests as set_batch_poll_for_tests};
pub(crate) use cache::CachedConnections;
pub(crate) use history::STALE_AFTER;

pub use views::{
    BadChoice, BadConcurrency, BatchCounts, BatchEngine, BatchEvent, BatchOrder, BatchProgress,
    BatchRowStatus, BatchRowView, BatchStatus, BatchSummary, BatchView, Concurrency,
    DataFileFormat, DataPreview, ExportFormat, MAX_CONCURRENCY, PreviewRow, RowFilter,
};
