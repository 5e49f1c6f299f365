use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use weft_ai::Usage;
use weft_flow::{
    FlowDocument, Node, NodeRole, Reference, ValueType, dependencies, secret_inputs,
    secret_references,
};

use crate::connection::{ConnectionSource, Connections, Target};
use crate::event::{NodeState, RunEvent, RunStatus};
use crate::nodes::{NodeContext, NodeDone, execute};
use crate::redact::{MASK, Redactor};
use crate::services::Services;
use crate::values::Scope;

pub struct RunRequest {
    /// Chosen by the caller, so that it can cancel the run by id before the first event.
    pub run_id: String,
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
    /// A secret's value is never echoed, not even a wrong one.
    #[error(
        "the input `{name}` should be {expected:?}; its value is not shown because it is secret"
    )]
    SecretInputType { name: String, expected: ValueType },
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
    /// The flow's inputs as they may be stored: secret ones `******`, secrets inside others masked.
    pub inputs: Map<String, Value>,
    pub outputs: Map<String, Value>,
    /// The nodes this run reports on: with [`Plan::Only`], that node and what it reused.
    pub nodes: BTreeMap<String, NodeRecord>,
    pub latency_ms: f64,
    /// Every result this run has, to pass to a later run as [`RunRequest::reuse`].
    #[serde(skip)]
    pub reuse: Reuse,
}

pub struct Engine {
    services: Services,
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
    /// An engine whose nodes call `services` (`Services::from_client` in the app and the CLI).
    pub fn new(services: Services) -> Self {
        Self { services }
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
        let secret = secret_inputs(&flow);
        let inputs = checked_inputs(&flow, &request.inputs, &secret)?;
        let deps = dependencies(&flow);
        let (to_run, to_reuse) = select(&flow, &deps, &request.plan, &request.reuse)?;
        let mut run = Run::new(&request, inputs, secret, events);
        run.reuse(&flow, &request.reuse, &to_reuse);
        let _ = run.events.send(RunEvent::RunStarted {
            run_id: request.run_id.clone(),
        });
        let mut tasks: JoinSet<(String, Result<NodeDone, String>)> = JoinSet::new();
        let mut cancelled = false;
        loop {
            for node in flow.nodes.iter().filter(|n| to_run.contains(&n.id)) {
                if let Some(ctx) = run.start(node, &deps, self, &request) {
                    tasks.spawn(supervised(ctx, request.node_timeout));
                }
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
            match joined {
                Some(Ok((id, result))) => run.finish(&id, result),
                // Panics are caught inside the task; only an abort gets here, and aborts happen
                // after the loop ends.
                Some(Err(err)) => tracing::error!("a node task ended abnormally: {err}"),
                None => break,
            }
        }
        Ok(run.outcome(&request, cancelled, started))
    }
}

/// The flow's inputs with defaults applied, each of the declared type.
fn checked_inputs(
    flow: &FlowDocument,
    given: &Map<String, Value>,
    secret: &BTreeSet<String>,
) -> Result<Map<String, Value>, RunError> {
    if let Some(name) = given.keys().find(|name| !flow.inputs.contains_key(*name)) {
        return Err(RunError::UnknownInput(name.clone()));
    }
    let mut inputs = Map::new();
    for (name, spec) in &flow.inputs {
        let Some(value) = given.get(name).or(spec.default.as_ref()) else {
            return Err(RunError::MissingInput(name.clone()));
        };
        if !type_matches(spec.kind, value) {
            return Err(if secret.contains(name) {
                RunError::SecretInputType {
                    name: name.clone(),
                    expected: spec.kind,
                }
            } else {
                RunError::InputType {
                    name: name.clone(),
                    expected: spec.kind,
                    given: value.to_string().chars().take(80).collect(),
                }
            });
        }
        inputs.insert(name.clone(), value.clone());
    }
    Ok(inputs)
}

/// Runs a node under its timeout. A panic inside it (a bug, or a connection source that
/// panicked) fails that node with a clear sentence instead of leaving the run half done.
async fn supervised(ctx: NodeContext, timeout: Duration) -> (String, Result<NodeDone, String>) {
    let id = ctx.id.clone();
    let work = AssertUnwindSafe(tokio::time::timeout(timeout, execute(ctx))).catch_unwind();
    let result = match work.await {
        Ok(Ok(result)) => result,
        Ok(Err(_elapsed)) => Err(format!(
            "the node took longer than its {} s timeout",
            timeout.as_secs_f64()
        )),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            // The message may quote a value; it is masked with the node's error, not logged.
            tracing::error!(node = %id, "a node panicked");
            Err(format!(
                "internal error in node `{id}`; please report it (the node panicked: {what})"
            ))
        }
    };
    (id, result)
}

