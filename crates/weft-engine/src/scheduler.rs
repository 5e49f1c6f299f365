use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use weft_ai::{ApiKey, Endpoint, Usage};
use weft_flow::{FlowDocument, NodeKind, ValueType, dependencies};

use crate::event::{NodeState, RunEvent, RunStatus};
use crate::nodes::{DynamicConnections, NodeContext, NodeDone, execute};
use crate::redact::Redactor;
use crate::values::Scope;

/// A connection ready to call.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub endpoint: Endpoint,
    pub key: ApiKey,
}

/// Where saved connections come from (the store, in the app and the CLI).
pub trait ConnectionSource: Send + Sync {
    fn connection(&self, name: &str) -> Result<Target, String>;
}

pub struct RunRequest {
    pub flow: Arc<FlowDocument>,
    pub inputs: Map<String, Value>,
    pub connections: Arc<dyn ConnectionSource>,
    pub cancel: CancellationToken,
    /// How long one node may take, retries included.
    pub node_timeout: Duration,
    pub plan: Plan,
    /// Results to take instead of running their nodes again (see [`Plan`]).
    pub reuse: Reuse,
}

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
struct Done {
    ports: Map<String, Value>,
    set_var: Option<(String, Value)>,
}

/// Node results kept from an earlier run, or given by hand, for [`Plan::From`] and
/// [`Plan::Only`]. It holds values unredacted and the run's dynamic connections, so it lives in
/// memory only: it is neither serialised nor printed.
#[derive(Clone, Default)]
pub struct Reuse {
    nodes: BTreeMap<String, Done>,
    dynamic: HashMap<String, Target>,
    /// The secrets the results may contain, so a later run redacts them too.
    secrets: Redactor,
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

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the flow needs the input `{0}`; give it a value (the CLI's --input {0}=…)")]
    MissingInput(String),
    #[error("the input `{name}` should be {expected:?}, not `{given}`")]
    InputType {
        name: String,
        expected: ValueType,
        given: String,
    },
    #[error("the flow has no input `{0}`")]
    UnknownInput(String),
    #[error("the flow has no node `{0}`")]
    UnknownNode(String),
    #[error("`{0}` only shows the flow's inputs or outputs; it does not run on its own")]
    DoesNotRun(String),
    #[error(
        "`{node}` reads {} with no result to reuse; run the flow once, or give {} a value",
        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
        if missing.len() == 1 { "it" } else { "them" }
    )]
    NothingToReuse { node: String, missing: Vec<String> },
}

/// What a node did, redacted, for the run panel and run history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct NodeRecord {
    pub state: NodeState,
    pub inputs: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOutcome {
    pub run_id: String,
    pub status: RunStatus,
    pub outputs: Map<String, Value>,
    /// The nodes this run reports on: with [`Plan::Only`], that node and what it reused.
    pub nodes: BTreeMap<String, NodeRecord>,
    pub latency_ms: f64,
    /// Every result this run has, to pass to a later run as [`RunRequest::reuse`].
    #[serde(skip)]
    pub reuse: Reuse,
}

pub struct Engine {
    client: weft_ai::Client,
}

fn type_matches(expected: ValueType, value: &Value) -> bool {
    match expected {
        ValueType::String => value.is_string(),
        ValueType::Number => value.is_number(),
        ValueType::Bool => value.is_boolean(),
        ValueType::Object | ValueType::Connection => value.is_object(),
        ValueType::List => value.is_array(),
        ValueType::Any => true,
    }
}

impl Engine {
    pub fn new(client: weft_ai::Client) -> Self {
        Self { client }
    }

