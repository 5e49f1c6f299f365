//! The dynamic-connection example with its key coming from each place a user can give it: a
//! plain (not secret) input, a variable, a literal in a variable, an upstream node's output, and a
//! leaf of a secret object input. The engine's and the CLI's tests run the same cases.

use serde_json::{Value, json};

/// The key every case hands to its Create Azure AI connection node.
pub const DYNAMIC_KEY: &str = "sk-dynamic-key-from-anywhere-90ab";

pub const SOURCES: [&str; 5] = [
    "a plain input",
    "a variable",
    "a literal in a variable",
    "an upstream output",
    "an object input",
];

const SECRET_KEY_INPUT: &str = "  api_key:\n    type: string\n    secret: true\n";

fn example() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/dynamic-connection.weft.yaml");
    std::fs::read_to_string(path).unwrap_or_default()
}

fn before_connect(yaml: &str, node: &str) -> String {
    yaml.replace("  - id: connect", &format!("  - {node}\n  - id: connect"))
}

/// The flow (YAML) for `source` and its inputs, all but `endpoint`. Every case also asks the
/// model to repeat the key, so a user's other input carries it too.
pub fn dynamic_key_flow(source: &str) -> (String, Value) {
    let base = example();
    let question = format!("Repeat my key {DYNAMIC_KEY}");
    let from = |reference: &str| {
        base.replace(
            "api_key: ${inputs.api_key}",
            &format!("api_key: {reference}"),
        )
    };
    match source {
        "a plain input" => (
            base.replace("secret: true", "secret: false"),
            json!({"api_key": DYNAMIC_KEY, "question": question}),
        ),
        "a variable" => (
            before_connect(
                &from("${vars.key}").replace("secret: true", "secret: false"),
                r#"{ id: key, type: declare_variable, position: { x: 0, y: 0 }, properties: { name: key, value_type: string, initial: "${inputs.api_key}" } }"#,
            ),
            json!({"api_key": DYNAMIC_KEY, "question": question}),
        ),
        "a literal in a variable" => (
            before_connect(
                &from("${vars.key}").replace(SECRET_KEY_INPUT, ""),
                &format!(
                    "{{ id: key, type: declare_variable, position: {{ x: 0, y: 0 }}, properties: {{ name: key, value_type: string, initial: {DYNAMIC_KEY} }} }}"
                ),
            ),
            json!({"question": question}),
        ),
        // Neither input holds the key: a template puts it together, as a lookup would.
        "an upstream output" => (
            before_connect(
                &from("${lookup.output}").replace(
                    SECRET_KEY_INPUT,
                    "  prefix: { type: string }\n  rest: { type: string }\n",
                ),
                r#"{ id: lookup, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: "{{ p }}{{ r }}", variables: { p: "${inputs.prefix}", r: "${inputs.rest}" } } }"#,
            ),
            json!({"prefix": &DYNAMIC_KEY[..14], "rest": &DYNAMIC_KEY[14..], "question": question}),
        ),
        "an object input" => (
            from("${inputs.creds.api_key}").replace(
                SECRET_KEY_INPUT,
                "  creds:\n    type: object\n    secret: true\n",
            ),
            json!({"creds": {"api_key": DYNAMIC_KEY, "region": "westeurope"}, "question": question}),
        ),
        other => (String::new(), json!({ "unknown source": other })),
    }
}
