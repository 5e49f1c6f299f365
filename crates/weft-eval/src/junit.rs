//! JUnit XML, so that CI systems show each row as a test case.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

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

/// The report as JUnit XML: `testsuites` named after the eval, one `testsuite` per variant with
/// its pass rate, mean and p95 latency, tokens and cost as properties, one `testcase` per row;
/// a failed row's `failure` message is its failed verdicts' reasons. Valid against the Jenkins
/// xUnit plugin's junit-10.xsd (tests/junit.rs checks it with xmllint).
pub fn junit(report: &JunitInput<'_>) -> String {
    let mut xml = Report::new(report.name);
    for suite in &report.suites {
        let summary = suite.summary;
        let mut test_suite = TestSuite::new(summary.variant.as_str());
        let mut properties = vec![
            Property::new("pass_rate", summary.pass_rate.to_string()),
            Property::new("mean_latency_ms", format!("{:.1}", summary.mean_latency_ms)),
            Property::new("p95_latency_ms", format!("{:.1}", summary.p95_latency_ms)),
            Property::new("prompt_tokens", summary.prompt_tokens.to_string()),
            Property::new("completion_tokens", summary.completion_tokens.to_string()),
        ];
        if let Some(cost) = summary.cost {
            properties.push(Property::new("cost", cost.to_string()));
        }
        for (metric, score) in &summary.metrics {
            properties.push(Property::new(format!("metric.{metric}"), score.to_string()));
        }
        test_suite.add_properties(properties);
        let mut total = Duration::ZERO;
        for row in &suite.rows {
            let time = Duration::from_secs_f64(row.latency_ms.max(0.0) / 1000.0);
            total += time;
            let status = if row.verdict.pass {
                TestCaseStatus::success()
            } else {
                let mut failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let reasons: Vec<String> = row
                    .verdict
                    .verdicts
                    .iter()
                    .filter(|v| !v.pass)
                    .map(|v| format!("{}: {}", v.metric, v.reason))
                    .collect();
                failure.set_message(reasons.join("; "));
                failure.set_type("assertion");
                failure
            };
            let mut case = TestCase::new(format!("row {}", row.row), status);
            case.set_classname(format!("{}.{}", report.name, summary.variant));
            case.set_assertions(row.verdict.verdicts.len());
            case.set_time(time);
            test_suite.add_test_case(case);
        }
        test_suite.set_time(total);
        xml.add_test_suite(test_suite);
    }
    // Writing XML to memory fails only on an I/O error, which a Vec cannot have.
    xml.to_string().unwrap_or_default()
}
