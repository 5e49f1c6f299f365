use std::ffi::OsString;

use weft_store::{DataDir, Retention};

use crate::AppError;

/// Overrides the data folder, for the app and the CLI alike (tests point it at a temp folder).
pub const HOME_ENV: &str = "WEFT_HOME";
/// Overrides the keychain service name, so tests never touch a user's real entries.
pub const KEYRING_SERVICE_ENV: &str = "WEFT_KEYRING_SERVICE";

const DEFAULT_KEYRING_SERVICE: &str = "weft";

/// Where Weft keeps its state, decided once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub data_dir: DataDir,
    pub keyring_service: String,
    pub retention: Retention,
}

impl Settings {
    pub fn from_env() -> Result<Self, AppError> {
        Self::from_vars(
            std::env::var_os(HOME_ENV),
            std::env::var_os(KEYRING_SERVICE_ENV),
        )
    }

    fn from_vars(home: Option<OsString>, service: Option<OsString>) -> Result<Self, AppError> {
        let data_dir = match home.filter(|value| !value.is_empty()) {
            Some(root) => DataDir::new(root),
            None => DataDir::os_default()?,
        };
        let keyring_service = service
            .and_then(|value| value.into_string().ok())
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| DEFAULT_KEYRING_SERVICE.to_owned());
        Ok(Self {
            data_dir,
            keyring_service,
            retention: crate::runs::retention_from(
                std::env::var("WEFT_RUNS_KEEP").ok(),
                std::env::var("WEFT_RUNS_MAX_AGE_DAYS").ok(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_folder_and_service() {
        let settings =
            Settings::from_vars(Some("/tmp/w".into()), Some("weft-test-1".into())).unwrap();
        assert_eq!(settings.data_dir, DataDir::new("/tmp/w"));
        assert_eq!(settings.keyring_service, "weft-test-1");
    }

    #[test]
    fn empty_overrides_fall_back_to_defaults() {
        let settings = Settings::from_vars(Some("".into()), Some("  ".into())).unwrap();
        assert_eq!(settings.data_dir, DataDir::os_default().unwrap());
        assert_eq!(settings.keyring_service, "weft");
    }
}
