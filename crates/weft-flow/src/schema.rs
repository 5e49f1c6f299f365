//! The flow format as a JSON Schema (draft 2020-12), built from the same node-kind specs the
//! validator and the editor use, so the checked-in `docs/flow.schema.json` cannot drift from them.
//! Editors use it for completion; `validate()` remains the full check (references, cycles, types
//! across edges), which a schema cannot express.

use serde_json::{Map, Value, json};

use crate::document::SCHEMA_VERSION;
use crate::kind::{Editor, NodeKind, PropertySpec, ValueType};

/// A whole-value reference such as `${inputs.question}`, allowed wherever a typed value is.
const REFERENCE: &str = r"^\$\{[^}]+\}$";
const ID: &str = "^[A-Za-z_][A-Za-z0-9_-]*$";

fn value_type(value_type: ValueType) -> Value {
    match value_type {
        ValueType::String => json!({ "type": "string" }),
        ValueType::Number => json!({ "type": "number" }),
        ValueType::Bool => json!({ "type": "boolean" }),
        ValueType::Object => json!({ "type": "object" }),
        ValueType::List => json!({ "type": "array" }),
        ValueType::Connection | ValueType::Any => json!({}),
    }
}

fn property(spec: &PropertySpec) -> Value {
    let reference = json!({ "type": "string", "pattern": REFERENCE });
    let mut schema = match (spec.editor, spec.value_type) {
        (Editor::Select { options }, _) => json!({ "enum": options }),
        (_, ValueType::String | ValueType::Any) => value_type(spec.value_type),
        (_, ValueType::Connection) => reference,
        (_, other) => json!({ "anyOf": [value_type(other), reference] }),
    };
    schema["title"] = json!(spec.label);
    schema["description"] = json!(spec.help);
    schema
}

fn kind_properties(kind: NodeKind) -> Value {
    let spec = kind.spec();
    let properties: Map<String, Value> = spec
        .properties
        .iter()
        .map(|p| (p.key.to_owned(), property(p)))
        .collect();
    let required: Vec<&str> = spec
        .properties
        .iter()
        .filter(|p| p.required && p.unless.is_none())
        .map(|p| p.key)
        .collect();
    let mut schema = json!({
        "title": spec.title,
        "description": spec.description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    // A property another stands in for: one of the two is required.
    let either: Vec<Value> = spec
        .properties
        .iter()
        .filter(|p| p.required)
        .filter_map(|p| {
            p.unless
                .map(|other| json!({"anyOf": [{"required": [p.key]}, {"required": [other]}]}))
        })
        .collect();
    if !either.is_empty() {
        schema["allOf"] = Value::Array(either);
    }
    schema
}

fn name(kind: NodeKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The JSON Schema of a flow file of this build's format version.
pub fn json_schema() -> Value {
    let kinds: Vec<String> = NodeKind::ALL.into_iter().map(name).collect();
    let mut defs = Map::new();
    let by_kind: Vec<Value> = NodeKind::ALL
        .into_iter()
        .map(|kind| {
            let name = name(kind);
            defs.insert(name.clone(), kind_properties(kind));
            json!({
                "if": { "properties": { "type": { "const": name } } },
                "then": { "properties": { "properties": { "$ref": format!("#/$defs/{name}") } } },
            })
        })
        .collect();
    let value_types = [
        "string",
        "number",
        "bool",
        "object",
        "list",
        "connection",
        "any",
    ];
    defs.insert(
        "input".into(),
        json!({
            "type": "object",
            "required": ["type"],
            "additionalProperties": false,
            "properties": {
                "type": { "enum": value_types },
                "default": {},
                "secret": { "type": "boolean", "description": "Redacted everywhere; its value is never saved." },
                "description": { "type": "string" },
            },
        }),
    );
    defs.insert(
        "output".into(),
        json!({
            "type": "object",
            "required": ["value"],
            "additionalProperties": false,
            "properties": {
                "value": { "type": "string", "description": "A reference, such as ${chat.output}." },
                "description": { "type": "string" },
            },
        }),
    );
    defs.insert(
        "position".into(),
        json!({
            "type": "object",
            "required": ["x", "y"],
            "additionalProperties": false,
            "properties": { "x": { "type": "number" }, "y": { "type": "number" } },
        }),
    );
    defs.insert(
        "node".into(),
        json!({
            "type": "object",
            "required": ["id", "type", "position"],
            "additionalProperties": false,
            "properties": {
                "id": { "type": "string", "pattern": ID },
                "type": { "enum": kinds },
                "title": { "type": "string" },
                "position": { "$ref": "#/$defs/position" },
                "properties": { "type": "object" },
            },
            "allOf": by_kind,
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://weft.dev/schema/flow-{SCHEMA_VERSION}.json"),
        "title": "Weft flow",
        "description": "A *.weft.yaml flow file; see docs/flow-format.md.",
        "type": "object",
        "required": ["schema"],
        "additionalProperties": false,
        "properties": {
            "schema": { "const": SCHEMA_VERSION },
            "title": { "type": "string" },
            "description": { "type": "string" },
            "inputs": {
                "type": "object",
                "propertyNames": { "pattern": ID },
                "additionalProperties": { "$ref": "#/$defs/input" },
            },
            "outputs": {
                "type": "object",
                "propertyNames": { "pattern": ID },
                "additionalProperties": { "$ref": "#/$defs/output" },
            },
            "nodes": { "type": "array", "items": { "$ref": "#/$defs/node" } },
            "notes": {
                "type": "array",
                "description": "Comments on the canvas; they take no part in a run.",
                "items": {
                    "type": "object",
                    "required": ["id", "text", "position"],
                    "additionalProperties": false,
                    "properties": {
                        "id": { "type": "string" },
                        "text": { "type": "string" },
                        "position": { "$ref": "#/$defs/position" },
                        "width": { "type": "number" },
                    },
                },
            },
        },
        "$defs": defs,
    })
}

/// The node-kind catalog the editor's palette and property panel are generated from.
pub fn catalog() -> Value {
    json!(NodeKind::ALL.map(NodeKind::spec))
}