    /// Runs a flow that validated. Events go to `events` as they happen; the outcome is also
    /// returned whole. Cancelling `request.cancel` stops running nodes at once and keeps what
    /// finished.
    pub async fn run(
        &self,
        request: RunRequest,
        events: UnboundedSender<RunEvent>,
    ) -> Result<RunOutcome, RunError> {
        let started = Instant::now();
        let flow = request.flow.clone();
        let mut redactor = Redactor::default();
        let mut inputs = Map::new();
        for name in request.inputs.keys() {
            if !flow.inputs.contains_key(name) {
                return Err(RunError::UnknownInput(name.clone()));
            }
        }
        for (name, spec) in &flow.inputs {
            let value = match request.inputs.get(name).or(spec.default.as_ref()) {
                Some(value) => value.clone(),
                None => return Err(RunError::MissingInput(name.clone())),
            };
            if !type_matches(spec.kind, &value) {
                return Err(RunError::InputType {
                    name: name.clone(),
                    expected: spec.kind,
                    given: value.to_string(),
                });
            }
            if spec.secret {
                redactor.add(&crate::values::as_text(&value));
            }
            inputs.insert(name.clone(), value);
        }
        let deps = dependencies(&flow);
        let (to_run, to_reuse) = select(&flow, &deps, &request.plan, &request.reuse)?;
        redactor.merge(&request.reuse.secrets);
        let redactor = Arc::new(Mutex::new(redactor));
        let run_id = uuid::Uuid::new_v4().to_string();
        let _ = events.send(RunEvent::RunStarted {
            run_id: run_id.clone(),
        });

        let mut scope = Scope {
            inputs,
            ..Scope::default()
        };
        let dynamic: DynamicConnections = Arc::new(Mutex::new(request.reuse.dynamic.clone()));
        let mut records: BTreeMap<String, NodeRecord> = BTreeMap::new();
        let mut finished: BTreeMap<String, Done> = BTreeMap::new();
        let mut running: BTreeMap<String, (Instant, Value)> = BTreeMap::new();
        let mut tasks: JoinSet<(String, Result<NodeDone, String>)> = JoinSet::new();
        let mut cancelled = false;
        let redact_value = |value: &Value| {
            redactor
                .lock()
                .map(|r| r.value(value))
                .unwrap_or(Value::Null)
        };
        let redact_text = |text: &str| redactor.lock().map(|r| r.text(text)).unwrap_or_default();

        for node in flow.nodes.iter().filter(|n| to_reuse.contains(&n.id)) {
            let Some(done) = request.reuse.nodes.get(&node.id) else {
                continue;
            };
            if let Some((name, value)) = &done.set_var {
                scope.vars.insert(name.clone(), value.clone());
            }
            scope.nodes.insert(node.id.clone(), done.ports.clone());
            let _ = events.send(RunEvent::NodeReused {
                node: node.id.clone(),
            });
            records.insert(
                node.id.clone(),
                NodeRecord {
                    state: NodeState::Reused,
                    inputs: Value::Null,
                    output: done.ports.get("output").map(&redact_value),
                    error: None,
                    latency_ms: 0.0,
                    usage: None,
                },
            );
            finished.insert(node.id.clone(), done.clone());
        }

        loop {
            // Start (or skip) every node whose dependencies have all finished.
            for node in flow.nodes.iter().filter(|n| to_run.contains(&n.id)) {
                if records.contains_key(&node.id) || running.contains_key(&node.id) {
                    continue;
                }
                // The Inputs and Outputs nodes only place the flow's inputs and outputs on the canvas.
                if matches!(node.kind, NodeKind::Inputs | NodeKind::Outputs) {
                    records.insert(
                        node.id.clone(),
                        NodeRecord {
                            state: NodeState::Succeeded,
                            inputs: Value::Null,
                            output: None,
                            error: None,
                            latency_ms: 0.0,
                            usage: None,
                        },
                    );
                    continue;
                }
                let waits: &BTreeSet<String> = deps.get(&node.id).map_or(&EMPTY, |d| d);
                if !waits.iter().all(|dep| records.contains_key(dep)) {
                    continue;
                }
                let blocked = waits.iter().find_map(|dep| match records[dep].state {
                    NodeState::Succeeded | NodeState::Reused => None,
                    NodeState::Skipped => Some(format!("`{dep}` was skipped")),
                    NodeState::Failed => Some(format!("`{dep}` failed")),
                    NodeState::Cancelled => Some(format!("`{dep}` was cancelled")),
                });
                let props: Result<Map<String, Value>, String> = node
                    .properties
                    .iter()
                    .map(|(key, value)| Ok((key.clone(), scope.eval(value)?)))
                    .collect();
                let branch_off = props
                    .as_ref()
                    .ok()
                    .and_then(|p| p.get("when"))
                    .is_some_and(|when| matches!(when, Value::Bool(false) | Value::Null));
                let skip =
                    blocked.or_else(|| branch_off.then(|| "its branch was not taken".to_owned()));
                if let Some(reason) = skip {
                    let _ = events.send(RunEvent::NodeSkipped {
                        node: node.id.clone(),
                        reason: reason.clone(),
                    });
                    records.insert(
                        node.id.clone(),
                        NodeRecord {
                            state: NodeState::Skipped,
                            inputs: Value::Null,
                            output: None,
                            error: Some(reason),
                            latency_ms: 0.0,
                            usage: None,
                        },
                    );
                    continue;
                }
                let props = match props {
                    Ok(props) => props,
                    Err(err) => {
                        let _ = events.send(RunEvent::NodeFailed {
                            node: node.id.clone(),
                            error: err.clone(),
                        });
                        records.insert(node.id.clone(), failed(Value::Null, err, 0.0));
                        continue;
                    }
                };
                let shown = redact_value(&Value::Object(props.clone()));
                let _ = events.send(RunEvent::NodeStarted {
                    node: node.id.clone(),
                });
                running.insert(node.id.clone(), (Instant::now(), shown));
                let ctx = NodeContext {
                    id: node.id.clone(),
                    kind: node.kind,
                    props,
                    client: self.client.clone(),
                    connections: request.connections.clone(),
                    dynamic: dynamic.clone(),
                    redactor: redactor.clone(),
                    cancel: request.cancel.clone(),
                    events: events.clone(),
                };
                let timeout = request.node_timeout;
                tasks.spawn(async move {
                    let id = ctx.id.clone();
                    let result = match tokio::time::timeout(timeout, execute(ctx)).await {
                        Ok(result) => result,
                        Err(_) => Err(format!(
                            "the node took longer than its {} s timeout",
                            timeout.as_secs_f64()
                        )),
                    };
                    (id, result)
                });
            }
            if tasks.is_empty() {
                break;
            }
            let joined = tokio::select! {
                biased;
                () = request.cancel.cancelled() => {
                    tasks.abort_all();
                    cancelled = true;
                    break;
                }
                joined = tasks.join_next() => joined,
            };
            let Some(joined) = joined else { break };
            let (id, result) = match joined {
                Ok(done) => done,
                Err(err) => {
                    tracing::error!("a node task failed: {err}");
                    continue;
                }
            };
            let Some((at, shown)) = running.remove(&id) else {
                continue;
            };
            let latency_ms = at.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(done) => {
                    if let Some((name, value)) = &done.set_var {
                        scope.vars.insert(name.clone(), value.clone());
                    }
                    finished.insert(
                        id.clone(),
                        Done {
                            ports: done.ports.clone(),
                            set_var: done.set_var.clone(),
                        },
                    );
                    let output = done.ports.get("output").cloned().unwrap_or(Value::Null);
                    let output = redact_value(&output);
                    let _ = events.send(RunEvent::NodeFinished {
                        node: id.clone(),
                        output: output.clone(),
                        latency_ms,
                        usage: done.usage.clone(),
                    });
                    scope.nodes.insert(id.clone(), done.ports);
                    records.insert(
                        id,
                        NodeRecord {
                            state: NodeState::Succeeded,
                            inputs: shown,
                            output: Some(output),
                            error: None,
                            latency_ms,
                            usage: done.usage,
                        },
                    );
                }
                Err(error) => {
                    let error = redact_text(&error);
                    let _ = events.send(RunEvent::NodeFailed {
                        node: id.clone(),
                        error: error.clone(),
                    });
                    records.insert(id, failed(shown, error, latency_ms));
                }
            }
        }

