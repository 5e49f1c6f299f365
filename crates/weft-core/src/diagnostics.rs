use serde::Serialize;
use ts_rs::TS;
use weft_store::{Backend, KeychainError, ProbeReport};

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
    /// Reports on the data folder and database, and probes the keychain with a real round-trip.
    /// A keychain failure is part of the report, not an error: Diagnostics is where users go to
    /// find out why the keychain does not work.
    pub fn diagnostics(&self) -> Result<Diagnostics, AppError> {
        let database = {
            let db = self.db()?;
            let info = db.schema_info()?;
            let owner_only = db.is_owner_only().map_err(|err| {
                AppError::Internal(format!(
                    "could not read the permissions of {}: {err}",
                    db.path().display()
                ))
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
        let keychain = match self.keychain() {
            Ok(keychain) => KeychainReport {
                backend: keychain.backend().to_string(),
                service,
                probe: keychain.probe().into(),
            },
            Err(err) => unreachable_keychain(service, err),
        };
        Ok(Diagnostics {
            app_version: VERSION.to_owned(),
            data_dir: self.settings().data_dir.root().display().to_string(),
            database,
            keychain,
        })
    }
}

fn unreachable_keychain(service: String, err: KeychainError) -> KeychainReport {
    KeychainReport {
        backend: Backend::NATIVE.to_string(),
        service,
        probe: ProbeOutcome::Failed {
            millis: 0.0,
            message: err.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use weft_store::{DataDir, Keychain};

    use super::*;
    use crate::Settings;

    fn core_in(dir: &tempfile::TempDir) -> AppCore {
        let settings = Settings {
            data_dir: DataDir::new(dir.path().join("home")),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap()).unwrap()
    }

    #[test]
    fn reports_a_fresh_store_and_a_working_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let report = core_in(&dir).diagnostics().unwrap();
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
    }

    #[test]
    fn serialises_for_the_ui_in_camel_case_with_a_tagged_probe() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::to_value(core_in(&dir).diagnostics().unwrap()).unwrap();
        assert_eq!(
            json["database"]["schemaVersion"],
            json["database"]["latestSchemaVersion"]
        );
        assert_eq!(json["keychain"]["probe"]["status"], "ok");
        assert!(json["keychain"]["probe"]["millis"].is_number());
    }

    #[test]
    fn an_unreachable_keychain_is_reported_with_its_fix() {
        let err = KeychainError::Unavailable {
            backend: Backend::SecretService,
            reason: "no session bus".into(),
        };
        let report = unreachable_keychain("weft".into(), err);
        match report.probe {
            ProbeOutcome::Failed { message, .. } => {
                assert!(message.contains("no session bus"), "{message}");
                assert!(message.contains("GNOME Keyring"), "{message}");
            }
            ProbeOutcome::Ok { .. } => panic!("expected a failure"),
        }
    }
}