/// One run's state: what references see, what each node did, and the secrets to mask.
struct Run {
    scope: Scope,
    records: BTreeMap<String, NodeRecord>,
    finished: BTreeMap<String, Done>,
    /// Started nodes: when, and their evaluated properties (masked when recorded).
    running: BTreeMap<String, (Instant, Value)>,
    redactor: Arc<Mutex<Redactor>>,
    /// References whose value is a secret; each is registered as soon as it has a value.
    tainted: Vec<Reference>,
    secret_inputs: BTreeSet<String>,
    connections: Connections,
    events: UnboundedSender<RunEvent>,
}

impl Run {
    fn new(
        request: &RunRequest,
        inputs: Map<String, Value>,
        secret_inputs: BTreeSet<String>,
        events: UnboundedSender<RunEvent>,
    ) -> Self {
        let mut redactor = Redactor::default();
        redactor.merge(&request.reuse.secrets);
        for name in &secret_inputs {
            if let Some(value) = inputs.get(name) {
                redactor.add_value(value);
            }
        }
        let mut run = Self {
            scope: Scope {
                inputs,
                ..Scope::default()
            },
            records: BTreeMap::new(),
            finished: BTreeMap::new(),
            running: BTreeMap::new(),
            redactor: Arc::new(Mutex::new(redactor)),
            tainted: secret_references(&request.flow),
            secret_inputs,
            connections: Connections::new(
                request.connections.clone(),
                request.reuse.dynamic.clone(),
            ),
            events,
        };
        run.register_tainted();
        run
    }

    fn redactor(&self) -> MutexGuard<'_, Redactor> {
        // Masking holds no invariant a panic could break; a poisoned lock still masks.
        self.redactor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers the value of every secret reference that has one by now.
    fn register_tainted(&mut self) {
        let values: Vec<Value> = self
            .tainted
            .iter()
            .filter_map(|reference| self.scope.lookup(reference).ok())
            .collect();
        let mut redactor = self.redactor();
        values.iter().for_each(|value| redactor.add_value(value));
    }

    fn send(&self, event: RunEvent) {
        // A caller that stopped listening does not stop the run.
        let _ = self.events.send(event);
    }

    /// Takes the results of `nodes` from an earlier run, in the flow's order.
    fn reuse(&mut self, flow: &FlowDocument, reuse: &Reuse, nodes: &BTreeSet<String>) {
        let taken: Vec<(&String, &Done)> = flow
            .nodes
            .iter()
            .filter(|n| nodes.contains(&n.id))
            .filter_map(|n| reuse.nodes.get_key_value(&n.id))
            .collect();
        for (id, done) in &taken {
            if let Some((name, value)) = &done.set_var {
                self.scope.vars.insert(name.clone(), value.clone());
            }
            self.scope.nodes.insert((*id).clone(), done.ports.clone());
            self.finished.insert((*id).clone(), (*done).clone());
        }
        self.register_tainted();
        for (id, done) in taken {
            self.send(RunEvent::NodeReused { node: id.clone() });
            let output = done.ports.get("output").map(|v| self.redactor().value(v));
            self.records.insert(
                id.clone(),
                NodeRecord {
                    output,
                    ..record(NodeState::Reused, Value::Null, None)
                },
            );
        }
    }

