//! The `*.eval.yaml` format: which flow, which data, which variants and which assertions, read
//! with line-numbered errors and written back in a fixed field order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::variant::Variant;

/// An evaluation file. Paths are relative to the file's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EvalFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub description: Option<String>,
    /// The flow under test.
    #[ts(type = "string")]
    pub flow: PathBuf,
    /// The dataset: a JSON Lines or CSV file, as a batch reads it.
    #[ts(type = "string")]
    pub data: PathBuf,
    /// Flow input -> `${data.column}` (or a literal), as a batch maps it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(optional, as = "Option<BTreeMap<String, String>>")]
    pub column_mapping: BTreeMap<String, String>,
    /// Runs of the dataset with some node properties changed; none: one run of the flow as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<Variant>>")]
    pub variants: Vec<Variant>,
    /// Checked on every row (a row's own `__expected` columns replace the output checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<AssertionSpec>>")]
    pub assert: Vec<AssertionSpec>,
    #[serde(default, skip_serializing_if = "Thresholds::is_empty")]
    #[ts(optional, as = "Option<Thresholds>")]
    pub thresholds: Thresholds,
    /// Deployment or model name -> its price, for `cost`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(optional, as = "Option<BTreeMap<String, Price>>")]
    pub prices: BTreeMap<String, Price>,
}

/// US dollars (or any one currency) per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

/// What a variant's results must reach for the evaluation to pass (each variant on its own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Thresholds {
    /// The share of rows that pass, 0..1; absent: every row must pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub pass_rate: Option<f64>,
    /// Metric name -> the least mean score, 0..1.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(optional, as = "Option<BTreeMap<String, f64>>")]
    pub metrics: BTreeMap<String, f64>,
    /// The most the 95th percentile latency of the rows may be, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub p95_latency_ms: Option<f64>,
    /// The most the whole variant may cost, in the prices' currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cost: Option<f64>,
}

impl Thresholds {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The assertion types. Names as the file spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AssertionKind {
    Equals,
    Contains,
    Icontains,
    Regex,
    IsJson,
    JsonSchema,
    StartsWith,
    Length,
    LatencyMs,
    Tokens,
    Cost,
    LlmJudge,
    Similar,
    Flow,
}

/// One assertion, as written in `assert:`. Which fields a type takes is checked when the file is
/// read (see docs/eval-format.md); one flat shape keeps the file and the app's form simple.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields, try_from = "RawAssertion")]
#[ts(export)]
pub struct AssertionSpec {
    #[serde(rename = "type")]
    pub kind: AssertionKind,
    /// Which flow output it looks at; absent: the flow's only output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub output: Option<String>,
    /// What to compare with; may hold `${data.column}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max: Option<f64>,
    /// `similar`: the least cosine (0.8); `llm_judge`, `flow`: the least score (`flow`: 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub threshold: Option<f64>,
    /// `llm_judge`: what a good answer does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rubric: Option<String>,
    /// `llm_judge`, `similar`: the saved model connection and its deployment (or model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub connection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub deployment: Option<String>,
    /// `flow`: the evaluator flow, relative to the eval file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub flow: Option<PathBuf>,
    /// `flow`: evaluator input -> `${data.x}`, `${run.outputs.y}`, `${run.inputs.z}` or a literal.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(optional, as = "Option<BTreeMap<String, String>>")]
    pub inputs: BTreeMap<String, String>,
    /// Its share in the row's score (1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub weight: Option<f64>,
    /// The name its scores are summarised under (the type's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub metric: Option<String>,
}

/// Why an eval file (or one of the files it names) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalFileError {
    #[error("{}{message}", .line.map(|l| format!("line {l}, column {}: ", .column.unwrap_or(1))).unwrap_or_default())]
    Parse {
        line: Option<u64>,
        column: Option<u64>,
        message: String,
    },
    /// An assertion that cannot be checked as written (an unknown output, a bad pattern…).
    #[error("assertion {index} ({kind}): {message}")]
    Assertion {
        /// 1-based, in the order of `assert:`.
        index: usize,
        kind: String,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl EvalFile {
    pub fn parse(text: &str) -> Result<Self, EvalFileError> {
        todo!("{text}")
    }

    pub fn to_yaml(&self) -> String {
        todo!()
    }
}

/// The shape serde reads before the per-type checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssertion {
    #[serde(rename = "type")]
    kind: AssertionKind,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    rubric: Option<String>,
    #[serde(default)]
    connection: Option<String>,
    #[serde(default)]
    deployment: Option<String>,
    #[serde(default)]
    flow: Option<PathBuf>,
    #[serde(default)]
    inputs: BTreeMap<String, String>,
    #[serde(default)]
    weight: Option<f64>,
    #[serde(default)]
    metric: Option<String>,
}

impl TryFrom<RawAssertion> for AssertionSpec {
    type Error = String;

    fn try_from(raw: RawAssertion) -> Result<Self, String> {
        Ok(Self {
            kind: raw.kind,
            output: raw.output,
            value: raw.value,
            min: raw.min,
            max: raw.max,
            threshold: raw.threshold,
            rubric: raw.rubric,
            connection: raw.connection,
            deployment: raw.deployment,
            flow: raw.flow,
            inputs: raw.inputs,
            weight: raw.weight,
            metric: raw.metric,
        })
    }
}
