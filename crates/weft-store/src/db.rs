use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};
use rusqlite_migration::{M, Migrations};

/// Append-only: a released migration is never edited, a change is a new file.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../migrations/0001_meta.sql")),
    M::up(include_str!("../migrations/0002_connections.sql")),
    M::up(include_str!("../migrations/0003_runs.sql")),
    M::up(include_str!("../migrations/0004_secret_intent_owner.sql")),
    M::up(include_str!("../migrations/0005_profiles.sql")),
    M::up(include_str!("../migrations/0006_batches.sql")),
    M::up(include_str!("../migrations/0007_evals.sql")),
];

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "could not create the database file {path}: {source}; check that you can write to that folder"
    )]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a Weft database (it may be damaged); move it aside and restart Weft to begin with an empty store. Weft left the file as it was"
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "the database {path} was written by a newer Weft (schema version {found}; this build knows up to {known}); update Weft, or set WEFT_HOME to use another data folder"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("could not open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "could not upgrade the database {path}: {source}; Weft rolled the upgrade back and the file is unchanged"
    )]
    Migrate {
        path: PathBuf,
        source: rusqlite_migration::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A change whose SQLite commit failed after its keychain half was done; `outcome` says what
    /// undoing the keychain half left behind.
    #[error("could not save the change in the database ({source}); {outcome}")]
    NotSaved {
        source: rusqlite::Error,
        outcome: String,
    },
    #[error("the database lock was poisoned by a panic; restart Weft")]
    Poisoned,
}

/// What Diagnostics shows about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaInfo {
    pub version: u32,
    pub latest: u32,
    pub journal_mode: String,
    pub busy_timeout_ms: u32,
    pub created_with: Option<String>,
}

/// The SQLite file that holds Weft's metadata.
#[derive(Debug)]
pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl Database {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// A new file is created readable and writable by its owner only; SQLite gives the `-wal` and
    /// `-shm` files the same permissions.
    pub fn open(path: &Path, app_version: &str) -> Result<Self, DbError> {
        create_owner_only(path)?;
        let open_err = |source| classify_open_error(path, source);
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // The first statement that reads the file is where a damaged or foreign file shows up.
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;

        let found = user_version(&conn).map_err(open_err)?;
        let known = latest_version();
        if found > known {
            return Err(DbError::TooNew {
                path: path.to_owned(),
                found,
                known,
            });
        }
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut conn)
            .map_err(|source| DbError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_with', ?1)",
            [app_version],
        )?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn schema_info(&self) -> Result<SchemaInfo, DbError> {
        let journal_mode = self
            .conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        let busy_timeout_ms = self
            .conn
            .query_row("PRAGMA busy_timeout", [], |row| row.get(0))?;
        let created_with = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'created_with'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(SchemaInfo {
            version: user_version(&self.conn)?,
            latest: latest_version(),
            journal_mode,
            busy_timeout_ms,
            created_with,
        })
    }

    /// Whether the file can be read or written by anyone but its owner (always `true` off Unix,
    /// where the folder's ACL decides).
    pub fn is_owner_only(&self) -> std::io::Result<bool> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.path)?.permissions().mode();
            Ok(mode & 0o077 == 0)
        }
        #[cfg(not(unix))]
        Ok(true)
    }
}

fn latest_version() -> u32 {
    // The migration list is a short constant; it cannot exceed u32.
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

fn create_owner_only(path: &Path) -> Result<(), DbError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|source| DbError::Create {
            path: path.to_owned(),
            source,
        })
}

