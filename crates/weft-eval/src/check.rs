//! The Checker: every assertion of the file (or a row's own `__expected` columns) on one row.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;
use weft_engine::services::Services;
use weft_engine::{ConnectionSource, NodeRecord};

use regex::Regex;

use crate::assertions;
use crate::evaluator::Evaluator;
use crate::expected;
use crate::file::{AssertionKind, AssertionSpec, EvalFileError, Price};
use crate::judge::{self, Targets};
use crate::reference::{Scope, has_reference, resolve, text};
use crate::summary::TokenCount;

/// What the model-backed assertions (`llm_judge`, `similar`, `flow`) call through.
#[derive(Clone)]
pub struct Models {
    pub services: Services,
    pub connections: Arc<dyn ConnectionSource>,
    pub node_timeout: Duration,
    pub cancel: CancellationToken,
}

/// One row as the batch left it.
pub struct RowUnderTest<'a> {
    /// The row's number as the batch numbers it (0-based among the data rows); reports and
    /// JUnit show it as given.
    pub row: u64,
    /// The raw data row: what `${data.x}` and the `__expected` columns read.
    pub data: &'a Map<String, Value>,
    /// The flow's inputs as the row ran (the column mapping applied): what `${run.inputs.x}` reads.
    pub inputs: &'a Map<String, Value>,
    pub outputs: &'a Map<String, Value>,
    /// The row failed with this error.
    pub error: Option<&'a str>,
    pub latency_ms: f64,
    pub nodes: &'a BTreeMap<String, NodeRecord>,
    /// Node id -> the deployment (or model) it called, for `cost`.
    pub deployments: &'a BTreeMap<String, String>,
}

/// One assertion's result on one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Verdict {
    pub metric: String,
    /// The assertion type, as the file names it.
    pub kind: String,
    pub pass: bool,
    /// 0..1.
    pub score: f64,
    pub weight: f64,
    /// Why it failed, or what was found when it passed.
    pub reason: String,
}

/// Every assertion's result on one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RowVerdict {
    /// Every verdict passed (and the row ran).
    pub pass: bool,
    /// The weighted mean of the verdicts' scores.
    pub score: f64,
    pub verdicts: Vec<Verdict>,
    /// What the row's model calls cost; absent when a deployment it called has no price.
    pub cost: Option<f64>,
}

/// Checks rows against an eval's assertions. Patterns, schemas and evaluator flows are read and
/// checked once, here; model connections are looked up on first use and kept.
pub struct Checker {
    assertions: Vec<Prepared>,
    prices: BTreeMap<String, Price>,
    models: Option<Models>,
    targets: Targets,
    /// The output a row's `__expected` columns look at when the flow has several: the first one
    /// the file's assertions name.
    default_output: Option<String>,
    /// The judge and the embeddings a row's `llm-rubric:` and `similar:` use: those of the file's
    /// first `llm_judge` and `similar` assertions.
    row_judge: Option<(String, String)>,
    row_embeddings: Option<(String, String)>,
}

/// An assertion with what can be prepared before the first row.
struct Prepared {
    spec: AssertionSpec,
    /// The pattern of a `regex` without references.
    regex: Option<Regex>,
    /// The schema of a `json_schema` without references.
    schema: Option<Arc<jsonschema::Validator>>,
    evaluator: Option<Arc<Evaluator>>,
}

/// What one assertion found.
pub(crate) struct Found {
    pub pass: bool,
    pub score: f64,
    pub reason: String,
}

impl Found {
    pub(crate) fn new(pass: bool, reason: String) -> Self {
        Self {
            pass,
            score: if pass { 1.0 } else { 0.0 },
            reason,
        }
    }

    pub(crate) fn fail(reason: String) -> Self {
        Self::new(false, reason)
    }
}

