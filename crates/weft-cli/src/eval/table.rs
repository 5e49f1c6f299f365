//! An eval report as text: per variant its pass rate, latencies, tokens, cost and metrics in
//! one table, the thresholds with ✓/✗, and against a baseline the rows that changed; and the
//! list of stored eval runs.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use weft_core::{EvalReport, EvalView};
use weft_eval::{ThresholdCheck, VariantSummary};

use crate::cassette::described;
use crate::runs::when;

/// An id as the user types it back: its first characters.
pub(super) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A share of 0..1 as a percentage, to a tenth.
pub(super) fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn cost(cost: Option<f64>) -> String {
    // Absent: a deployment a row called has no price in the eval file.
    cost.map_or_else(|| "-".to_owned(), |cost| format!("{cost:.4}"))
}

pub(super) fn render(report: &EvalReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "eval        {}  {}", report.eval_id, report.name);
    let _ = writeln!(out, "file        {}", report.eval_path);
    let took = (report.finished_at_ms - report.started_at_ms).max(0) as f64 / 1000.0;
    let _ = writeln!(
        out,
        "status      {} in {took:.1} s, {}",
        report.status.as_str(),
        if report.passed {
            "thresholds hold"
        } else {
            "thresholds not met"
        }
    );
    if let Some(cassette) = &report.cassette {
        let _ = writeln!(out, "cassette    {}", described(cassette));
    }
    if !report.variants.is_empty() {
        out.push('\n');
        out += &variants(&report.variants);
    }
    if !report.thresholds.is_empty() {
        out += "\nthresholds\n";
        out += &thresholds(&report.thresholds);
    }
    if let Some(baseline) = &report.baseline {
        out.push('\n');
        out += &changes(baseline, report);
    }
    out
}

/// The summary table, a row per variant; a column per metric any variant has.
fn variants(summaries: &[VariantSummary]) -> String {
    let metrics: BTreeSet<&str> = summaries
        .iter()
        .flat_map(|summary| summary.metrics.keys().map(String::as_str))
        .collect();
    let mut head = vec![
        "variant",
        "rows",
        "passed",
        "pass rate",
        "mean latency",
        "p95 latency",
        "prompt tokens",
        "completion tokens",
        "cost",
    ];
    head.extend(metrics.iter().copied());
    let rows = summaries
        .iter()
        .map(|summary| {
            let mut cells = vec![
                summary.variant.clone(),
                summary.rows.to_string(),
                summary.passed.to_string(),
                percent(summary.pass_rate),
                format!("{:.0} ms", summary.mean_latency_ms),
                format!("{:.0} ms", summary.p95_latency_ms),
                summary.prompt_tokens.to_string(),
                summary.completion_tokens.to_string(),
                cost(summary.cost),
            ];
            cells.extend(metrics.iter().map(|metric| {
                summary
                    .metrics
                    .get(*metric)
                    .map_or_else(|| "-".to_owned(), |score| format!("{score:.2}"))
            }));
            cells
        })
        .collect::<Vec<_>>();
    table(&head, &rows)
}

/// Columns as wide as their widest cell; the first left-aligned, the numbers right-aligned.
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([head[column].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..head.len()).map(width).collect();
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (column, cell) in cells.enumerate() {
            let pad = widths[column].saturating_sub(cell.chars().count());
            if column == 0 {
                line += cell;
                line += &" ".repeat(pad);
            } else {
                line += "  ";
                line += &" ".repeat(pad);
                line += cell;
            }
        }
        line.trim_end().to_owned() + "\n"
    };
    let mut out = line(&mut head.iter().copied());
    for row in rows {
        out += &line(&mut row.iter().map(String::as_str));
    }
    out
}

/// `pass_rate` and metrics are floors, latency and cost ceilings (weft-eval's ThresholdCheck).
fn thresholds(checks: &[ThresholdCheck]) -> String {
    let width = checks
        .iter()
        .map(|check| check.variant.chars().count())
        .max()
        .unwrap_or(0);
    checks
        .iter()
        .map(|check| {
            let mark = if check.holds { '✓' } else { '✗' };
            let bound = if check.what == "p95_latency_ms" || check.what == "cost" {
                "at most"
            } else {
                "at least"
            };
            let value = |value: f64| match check.what.as_str() {
                "p95_latency_ms" => format!("{value:.0} ms"),
                "cost" => format!("{value:.4}"),
                _ => format!("{value:.2}"),
            };
            format!(
                "  {mark} {:<width$}  {} {}, {bound} {}\n",
                check.variant,
                check.what,
                value(check.got),
                value(check.wanted)
            )
        })
        .collect()
}

fn changes(baseline: &str, report: &EvalReport) -> String {
    let worse = report
        .changes
        .iter()
        .filter(|change| change.was_pass && !change.now_pass)
        .count();
    let better = report
        .changes
        .iter()
        .filter(|change| !change.was_pass && change.now_pass)
        .count();
    let mut out = if report.changes.is_empty() {
        format!("against {}: no row changed\n", short(baseline))
    } else {
        format!(
            "against {}: {worse} pass → fail, {better} fail → pass\n",
            short(baseline)
        )
    };
    let width = report
        .changes
        .iter()
        .map(|change| change.variant.chars().count())
        .max()
        .unwrap_or(0);
    for change in &report.changes {
        let (mark, went) = if change.now_pass {
            ('✓', "fail → pass")
        } else {
            ('✗', "pass → fail")
        };
        let _ = writeln!(
            out,
            "  {mark} {:<width$}  row {}: {went}",
            change.variant, change.row
        );
    }
    out
}

