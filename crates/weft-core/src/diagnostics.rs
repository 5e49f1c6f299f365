use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;
use ts_rs::TS;
use weft_ai::{ENTRA_DEFAULT_SCOPE, EntraSignIn, InferenceError};
use weft_store::ProbeReport;
use weft_store::connections::{AuthMode, ConnectionRecord};

use crate::{AppCore, AppError, VERSION};

/// What the Diagnostics view and `weft doctor` show.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Diagnostics {
    pub app_version: String,
    pub data_dir: String,
    pub database: DatabaseReport,
    pub keychain: KeychainReport,
    /// One entry per token scope the Microsoft Entra ID connections use; empty when none does.
    pub entra: Vec<EntraReport>,
}

/// Which Microsoft Entra ID sign-in gives the tokens of some connections. Holds no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EntraReport {
    /// The scope the tokens are asked for.
    pub scope: String,
    /// The connections that use it, by name.
    pub connections: Vec<String>,
    pub sign_in: SignInOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "status", rename_all = "camelCase")]
#[ts(export)]
pub enum SignInOutcome {
    Ok {
        /// `Azure CLI` or `Azure Developer CLI`: the one that answered.
        credential: String,
        /// The tenant the token was issued in, when the token says.
        tenant: Option<String>,
        /// When the token expires, RFC 3339 UTC (Weft asks for a new one 5 minutes before).
        #[serde(rename = "expiresAt")]
        expires_at: String,
    },
    /// Saying what to run, such as `az login`.
    Failed { message: String },
}

impl SignInOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok { .. })
    }
}

impl From<Result<EntraSignIn, InferenceError>> for SignInOutcome {
    fn from(result: Result<EntraSignIn, InferenceError>) -> Self {
        match result {
            Ok(sign_in) => Self::Ok {
                credential: sign_in.credential.to_owned(),
                tenant: sign_in.tenant,
                expires_at: rfc3339_unix(sign_in.expires_at_unix),
            },
            Err(err) => Self::Failed {
                message: err.to_string(),
            },
        }
    }
}

