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

/// Takes rows one by one; keeps sums, and the latencies for the percentile (8 bytes a row).
pub struct Summariser {
    variant: String,
    rows: u64,
    passed: u64,
    latencies: Vec<f64>,
    tokens: TokenCount,
    /// `None` once a row's cost is unknown.
    cost: Option<f64>,
    /// Metric -> (sum of scores, how many).
    metrics: BTreeMap<String, (f64, u64)>,
}

impl Summariser {
    pub fn new(variant: impl Into<String>) -> Self {
        Self {
            variant: variant.into(),
            rows: 0,
            passed: 0,
            latencies: Vec::new(),
            tokens: TokenCount::default(),
            cost: Some(0.0),
            metrics: BTreeMap::new(),
        }
    }

    pub fn push(&mut self, verdict: &RowVerdict, latency_ms: f64, tokens: TokenCount) {
        self.rows += 1;
        self.passed += u64::from(verdict.pass);
        self.latencies.push(latency_ms);
        self.tokens.prompt += tokens.prompt;
        self.tokens.completion += tokens.completion;
        self.cost = self.cost.zip(verdict.cost).map(|(sum, row)| sum + row);
        for v in &verdict.verdicts {
            let entry = self.metrics.entry(v.metric.clone()).or_default();
            entry.0 += v.score;
            entry.1 += 1;
        }
    }

    pub fn finish(mut self) -> VariantSummary {
        let rows = self.rows;
        let share = |n: f64| if rows == 0 { 0.0 } else { n / rows as f64 };
        self.latencies.sort_by(f64::total_cmp);
        VariantSummary {
            variant: self.variant,
            rows,
            passed: self.passed,
            failed: rows - self.passed,
            pass_rate: share(self.passed as f64),
            mean_latency_ms: share(self.latencies.iter().sum()),
            p95_latency_ms: nearest_rank(&self.latencies, 0.95),
            prompt_tokens: self.tokens.prompt,
            completion_tokens: self.tokens.completion,
            cost: if rows == 0 { None } else { self.cost },
            metrics: self
                .metrics
                .into_iter()
                .map(|(name, (sum, n))| (name, sum / n as f64))
                .collect(),
        }
    }
}

/// The nearest-rank percentile of sorted values: the smallest value at or above `p` of them.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
