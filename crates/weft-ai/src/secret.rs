use std::fmt;

/// An API key (or a token). It prints as `******` and is only read where a request is built.
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

pub(crate) const MASK: &str = "******";

/// Every secret one request carries (its key or token, a key in its query string, a secret a
/// template put into it), to mask wherever text from or about that request is shown.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<ApiKey>);

impl Secrets {
    pub(crate) fn push(&mut self, secret: &ApiKey) {
        if !secret.0.is_empty() && !self.0.contains(secret) {
            self.0.push(secret.clone());
        }
    }

    /// `text` with each secret masked in each of its [`text_forms`] and as a URL's query
    /// writes it, longest form first across all secrets, so one secret that contains another
    /// is masked whole.
    pub(crate) fn mask(&self, text: &str) -> String {
        let mut forms: Vec<String> = self
            .0
            .iter()
            .flat_map(|secret| {
                let mut forms = text_forms(&secret.0);
                forms.push(url::form_urlencoded::byte_serialize(secret.0.as_bytes()).collect());
                forms
            })
            .collect();
        forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        forms.dedup();
        forms.iter().fold(text.to_owned(), |text, form| {
            text.replace(form.as_str(), MASK)
        })
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({})", self.0.len())
    }
}

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
        let mut secrets = Secrets::default();
        secrets.push(&ApiKey::new(r#"k/ey"1\x"#));
        let text = r#"raw k/ey"1\x, json k/ey\"1\\x, slashed k\/ey\"1\\x"#;
        assert_eq!(
            secrets.mask(text),
            "raw ******, json ******, slashed ******"
        );
        let mut empty = Secrets::default();
        empty.push(&ApiKey::new(""));
        assert_eq!(empty.mask("as is"), "as is");
    }

    #[test]
    fn several_secrets_are_masked_whole_and_as_a_query_string_writes_them() {
        let mut secrets = Secrets::default();
        secrets.push(&ApiKey::new("abc"));
        secrets.push(&ApiKey::new("abc def/+"));
        secrets.push(&ApiKey::new(""));
        assert_eq!(
            secrets.mask("raw abc def/+, query abc+def%2F%2B, short abc"),
            "raw ******, query ******, short ******"
        );
    }
}
