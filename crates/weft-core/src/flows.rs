//! Flow files as the editor opens and saves them, validation against the saved connections, and
//! the recovery copy that keeps unsaved edits through a crash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use weft_flow::{
    ConnectionType, Context, Diagnostic, FlowDocument, SavedConnection, Validation, validation,
};
use weft_store::connections::ConnectionKind;

use crate::{AppCore, AppError};

/// The only files `open_flow` and `save_flow` touch. Checked here, not only in the UI's dialogs,
/// so a compromised web view cannot read or overwrite other files (`~/.bashrc`, keys…).
const FLOW_SUFFIX: &str = ".weft.yaml";

/// A flow in the editor: its document, the file it came from (`None` until first saved), and
/// which version of that file it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpenedFlow {
    pub path: Option<String>,
    pub document: FlowDocument,
    /// The file's [`FileVersion`] when read; `None` for a flow that has no file yet.
    pub version: Option<FileVersion>,
}

/// Identifies one content of a flow file on disk: the SHA-256 of its bytes, so a change made
/// elsewhere is seen even when it keeps the size and the modification time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FileVersion(pub String);

impl FileVersion {
    fn of(bytes: &[u8]) -> Self {
        Self(format!("{:x}", Sha256::digest(bytes)))
    }
}

/// Which file on disk a save may replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "mode", rename_all = "camelCase")]
#[ts(export)]
pub enum Replace {
    /// Only the version the editor last read or wrote; anything else is [`FlowFileError::ChangedOnDisk`].
    /// A file deleted since is written again: nothing is lost by that.
    IfUnchanged { version: FileVersion },
    /// Whatever is there: a path the user chose in the save dialog (which asks before replacing),
    /// or an overwrite the user confirmed after a conflict.
    Any,
}

/// Unsaved edits kept by autosave, offered back on the next start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Recovery {
    pub path: Option<String>,
    /// The version of `path` the edits started from, so saving them still checks for a change on
    /// disk. Copies written before versions existed have none.
    #[serde(default)]
    pub version: Option<FileVersion>,
    pub document: FlowDocument,
    #[ts(type = "number")]
    pub saved_at_ms: i64,
}

/// Why a flow file or the recovery copy could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FlowFileError {
    #[error(
        "{path} is not a flow file: Weft opens and saves only files whose name ends in `{FLOW_SUFFIX}`; choose such a file, or rename this one"
    )]
    NotAFlowFile { path: String },
    #[error(
        "could not {action} {path}: {source}; check that the path is right, that you may {action} it, and that the disk has room"
    )]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The message keeps where the problem is and what was expected, never the file's text.
    #[error("{path}: {problem}")]
    NotAFlow { path: String, problem: String },
    #[error(
        "{path} changed on disk since it was opened; open it again to see the other changes, or confirm to overwrite them"
    )]
    ChangedOnDisk { path: String },
}

impl FlowFileError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

const SAMPLE: &str = include_str!("../../../examples/chat.weft.yaml");

fn flow_path(path: &Path) -> Result<&Path, FlowFileError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.len() > FLOW_SUFFIX.len() && name.ends_with(FLOW_SUFFIX) {
        Ok(path)
    } else {
        Err(FlowFileError::NotAFlowFile {
            path: path.display().to_string(),
        })
    }
}

/// Who may read the written file.
#[derive(Clone, Copy)]
pub(crate) enum Access {
    /// What the replaced file allowed, or the user's default (umask) for a new one.
    AsBefore,
    /// The owner only (0600), whatever the folder allows: the recovery copy.
    OwnerOnly,
}

