//! Connections: a name, a type, plain fields in SQLite, and secrets in the OS keychain.

mod draft;
mod env;
mod kind;
mod store;

pub use draft::{Draft, Problem, SecretInput, Valid};
pub use env::EnvError;
pub use kind::{
    AuthMode, CONTENT_SAFETY_API_VERSION, Choice, ConnectionKind, FieldInput, FieldSpec, KindSpec,
    SEARCH_API_VERSION, SERP_ENDPOINT, ShownWhen, UnknownKind, kind_specs,
};
pub use store::{
    ConnectionError, ConnectionRecord, Connections, Effective, OverrideDraft, OverrideRecord,
    ProfileError, ProfileRecord, Rollback, Saved, SavedOverride,
};
