//! A database and an in-memory keychain in a temporary folder, for the store's tests.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use rusqlite::params;

use super::{ConnectionRecord, Connections, Effective, OverrideDraft, account};
use crate::connections::draft::{Draft, SecretInput};
use crate::connections::kind::ConnectionKind;
use crate::{Database, Keychain};

pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: Mutex<Database>,
    pub(crate) keychain: Keychain,
    /// The keychain's in-memory store, to list every entry it holds.
    pub(crate) store: std::sync::Arc<keyring_core::mock::Store>,
}

pub(crate) fn fixture() -> Fixture {
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
pub(crate) const DEAD_PID: i64 = 1 << 40;

impl Fixture {
    pub(crate) fn connections(&self) -> Connections<'_> {
        Connections::new(&self.db, &self.keychain)
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Database> {
        self.db.lock().unwrap()
    }

    pub(crate) fn intents(&self) -> i64 {
        self.db()
            .conn()
            .query_row("SELECT count(*) FROM secret_intents", [], |row| row.get(0))
            .unwrap()
    }

    pub(crate) fn intent_accounts(&self) -> Vec<String> {
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
    pub(crate) fn add_intent(&self, id: &str, key: &str, created_at_ms: i64, pid: i64) {
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
    pub(crate) fn keychain_accounts(&self) -> Vec<String> {
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
    pub(crate) fn fail_inserts(&self) {
        self.db()
            .conn()
            .execute_batch(
                "CREATE TEMP TRIGGER no_inserts BEFORE INSERT ON connections BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
            )
            .unwrap();
    }

    /// Every byte Weft wrote to disk: the database and its WAL.
    pub(crate) fn disk_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        bytes
    }
}

pub(crate) fn foundry(name: &str, key: &str) -> Draft {
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
pub(crate) fn foundry_with(name: &str, config: &[(&str, &str)], key: &str) -> Draft {
    let mut draft = foundry(name, key);
    draft
        .config
        .extend(config.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    draft
}

pub(crate) fn custom(name: &str, secrets: &[(&str, &str)]) -> Draft {
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

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

// Environment profiles: a dev connection and a prod profile that points it elsewhere.

pub(crate) const DEV_KEY: &str = "sk-dev-3a9c41";
pub(crate) const PROD_KEY: &str = "sk-prod-77e0b2";
pub(crate) const DEV: &str = "https://dev.services.ai.azure.com/models";
pub(crate) const PROD: &str = "https://prod.services.ai.azure.com/models";

impl Fixture {
    /// A dev connection `azure-ai` and a `prod` profile that points it at prod.
    pub(crate) fn dev_and_prod(&self) -> ConnectionRecord {
        let base = self
            .connections()
            .create(foundry_at("azure-ai", DEV, DEV_KEY))
            .unwrap()
            .record;
        self.db().create_profile("prod").unwrap();
        self.connections()
            .set_override("azure-ai", "prod", prod_override(PROD_KEY))
            .unwrap();
        base
    }

    pub(crate) fn effective(&self, profile: Option<&str>) -> Effective {
        self.db().effective_connection("azure-ai", profile).unwrap()
    }

    pub(crate) fn key(&self, profile: Option<&str>) -> String {
        let effective = self.effective(profile);
        self.connections()
            .effective_secret(&effective, "api_key")
            .unwrap()
            .expose()
            .to_owned()
    }
}

/// An azure_ai draft with this endpoint.
pub(crate) fn foundry_at(name: &str, endpoint: &str, key: &str) -> Draft {
    foundry_with(name, &[("endpoint", endpoint)], key)
}

pub(crate) fn prod_override(key: &str) -> OverrideDraft {
    OverrideDraft {
        config: BTreeMap::from([("endpoint".into(), format!("{PROD}/"))]),
        secrets: BTreeMap::from([("api_key".into(), SecretInput::from_raw(key))]),
    }
}

pub(crate) fn prod_account(base: &ConnectionRecord) -> String {
    format!("{}@prod/api_key", base.id)
}
