//! The cassette file: JSON Lines, one interaction a line, sorted by key and then by the order
//! of repeats, so that recording again after a small change to a flow gives a small diff.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CassetteError;
use crate::answer;
use crate::canonical::Service;

/// One recorded interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Line {
    /// The sha256 of the canonical request.
    pub key: String,
    pub service: Service,
    /// Which repeat of this key it is, from 0, in the order the answers came.
    pub seq: u64,
    /// How long the live call took.
    pub duration_ms: u64,
    /// The canonical request, secret-free: what a strict replay compares a miss with.
    pub request: Value,
    /// A streamed answer's pieces of text, as they came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<Chunk>>,
    /// The answer, in the service's own form ([`crate::answer`]).
    pub response: Value,
}

/// A piece of a streamed answer, and when it came after the call started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Chunk {
    pub after_ms: u64,
    pub text: String,
}

/// The interactions in `text`, each checked to hold an answer its service can give back.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<Line>, CassetteError> {
    let bad = |line: usize, message: String| CassetteError::BadLine {
        path: path.to_owned(),
        line,
        message,
    };
    let mut lines = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line =
            serde_json::from_str(raw).map_err(|err| bad(index + 1, err.to_string()))?;
        answer::check(&line).map_err(|message| bad(index + 1, message))?;
        lines.push(line);
    }
    Ok(lines)
}

/// Writes `lines` to `path` whole: to a file beside it first, then renamed over it, so a
/// cassette is never left half written.
pub(crate) fn write(path: &Path, mut lines: Vec<&Line>) -> Result<(), CassetteError> {
    let io = |source| CassetteError::Io {
        path: path.to_owned(),
        source,
    };
    lines.sort_by(|a, b| (&a.key, a.seq).cmp(&(&b.key, b.seq)));
    let mut text = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut text, line).map_err(|err| io(err.into()))?;
        text.push(b'\n');
    }
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(name);
    let result = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(&text)?;
        file.sync_all()
    });
    if let Err(err) = result.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(io(err));
    }
    Ok(())
}
