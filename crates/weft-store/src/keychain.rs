use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

/// Which secret store a [`Keychain`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// freedesktop Secret Service over D-Bus (GNOME Keyring, KWallet, KeePassXC).
    SecretService,
    /// The macOS login keychain.
    MacosKeychain,
    /// Windows Credential Manager.
    WindowsCredentialManager,
    /// keyring-core's in-memory mock; only for tests, never chosen implicitly.
    InMemory,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SecretService => "Secret Service (D-Bus)",
            Self::MacosKeychain => "macOS Keychain",
            Self::WindowsCredentialManager => "Windows Credential Manager",
            Self::InMemory => "in-memory test store",
        })
    }
}

impl Backend {
    /// The native store of the platform this binary was built for.
    pub const NATIVE: Backend = if cfg!(target_os = "macos") {
        Backend::MacosKeychain
    } else if cfg!(target_os = "windows") {
        Backend::WindowsCredentialManager
    } else {
        Backend::SecretService
    };

    fn unavailable_fix(self) -> &'static str {
        match self {
            Self::SecretService => {
                "start a Secret Service provider on your D-Bus session (GNOME Keyring, KWallet or KeePassXC with Secret Service integration) and unlock it, then try again"
            }
            Self::MacosKeychain => {
                "open Keychain Access and check that your login keychain exists and is unlocked"
            }
            Self::WindowsCredentialManager => {
                "check that the Credential Manager service is running"
            }
            Self::InMemory => "this is the test store; it should always be available",
        }
    }

    fn no_access_fix(self) -> &'static str {
        match self {
            Self::SecretService => {
                "unlock your login keyring (for example by logging in to a desktop session, or `gnome-keyring-daemon --unlock`), then try again"
            }
            Self::MacosKeychain => {
                "unlock the login keychain in Keychain Access and allow Weft to use it, then try again"
            }
            Self::WindowsCredentialManager => {
                "sign in to Windows with your own account and try again"
            }
            Self::InMemory => "this is the test store; it should always be available",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error("no {backend} is reachable ({reason}); {fix}", fix = backend.unavailable_fix())]
    Unavailable { backend: Backend, reason: String },
    #[error("the {backend} refused access; it is probably locked ({reason}); {fix}", fix = backend.no_access_fix())]
    NoAccess { backend: Backend, reason: String },
    #[error(
        "the secret is {len} bytes, more than the {backend} holds ({limit} bytes); Weft stored nothing"
    )]
    TooLong {
        backend: Backend,
        len: usize,
        limit: usize,
    },
    /// The store's own length check, which may be about the service or account name rather than
    /// the secret: keyring names the attribute but not its length.
    #[error(
        "the {backend} refused the entry because its `{attribute}` is longer than {limit} characters; Weft stored nothing; shorten that value (the service name comes from WEFT_KEYRING_SERVICE)"
    )]
    AttributeTooLong {
        backend: Backend,
        attribute: String,
        limit: u32,
    },
    #[error("the {backend} failed: {reason}")]
    Platform { backend: Backend, reason: String },
    #[error(
        "the {backend} returned a different value than was just written; it may be shared with a misbehaving tool"
    )]
    Mismatch { backend: Backend },
}

impl KeychainError {
    fn from_keyring(backend: Backend, err: KeyringError) -> Self {
        match err {
            KeyringError::NoStorageAccess(inner) => Self::NoAccess {
                backend,
                reason: inner.to_string(),
            },
            KeyringError::TooLong(attribute, limit) => Self::AttributeTooLong {
                backend,
                attribute,
                limit,
            },
            other => Self::Platform {
                backend,
                reason: other.to_string(),
            },
        }
    }
}

/// Secrets in the OS keychain, under one service name (`weft`, or `WEFT_KEYRING_SERVICE` in tests).
///
/// Every call blocks on the platform store (D-Bus round-trips on Linux): call it off the UI thread.
pub struct Keychain {
    store: StoreSlot,
    backend: Backend,
    service: String,
    /// Account suffixes whose writes or deletes fail, in order, to test rollbacks.
    #[cfg(test)]
    faults: std::sync::Mutex<std::collections::VecDeque<(String, bool)>>,
}

