//! The rows whose verdict changed against a baseline run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One row's outcome in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowPass {
    pub variant: String,
    pub row: u64,
    pub pass: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Change {
    pub variant: String,
    #[ts(type = "number")]
    pub row: u64,
    pub was_pass: bool,
    pub now_pass: bool,
}

/// Rows (same variant, same row number) that passed in one run and failed in the other, in
/// variant then row order. Rows only one run has are left out.
pub fn compare(baseline: &[RowPass], current: &[RowPass]) -> Vec<Change> {
    let before: BTreeMap<(&str, u64), bool> = baseline
        .iter()
        .map(|r| ((r.variant.as_str(), r.row), r.pass))
        .collect();
    let mut changes: Vec<Change> = current
        .iter()
        .filter_map(|now| {
            let was = *before.get(&(now.variant.as_str(), now.row))?;
            (was != now.pass).then(|| Change {
                variant: now.variant.clone(),
                row: now.row,
                was_pass: was,
                now_pass: now.pass,
            })
        })
        .collect();
    changes.sort_by(|a, b| (&a.variant, a.row).cmp(&(&b.variant, b.row)));
    changes.dedup();
    changes
}
