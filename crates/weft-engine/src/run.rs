//! One run: what it was asked, its state while nodes run, and what it reports at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use weft_ai::Usage;
use weft_flow::kinds::common::WHEN;
use weft_flow::{ConnectionType, Node, NodeRole, Reference, ValidFlow, ValueType};

use crate::connection::{ConnectionSource, Connections};
use crate::error::RunError;
use crate::event::{FailureCause, NodeState, RunEvent, RunStatus};
use crate::nodes::{NodeContext, NodeDone, NodeError};
use crate::plan::{Done, Plan, Reuse};
use crate::redact::{MASK, Redactor};
use crate::services::Services;
use crate::values::{Scope, revived};

/// What a run is asked to do. Its flow is a `ValidFlow`, which only `weft_flow::validation` makes,
/// so a flow with an error cannot reach the engine: handing it a document does not compile.
///
/// ```compile_fail,E0308
/// use std::sync::Arc;
/// fn unchecked(doc: weft_flow::FlowDocument, request: weft_engine::RunRequest) -> weft_engine::RunRequest {
///     weft_engine::RunRequest { flow: Arc::new(doc), ..request }
/// }
/// ```
pub struct RunRequest {
    /// Chosen by the caller, so that it can cancel the run by id before the first event.
    pub run_id: String,
    /// Its graph and secrets were computed by validation; the engine does not check it again.
    pub flow: Arc<ValidFlow>,
    pub inputs: Map<String, Value>,
    pub connections: Arc<dyn ConnectionSource>,
    pub cancel: CancellationToken,
    /// How long one node may take, retries included.
    pub node_timeout: Duration,
    pub plan: Plan,
    /// Results to take instead of running their nodes again (see [`Plan`]).
    pub reuse: Reuse,
}

/// What a node did, redacted, for the run panel and run history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct NodeRecord {
    pub state: NodeState,
    pub inputs: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub usage: Option<Usage>,
    /// Why it failed, when a service call told (a batch's circuit breaker reads it). Absent in
    /// records stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cause: Option<FailureCause>,
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

