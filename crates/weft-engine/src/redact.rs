use serde_json::Value;

/// Replaces secret values (connection keys, secret inputs, dynamic-connection keys) with
/// `******` in everything a run reports.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

const MASK: &str = "******";

impl Redactor {
    /// Registers a secret. Very short values are masked only where they are a whole value, so
    /// a one-letter "secret" does not blank out every word.
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if !secret.is_empty() && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Registers every secret `other` knows.
    pub fn merge(&mut self, other: &Redactor) {
        for secret in &other.secrets {
            self.add(secret);
        }
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if secret.len() >= 4 {
                out = out.replace(secret.as_str(), MASK);
            } else if out == *secret {
                out = MASK.to_owned();
            }
        }
        out
    }

    pub fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.value(item)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_in_texts_and_nested_values() {
        let mut redactor = Redactor::default();
        redactor.add("sk-abc123");
        redactor.add("sk-abc123-long");
        redactor.add("x");
        assert_eq!(
            redactor.text("key sk-abc123-long and sk-abc123"),
            "key ****** and ******"
        );
        assert_eq!(redactor.text("x marks the spot"), "x marks the spot");
        let value = serde_json::json!({"a": ["sk-abc123", 1], "b": "x"});
        assert_eq!(
            redactor.value(&value),
            serde_json::json!({"a": ["******", 1], "b": "******"})
        );
    }
}
