use crate::ApiKey;

/// How a call proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key, sent in the header the endpoint's style takes.
    Key(ApiKey),
}

impl Credential {
    /// The API key, when this credential is one: what a run's redactor must mask.
    pub fn key(&self) -> Option<&ApiKey> {
        match self {
            Self::Key(key) => Some(key),
        }
    }
}