/// The flow's inputs with defaults applied, each of the declared type.
pub(crate) fn checked_inputs(
    flow: &ValidFlow,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, RunError> {
    let secret = flow.secret_inputs();
    let flow = flow.document();
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

/// One run's state: what references see, what each node did, and the secrets to mask.
pub(crate) struct RunState {
    run_id: String,
    flow: Arc<ValidFlow>,
    /// A single node's run leaves the flow's outputs unknown.
    reports_outputs: bool,
    scope: Scope,
    records: BTreeMap<String, NodeRecord>,
    finished: BTreeMap<String, Done>,
    /// Started nodes: when, and their evaluated properties (masked when recorded).
    running: BTreeMap<String, (Instant, Value)>,
    redactor: Arc<Mutex<Redactor>>,
    /// References whose value is a secret; each is registered as soon as it has a value.
    tainted: Vec<Reference>,
    secret_inputs: BTreeSet<String>,
    services: Services,
    connections: Connections,
    cancel: CancellationToken,
    events: UnboundedSender<RunEvent>,
}

impl RunState {
    pub fn new(
        request: &RunRequest,
        services: Services,
        inputs: Map<String, Value>,
        events: UnboundedSender<RunEvent>,
    ) -> Self {
        let secret_inputs = request.flow.secret_inputs().clone();
        let mut redactor = Redactor::default();
        redactor.merge(&request.reuse.secrets);
        for name in &secret_inputs {
            if let Some(value) = inputs.get(name) {
                redactor.add_value(value);
            }
        }
        let mut run = Self {
            run_id: request.run_id.clone(),
            flow: request.flow.clone(),
            reports_outputs: !matches!(request.plan, Plan::Only(_)),
            scope: Scope {
                inputs,
                ..Scope::default()
            },
            records: BTreeMap::new(),
            finished: BTreeMap::new(),
            running: BTreeMap::new(),
            redactor: Arc::new(Mutex::new(redactor)),
            tainted: request.flow.secret_references().to_vec(),
            secret_inputs,
            services,
            connections: Connections::new(
                request.connections.clone(),
                request.reuse.dynamic.clone(),
            ),
            cancel: request.cancel.clone(),
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
            .filter_map(|reference| self.scope.lookup(reference).ok().flatten())
            .collect();
        let mut redactor = self.redactor();
        values.iter().for_each(|value| redactor.add_value(value));
    }

    pub fn send(&self, event: RunEvent) {
        // A caller that stopped listening does not stop the run.
        let _ = self.events.send(event);
    }

    /// Puts a finished node's ports, and the variable it set, where references see them.
    fn keep(&mut self, id: &str, done: Done) {
        if let Some((name, value)) = &done.set_var {
            self.scope.vars.insert(name.clone(), value.clone());
        }
        self.scope.nodes.insert(id.to_owned(), done.ports.clone());
        self.finished.insert(id.to_owned(), done);
    }

    /// Takes the results of `nodes` from an earlier run, in the flow's order.
    pub fn reuse(&mut self, reuse: &Reuse, nodes: &BTreeSet<String>) {
        let flow = self.flow.clone();
        let taken: Vec<(&String, &Done)> = flow
            .document()
            .nodes
            .iter()
            .filter(|n| nodes.contains(&n.id))
            .filter_map(|n| reuse.nodes.get_key_value(&n.id))
            .collect();
        for (id, done) in &taken {
            self.keep(id, (*done).clone());
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

    /// Starts (or skips) `node` if everything it waits for (`waits`) has finished; the context
    /// to run it.
    pub fn start(&mut self, node: &Node, waits: &BTreeSet<String>) -> Option<NodeContext> {
        if self.records.contains_key(&node.id) || self.running.contains_key(&node.id) {
            return None;
        }
        // Flow ports only place the flow's inputs and outputs on the canvas.
        if node.kind.spec().role == NodeRole::FlowPort {
            let done = record(NodeState::Succeeded, Value::Null, None);
            self.records.insert(node.id.clone(), done);
            return None;
        }
        if !waits.iter().all(|dep| self.records.contains_key(dep)) {
            return None;
        }
        let props = self.evaluate(node);
        if let Some(reason) = self.blocked_by(waits).or_else(|| branch_not_taken(&props)) {
            self.skip(&node.id, reason);
            return None;
        }
        match props {
            Ok(props) => Some(self.begin(node, props)),
            Err(err) => {
                self.fail(&node.id, NodeError::from(err), Value::Null, 0.0);
                None
            }
        }
    }

    /// The node's properties with their references resolved. A secret property (a dynamic
    /// connection's key) is registered whatever its source, even when the node will not run.
    fn evaluate(&self, node: &Node) -> Result<Map<String, Value>, String> {
        // A node that fills in its connection's settings reads only the references written.
        let guarded = node
            .kind
            .spec()
            .connection_types()
            .contains(&ConnectionType::Custom);
        let props = node
            .properties
            .iter()
            .map(|(key, value)| Ok((key.clone(), self.scope.eval_as(value, guarded)?)))
            .collect::<Result<Map<String, Value>, String>>()?;
        let mut redactor = self.redactor();
        for spec in node.kind.properties().iter().filter(|spec| spec.secret) {
            if let Some(value) = props.get(spec.key) {
                redactor.add_value(value);
            }
        }
        Ok(props)
    }

    /// Why a node cannot run because of what it waits for, if it cannot.
    fn blocked_by(&self, waits: &BTreeSet<String>) -> Option<String> {
        waits.iter().find_map(|dep| match self.records[dep].state {
            NodeState::Succeeded | NodeState::Reused => None,
            NodeState::Skipped => Some(format!("`{dep}` was skipped")),
            NodeState::Failed => Some(format!("`{dep}` failed")),
            NodeState::Cancelled => Some(format!("`{dep}` was cancelled")),
        })
    }

    fn skip(&mut self, id: &str, reason: String) {
        self.send(RunEvent::NodeSkipped {
            node: id.to_owned(),
            reason: reason.clone(),
        });
        let skipped = record(NodeState::Skipped, Value::Null, Some(reason));
        self.records.insert(id.to_owned(), skipped);
    }

    fn begin(&mut self, node: &Node, props: Map<String, Value>) -> NodeContext {
        self.send(RunEvent::NodeStarted {
            node: node.id.clone(),
        });
        let shown = revived(Value::Object(props.clone()));
        self.running
            .insert(node.id.clone(), (Instant::now(), shown));
        NodeContext {
            flow: self.flow.clone(),
            id: node.id.clone(),
            kind: node.kind,
            props,
            services: self.services.clone(),
            connections: self.connections.clone(),
            redactor: self.redactor.clone(),
            cancel: self.cancel.clone(),
            events: self.events.clone(),
        }
    }

    /// Records a node's result. Its ports are in scope, and the secrets they carry registered,
    /// before anything about it is reported.
    pub fn finish(&mut self, id: &str, result: Result<NodeDone, NodeError>) {
        let Some((at, shown)) = self.running.remove(id) else {
            return;
        };
        let latency_ms = at.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(done) => self.succeed(id, done, &shown, latency_ms),
            Err(error) => self.fail(id, error, shown, latency_ms),
        }
    }

    fn fail(&mut self, id: &str, error: NodeError, inputs: Value, latency_ms: f64) {
        let NodeError { message, cause } = error;
        let error = self.redactor().text(&message);
        self.send(RunEvent::NodeFailed {
            node: id.to_owned(),
            error: error.clone(),
        });
        let inputs = self.redactor().value(&inputs);
        let failed = record(NodeState::Failed, inputs, Some(error));
        self.records.insert(
            id.to_owned(),
            NodeRecord {
                latency_ms,
                cause,
                ..failed
            },
        );
    }

    fn succeed(&mut self, id: &str, done: NodeDone, shown: &Value, latency_ms: f64) {
        let NodeDone {
            ports,
            usage,
            set_var,
        } = done;
        let output = ports.get("output").cloned().unwrap_or(Value::Null);
        self.keep(id, Done { ports, set_var });
        self.register_tainted();
        let output = self.redactor().value(&output);
        self.send(RunEvent::NodeFinished {
            node: id.to_owned(),
            output: output.clone(),
            latency_ms,
            usage: usage.clone(),
        });
        let shown = self.redactor().value(shown);
        self.records.insert(
            id.to_owned(),
            NodeRecord {
                output: Some(output),
                latency_ms,
                usage,
                ..record(NodeState::Succeeded, shown, None)
            },
        );
    }

    /// The run's result. Every record is masked again with every secret the run came to know,
    /// so nothing depends on the order in which nodes ran or secrets were found.
    pub fn outcome(mut self, cancelled: bool, started: Instant) -> RunOutcome {
        self.stop_running();
        let outputs = self.flow_outputs();
        let redactor = self.redactor().clone();
        let outputs = mask_map(&redactor, &outputs);
        let inputs = self.shown_inputs(&redactor);
        for record in self.records.values_mut() {
            record.inputs = redactor.value(&record.inputs);
            record.output = record.output.as_ref().map(|v| redactor.value(v));
            record.error = record.error.as_deref().map(|e| redactor.text(e));
        }
        let status = self.status(cancelled);
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.send(RunEvent::RunFinished {
            status,
            outputs: Value::Object(outputs.clone()),
            latency_ms,
        });
        RunOutcome {
            run_id: self.run_id,
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

    /// Records the nodes still running when the run ended as cancelled.
    fn stop_running(&mut self) {
        for (id, (at, shown)) in std::mem::take(&mut self.running) {
            let latency_ms = at.elapsed().as_secs_f64() * 1000.0;
            let stopped = record(NodeState::Cancelled, shown, Some("cancelled".into()));
            self.records.insert(
                id,
                NodeRecord {
                    latency_ms,
                    cause: Some(FailureCause::Cancelled),
                    ..stopped
                },
            );
        }
    }

    /// The flow's outputs, unmasked (none for a single node's run).
    fn flow_outputs(&self) -> Map<String, Value> {
        let declared = self
            .reports_outputs
            .then_some(&self.flow.document().outputs);
        declared
            .into_iter()
            .flatten()
            .map(|(name, output)| {
                let value = self
                    .scope
                    .eval(&Value::String(output.value.clone()))
                    .unwrap_or(Value::Null);
                (name.clone(), value)
            })
            .collect()
    }

    /// The flow's inputs as they may be stored: secret ones `******`, secrets inside others
    /// masked.
    fn shown_inputs(&self, redactor: &Redactor) -> Map<String, Value> {
        self.scope
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
            .collect()
    }

    fn status(&self, cancelled: bool) -> RunStatus {
        if cancelled {
            RunStatus::Cancelled
        } else if self.records.values().any(|r| r.state == NodeState::Failed) {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        }
    }
}

/// A gate (`when`) that evaluated to false or nothing: the node's branch was not taken.
fn branch_not_taken(props: &Result<Map<String, Value>, String>) -> Option<String> {
    let off = props
        .as_ref()
        .ok()
        .and_then(|p| p.get(WHEN.key))
        .is_some_and(|when| matches!(when, Value::Bool(false) | Value::Null));
    off.then(|| "its branch was not taken".to_owned())
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
        cause: None,
    }
}
