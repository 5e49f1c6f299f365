//! The cassette flags of `weft flow run`, `weft batch run` and `weft eval run`: which file
//! records or replays the service calls of the command, and the one line that says, at the end,
//! what it did with them.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{ArgGroup, Args, ValueEnum};
use weft_cassette::{Cassette, CassetteMode, CassetteOptions, Pace, Tally};
use weft_core::CassetteUse;

use crate::CliError;

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("cassette_file").args(["record", "replay", "cassette"])))]
#[command(group(ArgGroup::new("replaying").args(["replay", "cassette"])))]
pub(crate) struct CassetteArgs {
    /// Make every service call live and write each one to FILE (replacing what it held).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Answer the service calls from FILE; a call it does not hold goes live (or, with
    /// --strict, fails its node).
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Answer from FILE what it holds, and make and add to it the calls it does not.
    #[arg(long, value_name = "FILE")]
    cassette: Option<PathBuf>,
    /// With --replay: a call the cassette does not hold fails its node, naming the closest
    /// recorded call and what differs, instead of going live. (--cassette records such a
    /// call, so it never fails.)
    // Clap takes `requires` as met by a member of the same group, so the others are named.
    #[arg(long, requires = "replay", conflicts_with_all = ["record", "cassette"])]
    strict: bool,
    /// How replayed streams arrive: `instant` (default) or at the `recorded` chunk timing.
    #[arg(
        long,
        value_enum,
        value_name = "instant|recorded",
        requires = "replaying"
    )]
    pace: Option<PaceArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PaceArg {
    Instant,
    Recorded,
}

impl CassetteArgs {
    /// The cassette the flags name, opened (`None`: no cassette flag). A `--replay` file that
    /// does not exist is an error here, before anything runs.
    pub(crate) fn open(&self) -> Result<Option<InUse>, CliError> {
        let (mode, path) = match (&self.record, &self.replay, &self.cassette) {
            (Some(path), _, _) => (CassetteMode::Record, path),
            (_, Some(path), _) => (CassetteMode::Replay, path),
            (_, _, Some(path)) => (CassetteMode::Fill, path),
            (None, None, None) => return Ok(None),
        };
        let pace = match self.pace {
            Some(PaceArg::Recorded) => Pace::Recorded,
            Some(PaceArg::Instant) | None => Pace::Instant,
        };
        let options = CassetteOptions {
            mode,
            strict: self.strict,
            pace,
        };
        let cassette = Cassette::open(path.clone(), options)
            .map_err(|err| CliError::Usage(err.to_string()))?;
        Ok(Some(InUse {
            cassette,
            shown: path.clone(),
        }))
    }
}

/// An open cassette and the path it was named by on the command line.
pub(crate) struct InUse {
    cassette: Arc<Cassette>,
    shown: PathBuf,
}

impl InUse {
    pub(crate) fn cassette(&self) -> Arc<Cassette> {
        self.cassette.clone()
    }

    /// Writes the cassette (recording modes) and says on stderr what came from where. Called
    /// however the command ended, so calls made before a failure or Ctrl-C are kept.
    pub(crate) fn close(&self) -> Result<(), CliError> {
        let saved = self.cassette.save();
        self.tell();
        saved.map_err(|err| {
            CliError::Runtime(format!(
                "could not save the cassette {}: {err}",
                self.shown.display()
            ))
        })
    }

    fn tell(&self) {
        let tally = self.cassette.tally();
        eprintln!(
            "cassette {}: {} replayed, {} recorded, {} live",
            self.shown.display(),
            tally.replayed,
            tally.recorded,
            tally.live
        );
    }
}

/// Closes `cassette` (if any) after a command's `result`: the command's own error comes first;
/// a cassette that cannot be saved fails a command that had worked. A command that failed
/// before making any call leaves the file as it was: a typo in an input must not empty a
/// cassette that `--record` would otherwise rewrite.
pub(crate) fn closing<T>(
    cassette: Option<&InUse>,
    result: Result<T, CliError>,
) -> Result<T, CliError> {
    let Some(cassette) = cassette else {
        return result;
    };
    match result {
        Err(err) if cassette.cassette.tally() == Tally::default() => {
            cassette.tell();
            Err(err)
        }
        Err(err) => {
            if let Err(unsaved) = cassette.close() {
                eprintln!("weft: {unsaved}");
            }
            Err(err)
        }
        Ok(value) => cassette.close().map(|()| value),
    }
}

/// How history words a stored run's cassette: `replay: 3 replayed, 0 recorded, 0 live`.
pub(crate) fn described(used: &CassetteUse) -> String {
    format!(
        "{}: {} replayed, {} recorded, {} live",
        used.mode, used.replayed, used.recorded, used.live
    )
}

/// The one-word mark of a run in a list: `replayed`, `recorded`, or `filled` (some of each).
pub(crate) fn mark(used: &CassetteUse) -> &'static str {
    match used.mode.as_str() {
        "replay" => "replayed",
        "record" => "recorded",
        _ => "filled",
    }
}
