//! Environment profiles: named sets of overrides, so that one connection name reaches the dev
//! resource under `dev` and the prod one under `prod`.
//!
//! An override holds the plain fields a profile changes (in SQLite) and the secrets it changes
//! (in the keychain, account `<connection id>@<profile>/<key>`). Its keychain writes go through
//! the same intent protocol as a connection's own (ADR 2), with `<connection id>@<profile>` in
//! the place of the connection id; profile names cannot contain `@` or `/`, so the two kinds of
//! account never collide.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, Row, params};

use super::errors::join_problems;
use super::intents::{delete_intents, insert_intent, record_intents};
use super::records::to_json;
use super::{
    ConnectionError, ConnectionRecord, Connections, account, keychain_failed, not_saved, now_ms,
};
use crate::connections::draft::{Draft, Problem, SecretInput, Valid, remote_plain_http};
use crate::connections::env::{self, EnvError};
use crate::connections::kind::FieldInput;
use crate::{Database, DbError, Secret};

const MAX_PROFILE_CHARS: usize = 32;

/// A profile as stored, with how many connections it overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecord {
    pub name: String,
    pub created_at_ms: i64,
    pub overrides: u32,
}

/// What one profile changes in one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRecord {
    pub connection_id: String,
    pub profile: String,
    pub config: BTreeMap<String, String>,
    pub secret_keys: BTreeSet<String>,
    pub updated_at_ms: i64,
}

/// A profile's override of a connection as a form (or the CLI) submits it. It replaces the
/// profile's whole override of that connection: a field left out comes from the connection.
/// A secret given as [`SecretInput::Keep`] keeps the value the profile already has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OverrideDraft {
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretInput>,
}

/// A connection as a profile sees it: the connection's fields, then the profile's. `${env:…}`
/// references are still as written until [`Effective::resolve_env`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// The merged connection: its own id and name, the fields in effect, every secret key.
    pub record: ConnectionRecord,
    pub profile: Option<String>,
    /// The fields (plain and secret) whose value comes from the profile.
    pub from_profile: BTreeSet<String>,
    /// The secrets whose value comes from the profile's keychain entries.
    override_secrets: BTreeSet<String>,
}

/// The result of saving an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedOverride {
    pub effective: Effective,
    pub warnings: Vec<String>,
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
fn owner(connection_id: &str, profile: &str) -> String {
    format!("{connection_id}@{profile}")
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

fn read_override(row: &Row<'_>) -> rusqlite::Result<OverrideRecord> {
    let json_err = |index, err: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    };
    let config: String = row.get(2)?;
    let secret_keys: String = row.get(3)?;
    Ok(OverrideRecord {
        connection_id: row.get(0)?,
        profile: row.get(1)?,
        config: serde_json::from_str(&config).map_err(|err| json_err(2, err))?,
        secret_keys: serde_json::from_str(&secret_keys).map_err(|err| json_err(3, err))?,
        updated_at_ms: row.get(4)?,
    })
}

const OVERRIDE_COLUMNS: &str = "connection_id, profile, config, secret_keys, updated_at";

/// The overrides `filter` (an SQL condition on `?1`) selects.
fn overrides_where(
    conn: &rusqlite::Connection,
    filter: &str,
    value: &str,
) -> Result<Vec<OverrideRecord>, ConnectionError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {OVERRIDE_COLUMNS} FROM connection_overrides WHERE {filter} ORDER BY connection_id, profile"
    ))?;
    let found = stmt
        .query_map([value], read_override)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// A connection's overrides, read in the transaction that deletes it.
pub(super) fn overrides_of(
    tx: &rusqlite::Transaction<'_>,
    connection_id: &str,
) -> Result<Vec<OverrideRecord>, ConnectionError> {
    overrides_where(tx, "connection_id = ?1", connection_id)
}

/// Marks the keychain entries of overrides about to be deleted, in the deleting transaction, so
/// that a crash before they are gone leaves them to a later start's cleanup.
pub(super) fn intend_override_removal(
    tx: &rusqlite::Transaction<'_>,
    overrides: &[OverrideRecord],
) -> rusqlite::Result<()> {
    for record in overrides {
        let owner = owner(&record.connection_id, &record.profile);
        for key in &record.secret_keys {
            insert_intent(tx, &owner, key)?;
        }
    }
    Ok(())
}

