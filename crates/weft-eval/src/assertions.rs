//! The assertions that need no model: text, JSON, length and budgets.

use regex::Regex;
use serde_json::Value;

use crate::check::Found;
use crate::reference::text;

/// Texts in reasons are cut to this many characters: a reason is read on hover, in a terminal.
const SHOWN: usize = 120;

fn shown(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(SHOWN).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{head:?}{cut}")
}

/// A string value is compared as text; any other (a number, an object) as JSON, so that
/// `value: 4` equals an output of `4` and of `"4"`.
pub(crate) fn equals(output: &Value, expected: Option<&Value>) -> Found {
    let expected = expected.unwrap_or(&Value::Null);
    let same = output == expected || text(output) == text(expected);
    if same {
        Found::new(true, "equals the expected value".into())
    } else {
        Found::fail(format!(
            "expected {}, got {}",
            shown(&text(expected)),
            shown(&text(output))
        ))
    }
}

pub(crate) fn contains(output: &Value, needle: Option<&Value>, ignore_case: bool) -> Found {
    let needle = needle.map(text).unwrap_or_default();
    let output = text(output);
    let found = if ignore_case {
        output.to_lowercase().contains(&needle.to_lowercase())
    } else {
        output.contains(&needle)
    };
    let case = if ignore_case { " (ignoring case)" } else { "" };
    if found {
        Found::new(true, format!("contains {}{case}", shown(&needle)))
    } else {
        Found::fail(format!(
            "{} does not contain {}{case}",
            shown(&output),
            shown(&needle)
        ))
    }
}

pub(crate) fn starts_with(output: &Value, prefix: Option<&Value>) -> Found {
    let prefix = prefix.map(text).unwrap_or_default();
    let output = text(output);
    if output.starts_with(&prefix) {
        Found::new(true, format!("starts with {}", shown(&prefix)))
    } else {
        Found::fail(format!(
            "{} does not start with {}",
            shown(&output),
            shown(&prefix)
        ))
    }
}

pub(crate) fn matches(output: &Value, regex: &Regex) -> Found {
    let output = text(output);
    if regex.is_match(&output) {
        Found::new(true, format!("matches /{}/", regex.as_str()))
    } else {
        Found::fail(format!(
            "{} does not match /{}/",
            shown(&output),
            regex.as_str()
        ))
    }
}

/// The output as JSON: a string is parsed; a value a node already parsed (a chat answer in
/// JSON mode is an object) is JSON as it is.
fn as_json(output: &Value) -> Result<Value, String> {
    match output {
        Value::String(text) => {
            serde_json::from_str(text).map_err(|err| format!("{} is not JSON ({err})", shown(text)))
        }
        other => Ok(other.clone()),
    }
}

pub(crate) fn is_json(output: &Value) -> Found {
    match as_json(output) {
        Ok(_) => Found::new(true, "is JSON".into()),
        Err(reason) => Found::fail(reason),
    }
}

pub(crate) fn json_schema(output: &Value, schema: &jsonschema::Validator) -> Found {
    let json = match as_json(output) {
        Ok(json) => json,
        Err(reason) => return Found::fail(reason),
    };
    let errors: Vec<String> = schema
        .iter_errors(&json)
        .take(3)
        .map(|err| {
            let at = err.instance_path().to_string();
            if at.is_empty() {
                err.to_string()
            } else {
                format!("{at}: {err}")
            }
        })
        .collect();
    if errors.is_empty() {
        Found::new(true, "matches the schema".into())
    } else {
        Found::fail(format!("does not match the schema: {}", errors.join("; ")))
    }
}

/// Length in characters (not bytes): what a user counts.
pub(crate) fn length(output: &Value, min: Option<f64>, max: Option<f64>) -> Found {
    let length = text(output).chars().count() as f64;
    if let Some(min) = min
        && length < min
    {
        return Found::fail(format!("is {length} characters; at least {min}"));
    }
    if let Some(max) = max
        && length > max
    {
        return Found::fail(format!("is {length} characters; at most {max}"));
    }
    Found::new(true, format!("is {length} characters"))
}

/// `what got unit` against `most`.
pub(crate) fn at_most(what: &str, got: f64, most: f64, unit: &str) -> Found {
    let got_text = round(got);
    if got <= most {
        Found::new(true, format!("{what} {got_text}{unit}"))
    } else {
        Found::fail(format!("{what} {got_text}{unit}; at most {most}{unit}"))
    }
}

/// Whole numbers without decimals; costs and fractions with up to six.
fn round(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        let text = format!("{n:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}
