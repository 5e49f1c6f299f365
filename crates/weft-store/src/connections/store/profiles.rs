//! Environment profiles: named sets of overrides, so that one connection name reaches the dev
//! resource under `dev` and the prod one under `prod`. What a profile changes in a connection
//! is an override (`overrides`); the connection as a profile sees it is [`Effective`]
//! (`effective`).
//!
//! A profile's secrets are keychain entries of their own, account `<connection id>@<profile>/<key>`;
//! profile names cannot contain `@` or `/`, so they never collide with a connection's
//! `<connection id>/<key>`.

use rusqlite::{OptionalExtension, params};

use super::overrides::{intend_override_removal, overrides_where};
use super::{ConnectionError, Connections, now_ms};
use crate::connections::env::EnvError;
use crate::{Database, DbError};

const MAX_PROFILE_CHARS: usize = 32;

/// A profile as stored, with how many connections it overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecord {
    pub name: String,
    pub created_at_ms: i64,
    pub overrides: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "no profile is named `{0}`; create it with `weft profile create {0}` (or in the app's profile menu), or pick one that `weft profile list` shows"
    )]
    Unknown(String),
    #[error(
        "`{0}` is not a valid profile name: use 1 to {MAX_PROFILE_CHARS} letters, digits, `-`, `_` or `.`"
    )]
    BadName(String),
    #[error("a profile named `{0}` already exists (names ignore case); pick another name")]
    Exists(String),
    #[error(
        "the keychain has no `{key}` of profile `{profile}` for connection `{name}`; set it again with `weft connection update {name} --profile {profile} --secret {key}`"
    )]
    MissingSecret {
        name: String,
        profile: String,
        key: String,
    },
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

impl From<DbError> for ProfileError {
    fn from(err: DbError) -> Self {
        Self::Connection(ConnectionError::Db(err))
    }
}

impl From<rusqlite::Error> for ProfileError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Connection(err.into())
    }
}

/// The keychain owner of a profile's secrets for a connection: the `<id>` of `<id>/<key>`.
pub(super) fn owner(connection_id: &str, profile: &str) -> String {
    format!("{connection_id}@{profile}")
}

/// Whether an intent's connection id is an override's owner rather than a connection's id.
pub(super) fn is_override_owner(connection_id: &str) -> bool {
    connection_id.contains('@')
}

fn check_profile_name(raw: &str) -> Result<String, ProfileError> {
    let name = raw.trim();
    let valid = (1..=MAX_PROFILE_CHARS).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(name.to_owned())
    } else {
        Err(ProfileError::BadName(name.to_owned()))
    }
}

impl Database {
    /// Every profile, by name.
    pub fn profiles(&self) -> Result<Vec<ProfileRecord>, ProfileError> {
        let mut stmt = self.conn().prepare(
            "SELECT p.name, p.created_at, (SELECT count(*) FROM connection_overrides o WHERE o.profile = p.name) \
             FROM profiles p ORDER BY p.name",
        )?;
        let found = stmt
            .query_map([], |row| {
                Ok(ProfileRecord {
                    name: row.get(0)?,
                    created_at_ms: row.get(1)?,
                    overrides: row.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(found)
    }

    /// The profile's name as it was created (names ignore case).
    pub fn profile(&self, name: &str) -> Result<String, ProfileError> {
        self.conn()
            .query_row(
                "SELECT name FROM profiles WHERE name = ?1",
                [name.trim()],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| ProfileError::Unknown(name.trim().to_owned()))
    }

    pub fn create_profile(&mut self, name: &str) -> Result<ProfileRecord, ProfileError> {
        let name = check_profile_name(name)?;
        let record = ProfileRecord {
            name,
            created_at_ms: now_ms(),
            overrides: 0,
        };
        let inserted = self.conn().execute(
            "INSERT INTO profiles (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![record.name, record.created_at_ms],
        )?;
        if inserted == 0 {
            return Err(ProfileError::Exists(record.name));
        }
        Ok(record)
    }

    /// The profile the desktop app runs with, if one is chosen.
    pub fn active_profile(&self) -> Result<Option<String>, ProfileError> {
        Ok(self
            .conn()
            .query_row("SELECT profile FROM active_profile", [], |row| row.get(0))
            .optional()?)
    }

    /// Chooses the profile the desktop app runs with (`None`: no profile). Returns its name as
    /// created.
    pub fn set_active_profile(
        &mut self,
        name: Option<&str>,
    ) -> Result<Option<String>, ProfileError> {
        let tx = self.conn_mut().transaction()?;
        let chosen = match name {
            None => {
                tx.execute("DELETE FROM active_profile", [])?;
                None
            }
            Some(name) => {
                let canonical: String = tx
                    .query_row(
                        "SELECT name FROM profiles WHERE name = ?1",
                        [name.trim()],
                        |row| row.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| ProfileError::Unknown(name.trim().to_owned()))?;
                tx.execute(
                    "INSERT OR REPLACE INTO active_profile (slot, profile) VALUES (1, ?1)",
                    [&canonical],
                )?;
                Some(canonical)
            }
        };
        tx.commit()?;
        Ok(chosen)
    }
}

impl Connections<'_> {
    /// Deletes a profile, its overrides and their keychain entries.
    pub fn delete_profile(&self, name: &str) -> Result<String, ProfileError> {
        let (profile, removed) = {
            let mut db = self.db()?;
            let profile = db.profile(name)?;
            let tx = db.conn_mut().transaction()?;
            let removed = overrides_where(&tx, "profile = ?1", &profile)?;
            intend_override_removal(&tx, &removed)?;
            tx.execute("DELETE FROM profiles WHERE name = ?1", [&profile])?;
            tx.commit()?;
            (profile, removed)
        };
        self.forget_overrides(&removed);
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::store::fixture::{DEV_KEY, fixture, prod_account};

    #[test]
    fn deleting_a_profile_deletes_its_overrides_their_keys_and_the_choice_of_it() {
        let f = fixture();
        let base = f.dev_and_prod();
        f.db().set_active_profile(Some("Prod")).unwrap();
        assert_eq!(f.db().active_profile().unwrap().as_deref(), Some("prod"));
        assert_eq!(f.connections().delete_profile("PROD").unwrap(), "prod");
        assert_eq!(f.keychain.get(&prod_account(&base)).unwrap(), None);
        assert_eq!(f.db().active_profile().unwrap(), None);
        assert!(f.db().profiles().unwrap().is_empty());
        assert_eq!(f.key(None), DEV_KEY);
        assert!(f.intent_accounts().is_empty());
    }

    #[test]
    fn profile_names_cannot_hold_the_account_separators_and_ignore_case() {
        let f = fixture();
        for bad in ["a/b", "a@b", "", "with space", &"x".repeat(33)] {
            let err = f.db().create_profile(bad).unwrap_err();
            assert!(matches!(err, ProfileError::BadName(_)), "{bad}: {err:?}");
        }
        f.db().create_profile(" Dev ").unwrap();
        let err = f.db().create_profile("DEV").unwrap_err();
        assert!(matches!(err, ProfileError::Exists(_)), "{err:?}");
        assert_eq!(f.db().profile("dev").unwrap(), "Dev");
        let names: Vec<String> = f
            .db()
            .profiles()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["Dev"]);
    }
}
