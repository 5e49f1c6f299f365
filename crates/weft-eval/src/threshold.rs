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
pub fn check_thresholds(
    thresholds: &Thresholds,
    variants: &[VariantSummary],
) -> Vec<ThresholdCheck> {
    let mut checks = Vec::new();
    for summary in variants {
        let mut check = |what: String, wanted: f64, got: f64, holds: bool| {
            checks.push(ThresholdCheck {
                variant: summary.variant.clone(),
                what,
                wanted,
                got,
                holds,
            });
        };
        let pass_rate = thresholds.pass_rate.unwrap_or(1.0);
        check(
            "pass_rate".into(),
            pass_rate,
            summary.pass_rate,
            summary.pass_rate >= pass_rate,
        );
        for (metric, least) in &thresholds.metrics {
            // A metric no row has cannot reach its threshold: likely a misspelt name.
            let got = summary.metrics.get(metric).copied();
            check(
                format!("metric {metric}"),
                *least,
                got.unwrap_or(0.0),
                got.is_some_and(|got| got >= *least),
            );
        }
        if let Some(most) = thresholds.p95_latency_ms {
            check(
                "p95_latency_ms".into(),
                most,
                summary.p95_latency_ms,
                summary.p95_latency_ms <= most,
            );
        }
        if let Some(most) = thresholds.cost {
            match summary.cost {
                Some(cost) => check("cost".into(), most, cost, cost <= most),
                None => check(
                    "cost (unknown: a deployment has no price)".into(),
                    most,
                    0.0,
                    false,
                ),
            }
        }
    }
    checks
}
