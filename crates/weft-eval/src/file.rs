//! The `*.eval.yaml` format: which flow, which data, which variants and which assertions, read
//! with line-numbered errors and written back in a fixed field order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use weft_flow::FlowDocument;

use crate::reference::has_reference;
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
    #[serde(serialize_with = "plain")]
    pub input: f64,
    #[serde(serialize_with = "plain")]
    pub output: f64,
}

/// A whole number as one (`max: 3000`, not `3000.0`), so that a saved file reads as written.
fn plain<S: serde::Serializer>(n: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        serializer.serialize_i64(*n as i64)
    } else {
        serializer.serialize_f64(*n)
    }
}

fn plain_option<S: serde::Serializer>(n: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => plain(n, serializer),
        None => serializer.serialize_none(),
    }
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "plain_option"
    )]
    #[ts(optional)]
    pub p95_latency_ms: Option<f64>,
    /// The most the whole variant may cost, in the prices' currency.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "plain_option"
    )]
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "plain_option"
    )]
    #[ts(optional)]
    pub min: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "plain_option"
    )]
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "plain_option"
    )]
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
    /// A field whose value is wrong as a whole (two variants of one name, a share above 1…).
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    /// A file the eval names (an evaluator flow) cannot be read or used.
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl EvalFile {
    pub fn parse(text: &str) -> Result<Self, EvalFileError> {
        if text.trim().is_empty() {
            return Err(EvalFileError::Parse {
                line: None,
                column: None,
                message: "the file is empty; an eval file names at least `flow:` and `data:`"
                    .into(),
            });
        }
        let file: Self = serde_saphyr::from_str(text).map_err(|err| {
            let parsed = weft_flow::ParseError::from_yaml(&err);
            // serde-saphyr repeats the place in its message; `Display` gives it once.
            let mut message = parsed.message.trim_start_matches("error: ");
            if let Some((place, rest)) = message.split_once(": ")
                && place.starts_with("line ")
                && place.contains(" column ")
            {
                message = rest;
            }
            EvalFileError::Parse {
                line: parsed.line,
                column: parsed.column,
                message: message.to_owned(),
            }
        })?;
        file.check()?;
        Ok(file)
    }

    /// The file's text, fields in a fixed order, so that saving an edited file changes only the
    /// lines that changed.
    pub fn to_yaml(&self) -> String {
        let mut options = serde_saphyr::SerializerOptions::default();
        options.compact_list_indent = false;
        // Plain data: serialising it cannot fail.
        serde_saphyr::to_string_with_options(self, options).unwrap_or_default()
    }

    /// What serde cannot say: names that must be unique, numbers that must be in range.
    fn check(&self) -> Result<(), EvalFileError> {
        let field = |field: &str, message: String| EvalFileError::Field {
            field: field.to_owned(),
            message,
        };
        let mut names = std::collections::BTreeSet::new();
        for variant in &self.variants {
            if variant.name.trim().is_empty() {
                return Err(field("variants", "a variant has an empty `name`".into()));
            }
            if let Some(key) = variant.set.keys().find(|key| {
                !key.split_once('.')
                    .is_some_and(|(node, property)| !node.is_empty() && !property.is_empty())
            }) {
                return Err(field(
                    "variants",
                    format!("variant `{}`: `{key}` is not `node.property`", variant.name),
                ));
            }
            if !names.insert(variant.name.as_str()) {
                return Err(field(
                    "variants",
                    format!("two variants are named `{}`", variant.name),
                ));
            }
        }
        let share = |name: &str, value: Option<f64>| match value {
            Some(v) if !(0.0..=1.0).contains(&v) => Err(field(
                &format!("thresholds.{name}"),
                format!("{v} is not between 0 and 1"),
            )),
            _ => Ok(()),
        };
        share("pass_rate", self.thresholds.pass_rate)?;
        for (metric, least) in &self.thresholds.metrics {
            share(&format!("metrics.{metric}"), Some(*least))?;
        }
        for (name, price) in &self.prices {
            if price.input < 0.0 || price.output < 0.0 {
                return Err(field(
                    &format!("prices.{name}"),
                    "a price cannot be negative".into(),
                ));
            }
        }
        Ok(())
    }

    /// Checks the assertions against the flow they test: each names an output the flow has, or
    /// the flow has exactly one output for those that name none.
    pub fn check_outputs(&self, flow: &FlowDocument) -> Result<(), EvalFileError> {
        for (index, spec) in self.assert.iter().enumerate() {
            if !spec.kind.reads_output() {
                continue;
            }
            let error = |message: String| EvalFileError::Assertion {
                index: index + 1,
                kind: spec.kind.name().to_owned(),
                message,
            };
            match &spec.output {
                Some(name) if !flow.outputs.contains_key(name) => {
                    let known: Vec<&str> = flow.outputs.keys().map(String::as_str).collect();
                    return Err(error(format!(
                        "the flow has no output `{name}` (it has: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
                None if flow.outputs.len() != 1 => {
                    return Err(error(format!(
                        "the flow has {} outputs; say which with `output:`",
                        flow.outputs.len()
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl AssertionKind {
    pub const ALL: [Self; 14] = [
        Self::Equals,
        Self::Contains,
        Self::Icontains,
        Self::Regex,
        Self::IsJson,
        Self::JsonSchema,
        Self::StartsWith,
        Self::Length,
        Self::LatencyMs,
        Self::Tokens,
        Self::Cost,
        Self::LlmJudge,
        Self::Similar,
        Self::Flow,
    ];

    /// The name as the file writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Equals => "equals",
            Self::Contains => "contains",
            Self::Icontains => "icontains",
            Self::Regex => "regex",
            Self::IsJson => "is_json",
            Self::JsonSchema => "json_schema",
            Self::StartsWith => "starts_with",
            Self::Length => "length",
            Self::LatencyMs => "latency_ms",
            Self::Tokens => "tokens",
            Self::Cost => "cost",
            Self::LlmJudge => "llm_judge",
            Self::Similar => "similar",
            Self::Flow => "flow",
        }
    }

    /// Whether it looks at a flow output (the others look at the row's latency, tokens or cost).
    pub fn reads_output(self) -> bool {
        !matches!(self, Self::LatencyMs | Self::Tokens | Self::Cost)
    }

    /// The fields it needs, and those it may also have, besides `type`, `weight` and `metric`
    /// (and `output`, for those that read one).
    pub(crate) fn fields(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Equals | Self::Contains | Self::Icontains | Self::Regex | Self::StartsWith => {
                (&["value"], &[])
            }
            Self::IsJson => (&[], &[]),
            Self::JsonSchema => (&["value"], &[]),
            Self::Length => (&[], &["min", "max"]),
            Self::LatencyMs | Self::Tokens | Self::Cost => (&["max"], &[]),
            Self::LlmJudge => (
                &["rubric", "connection", "deployment"],
                &["value", "threshold"],
            ),
            Self::Similar => (&["value", "connection", "deployment"], &["threshold"]),
            Self::Flow => (&["flow"], &["inputs", "threshold"]),
        }
    }
}

impl std::fmt::Display for AssertionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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

    /// The per-type rules, checked while serde reads the file so that the error has its line.
    fn try_from(raw: RawAssertion) -> Result<Self, String> {
        let kind = raw.kind;
        let present = [
            ("output", raw.output.is_some()),
            ("value", raw.value.is_some()),
            ("min", raw.min.is_some()),
            ("max", raw.max.is_some()),
            ("threshold", raw.threshold.is_some()),
            ("rubric", raw.rubric.is_some()),
            ("connection", raw.connection.is_some()),
            ("deployment", raw.deployment.is_some()),
            ("flow", raw.flow.is_some()),
            ("inputs", !raw.inputs.is_empty()),
        ];
        let (needs, may) = kind.fields();
        for field in needs {
            if !present.iter().any(|(name, set)| name == field && *set) {
                return Err(format!("a `{kind}` assertion needs `{field}`"));
            }
        }
        for (name, set) in present {
            let allowed = needs.contains(&name)
                || may.contains(&name)
                || (name == "output" && kind.reads_output());
            if set && !allowed {
                let mut takes: Vec<&str> = needs.iter().chain(may).copied().collect();
                if kind.reads_output() {
                    takes.push("output");
                }
                takes.extend(["weight", "metric"]);
                return Err(format!(
                    "`{name}` does not apply to a `{kind}` assertion (it takes {})",
                    takes.join(", ")
                ));
            }
        }
        if kind == AssertionKind::Length && raw.min.is_none() && raw.max.is_none() {
            return Err("a `length` assertion needs `min`, `max` or both".into());
        }
        if let Some(weight) = raw.weight
            && !(weight >= 0.0 && weight.is_finite())
        {
            return Err(format!("`weight` must be 0 or more, not {weight}"));
        }
        if let Some(threshold) = raw.threshold
            && !(0.0..=1.0).contains(&threshold)
        {
            return Err(format!(
                "`threshold` must be between 0 and 1, not {threshold}"
            ));
        }
        let text_value = matches!(
            kind,
            AssertionKind::Contains
                | AssertionKind::Icontains
                | AssertionKind::StartsWith
                | AssertionKind::Regex
                | AssertionKind::Similar
        );
        if text_value && !matches!(raw.value, Some(Value::String(_))) {
            return Err(format!("a `{kind}` assertion's `value` is text"));
        }
        if let (AssertionKind::Regex, Some(Value::String(pattern))) = (kind, &raw.value)
            && !has_reference(pattern)
        {
            regex::Regex::new(pattern)
                .map_err(|err| format!("`value` is not a regular expression: {err}"))?;
        }
        if kind == AssertionKind::JsonSchema
            && let Some(schema) = &raw.value
        {
            jsonschema::validator_for(schema)
                .map_err(|err| format!("`value` is not a JSON Schema: {err}"))?;
        }
        Ok(Self {
            kind,
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
