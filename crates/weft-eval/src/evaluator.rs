//! The `flow` assertion: an evaluator flow of the user's, run on each row with its inputs mapped
//! as Prompt flow maps an evaluation run's (`${data.x}`, `${run.outputs.y}`, `${run.inputs.z}`,
//! or a literal; an input left unmapped takes the data column of its name, else its default).
//! Its `pass` (a boolean) and/or `score` (a number) outputs are the verdict; a `reason` output,
//! when it has one, is shown with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use weft_engine::{Engine, Plan, Reuse, RunRequest, RunStatus};
use weft_flow::{Context, FlowDocument, SavedConnection, ValidFlow};

use crate::check::{Found, Models};
use crate::reference::{Scope, resolve};

/// The score a `flow` assertion passes with when its flow gives no `pass` and the assertion no
/// `threshold`.
const SCORE_THRESHOLD: f64 = 0.5;

pub(crate) struct Evaluator {
    flow: Arc<ValidFlow>,
    inputs: BTreeMap<String, String>,
    threshold: f64,
}

impl Evaluator {
    /// Reads and validates the evaluator flow. Its connections are validated by name and type
    /// only: they are looked up when it runs, where a missing one fails the verdict saying so.
    pub(crate) fn load(
        path: &Path,
        inputs: &BTreeMap<String, String>,
        threshold: Option<f64>,
    ) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|err| format!("cannot read it: {err}"))?;
        let doc =
            FlowDocument::parse(&text).map_err(|err| err.without_file_text(&text).to_string())?;
        if !doc.outputs.contains_key("pass") && !doc.outputs.contains_key("score") {
            return Err("an evaluator flow has a `pass` output, a `score` output or both".into());
        }
        if let Some(unknown) = inputs.keys().find(|name| !doc.inputs.contains_key(*name)) {
            return Err(format!(
                "`inputs:` maps `{unknown}`, which the flow has no input of"
            ));
        }
        let validation = weft_flow::validation(
            &doc,
            &Context {
                connections: named_connections(&doc),
                strict: false,
            },
        );
        let errors: Vec<String> = validation.errors().map(ToString::to_string).collect();
        let mut flow = validation
            .valid
            .ok_or_else(|| format!("the flow does not validate: {}", errors.join("; ")))?;
        // Its Python nodes' sources are relative to its own file.
        if let Some(dir) = path.parent() {
            flow = flow.with_base_dir(dir);
        }
        Ok(Self {
            flow: Arc::new(flow),
            inputs: inputs.clone(),
            threshold: threshold.unwrap_or(SCORE_THRESHOLD),
        })
    }

    pub(crate) async fn judge(&self, models: &Models, row: u64, scope: &Scope<'_>) -> Found {
        let inputs = match self.inputs(scope) {
            Ok(inputs) => inputs,
            Err(reason) => return Found::fail(format!("evaluator input: {reason}")),
        };
        let request = RunRequest {
            run_id: format!("eval-row-{row}"),
            flow: self.flow.clone(),
            inputs,
            connections: models.connections.clone(),
            cancel: models.cancel.child_token(),
            node_timeout: models.node_timeout,
            plan: Plan::All,
            reuse: Reuse::default(),
        };
        // The evaluator's own events are not shown; its outcome is the verdict.
        let (events, _ignored) = mpsc::unbounded_channel();
        let outcome = match Engine::new(models.services.clone())
            .run(request, events)
            .await
        {
            Ok(outcome) => outcome,
            Err(err) => return Found::fail(format!("the evaluator flow could not run: {err}")),
        };
        if outcome.status != RunStatus::Succeeded {
            let why = outcome
                .nodes
                .iter()
                .find_map(|(id, node)| Some(format!("node {id}: {}", node.error.as_ref()?)))
                .unwrap_or_else(|| format!("{:?}", outcome.status).to_lowercase());
            return Found::fail(format!("the evaluator flow failed: {why}"));
        }
        self.verdict(&outcome.outputs)
    }

    fn inputs(&self, scope: &Scope<'_>) -> Result<Map<String, Value>, String> {
        let mut inputs = Map::new();
        for name in self.flow.document().inputs.keys() {
            if let Some(mapping) = self.inputs.get(name) {
                inputs.insert(
                    name.clone(),
                    resolve(&Value::String(mapping.clone()), scope)?,
                );
            } else if let Some(same) = scope.data.get(name) {
                inputs.insert(name.clone(), same.clone());
            }
        }
        Ok(inputs)
    }

    fn verdict(&self, outputs: &Map<String, Value>) -> Found {
        let score = outputs.get("score").map(|s| s.as_f64().ok_or(s));
        let pass = outputs.get("pass").map(|p| p.as_bool().ok_or(p));
        let reason = outputs
            .get("reason")
            .map(crate::reference::text)
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        match (pass, score) {
            (Some(Err(bad)), _) => Found::fail(format!(
                "the evaluator's `pass` is {bad}, not true or false"
            )),
            (_, Some(Err(bad))) => {
                Found::fail(format!("the evaluator's `score` is {bad}, not a number"))
            }
            (Some(Ok(pass)), Some(Ok(score))) => Found {
                pass,
                score,
                reason: format!("evaluator: pass {pass}, score {score}{reason}"),
            },
            (Some(Ok(pass)), None) => Found::new(pass, format!("evaluator: pass {pass}{reason}")),
            (None, Some(Ok(score))) => Found {
                pass: score >= self.threshold,
                score,
                reason: format!(
                    "evaluator: score {score} (at least {}){reason}",
                    self.threshold
                ),
            },
            (None, None) => {
                Found::fail("the evaluator flow gave neither `pass` nor `score`".into())
            }
        }
    }
}

/// Each connection the flow's nodes name, as a saved connection of the first type the node takes.
fn named_connections(doc: &FlowDocument) -> Vec<SavedConnection> {
    doc.nodes
        .iter()
        .filter_map(|node| {
            let name = node.properties.get("connection")?.as_str()?;
            let kind = node.kind.spec().connection_types().first()?;
            (!name.contains("${")).then(|| SavedConnection::new(name, *kind))
        })
        .collect()
}