    /// Starts (or skips) `node` if everything it waits for has finished; the context to run it.
    fn start(
        &mut self,
        node: &Node,
        deps: &BTreeMap<String, BTreeSet<String>>,
        engine: &Engine,
        request: &RunRequest,
    ) -> Option<NodeContext> {
        if self.records.contains_key(&node.id) || self.running.contains_key(&node.id) {
            return None;
        }
        // Flow ports only place the flow's inputs and outputs on the canvas.
        if node.kind.spec().role == NodeRole::FlowPort {
            let done = record(NodeState::Succeeded, Value::Null, None);
            self.records.insert(node.id.clone(), done);
            return None;
        }
        let waits: &BTreeSet<String> = deps.get(&node.id).map_or(&EMPTY, |d| d);
        if !waits.iter().all(|dep| self.records.contains_key(dep)) {
            return None;
        }
        let blocked = waits.iter().find_map(|dep| match self.records[dep].state {
            NodeState::Succeeded | NodeState::Reused => None,
            NodeState::Skipped => Some(format!("`{dep}` was skipped")),
            NodeState::Failed => Some(format!("`{dep}` failed")),
            NodeState::Cancelled => Some(format!("`{dep}` was cancelled")),
        });
        let props: Result<Map<String, Value>, String> = node
            .properties
            .iter()
            .map(|(key, value)| Ok((key.clone(), self.scope.eval(value)?)))
            .collect();
        if let Ok(props) = &props {
            // A secret property (a dynamic connection's key) is a secret whatever its source.
            let mut redactor = self.redactor();
            for spec in node.kind.properties().iter().filter(|spec| spec.secret) {
                if let Some(value) = props.get(spec.key) {
                    redactor.add_value(value);
                }
            }
        }
        let branch_off = props
            .as_ref()
            .ok()
            .and_then(|p| p.get("when"))
            .is_some_and(|when| matches!(when, Value::Bool(false) | Value::Null));
        let skip = blocked.or_else(|| branch_off.then(|| "its branch was not taken".to_owned()));
        if let Some(reason) = skip {
            self.send(RunEvent::NodeSkipped {
                node: node.id.clone(),
                reason: reason.clone(),
            });
            let skipped = record(NodeState::Skipped, Value::Null, Some(reason));
            self.records.insert(node.id.clone(), skipped);
            return None;
        }
        let props = match props {
            Ok(props) => props,
            Err(err) => {
                let err = self.redactor().text(&err);
                self.send(RunEvent::NodeFailed {
                    node: node.id.clone(),
                    error: err.clone(),
                });
                let failed = record(NodeState::Failed, Value::Null, Some(err));
                self.records.insert(node.id.clone(), failed);
                return None;
            }
        };
        self.send(RunEvent::NodeStarted {
            node: node.id.clone(),
        });
        let shown = Value::Object(props.clone());
        self.running
            .insert(node.id.clone(), (Instant::now(), shown));
        Some(NodeContext {
            id: node.id.clone(),
            kind: node.kind,
            props,
            services: engine.services.clone(),
            connections: self.connections.clone(),
            redactor: self.redactor.clone(),
            cancel: request.cancel.clone(),
            events: self.events.clone(),
        })
    }

