//! Masks secret values in everything a run reports. Secrets are registered as values (a secret
//! input, a Create Azure AI connection's key, a key read from the keychain); every string that
//! leaves the engine is searched for each of them, in raw and in JSON-escaped form.

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::{Map, Value};
use weft_ai::text_forms;

pub(crate) const MASK: &str = "******";

/// Secrets shorter than this are masked only where they are a whole value, so a one-letter
/// "secret" does not blank out every word.
const MIN_SUBSTRING: usize = 4;

/// Replaces secret values with `******`.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
    /// Every secret of at least [`MIN_SUBSTRING`] bytes in each of its `text_forms`, longest
    /// match first; rebuilt when a secret is added (rare) so each search is one linear pass.
    matcher: Option<AhoCorasick>,
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// Registers a secret.
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.is_empty() || self.secrets.iter().any(|s| s == secret) {
            return;
        }
        self.secrets.push(secret.to_owned());
        self.rebuild();
    }

    /// Registers every secret a value holds: each string and number inside it, so a secret
    /// object input's `${inputs.creds.api_key}` is masked as well as the whole object.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(text) => self.add(text),
            Value::Number(number) => self.add(&number.to_string()),
            Value::Array(items) => items.iter().for_each(|item| self.add_value(item)),
            Value::Object(map) => map.values().for_each(|item| self.add_value(item)),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Registers every secret `other` knows.
    pub fn merge(&mut self, other: &Redactor) {
        for secret in &other.secrets {
            self.add(secret);
        }
    }

    fn rebuild(&mut self) {
        let patterns: Vec<String> = self
            .secrets
            .iter()
            .filter(|s| s.len() >= MIN_SUBSTRING)
            .flat_map(|s| text_forms(s))
            .collect();
        self.longest = patterns.iter().map(String::len).max().unwrap_or(0);
        // Leftmost-longest: a secret that contains another is masked whole. Building only fails
        // past limits far above any set of keys; masking nothing would leak, so keep the old one.
        if patterns.is_empty() {
            self.matcher = None;
        } else if let Ok(matcher) = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
        {
            self.matcher = Some(matcher);
        } else {
            tracing::error!("could not build the secret matcher");
        }
    }

    /// The byte ranges of every secret in `text`, in order, not overlapping.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        self.matcher.as_ref().map_or_else(Vec::new, |matcher| {
            matcher
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect()
        })
    }

    pub fn text(&self, text: &str) -> String {
        if self.secrets.iter().any(|s| s == text.trim()) {
            return MASK.to_owned();
        }
        masked(text, &self.spans(text), text.len())
    }

    pub fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Number(number) => {
                let text = number.to_string();
                if self.text(&text) == text {
                    value.clone()
                } else {
                    Value::String(MASK.to_owned())
                }
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.value(v)))
                    .collect::<Map<_, _>>(),
            ),
            Value::Null | Value::Bool(_) => value.clone(),
        }
    }

    /// The longest text a secret can take, so a stream knows how much to hold back.
    fn longest(&self) -> usize {
        self.longest
    }
}

/// `text[..end]` with every span inside it replaced by the mask.
fn masked(text: &str, spans: &[(usize, usize)], end: usize) -> String {
    let mut out = String::with_capacity(end);
    let mut at = 0;
    for &(start, stop) in spans.iter().take_while(|(_, stop)| *stop <= end) {
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = stop;
    }
    out.push_str(&text[at..end]);
    out
}

/// Redacts streamed text over the joined stream, not per piece: a key the model splits over
/// several deltas is masked. It holds back the last `longest secret − 1` bytes until the next
/// piece or the end, since they may begin a secret.
#[derive(Debug, Default)]
pub(crate) struct StreamRedactor {
    pending: String,
}

