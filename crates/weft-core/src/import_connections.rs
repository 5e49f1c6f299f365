//! Prompt flow connections brought into Weft's store, keys included.
//!
//! Two sources: connection YAML files (read by the CLI's `connection_file`, the reader `weft
//! connection create --file` uses) and Prompt flow's local store, `pf.sqlite` in
//! `$PF_HOME_DIRECTORY` or `~/.promptflow` (microsoft/promptflow,
//! src/promptflow-devkit/promptflow/_sdk/_constants.py: `PF_HOME_DIRECTORY`, `LOCAL_MGMT_DB_PATH`,
//! `CONNECTION_TABLE_NAME = "connection"`, `KEYRING_SYSTEM = "promptflow"`,
//! `KEYRING_ENCRYPTION_KEY_NAME = "encryption_key"`).
//!
//! The store's table (…/_sdk/_orm/connection.py): `connectionName` (primary key),
//! `connectionType`, `configs`, `customConfigs` (JSON text). A strong-typed connection keeps its
//! fields and its secrets together in `configs`, the secrets encrypted; a custom one keeps
//! `customConfigs` as `{key: {"configValueType": "String" | "Secret", "value": …}}`, its secrets
//! encrypted (…/_sdk/entities/_connection.py, `_to_orm_object` / `_from_orm_object_with_secrets`).
//! Encrypted means a Fernet token made with the key in the OS keyring under service `promptflow`,
//! user `encryption_key` (…/_sdk/_utilities/general_utils.py, `encrypt_secret_value` /
//! `decrypt_secret_value`). `connectionType` is the `ConnectionType` enum's value
//! (promptflow/_constants.py: `AzureOpenAI`, `OpenAI`, `Serverless`, `AzureAIServices`,
//! `CognitiveSearch`, `Serp`, `AzureContentSafety`, `Custom`…).
//!
//! A decrypted secret lives only in the [`Candidate`] until it is written to Weft's keychain
//! entries; it is never in an error, a report or a log.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;
use weft_store::Keychain;
use weft_store::connections::{ConnectionKind, FieldInput};

use crate::connections::ConnectionInput;
use crate::{AppCore, AppError};

/// Prompt flow's home folder, when set (else `~/.promptflow`).
pub const PF_HOME_ENV: &str = "PF_HOME_DIRECTORY";
/// The keyring service and user Prompt flow keeps its Fernet key under.
pub const PF_KEYRING_SERVICE: &str = "promptflow";
pub const PF_KEYRING_USER: &str = "encryption_key";

/// Why Prompt flow's local store could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum PfStoreError {
    #[error(
        "Prompt flow's local store {0} does not exist; create connections with `pf connection create`, or set {PF_HOME_ENV} to the folder that holds pf.sqlite"
    )]
    Missing(PathBuf),
    #[error(
        "could not read Prompt flow's local store {path}: {reason}; check that it is a pf.sqlite written by Prompt flow"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "the OS keyring has no Prompt flow encryption key (service `promptflow`, user `encryption_key`), so its connections' secrets cannot be read; run Weft in the session where `pf connection list` works, or import from YAML files with --from-yaml"
    )]
    NoKey,
    #[error(
        "could not read Prompt flow's encryption key from the OS keyring: {0}; unlock the keyring and try again"
    )]
    Keyring(String),
    #[error(
        "Prompt flow's encryption key in the OS keyring is not a Fernet key; it was changed by hand, so re-create the connections with `pf connection create`, or import from YAML files with --from-yaml"
    )]
    BadKey,
}

/// Where Prompt flow keeps its local store: `$PF_HOME_DIRECTORY/pf.sqlite`, else
/// `~/.promptflow/pf.sqlite` (`home`: the user's home folder).
pub fn pf_store_path(pf_home: Option<&str>, home: &Path) -> PathBuf {
    match pf_home.map(str::trim).filter(|dir| !dir.is_empty()) {
        Some(dir) => Path::new(dir).join("pf.sqlite"),
        None => home.join(".promptflow").join("pf.sqlite"),
    }
}

