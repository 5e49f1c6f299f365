//! Runs flows. Independent branches run concurrently on tokio; a node starts when every node it
//! references has finished. Everything a run reports goes through one event stream, which the
//! CLI and the app consume alike, with secret values replaced by `******`.

mod connection;
mod event;
mod nodes;
mod redact;
mod scheduler;
pub mod services;
mod values;

pub use connection::{ConnectionSource, Target};
pub use event::{NodeState, RunEvent, RunStatus};
pub use redact::Redactor;
pub use scheduler::{Engine, NodeRecord, Plan, Reuse, RunError, RunOutcome, RunRequest};
