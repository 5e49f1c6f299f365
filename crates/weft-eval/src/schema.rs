//! The eval format as a JSON Schema (draft 2020-12), built from the same per-type field table
//! the reader checks, so the checked-in docs/eval.schema.json cannot drift from it (a test
//! regenerates it). Editors use it for completion; reading the file remains the full check.

use serde_json::{Map, Value, json};

use crate::file::AssertionKind;

/// What each assertion field holds, for the schema.
fn field(name: &str) -> Value {
    match name {
        "output" => {
            json!({ "type": "string", "description": "The flow output it looks at; absent: the flow's only output." })
        }
        "value" => json!({ "description": "What to compare with; may hold ${data.column}." }),
        "min" => json!({ "type": "number", "description": "The least length, in characters." }),
        "max" => {
            json!({ "type": "number", "description": "The most it may be (characters, ms, tokens or cost)." })
        }
        "threshold" => json!({ "type": "number", "minimum": 0, "maximum": 1 }),
        "rubric" => json!({ "type": "string", "description": "What a good answer does." }),
        "connection" => json!({ "type": "string", "description": "A saved model connection." }),
        "deployment" => json!({ "type": "string", "description": "Its deployment or model." }),
        "flow" => {
            json!({ "type": "string", "description": "The evaluator flow, relative to this file." })
        }
        "inputs" => json!({
            "type": "object",
            "description": "Evaluator input -> ${data.x}, ${run.outputs.y}, ${run.inputs.z} or a literal.",
            "additionalProperties": { "type": "string" },
        }),
        _ => json!({}),
    }
}

fn assertion(kind: AssertionKind) -> Value {
    let (needs, may) = kind.fields();
    let mut properties = Map::new();
    properties.insert("type".into(), json!({ "const": kind.name() }));
    let mut names: Vec<&str> = needs.iter().chain(may).copied().collect();
    if kind.reads_output() {
        names.push("output");
    }
    for name in names {
        let mut schema = field(name);
        let text_value = matches!(
            kind,
            AssertionKind::Contains
                | AssertionKind::Icontains
                | AssertionKind::StartsWith
                | AssertionKind::Regex
                | AssertionKind::Similar
        );
        if name == "value" && text_value {
            schema["type"] = json!("string");
        }
        if name == "value" && kind == AssertionKind::JsonSchema {
            schema["description"] = json!("The JSON Schema the output must match.");
        }
        properties.insert(name.to_owned(), schema);
    }
    properties.insert("weight".into(), json!({ "type": "number", "minimum": 0, "description": "Its share in the row's score (1)." }));
    properties.insert("metric".into(), json!({ "type": "string", "description": "The name its scores are summarised under (the type)." }));
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "required": std::iter::once("type").chain(needs.iter().copied()).collect::<Vec<_>>(),
        "additionalProperties": false,
    });
    if kind == AssertionKind::Length {
        schema["anyOf"] = json!([{ "required": ["min"] }, { "required": ["max"] }]);
    }
    schema
}

/// The JSON Schema of an `*.eval.yaml` file.
pub fn schema() -> Value {
    let share = json!({ "type": "number", "minimum": 0, "maximum": 1 });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://weft.dev/schema/eval-1.json",
        "title": "Weft evaluation",
        "description": "An *.eval.yaml file; see docs/eval-format.md.",
        "type": "object",
        "required": ["flow", "data"],
        "additionalProperties": false,
        "properties": {
            "name": { "type": "string" },
            "description": { "type": "string" },
            "flow": { "type": "string", "description": "The flow under test, relative to this file." },
            "data": { "type": "string", "description": "A JSON Lines or CSV dataset, relative to this file." },
            "column_mapping": {
                "type": "object",
                "description": "Flow input -> ${data.column} or a literal.",
                "additionalProperties": { "type": "string" },
            },
            "variants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": false,
                    "properties": {
                        "name": { "type": "string", "minLength": 1 },
                        "set": {
                            "type": "object",
                            "description": "node.property -> its value in this variant.",
                            "propertyNames": { "pattern": "^[^.]+\\..+$" },
                        },
                    },
                },
            },
            "assert": {
                "type": "array",
                "items": { "oneOf": AssertionKind::ALL.map(|kind| json!({ "$ref": format!("#/$defs/{}", kind.name()) })) },
            },
            "thresholds": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "pass_rate": share,
                    "metrics": { "type": "object", "additionalProperties": share },
                    "p95_latency_ms": { "type": "number", "minimum": 0 },
                    "cost": { "type": "number", "minimum": 0 },
                },
            },
            "prices": {
                "type": "object",
                "description": "Deployment or model -> price per million tokens.",
                "additionalProperties": {
                    "type": "object",
                    "required": ["input", "output"],
                    "additionalProperties": false,
                    "properties": {
                        "input": { "type": "number", "minimum": 0 },
                        "output": { "type": "number", "minimum": 0 },
                    },
                },
            },
        },
        "$defs": AssertionKind::ALL
            .into_iter()
            .map(|kind| (kind.name().to_owned(), assertion(kind)))
            .collect::<Map<String, Value>>(),
    })
}
