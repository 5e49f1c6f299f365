use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, Row, params};

use super::draft::{Draft, Problem};
use super::kind::{AuthMode, ConnectionKind};
use crate::{Database, DbError, Keychain, KeychainError, Secret};

mod profiles;
pub use profiles::{
    Effective, OverrideDraft, OverrideRecord, ProfileError, ProfileRecord, SavedOverride,
};

/// A saved connection as SQLite holds it: no secret values, only which keys have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: String,
    pub name: String,
    pub kind: ConnectionKind,
    pub config: BTreeMap<String, String>,
    pub secret_keys: BTreeSet<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl ConnectionRecord {
    /// A plain field as the connection uses it: the stored value, else its type's default (a row
    /// saved before the field existed has none stored). `None` for a field the connection's
    /// choices leave out, such as the api_version of a v1 connection.
    pub fn setting(&self, key: &str) -> Option<&str> {
        let spec = self.kind.spec();
        let field = spec.field(key)?;
        if !spec.shows(field, &self.config) {
            return None;
        }
        self.config.get(key).map(String::as_str).or(field.default)
    }

    /// How the connection authenticates; a type without the `auth_mode` field uses its key.
    pub fn auth_mode(&self) -> AuthMode {
        match self.setting("auth_mode") {
            Some(mode) if mode.eq_ignore_ascii_case(AuthMode::MeidToken.as_str()) => {
                AuthMode::MeidToken
            }
            _ => AuthMode::Key,
        }
    }
}

/// The result of a create or update, with what the user should know (e.g. plain http).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub record: ConnectionRecord,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("{}", join_problems(.0))]
    Invalid(Vec<Problem>),
    #[error("no connection is named `{0}`")]
    NotFound(String),
    #[error(
        "a connection named `{0}` already exists (names ignore case); pick another name or edit that connection"
    )]
    NameTaken(String),
    #[error("{source}; {rollback}")]
    Keychain {
        source: KeychainError,
        /// What undoing the part already done achieved.
        rollback: Rollback,
    },
    #[error(
        "the keychain has no `{key}` for connection `{name}`; enter it again in the connection's settings"
    )]
    MissingSecret { name: String, key: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for ConnectionError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Db(DbError::Sqlite(err))
    }
}

fn join_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| match &problem.field {
            Some(field) if !problem.message.contains(field.as_str()) => {
                format!("{field}: {}", problem.message)
            }
            _ => problem.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What is left of a change whose keychain half failed, worded for the error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollback {
    /// Nothing had been changed yet, or every change was undone.
    Complete,
    /// SQLite is as before, but some keychain writes could not be undone.
    KeychainNotRestored {
        /// New entries: intents for them remain, so a later start removes them.
        left_over: Vec<String>,
        /// Entries that had a value before and now hold the new one.
        overwritten: Vec<String>,
        reason: String,
    },
    /// A delete: the connection is back, but these of its secrets were already deleted and could
    /// not be written again.
    SecretsLost { keys: Vec<String>, reason: String },
    /// A delete: the connection could not be put back in SQLite, so it stays deleted.
    StaysDeleted { reason: String },
}

fn key_list(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Rollback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Complete => f.write_str("nothing was changed"),
            Self::KeychainNotRestored {
                left_over,
                overwritten,
                reason,
            } => {
                write!(
                    f,
                    "the connection in the database is unchanged, but undoing the keychain change failed too ({reason})"
                )?;
                if !left_over.is_empty() {
                    write!(
                        f,
                        "; Weft removes the new entries for {} on a later start",
                        key_list(left_over)
                    )?;
                }
                if !overwritten.is_empty() {
                    write!(
                        f,
                        "; the entries for {} keep their new value, so save the connection again once the keychain works",
                        key_list(overwritten)
                    )?;
                }
                Ok(())
            }
            Self::SecretsLost { keys, reason } => write!(
                f,
                "the connection was put back, but {} had already been deleted from the keychain and could not be written again ({reason}); enter them again in the connection's settings",
                key_list(keys)
            ),
            Self::StaysDeleted { reason } => write!(
                f,
                "the connection could not be put back in the database ({reason}), so it stays deleted; Weft removes its remaining keychain entries on a later start"
            ),
        }
    }
}

const COLUMNS: &str = "id, name, kind, config, secret_keys, created_at, updated_at";

fn read_record(row: &Row<'_>) -> rusqlite::Result<ConnectionRecord> {
    let json_err = |index, err: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    };
    let kind: String = row.get(2)?;
    let config: String = row.get(3)?;
    let secret_keys: String = row.get(4)?;
    Ok(ConnectionRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: kind.parse().map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(err))
        })?,
        config: serde_json::from_str(&config).map_err(|err| json_err(3, err))?,
        secret_keys: serde_json::from_str(&secret_keys).map_err(|err| json_err(4, err))?,
        created_at_ms: row.get(5)?,
        updated_at_ms: row.get(6)?,
    })
}