/// Prompt flow's Fernet key, read from `keychain` (a keychain over service `promptflow`).
pub fn pf_encryption_key(keychain: &Keychain) -> Result<PfKey, PfStoreError> {
    match keychain.get(PF_KEYRING_USER) {
        Ok(Some(key)) => PfKey::new(&key),
        Ok(None) => Err(PfStoreError::NoKey),
        Err(err) => Err(PfStoreError::Keyring(err.to_string())),
    }
}

/// Every connection of Prompt flow's local store (found from `pf_home`, else `home`), its secrets
/// decrypted with the key in the OS keyring.
pub fn read_local_store(
    pf_home: Option<&str>,
    home: &Path,
) -> Result<Vec<Candidate>, PfStoreError> {
    let path = pf_store_path(pf_home, home);
    if !path.is_file() {
        return Err(PfStoreError::Missing(path));
    }
    let keychain = Keychain::native(PF_KEYRING_SERVICE);
    let key = pf_encryption_key(&keychain)?;
    read_pf_store(&path, &key)
}

/// Prompt flow's encryption key, ready to decrypt.
pub struct PfKey(fernet::Fernet);

impl PfKey {
    pub fn new(key: &str) -> Result<Self, PfStoreError> {
        fernet::Fernet::new(key.trim())
            .map(Self)
            .ok_or(PfStoreError::BadKey)
    }
}

impl fmt::Debug for PfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PfKey(******)")
    }
}

/// One connection to import: what it is called, where it came from, and the Weft connection it
/// becomes, or why it cannot.
pub struct Candidate {
    pub name: String,
    /// A file's path, or `pf.sqlite`.
    pub source: String,
    /// Prompt flow's type, as the source spells it.
    pub pf_type: String,
    pub input: Result<ConnectionInput, String>,
    /// What was left out on the way (fields Weft has no place for).
    pub notes: Vec<String>,
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("name", &self.name)
            .field("source", &self.source)
            .field("pf_type", &self.pf_type)
            .field("ok", &self.input.is_ok())
            .finish_non_exhaustive()
    }
}

/// What happened to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ImportStatus {
    Imported,
    Replaced,
    Skipped,
}

/// One line of an import's report. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportOutcome {
    pub name: String,
    pub source: String,
    pub pf_type: String,
    /// The Weft type it became (none when its type has no Weft counterpart).
    #[serde(rename = "type")]
    pub kind: Option<ConnectionKind>,
    pub status: ImportStatus,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// A Microsoft Entra ID connection: nothing went to the keychain.
    pub keyless: bool,
    /// Fields left out, and the store's warnings.
    pub notes: Vec<String>,
}

/// The Weft type of a Prompt flow connection type, spelt as in YAML (`azure_open_ai`), as in
/// the local store (`AzureOpenAI`) or as the class a tool's input names (`AzureOpenAIConnection`).
/// `None`: Weft has no such type (Qdrant, Weaviate…).
pub fn weft_kind(pf_type: &str) -> Option<ConnectionKind> {
    let pf_type = pf_type.trim();
    let snake = match pf_type.strip_suffix("Connection").unwrap_or(pf_type) {
        "AzureOpenAI" => "azure_open_ai",
        "OpenAI" => "open_ai",
        "Serverless" => "serverless",
        "AzureAIServices" => "azure_ai_services",
        "CognitiveSearch" => "cognitive_search",
        "Serp" => "serp",
        "AzureContentSafety" => "azure_content_safety",
        "Custom" => "custom",
        other => other,
    };
    snake.parse().ok()
}

/// Whether `value` is one of Prompt flow's scrubbed markers: it reads any all-`*` string as one
/// (…/_sdk/_constants.py, the note on `SCRUBBED_VALUE`).
fn is_scrubbed(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c == '*')
}

/// A raw row of the store's `connection` table.
struct Row {
    name: String,
    pf_type: String,
    configs: String,
    custom_configs: String,
}

