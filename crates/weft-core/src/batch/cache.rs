//! The saved connections of a batch, looked up once for all its rows.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use weft_engine::{ConnectionSource, ResolvedConnection};
use weft_flow::{FlowDocument, find_references};

use crate::{AppCore, StoreConnections};

/// One connection's lookup, made by the first row that needs it and shared by the rest.
type Lookup = Arc<OnceLock<Result<ResolvedConnection, String>>>;

/// The saved connections a batch uses, each read once (SQLite and the keychain) for every row,
/// instead of once per node per row.
pub(crate) struct CachedConnections<S = StoreConnections> {
    inner: S,
    cache: Mutex<HashMap<String, Lookup>>,
}

impl<S> CachedConnections<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            cache: Mutex::default(),
        }
    }
}

impl<S: ConnectionSource> ConnectionSource for CachedConnections<S> {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        let slot = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_default()
            .clone();
        // Rows that ask meanwhile wait for the first lookup (they run on the blocking pool)
        // rather than each asking the keychain.
        slot.get_or_init(|| self.inner.connection(name)).clone()
    }

    fn at_hand(&self, name: &str) -> Option<Result<ResolvedConnection, String>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)?
            .get()
            .cloned()
    }
}

impl AppCore {
    /// The batch's connections, each saved one the flow names looked up now, before the first
    /// row: rows then take them from memory instead of all missing the cache at once. A lookup
    /// that fails is kept too, and fails the rows that use it.
    pub(super) async fn warm_connections(
        self: &Arc<Self>,
        flow: &FlowDocument,
        profile: Option<String>,
    ) -> Arc<CachedConnections> {
        let connections = Arc::new(CachedConnections::new(StoreConnections::new(
            self.clone(),
            profile,
        )));
        let names = saved_connections(flow);
        let warming = connections.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for name in names {
                let _ = warming.connection(&name);
            }
        })
        .await;
        connections
    }
}

/// The saved connections the flow's nodes name (a reference such as `${inputs.conn}` is only
/// known when a row runs).
fn saved_connections(flow: &FlowDocument) -> BTreeSet<String> {
    flow.nodes
        .iter()
        .flat_map(|node| {
            node.kind
                .properties()
                .iter()
                .filter(|spec| !spec.connection_types().is_empty())
                .filter_map(|spec| node.properties.get(spec.key)?.as_str())
        })
        .map(str::trim)
        .filter(|name| !name.is_empty() && find_references(name).is_ok_and(|r| r.is_empty()))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn the_saved_connections_a_flow_names_are_found_but_not_references() {
        let flow = FlowDocument::parse(
            "schema: 1\ninputs:\n  conn: { type: string }\nnodes:\n\
             \x20 - { id: a, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: d, user_prompt: hi } }\n\
             \x20 - { id: b, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: \"${inputs.conn}\", deployment: d, user_prompt: hi } }\n\
             \x20 - { id: c, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: model } }\n",
        )
        .unwrap();
        assert_eq!(
            saved_connections(&flow),
            BTreeSet::from(["model".to_owned()])
        );
    }

    /// Counts its lookups; every one fails, which is cached like a success.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl ConnectionSource for Counting {
        fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(format!("no `{name}`"))
        }
    }

    #[test]
    fn each_connection_is_looked_up_once_per_batch() {
        let cached = CachedConnections::new(Counting::default());
        assert!(
            cached.at_hand("model").is_none(),
            "nothing at hand before a lookup"
        );
        for _ in 0..3 {
            assert_eq!(cached.connection("model").unwrap_err(), "no `model`");
        }
        assert_eq!(cached.at_hand("model").unwrap().unwrap_err(), "no `model`");
        let _ = cached.connection("other");
        assert_eq!(cached.inner.0.load(Ordering::SeqCst), 2);
    }
}
