//! The connections a run's nodes reach: saved ones by name, through the caller's
//! [`ConnectionSource`], and those a Create Azure AI connection node made during the run, by
//! the handle its variable carries.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use weft_ai::content_safety::ContentSafetyTarget;
use weft_ai::search::SearchTarget;
use weft_ai::serp::SerpTarget;
use weft_ai::{ApiKey, Credential, Endpoint};
use weft_flow::{ConnectionType, MODEL_CONNECTIONS};

/// A model connection ready to call.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub endpoint: Endpoint,
    pub credential: Credential,
}

/// A saved connection ready to call: one variant per service family, each holding the target
/// its client takes, so a node gets a typed target rather than a map of fields. Never
/// serialised; keys print as `******`.
#[derive(Debug, Clone)]
pub enum ResolvedConnection {
    /// Azure AI Foundry, Azure OpenAI, OpenAI or a serverless endpoint: chat and embeddings.
    /// The same type as a connection a flow creates at run time.
    Model(Target),
    /// Azure AI Content Safety: endpoint, key and API version. `key` is the one in the target
    /// (which keeps its own private), so the run can mask it before the node reports anything.
    ContentSafety {
        name: String,
        target: ContentSafetyTarget,
        key: ApiKey,
    },
    /// Azure AI Search: endpoint, key and API version; `key` as for Content Safety.
    Search {
        name: String,
        target: SearchTarget,
        key: ApiKey,
    },
    /// SerpAPI (or a proxy or test server standing in for it) and its key; `key` as for
    /// Content Safety.
    Serp {
        name: String,
        target: SerpTarget,
        key: ApiKey,
    },
    /// Free settings and secrets, for a node that builds its own request (HTTP).
    Custom(CustomSettings),
}

/// A custom connection's `configs` and `secrets`, the secrets read from the keychain.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomSettings {
    pub name: String,
    pub configs: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, ApiKey>,
}

/// A node was given a saved connection of another type than the one it calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is {is}, and this node needs {needs}; choose a connection of type {types}")]
pub struct WrongConnection {
    pub name: String,
    /// What the connection reaches, as [`ResolvedConnection::family`] says it.
    pub is: &'static str,
    pub needs: &'static str,
    /// The connection types that would do, as a connection file names them (`a, b or c`).
    pub types: String,
}

impl ResolvedConnection {
    pub fn name(&self) -> &str {
        match self {
            Self::Model(target) => &target.name,
            Self::ContentSafety { name, .. }
            | Self::Search { name, .. }
            | Self::Serp { name, .. } => name,
            Self::Custom(settings) => &settings.name,
        }
    }

