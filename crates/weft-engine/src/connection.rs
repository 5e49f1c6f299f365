//! The connections a run's nodes reach: saved ones by name, through the caller's
//! [`ConnectionSource`], and those a Create Azure AI connection node made during the run, by
//! the handle its variable carries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use weft_ai::{Credential, Endpoint};

/// A connection ready to call.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub endpoint: Endpoint,
    pub credential: Credential,
}

/// Where saved connections come from (the store, in the app and the CLI).
pub trait ConnectionSource: Send + Sync {
    fn connection(&self, name: &str) -> Result<Target, String>;
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
    pub async fn saved(&self, name: &str) -> Result<Target, String> {
        let source = self.saved.clone();
        let name = name.to_owned();
        match tokio::task::spawn_blocking(move || source.connection(&name)).await {
            Ok(target) => target,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(format!("internal: the connection lookup stopped ({err})")),
        }
    }
}