/// The platform store is connected on first use, not when the keychain is made: a keyless
/// connection, an Entra ID run and a replayed run never need one (a CI runner may have none), and
/// a store that was missing or locked is tried again on the next use, so one started or unlocked
/// while Weft runs is picked up without a restart.
enum StoreSlot {
    Platform(OnceLock<Arc<CredentialStore>>),
    Given(Arc<CredentialStore>),
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain")
            .field("backend", &self.backend)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// What a write/read/delete round-trip of a throwaway secret showed.
#[derive(Debug)]
pub struct ProbeReport {
    pub elapsed: Duration,
    pub result: Result<(), KeychainError>,
}

impl Keychain {
    /// The platform's secret store, connected when a secret is first read, written or deleted.
    /// There is deliberately no fallback: if the store is missing, that call fails and says how
    /// to fix it, rather than keeping secrets somewhere weaker.
    pub fn native(service: impl Into<String>) -> Self {
        Self {
            store: StoreSlot::Platform(OnceLock::new()),
            backend: Backend::NATIVE,
            service: service.into(),
            #[cfg(test)]
            faults: Default::default(),
        }
    }

    /// A keychain in memory, for tests that must not touch a real store.
    pub fn in_memory(service: impl Into<String>) -> Result<Self, KeychainError> {
        let store = keyring_core::mock::Store::new()
            .map_err(|err| KeychainError::from_keyring(Backend::InMemory, err))?;
        Ok(Self::over_test_store(store, service))
    }

    /// A keychain over a store the caller built, reported as the in-memory test store. Tests use
    /// it to share one store between two [`Keychain`]s (two "processes"), or to wrap the mock in
    /// one that blocks like a store waiting on an unlock prompt.
    pub fn over_test_store(store: Arc<CredentialStore>, service: impl Into<String>) -> Self {
        Self {
            store: StoreSlot::Given(store),
            backend: Backend::InMemory,
            service: service.into(),
            #[cfg(test)]
            faults: Default::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn set(&self, account: &str, secret: &str) -> Result<(), KeychainError> {
        let limit = self.max_secret_len();
        if secret.len() > limit {
            return Err(KeychainError::TooLong {
                backend: self.backend,
                len: secret.len(),
                limit,
            });
        }
        #[cfg(test)]
        self.take_fault(account, false)?;
        self.entry(account)?
            .set_password(secret)
            .map_err(|err| self.error(err))
    }

    pub fn get(&self, account: &str) -> Result<Option<String>, KeychainError> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(err) => Err(self.error(err)),
        }
    }

    /// Deletes the entry; `Ok(false)` when there was none.
    pub fn delete(&self, account: &str) -> Result<bool, KeychainError> {
        #[cfg(test)]
        self.take_fault(account, true)?;
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(err) => Err(self.error(err)),
        }
    }

    /// Writes, reads back and deletes a random secret under a throwaway account.
    pub fn probe(&self) -> ProbeReport {
        let started = Instant::now();
        let result = self.round_trip();
        ProbeReport {
            elapsed: started.elapsed(),
            result,
        }
    }

    fn round_trip(&self) -> Result<(), KeychainError> {
        let account = format!("weft-probe-{}", uuid::Uuid::new_v4());
        let secret = uuid::Uuid::new_v4().to_string();
        self.set(&account, &secret)?;
        let read = self.get(&account);
        let deleted = self.delete(&account);
        if read? != Some(secret) {
            return Err(KeychainError::Mismatch {
                backend: self.backend,
            });
        }
        deleted?;
        match self.get(&account)? {
            None => Ok(()),
            Some(_) => Err(KeychainError::Platform {
                backend: self.backend,
                reason: "a deleted probe secret could still be read".into(),
            }),
        }
    }

    /// The largest secret the backend stores whole. Windows keeps at most 2560 bytes per
    /// credential blob, stored as UTF-16, so 1280 UTF-8 bytes is the safe bound there.
    fn max_secret_len(&self) -> usize {
        match self.backend {
            Backend::WindowsCredentialManager => 1280,
            _ => 64 * 1024,
        }
    }

