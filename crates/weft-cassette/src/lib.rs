//! Cassettes: a run's service calls recorded to a file and replayed from it, so that a flow, a
//! batch or an evaluation runs again free, offline and the same every time.
//!
//! A cassette wraps the ports of [`weft_engine::services`] ([`Cassette::wrap`]): every model
//! call (chat, streamed or not, and embeddings) and every service call (Content Safety, web
//! search, document search, HTTP) goes through it, and no node knows.
//!
//! - **Key.** Each call is put in a canonical form (`canonical.rs`): the service, the host (with
//!   its port) and path, the query without `api-version` (sorted), the deployment, the body with
//!   its keys sorted and the volatile fields left out, and whether it streams. Its key is the
//!   sha256 of that form's JSON. No credential is in it: keys and tokens travel in headers the
//!   ports never see, SerpApi's key is added after the URL is built, an HTTP request node's
//!   credential headers are left out, and each secret a request names is replaced by `******`
//!   before anything is hashed or written (in its answer too).
//!   The port is part of the host: a cassette replays against the address it was recorded at.
//! - **File.** JSON Lines, one interaction a line: `{key, service, seq, duration_ms, request,
//!   chunks?, response}`, sorted by key and then `seq`, so recording again after a small change
//!   gives a small diff. A streamed answer keeps its pieces of text with the milliseconds each
//!   came after the call started (replayed at once, or at that pace: [`Pace`]), and the
//!   assembled answer (usage, finish reason). The service's request id is not kept.
//! - **Repeats.** One request made several times (rows with the same input) is recorded once a
//!   call, `seq` 0, 1, …, and replayed in that order; after the last, replay wraps to the first.
//!   Concurrent calls each get the next one, each exactly once a cycle.
//! - **Modes.** Record: every call live, the file replaced on [`Cassette::save`]. Replay: from
//!   the file; a call it does not hold goes live (counted in [`Tally::live`], not recorded), or
//!   with `strict` fails with [`weft_ai::InferenceError::NotRecorded`], naming the file and how
//!   the closest recorded request of the same service differs. Fill: replays what the file
//!   holds (a repeat beyond those recorded counts as missing) and records the rest.
//! - Failed calls are not recorded: a failure is most often passing, and asking again is right.

mod answer;
mod canonical;
mod cassette;
mod diff;
mod ports;
mod tape;

use std::path::PathBuf;

pub use cassette::Cassette;

/// What a cassette does with each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CassetteMode {
    /// `--record`: every call goes to the live service; the file is rewritten with the answers.
    Record,
    /// `--replay`: calls are answered from the file.
    Replay,
    /// `--cassette`: what the file holds is replayed, what it does not is recorded.
    Fill,
}

/// How a replayed stream arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// All at once.
    Instant,
    /// Each piece as long after the call started as it came when recorded.
    Recorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CassetteOptions {
    pub mode: CassetteMode,
    /// Replay only: a call the file does not hold fails instead of going live.
    pub strict: bool,
    pub pace: Pace,
}

/// How many calls a cassette answered from its file, recorded, or let through to the live
/// service without recording.
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
    #[error("the cassette {}, line {line}, is not a recorded call: {message}", .path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("could not read or write the cassette {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
