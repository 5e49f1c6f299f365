//! What a failed change reports: the error, and what undoing its done half achieved.

use std::fmt;

use crate::connections::draft::Problem;
use crate::{DbError, KeychainError};

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

pub(super) fn join_problems(problems: &[Problem]) -> String {
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

pub(super) fn keychain_failed(source: KeychainError) -> ConnectionError {
    ConnectionError::Keychain {
        source,
        rollback: Rollback::Complete,
    }
}

/// The error for a commit that failed after the keychain half was done and then undone.
pub(super) fn not_saved(err: ConnectionError, name: &str, rollback: Rollback) -> ConnectionError {
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
