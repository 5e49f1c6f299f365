//! What the weft-eval tests share: a row as a batch leaves it, owned, and a checker over YAML
//! assertions.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};
use weft_ai::Usage;
use weft_engine::{NodeRecord, NodeState};
use weft_eval::{Checker, EvalFile, Models, RowUnderTest, RowVerdict};

/// One row's data, outputs and record, owned so that a test can lend a `RowUnderTest`.
pub struct Row {
    pub row: u64,
    pub data: Map<String, Value>,
    pub inputs: Map<String, Value>,
    pub outputs: Map<String, Value>,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub nodes: BTreeMap<String, NodeRecord>,
    pub deployments: BTreeMap<String, String>,
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

impl Row {
    /// Row 1 with these data columns and flow outputs, 100 ms, no model call.
    pub fn new(data: Value, outputs: Value) -> Self {
        Self {
            row: 1,
            data: object(data),
            inputs: Map::new(),
            outputs: object(outputs),
            error: None,
            latency_ms: 100.0,
            nodes: BTreeMap::new(),
            deployments: BTreeMap::new(),
        }
    }

    /// A chat node `node` that called `deployment` and used these tokens.
    pub fn called(mut self, node: &str, deployment: &str, prompt: u32, completion: u32) -> Self {
        self.nodes.insert(
            node.into(),
            NodeRecord {
                state: NodeState::Succeeded,
                inputs: json!({}),
                output: Some(json!("…")),
                error: None,
                latency_ms: self.latency_ms,
                usage: Some(Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    total_tokens: prompt + completion,
                }),
                cause: None,
            },
        );
        self.deployments.insert(node.into(), deployment.into());
        self
    }

    pub fn under_test(&self) -> RowUnderTest<'_> {
        RowUnderTest {
            row: self.row,
            data: &self.data,
            inputs: &self.inputs,
            outputs: &self.outputs,
            error: self.error.as_deref(),
            latency_ms: self.latency_ms,
            nodes: &self.nodes,
            deployments: &self.deployments,
        }
    }
}

/// An eval file around `assert` (YAML of the `assert:` list, indented by two).
pub fn eval(assert: &str) -> EvalFile {
    EvalFile::parse(&format!(
        "flow: chat.weft.yaml\ndata: q.jsonl\nprices:\n  gpt-4o-mini: {{ input: 0.15, output: 0.6 }}\nassert:\n{assert}"
    ))
    .unwrap()
}

pub fn checker(assert: &str, base: &Path, models: Option<Models>) -> Checker {
    let file = eval(assert);
    Checker::new(&file.assert, &file.prices, base, models).unwrap()
}

/// The verdict of `row` against `assert`, without models.
pub async fn verdict(assert: &str, row: &Row) -> RowVerdict {
    checker(assert, Path::new("."), None)
        .check(&row.under_test())
        .await
}
