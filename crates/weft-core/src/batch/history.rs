//! Stored batches and their rows, as the CLI and the app show them.

use std::path::Path;

use weft_flow::FlowDocument;

use crate::batch::{BatchRowView, BatchView, DataPreview, RowFilter};
use crate::{AppCore, AppError};

impl AppCore {
    /// The newest batches first.
    pub fn batches(&self, limit: u32) -> Result<Vec<BatchView>, AppError> {
        let _ = limit;
        Err(AppError::Internal("not built yet".into()))
    }

    /// The batch with this id, or the one batch whose id starts with it.
    pub fn batch(&self, id: &str) -> Result<BatchView, AppError> {
        let _ = id;
        Err(AppError::Internal("not built yet".into()))
    }

    /// A page of a batch's rows, by row.
    pub fn batch_rows(
        &self,
        id: &str,
        filter: RowFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<BatchRowView>, AppError> {
        let _ = (id, filter, offset, limit);
        Err(AppError::Internal("not built yet".into()))
    }

    /// One row with its node records, for the node-by-node view.
    pub fn batch_row(&self, id: &str, row: u64) -> Result<BatchRowView, AppError> {
        let _ = (id, row);
        Err(AppError::Internal("not built yet".into()))
    }

    /// A data file's columns and first rows, and the mapping proposed for `flow`.
    pub fn preview_data(
        &self,
        flow: &FlowDocument,
        path: &Path,
        rows: usize,
    ) -> Result<DataPreview, AppError> {
        let _ = (flow, path, rows);
        Err(AppError::Internal("not built yet".into()))
    }
}
