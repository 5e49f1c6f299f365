use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, Row, params};

use super::draft::{Draft, Problem};
use super::kind::ConnectionKind;
use crate::{Database, DbError, Keychain, KeychainError, Secret};

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
    #[error("{source}; nothing was changed{}", rollback_note(.rollback))]
    Keychain {
        source: KeychainError,
        /// Set when undoing the partial change failed too.
        rollback: Option<String>,
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

fn rollback_note(rollback: &Option<String>) -> String {
    rollback
        .as_ref()
        .map(|err| format!(" in SQLite, but undoing the keychain change also failed ({err}); Weft will remove leftover keychain entries on its next start"))
        .unwrap_or_default()
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

    /// Whether a keychain write was in flight when Weft last stopped.
    pub fn has_secret_intents(&self) -> Result<bool, ConnectionError> {
        Ok(self
            .conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM secret_intents)", [], |row| {
                row.get(0)
            })?)
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
}

/// Changes to connections. Each one is atomic across SQLite and the keychain: when either half
/// fails, the other is undone and the error says why.
///
/// Keychain entries are keyed by connection id (account `<id>/<key>`), so renaming keeps them.
pub struct Connections<'a> {
    db: &'a mut Database,
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

impl<'a> Connections<'a> {
    pub fn new(db: &'a mut Database, keychain: &'a Keychain) -> Self {
        Self { db, keychain }
    }