/// Writes through a uniquely named temporary file in the same folder, flushed to disk before it
/// is renamed over the target, so a crash, a power loss or a full disk never leaves half a file
/// where the flow was, and two saves at once never share a temporary file. `check` runs just
/// before the rename, to keep the window in which another program can change the file small.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    access: Access,
    check: impl FnOnce() -> Result<(), FlowFileError>,
) -> Result<(), FlowFileError> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Elsewhere the new file gets the platform's defaults.
    #[cfg(not(unix))]
    let _ = access;
    #[cfg(unix)]
    let previous_mode = {
        use std::os::unix::fs::PermissionsExt;
        let previous = std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777);
        let mode = match access {
            Access::OwnerOnly => 0o600,
            Access::AsBefore => previous.unwrap_or(0o666),
        };
        // Created with the mode already (the umask applies, as for any new file), so the text
        // never sits in a file more open than the one it replaces.
        builder.permissions(std::fs::Permissions::from_mode(mode));
        previous.filter(|_| matches!(access, Access::AsBefore))
    };
    let mut temporary = builder
        .tempfile_in(folder)
        .map_err(|err| FlowFileError::io("write a temporary file in", folder, err))?;
    #[cfg(unix)]
    if let Some(mode) = previous_mode {
        use std::os::unix::fs::PermissionsExt;
        // The umask may have narrowed the mode at creation; the file keeps exactly what it had.
        temporary
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|err| FlowFileError::io("set the permissions of", temporary.path(), err))?;
    }
    temporary
        .write_all(bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|err| FlowFileError::io("write", temporary.path(), err))?;
    check()?;
    // On failure the temporary file is dropped, which deletes it.
    temporary
        .persist(path)
        .map_err(|err| FlowFileError::io("save", path, err.error))?;
    // The rename is only durable once the folder's entry is on disk too.
    #[cfg(unix)]
    if let Err(err) = std::fs::File::open(folder).and_then(|f| f.sync_all()) {
        // The file is written and renamed; failing the save now would make the editor believe
        // nothing was saved. Some file systems cannot flush a folder at all.
        tracing::warn!("could not flush the folder {}: {err}", folder.display());
    }
    Ok(())
}

/// The version of the file at `path` now, `None` when there is no file.
fn version_on_disk(path: &Path) -> Result<Option<FileVersion>, FlowFileError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(FileVersion::of(&bytes))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(FlowFileError::io("read", path, err)),
    }
}

/// What is written to disk: a secret input never keeps a value, even one typed as its default.
pub(crate) fn without_secret_values(document: &FlowDocument) -> FlowDocument {
    let mut document = document.clone();
    for input in document.inputs.values_mut().filter(|i| i.secret) {
        input.default = None;
    }
    document
}

impl AppCore {
    pub fn open_flow(&self, path: &Path) -> Result<OpenedFlow, AppError> {
        let path = flow_path(path)?;
        let bytes = std::fs::read(path).map_err(|err| FlowFileError::io("read", path, err))?;
        let not_a_flow = |problem: String| FlowFileError::NotAFlow {
            path: path.display().to_string(),
            problem,
        };
        // The UTF-8 error names a byte offset only.
        let text = std::str::from_utf8(&bytes).map_err(|err| not_a_flow(err.to_string()))?;
        let document = FlowDocument::parse(text)
            .map_err(|err| not_a_flow(err.without_file_text(text).to_string()))?;
        Ok(OpenedFlow {
            path: Some(path.display().to_string()),
            document,
            version: Some(FileVersion::of(&bytes)),
        })
    }

    /// Saves the flow and returns the version now on disk, for the next save to check against.
    pub fn save_flow(
        &self,
        path: &Path,
        document: &FlowDocument,
        replace: &Replace,
    ) -> Result<FileVersion, AppError> {
        let path = flow_path(path)?;
        let text = without_secret_values(document).to_yaml();
        write_atomically(path, text.as_bytes(), Access::AsBefore, || match replace {
            Replace::Any => Ok(()),
            Replace::IfUnchanged { version } => match version_on_disk(path)? {
                Some(now) if now != *version => Err(FlowFileError::ChangedOnDisk {
                    path: path.display().to_string(),
                }),
                _ => Ok(()),
            },
        })?;
        Ok(FileVersion::of(text.as_bytes()))
    }

    /// The flow a first start opens: the `chat` example, unsaved.
    pub fn sample_flow(&self) -> Result<OpenedFlow, AppError> {
        let document = FlowDocument::parse(SAMPLE)
            .map_err(|err| AppError::Internal(format!("the sample flow does not parse: {err}")))?;
        Ok(OpenedFlow {
            path: None,
            document,
            version: None,
        })
    }

