//! Flow files as the editor opens and saves them, validation against the saved connections, and
//! the recovery copy that keeps unsaved edits through a crash.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use weft_flow::{Context, Diagnostic, FlowDocument, validate};

use crate::{AppCore, AppError};

/// A flow in the editor: its document and the file it came from (`None` until first saved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpenedFlow {
    pub path: Option<String>,
    pub document: FlowDocument,
}

/// Unsaved edits kept by autosave, offered back on the next start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Recovery {
    pub path: Option<String>,
    pub document: FlowDocument,
    #[ts(type = "number")]
    pub saved_at_ms: i64,
}

const SAMPLE: &str = include_str!("../../../examples/chat.weft.yaml");

fn io_error(action: &str, path: &Path, err: &std::io::Error) -> AppError {
    AppError::Invalid(format!("could not {action} {}: {err}", path.display()))
}

/// Writes through a temporary file in the same folder and renames it over the target, so a
/// crash or a full disk never leaves half a file where the flow was.
fn write_atomically(path: &Path, text: &str) -> Result<(), AppError> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text).map_err(|err| io_error("write", &temporary, &err))?;
    std::fs::rename(&temporary, path).map_err(|err| {
        let _ = std::fs::remove_file(&temporary);
        io_error("save", path, &err)
    })
}

/// What is written to disk: a secret input never keeps a value, even one typed as its default.
fn without_secret_values(document: &FlowDocument) -> FlowDocument {
    let mut document = document.clone();
    for input in document.inputs.values_mut().filter(|i| i.secret) {
        input.default = None;
    }
    document
}

impl AppCore {
    pub fn open_flow(&self, path: &Path) -> Result<OpenedFlow, AppError> {
        let text = std::fs::read_to_string(path).map_err(|err| io_error("read", path, &err))?;
        let document = FlowDocument::parse(&text)
            .map_err(|err| AppError::Invalid(format!("{}: {err}", path.display())))?;
        Ok(OpenedFlow {
            path: Some(path.display().to_string()),
            document,
        })
    }

    pub fn save_flow(&self, path: &Path, document: &FlowDocument) -> Result<(), AppError> {
        write_atomically(path, &without_secret_values(document).to_yaml())
    }

    /// The flow a first start opens: the `chat` example, unsaved.
    pub fn sample_flow(&self) -> Result<OpenedFlow, AppError> {
        let document = FlowDocument::parse(SAMPLE)
            .map_err(|err| AppError::Internal(format!("the sample flow does not parse: {err}")))?;
        Ok(OpenedFlow {
            path: None,
            document,
        })
    }

    /// Every problem of the flow, checked against the saved connections' names.
    pub fn validate_flow(&self, document: &FlowDocument) -> Result<Vec<Diagnostic>, AppError> {
        let connections = self
            .list_connections()?
            .into_iter()
            .map(|c| c.name)
            .collect();
        Ok(validate(
            document,
            &Context {
                connections,
                strict: false,
            },
        ))
    }

    fn recovery_path(&self) -> PathBuf {
        self.settings().data_dir.root().join("recovery.json")
    }

    pub fn save_recovery(
        &self,
        path: Option<String>,
        document: FlowDocument,
    ) -> Result<(), AppError> {
        let saved_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let recovery = Recovery {
            path,
            document: without_secret_values(&document),
            saved_at_ms,
        };
        let text =
            serde_json::to_string(&recovery).map_err(|err| AppError::Internal(err.to_string()))?;
        write_atomically(&self.recovery_path(), &text)
    }

    /// The recovery copy, if one is waiting. A damaged copy is set aside, not lost.
    pub fn take_recovery(&self) -> Result<Option<Recovery>, AppError> {
        let path = self.recovery_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io_error("read", &path, &err)),
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
        match std::fs::remove_file(self.recovery_path()) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_error("remove", &self.recovery_path(), &err)),
        }
    }
}
