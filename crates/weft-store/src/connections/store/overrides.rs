//! What a profile changes in a connection: the plain fields (in SQLite) and the secrets (in the
//! keychain, under the owner `<connection id>@<profile>`). Their keychain writes go through the
//! same intent protocol as a connection's own (ADR 2), with the owner in the place of the
//! connection id, so a crash's leftovers are swept like the connection's.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, Row, params};

use super::effective::Effective;
use super::intents::{delete_intents, insert_intent, record_intents};
use super::profiles::owner;
use super::records::to_json;
use super::{ConnectionError, ConnectionRecord, Connections, ProfileError, not_saved, now_ms};
use crate::Database;
use crate::connections::draft::{Draft, Problem, SecretInput, Valid};

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

/// The result of saving an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedOverride {
    pub effective: Effective,
    pub warnings: Vec<String>,
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
pub(super) fn overrides_where(
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

impl Database {
    pub(super) fn override_of(
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
        self.lists_secret(
            "SELECT secret_keys FROM connection_overrides WHERE connection_id = ?1 AND profile = ?2",
            [connection_id, profile],
            key,
        )
    }
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

    /// Deletes the keychain entries of overrides already gone from SQLite; one that fails keeps
    /// its intent, so a later start removes it.
    pub(super) fn forget_overrides(&self, overrides: &[OverrideRecord]) {
        for record in overrides {
            let keys: Vec<&String> = record.secret_keys.iter().collect();
            self.forget(&owner(&record.connection_id, &record.profile), &keys);
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
    use crate::connections::store::fixture::{
        DEV, DEV_KEY, PROD, PROD_KEY, fixture, prod_account, prod_override,
    };

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
}
