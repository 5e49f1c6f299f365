//! Cassettes in runs, batches and evals: the engine's services wrapped by one, and how a run
//! used it, as history shows it ("replayed": no call left this machine).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use weft_cassette::{Cassette, CassetteMode, Tally};
use weft_engine::services::Services;

use crate::AppCore;

/// How a run, a batch or an eval used a cassette: its mode and what happened to the calls it
/// made (only its own, even when others share the cassette's counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CassetteUse {
    #[ts(type = "\"record\" | \"replay\" | \"fill\"")]
    pub mode: String,
    /// Answered from the cassette.
    #[ts(type = "number")]
    pub replayed: u64,
    /// Made live and written to the cassette.
    #[ts(type = "number")]
    pub recorded: u64,
    /// Made live and not written (an unrecorded call while replaying, not strict).
    #[ts(type = "number")]
    pub live: u64,
}

impl CassetteUse {
    /// As stored in history.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// As read back from history; a value this build cannot read shows as no cassette.
    pub(crate) fn from_json(value: Option<serde_json::Value>) -> Option<Self> {
        value.and_then(|value| serde_json::from_value(value).ok())
    }
}

fn mode_name(mode: CassetteMode) -> &'static str {
    match mode {
        CassetteMode::Record => "record",
        CassetteMode::Replay => "replay",
        CassetteMode::Fill => "fill",
    }
}

/// The cassette's counts when a run started, to tell that run's calls from the others'.
#[derive(Clone)]
pub(crate) struct CassetteMark {
    cassette: Arc<Cassette>,
    start: Tally,
}

impl CassetteMark {
    pub(crate) fn new(cassette: &Arc<Cassette>) -> Self {
        Self {
            cassette: cassette.clone(),
            start: cassette.tally(),
        }
    }

    /// The calls since the mark. Runs sharing the cassette at the same time (test runs in the
    /// app) count in each other's: the counts are the cassette's, not per caller.
    pub(crate) fn use_since(&self) -> CassetteUse {
        let now = self.cassette.tally();
        CassetteUse {
            mode: mode_name(self.cassette.options().mode).to_owned(),
            replayed: now.replayed.saturating_sub(self.start.replayed),
            recorded: now.recorded.saturating_sub(self.start.recorded),
            live: now.live.saturating_sub(self.start.live),
        }
    }
}

/// Every port of `services` through `cassette`, when there is one.
pub(crate) fn wrapped(services: Services, cassette: Option<&Arc<Cassette>>) -> Services {
    match cassette {
        Some(cassette) => cassette.wrap(services),
        None => services,
    }
}

impl AppCore {
    /// A flow engine sharing this process's HTTP client, its calls through `cassette` if one
    /// is given.
    pub fn engine_with(&self, cassette: Option<&Arc<Cassette>>) -> weft_engine::Engine {
        weft_engine::Engine::new(self.services_with(cassette))
    }

    /// The ports nodes call, over this process's HTTP client, through `cassette` if one is given.
    pub(crate) fn services_with(&self, cassette: Option<&Arc<Cassette>>) -> Services {
        wrapped(Services::from_client(self.ai().clone()), cassette)
    }
}
