//! What differs between two canonical requests: the paths where they part, for the message of
//! a strict replay that finds no recording (`body.messages[1].content: "Hi" ≠ "Hello"`).

use serde_json::Value;

/// How many differing places a message names; the rest are counted.
const SHOWN: usize = 3;
/// How many characters of a value a message shows.
const VALUE_CHARS: usize = 60;

/// One place where two requests differ: its path and each side's value, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
    pub path: String,
    pub ours: Option<Value>,
    pub theirs: Option<Value>,
}

/// Every place where `ours` and `theirs` differ, in key order (objects) and index order
/// (arrays). The top level's `service` is the same in both and says nothing.
pub(crate) fn differences(ours: &Value, theirs: &Value) -> Vec<Difference> {
    let mut found = Vec::new();
    walk(String::new(), Some(ours), Some(theirs), &mut found);
    found
}

fn walk(path: String, ours: Option<&Value>, theirs: Option<&Value>, found: &mut Vec<Difference>) {
    match (ours, theirs) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
            names.sort();
            names.dedup();
            for name in names {
                let inner = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                walk(inner, a.get(name), b.get(name), found);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for index in 0..a.len().max(b.len()) {
                walk(
                    format!("{path}[{index}]"),
                    a.get(index),
                    b.get(index),
                    found,
                );
            }
        }
        (a, b) if a == b => {}
        (a, b) => found.push(Difference {
            path,
            ours: a.cloned(),
            theirs: b.cloned(),
        }),
    }
}

/// The first few differences as a message reads them: `path: ours ≠ theirs`, and how many more.
pub(crate) fn describe(found: &[Difference]) -> String {
    let mut parts: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|difference| {
            format!(
                "{}: {} ≠ {}",
                difference.path,
                shown(difference.ours.as_ref()),
                shown(difference.theirs.as_ref())
            )
        })
        .collect();
    if found.len() > SHOWN {
        parts.push(format!("and {} more", found.len() - SHOWN));
    }
    parts.join("; ")
}

fn shown(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if text.chars().count() <= VALUE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(VALUE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_paths_that_differ_and_counts_the_rest() {
        let ours = json!({"body": {"messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}], "a": 1, "b": 2, "c": 3}});
        let theirs = json!({"body": {"messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hello"}], "a": 2, "b": 3, "d": 4}});
        let found = differences(&ours, &theirs);
        assert_eq!(found.len(), 5);
        assert_eq!(
            describe(&found),
            "body.a: 1 ≠ 2; body.b: 2 ≠ 3; body.c: 3 ≠ (absent); and 2 more"
        );
        let messages = differences(&ours["body"]["messages"], &theirs["body"]["messages"]);
        assert_eq!(describe(&messages), "[1].content: \"Hi\" ≠ \"Hello\"");
    }

    #[test]
    fn long_values_are_cut() {
        let found = differences(&json!({"t": "x".repeat(500)}), &json!({"t": "y"}));
        let text = describe(&found);
        assert!(text.len() < 120, "{text}");
        assert!(text.contains('…'));
    }
}