    pub fn create(&mut self, draft: Draft) -> Result<Saved, ConnectionError> {
        let valid = draft
            .validate(&BTreeSet::new())
            .map_err(ConnectionError::Invalid)?;
        if self.db.find_connection(&valid.name)?.is_some() {
            return Err(ConnectionError::NameTaken(valid.name));
        }
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
        let config = to_json(&record.config)?;
        let secret_keys = to_json(&record.secret_keys)?;

        self.record_intents(&record.id, valid.new_secrets.keys())?;
        let undo = BTreeMap::new(); // nothing existed before
        self.write_secrets(&record.id, &valid.new_secrets, &undo)?;
        let committed = (|| -> Result<(), ConnectionError> {
            let tx = self.db.conn_mut().transaction()?;
            tx.execute(
                &format!("INSERT INTO connections ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    record.id,
                    record.name,
                    record.kind.as_str(),
                    config,
                    secret_keys,
                    now,
                    now
                ],
            )?;
            tx.execute(
                "DELETE FROM secret_intents WHERE connection_id = ?1",
                [&record.id],
            )?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(err) = committed {
            self.restore(&record.id, &undo, valid.new_secrets.keys());
            self.clear_intents(&record.id);
            return Err(err);
        }
        Ok(Saved {
            record,
            warnings: valid.warnings,
        })
    }

    /// Updates the connection called `name` (the draft may rename it). The type cannot change.
    pub fn update(&mut self, name: &str, draft: Draft) -> Result<Saved, ConnectionError> {
        let existing = self.db.connection(name)?;
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
        if let Some(other) = self.db.find_connection(&valid.name)?
            && other.id != existing.id
        {
            return Err(ConnectionError::NameTaken(valid.name));
        }
        let undo = self.snapshot(&existing.id, valid.new_secrets.keys())?;
        let added = valid
            .new_secrets
            .keys()
            .filter(|key| !existing.secret_keys.contains(*key));
        self.record_intents(&existing.id, added)?;
        self.write_secrets(&existing.id, &valid.new_secrets, &undo)?;

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
        let committed = (|| -> Result<(), ConnectionError> {
            let tx = self.db.conn_mut().transaction()?;
            tx.execute(
                "UPDATE connections SET name = ?2, config = ?3, secret_keys = ?4, updated_at = ?5 WHERE id = ?1",
                params![record.id, record.name, config, secret_keys, record.updated_at_ms],
            )?;
            tx.execute(
                "DELETE FROM secret_intents WHERE connection_id = ?1",
                [&record.id],
            )?;
            // Secrets the update drops are deleted after the commit; until then an intent marks them.
            for key in &removed {
                insert_intent(&tx, &record.id, key)?;
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(err) = committed {
            self.restore(&existing.id, &undo, valid.new_secrets.keys());
            self.clear_intents(&existing.id);
            return Err(err);
        }
        self.forget(&record.id, removed.into_iter());
        Ok(Saved {
            record,
            warnings: valid.warnings,
        })
    }

    /// Deletes the connection and its keychain entries.
    pub fn delete(&mut self, name: &str) -> Result<ConnectionRecord, ConnectionError> {
        let existing = self.db.connection(name)?;
        let undo = self.snapshot(&existing.id, existing.secret_keys.iter())?;
        {
            let tx = self.db.conn_mut().transaction()?;
            tx.execute("DELETE FROM connections WHERE id = ?1", [&existing.id])?;
            for key in &existing.secret_keys {
                insert_intent(&tx, &existing.id, key)?;
            }
            tx.commit()?;
        }
        for key in &existing.secret_keys {
            if let Err(source) = self.keychain.delete(&account(&existing.id, key)) {
                let rollback = self
                    .reinsert(&existing, &undo)
                    .err()
                    .map(|err| err.to_string());
                return Err(ConnectionError::Keychain { source, rollback });
            }
        }
        self.clear_intents(&existing.id);
        Ok(existing)
    }

    /// The value of one secret of a connection, read from the keychain.
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
            .map_err(|source| ConnectionError::Keychain {
                source,
                rollback: None,
            })?
            .map(Secret::new)
            .ok_or_else(missing)
    }

    /// Deletes keychain entries that a crash left behind (written, but never part of a saved
    /// connection, or dropped from one). Returns how many were removed.
    pub fn clean_up_orphans(&mut self) -> Result<usize, ConnectionError> {
        let intents: Vec<(String, String, String)> = {
            let mut stmt = self
                .db
                .conn()
                .prepare("SELECT account, connection_id, key FROM secret_intents")?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        for (account, connection_id, key) in intents {
            let live: Option<String> = self
                .db
                .conn()
                .query_row(
                    "SELECT secret_keys FROM connections WHERE id = ?1",
                    [&connection_id],
                    |row| row.get(0),
                )
                .optional()?;
            let in_use = live
                .and_then(|keys| serde_json::from_str::<BTreeSet<String>>(&keys).ok())
                .is_some_and(|keys| keys.contains(&key));
            if !in_use
                && self
                    .keychain
                    .delete(&account)
                    .map_err(|source| ConnectionError::Keychain {
                        source,
                        rollback: None,
                    })?
            {
                removed += 1;
            }
            self.db
                .conn()
                .execute("DELETE FROM secret_intents WHERE account = ?1", [&account])?;
        }
        Ok(removed)
    }

    fn record_intents<'k>(
        &mut self,
        id: &str,
        keys: impl Iterator<Item = &'k String>,
    ) -> Result<(), ConnectionError> {
        let tx = self.db.conn_mut().transaction()?;
        for key in keys {
            insert_intent(&tx, id, key)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The current values of these secrets, to put back if a change fails.
    fn snapshot<'k>(
        &self,
        id: &str,
        keys: impl Iterator<Item = &'k String>,
    ) -> Result<BTreeMap<String, Secret>, ConnectionError> {
        let mut values = BTreeMap::new();
        for key in keys {
            let value = self.keychain.get(&account(id, key)).map_err(|source| {
                ConnectionError::Keychain {
                    source,
                    rollback: None,
                }
            })?;
            if let Some(value) = value {
                values.insert(key.clone(), Secret::new(value));
            }
        }
        Ok(values)
    }

    fn write_secrets(
        &mut self,
        id: &str,
        secrets: &BTreeMap<String, Secret>,
        undo: &BTreeMap<String, Secret>,
    ) -> Result<(), ConnectionError> {
        for (index, (key, secret)) in secrets.iter().enumerate() {
            if let Err(source) = self.keychain.set(&account(id, key), secret.expose()) {
                let rollback = self.restore(id, undo, secrets.keys().take(index));
                self.clear_intents(id);
                return Err(ConnectionError::Keychain { source, rollback });
            }
        }
        Ok(())
    }

    /// Puts written secrets back as they were: the old value, or no entry. Returns the first
    /// failure, if any, for the error message.
    fn restore<'k>(
        &self,
        id: &str,
        undo: &BTreeMap<String, Secret>,
        written: impl Iterator<Item = &'k String>,
    ) -> Option<String> {
        let mut failure = None;
        for key in written {
            let account = account(id, key);
            let result = match undo.get(key) {
                Some(old) => self.keychain.set(&account, old.expose()),
                None => self.keychain.delete(&account).map(drop),
            };
            if let Err(err) = result {
                tracing::warn!(%account, "could not undo a keychain change: {err}");
                failure.get_or_insert(err.to_string());
            }
        }
        failure
    }

    /// Undoes a delete whose keychain half failed: the row and any secrets already deleted.
    fn reinsert(
        &mut self,
        record: &ConnectionRecord,
        undo: &BTreeMap<String, Secret>,
    ) -> Result<(), ConnectionError> {
        for (key, value) in undo {
            self.keychain
                .set(&account(&record.id, key), value.expose())
                .map_err(|source| ConnectionError::Keychain {
                    source,
                    rollback: None,
                })?;
        }
        let tx = self.db.conn_mut().transaction()?;
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
        tx.execute(
            "DELETE FROM secret_intents WHERE connection_id = ?1",
            [&record.id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes entries no longer used; on failure the intents stay for the next start's cleanup.
    fn forget<'k>(&mut self, id: &str, keys: impl Iterator<Item = &'k String>) {
        let mut all_gone = true;
        for key in keys {
            if let Err(err) = self.keychain.delete(&account(id, key)) {
                tracing::warn!("could not delete an unused keychain entry yet: {err}");
                all_gone = false;
            }
        }
        if all_gone {
            self.clear_intents(id);
        }
    }

    fn clear_intents(&mut self, id: &str) {
        if let Err(err) = self
            .db
            .conn()
            .execute("DELETE FROM secret_intents WHERE connection_id = ?1", [id])
        {
            tracing::warn!(
                "could not clear keychain intents; they are retried on next start: {err}"
            );
        }
    }
}

fn insert_intent(tx: &rusqlite::Transaction<'_>, id: &str, key: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO secret_intents (account, connection_id, key) VALUES (?1, ?2, ?3)",
        params![account(id, key), id, key],
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::SecretInput;

    struct Fixture {
        dir: tempfile::TempDir,
        db: Database,
        keychain: Keychain,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("weft.sqlite3"), "test").unwrap();
        let keychain = Keychain::in_memory("weft-test").unwrap();
        Fixture { dir, db, keychain }
    }

    impl Fixture {
        fn connections(&mut self) -> Connections<'_> {
            Connections::new(&mut self.db, &self.keychain)
        }

        fn intents(&self) -> i64 {
            self.db
                .conn()
                .query_row("SELECT count(*) FROM secret_intents", [], |row| row.get(0))
                .unwrap()
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
        let mut f = fixture();
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
        assert_eq!(f.db.connection("AZURE-AI").unwrap(), saved.record);
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
    fn names_are_unique_ignoring_case() {
        let mut f = fixture();
        f.connections().create(foundry("Azure-AI", "k1")).unwrap();
        let err = f
            .connections()
            .create(foundry("azure-ai", "k2"))
            .unwrap_err();
        assert!(matches!(err, ConnectionError::NameTaken(_)), "{err:?}");
        assert_eq!(f.db.connections().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_keychain_write_rolls_back_the_whole_create() {
        let mut f = fixture();
        f.keychain.fail_next("/b");
        let err = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(text.contains("locked"), "{text}");
        assert!(f.db.connections().unwrap().is_empty());
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
        let mut f = fixture();
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
            f.db.connection("azure-ai"),
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
        let mut f = fixture();
        f.connections()
            .create(custom("svc", &[("a", "old-a"), ("b", "old-b")]))
            .unwrap();
        f.keychain.fail_next("/b");
        let err = f
            .connections()
            .update("svc", custom("svc-2", &[("a", "new-a"), ("b", "new-b")]))
            .unwrap_err();
        assert!(
            matches!(err, ConnectionError::Keychain { rollback: None, .. }),
            "{err:?}"
        );
        let record = f.db.connection("svc").unwrap();
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
        let mut f = fixture();
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
        let mut f = fixture();
        f.connections().create(foundry("c", "k")).unwrap();
        let err = f
            .connections()
            .update("c", custom("c", &[("a", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("its type cannot change"), "{err}");
    }

    #[test]
    fn delete_removes_the_row_and_its_keychain_entries() {
        let mut f = fixture();
        let saved = f.connections().create(foundry("azure-ai", "k")).unwrap();
        f.connections().delete("azure-ai").unwrap();
        assert!(f.db.connections().unwrap().is_empty());
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
        let mut f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap();
        f.keychain.fail_next("/b");
        let err = f.connections().delete("svc").unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        let record = f.db.connection("svc").unwrap();
        assert_eq!(record, saved.record);
        assert_eq!(f.connections().secret(&record, "a").unwrap().expose(), "sa");
        assert_eq!(f.connections().secret(&record, "b").unwrap().expose(), "sb");
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn entries_left_by_a_crash_are_cleaned_up_and_live_ones_kept() {
        let mut f = fixture();
        let live = f.connections().create(foundry("live", "keep-me")).unwrap();
        // A crash between the keychain write and the SQLite commit leaves an intent and an entry.
        f.keychain.set("dead-id/api_key", "orphan").unwrap();
        {
            let tx = f.db.conn_mut().transaction().unwrap();
            insert_intent(&tx, "dead-id", "api_key").unwrap();
            insert_intent(&tx, &live.record.id, "api_key").unwrap();
            tx.commit().unwrap();
        }
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
}
