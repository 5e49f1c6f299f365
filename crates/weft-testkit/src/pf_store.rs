//! A Prompt flow local store (`pf.sqlite`) written the way Prompt flow writes one, for the tests
//! of Weft's connection import.
//!
//! The table is microsoft/promptflow's src/promptflow-devkit/promptflow/_sdk/_orm/connection.py
//! (`connection`: `connectionName`, `connectionType`, `configs`, `customConfigs`, `createdDate`,
//! `lastModifiedDate`, `expiryTime`); the rows follow …/_sdk/entities/_connection.py's
//! `_to_orm_object`: a strong-typed connection's fields and Fernet-encrypted secrets together in
//! `configs`, a custom one's in `customConfigs` as `{"configValueType", "value"}` pairs.

use std::path::Path;

use serde_json::{Map, Value, json};

/// One connection of the store.
pub struct PfConnection<'a> {
    pub name: &'a str,
    /// Prompt flow's `ConnectionType` value: `AzureOpenAI`, `Custom`…
    pub pf_type: &'a str,
    pub configs: &'a [(&'a str, &'a str)],
    /// Written encrypted with the store's key.
    pub secrets: &'a [(&'a str, &'a str)],
}

/// A new Fernet key, as `Fernet.generate_key()` makes one.
pub fn pf_generate_key() -> String {
    fernet::Fernet::generate_key()
}

/// Writes `connections` to a new `pf.sqlite` at `path`, encrypting secrets with `key`.
pub fn write_pf_store(path: &Path, key: &str, connections: &[PfConnection<'_>]) {
    let fernet = fernet::Fernet::new(key).expect("a Fernet key");
    let db = rusqlite::Connection::open(path).expect("pf.sqlite");
    db.execute_batch(
        "CREATE TABLE connection (
            connectionName TEXT PRIMARY KEY,
            connectionType TEXT NOT NULL,
            configs TEXT NOT NULL,
            customConfigs TEXT NOT NULL,
            createdDate TEXT NOT NULL,
            lastModifiedDate TEXT NOT NULL,
            expiryTime TEXT
        );",
    )
    .expect("the connection table");
    for connection in connections {
        let encrypt = |value: &str| fernet.encrypt(value.as_bytes());
        let (configs, custom) = if connection.pf_type == "Custom" {
            let mut custom = Map::new();
            for (key, value) in connection.configs {
                custom.insert(
                    (*key).into(),
                    json!({"configValueType": "String", "value": value}),
                );
            }
            for (key, value) in connection.secrets {
                custom.insert(
                    (*key).into(),
                    json!({"configValueType": "Secret", "value": encrypt(value)}),
                );
            }
            (Value::Object(Map::new()), Value::Object(custom))
        } else {
            let mut configs = Map::new();
            for (key, value) in connection.configs {
                configs.insert((*key).into(), json!(value));
            }
            for (key, value) in connection.secrets {
                configs.insert((*key).into(), json!(encrypt(value)));
            }
            (Value::Object(configs), Value::Object(Map::new()))
        };
        db.execute(
            "INSERT INTO connection VALUES (?1, ?2, ?3, ?4, ?5, ?5, NULL)",
            (
                connection.name,
                connection.pf_type,
                configs.to_string(),
                custom.to_string(),
                "2026-11-30T09:00:00.000000",
            ),
        )
        .expect("a connection row");
    }
}
