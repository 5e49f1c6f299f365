//! What a run runs, and what it takes from an earlier run instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde_json::{Map, Value};
use weft_flow::{NodeRole, ValidFlow};

use crate::connection::Target;
use crate::error::RunError;
use crate::redact::Redactor;

/// Which nodes a run runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Plan {
    /// Every node; `reuse` is ignored.
    #[default]
    All,
    /// This node and everything downstream of it. Upstream nodes take their results from
    /// `reuse`; those it lacks run again.
    From(String),
    /// Only this node, with what it reads taken from `reuse`.
    Only(String),
}

/// A finished node's results: its output ports and the variable it set.
#[derive(Clone)]
pub(crate) struct Done {
    pub ports: Map<String, Value>,
    pub set_var: Option<(String, Value)>,
}

/// Node results kept from an earlier run, or given by hand, for [`Plan::From`] and
/// [`Plan::Only`]. It holds values unredacted and the run's dynamic connections, so it lives in
/// memory only: it is neither serialised nor printed.
#[derive(Clone, Default)]
pub struct Reuse {
    pub(crate) nodes: BTreeMap<String, Done>,
    pub(crate) dynamic: HashMap<String, Target>,
    /// The secrets the results may contain, so a later run redacts them too.
    pub(crate) secrets: Redactor,
}

impl Reuse {
    /// Gives a node's `output` by hand, as if it had run.
    pub fn set_output(&mut self, node: &str, output: Value) {
        self.nodes.insert(
            node.to_owned(),
            Done {
                ports: Map::from_iter([("output".to_owned(), output)]),
                set_var: None,
            },
        );
    }

    pub fn contains(&self, node: &str) -> bool {
        self.nodes.contains_key(node)
    }

    /// Adds a later run's results, which win over these.
    pub fn update(&mut self, newer: Reuse) {
        self.nodes.extend(newer.nodes);
        self.dynamic.extend(newer.dynamic);
        self.secrets.merge(&newer.secrets);
    }
}

impl fmt::Debug for Reuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reuse")
            .field("nodes", &self.nodes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The nodes a plan runs, and those it takes from `reuse`; a node in neither is left out.
pub(crate) struct Selection {
    pub run: BTreeSet<String>,
    pub reuse: BTreeSet<String>,
}

pub(crate) fn select(flow: &ValidFlow, plan: &Plan, reuse: &Reuse) -> Result<Selection, RunError> {
    let nodes = &flow.document().nodes;
    let all = || nodes.iter().map(|n| n.id.clone());
    let known = |id: &String| {
        nodes
            .iter()
            .find(|n| &n.id == id)
            .ok_or_else(|| RunError::UnknownNode(id.clone()))
    };
    match plan {
        Plan::All => Ok(Selection {
            run: all().collect(),
            reuse: BTreeSet::new(),
        }),
        Plan::From(start) => {
            known(start)?;
            let downstream = flow.graph().downstream(start);
            let (reused, run) =
                all().partition(|id| !downstream.contains(id) && reuse.contains(id));
            Ok(Selection { run, reuse: reused })
        }
        Plan::Only(node) => {
            if known(node)?.kind.spec().role == NodeRole::FlowPort {
                return Err(RunError::DoesNotRun(node.clone()));
            }
            let reads = flow.graph().dependencies(node).clone();
            let missing: Vec<String> = reads
                .iter()
                .filter(|id| !reuse.contains(id))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(RunError::NothingToReuse {
                    node: node.clone(),
                    missing,
                });
            }
            Ok(Selection {
                run: BTreeSet::from([node.clone()]),
                reuse: reads,
            })
        }
    }
}
