//! Per-variant aggregates, computed as rows are checked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use weft_engine::NodeRecord;

use crate::check::RowVerdict;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VariantSummary {
    pub variant: String,
    #[ts(type = "number")]
    pub rows: u64,
    #[ts(type = "number")]
    pub passed: u64,
    #[ts(type = "number")]
    pub failed: u64,
    pub pass_rate: f64,
    pub mean_latency_ms: f64,
    pub p95_latency_ms: f64,
    #[ts(type = "number")]
    pub prompt_tokens: u64,
    #[ts(type = "number")]
    pub completion_tokens: u64,
    /// Absent when a row called a deployment without a price.
    pub cost: Option<f64>,
    /// Metric name -> its mean score over the rows that have it.
    pub metrics: BTreeMap<String, f64>,
}

/// The tokens a row's model calls used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCount {
    pub prompt: u64,
    pub completion: u64,
}

impl TokenCount {
    /// Summed over the row's nodes.
    pub fn of(nodes: &BTreeMap<String, NodeRecord>) -> Self {
        nodes
            .values()
            .filter_map(|node| node.usage.as_ref())
            .fold(Self::default(), |sum, usage| Self {
                prompt: sum.prompt + u64::from(usage.prompt_tokens),
                completion: sum.completion + u64::from(usage.completion_tokens),
            })
    }
}

/// Takes rows one by one; keeps sums, and the latencies for the percentile.
pub struct Summariser {
    variant: String,
}

impl Summariser {
    pub fn new(variant: impl Into<String>) -> Self {
        Self {
            variant: variant.into(),
        }
    }

    pub fn push(&mut self, verdict: &RowVerdict, latency_ms: f64, tokens: TokenCount) {
        todo!("{verdict:?} {latency_ms} {tokens:?}")
    }

    pub fn finish(self) -> VariantSummary {
        todo!("{}", self.variant)
    }
}
