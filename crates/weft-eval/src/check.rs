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

use crate::file::{AssertionSpec, EvalFileError, Price};

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
    /// 1-based, in the data file's order.
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

pub struct Checker {
    specs: Vec<AssertionSpec>,
}

impl Checker {
    pub fn new(
        specs: &[AssertionSpec],
        prices: &BTreeMap<String, Price>,
        base_dir: &Path,
        models: Option<Models>,
    ) -> Result<Self, EvalFileError> {
        let _ = (prices, base_dir, models);
        Ok(Self {
            specs: specs.to_vec(),
        })
    }

    pub async fn check(&self, row: &RowUnderTest<'_>) -> RowVerdict {
        todo!("{} {}", self.specs.len(), row.row)
    }
}