        for (id, (at, shown)) in std::mem::take(&mut running) {
            records.insert(
                id,
                NodeRecord {
                    state: NodeState::Cancelled,
                    inputs: shown,
                    output: None,
                    error: Some("cancelled".into()),
                    latency_ms: at.elapsed().as_secs_f64() * 1000.0,
                    usage: None,
                },
            );
        }
        let mut outputs = Map::new();
        // A single node's run leaves the flow's outputs unknown.
        let flow_outputs = match request.plan {
            Plan::Only(_) => None,
            _ => Some(&flow.outputs),
        };
        for (name, output) in flow_outputs.into_iter().flatten() {
            outputs.insert(
                name.clone(),
                redact_value(
                    &scope
                        .eval(&Value::String(output.value.clone()))
                        .unwrap_or(Value::Null),
                ),
            );
        }
        let status = if cancelled {
            RunStatus::Cancelled
        } else if records.values().any(|r| r.state == NodeState::Failed) {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let _ = events.send(RunEvent::RunFinished {
            status,
            outputs: Value::Object(outputs.clone()),
            latency_ms,
        });
        let reuse = Reuse {
            nodes: finished,
            dynamic: dynamic.lock().map(|d| d.clone()).unwrap_or_default(),
            secrets: redactor.lock().map(|r| r.clone()).unwrap_or_default(),
        };
        Ok(RunOutcome {
            run_id,
            status,
            outputs,
            nodes: records,
            latency_ms,
            reuse,
        })
    }
}