    /// Queues a failure, as of a locked store, for a write or delete of an account ending in
    /// `suffix`. Queued failures happen in order: the second waits until the first has happened,
    /// so a test can fail a delete and then the write that would undo an earlier one.
    #[cfg(test)]
    pub(crate) fn fail_next(&self, suffix: &str) {
        self.queue_fault(suffix, false);
    }

    /// Like [`Keychain::fail_next`], for a delete only: the write before it succeeds.
    #[cfg(test)]
    pub(crate) fn fail_next_delete(&self, suffix: &str) {
        self.queue_fault(suffix, true);
    }

    #[cfg(test)]
    fn queue_fault(&self, suffix: &str, delete_only: bool) {
        self.faults
            .lock()
            .unwrap()
            .push_back((suffix.to_owned(), delete_only));
    }

    #[cfg(test)]
    fn take_fault(&self, account: &str, deleting: bool) -> Result<(), KeychainError> {
        let mut faults = self.faults.lock().unwrap();
        match faults.front() {
            Some((suffix, delete_only))
                if account.ends_with(suffix.as_str()) && (deleting || !delete_only) =>
            {
                faults.pop_front();
                Err(KeychainError::NoAccess {
                    backend: self.backend,
                    reason: "injected failure".into(),
                })
            }
            _ => Ok(()),
        }
    }

    fn entry(&self, account: &str) -> Result<Entry, KeychainError> {
        self.store()?
            .build(&self.service, account, None)
            .map_err(|err| self.error(err))
    }

    fn store(&self) -> Result<&Arc<CredentialStore>, KeychainError> {
        match &self.store {
            StoreSlot::Given(store) => Ok(store),
            StoreSlot::Platform(slot) => {
                if let Some(store) = slot.get() {
                    return Ok(store);
                }
                let store = native_store().map_err(|err| KeychainError::Unavailable {
                    backend: self.backend,
                    reason: err.to_string(),
                })?;
                Ok(slot.get_or_init(|| store))
            }
        }
    }

    fn error(&self, err: KeyringError) -> KeychainError {
        KeychainError::from_keyring(self.backend, err)
    }
}

#[cfg(target_os = "linux")]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(KeyringError::NotSupportedByStore(
        "Weft has no keychain backend for this operating system".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_round_trip() {
        let keychain = Keychain::in_memory("weft-test").unwrap();
        assert_eq!(keychain.get("acct").unwrap(), None);
        keychain.set("acct", "s3cr3t").unwrap();
        assert_eq!(keychain.get("acct").unwrap().as_deref(), Some("s3cr3t"));
        keychain.set("acct", "rotated").unwrap();
        assert_eq!(keychain.get("acct").unwrap().as_deref(), Some("rotated"));
        assert!(keychain.delete("acct").unwrap());
        assert!(!keychain.delete("acct").unwrap());
        assert_eq!(keychain.get("acct").unwrap(), None);
    }

    #[test]
    fn probe_succeeds_and_leaves_nothing_behind() {
        let keychain = Keychain::in_memory("weft-test").unwrap();
        let report = keychain.probe();
        assert!(report.result.is_ok(), "{:?}", report.result);
    }

    #[test]
    fn oversized_secret_is_refused_not_truncated() {
        let keychain = Keychain::in_memory("weft-test").unwrap();
        let huge = "x".repeat(64 * 1024 + 1);
        let err = keychain.set("acct", &huge).unwrap_err();
        assert!(matches!(err, KeychainError::TooLong { len, .. } if len == huge.len()));
        assert_eq!(keychain.get("acct").unwrap(), None);
    }

    #[test]
    fn a_too_long_attribute_is_named_not_called_a_zero_byte_secret() {
        let err = KeychainError::from_keyring(
            Backend::WindowsCredentialManager,
            KeyringError::TooLong("service".into(), 512),
        );
        let text = err.to_string();
        assert!(!text.contains("0 bytes"), "{text}");
        assert!(text.contains("`service` is longer than 512"), "{text}");
    }

    #[test]
    fn locked_store_error_says_how_to_unlock() {
        let err = KeychainError::from_keyring(
            Backend::SecretService,
            KeyringError::NoStorageAccess("collection is locked".into()),
        );
        let text = err.to_string();
        assert!(text.contains("locked"), "{text}");
        assert!(text.contains("unlock your login keyring"), "{text}");
    }
}
