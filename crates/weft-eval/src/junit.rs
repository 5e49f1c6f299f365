//! JUnit XML, so that CI systems show each row as a test case.

use crate::check::RowVerdict;
use crate::summary::VariantSummary;

/// An evaluation's results, as JUnit reports them.
pub struct JunitInput<'a> {
    /// The report's name (the eval's name or file).
    pub name: &'a str,
    pub suites: Vec<JunitSuite<'a>>,
}

/// One variant: a `testsuite`.
pub struct JunitSuite<'a> {
    pub summary: &'a VariantSummary,
    pub rows: Vec<JunitRow<'a>>,
}

/// One row: a `testcase` named `row N`.
pub struct JunitRow<'a> {
    pub row: u64,
    pub verdict: &'a RowVerdict,
    pub latency_ms: f64,
}

pub fn junit(report: &JunitInput<'_>) -> String {
    todo!("{}", report.name)
}
