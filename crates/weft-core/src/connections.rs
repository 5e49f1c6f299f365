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

pub(crate) fn rfc3339(ms: i64) -> String {
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
        let keychain = self.keychain();
        let saved = Connections::new(self.database(), &keychain).create(input.into_draft())?;
        tracing::info!(name = %saved.record.name, kind = %saved.record.kind, "created connection");
        Ok(saved.into())
    }

    pub fn update_connection(
        &self,
        name: &str,
        input: ConnectionInput,
    ) -> Result<SavedConnection, AppError> {
        let keychain = self.keychain();
        let saved =
            Connections::new(self.database(), &keychain).update(name, input.into_draft())?;
        tracing::info!(name = %saved.record.name, "updated connection");
        Ok(saved.into())
    }

    pub fn delete_connection(&self, name: &str) -> Result<(), AppError> {
        let keychain = self.keychain();
        let deleted = Connections::new(self.database(), &keychain).delete(name)?;
        tracing::info!(name = %deleted.name, "deleted connection");
        Ok(())
    }

    /// Removes keychain entries a crash left behind. Only touches the keychain when SQLite
    /// records a stale write (its process gone, or older than the grace period), so a normal
    /// start, or one beside another Weft process in the middle of a save, never waits on it.
    pub(crate) fn clean_up_orphaned_secrets(&self) -> Result<usize, AppError> {
        if !self.db()?.has_stale_secret_intents()? {
            return Ok(0);
        }
        let keychain = self.keychain();
        Ok(Connections::new(self.database(), &keychain).clean_up_orphans()?)
    }
}

#[cfg(test)]
mod tests {
    use std::any::Any;
    use std::sync::{Arc, Mutex, mpsc};

    use weft_store::keyring_core::api::{CredentialApi, CredentialStoreApi};
    use weft_store::keyring_core::{self, Credential, CredentialStore, Entry};
    use weft_store::{DataDir, Keychain};

    use super::*;
    use crate::{ErrorKind, IpcError, Settings};

    const SECRET: &str = "sk-core-test-51c0ffee";
    const ENDPOINT: &str = "https://r.services.ai.azure.com/models";

    fn settings(dir: &tempfile::TempDir) -> Settings {
        Settings {
            data_dir: DataDir::new(dir.path()),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        }
    }

    fn core(dir: &tempfile::TempDir) -> AppCore {
        AppCore::open_with_keychain(settings(dir), Keychain::in_memory("weft-test").unwrap())
            .unwrap()
    }

