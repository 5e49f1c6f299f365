use serde::Serialize;
use ts_rs::TS;
use weft_ai::InferenceError;
use weft_store::connections::{ConnectionError, Problem, ProfileError};
use weft_store::{DbError, KeychainError, PathsError};

use crate::flows::FlowFileError;

/// Every failure a use case can report. Each message says what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    DataFolder(#[from] PathsError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The service a connection points at answered with an error, or not at all.
    #[error(transparent)]
    Service(#[from] InferenceError),
    #[error(transparent)]
    FlowFile(#[from] FlowFileError),
    /// Genuinely bad input: the message says which and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// No run has this id (connections, profiles and flow files say so through their own
    /// errors, which map to the same kind).
    #[error("{0}")]
    NotFound(String),
    /// What was asked for is already happening: a run with this id is in progress.
    #[error("{0}")]
    Busy(String),
    /// A file of Weft's own (not a flow file: those are [`FlowFileError`]s) could not be read.
    #[error(
        "could not {what}: {source}; check that the file is there and that you may read and write it"
    )]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: {0}; please report this")]
    Internal(String),
}

impl AppError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::DataFolder(_) => ErrorKind::DataFolder,
            Self::Database(_) => ErrorKind::Database,
            Self::Keychain(_) => ErrorKind::Keychain,
            Self::Connection(err) => connection_kind(err),
            Self::Profile(err) => match err {
                ProfileError::Unknown(_) => ErrorKind::NotFound,
                ProfileError::BadName(_) | ProfileError::Env(_) => ErrorKind::InvalidInput,
                ProfileError::Exists(_) => ErrorKind::Conflict,
                ProfileError::MissingSecret { .. } => ErrorKind::Keychain,
                ProfileError::Connection(err) => connection_kind(err),
            },
            Self::Service(_) => ErrorKind::Service,
            Self::FlowFile(err) => match err {
                FlowFileError::ChangedOnDisk { .. } => ErrorKind::ChangedOnDisk,
                FlowFileError::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    ErrorKind::NotFound
                }
                FlowFileError::Io { .. } => ErrorKind::Io,
                FlowFileError::NotAFlowFile { .. } | FlowFileError::NotAFlow { .. } => {
                    ErrorKind::InvalidInput
                }
            },
            Self::Invalid(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Busy(_) => ErrorKind::Busy,
            Self::Io { .. } => ErrorKind::Io,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Field-level problems, for forms to show next to the field.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Connection(ConnectionError::Invalid(problems))
            | Self::Profile(ProfileError::Connection(ConnectionError::Invalid(problems))) => {
                problems
            }
            _ => &[],
        }
    }
}

fn connection_kind(err: &ConnectionError) -> ErrorKind {
    match err {
        ConnectionError::Invalid(_) => ErrorKind::InvalidInput,
        ConnectionError::NotFound(_) => ErrorKind::NotFound,
        ConnectionError::NameTaken(_) => ErrorKind::Conflict,
        ConnectionError::Keychain { .. } | ConnectionError::MissingSecret { .. } => {
            ErrorKind::Keychain
        }
        ConnectionError::Db(_) => ErrorKind::Database,
    }
}

/// The closed set of error kinds the UI can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ErrorKind {
    /// The user's input is wrong; `problems` says where.
    InvalidInput,
    /// No connection, profile, run or flow file has that name or id (a flow file: it is gone).
    NotFound,
    /// The name is taken.
    Conflict,
    /// A run with this id is already in progress: wait for it, or cancel it.
    Busy,
    /// The file changed on disk since the editor read it; ask before saving over it.
    ChangedOnDisk,
    /// A file could not be read or written for another reason than not being there (no
    /// permission, a folder in its place, a full disk); the message names the file.
    Io,
    DataFolder,
    Database,
    Keychain,
    /// A model endpoint failed: wrong key, missing deployment, throttling, network…
    Service,
    Internal,
}

/// How an [`AppError`] crosses to the UI: a kind to branch on and a sentence to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub kind: ErrorKind,
    pub message: String,
    pub problems: Vec<Problem>,
}

impl From<AppError> for IpcError {
    fn from(err: AppError) -> Self {
        Self {
            kind: err.kind(),
            message: err.to_string(),
            problems: err.problems().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_kinds_cross_ipc_by_their_names() {
        let kind =
            |err: AppError| serde_json::to_value(IpcError::from(err)).unwrap()["kind"].clone();
        assert_eq!(
            kind(AppError::Busy(
                "a run with the id `r1` is already in progress".into()
            )),
            "busy"
        );
        assert_eq!(kind(AppError::NotFound("no run `r1`".into())), "notFound");
        let unreadable = FlowFileError::Io {
            action: "read",
            path: "a.weft.yaml".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(kind(unreadable.into()), "io");
    }

    #[test]
    fn crosses_ipc_as_kind_and_message() {
        let err = AppError::Internal("state lock poisoned".into());
        let json = serde_json::to_value(IpcError::from(err)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "internal",
                "message": "internal error: state lock poisoned; please report this",
                "problems": []
            })
        );
    }
}
