//! What the batch tests share: an `AppCore` on a private data folder with the in-memory keychain,
//! a saved model connection, and a folder for flow and data files apart from Weft's own.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_core::{AppCore, ConnectionInput, ConnectionKind, Settings};
use weft_store::{DataDir, Keychain};

pub fn core(dir: &Path) -> Arc<AppCore> {
    let settings = Settings {
        data_dir: DataDir::new(dir),
        keyring_service: "weft-test".into(),
        retention: Default::default(),
    };
    Arc::new(
        AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap()).unwrap(),
    )
}

/// An `azure_ai` connection named `model` on the fake at `base`.
pub fn with_connection(core: &AppCore, base: &str, key: &str) {
    core.create_connection(ConnectionInput {
        name: "model".into(),
        kind: ConnectionKind::AzureAi,
        config: BTreeMap::from([("endpoint".into(), format!("{base}/models"))]),
        secrets: BTreeMap::from([("api_key".into(), key.into())]),
    })
    .unwrap();
}

/// A folder with the flow file and the data file, apart from Weft's data folder.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}