/// Reads every connection of Prompt flow's local store at `path`, decrypting their secrets with
/// `key`. A connection that cannot be read is a [`Candidate`] with the reason, not an error.
pub fn read_pf_store(path: &Path, key: &PfKey) -> Result<Vec<Candidate>, PfStoreError> {
    if !path.is_file() {
        return Err(PfStoreError::Missing(path.to_owned()));
    }
    let unreadable = |err: rusqlite::Error| PfStoreError::Unreadable {
        path: path.to_owned(),
        reason: err.to_string(),
    };
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(unreadable)?;
    let mut statement = db
        .prepare(
            "SELECT connectionName, connectionType, configs, customConfigs FROM connection \
             ORDER BY connectionName",
        )
        .map_err(unreadable)?;
    let rows = statement
        .query_map([], |row| {
            Ok(Row {
                name: row.get(0)?,
                pf_type: row.get(1)?,
                configs: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                custom_configs: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    Ok(rows.into_iter().map(|row| candidate(row, key)).collect())
}

fn candidate(row: Row, key: &PfKey) -> Candidate {
    let mut notes = Vec::new();
    let input = convert(&row, key, &mut notes);
    Candidate {
        name: row.name,
        source: "pf.sqlite".into(),
        pf_type: row.pf_type,
        input,
        notes,
    }
}

fn decrypt(key: &PfKey, name: &str, field: &str, token: &str) -> Result<String, String> {
    let plain = key.0.decrypt(token.trim()).map_err(|_| {
        format!(
            "its secret `{field}` does not decrypt with Prompt flow's key in the keyring (the key was changed, or the connection predates encryption); re-create `{name}` with `pf connection create`, or import it from YAML"
        )
    })?;
    String::from_utf8(plain).map_err(|_| format!("its secret `{field}` is not text"))
}

fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn convert(row: &Row, key: &PfKey, notes: &mut Vec<String>) -> Result<ConnectionInput, String> {
    let Some(kind) = weft_kind(&row.pf_type) else {
        return Err(format!(
            "Prompt flow type `{}` has no Weft connection type",
            row.pf_type
        ));
    };
    let mut config = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    if kind == ConnectionKind::Custom {
        let custom: BTreeMap<String, serde_json::Value> = serde_json::from_str(&row.custom_configs)
            .map_err(|_| "its customConfigs are not the JSON Prompt flow writes".to_owned())?;
        for (field, entry) in custom {
            // Custom strong-typed connections record their class here; Weft has no use for it.
            if field.starts_with("promptflow.connection.") {
                notes.push(format!("`{field}` left out"));
                continue;
            }
            let value_type = entry.get("configValueType").and_then(|v| v.as_str());
            let Some(value) = entry.get("value").and_then(text) else {
                continue;
            };
            match value_type {
                Some("Secret") => {
                    secrets.insert(field.clone(), decrypt(key, &row.name, &field, &value)?);
                }
                _ => {
                    config.insert(field, value);
                }
            }
        }
    } else {
        let spec = kind.spec();
        let fields: BTreeMap<String, serde_json::Value> = serde_json::from_str(&row.configs)
            .map_err(|_| "its configs are not the JSON Prompt flow writes".to_owned())?;
        let keyless = fields
            .get("auth_mode")
            .and_then(|v| v.as_str())
            .is_some_and(|mode| mode.eq_ignore_ascii_case("meid_token"));
        for (field, value) in fields {
            let Some(value) = text(&value) else { continue };
            match spec.field(&field) {
                Some(found) if found.input == FieldInput::Secret => {
                    if keyless || value.trim().is_empty() || is_scrubbed(&value) {
                        continue;
                    }
                    secrets.insert(field.clone(), decrypt(key, &row.name, &field, &value)?);
                }
                Some(_) => {
                    if !value.trim().is_empty() {
                        config.insert(field, value);
                    }
                }
                None => notes.push(format!(
                    "`{field}` left out: Weft's {kind} has no such field"
                )),
            }
        }
    }
    Ok(ConnectionInput {
        name: row.name.clone(),
        kind,
        config,
        secrets,
    })
}

/// A connection a flow names, and the Prompt flow type it expects (if known).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NeededConnection {
    pub name: String,
    pub pf_type: Option<String>,
}

/// Whether Weft's store has a connection a flow needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ConnectionPresence {
    /// There, with a type the flow can use.
    Present,
    /// There, but of another type.
    WrongType,
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectionStatus {
    pub name: String,
    pub presence: ConnectionPresence,
    /// The type Weft's connection has, when there is one.
    #[serde(rename = "type")]
    pub kind: Option<ConnectionKind>,
}

impl AppCore {
    /// Which of the connections a flow needs exist in Weft's store, and with a usable type
    /// (names ignore case, as the store's do).
    pub fn connections_status(
        &self,
        needed: &[NeededConnection],
    ) -> Result<Vec<ConnectionStatus>, AppError> {
        let saved = self.list_connections()?;
        Ok(needed
            .iter()
            .map(|need| {
                let found = saved
                    .iter()
                    .find(|view| view.name.eq_ignore_ascii_case(need.name.trim()));
                let presence = match (found, need.pf_type.as_deref().map(weft_kind)) {
                    (None, _) => ConnectionPresence::Missing,
                    (Some(view), Some(Some(wanted))) if view.kind != wanted => {
                        ConnectionPresence::WrongType
                    }
                    (Some(_), _) => ConnectionPresence::Present,
                };
                ConnectionStatus {
                    name: need.name.clone(),
                    presence,
                    kind: found.map(|view| view.kind),
                }
            })
            .collect())
    }

    /// Creates each candidate's connection; one whose name is taken is skipped, or with
    /// `replace` overwritten. One connection failing does not stop the others.
    pub fn import_connections(
        &self,
        candidates: Vec<Candidate>,
        replace: bool,
    ) -> Result<Vec<ImportOutcome>, AppError> {
        let mut outcomes = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            let Candidate {
                name,
                source,
                pf_type,
                input,
                mut notes,
            } = candidate;
            let kind = weft_kind(&pf_type);
            let mut outcome = |status, reason: Option<String>, keyless, notes: Vec<String>| {
                outcomes.push(ImportOutcome {
                    name: name.clone(),
                    source: source.clone(),
                    pf_type: pf_type.clone(),
                    kind,
                    status,
                    reason,
                    keyless,
                    notes,
                });
            };
            let input = match input {
                Ok(input) => input,
                Err(reason) => {
                    outcome(ImportStatus::Skipped, Some(reason), false, notes);
                    continue;
                }
            };
            let keyless = input
                .config
                .get("auth_mode")
                .is_some_and(|mode| mode.eq_ignore_ascii_case("meid_token"));
            let existing = self
                .list_connections()?
                .into_iter()
                .find(|view| view.name.eq_ignore_ascii_case(input.name.trim()));
            let result = match existing {
                Some(_) if !replace => {
                    outcome(
                        ImportStatus::Skipped,
                        Some(
                            "a connection with this name exists in Weft; give --replace to overwrite it"
                                .into(),
                        ),
                        keyless,
                        notes,
                    );
                    continue;
                }
                Some(view) if view.kind == input.kind => self
                    .update_connection(&view.name, input)
                    .map(|saved| (ImportStatus::Replaced, saved))
                    .map_err(|err| err.to_string()),
                // Another type: its fields and secrets are another set, so it goes first.
                Some(view) => match self.delete_connection(&view.name) {
                    Ok(()) => self
                        .create_connection(input)
                        .map(|saved| (ImportStatus::Replaced, saved))
                        .map_err(|err| {
                            format!(
                                "{err}; the {} connection it was to replace is already deleted",
                                view.kind
                            )
                        }),
                    Err(err) => Err(err.to_string()),
                },
                None => self
                    .create_connection(input)
                    .map(|saved| (ImportStatus::Imported, saved))
                    .map_err(|err| err.to_string()),
            };
            match result {
                Ok((status, saved)) => {
                    notes.extend(saved.warnings);
                    outcome(status, None, keyless, notes);
                }
                Err(reason) => outcome(ImportStatus::Skipped, Some(reason), keyless, notes),
            }
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use weft_store::DataDir;
    use weft_testkit::{PfConnection, holds, pf_generate_key, stored_bytes, write_pf_store};

    use super::*;
    use crate::Settings;

    const AOAI_KEY: &str = "aoai-secret-6f1d2c3b4a";
    const OPENAI_KEY: &str = "sk-openai-secret-88e1";
    const SERVERLESS_KEY: &str = "serverless-secret-41aa";
    const SERVICES_KEY: &str = "ai-services-secret-0c0c";
    const SEARCH_KEY: &str = "search-secret-9b9b";
    const SERP_KEY: &str = "serp-secret-7d7d";
    const SAFETY_KEY: &str = "safety-secret-5e5e";
    const CUSTOM_SECRET: &str = "custom-token-3a3a";

    /// A core over an in-memory keychain, and a second handle on that keychain to read it.
    fn core(dir: &tempfile::TempDir) -> (AppCore, Keychain) {
        let settings = Settings {
            data_dir: DataDir::new(dir.path().join("weft")),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        let store = weft_store::keyring_core::mock::Store::new().unwrap();
        let keychain = Keychain::over_test_store(store.clone(), "weft-test");
        let reader = Keychain::over_test_store(store, "weft-test");
        (
            AppCore::open_with_keychain(settings, keychain).unwrap(),
            reader,
        )
    }

    /// A store holding one connection of every type Prompt flow has and Weft maps, and one
    /// (Qdrant) Weft does not.
    fn every_type(path: &Path, key: &str) {
        write_pf_store(
            path,
            key,
            &[
                PfConnection {
                    name: "aoai",
                    pf_type: "AzureOpenAI",
                    configs: &[
                        ("api_base", "https://r.openai.azure.com/"),
                        ("api_type", "azure"),
                        ("api_version", "2024-10-21"),
                        ("auth_mode", "key"),
                        ("resource_id", "/subscriptions/x"),
                    ],
                    secrets: &[("api_key", AOAI_KEY)],
                },
                PfConnection {
                    name: "aoai-entra",
                    pf_type: "AzureOpenAI",
                    configs: &[
                        ("api_base", "https://e.openai.azure.com/"),
                        ("api_type", "azure"),
                        ("api_version", "2024-10-21"),
                        ("auth_mode", "meid_token"),
                    ],
                    secrets: &[],
                },
                PfConnection {
                    name: "openai",
                    pf_type: "OpenAI",
                    configs: &[("organization", "org-1")],
                    secrets: &[("api_key", OPENAI_KEY)],
                },
                PfConnection {
                    name: "serverless",
                    pf_type: "Serverless",
                    configs: &[("api_base", "https://m.eastus2.models.ai.azure.com")],
                    secrets: &[("api_key", SERVERLESS_KEY)],
                },
                PfConnection {
                    name: "foundry",
                    pf_type: "AzureAIServices",
                    configs: &[
                        ("endpoint", "https://f.services.ai.azure.com/models"),
                        ("auth_mode", "key"),
                    ],
                    secrets: &[("api_key", SERVICES_KEY)],
                },
                PfConnection {
                    name: "search",
                    pf_type: "CognitiveSearch",
                    configs: &[
                        ("api_base", "https://s.search.windows.net"),
                        ("api_version", "2024-07-01"),
                    ],
                    secrets: &[("api_key", SEARCH_KEY)],
                },
                PfConnection {
                    name: "serp",
                    pf_type: "Serp",
                    configs: &[],
                    secrets: &[("api_key", SERP_KEY)],
                },
                PfConnection {
                    name: "safety",
                    pf_type: "AzureContentSafety",
                    configs: &[
                        ("endpoint", "https://c.cognitiveservices.azure.com/"),
                        ("api_version", "2023-10-01"),
                    ],
                    secrets: &[("api_key", SAFETY_KEY)],
                },
                PfConnection {
                    name: "custom",
                    pf_type: "Custom",
                    configs: &[("region", "westeurope")],
                    secrets: &[("token", CUSTOM_SECRET)],
                },
                PfConnection {
                    name: "vectors",
                    pf_type: "Qdrant",
                    configs: &[("api_base", "https://q.example.com")],
                    secrets: &[("api_key", "qdrant-secret")],
                },
            ],
        );
    }

    fn outcome<'a>(outcomes: &'a [ImportOutcome], name: &str) -> &'a ImportOutcome {
        outcomes.iter().find(|o| o.name == name).unwrap()
    }

    #[test]
    fn every_type_maps_and_its_secrets_reach_the_keychain_only() {
        let dir = tempfile::tempdir().unwrap();
        let (core, keychain) = core(&dir);
        let key = pf_generate_key();
        let store = dir.path().join("pf.sqlite");
        every_type(&store, &key);

        let candidates = read_pf_store(&store, &PfKey::new(&key).unwrap()).unwrap();
        let outcomes = core.import_connections(candidates, false).unwrap();

        let expected = [
            ("aoai", ConnectionKind::AzureOpenAi),
            ("aoai-entra", ConnectionKind::AzureOpenAi),
            ("openai", ConnectionKind::OpenAi),
            ("serverless", ConnectionKind::Serverless),
            ("foundry", ConnectionKind::AzureAi),
            ("search", ConnectionKind::CognitiveSearch),
            ("serp", ConnectionKind::Serp),
            ("safety", ConnectionKind::AzureContentSafety),
            ("custom", ConnectionKind::Custom),
        ];
        for (name, kind) in expected {
            let found = outcome(&outcomes, name);
            assert_eq!(found.status, ImportStatus::Imported, "{found:?}");
            assert_eq!(found.kind, Some(kind));
            assert_eq!(core.connection(name).unwrap().kind, kind);
        }
        let qdrant = outcome(&outcomes, "vectors");
        assert_eq!(qdrant.status, ImportStatus::Skipped);
        assert!(qdrant.reason.as_deref().unwrap().contains("`Qdrant`"));
        assert!(core.connection("vectors").is_err());

        // The Entra ID connection is keyless; resource_id has no Weft field and is reported.
        assert!(outcome(&outcomes, "aoai-entra").keyless);
        assert!(core.connection("aoai-entra").unwrap().secrets.is_empty());
        assert!(
            outcome(&outcomes, "aoai")
                .notes
                .iter()
                .any(|n| n.contains("resource_id")),
            "{outcomes:?}"
        );

        // Each secret went to the keychain: the stored connection resolves it.
        let view = core.connection("aoai").unwrap();
        assert_eq!(
            keychain
                .get(&format!("{}/api_key", view.id))
                .unwrap()
                .as_deref(),
            Some(AOAI_KEY)
        );
        let custom = core.connection("custom").unwrap();
        assert_eq!(
            custom.config.get("region").map(String::as_str),
            Some("westeurope")
        );
        assert_eq!(custom.secrets.keys().collect::<Vec<_>>(), ["token"]);
        assert_eq!(
            keychain
                .get(&format!("{}/token", custom.id))
                .unwrap()
                .as_deref(),
            Some(CUSTOM_SECRET)
        );

        // No secret is in Weft's files or in the report.
        let stored = stored_bytes(&dir.path().join("weft"));
        let report = serde_json::to_string(&outcomes).unwrap();
        for secret in [
            AOAI_KEY,
            OPENAI_KEY,
            SERVERLESS_KEY,
            SERVICES_KEY,
            SEARCH_KEY,
            SERP_KEY,
            SAFETY_KEY,
            CUSTOM_SECRET,
        ] {
            assert!(!holds(&stored, secret), "{secret} is in Weft's data folder");
            assert!(!report.contains(secret), "{secret} is in the report");
        }
    }

    #[test]
    fn a_name_clash_is_skipped_then_replaced_with_replace() {
        let dir = tempfile::tempdir().unwrap();
        let (core, keychain) = core(&dir);
        let key = pf_generate_key();
        let store = dir.path().join("pf.sqlite");
        every_type(&store, &key);
        let pf_key = PfKey::new(&key).unwrap();
        core.create_connection(ConnectionInput {
            name: "SERP".into(),
            kind: ConnectionKind::Serp,
            config: BTreeMap::new(),
            secrets: [("api_key".to_owned(), "old-serp-key".to_owned())].into(),
        })
        .unwrap();

        let outcomes = core
            .import_connections(read_pf_store(&store, &pf_key).unwrap(), false)
            .unwrap();
        let serp = outcome(&outcomes, "serp");
        assert_eq!(serp.status, ImportStatus::Skipped);
        assert!(serp.reason.as_deref().unwrap().contains("--replace"));
        let id = core.connection("serp").unwrap().id;
        assert_eq!(
            keychain.get(&format!("{id}/api_key")).unwrap().as_deref(),
            Some("old-serp-key")
        );

        core.delete_connection("search").unwrap();
        core.create_connection(ConnectionInput {
            name: "search".into(),
            kind: ConnectionKind::Serp,
            config: BTreeMap::new(),
            secrets: [("api_key".to_owned(), "old-search-key".to_owned())].into(),
        })
        .unwrap();

        let outcomes = core
            .import_connections(read_pf_store(&store, &pf_key).unwrap(), true)
            .unwrap();
        // A clash with another type is replaced by the new type, with its own key.
        assert_eq!(outcome(&outcomes, "search").status, ImportStatus::Replaced);
        let search = core.connection("search").unwrap();
        assert_eq!(search.kind, ConnectionKind::CognitiveSearch);
        assert_eq!(
            keychain
                .get(&format!("{}/api_key", search.id))
                .unwrap()
                .as_deref(),
            Some(SEARCH_KEY)
        );
        assert_eq!(outcome(&outcomes, "serp").status, ImportStatus::Replaced);
        assert_eq!(outcome(&outcomes, "aoai").status, ImportStatus::Replaced);
        let id = core.connection("serp").unwrap().id;
        assert_eq!(
            keychain.get(&format!("{id}/api_key")).unwrap().as_deref(),
            Some(SERP_KEY)
        );
    }

    #[test]
    fn a_store_made_with_another_key_says_so_and_quotes_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("pf.sqlite");
        every_type(&store, &pf_generate_key());
        let candidates = read_pf_store(&store, &PfKey::new(&pf_generate_key()).unwrap()).unwrap();
        let serp = candidates.iter().find(|c| c.name == "serp").unwrap();
        let reason = serp.input.as_ref().err().unwrap();
        assert!(reason.contains("does not decrypt"), "{reason}");
        assert!(reason.contains("pf connection create"), "{reason}");
        assert!(!reason.contains("gAAAA"), "{reason}");

        assert!(matches!(PfKey::new("not a key"), Err(PfStoreError::BadKey)));
        let missing = read_pf_store(
            &dir.path().join("nope.sqlite"),
            &PfKey::new(&pf_generate_key()).unwrap(),
        );
        assert!(missing.unwrap_err().to_string().contains(PF_HOME_ENV));
    }

    #[test]
    fn the_store_is_found_in_pf_home_else_in_the_home_folder() {
        let home = Path::new("/home/u");
        assert_eq!(
            pf_store_path(None, home),
            home.join(".promptflow/pf.sqlite")
        );
        assert_eq!(
            pf_store_path(Some(" "), home),
            home.join(".promptflow/pf.sqlite")
        );
        assert_eq!(pf_store_path(Some("/pf"), home), Path::new("/pf/pf.sqlite"));
    }

    #[test]
    fn the_status_of_what_a_flow_needs() {
        let dir = tempfile::tempdir().unwrap();
        let (core, _) = core(&dir);
        core.create_connection(ConnectionInput {
            name: "Search".into(),
            kind: ConnectionKind::Serp,
            config: BTreeMap::new(),
            secrets: [("api_key".to_owned(), "k".to_owned())].into(),
        })
        .unwrap();
        let need = |name: &str, pf_type: Option<&str>| NeededConnection {
            name: name.into(),
            pf_type: pf_type.map(str::to_owned),
        };
        let status = core
            .connections_status(&[
                need("search", Some("serp")),
                need("search", Some("CognitiveSearch")),
                need("search", None),
                need("aoai", Some("azure_open_ai")),
                need("SEARCH", Some("SerpConnection")),
                need("search", Some("CustomConnection")),
            ])
            .unwrap();
        let presence: Vec<_> = status.iter().map(|s| s.presence).collect();
        assert_eq!(
            presence,
            [
                ConnectionPresence::Present,
                ConnectionPresence::WrongType,
                ConnectionPresence::Present,
                ConnectionPresence::Missing,
                ConnectionPresence::Present,
                ConnectionPresence::WrongType,
            ]
        );
        assert_eq!(status[0].kind, Some(ConnectionKind::Serp));
        assert_eq!(status[3].kind, None);
    }
}