static EMPTY: BTreeSet<String> = BTreeSet::new();

/// The nodes a plan runs, and those it takes from `reuse`; a node in neither is left out.
fn select(
    flow: &FlowDocument,
    deps: &BTreeMap<String, BTreeSet<String>>,
    plan: &Plan,
    reuse: &Reuse,
) -> Result<(BTreeSet<String>, BTreeSet<String>), RunError> {
    let all = || flow.nodes.iter().map(|n| n.id.clone());
    let known = |id: &String| {
        flow.nodes
            .iter()
            .find(|n| &n.id == id)
            .ok_or_else(|| RunError::UnknownNode(id.clone()))
    };
    match plan {
        Plan::All => Ok((all().collect(), BTreeSet::new())),
        Plan::From(start) => {
            known(start)?;
            let mut downstream = BTreeSet::from([start.clone()]);
            // Dependencies point upstream; walk them backwards until nothing is added.
            loop {
                let more: Vec<String> = deps
                    .iter()
                    .filter(|(id, on)| {
                        !downstream.contains(*id) && on.iter().any(|d| downstream.contains(d))
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                if more.is_empty() {
                    break;
                }
                downstream.extend(more);
            }
            let (reused, run): (BTreeSet<String>, BTreeSet<String>) =
                all().partition(|id| !downstream.contains(id) && reuse.contains(id));
            Ok((run, reused))
        }
        Plan::Only(node) => {
            let kind = known(node)?.kind;
            if matches!(kind, NodeKind::Inputs | NodeKind::Outputs) {
                return Err(RunError::DoesNotRun(node.clone()));
            }
            let reads = deps.get(node).cloned().unwrap_or_default();
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
            Ok((BTreeSet::from([node.clone()]), reads))
        }
    }
}

fn failed(inputs: Value, error: String, latency_ms: f64) -> NodeRecord {
    NodeRecord {
        state: NodeState::Failed,
        inputs,
        output: None,
        error: Some(error),
        latency_ms,
        usage: None,
    }
}