impl Checker {
    pub fn new(
        specs: &[AssertionSpec],
        prices: &BTreeMap<String, Price>,
        base_dir: &Path,
        models: Option<Models>,
    ) -> Result<Self, EvalFileError> {
        let mut assertions = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let error = |message: String| EvalFileError::Assertion {
                index: index + 1,
                kind: spec.kind.name().to_owned(),
                message,
            };
            let uses_models = matches!(
                spec.kind,
                AssertionKind::LlmJudge | AssertionKind::Similar | AssertionKind::Flow
            );
            if uses_models && models.is_none() {
                return Err(error(
                    "it calls a model, and no model connections were given".into(),
                ));
            }
            let mut prepared = Prepared::new(spec.clone()).map_err(error)?;
            if let (AssertionKind::Flow, Some(path)) = (spec.kind, &spec.flow) {
                let evaluator = Evaluator::load(&base_dir.join(path), &spec.inputs, spec.threshold)
                    .map_err(|message| EvalFileError::File {
                        path: path.display().to_string(),
                        message,
                    })?;
                prepared.evaluator = Some(Arc::new(evaluator));
            }
            assertions.push(prepared);
        }
        let model_of = |kind: AssertionKind| {
            specs
                .iter()
                .find(|s| s.kind == kind)
                .and_then(|s| Some((s.connection.clone()?, s.deployment.clone()?)))
        };
        Ok(Self {
            prices: prices.clone(),
            models,
            targets: Targets::default(),
            default_output: specs.iter().find_map(|s| s.output.clone()),
            row_judge: model_of(AssertionKind::LlmJudge),
            row_embeddings: model_of(AssertionKind::Similar),
            assertions,
        })
    }

    /// Every assertion on `row`. A row that failed fails with its error; a row with its own
    /// `__expected` columns is checked with those instead of the file's output assertions (its
    /// latency, tokens and cost assertions still hold).
    pub async fn check(&self, row: &RowUnderTest<'_>) -> RowVerdict {
        let cost = self.cost(row);
        if let Some(error) = row.error {
            return RowVerdict {
                pass: false,
                score: 0.0,
                verdicts: vec![Verdict {
                    metric: "run".into(),
                    kind: "run".into(),
                    pass: false,
                    score: 0.0,
                    weight: 1.0,
                    reason: format!("the row failed: {error}"),
                }],
                cost: cost.ok(),
            };
        }
        let own = expected::row_assertions(row.data);
        let mut verdicts = Vec::new();
        for prepared in &self.assertions {
            if own.is_empty() || !prepared.spec.kind.reads_output() {
                verdicts.push(self.verdict(prepared, row, &cost).await);
            }
        }
        for (column, parsed) in own {
            let verdict = match parsed.and_then(|spec| self.row_spec(spec)) {
                Ok(spec) => match Prepared::new(spec) {
                    Ok(prepared) => self.verdict(&prepared, row, &cost).await,
                    Err(reason) => column_error(&column, reason),
                },
                Err(reason) => column_error(&column, reason),
            };
            verdicts.push(verdict);
        }
        let weights: f64 = verdicts.iter().map(|v| v.weight).sum();
        let pass = verdicts.iter().all(|v| v.pass);
        let score = if weights > 0.0 {
            verdicts.iter().map(|v| v.score * v.weight).sum::<f64>() / weights
        } else if pass {
            1.0
        } else {
            0.0
        };
        RowVerdict {
            pass,
            score,
            verdicts,
            cost: cost.ok(),
        }
    }

    /// A row's `llm-rubric:` or `similar:` with the model the file's own assertion of that type names.
    fn row_spec(&self, mut spec: AssertionSpec) -> Result<AssertionSpec, String> {
        let (model, needs) = match spec.kind {
            AssertionKind::LlmJudge => (&self.row_judge, "an `llm_judge`"),
            AssertionKind::Similar => (&self.row_embeddings, "a `similar`"),
            _ => return Ok(spec),
        };
        let Some((connection, deployment)) = model.clone() else {
            return Err(format!(
                "it needs {needs} assertion in the eval file to say which connection and deployment to call"
            ));
        };
        spec.connection = Some(connection);
        spec.deployment = Some(deployment);
        Ok(spec)
    }

    async fn verdict(
        &self,
        prepared: &Prepared,
        row: &RowUnderTest<'_>,
        cost: &Result<f64, String>,
    ) -> Verdict {
        let spec = &prepared.spec;
        let found = match self.found(prepared, row, cost).await {
            Ok(found) => found,
            Err(reason) => Found::fail(reason),
        };
        Verdict {
            metric: spec
                .metric
                .clone()
                .unwrap_or_else(|| spec.kind.name().to_owned()),
            kind: spec.kind.name().to_owned(),
            pass: found.pass,
            score: found.score.clamp(0.0, 1.0),
            weight: spec.weight.unwrap_or(1.0),
            reason: found.reason,
        }
    }

    async fn found(
        &self,
        prepared: &Prepared,
        row: &RowUnderTest<'_>,
        cost: &Result<f64, String>,
    ) -> Result<Found, String> {
        let spec = &prepared.spec;
        if !spec.kind.reads_output() {
            return Ok(budget(spec, row, cost));
        }
        let scope = Scope {
            data: row.data,
            inputs: row.inputs,
            outputs: row.outputs,
        };
        let output = self.output(spec, row)?;
        let value = spec
            .value
            .as_ref()
            .map(|value| resolve(value, &scope))
            .transpose()?;
        let models = || {
            self.models
                .as_ref()
                .ok_or_else(|| "no model connections were given".to_owned())
        };
        Ok(match spec.kind {
            AssertionKind::Equals => assertions::equals(output, value.as_ref()),
            AssertionKind::Contains => assertions::contains(output, value.as_ref(), false),
            AssertionKind::Icontains => assertions::contains(output, value.as_ref(), true),
            AssertionKind::StartsWith => assertions::starts_with(output, value.as_ref()),
            AssertionKind::Regex => match &prepared.regex {
                Some(regex) => assertions::matches(output, regex),
                None => {
                    let pattern = value.as_ref().map(text).unwrap_or_default();
                    let regex = Regex::new(&pattern)
                        .map_err(|err| format!("`{pattern}` is not a regular expression: {err}"))?;
                    assertions::matches(output, &regex)
                }
            },
            AssertionKind::IsJson => assertions::is_json(output),
            AssertionKind::JsonSchema => match &prepared.schema {
                Some(schema) => assertions::json_schema(output, schema),
                None => {
                    let schema = value.unwrap_or(Value::Null);
                    let schema = jsonschema::validator_for(&schema)
                        .map_err(|err| format!("the value is not a JSON Schema: {err}"))?;
                    assertions::json_schema(output, &schema)
                }
            },
            AssertionKind::Length => assertions::length(output, spec.min, spec.max),
            AssertionKind::LlmJudge => {
                let models = models()?;
                let (connection, deployment) = connection_of(spec)?;
                let target = self.targets.model(models, connection).await?;
                judge::llm_judge(
                    models,
                    &target,
                    deployment,
                    spec.rubric.as_deref().unwrap_or_default(),
                    &text(output),
                    value.as_ref().map(text).as_deref(),
                    spec.threshold,
                )
                .await
            }
            AssertionKind::Similar => {
                let models = models()?;
                let (connection, deployment) = connection_of(spec)?;
                let target = self.targets.model(models, connection).await?;
                judge::similar(
                    models,
                    &target,
                    deployment,
                    &text(output),
                    &value.as_ref().map(text).unwrap_or_default(),
                    spec.threshold.unwrap_or(judge::SIMILAR_THRESHOLD),
                )
                .await
            }
            AssertionKind::Flow => match &prepared.evaluator {
                Some(evaluator) => evaluator.judge(models()?, row.row, &scope).await,
                None => Found::fail("the evaluator flow was not loaded".into()),
            },
            AssertionKind::LatencyMs | AssertionKind::Tokens | AssertionKind::Cost => {
                budget(spec, row, cost)
            }
        })
    }

    /// The output an assertion looks at: the one it names, else the flow's only one.
    fn output<'r>(
        &self,
        spec: &AssertionSpec,
        row: &RowUnderTest<'r>,
    ) -> Result<&'r Value, String> {
        let name = match (&spec.output, &self.default_output) {
            (Some(name), _) => name,
            (None, _) if row.outputs.len() == 1 => {
                return row.outputs.values().next().ok_or_else(String::new);
            }
            (None, Some(name)) => name,
            (None, None) => {
                return Err(format!(
                    "the flow gave {} outputs; say which with `output:`",
                    row.outputs.len()
                ));
            }
        };
        row.outputs
            .get(name)
            .ok_or_else(|| format!("the flow gave no output `{name}`"))
    }

    /// What the row's model calls cost: each node's tokens at its deployment's price.
    fn cost(&self, row: &RowUnderTest<'_>) -> Result<f64, String> {
        let mut cost = 0.0;
        for (node, record) in row.nodes {
            let Some(usage) = &record.usage else { continue };
            let Some(deployment) = row.deployments.get(node) else {
                return Err(format!(
                    "the deployment node `{node}` called is not known, so its cost is not"
                ));
            };
            let Some(price) = self.prices.get(deployment) else {
                return Err(format!(
                    "deployment `{deployment}` (node `{node}`) has no price; add it under `prices:`"
                ));
            };
            cost += f64::from(usage.prompt_tokens) * price.input / 1e6
                + f64::from(usage.completion_tokens) * price.output / 1e6;
        }
        Ok(cost)
    }
}