/// Reads need no keychain: listing connections works while the keychain is locked.
impl Database {
    pub fn connections(&self) -> Result<Vec<ConnectionRecord>, ConnectionError> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM connections ORDER BY name"))?;
        let records = stmt.query_map([], read_record)?.collect::<Result<_, _>>()?;
        Ok(records)
    }

    /// The connection with this name, ignoring case.
    pub fn connection(&self, name: &str) -> Result<ConnectionRecord, ConnectionError> {
        self.find_connection(name.trim())?
            .ok_or_else(|| ConnectionError::NotFound(name.trim().to_owned()))
    }

    /// Whether a keychain write was in flight when a Weft process stopped: an intent whose
    /// process is gone, or that is older than the grace period. Other intents may be writes a
    /// running process has in flight.
    pub fn has_stale_secret_intents(&self) -> Result<bool, ConnectionError> {
        Ok(!self.stale_intents(now_ms())?.is_empty())
    }

    fn stale_intents(&self, now: i64) -> Result<Vec<Intent>, ConnectionError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT account, connection_id, key, created_at, pid FROM secret_intents")?;
        let intents: Vec<Intent> = stmt
            .query_map([], |row| {
                Ok(Intent {
                    account: row.get(0)?,
                    connection_id: row.get(1)?,
                    key: row.get(2)?,
                    created_at_ms: row.get(3)?,
                    pid: row.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(intents
            .into_iter()
            .filter(|intent| intent.is_stale(now))
            .collect())
    }

    fn find_connection(&self, name: &str) -> Result<Option<ConnectionRecord>, ConnectionError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE name = ?1"),
                [name],
                read_record,
            )
            .optional()?)
    }

    fn uses_secret(&self, connection_id: &str, key: &str) -> Result<bool, ConnectionError> {
        if profiles::is_override_owner(connection_id) {
            return self.override_uses_secret(connection_id, key);
        }
        let live: Option<String> = self
            .conn()
            .query_row(
                "SELECT secret_keys FROM connections WHERE id = ?1",
                [connection_id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(live
            .and_then(|keys| serde_json::from_str::<BTreeSet<String>>(&keys).ok())
            .is_some_and(|keys| keys.contains(key)))
    }
}

/// How long an intent shields its keychain entry from another process's cleanup. A create or an
/// update commits within milliseconds of its keychain write (unless an unlock prompt holds the
/// write up, and then the cleanup's delete waits on the same prompt or finds nothing yet), so ten
/// minutes only delays removing a crash's leftovers when the crashed process's id lives on.
const INTENT_GRACE_MS: i64 = 10 * 60 * 1000;

/// A row of `secret_intents`: a keychain entry that is, or may soon be, not part of a connection.
struct Intent {
    account: String,
    connection_id: String,
    key: String,
    created_at_ms: i64,
    pid: i64,
}

impl Intent {
    fn is_stale(&self, now: i64) -> bool {
        now.saturating_sub(self.created_at_ms) >= INTENT_GRACE_MS || process_gone(self.pid)
    }
}

/// Whether the process that recorded an intent has exited. This process never has; elsewhere
/// only Linux can tell without a platform API (`/proc`), so other systems rely on the grace
/// period alone. A reused process id reads as alive, which only delays a cleanup.
fn process_gone(pid: i64) -> bool {
    if pid == i64::from(std::process::id()) {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

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

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ConnectionError> {
    serde_json::to_string(value).map_err(|err| {
        ConnectionError::Db(DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
            Box::new(err),
        )))
    })
}

fn keychain_failed(source: KeychainError) -> ConnectionError {
    ConnectionError::Keychain {
        source,
        rollback: Rollback::Complete,
    }
}

/// The error for a commit that failed after the keychain half was done and then undone.
fn not_saved(err: ConnectionError, name: &str, rollback: Rollback) -> ConnectionError {
    match err {
        // Two creates of one name raced (their name checks both passed before either committed).
        ConnectionError::Db(DbError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)))
            if rollback == Rollback::Complete
                && failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            ConnectionError::NameTaken(name.to_owned())
        }
        ConnectionError::Db(DbError::Sqlite(source)) => ConnectionError::Db(DbError::NotSaved {
            source,
            outcome: rollback.to_string(),
        }),
        other => {
            if rollback != Rollback::Complete {
                tracing::warn!("after a failed save: {rollback}");
            }
            other
        }
    }
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

    pub fn create(&self, draft: Draft) -> Result<Saved, ConnectionError> {
        let valid = draft
            .validate(&BTreeSet::new())
            .map_err(ConnectionError::Invalid)?;
        let now = now_ms();
        let record = ConnectionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: valid.name,
            kind: valid.kind,
            config: valid.config,
            secret_keys: valid.secret_keys,
            created_at_ms: now,
            updated_at_ms: now,
        };
        let keys: Vec<&String> = valid.new_secrets.keys().collect();
        {
            let mut db = self.db()?;
            if db.find_connection(&record.name)?.is_some() {
                return Err(ConnectionError::NameTaken(record.name));
            }
            record_intents(&mut db, &record.id, &keys)?;
        }
        let nothing = BTreeMap::new(); // no entry existed before
        self.write_secrets(&record.id, &valid.new_secrets, &nothing, &keys)?;
        let committed = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            insert_row(&tx, &record)?;
            delete_intents(&tx, &record.id, &keys)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = committed {
            let rollback = self.undo_writes(&record.id, &keys, &nothing, &keys);
            return Err(not_saved(err, &record.name, rollback));
        }
        Ok(Saved {
            record,
            warnings: valid.warnings,
        })
    }

    /// Updates the connection called `name` (the draft may rename it). The type cannot change.
    pub fn update(&self, name: &str, draft: Draft) -> Result<Saved, ConnectionError> {
        let (existing, valid) = {
            let db = self.db()?;
            let existing = db.connection(name)?;
            if draft.kind != existing.kind {
                return Err(ConnectionError::Invalid(vec![Problem {
                    field: Some("type".into()),
                    message: format!(
                        "`{}` is a {} connection and its type cannot change; create a new {} connection instead",
                        existing.name, existing.kind, draft.kind
                    ),
                }]));
            }
            let valid = draft
                .validate(&existing.secret_keys)
                .map_err(ConnectionError::Invalid)?;
            if let Some(other) = db.find_connection(&valid.name)?
                && other.id != existing.id
            {
                return Err(ConnectionError::NameTaken(valid.name));
            }
            (existing, valid)
        };
        let undo = self.snapshot(&existing.id, valid.new_secrets.keys())?;
        let written: Vec<&String> = valid.new_secrets.keys().collect();
        let added: Vec<&String> = written
            .iter()
            .copied()
            .filter(|key| !existing.secret_keys.contains(*key))
            .collect();
        record_intents(&mut *self.db()?, &existing.id, &added)?;
        self.write_secrets(&existing.id, &valid.new_secrets, &undo, &added)?;

        let removed: Vec<&String> = existing
            .secret_keys
            .difference(&valid.secret_keys)
            .collect();
        let record = ConnectionRecord {
            name: valid.name,
            config: valid.config,
            secret_keys: valid.secret_keys.clone(),
            updated_at_ms: now_ms(),
            ..existing.clone()
        };
        let config = to_json(&record.config)?;
        let secret_keys = to_json(&record.secret_keys)?;
        let committed = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            let changed = tx.execute(
                "UPDATE connections SET name = ?2, config = ?3, secret_keys = ?4, updated_at = ?5 WHERE id = ?1",
                params![record.id, record.name, config, secret_keys, record.updated_at_ms],
            )?;
            if changed == 0 {
                return Err(ConnectionError::NotFound(existing.name.clone()));
            }
            // Only this update's intents: one left by an earlier removal that could not finish
            // stays until its entry is gone.
            delete_intents(&tx, &record.id, &added)?;
            // Secrets the update drops are deleted after the commit; until then an intent marks them.
            for key in &removed {
                insert_intent(&tx, &record.id, key)?;
            }
            tx.commit()?;
            Ok(())
        });
        match committed {
            Ok(()) => {}
            Err(err @ ConnectionError::NotFound(_)) => {
                // Deleted meanwhile (by another window or process): putting old values back
                // would leave entries of a connection that is gone, so remove what was written.
                record_intents(&mut *self.db()?, &existing.id, &written)?;
                self.forget(&existing.id, &written);
                return Err(err);
            }
            Err(err) => {
                let rollback = self.undo_writes(&existing.id, &written, &undo, &added);
                return Err(not_saved(err, &record.name, rollback));
            }
        }
        self.forget(&record.id, &removed);
        Ok(Saved {
            record,
            warnings: valid.warnings,
        })
    }

    /// Deletes the connection and its keychain entries.
    pub fn delete(&self, name: &str) -> Result<ConnectionRecord, ConnectionError> {
        let existing = self.db()?.connection(name)?;
        let keys: Vec<&String> = existing.secret_keys.iter().collect();
        let undo = self.snapshot(&existing.id, keys.iter().copied())?;
        let overrides = {
            let mut db = self.db()?;
            let tx = db.conn_mut().transaction()?;
            // Deleting the row deletes its profiles' overrides too; their entries go last.
            let overrides = profiles::overrides_of(&tx, &existing.id)?;
            if tx.execute("DELETE FROM connections WHERE id = ?1", [&existing.id])? == 0 {
                return Err(ConnectionError::NotFound(existing.name));
            }
            for key in &keys {
                insert_intent(&tx, &existing.id, key)?;
            }
            profiles::intend_override_removal(&tx, &overrides)?;
            tx.commit()?;
            overrides
        };
        for (index, key) in keys.iter().enumerate() {
            if let Err(source) = self.keychain.delete(&account(&existing.id, key)) {
                let rollback = self.undelete(&existing, &overrides, &undo, &keys[..index]);
                return Err(ConnectionError::Keychain { source, rollback });
            }
        }
        self.clear_intents(&existing.id, &keys);
        self.forget_overrides(&overrides);
        Ok(existing)
    }

    /// The value of one secret of a connection, read from the keychain. Needs no database: a
    /// caller reads the record first and releases the database before this may block.
    pub fn secret(&self, record: &ConnectionRecord, key: &str) -> Result<Secret, ConnectionError> {
        let missing = || ConnectionError::MissingSecret {
            name: record.name.clone(),
            key: key.to_owned(),
        };
        if !record.secret_keys.contains(key) {
            return Err(missing());
        }
        self.keychain
            .get(&account(&record.id, key))
            .map_err(keychain_failed)?
            .map(Secret::new)
            .ok_or_else(missing)
    }

    /// Deletes keychain entries that a crash left behind (written, but never part of a saved
    /// connection, or dropped from one). Intents another running process may still commit are
    /// left alone. Returns how many entries were removed.
    pub fn clean_up_orphans(&self) -> Result<usize, ConnectionError> {
        self.clean_up_orphans_as_of(now_ms())
    }

    fn clean_up_orphans_as_of(&self, now: i64) -> Result<usize, ConnectionError> {
        let stale: Vec<(Intent, bool)> = {
            let db = self.db()?;
            db.stale_intents(now)?
                .into_iter()
                .map(|intent| {
                    let in_use = db.uses_secret(&intent.connection_id, &intent.key)?;
                    Ok((intent, in_use))
                })
                .collect::<Result<_, ConnectionError>>()?
        };
        let mut removed = 0;
        for (intent, in_use) in stale {
            if !in_use {
                match self.keychain.delete(&intent.account) {
                    Ok(true) => removed += 1,
                    Ok(false) => {}
                    Err(err) => {
                        // Stop here: a locked keychain would fail (or prompt) for every entry.
                        tracing::warn!(
                            removed,
                            "could not remove a left-over keychain entry; the rest stay until a later start: {err}"
                        );
                        return Ok(removed);
                    }
                }
            }
            // Only the row as it was read: one rewritten since belongs to a newer write.
            self.db()?.conn().execute(
                "DELETE FROM secret_intents WHERE account = ?1 AND created_at = ?2 AND pid = ?3",
                params![intent.account, intent.created_at_ms, intent.pid],
            )?;
        }
        Ok(removed)
    }

    /// The current values of these secrets, to put back if a change fails.
    fn snapshot<'k>(
        &self,
        id: &str,
        keys: impl Iterator<Item = &'k String>,
    ) -> Result<BTreeMap<String, Secret>, ConnectionError> {
        let mut values = BTreeMap::new();
        for key in keys {
            if let Some(value) = self
                .keychain
                .get(&account(id, key))
                .map_err(keychain_failed)?
            {
                values.insert(key.clone(), Secret::new(value));
            }
        }
        Ok(values)
    }

    /// Writes the secrets; on a failure, undoes the ones written and clears `intents` as far as
    /// the undo went.
    fn write_secrets(
        &self,
        id: &str,
        secrets: &BTreeMap<String, Secret>,
        undo: &BTreeMap<String, Secret>,
        intents: &[&String],
    ) -> Result<(), ConnectionError> {
        for (index, (key, secret)) in secrets.iter().enumerate() {
            if let Err(source) = self.keychain.set(&account(id, key), secret.expose()) {
                let written: Vec<&String> = secrets.keys().take(index).collect();
                let rollback = self.undo_writes(id, &written, undo, intents);
                return Err(ConnectionError::Keychain { source, rollback });
            }
        }
        Ok(())
    }

    /// Puts written secrets back as they were (the old value, or no entry), then clears those of
    /// `intents` whose entry is as before. An intent whose undo failed stays, so a later start
    /// removes the entry.
    fn undo_writes(
        &self,
        id: &str,
        written: &[&String],
        undo: &BTreeMap<String, Secret>,
        intents: &[&String],
    ) -> Rollback {
        let mut failed = Vec::new();
        let mut reason = None;
        for key in written {
            let account = account(id, key);
            let result = match undo.get(*key) {
                Some(old) => self.keychain.set(&account, old.expose()),
                None => self.keychain.delete(&account).map(drop),
            };
            if let Err(err) = result {
                tracing::warn!(%account, "could not undo a keychain change: {err}");
                failed.push((*key).clone());
                reason.get_or_insert(err.to_string());
            }
        }
        let settled: Vec<&String> = intents
            .iter()
            .copied()
            .filter(|key| !failed.contains(*key))
            .collect();
        self.clear_intents(id, &settled);
        match reason {
            None => Rollback::Complete,
            Some(reason) => {
                let (left_over, overwritten) =
                    failed.into_iter().partition(|key| intents.contains(&key));
                Rollback::KeychainNotRestored {
                    left_over,
                    overwritten,
                    reason,
                }
            }
        }
    }

    /// Undoes a delete whose keychain half failed: first the row, which needs only the database,
    /// then the secrets already deleted, which need the keychain that just failed.
    fn undelete(
        &self,
        record: &ConnectionRecord,
        overrides: &[OverrideRecord],
        undo: &BTreeMap<String, Secret>,
        deleted: &[&String],
    ) -> Rollback {
        let keys: Vec<&String> = record.secret_keys.iter().collect();
        let restored = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            insert_row(&tx, record)?;
            // The entries are the connection's again, not leftovers for a cleanup to remove.
            delete_intents(&tx, &record.id, &keys)?;
            profiles::restore_overrides(&tx, overrides)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = restored {
            // The intents stay, so a later start removes the entries the delete did not reach.
            return Rollback::StaysDeleted {
                reason: err.to_string(),
            };
        }
        let mut lost = Vec::new();
        let mut reason = None;
        for key in deleted {
            if let Some(value) = undo.get(*key)
                && let Err(err) = self.keychain.set(&account(&record.id, key), value.expose())
            {
                lost.push((*key).clone());
                reason.get_or_insert(err.to_string());
            }
        }
        match reason {
            None => Rollback::Complete,
            Some(reason) => Rollback::SecretsLost { keys: lost, reason },
        }
    }

    /// Deletes entries no longer used; one that fails keeps its intent for a later cleanup.
    fn forget(&self, id: &str, keys: &[&String]) {
        let mut gone = Vec::new();
        for key in keys {
            match self.keychain.delete(&account(id, key)) {
                Ok(_) => gone.push(*key),
                Err(err) => {
                    tracing::warn!("could not delete an unused keychain entry yet: {err}")
                }
            }
        }
        self.clear_intents(id, &gone);
    }

    fn clear_intents(&self, id: &str, keys: &[&String]) {
        if keys.is_empty() {
            return;
        }
        let cleared = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            delete_intents(&tx, id, keys)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = cleared {
            tracing::warn!(
                "could not clear keychain intents; a later start checks them again: {err}"
            );
        }
    }
}