    /// What the connection reaches, for messages.
    pub fn family(&self) -> &'static str {
        match self {
            Self::Model(_) => "a model endpoint",
            Self::ContentSafety { .. } => "an Azure AI Content Safety resource",
            Self::Search { .. } => "an Azure AI Search service",
            Self::Serp { .. } => "a SerpAPI account",
            Self::Custom(_) => "a custom connection",
        }
    }

    /// The keys the connection holds, for the run's redactor. An Entra ID token is fetched by
    /// the client and masked there.
    pub fn secrets(&self) -> Vec<&ApiKey> {
        match self {
            Self::Model(target) => target.credential.key().into_iter().collect(),
            Self::ContentSafety { key, .. } | Self::Search { key, .. } | Self::Serp { key, .. } => {
                vec![key]
            }
            Self::Custom(settings) => settings.secrets.values().collect(),
        }
    }

    /// The model endpoint, when the connection is one.
    pub fn as_model(&self) -> Option<&Target> {
        match self {
            Self::Model(target) => Some(target),
            _ => None,
        }
    }

    fn wrong(&self, needs: &'static str, types: &[ConnectionType]) -> WrongConnection {
        WrongConnection {
            name: self.name().to_owned(),
            is: self.family(),
            needs,
            types: match types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .split_last()
            {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            },
        }
    }

    pub fn into_model(self) -> Result<Target, WrongConnection> {
        match self {
            Self::Model(target) => Ok(target),
            other => Err(other.wrong("a model endpoint", MODEL_CONNECTIONS)),
        }
    }

    pub fn into_content_safety(self) -> Result<ContentSafetyTarget, WrongConnection> {
        match self {
            Self::ContentSafety { target, .. } => Ok(target),
            other => Err(other.wrong(
                "an Azure AI Content Safety resource",
                &[ConnectionType::AzureContentSafety],
            )),
        }
    }

    pub fn into_search(self) -> Result<SearchTarget, WrongConnection> {
        match self {
            Self::Search { target, .. } => Ok(target),
            other => Err(other.wrong(
                "an Azure AI Search service",
                &[ConnectionType::CognitiveSearch],
            )),
        }
    }

    pub fn into_serp(self) -> Result<SerpTarget, WrongConnection> {
        match self {
            Self::Serp { target, .. } => Ok(target),
            other => Err(other.wrong("a SerpAPI account", &[ConnectionType::Serp])),
        }
    }

    pub fn into_custom(self) -> Result<CustomSettings, WrongConnection> {
        match self {
            Self::Custom(settings) => Ok(settings),
            other => Err(other.wrong("a custom connection", &[ConnectionType::Custom])),
        }
    }
}

/// Where saved connections come from (the store, in the app and the CLI).
pub trait ConnectionSource: Send + Sync {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String>;

    /// The connection, when the source has it at hand without blocking (a cache that looked it
    /// up already); `None`: ask [`ConnectionSource::connection`] on the blocking pool. A batch
    /// of 128 rows at once would otherwise keep 128 blocking threads for lookups it answers
    /// from memory.
    fn at_hand(&self, name: &str) -> Option<Result<ResolvedConnection, String>> {
        let _ = name;
        None
    }
}

/// One run's connections. Clones share the connections made at run time.
#[derive(Clone)]
pub(crate) struct Connections {
    saved: Arc<dyn ConnectionSource>,
    made: Arc<Mutex<HashMap<String, Target>>>,
}

impl Connections {
    /// `made`: connections an earlier run made, which the nodes it reuses still point at.
    pub fn new(saved: Arc<dyn ConnectionSource>, made: HashMap<String, Target>) -> Self {
        Self {
            saved,
            made: Arc::new(Mutex::new(made)),
        }
    }

    /// Keeps a connection made at run time; the handle a variable may carry instead of its key.
    pub fn make(&self, target: Target) -> Result<String, String> {
        let handle = uuid::Uuid::new_v4().to_string();
        self.made
            .lock()
            .map_err(|_| "internal: connection lock")?
            .insert(handle.clone(), target);
        Ok(handle)
    }

    /// The connection made at run time under `handle`.
    pub fn made(&self, handle: &str) -> Result<Target, String> {
        self.made
            .lock()
            .map_err(|_| "internal: connection lock")?
            .get(handle)
            .cloned()
            .ok_or_else(|| "the dynamic connection was not created in this run".to_owned())
    }

    /// Every connection made at run time so far, for a later run that reuses this one's results.
    pub fn all_made(&self) -> HashMap<String, Target> {
        self.made
            .lock()
            .map(|made| made.clone())
            .unwrap_or_default()
    }

    /// The saved connection `name`. SQLite and the keychain block (an unlock prompt may wait on
    /// the user): the lookup runs off the async workers, so the node's timeout and cancel still
    /// work while it waits.
    pub async fn saved(&self, name: &str) -> Result<ResolvedConnection, String> {
        if let Some(found) = self.saved.at_hand(name) {
            return found;
        }
        let source = self.saved.clone();
        let name = name.to_owned();
        match tokio::task::spawn_blocking(move || source.connection(&name)).await {
            Ok(target) => target,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(format!("internal: the connection lookup stopped ({err})")),
        }
    }
}