impl StreamRedactor {
    /// Takes a piece of the stream; returns what can be shown now (possibly nothing).
    pub fn push(&mut self, redactor: &Redactor, piece: &str) -> String {
        self.pending.push_str(piece);
        let hold = redactor.longest().saturating_sub(1);
        let mut cut = self.pending.len().saturating_sub(hold);
        while !self.pending.is_char_boundary(cut) {
            cut -= 1;
        }
        let spans = redactor.spans(&self.pending);
        // A secret that starts before the cut and ends after it is complete in the buffer
        // (no secret is longer than the hold); keep it whole for the next piece.
        if let Some(&(start, _)) = spans
            .iter()
            .find(|(start, stop)| *start < cut && *stop > cut)
        {
            cut = start;
        }
        let shown = masked(&self.pending, &spans, cut);
        self.pending.drain(..cut);
        shown
    }

    /// The stream ended: the rest, redacted.
    pub fn finish(&mut self, redactor: &Redactor) -> String {
        let rest = std::mem::take(&mut self.pending);
        redactor.text(&rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor_with(secret: &str) -> Redactor {
        redactor(&[secret])
    }

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut redactor = Redactor::default();
        secrets.iter().for_each(|s| redactor.add(s));
        redactor
    }

    #[test]
    fn masks_secrets_in_texts_and_nested_values() {
        let redactor = redactor(&["sk-abc123", "sk-abc123-long", "x"]);
        assert_eq!(
            redactor.text("key sk-abc123-long and sk-abc123"),
            "key ****** and ******"
        );
        assert_eq!(redactor.text("x marks the spot"), "x marks the spot");
        let value = json!({"a": ["sk-abc123", 1], "b": "x"});
        assert_eq!(
            redactor.value(&value),
            json!({"a": ["******", 1], "b": "******"})
        );
    }

    #[test]
    fn object_secrets_register_each_leaf_and_numbers_are_masked() {
        let mut redactor = Redactor::default();
        redactor.add_value(&json!({"api_key": "sk-leaf-0001", "pin": 48151623, "on": true}));
        assert_eq!(redactor.text("key=sk-leaf-0001"), "key=******");
        assert_eq!(
            redactor.value(&json!({"n": 48151623, "m": 7, "s": "48151623"})),
            json!({"n": "******", "m": 7, "s": "******"})
        );
        // `true` is no secret, even inside a secret object.
        assert_eq!(redactor.text("true"), "true");
    }

    #[test]
    fn json_escaped_forms_are_masked() {
        let secret = r#"sk-"quoted"\back"#;
        let redactor = redactor(&[secret]);
        let body = json!({ "error": format!("bad key {secret}") }).to_string();
        assert!(body.contains(r#"sk-\"quoted\"\\back"#), "{body}");
        let shown = redactor.text(&body);
        assert!(!shown.contains("quoted"), "{shown}");
        assert_eq!(redactor.text(&format!("raw {secret}")), "raw ******");
        // Some JSON writers escape `/` too.
        let slashed = redactor_with("sk/with/slashes");
        assert_eq!(
            slashed.text(r#"{"k": "sk\/with\/slashes"}"#),
            r#"{"k": "******"}"#
        );
    }

    #[test]
    fn a_secret_split_over_deltas_never_shows() {
        let secret = "sk-split-across-three-deltas";
        let redactor = redactor(&[secret]);
        let text = format!("Your key is {secret}, keep it safe.");
        for first in 1..text.len() {
            for second in first + 1..text.len() {
                if !(text.is_char_boundary(first) && text.is_char_boundary(second)) {
                    continue;
                }
                let mut stream = StreamRedactor::default();
                let mut shown = Vec::new();
                for piece in [&text[..first], &text[first..second], &text[second..]] {
                    shown.push(stream.push(&redactor, piece));
                }
                shown.push(stream.finish(&redactor));
                let joined = shown.concat();
                assert_eq!(joined, "Your key is ******, keep it safe.");
                for piece in &shown {
                    assert!(!piece.contains("sk-split"), "{piece:?} at {first}/{second}");
                }
            }
        }
    }

    #[test]
    fn a_stream_without_secrets_passes_through_with_no_delay() {
        let mut stream = StreamRedactor::default();
        let redactor = Redactor::default();
        assert_eq!(stream.push(&redactor, "Hello, "), "Hello, ");
        assert_eq!(stream.push(&redactor, "wörld"), "wörld");
        assert_eq!(stream.finish(&redactor), "");
    }
}