fn insert_row(
    tx: &rusqlite::Transaction<'_>,
    record: &ConnectionRecord,
) -> Result<(), ConnectionError> {
    tx.execute(
        &format!("INSERT INTO connections ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            record.id,
            record.name,
            record.kind.as_str(),
            to_json(&record.config)?,
            to_json(&record.secret_keys)?,
            record.created_at_ms,
            record.updated_at_ms
        ],
    )?;
    Ok(())
}

fn record_intents(db: &mut Database, id: &str, keys: &[&String]) -> Result<(), ConnectionError> {
    let tx = db.conn_mut().transaction()?;
    for key in keys {
        insert_intent(&tx, id, key)?;
    }
    tx.commit()?;
    Ok(())
}

/// Records (or renews) an intent as this process's, now.
fn insert_intent(tx: &rusqlite::Transaction<'_>, id: &str, key: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO secret_intents (account, connection_id, key, created_at, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account(id, key), id, key, now_ms(), std::process::id()],
    )
    .map(drop)
}

fn delete_intents(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    keys: &[&String],
) -> rusqlite::Result<()> {
    for key in keys {
        tx.execute(
            "DELETE FROM secret_intents WHERE account = ?1",
            [account(id, key)],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::SecretInput;

    struct Fixture {
        dir: tempfile::TempDir,
        db: Mutex<Database>,
        keychain: Keychain,
        /// The keychain's in-memory store, to list every entry it holds.
        store: std::sync::Arc<keyring_core::mock::Store>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("weft.sqlite3"), "test").unwrap();
        let store = keyring_core::mock::Store::new().unwrap();
        let keychain = Keychain::over_test_store(store.clone(), "weft-test");
        Fixture {
            dir,
            db: Mutex::new(db),
            keychain,
            store,
        }
    }

    /// A process id no process can have: Linux caps them at 2^22.
    const DEAD_PID: i64 = 1 << 40;

    impl Fixture {
        fn connections(&self) -> Connections<'_> {
            Connections::new(&self.db, &self.keychain)
        }

        fn db(&self) -> MutexGuard<'_, Database> {
            self.db.lock().unwrap()
        }

        fn intents(&self) -> i64 {
            self.db()
                .conn()
                .query_row("SELECT count(*) FROM secret_intents", [], |row| row.get(0))
                .unwrap()
        }

        fn intent_accounts(&self) -> Vec<String> {
            let db = self.db();
            let mut stmt = db
                .conn()
                .prepare("SELECT account FROM secret_intents ORDER BY account")
                .unwrap();
            stmt.query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        }

        /// An intent as another process (or this one, earlier) recorded it.
        fn add_intent(&self, id: &str, key: &str, created_at_ms: i64, pid: i64) {
            self.db()
                .conn()
                .execute(
                    "INSERT INTO secret_intents (account, connection_id, key, created_at, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![account(id, key), id, key, created_at_ms, pid],
                )
                .unwrap();
        }

        /// The accounts of every entry holding a secret. (The mock store also keeps an empty
        /// entry for each account ever looked up.)
        fn keychain_accounts(&self) -> Vec<String> {
            use keyring_core::api::CredentialStoreApi;
            let mut accounts: Vec<String> = self
                .store
                .search(&std::collections::HashMap::new())
                .unwrap()
                .into_iter()
                .filter(|entry| entry.get_password().is_ok())
                .map(|entry| entry.get_specifiers().unwrap().1)
                .collect();
            accounts.sort();
            accounts
        }

        /// Makes every later insert into `connections` fail, as a full disk would.
        fn fail_inserts(&self) {
            self.db()
                .conn()
                .execute_batch(
                    "CREATE TEMP TRIGGER no_inserts BEFORE INSERT ON connections BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
                )
                .unwrap();
        }

        /// Every byte Weft wrote to disk: the database and its WAL.
        fn disk_bytes(&self) -> Vec<u8> {
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(self.dir.path()).unwrap() {
                bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
            bytes
        }
    }

    fn foundry(name: &str, key: &str) -> Draft {
        Draft {
            name: name.into(),
            kind: ConnectionKind::AzureAi,
            config: BTreeMap::from([(
                "endpoint".into(),
                "https://r.services.ai.azure.com/models".into(),
            )]),
            secrets: BTreeMap::from([("api_key".into(), SecretInput::from_raw(key))]),
        }
    }

    /// An azure_ai draft with these plain fields and an `api_key` input.
    fn foundry_with(name: &str, config: &[(&str, &str)], key: &str) -> Draft {
        let mut draft = foundry(name, key);
        draft
            .config
            .extend(config.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        draft
    }

    fn custom(name: &str, secrets: &[(&str, &str)]) -> Draft {
        Draft {
            name: name.into(),
            kind: ConnectionKind::Custom,
            config: BTreeMap::from([("region".into(), "westeurope".into())]),
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), SecretInput::from_raw(v)))
                .collect(),
        }
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    }

    #[test]
    fn create_keeps_the_secret_in_the_keychain_only() {
        let f = fixture();
        let secret = "sk-unique-7d1f0c9e2b";
        let saved = f.connections().create(foundry("azure-ai", secret)).unwrap();
        assert_eq!(
            saved.record.secret_keys,
            BTreeSet::from(["api_key".to_owned()])
        );
        assert_eq!(
            f.connections()
                .secret(&saved.record, "api_key")
                .unwrap()
                .expose(),
            secret
        );
        assert_eq!(f.db().connection("AZURE-AI").unwrap(), saved.record);
        assert!(
            !contains(&f.disk_bytes(), secret),
            "the secret reached the SQLite files"
        );
        assert!(
            contains(&f.disk_bytes(), "r.services.ai.azure.com"),
            "sanity: the plain fields are there"
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_entra_connection_makes_no_keychain_entry() {
        let f = fixture();
        let saved = f
            .connections()
            .create(foundry_with("entra", &[("auth_mode", "meid_token")], ""))
            .unwrap();
        assert!(saved.record.secret_keys.is_empty());
        assert_eq!(saved.record.auth_mode(), AuthMode::MeidToken);
        assert_eq!(f.keychain_accounts(), Vec::<String>::new());
        assert_eq!(f.intents(), 0);
        // Sanity: the listing sees a key connection's entry.
        let keyed = f.connections().create(foundry("keyed", "sk-1")).unwrap();
        assert_eq!(
            f.keychain_accounts(),
            [account(&keyed.record.id, "api_key")]
        );
    }

    #[test]
    fn switching_to_entra_deletes_the_key_and_switching_back_needs_a_new_one() {
        let f = fixture();
        let saved = f.connections().create(foundry("c", "sk-old")).unwrap();
        // The form sends the hidden key field as "keep".
        let entra = f
            .connections()
            .update(
                "c",
                foundry_with("c", &[("auth_mode", "meid_token")], "******"),
            )
            .unwrap();
        assert!(entra.record.secret_keys.is_empty());
        assert_eq!(f.keychain_accounts(), Vec::<String>::new());
        assert_eq!(f.intents(), 0);

        let err = f
            .connections()
            .update("c", foundry_with("c", &[("auth_mode", "key")], "******"))
            .unwrap_err();
        assert!(err.to_string().contains("no stored one to keep"), "{err}");
        let keyed = f
            .connections()
            .update("c", foundry_with("c", &[("auth_mode", "key")], "sk-new"))
            .unwrap();
        assert_eq!(
            f.connections()
                .secret(&keyed.record, "api_key")
                .unwrap()
                .expose(),
            "sk-new"
        );
        assert_eq!(
            f.keychain_accounts(),
            [account(&saved.record.id, "api_key")]
        );
    }

    #[test]
    fn a_key_that_cannot_be_deleted_on_the_switch_to_entra_is_cleaned_up_later() {
        let f = fixture();
        let saved = f.connections().create(foundry("c", "sk-old")).unwrap();
        f.keychain.fail_next_delete("/api_key");
        f.connections()
            .update("c", foundry_with("c", &[("auth_mode", "meid_token")], ""))
            .unwrap();
        let key = account(&saved.record.id, "api_key");
        assert_eq!(f.intent_accounts(), [key]);
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain_accounts(), Vec::<String>::new());
    }

    #[test]
    fn rows_saved_before_api_and_auth_mode_existed_read_as_v1_and_key() {
        let f = fixture();
        // As Weft wrote them before these fields: an api_version, no api, no auth_mode.
        f.db()
            .conn()
            .execute_batch(
                r#"INSERT INTO connections (id, name, kind, config, secret_keys, created_at, updated_at) VALUES
                ('f', 'foundry', 'azure_ai', '{"endpoint":"https://r.services.ai.azure.com/models","api_version":"2024-05-01-preview"}', '["api_key"]', 1, 1),
                ('o', 'aoai', 'azure_open_ai', '{"api_base":"https://r.openai.azure.com","api_version":"2024-06-01","api_type":"azure"}', '["api_key"]', 1, 1);"#,
            )
            .unwrap();
        let foundry = f.db().connection("foundry").unwrap();
        assert_eq!(foundry.setting("api"), Some("v1"));
        assert_eq!(foundry.auth_mode(), AuthMode::Key);
        assert_eq!(foundry.setting("api_version"), None, "v1 takes none");
        assert_eq!(foundry.setting("token_scope"), None);
        let aoai = f.db().connection("aoai").unwrap();
        assert_eq!(aoai.setting("api"), Some("deployments"));
        assert_eq!(aoai.auth_mode(), AuthMode::Key);
        assert_eq!(aoai.setting("api_version"), Some("2024-06-01"));
    }

    #[test]
    fn names_are_unique_ignoring_case() {
        let f = fixture();
        f.connections().create(foundry("Azure-AI", "k1")).unwrap();
        let err = f
            .connections()
            .create(foundry("azure-ai", "k2"))
            .unwrap_err();
        assert!(matches!(err, ConnectionError::NameTaken(_)), "{err:?}");
        assert_eq!(f.db().connections().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_keychain_write_rolls_back_the_whole_create() {
        let f = fixture();
        f.keychain.fail_next("/b");
        let err = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(text.contains("locked"), "{text}");
        assert!(f.db().connections().unwrap().is_empty());
        assert_eq!(f.intents(), 0);
        // The first secret, already written, was removed again: the create can simply be retried.
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap();
        assert_eq!(
            f.connections().secret(&saved.record, "b").unwrap().expose(),
            "sb"
        );
    }

    #[test]
    fn update_keeps_masked_secrets_and_survives_a_rename() {
        let f = fixture();
        let saved = f
            .connections()
            .create(foundry("azure-ai", "original"))
            .unwrap();
        let renamed = f
            .connections()
            .update("azure-ai", foundry("prod-ai", "******"))
            .unwrap();
        assert_eq!(renamed.record.id, saved.record.id);
        assert_eq!(renamed.record.name, "prod-ai");
        assert_eq!(
            f.connections()
                .secret(&renamed.record, "api_key")
                .unwrap()
                .expose(),
            "original"
        );
        assert!(matches!(
            f.db().connection("azure-ai"),
            Err(ConnectionError::NotFound(_))
        ));

        let rotated = f
            .connections()
            .update("prod-ai", foundry("prod-ai", "rotated"))
            .unwrap();
        assert_eq!(
            f.connections()
                .secret(&rotated.record, "api_key")
                .unwrap()
                .expose(),
            "rotated"
        );
    }

    #[test]
    fn a_failed_keychain_write_leaves_the_update_undone() {
        let f = fixture();
        f.connections()
            .create(custom("svc", &[("a", "old-a"), ("b", "old-b")]))
            .unwrap();
        f.keychain.fail_next("/b");
        let err = f
            .connections()
            .update("svc", custom("svc-2", &[("a", "new-a"), ("b", "new-b")]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConnectionError::Keychain {
                    rollback: Rollback::Complete,
                    ..
                }
            ),
            "{err:?}"
        );
        let record = f.db().connection("svc").unwrap();
        assert_eq!(
            f.connections().secret(&record, "a").unwrap().expose(),
            "old-a"
        );
        assert_eq!(
            f.connections().secret(&record, "b").unwrap().expose(),
            "old-b"
        );
    }

    #[test]
    fn dropping_a_custom_secret_deletes_its_entry() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap();
        let updated = f
            .connections()
            .update("svc", custom("svc", &[("a", "")]))
            .unwrap();
        assert_eq!(updated.record.secret_keys, BTreeSet::from(["a".to_owned()]));
        assert_eq!(
            f.keychain.get(&account(&saved.record.id, "b")).unwrap(),
            None
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn the_type_of_a_connection_cannot_change() {
        let f = fixture();
        f.connections().create(foundry("c", "k")).unwrap();
        let err = f
            .connections()
            .update("c", custom("c", &[("a", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("its type cannot change"), "{err}");
    }

    #[test]
    fn delete_removes_the_row_and_its_keychain_entries() {
        let f = fixture();
        let saved = f.connections().create(foundry("azure-ai", "k")).unwrap();
        f.connections().delete("azure-ai").unwrap();
        assert!(f.db().connections().unwrap().is_empty());
        assert_eq!(
            f.keychain
                .get(&account(&saved.record.id, "api_key"))
                .unwrap(),
            None
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn a_failed_keychain_delete_restores_the_connection() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap();
        f.keychain.fail_next("/b");
        let err = f.connections().delete("svc").unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        let record = f.db().connection("svc").unwrap();
        assert_eq!(record, saved.record);
        assert_eq!(f.connections().secret(&record, "a").unwrap().expose(), "sa");
        assert_eq!(f.connections().secret(&record, "b").unwrap().expose(), "sb");
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn entries_left_by_a_crash_are_cleaned_up_and_live_ones_kept() {
        let f = fixture();
        let live = f.connections().create(foundry("live", "keep-me")).unwrap();
        // A crash between the keychain write and the SQLite commit leaves an intent and an entry;
        // this one is old and its process is gone.
        f.keychain.set("dead-id/api_key", "orphan").unwrap();
        f.add_intent("dead-id", "api_key", 0, DEAD_PID);
        f.add_intent(&live.record.id, "api_key", 0, DEAD_PID);
        assert!(f.db().has_stale_secret_intents().unwrap());
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get("dead-id/api_key").unwrap(), None);
        assert_eq!(
            f.connections()
                .secret(&live.record, "api_key")
                .unwrap()
                .expose(),
            "keep-me"
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_intent_from_before_owners_were_recorded_is_a_leftover() {
        let f = fixture();
        f.keychain.set("old-id/api_key", "orphan").unwrap();
        // As Weft wrote intents before migration 0004: no time, no process.
        f.db()
            .conn()
            .execute(
                "INSERT INTO secret_intents (account, connection_id, key) VALUES ('old-id/api_key', 'old-id', 'api_key')",
                [],
            )
            .unwrap();
        assert!(f.db().has_stale_secret_intents().unwrap());
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get("old-id/api_key").unwrap(), None);
    }

    #[test]
    fn a_fresh_intent_of_a_running_process_is_left_to_that_process() {
        let f = fixture();
        // Another Weft process (here: this one, which is certainly running) has recorded its
        // intent and written the secret, and is about to commit the connection.
        f.keychain.set("in-flight/api_key", "theirs").unwrap();
        f.add_intent(
            "in-flight",
            "api_key",
            now_ms(),
            i64::from(std::process::id()),
        );
        assert!(!f.db().has_stale_secret_intents().unwrap());
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 0);
        assert_eq!(
            f.keychain.get("in-flight/api_key").unwrap().as_deref(),
            Some("theirs")
        );
        assert_eq!(f.intents(), 1);

        // Past the grace period it counts as a crash's leftover, even from a live process id.
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain.get("in-flight/api_key").unwrap(), None);
        assert_eq!(f.intents(), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_intent_of_an_exited_process_is_cleaned_at_once_and_a_running_ones_kept() {
        let f = fixture();
        f.keychain.set("crashed/api_key", "orphan").unwrap();
        f.add_intent("crashed", "api_key", now_ms(), DEAD_PID);
        // pid 1 (init) runs for as long as the machine does.
        f.keychain.set("running/api_key", "theirs").unwrap();
        f.add_intent("running", "api_key", now_ms(), 1);
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get("crashed/api_key").unwrap(), None);
        assert_eq!(
            f.keychain.get("running/api_key").unwrap().as_deref(),
            Some("theirs")
        );
        assert_eq!(f.intent_accounts(), ["running/api_key"]);
    }

    #[test]
    fn a_create_in_another_process_survives_this_ones_cleanup() {
        let f = fixture();
        // Process B opens the same database file, with the same keychain, and cleans up while
        // process A (this fixture) is between its keychain write and its commit.
        let other = Mutex::new(Database::open(&f.dir.path().join("weft.sqlite3"), "test").unwrap());
        let draft = foundry("azure-ai", "sk-in-flight");
        let valid = draft.validate(&BTreeSet::new()).unwrap();
        let id = "a-new-id";
        record_intents(
            &mut f.db(),
            id,
            &valid.new_secrets.keys().collect::<Vec<_>>(),
        )
        .unwrap();
        f.keychain
            .set(&account(id, "api_key"), "sk-in-flight")
            .unwrap();
        assert_eq!(
            Connections::new(&other, &f.keychain)
                .clean_up_orphans()
                .unwrap(),
            0
        );
        assert_eq!(
            f.keychain.get(&account(id, "api_key")).unwrap().as_deref(),
            Some("sk-in-flight")
        );
    }

    #[test]
    fn a_failed_delete_puts_the_row_back_even_when_the_keychain_stays_locked() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap();
        // `a` is deleted, `b` fails, and writing `a` back fails too: the keychain is locked.
        f.keychain.fail_next("/b");
        f.keychain.fail_next("/a");
        let err = f.connections().delete("svc").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("nothing was changed"), "{text}");
        assert!(
            text.contains("the connection was put back, but `a` had already been deleted"),
            "{text}"
        );
        assert_eq!(f.db().connection("svc").unwrap(), saved.record);
        assert_eq!(
            f.connections().secret(&saved.record, "b").unwrap().expose(),
            "sb"
        );
        assert!(matches!(
            f.connections().secret(&saved.record, "a"),
            Err(ConnectionError::MissingSecret { .. })
        ));
        // The entries are the connection's again: a cleanup must not remove `b`.
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_undo_that_fails_keeps_its_intent_and_says_so() {
        let f = fixture();
        // `a` is written, `b` fails, and removing `a` again fails too.
        f.keychain.fail_next("/b");
        f.keychain.fail_next("/a");
        let err = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("nothing was changed"), "{text}");
        assert!(
            text.contains("Weft removes the new entries for `a` on a later start"),
            "{text}"
        );
        assert!(f.db().connections().unwrap().is_empty());
        let left = f.intent_accounts();
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].ends_with("/a"), "{left:?}");
        assert_eq!(f.keychain.get(&left[0]).unwrap().as_deref(), Some("sa"));
        // The promise holds: a later start removes it.
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain.get(&left[0]).unwrap(), None);
    }

    #[test]
    fn a_failed_commit_undoes_the_keychain_and_clears_its_intents() {
        let f = fixture();
        f.fail_inserts();
        let err = f
            .connections()
            .create(foundry("azure-ai", "sk-x"))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("injected failure"), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn a_failed_commit_whose_undo_fails_keeps_its_intent_and_says_so() {
        let f = fixture();
        f.fail_inserts();
        f.keychain.fail_next_delete("/api_key");
        let err = f
            .connections()
            .create(foundry("azure-ai", "sk-x"))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("could not save the change in the database"),
            "{text}"
        );
        assert!(!text.contains("nothing was changed"), "{text}");
        assert!(
            text.contains("Weft removes the new entries for `api_key`"),
            "{text}"
        );
        let left = f.intent_accounts();
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(f.keychain.get(&left[0]).unwrap().as_deref(), Some("sk-x"));
    }

    #[test]
    fn an_update_keeps_a_pending_removal_of_an_earlier_update() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("c", "sc")]))
            .unwrap();
        // Dropping `c` commits, but deleting its entry fails: its intent stays for cleanup.
        f.keychain.fail_next("/c");
        f.connections()
            .update("svc", custom("svc", &[("a", "")]))
            .unwrap();
        let c = account(&saved.record.id, "c");
        assert_eq!(f.intent_accounts(), vec![c.clone()]);
        // An unrelated change must not forget it.
        f.connections()
            .update("svc", custom("svc", &[("a", "rotated"), ("b", "sb")]))
            .unwrap();
        assert_eq!(f.intent_accounts(), vec![c.clone()]);
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain.get(&c).unwrap(), None);
        let record = f.db().connection("svc").unwrap();
        assert_eq!(
            f.connections().secret(&record, "a").unwrap().expose(),
            "rotated"
        );
        assert_eq!(f.connections().secret(&record, "b").unwrap().expose(), "sb");
    }

    #[test]
    fn an_update_of_a_connection_deleted_meanwhile_leaves_no_entries() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "old")]))
            .unwrap();
        // Another window deletes the connection while this update writes its secrets: the
        // trigger does it when the update records its intent for the new key.
        f.db()
            .conn()
            .execute_batch(&format!(
                "CREATE TEMP TRIGGER gone AFTER INSERT ON secret_intents BEGIN DELETE FROM connections WHERE id = '{}'; END;",
                saved.record.id
            ))
            .unwrap();
        let err = f
            .connections()
            .update("svc", custom("svc", &[("a", "new"), ("b", "sb")]))
            .unwrap_err();
        assert!(matches!(err, ConnectionError::NotFound(_)), "{err:?}");
        for key in ["a", "b"] {
            assert_eq!(
                f.keychain.get(&account(&saved.record.id, key)).unwrap(),
                None,
                "{key}"
            );
        }
        assert_eq!(f.intents(), 0);
    }
}
