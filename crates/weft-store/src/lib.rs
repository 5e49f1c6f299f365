//! Weft's local state: where it lives on disk, the SQLite database and the OS keychain.
//!
//! Nothing here knows about Tauri or a window; the desktop app and the `weft` CLI share it.

mod batches;
pub mod connections;
mod db;
mod evals;
mod keychain;
mod paths;
mod runs;
mod secret;

pub use batches::{BatchCounts, BatchRecord, BatchRowRecord, RowFilter};
pub use db::{Database, DbError, SchemaInfo};
pub use evals::{EvalCellRecord, EvalEnd, EvalRecord, VerdictRecord};
pub use keychain::{Backend, Keychain, KeychainError, ProbeReport};
/// The keyring API this crate is built on, so that a test store (see
/// [`Keychain::over_test_store`]) implements the same version of it.
pub use keyring_core;
pub use paths::{APP_IDENTIFIER, DataDir, PathsError};
pub use runs::{Retention, RunRecord};
pub use secret::Secret;
