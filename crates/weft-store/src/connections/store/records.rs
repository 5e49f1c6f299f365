//! What SQLite holds of a connection, and the reads that need no keychain.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, Row, params};

use super::profiles;
use super::{ConnectionError, Connections, account, keychain_failed};
use crate::connections::kind::{AuthMode, ConnectionKind};
use crate::{Database, DbError, Secret};

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

    pub(super) fn find_connection(
        &self,
        name: &str,
    ) -> Result<Option<ConnectionRecord>, ConnectionError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE name = ?1"),
                [name],
                read_record,
            )
            .optional()?)
    }

    pub(super) fn uses_secret(
        &self,
        connection_id: &str,
        key: &str,
    ) -> Result<bool, ConnectionError> {
        if profiles::is_override_owner(connection_id) {
            return self.override_uses_secret(connection_id, key);
        }
        self.lists_secret(
            "SELECT secret_keys FROM connections WHERE id = ?1",
            [connection_id],
            key,
        )
    }

    /// Whether the `secret_keys` list that `sql` reads (one row at most) names `key`. No row,
    /// or a list that does not parse, names none: the cleanup then treats the entry as a leftover.
    pub(super) fn lists_secret(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        key: &str,
    ) -> Result<bool, ConnectionError> {
        let live: Option<String> = self
            .conn()
            .query_row(sql, params, |row| row.get(0))
            .optional()?;
        Ok(live
            .and_then(|keys| serde_json::from_str::<BTreeSet<String>>(&keys).ok())
            .is_some_and(|keys| keys.contains(key)))
    }
}

impl Connections<'_> {
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
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ConnectionError> {
    serde_json::to_string(value).map_err(|err| {
        ConnectionError::Db(DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
            Box::new(err),
        )))
    })
}

pub(super) fn insert_row(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::store::fixture::fixture;

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
    fn rows_saved_before_the_seed_tools_api_versions_read_as_the_new_ones_and_stored_ones_stay() {
        let f = fixture();
        // As Weft wrote them before: the old default stored explicitly, or (a file imported by
        // hand) no api_version; a serp row with no endpoint.
        f.db()
            .conn()
            .execute_batch(
                r#"INSERT INTO connections (id, name, kind, config, secret_keys, created_at, updated_at) VALUES
                ('a', 'cs-old', 'azure_content_safety', '{"endpoint":"https://cs.cognitiveservices.azure.com","api_version":"2023-10-01"}', '["api_key"]', 1, 1),
                ('b', 'cs-bare', 'azure_content_safety', '{"endpoint":"https://cs.cognitiveservices.azure.com"}', '["api_key"]', 1, 1),
                ('c', 'search-old', 'cognitive_search', '{"api_base":"https://s.search.windows.net","api_version":"2023-11-01"}', '["api_key"]', 1, 1),
                ('d', 'search-bare', 'cognitive_search', '{"api_base":"https://s.search.windows.net"}', '["api_key"]', 1, 1),
                ('e', 'serp', 'serp', '{}', '["api_key"]', 1, 1);"#,
            )
            .unwrap();
        let setting = |name: &str, key: &str| {
            f.db()
                .connection(name)
                .unwrap()
                .setting(key)
                .map(str::to_owned)
        };
        assert_eq!(
            setting("cs-old", "api_version").as_deref(),
            Some("2023-10-01")
        );
        assert_eq!(
            setting("cs-bare", "api_version").as_deref(),
            Some("2024-09-01")
        );
        assert_eq!(
            setting("search-old", "api_version").as_deref(),
            Some("2023-11-01")
        );
        assert_eq!(
            setting("search-bare", "api_version").as_deref(),
            Some("2024-07-01")
        );
        assert_eq!(
            setting("serp", "endpoint").as_deref(),
            Some("https://serpapi.com")
        );
    }
}
