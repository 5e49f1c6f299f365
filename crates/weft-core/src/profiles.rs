//! Environment profiles: list, create, delete, choose the active one, and what a profile
//! changes in a connection.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use weft_store::connections::{Connections, Effective, OverrideDraft, SecretInput};

use crate::connections::rfc3339;
use crate::{AppCore, AppError, ConnectionView};

/// A profile as the top bar's switcher and `weft profile list` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProfileView {
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// How many connections the profile changes.
    pub overrides: u32,
    /// Whether runs use it now.
    pub active: bool,
}

/// What a profile changes in one connection, as a form submits it. It replaces what the profile
/// changed before: a field left out comes from the connection. A secret given as `""` or
/// `******` keeps the value the profile already has.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, TS)]
#[ts(export)]
pub struct OverrideInput {
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// A connection as a profile sees it. Secrets are `******` whatever their source; `${env:VAR}`
/// fields are shown as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EffectiveConnectionView {
    pub connection: ConnectionView,
    /// `None`: the connection as saved, with no profile.
    pub profile: Option<String>,
    /// The fields (plain and secret) whose value comes from the profile, sorted.
    pub from_profile: Vec<String>,
}

impl From<Effective> for EffectiveConnectionView {
    fn from(effective: Effective) -> Self {
        Self {
            connection: effective.record.into(),
            profile: effective.profile,
            from_profile: effective.from_profile.into_iter().collect(),
        }
    }
}

/// What saving an override returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SavedOverride {
    pub connection: EffectiveConnectionView,
    pub warnings: Vec<String>,
}

impl AppCore {
    pub fn list_profiles(&self) -> Result<Vec<ProfileView>, AppError> {
        let active = self.active_profile()?;
        let profiles = self.db()?.profiles()?;
        Ok(profiles
            .into_iter()
            .map(|profile| ProfileView {
                active: active.as_deref() == Some(profile.name.as_str()),
                created_at: rfc3339(profile.created_at_ms),
                overrides: profile.overrides,
                name: profile.name,
            })
            .collect())
    }

    pub fn create_profile(&self, name: &str) -> Result<ProfileView, AppError> {
        let profile = self.db()?.create_profile(name)?;
        tracing::info!(profile = %profile.name, "created profile");
        Ok(ProfileView {
            name: profile.name,
            created_at: rfc3339(profile.created_at_ms),
            overrides: profile.overrides,
            active: false,
        })
    }

    /// Deletes the profile, what it changes in connections and those keychain entries. When it
    /// was the app's active profile, runs go back to no profile.
    pub fn delete_profile(&self, name: &str) -> Result<(), AppError> {
        let keychain = self.keychain();
        let deleted = Connections::new(self.database(), &keychain).delete_profile(name)?;
        tracing::info!(profile = %deleted, "deleted profile");
        Ok(())
    }

    /// Chooses the profile the app's runs use (`None`: no profile); returns its name as created.
    pub fn set_active_profile(&self, name: Option<&str>) -> Result<Option<String>, AppError> {
        Ok(self.db()?.set_active_profile(name)?)
    }

    /// The connection called `name` as `profile` sees it (`None`: as saved).
    pub fn connection_in_profile(
        &self,
        name: &str,
        profile: Option<&str>,
    ) -> Result<EffectiveConnectionView, AppError> {
        Ok(self.db()?.effective_connection(name, profile)?.into())
    }

    /// Saves what `profile` changes in the connection called `name`; an empty input removes it.
    pub fn set_connection_override(
        &self,
        name: &str,
        profile: &str,
        input: OverrideInput,
    ) -> Result<SavedOverride, AppError> {
        let draft = OverrideDraft {
            config: input.config,
            secrets: input
                .secrets
                .into_iter()
                .map(|(key, raw)| (key, SecretInput::from_raw(&raw)))
                .collect(),
        };
        let keychain = self.keychain();
        let saved =
            Connections::new(self.database(), &keychain).set_override(name, profile, draft)?;
        tracing::info!(name = %saved.effective.record.name, profile, "saved profile override");
        Ok(SavedOverride {
            connection: saved.effective.into(),
            warnings: saved.warnings,
        })
    }

