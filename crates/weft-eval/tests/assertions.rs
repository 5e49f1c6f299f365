//! Every assertion that needs no model, each passing and failing, as a user reads the verdicts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Row, verdict};
use serde_json::json;

/// (assertion, output that passes, output that fails, a part of the failure's reason)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "{ type: equals, value: Paris }",
        r#""Paris""#,
        r#""paris""#,
        r#"expected "Paris", got "paris""#,
    ),
    (
        "{ type: equals, value: 4 }",
        "4",
        "5",
        "expected \"4\", got \"5\"",
    ),
    (
        "{ type: contains, value: Paris }",
        r#""It is Paris.""#,
        r#""It is paris.""#,
        "does not contain \"Paris\"",
    ),
    (
        "{ type: icontains, value: PARIS }",
        r#""It is paris.""#,
        r#""It is Lyon.""#,
        "(ignoring case)",
    ),
    (
        "{ type: starts_with, value: Sure }",
        r#""Sure, it is""#,
        r#""Not sure""#,
        "does not start with \"Sure\"",
    ),
    (
        "{ type: regex, value: '^\\d{4}$' }",
        r#""2024""#,
        r#""24""#,
        "does not match /^\\d{4}$/",
    ),
    (
        "{ type: is_json }",
        r#""{\"a\": 1}""#,
        r#""{a: 1}""#,
        "is not JSON",
    ),
    (
        "{ type: is_json }",
        r#"{"already": "parsed"}"#,
        r#""plain text""#,
        "is not JSON",
    ),
    (
        "{ type: json_schema, value: { type: object, required: [city], properties: { city: { type: string } } } }",
        r#""{\"city\": \"Paris\"}""#,
        r#""{\"city\": 4}""#,
        "does not match the schema: /city:",
    ),
    (
        "{ type: length, min: 2, max: 5 }",
        r#""abcd""#,
        r#""abcdef""#,
        "is 6 characters; at most 5",
    ),
    (
        "{ type: length, min: 2 }",
        r#""ab""#,
        r#""é""#,
        "is 1 characters; at least 2",
    ),
];

#[tokio::test]
async fn every_output_assertion_passes_and_fails() {
    for (assert, good, bad, reason) in CASES {
        let yaml = format!("  - {assert}\n");
        let good_row = Row::new(
            json!({}),
            json!({ "answer": serde_json::from_str::<serde_json::Value>(good).unwrap() }),
        );
        let passed = verdict(&yaml, &good_row).await;
        assert!(passed.pass, "{assert} on {good}: {passed:#?}");
        assert_eq!(passed.score, 1.0);
        let bad_row = Row::new(
            json!({}),
            json!({ "answer": serde_json::from_str::<serde_json::Value>(bad).unwrap() }),
        );
        let failed = verdict(&yaml, &bad_row).await;
        assert!(!failed.pass, "{assert} on {bad}: {failed:#?}");
        assert_eq!(failed.score, 0.0);
        let said = &failed.verdicts[0].reason;
        assert!(said.contains(reason), "{assert}: {said}");
    }
}

#[tokio::test]
async fn values_read_the_data_row() {
    let yaml = "  - { output: answer, type: icontains, value: \"${data.expected}\" }\n  - { output: answer, type: equals, value: \"The answer is ${data.expected}.\" }\n";
    let row = Row::new(
        json!({"expected": "Paris"}),
        json!({"answer": "The answer is Paris.", "other": 1}),
    );
    let v = verdict(yaml, &row).await;
    assert!(v.pass, "{v:#?}");
    let row = Row::new(
        json!({"expected": "Rome"}),
        json!({"answer": "The answer is Paris.", "other": 1}),
    );
    let v = verdict(yaml, &row).await;
    assert!(!v.pass);
    assert!(
        v.verdicts[0].reason.contains("does not contain \"Rome\""),
        "{v:#?}"
    );
    let row = Row::new(json!({}), json!({"answer": "x", "other": 1}));
    let v = verdict(yaml, &row).await;
    assert_eq!(
        v.verdicts[0].reason,
        "the data row has no column `expected`"
    );
}

#[tokio::test]
async fn several_outputs_need_a_name() {
    let row = Row::new(json!({}), json!({"answer": "Paris", "sources": []}));
    let v = verdict("  - { type: contains, value: Paris }\n", &row).await;
    assert!(!v.pass);
    assert_eq!(
        v.verdicts[0].reason,
        "the flow gave 2 outputs; say which with `output:`"
    );
}