impl Prepared {
    fn new(spec: AssertionSpec) -> Result<Self, String> {
        let fixed = |value: &Option<Value>| {
            value
                .as_ref()
                .filter(|v| !v.as_str().is_some_and(has_reference))
                .cloned()
        };
        let regex = match (spec.kind, fixed(&spec.value)) {
            (AssertionKind::Regex, Some(pattern)) => Some(
                Regex::new(&text(&pattern))
                    .map_err(|err| format!("`value` is not a regular expression: {err}"))?,
            ),
            _ => None,
        };
        let schema = match (spec.kind, fixed(&spec.value)) {
            (AssertionKind::JsonSchema, Some(schema)) if !schema.to_string().contains("${") => {
                Some(Arc::new(jsonschema::validator_for(&schema).map_err(
                    |err| format!("`value` is not a JSON Schema: {err}"),
                )?))
            }
            _ => None,
        };
        Ok(Self {
            spec,
            regex,
            schema,
            evaluator: None,
        })
    }
}

/// `latency_ms`, `tokens` and `cost`: the row's, at most `max`.
fn budget(spec: &AssertionSpec, row: &RowUnderTest<'_>, cost: &Result<f64, String>) -> Found {
    let most = spec.max.unwrap_or(f64::INFINITY);
    match spec.kind {
        AssertionKind::Tokens => {
            let tokens = TokenCount::of(row.nodes);
            let used = (tokens.prompt + tokens.completion) as f64;
            assertions::at_most("used", used, most, " tokens")
        }
        AssertionKind::Cost => match cost {
            Ok(cost) => assertions::at_most("cost", *cost, most, ""),
            Err(reason) => Found::fail(reason.clone()),
        },
        _ => assertions::at_most("took", row.latency_ms, most, " ms"),
    }
}

fn connection_of(spec: &AssertionSpec) -> Result<(&str, &str), String> {
    match (&spec.connection, &spec.deployment) {
        (Some(connection), Some(deployment)) => Ok((connection, deployment)),
        _ => Err("it needs `connection` and `deployment`".into()),
    }
}

/// A `__expected` column that cannot be checked: a failed verdict saying why.
fn column_error(column: &str, reason: String) -> Verdict {
    Verdict {
        metric: column.to_owned(),
        kind: column.to_owned(),
        pass: false,
        score: 0.0,
        weight: 1.0,
        reason: format!("column `{column}`: {reason}"),
    }
}