    /// The keychain calls a [`Prompt`] can hold up.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Call {
        Get,
        Set,
        Delete,
    }

    /// Stands in for an unlock prompt. Once armed, the next keychain call of one kind does its
    /// work and then waits until the test lets it go, or 5 s at most, so that code which still
    /// waits on it makes the test fail rather than hang.
    #[derive(Default)]
    struct Prompt {
        armed: Mutex<Option<Armed>>,
    }

    struct Armed {
        call: Call,
        reached: mpsc::Sender<()>,
        release: mpsc::Receiver<()>,
        outcome: mpsc::Sender<bool>,
    }

    /// The test's side of an armed prompt.
    struct Held {
        /// Receives once the keychain call is waiting.
        reached: mpsc::Receiver<()>,
        release: mpsc::Sender<()>,
        /// Whether the test let the call go (true) or it gave up waiting (false).
        outcome: mpsc::Receiver<bool>,
    }

    impl Held {
        fn wait_until_reached(&self) {
            // Only a guard against a hang if the call never comes; the order is the channel's.
            self.reached
                .recv_timeout(Duration::from_secs(30))
                .expect("the keychain call never came");
        }
    }

    impl Prompt {
        fn arm(&self, call: Call) -> Held {
            let (reached, reached_rx) = mpsc::channel();
            let (release_tx, release) = mpsc::channel();
            let (outcome, outcome_rx) = mpsc::channel();
            *self.armed.lock().unwrap() = Some(Armed {
                call,
                reached,
                release,
                outcome,
            });
            Held {
                reached: reached_rx,
                release: release_tx,
                outcome: outcome_rx,
            }
        }

        fn hold(&self, call: Call) {
            let armed = {
                let mut slot = self.armed.lock().unwrap();
                match slot.as_ref() {
                    Some(armed) if armed.call == call => slot.take(),
                    _ => None,
                }
            };
            if let Some(armed) = armed {
                armed.reached.send(()).unwrap();
                let released = armed.release.recv_timeout(Duration::from_secs(5)).is_ok();
                armed.outcome.send(released).unwrap();
            }
        }
    }

    /// keyring's mock store, with each call passing through a [`Prompt`].
    struct PromptStore {
        inner: Arc<CredentialStore>,
        prompt: Arc<Prompt>,
    }

    impl CredentialStoreApi for PromptStore {
        fn vendor(&self) -> String {
            "Weft test store that can wait like an unlock prompt".into()
        }

        fn id(&self) -> String {
            "prompt".into()
        }

        fn build(
            &self,
            service: &str,
            user: &str,
            modifiers: Option<&std::collections::HashMap<&str, &str>>,
        ) -> keyring_core::Result<Entry> {
            let inner = self.inner.build(service, user, modifiers)?;
            Ok(Entry::new_with_credential(Arc::new(PromptCred {
                inner,
                prompt: Arc::clone(&self.prompt),
            })))
        }

        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    struct PromptCred {
        inner: Entry,
        prompt: Arc<Prompt>,
    }

    impl CredentialApi for PromptCred {
        fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
            let result = self.inner.set_secret(secret);
            self.prompt.hold(Call::Set);
            result
        }

        fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
            let result = self.inner.get_secret();
            self.prompt.hold(Call::Get);
            result
        }

        fn delete_credential(&self) -> keyring_core::Result<()> {
            let result = self.inner.delete_credential();
            self.prompt.hold(Call::Delete);
            result
        }

        fn get_credential(&self) -> keyring_core::Result<Option<Arc<Credential>>> {
            Ok(None)
        }

        fn get_specifiers(&self) -> Option<(String, String)> {
            self.inner.get_specifiers()
        }

        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    /// A core whose keychain is `store` seen through a prompt.
    fn prompted(dir: &tempfile::TempDir, store: Arc<CredentialStore>) -> (AppCore, Arc<Prompt>) {
        let prompt = Arc::new(Prompt::default());
        let keychain = Keychain::over_test_store(
            Arc::new(PromptStore {
                inner: store,
                prompt: Arc::clone(&prompt),
            }),
            "weft-test",
        );
        let core = AppCore::open_with_keychain(settings(dir), keychain).unwrap();
        (core, prompt)
    }

    fn mock_store() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().unwrap()
    }

    #[test]
    fn the_ui_lists_connections_while_the_keychain_waits_on_a_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let (core, prompt) = prompted(&dir, mock_store());
        core.create_connection(input("azure-ai", ENDPOINT, SECRET))
            .unwrap();
        let flow = weft_flow::FlowDocument::parse(
            "schema: 1\nnodes:\n  - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: azure-ai, deployment: d, user_prompt: hi } }\n",
        )
        .unwrap();
        type Op = fn(&AppCore) -> Result<(), AppError>;
        let cases: [(&str, Call, Op); 4] = [
            ("resolve", Call::Get, |core| {
                core.resolve_connection("azure-ai").map(drop)
            }),
            ("create", Call::Set, |core| {
                core.create_connection(input("other", ENDPOINT, "sk-other"))
                    .map(drop)
            }),
            ("update", Call::Set, |core| {
                core.update_connection("azure-ai", input("azure-ai", ENDPOINT, "sk-rotated"))
                    .map(drop)
            }),
            ("delete", Call::Delete, |core| {
                core.delete_connection("other")
            }),
        ];
        for (what, call, op) in cases {
            let held = prompt.arm(call);
            std::thread::scope(|scope| {
                let waiting = scope.spawn(|| op(&core));
                held.wait_until_reached();
                // The keychain call is waiting now; the UI's reads must not wait with it.
                assert!(!core.list_connections().unwrap().is_empty(), "{what}");
                core.validate_flow(&flow).unwrap();
                // Fails when the call gave up waiting (and dropped its end) before the reads above
                // answered: they waited for the keychain.
                assert!(
                    held.release.send(()).is_ok(),
                    "{what}: listing connections waited until the keychain call gave up"
                );
                waiting.join().unwrap().unwrap();
            });
            assert!(
                held.outcome.recv().unwrap(),
                "{what}: listing connections waited until the keychain call gave up"
            );
        }
        assert_eq!(
            core.resolve_connection("azure-ai")
                .unwrap()
                .as_model()
                .unwrap()
                .credential
                .key()
                .unwrap()
                .expose(),
            "sk-rotated"
        );
    }

    #[test]
    fn a_create_survives_another_process_starting_before_it_commits() {
        let dir = tempfile::tempdir().unwrap();
        let shared = mock_store();
        let (a, prompt) = prompted(&dir, Arc::clone(&shared));
        let held = prompt.arm(Call::Set);
        let b = std::thread::scope(|scope| {
            let create = scope.spawn(|| a.create_connection(input("azure-ai", ENDPOINT, SECRET)));
            // A has recorded its intent and written the secret, and has not committed the row.
            held.wait_until_reached();
            // Process B starts on the same data folder and keychain; opening cleans up.
            let b = AppCore::open_with_keychain(
                settings(&dir),
                Keychain::over_test_store(Arc::clone(&shared), "weft-test"),
            )
            .unwrap();
            held.release.send(()).unwrap();
            create.join().unwrap().unwrap();
            b
        });
        for core in [&a, &b] {
            assert_eq!(
                core.resolve_connection("azure-ai")
                    .unwrap()
                    .as_model()
                    .unwrap()
                    .credential
                    .key()
                    .unwrap()
                    .expose(),
                SECRET
            );
        }
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
        assert_eq!(view.config["api"], "v1");
        assert_eq!(view.config["auth_mode"], "key");
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
