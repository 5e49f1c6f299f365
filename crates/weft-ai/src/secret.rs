use std::fmt;

/// An API key. It prints as `******` and is only read where a header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw key: for request headers and for masking it in what a run reports.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key masked, as written and as JSON writes it inside a
    /// string (escaped quotes and backslashes, and `\/` for `/`), so a service that echoes the
    /// key in an error body cannot put it into an error message.
    pub(crate) fn mask(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let quoted = serde_json::to_string(&self.0).unwrap_or_default();
        let escaped = quoted
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(&self.0)
            .to_owned();
        // Longest forms first, so a shorter one never leaves the rest of a longer one behind.
        let mut forms = vec![escaped.replace('/', "\\/"), escaped, self.0.clone()];
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        forms.dedup();
        forms
            .iter()
            .fold(text.to_owned(), |text, form| text.replace(form, MASK))
    }
}

const MASK: &str = "******";

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_key_as_written_and_as_json_escapes_it() {
        let key = ApiKey::new(r#"k/ey"1\x"#);
        let text = r#"raw k/ey"1\x, json k/ey\"1\\x, slashed k\/ey\"1\\x"#;
        assert_eq!(key.mask(text), "raw ******, json ******, slashed ******");
        assert_eq!(ApiKey::new("").mask("as is"), "as is");
    }
}
