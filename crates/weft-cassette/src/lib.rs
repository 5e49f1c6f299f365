//! Cassettes: a run's service calls recorded to a JSONL file and replayed from it, so that a
//! flow, a batch or an evaluation runs again free, offline and deterministically. SKELETON.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_engine::services::Services;

/// What a cassette does with each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CassetteMode {
    /// Every call goes to the live service; the file is rewritten with what they answered.
    Record,
    /// Calls are answered from the file.
    Replay,
    /// Replay what the file holds, record what it does not.
    Fill,
}

/// How a replayed stream arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Instant,
    Recorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CassetteOptions {
    pub mode: CassetteMode,
    pub strict: bool,
    pub pace: Pace,
}

/// How many calls a cassette answered, recorded, or let through to the live service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub replayed: u64,
    pub recorded: u64,
    pub live: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    #[error("there is no cassette at {}; record one with --record FILE", .path.display())]
    Missing { path: PathBuf },
    #[error("{}, line {line}: {message}", .path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct Cassette {
    path: PathBuf,
    options: CassetteOptions,
}

impl Cassette {
    pub fn open(
        path: impl Into<PathBuf>,
        options: CassetteOptions,
    ) -> Result<Arc<Cassette>, CassetteError> {
        Ok(Arc::new(Cassette {
            path: path.into(),
            options,
        }))
    }

    pub fn wrap(self: &Arc<Self>, live: Services) -> Services {
        live
    }

    pub fn tally(&self) -> Tally {
        Tally::default()
    }

    pub fn save(&self) -> Result<(), CassetteError> {
        todo!("skeleton")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> CassetteOptions {
        self.options
    }
}