    /// Removes what `profile` changes in the connection; `false` when it changed nothing.
    pub fn clear_connection_override(&self, name: &str, profile: &str) -> Result<bool, AppError> {
        let keychain = self.keychain();
        Ok(Connections::new(self.database(), &keychain).clear_override(name, profile)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weft_engine::ConnectionSource;
    use weft_store::{DataDir, Keychain};

    use super::*;
    use crate::{ConnectionInput, ConnectionKind, ErrorKind, IpcError, Settings, StoreConnections};

    const DEV_KEY: &str = "sk-core-dev-41a7";
    const PROD_KEY: &str = "sk-core-prod-93c2";

    fn core(dir: &tempfile::TempDir) -> AppCore {
        core_over(dir, weft_store::keyring_core::mock::Store::new().unwrap())
    }

    /// A core on `store`, which another core (another process) may share.
    fn core_over(
        dir: &tempfile::TempDir,
        store: Arc<weft_store::keyring_core::CredentialStore>,
    ) -> AppCore {
        let settings = Settings {
            data_dir: DataDir::new(dir.path()),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        AppCore::open_with_keychain(settings, Keychain::over_test_store(store, "weft-test"))
            .unwrap()
    }

    /// `azure-ai` on dev, and a `prod` profile that sends it to prod with another key.
    fn dev_and_prod(core: &AppCore) {
        core.create_connection(ConnectionInput {
            name: "azure-ai".into(),
            kind: ConnectionKind::AzureAi,
            config: BTreeMap::from([(
                "endpoint".into(),
                "https://dev.services.ai.azure.com".into(),
            )]),
            secrets: BTreeMap::from([("api_key".into(), DEV_KEY.into())]),
        })
        .unwrap();
        core.create_profile("prod").unwrap();
        core.set_connection_override(
            "azure-ai",
            "prod",
            OverrideInput {
                config: BTreeMap::from([(
                    "endpoint".into(),
                    "https://prod.services.ai.azure.com".into(),
                )]),
                secrets: BTreeMap::from([("api_key".into(), PROD_KEY.into())]),
            },
        )
        .unwrap();
    }

    fn key_of(core: &AppCore) -> String {
        let resolved = core.resolve_connection("azure-ai").unwrap();
        resolved
            .as_model()
            .unwrap()
            .credential
            .key()
            .unwrap()
            .expose()
            .to_owned()
    }

    #[test]
    fn the_active_profile_picks_the_endpoint_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        dev_and_prod(&core);
        assert_eq!(key_of(&core), DEV_KEY);
        assert_eq!(
            core.set_active_profile(Some("PROD")).unwrap().as_deref(),
            Some("prod")
        );
        assert_eq!(key_of(&core), PROD_KEY);
        let listed = core.list_profiles().unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].active);
        assert_eq!(listed[0].overrides, 1);
        core.set_active_profile(None).unwrap();
        assert_eq!(key_of(&core), DEV_KEY);
    }

    #[test]
    fn a_pinned_profile_wins_over_the_apps_choice_and_an_unknown_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = weft_store::keyring_core::mock::Store::new().unwrap();
        {
            let core = core_over(&dir, store.clone());
            dev_and_prod(&core);
            core.create_profile("dev").unwrap();
            core.set_active_profile(Some("dev")).unwrap();
        }
        let pinned = core_over(&dir, store).with_profile(Some("prod")).unwrap();
        assert_eq!(pinned.active_profile().unwrap().as_deref(), Some("prod"));
        assert_eq!(key_of(&pinned), PROD_KEY);
        let err = core(&dir).with_profile(Some("qa")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string().contains("`weft profile create qa`"),
            "{err}"
        );
    }

    #[test]
    fn a_run_keeps_the_profile_it_started_with() {
        let dir = tempfile::tempdir().unwrap();
        let core = Arc::new(core(&dir));
        dev_and_prod(&core);
        core.set_active_profile(Some("prod")).unwrap();
        let started_under_prod = StoreConnections::new(core.clone(), Some("prod".into()));
        // The app switches back while the run goes on.
        core.set_active_profile(None).unwrap();
        let target = started_under_prod
            .connection("azure-ai")
            .unwrap()
            .into_model()
            .unwrap();
        assert_eq!(target.credential.key().unwrap().expose(), PROD_KEY);
        assert!(
            format!("{:?}", target.endpoint).contains("prod.services.ai.azure.com"),
            "{:?}",
            target.endpoint
        );
    }

    #[test]
    fn the_effective_view_masks_secrets_and_marks_what_the_profile_sets() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        dev_and_prod(&core);
        let view = core
            .connection_in_profile("azure-ai", Some("prod"))
            .unwrap();
        assert_eq!(view.profile.as_deref(), Some("prod"));
        assert_eq!(view.from_profile, ["api_key", "endpoint"]);
        assert_eq!(view.connection.secrets["api_key"], "******");
        assert_eq!(
            view.connection.config["endpoint"],
            "https://prod.services.ai.azure.com"
        );
        let json = serde_json::to_string(&view).unwrap();
        assert!(
            !json.contains(PROD_KEY) && !json.contains(DEV_KEY),
            "{json}"
        );
        let base = core.connection_in_profile("azure-ai", None).unwrap();
        assert!(base.from_profile.is_empty());
    }

    #[test]
    fn a_missing_environment_variable_names_itself_and_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        core.create_connection(ConnectionInput {
            name: "env-ai".into(),
            kind: ConnectionKind::AzureAi,
            config: BTreeMap::from([(
                "endpoint".into(),
                "${env:WEFT_CORE_TEST_UNSET_ENDPOINT}".into(),
            )]),
            secrets: BTreeMap::from([("api_key".into(), DEV_KEY.into())]),
        })
        .unwrap();
        let err = core.resolve_connection("env-ai").unwrap_err();
        assert_eq!(
            err.to_string(),
            "connection `env-ai`'s endpoint reads ${env:WEFT_CORE_TEST_UNSET_ENDPOINT}, which is not set; set it, or edit the connection"
        );
        assert_eq!(IpcError::from(err).kind, ErrorKind::InvalidInput);
    }

    #[test]
    fn deleting_the_active_profile_returns_runs_to_no_profile() {
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        dev_and_prod(&core);
        core.set_active_profile(Some("prod")).unwrap();
        core.delete_profile("prod").unwrap();
        assert_eq!(core.active_profile().unwrap(), None);
        assert_eq!(key_of(&core), DEV_KEY);
    }
}