fn classify_open_error(path: &Path, source: rusqlite::Error) -> DbError {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => DbError::NotADatabase {
            path: path.to_owned(),
        },
        _ => DbError::Open {
            path: path.to_owned(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_in(dir: &tempfile::TempDir) -> Database {
        Database::open(&dir.path().join("weft.sqlite3"), "0.1.0-test").unwrap()
    }

    #[test]
    fn new_database_is_migrated_wal_and_remembers_its_creator() {
        let dir = tempfile::tempdir().unwrap();
        let info = open_in(&dir).schema_info().unwrap();
        assert_eq!(info.version, latest_version());
        assert!(info.version >= 1);
        assert_eq!(info.journal_mode, "wal");
        assert_eq!(info.busy_timeout_ms, 5000);
        assert_eq!(info.created_with.as_deref(), Some("0.1.0-test"));
    }

    #[test]
    fn reopening_keeps_the_original_creator() {
        let dir = tempfile::tempdir().unwrap();
        drop(open_in(&dir));
        let db = Database::open(&dir.path().join("weft.sqlite3"), "9.9.9").unwrap();
        assert_eq!(
            db.schema_info().unwrap().created_with.as_deref(),
            Some("0.1.0-test")
        );
    }

    #[cfg(unix)]
    #[test]
    fn database_and_wal_files_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = open_in(&dir);
        db.conn
            .execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", [])
            .unwrap();
        assert!(db.is_owner_only().unwrap());
        for name in ["weft.sqlite3", "weft.sqlite3-wal", "weft.sqlite3-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name} has mode {mode:o}");
        }
    }

    #[test]
    fn a_database_from_a_newer_weft_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.sqlite3");
        drop(open_in(&dir));
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Database::open(&path, "0.1.0").unwrap_err();
        assert!(
            matches!(err, DbError::TooNew { found: 99, .. }),
            "got {err:?}"
        );
        assert!(err.to_string().contains("update Weft"));
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 99);
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.sqlite3");
        let garbage = b"this is not a database, it is a shopping list ".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let err = Database::open(&path, "0.1.0").unwrap_err();
        assert!(matches!(err, DbError::NotADatabase { .. }), "got {err:?}");
        assert!(err.to_string().contains("move it aside"));
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }

    #[test]
    fn a_version_4_database_gains_profiles_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..4])
                .to_latest(&mut conn)
                .unwrap();
            assert_eq!(user_version(&conn).unwrap(), 4);
            conn.execute_batch(
                r#"INSERT INTO connections (id, name, kind, config, secret_keys, created_at, updated_at)
                   VALUES ('c1', 'azure-ai', 'azure_ai', '{"endpoint":"https://r.services.ai.azure.com/models"}', '["api_key"]', 1, 1);
                   INSERT INTO runs (id, flow_path, flow_hash, started_at, finished_at, status, inputs, outputs, nodes)
                   VALUES ('run-old1', '/f.weft.yaml', 'h', 1, 2, 'succeeded', '{}', '{}', '{}');"#,
            )
            .unwrap();
        }
        let mut db = Database::open(&path, "0.2.0").unwrap();
        assert_eq!(db.schema_info().unwrap().version, latest_version());
        assert_eq!(db.connection("azure-ai").unwrap().id, "c1");
        assert_eq!(db.run("run-old1").unwrap().unwrap().profile, None);
        assert!(db.profiles().unwrap().is_empty());
        assert_eq!(db.active_profile().unwrap(), None);
        db.create_profile("prod").unwrap();
        let prod = db.effective_connection("azure-ai", Some("prod")).unwrap();
        assert_eq!(prod.profile.as_deref(), Some("prod"));
    }

    #[test]
    fn a_version_5_database_gains_batches_and_keeps_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..5])
                .to_latest(&mut conn)
                .unwrap();
            assert_eq!(user_version(&conn).unwrap(), 5);
            conn.execute_batch(
                r#"INSERT INTO runs (id, flow_path, flow_hash, started_at, finished_at, status, inputs, outputs, nodes, profile)
                   VALUES ('run-old1', '/f.weft.yaml', 'h', 1, 2, 'succeeded', '{}', '{}', '{}', NULL);"#,
            )
            .unwrap();
        }
        let db = Database::open(&path, "0.3.0").unwrap();
        assert_eq!(db.schema_info().unwrap().version, latest_version());
        assert_eq!(db.run("run-old1").unwrap().unwrap().status, "succeeded");
        assert!(db.batches(10).unwrap().is_empty());
        let indexes: Vec<String> = db
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'batch_rows' AND sql IS NOT NULL")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexes, ["batch_rows_by_status"]);
    }

    #[test]
    fn a_version_6_database_gains_evals_and_its_runs_and_batches_read_without_a_cassette() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..6])
                .to_latest(&mut conn)
                .unwrap();
            assert_eq!(user_version(&conn).unwrap(), 6);
            conn.execute_batch(
                r#"INSERT INTO runs (id, flow_path, flow_hash, started_at, finished_at, status, inputs, outputs, nodes, profile)
                   VALUES ('run-old1', '/f.weft.yaml', 'h', 1, 2, 'succeeded', '{}', '{}', '{}', NULL);
                   INSERT INTO batch_runs (id, name, flow_path, flow_hash, flow_text, data_path, data_size, data_modified, mapping,
                       concurrency, node_timeout, engine, profile, status, message, created_at, updated_at, finished_at, total_rows)
                   VALUES ('bat-old1', NULL, '/f.weft.yaml', 'h', '', '/d.jsonl', 1, 1, '{}', 'auto', 1000, 'local', NULL,
                       'succeeded', NULL, 1, 2, 2, 0);"#,
            )
            .unwrap();
        }
        let db = Database::open(&path, "0.4.0").unwrap();
        assert_eq!(db.schema_info().unwrap().version, latest_version());
        assert_eq!(db.run("run-old1").unwrap().unwrap().cassette, None);
        assert_eq!(db.batch("bat-old1").unwrap().unwrap().cassette, None);
        assert!(db.evals(10).unwrap().is_empty());
    }

    #[test]
    fn migrations_are_valid() {
        Migrations::from_slice(MIGRATIONS).validate().unwrap();
    }
}
