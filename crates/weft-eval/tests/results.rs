//! What a variant's rows add up to, whether thresholds hold, which rows changed against a
//! baseline, and the JUnit XML CI systems read (validated with xmllint against Jenkins' schema).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use weft_eval::{
    Change, JunitInput, JunitRow, JunitSuite, RowPass, RowVerdict, Summariser, Thresholds,
    TokenCount, VariantSummary, Verdict, check_thresholds, compare, junit,
};

fn verdict(pass: bool, metric: &str, score: f64, reason: &str, cost: Option<f64>) -> RowVerdict {
    RowVerdict {
        pass,
        score,
        verdicts: vec![Verdict {
            metric: metric.into(),
            kind: "contains".into(),
            pass,
            score,
            weight: 1.0,
            reason: reason.into(),
        }],
        cost,
    }
}

fn summary_of(rows: &[(bool, f64, Option<f64>)]) -> VariantSummary {
    let mut summariser = Summariser::new("mini");
    for (i, (pass, latency, cost)) in rows.iter().enumerate() {
        let v = verdict(*pass, "accuracy", if *pass { 1.0 } else { 0.0 }, "r", *cost);
        let tokens = TokenCount {
            prompt: 10 + i as u64,
            completion: 5,
        };
        summariser.push(&v, *latency, tokens);
    }
    summariser.finish()
}

#[test]
fn a_summary_has_rates_latencies_tokens_cost_and_metric_means() {
    // 20 rows, latencies 10..=200 ms, every fourth failing.
    let rows: Vec<(bool, f64, Option<f64>)> = (1..=20)
        .map(|i| (i % 4 != 0, f64::from(i) * 10.0, Some(0.5)))
        .collect();
    let s = summary_of(&rows);
    assert_eq!((s.rows, s.passed, s.failed), (20, 15, 5));
    assert_eq!(s.pass_rate, 0.75);
    assert_eq!(s.mean_latency_ms, 105.0);
    assert_eq!(s.p95_latency_ms, 190.0, "nearest rank: the 19th of 20");
    assert_eq!(s.prompt_tokens, (10..30).sum::<u64>());
    assert_eq!(s.completion_tokens, 100);
    assert_eq!(s.cost, Some(10.0));
    assert_eq!(s.metrics, BTreeMap::from([("accuracy".to_owned(), 0.75)]));
    // One row without a known cost leaves the variant's cost unknown.
    let s = summary_of(&[(true, 5.0, Some(1.0)), (true, 5.0, None)]);
    assert_eq!(s.cost, None);
    let empty = Summariser::new("none").finish();
    assert_eq!(
        (empty.rows, empty.pass_rate, empty.p95_latency_ms),
        (0, 0.0, 0.0)
    );
}

#[test]
fn thresholds_hold_or_not_per_variant() {
    let s = summary_of(&[
        (true, 100.0, Some(0.2)),
        (false, 900.0, Some(0.2)),
        (true, 200.0, Some(0.2)),
        (true, 300.0, Some(0.2)),
    ]);
    // No thresholds: every row must pass.
    let checks = check_thresholds(&Thresholds::default(), std::slice::from_ref(&s));
    assert_eq!(checks.len(), 1);
    assert_eq!(
        (
            checks[0].what.as_str(),
            checks[0].wanted,
            checks[0].got,
            checks[0].holds
        ),
        ("pass_rate", 1.0, 0.75, false)
    );
    let thresholds = Thresholds {
        pass_rate: Some(0.7),
        metrics: BTreeMap::from([("accuracy".to_owned(), 0.8), ("tone".to_owned(), 0.1)]),
        p95_latency_ms: Some(1000.0),
        cost: Some(0.5),
    };
    let got: Vec<(String, bool)> = check_thresholds(&thresholds, &[s])
        .into_iter()
        .map(|c| (c.what, c.holds))
        .collect();
    assert_eq!(
        got,
        [
            ("pass_rate".to_owned(), true),
            ("metric accuracy".to_owned(), false),
            ("metric tone".to_owned(), false),
            ("p95_latency_ms".to_owned(), true),
            ("cost".to_owned(), false),
        ]
    );
}

#[test]
fn a_baseline_comparison_lists_the_rows_that_flipped() {
    let pass = |variant: &str, row: u64, pass: bool| RowPass {
        variant: variant.into(),
        row,
        pass,
    };
    let before = [
        pass("mini", 1, true),
        pass("mini", 2, true),
        pass("mini", 3, false),
        pass("large", 1, true),
    ];
    let now = [
        pass("mini", 3, true),
        pass("mini", 2, false),
        pass("mini", 1, true),
        pass("large", 1, false),
        pass("large", 9, false),
    ];
    assert_eq!(
        compare(&before, &now),
        [
            Change {
                variant: "large".into(),
                row: 1,
                was_pass: true,
                now_pass: false
            },
            Change {
                variant: "mini".into(),
                row: 2,
                was_pass: true,
                now_pass: false
            },
            Change {
                variant: "mini".into(),
                row: 3,
                was_pass: false,
                now_pass: true
            },
        ]
    );
}

#[test]
fn junit_has_a_suite_per_variant_a_case_per_row_and_matches_the_schema() {
    let passed = verdict(true, "accuracy", 1.0, "contains \"Paris\"", Some(0.001));
    let failed = RowVerdict {
        pass: false,
        score: 0.5,
        verdicts: vec![
            Verdict {
                metric: "accuracy".into(),
                kind: "contains".into(),
                pass: false,
                score: 0.0,
                weight: 1.0,
                reason: "\"Lyon <b>&</b>\" does not contain \"Paris\"".into(),
            },
            Verdict {
                metric: "latency_ms".into(),
                kind: "latency_ms".into(),
                pass: true,
                score: 1.0,
                weight: 1.0,
                reason: "took 10 ms".into(),
            },
            Verdict {
                metric: "judge".into(),
                kind: "llm_judge".into(),
                pass: false,
                score: 0.0,
                weight: 1.0,
                reason: "judge: invents a river".into(),
            },
        ],
        cost: None,
    };
    let mini = summary_of(&[(true, 120.0, Some(0.001)), (false, 80.0, None)]);
    let mut large = mini.clone();
    large.variant = "large".into();
    let rows = |_: &VariantSummary| {
        vec![
            JunitRow {
                row: 1,
                verdict: &passed,
                latency_ms: 120.0,
            },
            JunitRow {
                row: 2,
                verdict: &failed,
                latency_ms: 80.0,
            },
        ]
    };
    let xml = junit(&JunitInput {
        name: "Chat answers",
        suites: vec![
            JunitSuite {
                summary: &mini,
                rows: rows(&mini),
            },
            JunitSuite {
                summary: &large,
                rows: rows(&large),
            },
        ],
    });
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="mini" tests="2" disabled="0" errors="0" failures="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="row 2" classname="Chat answers.mini""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="pass_rate" value="0.5"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains("message=\"accuracy: &quot;Lyon &lt;b&gt;&amp;&lt;/b&gt;&quot; does not contain &quot;Paris&quot;; judge: judge: invents a river\""),
        "{xml}"
    );

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    std::fs::write(&report, &xml).unwrap();
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd");
    let checked = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&report)
        .output()
        .expect("xmllint (Debian's libxml2-utils; scripts/install-deps.sh installs it)");
    assert!(
        checked.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // The schema is no rubber stamp: a case without its name is refused.
    std::fs::write(
        &report,
        xml.replacen(r#"<testcase name="row 1""#, "<testcase", 1),
    )
    .unwrap();
    let refused = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&report)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}
