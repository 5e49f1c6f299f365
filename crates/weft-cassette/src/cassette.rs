//! A cassette in use: what its file held, what this run recorded, which repeat of each request
//! comes next, and the tally. One mutex over all of it: a decision is a map look-up, and
//! holding the lock while a repeat is handed out is what keeps concurrent calls of one request
//! each getting the next recorded answer, each exactly once a cycle.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use weft_engine::services::Services;

use crate::canonical::Canonical;
use crate::diff::{describe, differences};
use crate::ports::Taped;
use crate::tape::{self, Chunk, Line};
use crate::{CassetteError, CassetteMode, CassetteOptions, Tally};

/// A cassette file, open for one command or one run of the app. Send + Sync: every row of a
/// batch calls through the same one.
pub struct Cassette {
    path: PathBuf,
    options: CassetteOptions,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// What the file held, per key, each key's repeats in order. Ordered, so that the closest
    /// recording to a miss is found the same way every time.
    loaded: BTreeMap<String, Vec<Line>>,
    /// How many answers of each key have been handed out.
    handed: HashMap<String, usize>,
    /// What this run recorded, per key, in the order the answers came.
    fresh: HashMap<String, Vec<Line>>,
    tally: Tally,
}

/// What to do with one call.
pub(crate) enum Decision {
    Replay(Box<Line>),
    /// Call the live port; `record` its answer or not.
    Live {
        record: bool,
    },
    /// Strict replay of a request the file does not hold: the message says what differs.
    Refuse(String),
}

impl Cassette {
    /// Opens the cassette at `path`. Record starts empty (the file is replaced on save); Fill
    /// reads the file if there is one; Replay needs it.
    pub fn open(
        path: impl Into<PathBuf>,
        options: CassetteOptions,
    ) -> Result<Arc<Cassette>, CassetteError> {
        let path = path.into();
        let lines = match options.mode {
            CassetteMode::Record => Vec::new(),
            CassetteMode::Replay | CassetteMode::Fill => match std::fs::read_to_string(&path) {
                Ok(text) => tape::parse(&path, &text)?,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    if options.mode == CassetteMode::Replay {
                        return Err(CassetteError::Missing { path });
                    }
                    Vec::new()
                }
                Err(source) => return Err(CassetteError::Io { path, source }),
            },
        };
        let mut loaded: BTreeMap<String, Vec<Line>> = BTreeMap::new();
        for line in lines {
            loaded.entry(line.key.clone()).or_default().push(line);
        }
        for repeats in loaded.values_mut() {
            repeats.sort_by_key(|line| line.seq);
        }
        Ok(Arc::new(Cassette {
            path,
            options,
            state: Mutex::new(State {
                loaded,
                ..State::default()
            }),
        }))
    }

    /// The same ports, recording or replaying around `live`: model chat (streamed or not),
    /// embeddings, content safety, web search, document search and HTTP.
    pub fn wrap(self: &Arc<Self>, live: Services) -> Services {
        // Python nodes call no service port: their workers are kept as they are.
        let python = live.python.clone();
        let taped = Arc::new(Taped::new(self.clone(), live));
        Services {
            model: taped.clone(),
            content_safety: taped.clone(),
            web_search: taped.clone(),
            document_search: taped.clone(),
            http: taped,
            python,
        }
    }

    pub fn tally(&self) -> Tally {
        self.lock().tally
    }

    /// Record and Fill: writes the whole file (what it held, for Fill, and what this run
    /// recorded), sorted by key and then by the order of repeats, through a temporary file
    /// renamed over it. Replay: nothing to write.
    pub fn save(&self) -> Result<(), CassetteError> {
        if self.options.mode == CassetteMode::Replay {
            return Ok(());
        }
        let state = self.lock();
        let lines = state
            .loaded
            .values()
            .chain(state.fresh.values())
            .flatten()
            .collect();
        tape::write(&self.path, lines)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> CassetteOptions {
        self.options
    }

    pub(crate) fn pace(&self) -> crate::Pace {
        self.options.pace
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `call` is answered from the file, goes live, or (strict) fails. A replay is
    /// counted here; a live call when it ends ([`Self::keep`], [`Self::went_live`]).
    pub(crate) fn decide(&self, call: &Canonical) -> Decision {
        let mut state = self.lock();
        let State {
            loaded,
            handed,
            tally,
            ..
        } = &mut *state;
        let repeats = loaded.get(&call.key).map_or(&[][..], Vec::as_slice);
        let next = handed.get(&call.key).copied().unwrap_or(0);
        let line = match self.options.mode {
            CassetteMode::Record => None,
            // After the last repeat, replay wraps to the first.
            CassetteMode::Replay if !repeats.is_empty() => Some(&repeats[next % repeats.len()]),
            CassetteMode::Replay => None,
            // A repeat beyond those recorded is missing: it is recorded too.
            CassetteMode::Fill => repeats.get(next),
        };
        if let Some(line) = line {
            let line = Box::new(line.clone());
            handed.insert(call.key.clone(), next + 1);
            tally.replayed += 1;
            return Decision::Replay(line);
        }
        match self.options.mode {
            CassetteMode::Replay if self.options.strict => {
                Decision::Refuse(self.miss(loaded, call))
            }
            CassetteMode::Replay => Decision::Live { record: false },
            CassetteMode::Record | CassetteMode::Fill => Decision::Live { record: true },
        }
    }

    /// Why a strict replay has no answer for `call`: the cassette, and how the closest
    /// recorded request of the same service differs.
    fn miss(&self, loaded: &BTreeMap<String, Vec<Line>>, call: &Canonical) -> String {
        let noun = call.service.noun();
        let path = self.path.display();
        let closest = loaded
            .values()
            .filter_map(|repeats| repeats.first())
            .filter(|line| line.service == call.service)
            .map(|line| differences(&call.request, &line.request))
            .min_by_key(Vec::len);
        match closest {
            Some(found) => format!(
                "the cassette {path} holds no recording of this {noun} request (replaying strictly); the closest recorded one differs in {}. Record it with --cassette (adds what is missing) or --record",
                describe(&found)
            ),
            None => format!(
                "the cassette {path} holds no {noun} call at all (replaying strictly); record one with --cassette (adds what is missing) or --record"
            ),
        }
    }

    /// Records the answer of a live call.
    pub(crate) fn keep(
        &self,
        call: &Canonical,
        response: Value,
        chunks: Option<Vec<Chunk>>,
        took: Duration,
    ) {
        let mut state = self.lock();
        let seq = state.loaded.get(&call.key).map_or(0, Vec::len)
            + state.fresh.get(&call.key).map_or(0, Vec::len);
        let line = Line {
            key: call.key.clone(),
            service: call.service,
            seq: seq as u64,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            request: call.request.clone(),
            chunks: chunks.map(|chunks| {
                chunks
                    .into_iter()
                    .map(|chunk| Chunk {
                        text: call.secrets.mask_text(chunk.text),
                        ..chunk
                    })
                    .collect()
            }),
            response: call.secrets.mask(response),
        };
        state.fresh.entry(call.key.clone()).or_default().push(line);
        state.tally.recorded += 1;
    }

    /// Counts a live call whose answer was not recorded.
    pub(crate) fn went_live(&self) {
        self.lock().tally.live += 1;
    }
}
