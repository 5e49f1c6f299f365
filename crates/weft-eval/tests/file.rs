//! The eval file: read with clear, line-numbered errors, written back the same, its JSON Schema
//! checked in and current, and variants applied to the flow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use weft_eval::{AssertionKind, EvalFile, Variant, VariantError, apply_variant};
use weft_flow::FlowDocument;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const FILE: &str = r#"name: Chat answers
flow: chat.weft.yaml
data: questions.jsonl
column_mapping: { question: "${data.q}" }
variants:
  - { name: mini, set: { chat.deployment: gpt-4o-mini } }
  - { name: large, set: { chat.deployment: gpt-4o } }
assert:
  - { output: answer, type: icontains, value: "${data.expected}" }
  - { output: answer, type: llm_judge, rubric: "Answers the question without inventing facts",
      connection: judge, deployment: gpt-4o }
  - { type: latency_ms, max: 3000 }
thresholds: { pass_rate: 0.9 }
prices:
  gpt-4o: { input: 2.5, output: 10 }
"#;

#[test]
fn the_issue_example_reads_and_writes_back_the_same() {
    let file = EvalFile::parse(FILE).unwrap();
    assert_eq!(file.name.as_deref(), Some("Chat answers"));
    assert_eq!(file.flow, PathBuf::from("chat.weft.yaml"));
    assert_eq!(file.column_mapping["question"], "${data.q}");
    assert_eq!(file.variants[1].set["chat.deployment"], json!("gpt-4o"));
    let kinds: Vec<AssertionKind> = file.assert.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            AssertionKind::Icontains,
            AssertionKind::LlmJudge,
            AssertionKind::LatencyMs
        ]
    );
    assert_eq!(file.thresholds.pass_rate, Some(0.9));
    assert_eq!(file.prices["gpt-4o"].output, 10.0);
    let written = file.to_yaml();
    assert_eq!(EvalFile::parse(&written).unwrap(), file, "{written}");
    // Whole numbers stay whole: a saved file reads as it was written.
    assert!(written.contains("    max: 3000\n"), "{written}");
    assert!(
        written.contains("gpt-4o:\n    input: 2.5\n    output: 10\n"),
        "{written}"
    );
    assert_eq!(EvalFile::parse(&written).unwrap().to_yaml(), written);
}

fn error(text: &str) -> String {
    EvalFile::parse(text).unwrap_err().to_string()
}

#[test]
fn a_bad_file_says_what_and_where() {
    let base = "flow: f.weft.yaml\ndata: d.jsonl\n";
    assert_eq!(
        error(""),
        "the file is empty; an eval file names at least `flow:` and `data:`"
    );
    let unknown = error(&format!("{base}asert: []\n"));
    assert!(
        unknown.starts_with("line 3, column 1: unknown field `asert`"),
        "{unknown}"
    );
    let missing = error("data: d.jsonl\n");
    assert!(missing.contains("missing field `flow`"), "{missing}");
    let kind = error(&format!(
        "{base}assert:\n  - {{ type: contain, value: x }}\n"
    ));
    assert!(kind.starts_with("line 4, column "), "{kind}");
    assert!(kind.contains("unknown variant `contain`"), "{kind}");
    let needs = error(&format!(
        "{base}assert:\n  - {{ type: contains, value: x }}\n  - {{ type: llm_judge, rubric: polite }}\n"
    ));
    assert!(needs.starts_with("line 5, column "), "{needs}");
    assert!(
        needs.ends_with("a `llm_judge` assertion needs `connection`"),
        "{needs}"
    );
    let stray = error(&format!(
        "{base}assert:\n  - {{ type: latency_ms, max: 5, output: answer }}\n"
    ));
    assert!(stray.starts_with("line 4"), "{stray}");
    assert!(
        stray.ends_with(
            "`output` does not apply to a `latency_ms` assertion (it takes max, weight, metric)"
        ),
        "{stray}"
    );
    let pattern = error(&format!(
        "{base}assert:\n  - {{ type: regex, value: \"(unclosed\" }}\n"
    ));
    assert!(
        pattern.contains("`value` is not a regular expression"),
        "{pattern}"
    );
    let length = error(&format!("{base}assert:\n  - {{ type: length }}\n"));
    assert!(
        length.ends_with("a `length` assertion needs `min`, `max` or both"),
        "{length}"
    );
    assert_eq!(
        error(&format!(
            "{base}variants:\n  - {{ name: a }}\n  - {{ name: a }}\n"
        )),
        "variants: two variants are named `a`"
    );
    assert_eq!(
        error(&format!("{base}thresholds: {{ pass_rate: 90 }}\n")),
        "thresholds.pass_rate: 90 is not between 0 and 1"
    );
}

#[test]
fn assertions_must_name_an_output_the_flow_has() {
    let flow = FlowDocument::parse(
        "schema: 1\noutputs:\n  answer: { value: \"${inputs.q}\" }\n  sources: { value: \"${inputs.q}\" }\ninputs:\n  q: { type: string }\n",
    )
    .unwrap();
    let file = |assert: &str| {
        EvalFile::parse(&format!(
            "flow: f.weft.yaml\ndata: d.jsonl\nassert:\n  - {assert}\n"
        ))
        .unwrap()
    };
    assert_eq!(
        file("{ type: contains, value: x, output: answer }").check_outputs(&flow),
        Ok(())
    );
    assert_eq!(
        file("{ type: latency_ms, max: 9 }").check_outputs(&flow),
        Ok(())
    );
    assert_eq!(
        file("{ type: contains, value: x }")
            .check_outputs(&flow)
            .unwrap_err()
            .to_string(),
        "assertion 1 (contains): the flow has 2 outputs; say which with `output:`"
    );
    assert_eq!(
        file("{ type: contains, value: x, output: anwser }")
            .check_outputs(&flow)
            .unwrap_err()
            .to_string(),
        "assertion 1 (contains): the flow has no output `anwser` (it has: answer, sources)"
    );
}

