//! A row's own assertions, in promptfoo's `__expected`, `__expected1`, `__expected2`… columns:
//! `type: value`, or a plain value that the output must equal
//! (https://www.promptfoo.dev/docs/configuration/test-cases, "CSV with Assertions").
//! Types as promptfoo names them, or as an eval file does: `equals`, `contains`, `icontains`,
//! `regex`, `starts-with`, `is-json`, `llm-rubric` and `similar`.

use serde_json::{Map, Value};

use crate::file::{AssertionKind, AssertionSpec};

/// The row's `__expected*` columns in column-name order (`__expected`, `__expected1`, …), each
/// with its assertion or why it cannot be one. Empty cells are no assertion.
pub(crate) fn row_assertions(
    data: &Map<String, Value>,
) -> Vec<(String, Result<AssertionSpec, String>)> {
    let mut columns: Vec<(&String, &Value)> = data
        .iter()
        .filter(|(name, _)| {
            name.strip_prefix("__expected")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
        .filter(|(_, value)| {
            !value.is_null() && value.as_str().is_none_or(|s| !s.trim().is_empty())
        })
        .collect();
    columns.sort_by_key(|(name, _)| (name.len(), name.as_str().to_owned()));
    columns
        .into_iter()
        .map(|(name, value)| (name.clone(), parse(value)))
        .collect()
}

fn spec(kind: AssertionKind, value: Option<Value>) -> AssertionSpec {
    AssertionSpec {
        kind,
        output: None,
        value,
        min: None,
        max: None,
        threshold: None,
        rubric: None,
        connection: None,
        deployment: None,
        flow: None,
        inputs: Default::default(),
        weight: None,
        metric: None,
    }
}

fn parse(cell: &Value) -> Result<AssertionSpec, String> {
    let Some(text) = cell.as_str() else {
        // A JSON Lines row may hold a number or an object: the output must equal it.
        return Ok(spec(AssertionKind::Equals, Some(cell.clone())));
    };
    let Some((name, rest)) = text.split_once(':') else {
        return Ok(match text.trim() {
            "is-json" | "is_json" => spec(AssertionKind::IsJson, None),
            _ => spec(AssertionKind::Equals, Some(Value::String(text.to_owned()))),
        });
    };
    let value = Some(Value::String(rest.trim_start().to_owned()));
    let kind = match name.trim() {
        "equals" => AssertionKind::Equals,
        "contains" => AssertionKind::Contains,
        "icontains" => AssertionKind::Icontains,
        "regex" => AssertionKind::Regex,
        "starts-with" | "starts_with" => AssertionKind::StartsWith,
        "is-json" | "is_json" => return Ok(spec(AssertionKind::IsJson, None)),
        "llm-rubric" | "llm_judge" => {
            let mut judged = spec(AssertionKind::LlmJudge, None);
            judged.rubric = Some(rest.trim().to_owned());
            return Ok(judged);
        }
        "similar" => AssertionKind::Similar,
        known @ ("javascript"
        | "python"
        | "contains-any"
        | "contains-all"
        | "icontains-any"
        | "icontains-all"
        | "contains-json"
        | "model-graded-closedqa"
        | "factuality") => {
            return Err(format!(
                "promptfoo's `{known}` assertion is not one Weft checks"
            ));
        }
        // Not a type: the whole cell is the expected text ("Note: …" included).
        _ => AssertionKind::Equals,
    };
    Ok(
        if kind == AssertionKind::Equals && name.trim() != "equals" {
            spec(kind, Some(Value::String(text.to_owned())))
        } else {
            spec(kind, value)
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    /// A column's type and value (a rubric as the value), or why it is no assertion.
    type Parsed = Result<(AssertionKind, Option<Value>), String>;

    fn kinds(row: Value) -> Vec<(String, Parsed)> {
        row_assertions(row.as_object().unwrap())
            .into_iter()
            .map(|(column, spec)| {
                let spec = spec.map(|s| (s.kind, s.value.or(s.rubric.map(Value::String))));
                (column, spec)
            })
            .collect()
    }

    #[test]
    fn promptfoo_columns_become_assertions_in_column_order() {
        let row = json!({
            "q": "2+2?",
            "__expected10": "starts-with: 4",
            "__expected2": "icontains: FOUR",
            "__expected": "4",
            "__expected1": "llm-rubric: Says four",
            "__expected3": "",
            "__expectedx": "not a column of ours",
            "__expected4": "Note: a colon that is no type",
            "__expected5": "javascript: output.length < 10",
        });
        let found = kinds(row);
        let columns: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            columns,
            [
                "__expected",
                "__expected1",
                "__expected2",
                "__expected4",
                "__expected5",
                "__expected10"
            ]
        );
        assert_eq!(found[0].1, Ok((AssertionKind::Equals, Some(json!("4")))));
        assert_eq!(
            found[1].1,
            Ok((AssertionKind::LlmJudge, Some(json!("Says four"))))
        );
        assert_eq!(
            found[2].1,
            Ok((AssertionKind::Icontains, Some(json!("FOUR"))))
        );
        assert_eq!(
            found[3].1,
            Ok((
                AssertionKind::Equals,
                Some(json!("Note: a colon that is no type"))
            ))
        );
        assert!(found[4].1.as_ref().unwrap_err().contains("`javascript`"));
        assert_eq!(
            found[5].1,
            Ok((AssertionKind::StartsWith, Some(json!("4"))))
        );
    }
}
