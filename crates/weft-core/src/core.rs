use std::sync::{Arc, Mutex, MutexGuard};

use weft_store::{Database, Keychain};

use crate::{AppError, Settings, VERSION};

/// The application: its settings, its database and its keychain. One per process.
#[derive(Debug)]
pub struct AppCore {
    settings: Settings,
    db: Mutex<Database>,
    keychain: Arc<Keychain>,
    /// One HTTP client per process: it pools connections to the model endpoints.
    ai: weft_ai::Client,
    runs: Mutex<crate::runs::RunSlots>,
    /// The profile this process runs with, when its caller chose one (the CLI's `--profile` or
    /// `WEFT_PROFILE`); otherwise the one chosen in the app, as saved in the database.
    pinned_profile: Option<String>,
}

impl AppCore {
    /// Opens the data folder and database named by `settings`, with the OS keychain.
    pub fn open(settings: Settings) -> Result<Self, AppError> {
        let keychain = Keychain::native(settings.keyring_service.clone());
        Self::open_with(settings, keychain)
    }

    /// Like [`AppCore::open`], with a keychain the caller chose.
    pub fn open_with_keychain(settings: Settings, keychain: Keychain) -> Result<Self, AppError> {
        Self::open_with(settings, keychain)
    }

    fn open_with(settings: Settings, keychain: Keychain) -> Result<Self, AppError> {
        settings.data_dir.ensure_exists()?;
        let db = Database::open(&settings.data_dir.database_path(), VERSION)?;
        tracing::info!(data_dir = %settings.data_dir.root().display(), "opened Weft data folder");
        let ai = weft_ai::Client::new(
            weft_ai::Timeouts::default(),
            weft_ai::RetryPolicy::default(),
        )?;
        let core = Self {
            settings,
            db: Mutex::new(db),
            keychain: Arc::new(keychain),
            ai,
            runs: Mutex::default(),
            pinned_profile: None,
        };
        match core.clean_up_orphaned_secrets() {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed keychain entries left by a crash"),
            Err(err) => {
                tracing::warn!("left-over keychain entries stay until the next start: {err}")
            }
        }
        Ok(core)
    }

    pub(crate) fn ai(&self) -> &weft_ai::Client {
        &self.ai
    }

    pub(crate) fn runs(&self) -> MutexGuard<'_, crate::runs::RunSlots> {
        // The slots hold no invariant a panic could break.
        self.runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs this process with `profile` whatever the app has chosen (`None`: the app's choice).
    /// An unknown profile is refused.
    pub fn with_profile(mut self, profile: Option<&str>) -> Result<Self, AppError> {
        self.pinned_profile = match profile {
            Some(name) => Some(self.db()?.profile(name)?),
            None => None,
        };
        Ok(self)
    }

    /// The profile runs and connection tests use now: this process's own, else the app's.
    pub fn active_profile(&self) -> Result<Option<String>, AppError> {
        match &self.pinned_profile {
            Some(profile) => Ok(Some(profile.clone())),
            None => Ok(self.db()?.active_profile()?),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The database itself, for [`weft_store::connections::Connections`], which locks it only
    /// between keychain calls.
    pub(crate) fn database(&self) -> &Mutex<Database> {
        &self.db
    }

    pub(crate) fn db(&self) -> Result<MutexGuard<'_, Database>, AppError> {
        self.db
            .lock()
            .map_err(|_| AppError::Internal("the database lock was poisoned by a panic".into()))
    }

    /// The keychain (the OS store is connected when a secret is first used).
    pub fn keychain(&self) -> Arc<Keychain> {
        Arc::clone(&self.keychain)
    }
}