/// Puts back overrides that a connection delete removed, and their entries as theirs again.
pub(super) fn restore_overrides(
    tx: &rusqlite::Transaction<'_>,
    overrides: &[OverrideRecord],
) -> Result<(), ConnectionError> {
    for record in overrides {
        upsert_override(tx, record)?;
        let keys: Vec<&String> = record.secret_keys.iter().collect();
        delete_intents(tx, &owner(&record.connection_id, &record.profile), &keys)?;
    }
    Ok(())
}

fn upsert_override(
    tx: &rusqlite::Transaction<'_>,
    record: &OverrideRecord,
) -> Result<(), ConnectionError> {
    tx.execute(
        &format!(
            "INSERT INTO connection_overrides ({OVERRIDE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (connection_id, profile) DO UPDATE SET config = excluded.config, \
             secret_keys = excluded.secret_keys, updated_at = excluded.updated_at"
        ),
        params![
            record.connection_id,
            record.profile,
            to_json(&record.config)?,
            to_json(&record.secret_keys)?,
            record.updated_at_ms
        ],
    )?;
    Ok(())
}

impl Effective {
    /// The connection with no profile.
    fn base(record: ConnectionRecord) -> Self {
        Self {
            record,
            profile: None,
            from_profile: BTreeSet::new(),
            override_secrets: BTreeSet::new(),
        }
    }

    fn merge(base: ConnectionRecord, profile: String, over: Option<OverrideRecord>) -> Self {
        let mut effective = Self::base(base);
        effective.profile = Some(profile);
        if let Some(over) = over {
            effective.from_profile = over
                .config
                .keys()
                .chain(&over.secret_keys)
                .cloned()
                .collect();
            effective.record.config.extend(over.config);
            effective
                .record
                .secret_keys
                .extend(over.secret_keys.iter().cloned());
            effective.override_secrets = over.secret_keys;
        }
        effective
    }

    /// Reads every `${env:VAR}` of the plain fields with `lookup`, then checks the result as a
    /// saved connection is checked (a URL must still be one). Nothing resolved is stored.
    pub fn resolve_env(
        mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ProfileError> {
        let written = self.record.config.clone();
        if !written.values().any(|value| env::mentions_env(value)) {
            return Ok(self);
        }
        let resolved = env::resolve(&self.record.name, &written, lookup)?;
        let draft = Draft {
            name: self.record.name.clone(),
            kind: self.record.kind,
            config: resolved,
            secrets: self
                .record
                .secret_keys
                .iter()
                .map(|key| (key.clone(), SecretInput::Keep))
                .collect(),
        };
        let valid = draft
            .validate(&self.record.secret_keys)
            .map_err(|problems| {
                let field = problems
                    .iter()
                    .find_map(|problem| problem.field.clone())
                    .unwrap_or_default();
                EnvError::Invalid {
                    connection: self.record.name.clone(),
                    written: written.get(&field).cloned().unwrap_or_default(),
                    field,
                    message: join_problems(&problems),
                }
            })?;
        let spec = self.record.kind.spec();
        for (field, written) in &written {
            let is_url = spec
                .field(field)
                .is_some_and(|spec| spec.input == FieldInput::Url);
            let Some(url) = valid
                .config
                .get(field)
                .filter(|_| is_url && env::mentions_env(written))
            else {
                continue;
            };
            if let Some(host) = remote_plain_http(url) {
                return Err(EnvError::PlainHttp {
                    connection: self.record.name.clone(),
                    field: field.clone(),
                    written: written.clone(),
                    host,
                }
                .into());
            }
        }
        self.record.config = valid.config;
        Ok(self)
    }
}

/// Reads need no keychain.
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

