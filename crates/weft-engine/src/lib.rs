//! Runs flows. Independent branches run concurrently on tokio; a node starts when every node it
//! references has finished. Everything a run reports goes through one event stream, which the
//! CLI and the app consume alike, with secret values replaced by `******`.

mod connection;
mod error;
mod event;
mod nodes;
mod plan;
pub mod python;
mod redact;
mod run;
mod scheduler;
pub mod services;
pub mod stage;
mod values;

pub use connection::{
    ConnectionSource, CustomSettings, ResolvedConnection, Target, WrongConnection,
};
pub use error::RunError;
pub use event::{FailureCause, NodeState, RunEvent, RunStatus};
pub use plan::{Plan, Reuse};
pub use redact::Redactor;
pub use run::{NodeRecord, RunOutcome, RunRequest};
pub use scheduler::Engine;
