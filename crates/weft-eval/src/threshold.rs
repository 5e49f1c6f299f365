//! Whether each variant reaches the file's thresholds.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::file::Thresholds;
use crate::summary::VariantSummary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ThresholdCheck {
    pub variant: String,
    /// `pass_rate`, `metric <name>`, `p95_latency_ms` or `cost`.
    pub what: String,
    pub wanted: f64,
    pub got: f64,
    pub holds: bool,
}

/// One check per threshold and variant; without a `pass_rate`, every row must pass.
pub fn check_thresholds(thresholds: &Thresholds, variants: &[VariantSummary]) -> Vec<ThresholdCheck> {
    todo!("{thresholds:?} {variants:?}")
}