    fn override_of(
        &self,
        connection_id: &str,
        profile: &str,
    ) -> Result<Option<OverrideRecord>, ProfileError> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {OVERRIDE_COLUMNS} FROM connection_overrides WHERE connection_id = ?1 AND profile = ?2"
                ),
                [connection_id, profile],
                read_override,
            )
            .optional()?)
    }

    /// The connection called `name` as `profile` sees it (`None`: as saved).
    pub fn effective_connection(
        &self,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Effective, ProfileError> {
        let base = self.connection(name)?;
        let Some(profile) = profile else {
            return Ok(Effective::base(base));
        };
        let profile = self.profile(profile)?;
        let over = self.override_of(&base.id, &profile)?;
        Ok(Effective::merge(base, profile, over))
    }

    /// Whether the keychain entry of `owner` (`<connection id>@<profile>`) and `key` belongs to
    /// a saved override, for the cleanup of a crash's leftovers.
    pub(super) fn override_uses_secret(
        &self,
        owner: &str,
        key: &str,
    ) -> Result<bool, ConnectionError> {
        let Some((connection_id, profile)) = owner.split_once('@') else {
            return Ok(false);
        };
        let live: Option<String> = self
            .conn()
            .query_row(
                "SELECT secret_keys FROM connection_overrides WHERE connection_id = ?1 AND profile = ?2",
                [connection_id, profile],
                |row| row.get(0),
            )
            .optional()?;
        Ok(live
            .and_then(|keys| serde_json::from_str::<BTreeSet<String>>(&keys).ok())
            .is_some_and(|keys| keys.contains(key)))
    }
}

/// Whether an intent's connection id is an override's owner rather than a connection's id.
pub(super) fn is_override_owner(connection_id: &str) -> bool {
    connection_id.contains('@')
}

impl Connections<'_> {
    /// Saves what `profile` changes in the connection called `name`, replacing what it changed
    /// before. The connection and the override together must form a valid connection of its
    /// type. An empty draft removes the override.
    pub fn set_override(
        &self,
        name: &str,
        profile: &str,
        draft: OverrideDraft,
    ) -> Result<SavedOverride, ProfileError> {
        if draft.config.is_empty() && draft.secrets.is_empty() {
            self.clear_override(name, profile)?;
            let effective = self.db()?.effective_connection(name, Some(profile))?;
            return Ok(SavedOverride {
                effective,
                warnings: Vec::new(),
            });
        }
        let (base, profile, had, checked) = {
            let db = self.db()?;
            let base = db.connection(name)?;
            let profile = db.profile(profile)?;
            let had = db
                .override_of(&base.id, &profile)?
                .map(|over| over.secret_keys)
                .unwrap_or_default();
            let checked = check_override(&base, &profile, &had, draft)?;
            (base, profile, had, checked)
        };
        let Checked {
            keys,
            valid,
            config,
        } = checked;
        let owner = owner(&base.id, &profile);
        let undo = self.snapshot(&owner, valid.new_secrets.keys())?;
        let written: Vec<&String> = valid.new_secrets.keys().collect();
        let added: Vec<&String> = written
            .iter()
            .copied()
            .filter(|key| !had.contains(*key))
            .collect();
        record_intents(&mut *self.db()?, &owner, &added)?;
        self.write_secrets(&owner, &valid.new_secrets, &undo, &added)?;

        let removed: Vec<&String> = had.difference(&keys).collect();
        let record = OverrideRecord {
            connection_id: base.id.clone(),
            profile: profile.clone(),
            config,
            secret_keys: keys.clone(),
            updated_at_ms: now_ms(),
        };
        let committed = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            let (connection, profile_row): (bool, bool) = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM connections WHERE id = ?1), EXISTS (SELECT 1 FROM profiles WHERE name = ?2)",
                [&record.connection_id, &record.profile],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if !connection || !profile_row {
                return Err(ConnectionError::NotFound(base.name.clone()));
            }
            upsert_override(&tx, &record)?;
            delete_intents(&tx, &owner, &added)?;
            for key in &removed {
                insert_intent(&tx, &owner, key)?;
            }
            tx.commit()?;
            Ok(())
        });
        match committed {
            Ok(()) => {}
            Err(ConnectionError::NotFound(_)) => {
                // The connection or the profile was deleted meanwhile: what was written would be
                // entries of an override that cannot exist.
                record_intents(&mut *self.db()?, &owner, &written)?;
                self.forget(&owner, &written);
                // Say which one is gone: the connection (NotFound) or else the profile.
                self.db()?.connection(name)?;
                return Err(ProfileError::Unknown(profile));
            }
            Err(err) => {
                let rollback = self.undo_writes(&owner, &written, &undo, &added);
                return Err(not_saved(err, &base.name, rollback).into());
            }
        }
        self.forget(&owner, &removed);
        Ok(SavedOverride {
            effective: Effective::merge(base, profile, Some(record)),
            warnings: valid.warnings,
        })
    }

    /// Removes what `profile` changes in the connection called `name`, its keychain entries
    /// included. Returns whether there was anything to remove.
    pub fn clear_override(&self, name: &str, profile: &str) -> Result<bool, ProfileError> {
        let removed = {
            let mut db = self.db()?;
            let base = db.connection(name)?;
            let profile = db.profile(profile)?;
            let Some(existing) = db.override_of(&base.id, &profile)? else {
                return Ok(false);
            };
            let tx = db.conn_mut().transaction()?;
            intend_override_removal(&tx, std::slice::from_ref(&existing))?;
            tx.execute(
                "DELETE FROM connection_overrides WHERE connection_id = ?1 AND profile = ?2",
                [&existing.connection_id, &existing.profile],
            )?;
            tx.commit()?;
            existing
        };
        self.forget_overrides(std::slice::from_ref(&removed));
        Ok(true)
    }

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

    /// Deletes the keychain entries of overrides already gone from SQLite; one that fails keeps
    /// its intent, so a later start removes it.
    pub(super) fn forget_overrides(&self, overrides: &[OverrideRecord]) {
        for record in overrides {
            let keys: Vec<&String> = record.secret_keys.iter().collect();
            self.forget(&owner(&record.connection_id, &record.profile), &keys);
        }
    }

    /// The value of one secret of a connection as its profile sees it.
    pub fn effective_secret(
        &self,
        effective: &Effective,
        key: &str,
    ) -> Result<Secret, ProfileError> {
        match &effective.profile {
            Some(profile) if effective.override_secrets.contains(key) => self
                .keychain
                .get(&account(&owner(&effective.record.id, profile), key))
                .map_err(keychain_failed)?
                .map(Secret::new)
                .ok_or_else(|| ProfileError::MissingSecret {
                    name: effective.record.name.clone(),
                    profile: profile.clone(),
                    key: key.to_owned(),
                }),
            _ => Ok(self.secret(&effective.record, key)?),
        }
    }
}

