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

    /// `text` with every occurrence of the key masked, in each of its [`text_forms`], so a
    /// service that echoes the key in an error body cannot put it into an error message.
    pub(crate) fn mask(&self, text: &str) -> String {
        text_forms(&self.0)
            .iter()
            .fold(text.to_owned(), |text, form| text.replace(form, MASK))
    }
}

/// The ways a secret can stand in text: as written, and as JSON writes it inside a string
/// (escaped quotes and backslashes, and `\/` for `/`), longest first so that masking a shorter
/// form never leaves the rest of a longer one behind. None for an empty secret.
pub fn text_forms(secret: &str) -> Vec<String> {
    if secret.is_empty() {
        return Vec::new();
    }
    let quoted = serde_json::Value::String(secret.to_owned()).to_string();
    let escaped = quoted[1..quoted.len() - 1].to_owned();
    let mut forms = vec![escaped.replace('/', "\\/"), escaped, secret.to_owned()];
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
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
