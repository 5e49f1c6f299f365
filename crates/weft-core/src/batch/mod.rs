//! Batch runs: one flow over every row of a data file, rows streamed in and results streamed
//! into SQLite, resumable, cancellable like a run.

mod export;
mod history;
mod run;
mod views;

pub use views::{
    BadChoice, BadConcurrency, BatchCounts, BatchEvent, BatchOrder, BatchProgress, BatchRowStatus,
    BatchRowView, BatchStatus, BatchSummary, BatchView, Concurrency, DataFileFormat, DataPreview,
    ExportFormat, MAX_CONCURRENCY, PreviewRow, RowFilter,
};