/// An override that passed its check.
struct Checked {
    /// The profile's secret keys once saved.
    keys: BTreeSet<String>,
    /// The merged connection, validated: its warnings and the secrets to write.
    valid: Valid,
    /// The profile's plain fields, normalised.
    config: BTreeMap<String, String>,
}

/// Checks an override against its connection.
fn check_override(
    base: &ConnectionRecord,
    profile: &str,
    had: &BTreeSet<String>,
    draft: OverrideDraft,
) -> Result<Checked, ProfileError> {
    let mut problems = Vec::new();
    for (field, value) in &draft.config {
        if value.trim().is_empty() {
            problems.push(Problem {
                field: Some(field.clone()),
                message: format!(
                    "`{field}` needs a value in profile `{profile}`; leave it out to use the connection's own"
                ),
            });
        }
    }
    let mut keys = BTreeSet::new();
    let mut secrets: BTreeMap<String, SecretInput> = base
        .secret_keys
        .iter()
        .map(|key| (key.clone(), SecretInput::Keep))
        .collect();
    for (key, input) in draft.secrets {
        if input == SecretInput::Keep && !had.contains(&key) {
            problems.push(Problem {
                field: Some(key.clone()),
                message: format!(
                    "`{key}` has no value in profile `{profile}` to keep; give one, or leave it out to use the connection's own"
                ),
            });
        }
        keys.insert(key.clone());
        secrets.insert(key, input);
    }
    if !problems.is_empty() {
        return Err(ConnectionError::Invalid(problems).into());
    }
    let mut config = base.config.clone();
    config.extend(draft.config.clone());
    let stored: BTreeSet<String> = base.secret_keys.union(had).cloned().collect();
    let valid = Draft {
        name: base.name.clone(),
        kind: base.kind,
        config,
        secrets,
    }
    .validate(&stored)
    .map_err(ConnectionError::Invalid)?;
    // Validation fills defaults in; the override keeps only what the profile set.
    let own = draft
        .config
        .keys()
        .filter_map(|key| {
            valid
                .config
                .get(key)
                .map(|value| (key.clone(), value.clone()))
        })
        .collect();
    Ok(Checked {
        keys,
        valid,
        config: own,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::store::fixture::{Fixture, contains, fixture, foundry_with};

    const DEV_KEY: &str = "sk-dev-3a9c41";
    const PROD_KEY: &str = "sk-prod-77e0b2";
    const DEV: &str = "https://dev.services.ai.azure.com/models";
    const PROD: &str = "https://prod.services.ai.azure.com/models";

    impl Fixture {
        /// A dev connection `azure-ai` and a `prod` profile that points it at prod.
        fn dev_and_prod(&self) -> ConnectionRecord {
            let base = self
                .connections()
                .create(foundry("azure-ai", DEV, DEV_KEY))
                .unwrap()
                .record;
            self.db().create_profile("prod").unwrap();
            self.connections()
                .set_override("azure-ai", "prod", prod_override(PROD_KEY))
                .unwrap();
            base
        }

        fn effective(&self, profile: Option<&str>) -> Effective {
            self.db().effective_connection("azure-ai", profile).unwrap()
        }

        fn key(&self, profile: Option<&str>) -> String {
            let effective = self.effective(profile);
            self.connections()
                .effective_secret(&effective, "api_key")
                .unwrap()
                .expose()
                .to_owned()
        }
    }

    fn foundry(name: &str, endpoint: &str, key: &str) -> Draft {
        foundry_with(name, &[("endpoint", endpoint)], key)
    }

    fn prod_override(key: &str) -> OverrideDraft {
        OverrideDraft {
            config: BTreeMap::from([("endpoint".into(), format!("{PROD}/"))]),
            secrets: BTreeMap::from([("api_key".into(), SecretInput::from_raw(key))]),
        }
    }

    fn prod_account(base: &ConnectionRecord) -> String {
        format!("{}@prod/api_key", base.id)
    }

    #[test]
    fn a_profile_reaches_its_own_endpoint_with_its_own_key() {
        let f = fixture();
        let base = f.dev_and_prod();
        let prod = f.effective(Some("PROD"));
        assert_eq!(prod.profile.as_deref(), Some("prod"));
        assert_eq!(
            prod.record.config["endpoint"], PROD,
            "normalised like a saved one"
        );
        assert_eq!(
            prod.from_profile,
            BTreeSet::from(["api_key".to_owned(), "endpoint".to_owned()])
        );
        assert_eq!(f.key(Some("prod")), PROD_KEY);

        let dev = f.effective(None);
        assert_eq!(dev.record.config["endpoint"], DEV);
        assert!(dev.from_profile.is_empty());
        assert_eq!(f.key(None), DEV_KEY);

        assert_eq!(
            f.keychain.get(&prod_account(&base)).unwrap().as_deref(),
            Some(PROD_KEY)
        );
        assert_eq!(
            f.keychain
                .get(&account(&base.id, "api_key"))
                .unwrap()
                .as_deref(),
            Some(DEV_KEY)
        );
        assert!(f.intent_accounts().is_empty());
        let disk = f.disk_bytes();
        assert!(!contains(&disk, PROD_KEY) && !contains(&disk, DEV_KEY));
        assert!(contains(&disk, "prod.services.ai.azure.com"), "sanity");
    }

    #[test]
    fn a_profile_without_an_override_sees_the_connection_and_an_unknown_one_is_refused() {
        let f = fixture();
        f.dev_and_prod();
        f.db().create_profile("staging").unwrap();
        let staging = f.effective(Some("staging"));
        assert_eq!(staging.record.config["endpoint"], DEV);
        assert_eq!(f.key(Some("staging")), DEV_KEY);
        let err = f
            .db()
            .effective_connection("azure-ai", Some("qa"))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("create it with `weft profile create qa`"),
            "{err}"
        );
    }

    #[test]
    fn an_override_is_checked_with_the_connection_it_overrides() {
        let f = fixture();
        f.dev_and_prod();
        let problems = |draft: OverrideDraft| match f
            .connections()
            .set_override("azure-ai", "prod", draft)
            .unwrap_err()
        {
            ProfileError::Connection(ConnectionError::Invalid(problems)) => problems,
            other => panic!("{other:?}"),
        };
        let bad_url = problems(OverrideDraft {
            config: BTreeMap::from([("endpoint".into(), "ftp://x.example".into())]),
            ..OverrideDraft::default()
        });
        assert!(bad_url[0].message.contains("not supported"), "{bad_url:?}");
        let unknown = problems(OverrideDraft {
            config: BTreeMap::from([("endpont".into(), PROD.into())]),
            ..OverrideDraft::default()
        });
        assert!(unknown[0].message.contains("unknown field"), "{unknown:?}");
        f.db().create_profile("qa").unwrap();
        let keep = match f
            .connections()
            .set_override("azure-ai", "qa", prod_override("******"))
            .unwrap_err()
        {
            ProfileError::Connection(ConnectionError::Invalid(problems)) => problems,
            other => panic!("{other:?}"),
        };
        assert!(
            keep[0].message.contains("no value in profile `qa` to keep"),
            "{keep:?}"
        );
        // A failed check changes nothing.
        assert_eq!(f.key(Some("prod")), PROD_KEY);
        assert_eq!(f.effective(Some("prod")).record.config["endpoint"], PROD);
    }

    #[test]
    fn an_override_that_keeps_its_key_and_drops_a_field_reads_the_connection_again() {
        let f = fixture();
        f.dev_and_prod();
        f.connections()
            .set_override(
                "azure-ai",
                "prod",
                OverrideDraft {
                    config: BTreeMap::new(),
                    secrets: BTreeMap::from([("api_key".into(), SecretInput::Keep)]),
                },
            )
            .unwrap();
        let prod = f.effective(Some("prod"));
        assert_eq!(prod.record.config["endpoint"], DEV);
        assert_eq!(prod.from_profile, BTreeSet::from(["api_key".to_owned()]));
        assert_eq!(f.key(Some("prod")), PROD_KEY);
    }

    #[test]
    fn clearing_an_override_deletes_its_key_and_leaves_the_connections() {
        let f = fixture();
        let base = f.dev_and_prod();
        assert!(f.connections().clear_override("azure-ai", "prod").unwrap());
        assert!(!f.connections().clear_override("azure-ai", "prod").unwrap());
        assert_eq!(f.keychain.get(&prod_account(&base)).unwrap(), None);
        assert_eq!(f.key(Some("prod")), DEV_KEY);
        assert!(f.intent_accounts().is_empty());
    }

    #[test]
    fn dropping_a_secret_from_an_override_deletes_its_entry() {
        let f = fixture();
        let base = f.dev_and_prod();
        f.connections()
            .set_override(
                "azure-ai",
                "prod",
                OverrideDraft {
                    config: BTreeMap::from([("endpoint".into(), PROD.into())]),
                    secrets: BTreeMap::new(),
                },
            )
            .unwrap();
        assert_eq!(f.keychain.get(&prod_account(&base)).unwrap(), None);
        assert_eq!(f.key(Some("prod")), DEV_KEY);
        assert!(f.intent_accounts().is_empty());
    }

    #[test]
    fn deleting_the_connection_deletes_its_overrides_and_their_keys() {
        let f = fixture();
        let base = f.dev_and_prod();
        f.connections().delete("azure-ai").unwrap();
        assert_eq!(f.keychain.get(&prod_account(&base)).unwrap(), None);
        assert_eq!(f.db().profiles().unwrap()[0].overrides, 0);
        assert!(f.intent_accounts().is_empty());
    }

    #[test]
    fn a_failed_connection_delete_puts_its_overrides_back() {
        let f = fixture();
        let base = f.dev_and_prod();
        // The connection's own key cannot be deleted: the keychain is locked.
        f.keychain.fail_next(&format!("{}/api_key", base.id));
        let err = f.connections().delete("azure-ai").unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(f.effective(Some("prod")).record.config["endpoint"], PROD);
        assert_eq!(f.key(Some("prod")), PROD_KEY);
        assert!(f.intent_accounts().is_empty());
    }

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
    fn a_key_of_an_override_left_by_a_crash_is_swept_and_a_live_one_kept() {
        let f = fixture();
        let base = f.dev_and_prod();
        // A crash after writing a staging key, before its override was committed.
        f.db().create_profile("staging").unwrap();
        let orphan = format!("{}@staging/api_key", base.id);
        f.keychain.set(&orphan, "sk-orphan").unwrap();
        // Stale intents (their process is gone) for the orphan and for prod's live key.
        for (account, owner) in [
            (orphan.clone(), format!("{}@staging", base.id)),
            (prod_account(&base), format!("{}@prod", base.id)),
        ] {
            f.db()
                .conn()
                .execute(
                    "INSERT INTO secret_intents (account, connection_id, key, created_at, pid) VALUES (?1, ?2, 'api_key', 0, ?3)",
                    params![account, owner, 1_i64 << 40],
                )
                .unwrap();
        }
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get(&orphan).unwrap(), None);
        assert_eq!(f.key(Some("prod")), PROD_KEY);
        assert!(f.intent_accounts().is_empty());
    }

    #[test]
    fn a_failed_keychain_write_leaves_the_override_as_it_was() {
        let f = fixture();
        let base = f.dev_and_prod();
        f.keychain.fail_next("@prod/api_key");
        let err = f
            .connections()
            .set_override("azure-ai", "prod", prod_override("sk-rotated"))
            .unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(f.key(Some("prod")), PROD_KEY);
        assert_eq!(
            f.keychain.get(&prod_account(&base)).unwrap().as_deref(),
            Some(PROD_KEY)
        );
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

    #[test]
    fn env_references_are_saved_as_written_and_resolved_when_used() {
        let f = fixture();
        f.connections()
            .create(foundry("azure-ai", "${env:WEFT_T_ENDPOINT}", DEV_KEY))
            .unwrap();
        let written = f.effective(None);
        assert_eq!(written.record.config["endpoint"], "${env:WEFT_T_ENDPOINT}");
        assert!(!contains(&f.disk_bytes(), "resolved.services"));

        let lookup = |var: &str| {
            (var == "WEFT_T_ENDPOINT")
                .then(|| "https://resolved.services.ai.azure.com/models/".into())
        };
        let resolved = f.effective(None).resolve_env(&lookup).unwrap();
        assert_eq!(
            resolved.record.config["endpoint"],
            "https://resolved.services.ai.azure.com/models"
        );

        let missing = f.effective(None).resolve_env(&|_| None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "connection `azure-ai`'s endpoint reads ${env:WEFT_T_ENDPOINT}, which is not set; set it, or edit the connection"
        );
        let remote_http = f
            .effective(None)
            .resolve_env(&|_| Some("http://gateway.example.com/models".into()))
            .unwrap_err();
        assert_eq!(
            remote_http.to_string(),
            "connection `azure-ai`'s endpoint is written as `${env:WEFT_T_ENDPOINT}`, which reads the environment and gives plain http to gateway.example.com: the API key would cross the network unencrypted; set the variable to an https:// URL (http:// is accepted only for this machine and your own network)"
        );
        let local = f
            .effective(None)
            .resolve_env(&|_| Some("http://127.0.0.1:8080/models".into()))
            .unwrap();
        assert_eq!(
            local.record.config["endpoint"],
            "http://127.0.0.1:8080/models"
        );
        let not_a_url = f
            .effective(None)
            .resolve_env(&|_| Some("ftp://nope.example".into()))
            .unwrap_err();
        let text = not_a_url.to_string();
        assert!(
            text.contains("`${env:WEFT_T_ENDPOINT}`") && text.contains("not supported"),
            "{text}"
        );
    }
}