fn rfc3339_unix(secs: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The names of the Entra ID connections by the scope their tokens are for (the default scope
/// when they name none).
fn entra_scopes(records: &[ConnectionRecord]) -> BTreeMap<String, Vec<String>> {
    let mut scopes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in records {
        if record.auth_mode() == AuthMode::MeidToken {
            let scope = record
                .setting("token_scope")
                .unwrap_or(ENTRA_DEFAULT_SCOPE)
                .to_owned();
            scopes.entry(scope).or_default().push(record.name.clone());
        }
    }
    scopes
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DatabaseReport {
    pub path: String,
    pub schema_version: u32,
    pub latest_schema_version: u32,
    pub journal_mode: String,
    pub busy_timeout_ms: u32,
    pub owner_only: bool,
    pub created_with: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KeychainReport {
    pub backend: String,
    pub service: String,
    pub probe: ProbeOutcome,
}

/// The result of writing, reading back and deleting a throwaway secret.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "status", rename_all = "camelCase")]
#[ts(export)]
pub enum ProbeOutcome {
    Ok { millis: f64 },
    Failed { millis: f64, message: String },
}

impl ProbeOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok { .. })
    }
}

impl From<ProbeReport> for ProbeOutcome {
    fn from(report: ProbeReport) -> Self {
        let millis = report.elapsed.as_secs_f64() * 1000.0;
        match report.result {
            Ok(()) => Self::Ok { millis },
            Err(err) => Self::Failed {
                millis,
                message: err.to_string(),
            },
        }
    }
}

impl AppCore {
    /// Reports on the data folder and database, probes the keychain with a real round-trip,
    /// and, when a connection uses Microsoft Entra ID, asks for a token for each scope in use.
    /// A keychain or sign-in failure is part of the report, not an error: Diagnostics is where
    /// users go to find out why they do not work.
    pub async fn diagnostics(self: &Arc<Self>) -> Result<Diagnostics, AppError> {
        // SQLite and the keychain block (the keychain maybe on an unlock prompt).
        let core = Arc::clone(self);
        let (mut report, scopes) = tokio::task::spawn_blocking(move || {
            let report = core.local_diagnostics()?;
            let records = core.db()?.connections()?;
            Ok::<_, AppError>((report, entra_scopes(&records)))
        })
        .await
        .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))??;
        for (scope, connections) in scopes {
            let sign_in = self.ai().entra_sign_in(Some(&scope)).await.into();
            report.entra.push(EntraReport {
                scope,
                connections,
                sign_in,
            });
        }
        Ok(report)
    }

    fn local_diagnostics(&self) -> Result<Diagnostics, AppError> {
        let database = {
            let db = self.db()?;
            let info = db.schema_info()?;
            let owner_only = db.is_owner_only().map_err(|source| AppError::Io {
                what: format!("read the permissions of {}", db.path().display()),
                source,
            })?;
            DatabaseReport {
                path: db.path().display().to_string(),
                schema_version: info.version,
                latest_schema_version: info.latest,
                journal_mode: info.journal_mode,
                busy_timeout_ms: info.busy_timeout_ms,
                owner_only,
                created_with: info.created_with,
            }
        };
        let service = self.settings().keyring_service.clone();
        let keychain = self.keychain();
        let keychain = KeychainReport {
            backend: keychain.backend().to_string(),
            service,
            probe: keychain.probe().into(),
        };
        Ok(Diagnostics {
            app_version: VERSION.to_owned(),
            data_dir: self.settings().data_dir.root().display().to_string(),
            database,
            keychain,
            entra: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use weft_store::{Backend, DataDir, Keychain, KeychainError};

    use super::*;
    use crate::Settings;

    fn core_in(dir: &tempfile::TempDir) -> Arc<AppCore> {
        let settings = Settings {
            data_dir: DataDir::new(dir.path().join("home")),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        Arc::new(
            AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap())
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn reports_a_fresh_store_and_a_working_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let report = core_in(&dir).diagnostics().await.unwrap();
        assert_eq!(report.app_version, VERSION);
        assert_eq!(
            report.data_dir,
            dir.path().join("home").display().to_string()
        );
        assert_eq!(
            report.database.schema_version,
            report.database.latest_schema_version
        );
        assert_eq!(report.database.journal_mode, "wal");
        assert!(report.database.owner_only || cfg!(not(unix)));
        assert_eq!(report.keychain.service, "weft-test");
        assert!(report.keychain.probe.is_ok(), "{:?}", report.keychain.probe);
        assert!(report.entra.is_empty(), "no connection uses Entra ID");
    }

    #[tokio::test]
    async fn a_database_file_gone_from_disk_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let core = core_in(&dir);
        let path = core.db().unwrap().path().to_owned();
        // The open connection keeps working; the file's permissions can no longer be read.
        std::fs::remove_file(&path).unwrap();
        let err = core.diagnostics().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Io, "{err}");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "could not read the permissions of {}",
                path.display()
            )),
            "{message}"
        );
    }

    #[tokio::test]
    async fn serialises_for_the_ui_in_camel_case_with_a_tagged_probe() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::to_value(core_in(&dir).diagnostics().await.unwrap()).unwrap();
        assert_eq!(
            json["database"]["schemaVersion"],
            json["database"]["latestSchemaVersion"]
        );
        assert_eq!(json["keychain"]["probe"]["status"], "ok");
        assert!(json["keychain"]["probe"]["millis"].is_number());
    }

    #[test]
    fn entra_connections_are_grouped_by_the_scope_they_ask_for() {
        let record = |name: &str, config: &[(&str, &str)]| ConnectionRecord {
            id: name.into(),
            name: name.into(),
            kind: weft_store::connections::ConnectionKind::AzureAi,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secret_keys: Default::default(),
            created_at_ms: 0,
            updated_at_ms: 0,
        };
        let records = [
            record("keyed", &[]),
            record("a", &[("auth_mode", "meid_token")]),
            record(
                "b",
                &[
                    ("auth_mode", "meid_token"),
                    ("token_scope", "api://gw/.default"),
                ],
            ),
            record("c", &[("auth_mode", "meid_token")]),
            // A scope left from before a switch to keys does not count.
            record(
                "d",
                &[("auth_mode", "key"), ("token_scope", "api://old/.default")],
            ),
        ];
        let scopes = entra_scopes(&records);
        assert_eq!(
            scopes,
            BTreeMap::from([
                ("api://gw/.default".to_owned(), vec!["b".to_owned()]),
                (
                    ENTRA_DEFAULT_SCOPE.to_owned(),
                    vec!["a".to_owned(), "c".to_owned()]
                ),
            ])
        );
    }

    #[test]
    fn a_sign_in_is_shown_with_its_expiry_and_a_failure_with_its_fix() {
        let ok = SignInOutcome::from(Ok(EntraSignIn {
            credential: "Azure CLI",
            tenant: Some("t-1".into()),
            expires_at_unix: 1_800_000_000,
        }));
        let json = serde_json::to_value(&ok).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "status": "ok",
                "credential": "Azure CLI",
                "tenant": "t-1",
                "expiresAt": "2027-01-15T08:00:00Z",
            })
        );
        let failed = SignInOutcome::from(Err(InferenceError::SignIn(
            weft_ai::SignInError::NotSignedIn {
                cli: weft_ai::SignInCli::AzureCli,
                tenant: None,
                code: None,
            },
        )));
        match failed {
            SignInOutcome::Failed { message } => {
                assert!(message.contains("az login"), "{message}")
            }
            SignInOutcome::Ok { .. } => panic!("expected a failure"),
        }
    }

    #[test]
    fn an_unreachable_keychain_is_reported_with_its_fix() {
        let err = KeychainError::Unavailable {
            backend: Backend::SecretService,
            reason: "no session bus".into(),
        };
        // The store is connected by the probe's first write, which fails so.
        let probe = ProbeOutcome::from(ProbeReport {
            elapsed: Duration::from_millis(2),
            result: Err(err),
        });
        match probe {
            ProbeOutcome::Failed { message, .. } => {
                assert!(message.contains("no session bus"), "{message}");
                assert!(message.contains("GNOME Keyring"), "{message}");
            }
            ProbeOutcome::Ok { .. } => panic!("expected a failure"),
        }
    }
}
