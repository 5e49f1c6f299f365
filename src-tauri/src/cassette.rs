//! The Record / Replay switch beside Test run (and the Evaluate panel's): the cassette a run's
//! model calls go through. It sits beside the file it belongs to, `chat.weft.yaml` →
//! `chat.cassette.jsonl`, `chat.eval.yaml` → `chat.eval.cassette.jsonl`, so it can be committed
//! with it and replayed by `weft … --replay` in CI.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use weft_core::{AppError, Cassette, CassetteError, CassetteMode, CassetteOptions, Pace};

/// What the switch is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "lowercase")]
pub enum CassetteSwitch {
    /// Every call goes to its service; no cassette.
    Off,
    /// Every call goes to its service and the cassette is written anew.
    Record,
    /// Every call is answered from the cassette; one it lacks fails, naming the closest
    /// recorded call and what differs (the CLI's `--replay --strict`: in the app, a replayed
    /// run that quietly went live would defeat the switch).
    Replay,
    /// "Record missing": recorded calls are replayed, the others made and added.
    Fill,
}

/// The cassette of `file`, beside it.
pub fn cassette_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = [".weft.yaml", ".weft.yml", ".yaml", ".yml"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    file.with_file_name(format!("{stem}.cassette.jsonl"))
}

/// Opens the cassette beside `file` as the switch says; `None` when it is off. A run of an
/// unsaved flow (`file` `None`) cannot have one: the UI disables the switch, and says why.
pub fn open_beside(
    file: Option<&Path>,
    switch: CassetteSwitch,
    pace: Pace,
) -> Result<Option<Arc<Cassette>>, AppError> {
    let mode = match switch {
        CassetteSwitch::Off => return Ok(None),
        CassetteSwitch::Record => CassetteMode::Record,
        CassetteSwitch::Replay => CassetteMode::Replay,
        CassetteSwitch::Fill => CassetteMode::Fill,
    };
    let Some(file) = file else {
        return Err(AppError::Invalid(
            "an unsaved flow has no place for a cassette; save the flow first, or run it live"
                .into(),
        ));
    };
    let options = CassetteOptions {
        mode,
        strict: switch == CassetteSwitch::Replay,
        pace,
    };
    Cassette::open(cassette_path(file), options)
        .map(Some)
        .map_err(app_error)
}

/// Writes what was recorded (nothing for a replay); called however the run ended, so the calls
/// made before a failure or a cancel are kept.
pub fn save(cassette: Option<&Arc<Cassette>>) -> Result<(), AppError> {
    cassette.map_or(Ok(()), |c| c.save().map_err(app_error))
}

fn app_error(err: CassetteError) -> AppError {
    match err {
        // The core's message names the CLI's flag; in the app the switch makes one.
        CassetteError::Missing { path } => AppError::NotFound(format!(
            "there is no cassette at {} yet; run once with Record (or Record missing) to make it",
            path.display()
        )),
        CassetteError::Io { path, source } => AppError::Io {
            what: format!("read or write the cassette {}", path.display()),
            source,
        },
        err @ CassetteError::BadLine { .. } => {
            AppError::Invalid(format!("{err}; record the cassette again, or fix the line"))
        }
    }
}

#[cfg(test)]
mod tests {
    use weft_core::ErrorKind;

    use super::*;

    #[test]
    fn the_cassette_sits_beside_its_file() {
        assert_eq!(
            cassette_path(Path::new("/flows/chat.weft.yaml")),
            Path::new("/flows/chat.cassette.jsonl")
        );
        assert_eq!(
            cassette_path(Path::new("/flows/chat.eval.yaml")),
            Path::new("/flows/chat.eval.cassette.jsonl")
        );
        assert_eq!(
            cassette_path(Path::new("notes")),
            Path::new("notes.cassette.jsonl")
        );
    }

    #[test]
    fn off_opens_nothing_and_an_unsaved_flow_cannot_record() {
        assert!(
            open_beside(None, CassetteSwitch::Off, Pace::Instant)
                .unwrap()
                .is_none()
        );
        let err = open_beside(None, CassetteSwitch::Record, Pace::Instant)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("save the flow first"), "{err}");
    }

    /// Replay is strict in the app, Record missing is not, and both open the file beside the flow.
    #[test]
    fn each_mode_opens_the_cassette_beside_the_flow() {
        let dir = tempfile::tempdir().unwrap();
        let flow = dir.path().join("chat.weft.yaml");
        std::fs::write(dir.path().join("chat.cassette.jsonl"), "").unwrap();
        for (switch, mode, strict) in [
            (CassetteSwitch::Record, CassetteMode::Record, false),
            (CassetteSwitch::Replay, CassetteMode::Replay, true),
            (CassetteSwitch::Fill, CassetteMode::Fill, false),
        ] {
            let cassette = open_beside(Some(&flow), switch, Pace::Recorded)
                .unwrap()
                .unwrap();
            assert_eq!(cassette.path(), dir.path().join("chat.cassette.jsonl"));
            let options = cassette.options();
            assert_eq!(
                (options.mode, options.strict, options.pace),
                (mode, strict, Pace::Recorded)
            );
        }
    }

    #[test]
    fn replaying_a_cassette_never_recorded_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let flow = dir.path().join("chat.weft.yaml");
        let err = open_beside(Some(&flow), CassetteSwitch::Replay, Pace::Instant)
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let text = err.to_string();
        assert!(text.contains("chat.cassette.jsonl"), "{text}");
        assert!(text.contains("Record"), "{text}");
        assert!(!text.contains("--record"), "{text}");
    }
}