#[tokio::test]
async fn latency_tokens_and_cost_budgets() {
    let yaml = "  - { type: latency_ms, max: 3000 }\n  - { type: tokens, max: 1000 }\n  - { type: cost, max: 0.001 }\n";
    let mut cheap =
        Row::new(json!({}), json!({"answer": "a"})).called("chat", "gpt-4o-mini", 400, 100);
    cheap.latency_ms = 1200.0;
    let v = verdict(yaml, &cheap).await;
    assert!(v.pass, "{v:#?}");
    // 400 × 0.15 / 1M + 100 × 0.6 / 1M
    assert!((v.cost.unwrap() - 0.00012).abs() < 1e-12, "{:?}", v.cost);
    assert_eq!(v.verdicts[0].reason, "took 1200 ms");
    assert_eq!(v.verdicts[1].reason, "used 500 tokens");

    let mut dear =
        Row::new(json!({}), json!({"answer": "a"})).called("chat", "gpt-4o-mini", 4000, 2000);
    dear.latency_ms = 3500.0;
    let v = verdict(yaml, &dear).await;
    let reasons: Vec<&str> = v.verdicts.iter().map(|v| v.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "took 3500 ms; at most 3000 ms",
            "used 6000 tokens; at most 1000 tokens",
            "cost 0.0018; at most 0.001"
        ]
    );

    let unpriced = Row::new(json!({}), json!({"answer": "a"})).called("chat", "gpt-4o", 10, 10);
    let v = verdict(yaml, &unpriced).await;
    assert_eq!(v.cost, None);
    assert!(!v.verdicts[2].pass);
    assert_eq!(
        v.verdicts[2].reason,
        "deployment `gpt-4o` (node `chat`) has no price; add it under `prices:`"
    );
}

#[tokio::test]
async fn a_failed_row_fails_with_its_error() {
    let mut row = Row::new(json!({}), json!({}));
    row.error = Some("node chat: the service refused the API key (HTTP 401)".into());
    let v = verdict("  - { type: latency_ms, max: 3000 }\n", &row).await;
    assert!(!v.pass);
    assert_eq!(v.verdicts.len(), 1);
    assert_eq!(v.verdicts[0].kind, "run");
    assert_eq!(
        v.verdicts[0].reason,
        "the row failed: node chat: the service refused the API key (HTTP 401)"
    );
}

#[tokio::test]
async fn weights_and_metric_names_make_the_row_score() {
    let yaml = "  - { type: contains, value: Paris, weight: 3, metric: accuracy }\n  - { type: length, max: 5 }\n";
    let row = Row::new(json!({}), json!({"answer": "Paris, France"}));
    let v = verdict(yaml, &row).await;
    assert!(!v.pass);
    assert_eq!(v.score, 0.75);
    assert_eq!(v.verdicts[0].metric, "accuracy");
    assert_eq!(v.verdicts[0].weight, 3.0);
    assert_eq!(v.verdicts[1].metric, "length");
}

#[tokio::test]
async fn a_rows_expected_columns_replace_the_output_assertions() {
    let yaml = "  - { type: contains, value: Lyon }\n  - { type: latency_ms, max: 50 }\n";
    // Without its own columns the file's assertions hold (and fail here).
    let plain = Row::new(json!({"q": "capital?"}), json!({"answer": "Paris"}));
    let v = verdict(yaml, &plain).await;
    assert_eq!(v.verdicts.len(), 2);
    assert!(!v.verdicts[0].pass);
    // With them, `contains: Lyon` is not checked; latency still is.
    let own = Row::new(
        json!({"q": "capital?", "__expected": "Paris", "__expected1": "icontains: PAR", "__expected2": "regex: ^P"}),
        json!({"answer": "Paris"}),
    );
    let v = verdict(yaml, &own).await;
    let seen: Vec<(&str, bool)> = v
        .verdicts
        .iter()
        .map(|v| (v.kind.as_str(), v.pass))
        .collect();
    assert_eq!(
        seen,
        [
            ("latency_ms", false),
            ("equals", true),
            ("icontains", true),
            ("regex", true)
        ]
    );
    // A judge in a column needs the file to name one.
    let judged = Row::new(
        json!({"__expected": "llm-rubric: is polite"}),
        json!({"answer": "Paris"}),
    );
    let v = verdict("  - { type: latency_ms, max: 500 }\n", &judged).await;
    assert!(!v.pass);
    assert_eq!(
        v.verdicts[1].reason,
        "column `__expected`: it needs an `llm_judge` assertion in the eval file to say which connection and deployment to call"
    );
}