/// `ID  STARTED  STATUS  OUTCOME  VARIANTS  FILE  NAME`, newest first.
pub(super) fn list(evals: &[EvalView]) -> String {
    if evals.is_empty() {
        return "no eval runs yet; start one with `weft eval run FILE.eval.yaml`\n".to_owned();
    }
    let rows = evals
        .iter()
        .map(|eval| {
            let outcome = match eval.passed {
                Some(true) => "passed",
                Some(false) => "failed",
                None => "-",
            };
            let variants = eval
                .variants
                .iter()
                .map(|summary| format!("{} {}", summary.variant, percent(summary.pass_rate)))
                .collect::<Vec<_>>()
                .join(", ");
            let file = Path::new(&eval.eval_path)
                .file_name()
                .map_or(eval.eval_path.clone(), |name| {
                    name.to_string_lossy().into_owned()
                });
            vec![
                short(&eval.id).to_owned(),
                when(eval.started_at_ms),
                eval.status.as_str().to_owned(),
                outcome.to_owned(),
                file,
                eval.name.clone(),
                variants,
            ]
        })
        .collect::<Vec<_>>();
    let mut out = String::new();
    for row in rows {
        let _ = writeln!(out, "{}", row.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use weft_core::EvalStatus;
    use weft_eval::Change;

    use super::*;

    fn summary(variant: &str, passed: u64, metrics: &[(&str, f64)]) -> VariantSummary {
        VariantSummary {
            variant: variant.into(),
            rows: 4,
            passed,
            failed: 4 - passed,
            pass_rate: passed as f64 / 4.0,
            mean_latency_ms: 412.4,
            p95_latency_ms: 803.0,
            prompt_tokens: 120,
            completion_tokens: 30,
            cost: (variant == "mini").then_some(0.00042),
            metrics: metrics
                .iter()
                .map(|(name, score)| ((*name).to_owned(), *score))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn report() -> EvalReport {
        EvalReport {
            eval_id: "3f2c1a9b-0d4e-4c21-9a7b-5e4f3a2b1c0d".into(),
            name: "Chat answers".into(),
            eval_path: "/work/chat.eval.yaml".into(),
            status: EvalStatus::Finished,
            message: None,
            started_at_ms: 1_000,
            finished_at_ms: 5_200,
            variants: vec![
                summary("mini", 4, &[("judge", 0.875)]),
                summary("large", 3, &[]),
            ],
            thresholds: vec![
                ThresholdCheck {
                    variant: "mini".into(),
                    what: "pass_rate".into(),
                    wanted: 0.9,
                    got: 1.0,
                    holds: true,
                },
                ThresholdCheck {
                    variant: "large".into(),
                    what: "p95_latency_ms".into(),
                    wanted: 500.0,
                    got: 803.0,
                    holds: false,
                },
            ],
            passed: false,
            baseline: Some("1a2b3c4d-aaaa-bbbb-cccc-dddddddddddd".into()),
            changes: vec![
                Change {
                    variant: "large".into(),
                    row: 0,
                    was_pass: false,
                    now_pass: true,
                },
                Change {
                    variant: "large".into(),
                    row: 3,
                    was_pass: true,
                    now_pass: false,
                },
            ],
            cassette: None,
        }
    }

    #[test]
    fn a_report_reads_as_a_table_thresholds_and_changed_rows() {
        assert_eq!(
            render(&report()),
            "eval        3f2c1a9b-0d4e-4c21-9a7b-5e4f3a2b1c0d  Chat answers\n\
             file        /work/chat.eval.yaml\n\
             status      finished in 4.2 s, thresholds not met\n\
             \n\
             variant  rows  passed  pass rate  mean latency  p95 latency  prompt tokens  completion tokens    cost  judge\n\
             mini        4       4    100.0 %        412 ms       803 ms            120                 30  0.0004   0.88\n\
             large       4       3     75.0 %        412 ms       803 ms            120                 30       -      -\n\
             \n\
             thresholds\n\
             \x20 ✓ mini   pass_rate 1.00, at least 0.90\n\
             \x20 ✗ large  p95_latency_ms 803 ms, at most 500 ms\n\
             \n\
             against 1a2b3c4d: 1 pass → fail, 1 fail → pass\n\
             \x20 ✓ large  row 0: fail → pass\n\
             \x20 ✗ large  row 3: pass → fail\n"
        );
    }

    #[test]
    fn without_a_baseline_no_changes_are_spoken_of_and_an_unchanged_one_says_so() {
        let mut report = report();
        report.changes.clear();
        assert!(render(&report).ends_with("against 1a2b3c4d: no row changed\n"));
        report.baseline = None;
        assert!(!render(&report).contains("against"));
    }
}