    /// Records a node's result. Its ports are in scope, and the secrets they carry registered,
    /// before anything about it is reported.
    fn finish(&mut self, id: &str, result: Result<NodeDone, String>) {
        let Some((at, shown)) = self.running.remove(id) else {
            return;
        };
        let latency_ms = at.elapsed().as_secs_f64() * 1000.0;
        let done = match result {
            Ok(done) => done,
            Err(error) => {
                let error = self.redactor().text(&error);
                self.send(RunEvent::NodeFailed {
                    node: id.to_owned(),
                    error: error.clone(),
                });
                let shown = self.redactor().value(&shown);
                let failed = record(NodeState::Failed, shown, Some(error));
                self.records.insert(
                    id.to_owned(),
                    NodeRecord {
                        latency_ms,
                        ..failed
                    },
                );
                return;
            }
        };
        if let Some((name, value)) = &done.set_var {
            self.scope.vars.insert(name.clone(), value.clone());
        }
        self.scope.nodes.insert(id.to_owned(), done.ports.clone());
        self.register_tainted();
        self.finished.insert(
            id.to_owned(),
            Done {
                ports: done.ports.clone(),
                set_var: done.set_var,
            },
        );
        let output = self
            .redactor()
            .value(done.ports.get("output").unwrap_or(&Value::Null));
        self.send(RunEvent::NodeFinished {
            node: id.to_owned(),
            output: output.clone(),
            latency_ms,
            usage: done.usage.clone(),
        });
        let shown = self.redactor().value(&shown);
        self.records.insert(
            id.to_owned(),
            NodeRecord {
                output: Some(output),
                latency_ms,
                usage: done.usage,
                ..record(NodeState::Succeeded, shown, None)
            },
        );
    }

    /// The run's result. Every record is masked again with every secret the run came to know,
    /// so nothing depends on the order in which nodes ran or secrets were found.
    fn outcome(mut self, request: &RunRequest, cancelled: bool, started: Instant) -> RunOutcome {
        for (id, (at, shown)) in std::mem::take(&mut self.running) {
            let latency_ms = at.elapsed().as_secs_f64() * 1000.0;
            let stopped = record(NodeState::Cancelled, shown, Some("cancelled".into()));
            self.records.insert(
                id,
                NodeRecord {
                    latency_ms,
                    ..stopped
                },
            );
        }
        // A single node's run leaves the flow's outputs unknown.
        let flow_outputs = match request.plan {
            Plan::Only(_) => None,
            _ => Some(&request.flow.outputs),
        };
        let mut outputs = Map::new();
        for (name, output) in flow_outputs.into_iter().flatten() {
            let value = self
                .scope
                .eval(&Value::String(output.value.clone()))
                .unwrap_or(Value::Null);
            outputs.insert(name.clone(), value);
        }
        let redactor = self.redactor().clone();
        let outputs = mask_map(&redactor, &outputs);
        let inputs = self
            .scope
            .inputs
            .iter()
            .map(|(name, value)| {
                let shown = if self.secret_inputs.contains(name) {
                    Value::String(MASK.into())
                } else {
                    redactor.value(value)
                };
                (name.clone(), shown)
            })
            .collect();
        for record in self.records.values_mut() {
            record.inputs = redactor.value(&record.inputs);
            record.output = record.output.as_ref().map(|v| redactor.value(v));
            record.error = record.error.as_deref().map(|e| redactor.text(e));
        }
        let status = if cancelled {
            RunStatus::Cancelled
        } else if self.records.values().any(|r| r.state == NodeState::Failed) {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.send(RunEvent::RunFinished {
            status,
            outputs: Value::Object(outputs.clone()),
            latency_ms,
        });
        RunOutcome {
            run_id: request.run_id.clone(),
            status,
            inputs,
            outputs,
            nodes: self.records,
            latency_ms,
            reuse: Reuse {
                nodes: self.finished,
                dynamic: self.connections.all_made(),
                secrets: redactor,
            },
        }
    }
}

fn mask_map(redactor: &Redactor, map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| (k.clone(), redactor.value(v)))
        .collect()
}

fn record(state: NodeState, inputs: Value, error: Option<String>) -> NodeRecord {
    NodeRecord {
        state,
        inputs,
        output: None,
        error,
        latency_ms: 0.0,
        usage: None,
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
            if kind.spec().role == NodeRole::FlowPort {
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
