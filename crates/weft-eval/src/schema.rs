//! The eval format as a JSON Schema (draft 2020-12); docs/eval.schema.json is this, checked in.

use serde_json::Value;

pub fn schema() -> Value {
    todo!()
}
