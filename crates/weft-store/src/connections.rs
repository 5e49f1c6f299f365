//! Connections: a name, a type, plain fields in SQLite, and secrets in the OS keychain.

mod draft;
mod kind;
mod store;

pub use draft::{Draft, Problem, SecretInput, Valid};
pub use kind::{
    AuthMode, Choice, ConnectionKind, FieldInput, FieldSpec, KindSpec, ShownWhen, UnknownKind,
    kind_specs,
};
pub use store::{ConnectionError, ConnectionRecord, Connections, Rollback, Saved};
