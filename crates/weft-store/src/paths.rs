use std::path::{Path, PathBuf};

/// The bundle identifier from `tauri.conf.json`. Tauri names the app-data folder after it, so the
/// CLI uses the same name to land in the same folder as the desktop app.
pub const APP_IDENTIFIER: &str = "dev.weft.app";

const DATABASE_FILE: &str = "weft.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error(
        "this system reports no application-data folder; set WEFT_HOME to the folder Weft should use"
    )]
    NoDataDir,
    #[error(
        "could not create the data folder {path}: {source}; check its parent's permissions or set WEFT_HOME to another folder"
    )]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The folder that holds everything Weft keeps on disk (never secrets: those are in the keychain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The OS application-data folder: `~/.local/share/dev.weft.app` on Linux,
    /// `~/Library/Application Support/dev.weft.app` on macOS, `%APPDATA%\dev.weft.app` on Windows.
    pub fn os_default() -> Result<Self, PathsError> {
        dirs::data_dir()
            .map(|base| Self::new(base.join(APP_IDENTIFIER)))
            .ok_or(PathsError::NoDataDir)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    /// Creates the folder if needed. A new folder is private to the current user.
    pub fn ensure_exists(&self) -> Result<(), PathsError> {
        let create = |path: &Path| {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(path)
        };
        create(&self.root).map_err(|source| PathsError::Create {
            path: self.root.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_lives_inside_the_data_folder() {
        let dir = DataDir::new("/tmp/weft-home");
        assert_eq!(
            dir.database_path(),
            Path::new("/tmp/weft-home/weft.sqlite3")
        );
    }

    #[test]
    fn ensure_exists_creates_nested_private_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path().join("a/b/weft"));
        dir.ensure_exists().unwrap();
        assert!(dir.root().is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.root()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