fn chat_flow() -> FlowDocument {
    FlowDocument::parse(&std::fs::read_to_string(root().join("examples/chat.weft.yaml")).unwrap())
        .unwrap()
}

fn variant(set: Value) -> Variant {
    Variant {
        name: "v".into(),
        set: serde_json::from_value(set).unwrap(),
    }
}

#[test]
fn a_variant_sets_node_properties_and_must_keep_the_flow_valid() {
    let flow = chat_flow();
    let changed = apply_variant(
        &flow,
        &variant(json!({"chat.deployment": "gpt-4o", "chat.temperature": 0.1})),
    )
    .unwrap();
    let chat = changed.nodes.iter().find(|n| n.id == "chat").unwrap();
    assert_eq!(chat.properties["deployment"], json!("gpt-4o"));
    assert_eq!(chat.properties["temperature"], json!(0.1));
    assert_ne!(changed, flow);
    assert_eq!(
        apply_variant(&flow, &variant(json!({"chta.deployment": "x"}))),
        Err(VariantError::UnknownNode {
            variant: "v".into(),
            node: "chta".into()
        })
    );
    assert_eq!(
        apply_variant(&flow, &variant(json!({"chat.deploy": "x"})))
            .unwrap_err()
            .to_string(),
        "variant `v`: a Chat completion node has no property `deploy`"
    );
    assert_eq!(
        apply_variant(&flow, &variant(json!({"deployment": "x"})))
            .unwrap_err()
            .to_string(),
        "variant `v`: `deployment` is not `node.property`"
    );
    assert_eq!(
        apply_variant(&flow, &variant(json!({"chat.temperature": "hot"})))
            .unwrap_err()
            .to_string(),
        "variant `v` makes the flow invalid: node chat, temperature: \"hot\" is not a number"
    );
    assert_eq!(
        apply_variant(&flow, &variant(json!({"chat.response_format": "xml"})))
            .unwrap_err()
            .to_string(),
        "variant `v` makes the flow invalid: node chat, response_format: \"xml\" is not one of text, json_object, json_schema"
    );
    let dangling = apply_variant(
        &flow,
        &variant(json!({"chat.deployment": "${nowhere.output}"})),
    )
    .unwrap_err()
    .to_string();
    assert!(
        dangling.starts_with("variant `v` makes the flow invalid: error: node chat, deployment:"),
        "{dangling}"
    );
}

/// Fails when `path` differs from `value`, after rewriting it so that a commit fixes the drift.
fn check_generated(path: &Path, value: &Value) {
    let fresh = serde_json::to_string_pretty(value).unwrap() + "\n";
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current != fresh {
        std::fs::write(path, &fresh).unwrap();
        panic!(
            "{} was out of date; it has been regenerated, commit it",
            path.display()
        );
    }
}

#[test]
fn the_checked_in_schema_is_current() {
    check_generated(&root().join("docs/eval.schema.json"), &weft_eval::schema());
}

#[test]
fn the_schema_accepts_the_format_and_refuses_what_it_refuses() {
    let validator = jsonschema::validator_for(&weft_eval::schema()).unwrap();
    let yaml = |text: &str| -> Value { serde_saphyr::from_str(text).unwrap() };
    let errors: Vec<String> = validator
        .iter_errors(&yaml(FILE))
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let base = "flow: f.weft.yaml\ndata: d.jsonl\n";
    for (why, text) in [
        ("no flow", "data: d.jsonl\n".to_owned()),
        ("an unknown key", format!("{base}asert: []\n")),
        (
            "an unknown type",
            format!("{base}assert: [{{ type: contain, value: x }}]\n"),
        ),
        (
            "a judge without a connection",
            format!("{base}assert: [{{ type: llm_judge, rubric: r, deployment: d }}]\n"),
        ),
        (
            "a field of another type",
            format!("{base}assert: [{{ type: latency_ms, max: 3, rubric: r }}]\n"),
        ),
        (
            "a length without bounds",
            format!("{base}assert: [{{ type: length }}]\n"),
        ),
        (
            "a pass rate above 1",
            format!("{base}thresholds: {{ pass_rate: 2 }}\n"),
        ),
        (
            "a variant key without a dot",
            format!("{base}variants: [{{ name: a, set: {{ deployment: x }} }}]\n"),
        ),
    ] {
        assert!(!validator.is_valid(&yaml(&text)), "accepted {why}");
        assert!(EvalFile::parse(&text).is_err(), "the reader accepted {why}");
    }
}

/// The first YAML block of docs/eval-format.md and every `examples/*.eval.yaml` read, match the
/// schema, and name outputs their flows have.
#[test]
fn the_documented_and_shipped_eval_files_are_valid() {
    let validator = jsonschema::validator_for(&weft_eval::schema()).unwrap();
    let doc = std::fs::read_to_string(root().join("docs/eval-format.md")).unwrap();
    let block = doc
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let mut texts = vec![("docs/eval-format.md".to_owned(), block.to_owned(), None)];
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".eval.yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            texts.push((path.display().to_string(), text, Some(path)));
        }
    }
    for (name, text, path) in texts {
        let file = EvalFile::parse(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
        let value: Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        if let Some(path) = path {
            let flow = path.parent().unwrap().join(&file.flow);
            let flow = FlowDocument::parse(&std::fs::read_to_string(flow).unwrap()).unwrap();
            file.check_outputs(&flow)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            for variant in &file.variants {
                apply_variant(&flow, variant).unwrap_or_else(|err| panic!("{name}: {err}"));
            }
        }
    }
}
