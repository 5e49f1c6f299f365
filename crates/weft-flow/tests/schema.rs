//! The checked-in JSON Schema (docs/flow.schema.json) and the editor's node catalog are generated
//! from the node-kind specs; they must be current, and the schema must accept every shipped
//! example and refuse what the format refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails when `path` differs from `value`, after rewriting it so that a commit fixes the drift.
fn check_generated(path: &Path, value: &Value) {
    let fresh = serde_json::to_string_pretty(value).unwrap() + "\n";
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current != fresh {
        std::fs::write(path, &fresh).unwrap();
        panic!(
            "{} was out of date with the node-kind specs; it has been regenerated, commit it",
            path.display()
        );
    }
}

#[test]
fn the_checked_in_schema_is_current() {
    check_generated(
        &root().join("docs/flow.schema.json"),
        &weft_flow::json_schema(),
    );
}

#[test]
fn the_editor_catalog_is_current() {
    let dir = std::env::var_os("TS_RS_EXPORT_DIR")
        .map_or_else(|| root().join("ui/src/ipc/generated"), PathBuf::from);
    check_generated(&dir.join("nodeKinds.json"), &weft_flow::catalog());
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&weft_flow::json_schema()).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

#[test]
fn every_example_matches_the_schema() {
    let validator = validator();
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".weft.yaml") {
            continue;
        }
        let doc = yaml(&std::fs::read_to_string(&path).unwrap());
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        seen += 1;
    }
    assert_eq!(seen, 8);
}

#[test]
fn the_schema_refuses_what_the_format_refuses() {
    let validator = validator();
    let chat = |properties: &str| {
        yaml(&format!(
            "schema: 1\nnodes:\n  - id: chat\n    type: chat_completion\n    position: {{ x: 0, y: 0 }}\n    properties: {properties}\n"
        ))
    };
    assert!(validator.is_valid(&chat(
        "{ deployment: d, user_prompt: hi, temperature: 0.2 }"
    )));
    assert!(validator.is_valid(&chat(
        "{ deployment: d, user_prompt: hi, temperature: \"${inputs.t}\" }"
    )));
    // A chat template stands in for the user prompt, as the validator lets it.
    assert!(validator.is_valid(&chat(
        "{ deployment: d, chat_template: \"user:\\n{{ q }}\" }"
    )));
    for (why, doc) in [
        ("a required property missing", chat("{ user_prompt: hi }")),
        (
            "neither a user prompt nor a chat template",
            chat("{ deployment: d, system_prompt: hi }"),
        ),
        (
            "an unknown property",
            chat("{ deployment: d, user_prompt: hi, temprature: 1 }"),
        ),
        (
            "a number given as text",
            chat("{ deployment: d, user_prompt: hi, temperature: hot }"),
        ),
        (
            "a choice not offered",
            chat("{ deployment: d, user_prompt: hi, response_format: xml }"),
        ),
        (
            "an unknown node type",
            yaml("schema: 1\nnodes:\n  - { id: a, type: agent, position: { x: 0, y: 0 } }\n"),
        ),
        (
            "a node id with a space",
            yaml("schema: 1\nnodes:\n  - { id: a b, type: inputs, position: { x: 0, y: 0 } }\n"),
        ),
        (
            "a node without a position",
            yaml("schema: 1\nnodes:\n  - { id: a, type: inputs }\n"),
        ),
        ("another format version", yaml("schema: 2\n")),
        ("an unknown top-level key", yaml("schema: 1\nnodez: []\n")),
        (
            "an input of an unknown type",
            yaml("schema: 1\ninputs:\n  q: { type: text }\n"),
        ),
    ] {
        assert!(!validator.is_valid(&doc), "accepted {why}");
    }
}
