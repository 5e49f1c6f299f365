use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use weft_store::Secret;
use weft_store::connections::{
    ConnectionKind, ConnectionRecord, Connections, Draft, KindSpec, Saved, SecretInput,
};

use crate::{AppCore, AppError};

/// A connection as the form (or a CLI file) submits it. A secret given as `""` or `******` keeps
/// the stored value, so an edit form never needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionInput {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConnectionKind,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

impl ConnectionInput {
    fn into_draft(self) -> Draft {
        Draft {
            name: self.name,
            kind: self.kind,
            config: self.config,
            secrets: self
                .secrets
                .into_iter()
                .map(|(key, raw)| (key, SecretInput::from_raw(&raw)))
                .collect(),
        }
    }
}

/// A connection as the UI and `weft connection show --json` see it. Secret values never appear:
/// each secret key maps to `******`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectionView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConnectionKind,
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl From<ConnectionRecord> for ConnectionView {
    fn from(record: ConnectionRecord) -> Self {
        Self {
            id: record.id,
            name: record.name,
            kind: record.kind,
            config: record.config,
            secrets: record
                .secret_keys
                .into_iter()
                .map(|key| (key, Secret::MASK.to_owned()))
                .collect(),
            created_at: rfc3339(record.created_at_ms),
            updated_at: rfc3339(record.updated_at_ms),
        }
    }
}

/// What a create or update returns: the saved connection and anything the user should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SavedConnection {
    pub connection: ConnectionView,
    pub warnings: Vec<String>,
}

impl From<Saved> for SavedConnection {
    fn from(saved: Saved) -> Self {
        Self {
            connection: saved.record.into(),
            warnings: saved.warnings,
        }
    }
}

fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

impl AppCore {
    /// The connection types and their fields, for forms.
    pub fn connection_kinds(&self) -> &'static [KindSpec] {
        weft_store::connections::kind_specs()
    }

    pub fn list_connections(&self) -> Result<Vec<ConnectionView>, AppError> {
        let records = self.db()?.connections()?;
        Ok(records.into_iter().map(ConnectionView::from).collect())
    }

    pub fn connection(&self, name: &str) -> Result<ConnectionView, AppError> {
        Ok(self.db()?.connection(name)?.into())
    }

    pub fn create_connection(&self, input: ConnectionInput) -> Result<SavedConnection, AppError> {
        let keychain = self.keychain()?;
        let mut db = self.db()?;
        let saved = Connections::new(&mut db, &keychain).create(input.into_draft())?;
        tracing::info!(name = %saved.record.name, kind = %saved.record.kind, "created connection");
        Ok(saved.into())
    }

    pub fn update_connection(
        &self,
        name: &str,
        input: ConnectionInput,
    ) -> Result<SavedConnection, AppError> {
        let keychain = self.keychain()?;
        let mut db = self.db()?;
        let saved = Connections::new(&mut db, &keychain).update(name, input.into_draft())?;
        tracing::info!(name = %saved.record.name, "updated connection");
        Ok(saved.into())
    }

    pub fn delete_connection(&self, name: &str) -> Result<(), AppError> {
        let keychain = self.keychain()?;
        let mut db = self.db()?;
        let deleted = Connections::new(&mut db, &keychain).delete(name)?;
        tracing::info!(name = %deleted.name, "deleted connection");
        Ok(())
    }

    /// Removes keychain entries a crash left behind. Only touches the keychain when SQLite
    /// records a write in flight, so a normal start never waits on it.
    pub(crate) fn clean_up_orphaned_secrets(&self) -> Result<usize, AppError> {
        let mut db = self.db()?;
        if !db.has_secret_intents()? {
            return Ok(0);
        }
        let keychain = self.keychain()?;
        Ok(Connections::new(&mut db, &keychain).clean_up_orphans()?)
    }
}

#[cfg(test)]
mod tests {
    use weft_store::{DataDir, Keychain};

    use super::*;
    use crate::{ErrorKind, IpcError, Settings};

    const SECRET: &str = "sk-core-test-51c0ffee";

    fn core(dir: &tempfile::TempDir) -> AppCore {
        let settings = Settings {
            data_dir: DataDir::new(dir.path()),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap()).unwrap()
    }

    fn input(name: &str, endpoint: &str, key: &str) -> ConnectionInput {
        ConnectionInput {
            name: name.into(),
            kind: ConnectionKind::AzureAi,
            config: BTreeMap::from([("endpoint".into(), endpoint.into())]),
            secrets: BTreeMap::from([("api_key".into(), key.into())]),
        }
    }

    #[test]
    fn no_response_carries_a_secret_value() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        let endpoint = "https://r.services.ai.azure.com/models";
        let mut responses = vec![
            serde_json::to_string(
                &core
                    .create_connection(input("azure-ai", endpoint, SECRET))
                    .unwrap(),
            )
            .unwrap(),
            serde_json::to_string(&core.list_connections().unwrap()).unwrap(),
            serde_json::to_string(&core.connection("azure-ai").unwrap()).unwrap(),
            serde_json::to_string(
                &core
                    .update_connection("azure-ai", input("azure-ai", endpoint, "******"))
                    .unwrap(),
            )
            .unwrap(),
        ];
        let conflict = core
            .create_connection(input("AZURE-AI", endpoint, SECRET))
            .unwrap_err();
        responses.push(serde_json::to_string(&IpcError::from(conflict)).unwrap());
        for response in &responses {
            assert!(!response.contains(SECRET), "secret leaked in {response}");
        }
        let view = core.connection("azure-ai").unwrap();
        assert_eq!(view.secrets["api_key"], "******");
        assert_eq!(view.config["api_version"], "2024-05-01-preview");
    }

    #[test]
    fn invalid_input_reports_each_field() {
        let dir = tempfile::tempdir().unwrap();
        let err = core(&dir)
            .create_connection(input(
                "x",
                "https://r.openai.azure.com/openai/deployments/d",
                "",
            ))
            .unwrap_err();
        let ipc = IpcError::from(err);
        assert_eq!(ipc.kind, ErrorKind::InvalidInput);
        let fields: Vec<_> = ipc
            .problems
            .iter()
            .filter_map(|p| p.field.as_deref())
            .collect();
        assert_eq!(fields, ["api_key", "endpoint"]);
    }

    #[test]
    fn input_reads_the_prompt_flow_type_field() {
        let parsed: ConnectionInput = serde_json::from_value(serde_json::json!({
            "name": "s", "type": "serp", "secrets": { "api_key": "k" }
        }))
        .unwrap();
        assert_eq!(parsed.kind, ConnectionKind::Serp);
        assert!(parsed.config.is_empty());
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20Z");
    }
}
