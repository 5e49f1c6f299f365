//! Weft's use cases, behind one facade ([`AppCore`]) that the desktop app and the `weft` CLI share.
//!
//! Everything that crosses to the web UI is defined here and exported to TypeScript with ts-rs, so
//! the two sides cannot drift apart.

mod batch;
mod cassette;
mod connections;
mod core;
mod diagnostics;
mod error;
mod eval;
mod flows;
mod import_connections;
mod logging;
mod profiles;
mod resolve;
mod runs;
mod settings;

pub use crate::batch::{BATCH_POLL_ENV, set_batch_poll_for_tests};
pub use crate::batch::{
    BadChoice, BadConcurrency, BatchCounts, BatchEngine, BatchEvent, BatchOrder, BatchProgress,
    BatchRowStatus, BatchRowView, BatchStatus, BatchSummary, BatchView, Concurrency,
    DataFileFormat, DataPreview, ExportFormat, MAX_CONCURRENCY, PreviewRow, RowFilter,
};
pub use crate::cassette::CassetteUse;
pub use crate::connections::{ConnectionInput, ConnectionView, SavedConnection};
pub use crate::core::AppCore;
pub use crate::diagnostics::{
    DatabaseReport, Diagnostics, EntraReport, KeychainReport, ProbeOutcome, SignInOutcome,
};
pub use crate::error::{AppError, ErrorKind, IpcError};
pub use crate::eval::{
    AS_IS, EvalCell, EvalEvent, EvalFileView, EvalOrder, EvalReport, EvalRowView, EvalStatus,
    EvalView,
};
pub use crate::flows::{FileVersion, FlowFileError, OpenedFlow, Recovery, Replace};
pub use crate::import_connections::{
    Candidate, ConnectionPresence, ConnectionStatus, ImportOutcome, ImportStatus, NeededConnection,
    PF_HOME_ENV, PF_KEYRING_SERVICE, PF_KEYRING_USER, PfKey, PfStoreError, pf_encryption_key,
    pf_store_path, read_local_store, read_pf_store, weft_kind,
};
pub use crate::logging::log_filter;
pub use crate::profiles::{EffectiveConnectionView, OverrideInput, ProfileView, SavedOverride};
pub use crate::resolve::{ConnectionCheck, StoreConnections, endpoint_for};
pub use crate::runs::{RunOrder, RunPlan, RunSummary, RunView, new_run_id};
pub use crate::settings::{HOME_ENV, KEYRING_SERVICE_ENV, Settings};
pub use weft_cassette::{Cassette, CassetteError, CassetteMode, CassetteOptions, Pace};
pub use weft_engine::{CustomSettings, ResolvedConnection};
pub use weft_store::connections::{ConnectionKind, FieldInput, FieldSpec, KindSpec, Problem};

/// The version of this build, shown in Diagnostics and `weft --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
