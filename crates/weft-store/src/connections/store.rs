//! Connections in SQLite and their secrets in the keychain: what a record holds
//! (`records`), the changes (`writes`), undoing a change's keychain half (`rollback`), the intents
//! that make keychain writes crash-safe (`intents`), and environment profiles (`profiles`), what
//! they change in a connection (`overrides`) and the connection as one sees it (`effective`).

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Database, DbError, Keychain};

mod effective;
mod errors;
#[cfg(test)]
mod fixture;
mod intents;
mod overrides;
mod profiles;
mod records;
mod rollback;
mod writes;

pub use effective::Effective;
pub use errors::{ConnectionError, Rollback};
pub use overrides::{OverrideDraft, OverrideRecord, SavedOverride};
pub use profiles::{ProfileError, ProfileRecord};
pub use records::{ConnectionRecord, Saved};

use errors::{keychain_failed, not_saved};

/// Changes to connections. Each one is atomic across SQLite and the keychain: when either half
/// fails, the other is undone and the error says what is left.
///
/// The database is locked only between keychain calls, never across one: a keychain waiting on an
/// unlock prompt must not hold up listing connections or recording runs. Intents, committed
/// before a keychain write and cleared in the commit that makes it part of a connection, keep
/// this crash-safe and safe against the same change running in another process.
///
/// Keychain entries are keyed by connection id (account `<id>/<key>`), so renaming keeps them.
pub struct Connections<'a> {
    db: &'a Mutex<Database>,
    keychain: &'a Keychain,
}

fn account(id: &str, key: &str) -> String {
    format!("{id}/{key}")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl<'a> Connections<'a> {
    pub fn new(db: &'a Mutex<Database>, keychain: &'a Keychain) -> Self {
        Self { db, keychain }
    }

    /// The database, locked for one step. Callers drop the guard before any keychain call.
    fn db(&self) -> Result<MutexGuard<'a, Database>, ConnectionError> {
        self.db
            .lock()
            .map_err(|_| ConnectionError::Db(DbError::Poisoned))
    }
}