    /// One validation pass, against the saved connections' names: every problem of the flow
    /// and, when none is an error, the flow ready to run. `strict`: template variables missing
    /// from `variables` are errors.
    pub fn check_flow(
        &self,
        document: &FlowDocument,
        strict: bool,
    ) -> Result<Validation, AppError> {
        let connections = self
            .db()?
            .connections()?
            .into_iter()
            .map(|record| SavedConnection {
                kind: connection_type(record.kind),
                configs: record.config.keys().cloned().collect(),
                secrets: record.secret_keys.iter().cloned().collect(),
                name: record.name,
            })
            .collect();
        Ok(validation(
            document,
            &Context {
                connections,
                strict,
            },
        ))
    }

    /// Every problem of the flow, checked against the saved connections' names.
    pub fn validate_flow(&self, document: &FlowDocument) -> Result<Vec<Diagnostic>, AppError> {
        Ok(self.check_flow(document, false)?.diagnostics)
    }

    fn recovery_path(&self) -> PathBuf {
        self.settings().data_dir.root().join("recovery.json")
    }

    /// Keeps unsaved edits; only the owner can read them, as they may be work in progress.
    pub fn save_recovery(
        &self,
        path: Option<String>,
        version: Option<FileVersion>,
        document: FlowDocument,
    ) -> Result<(), AppError> {
        let saved_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let recovery = Recovery {
            path,
            version,
            document: without_secret_values(&document),
            saved_at_ms,
        };
        let text =
            serde_json::to_string(&recovery).map_err(|err| AppError::Internal(err.to_string()))?;
        write_atomically(
            &self.recovery_path(),
            text.as_bytes(),
            Access::OwnerOnly,
            || Ok(()),
        )?;
        Ok(())
    }

    /// The recovery copy, if one is waiting. A damaged copy is set aside, not lost.
    pub fn take_recovery(&self) -> Result<Option<Recovery>, AppError> {
        let path = self.recovery_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(FlowFileError::io("read", &path, err).into()),
        };
        match serde_json::from_str(&text) {
            Ok(recovery) => Ok(Some(recovery)),
            Err(err) => {
                let aside = path.with_extension("json.damaged");
                tracing::warn!(
                    "the recovery copy is damaged ({err}); kept as {}",
                    aside.display()
                );
                let _ = std::fs::rename(&path, &aside);
                Ok(None)
            }
        }
    }

    pub fn clear_recovery(&self) -> Result<(), AppError> {
        let path = self.recovery_path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(FlowFileError::io("remove", &path, err).into()),
        }
    }
}

/// weft-flow's name for a stored connection's type (weft-flow knows nothing of the store).
fn connection_type(kind: ConnectionKind) -> ConnectionType {
    match kind {
        ConnectionKind::AzureAi => ConnectionType::AzureAi,
        ConnectionKind::AzureOpenAi => ConnectionType::AzureOpenAi,
        ConnectionKind::OpenAi => ConnectionType::OpenAi,
        ConnectionKind::Serverless => ConnectionType::Serverless,
        ConnectionKind::AzureContentSafety => ConnectionType::AzureContentSafety,
        ConnectionKind::CognitiveSearch => ConnectionType::CognitiveSearch,
        ConnectionKind::Serp => ConnectionType::Serp,
        ConnectionKind::Custom => ConnectionType::Custom,
    }
}

#[cfg(test)]
mod tests {
    use weft_store::connections::ConnectionKind;

    use super::connection_type;

    /// weft-flow and weft-store each spell the connection types (neither depends on the other);
    /// a flow file names a type as the store does, so the two spellings must agree.
    #[test]
    fn each_stored_connection_type_has_weft_flows_name_for_it() {
        for kind in ConnectionKind::ALL {
            assert_eq!(connection_type(kind).as_str(), kind.as_str(), "{kind:?}");
        }
    }
}
