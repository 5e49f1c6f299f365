use std::fmt;

/// A secret value (an API key). It prints as `******`, cannot be serialised, and is only read
/// through [`Secret::expose`], so it does not end up in logs, JSON or error texts by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const MASK: &'static str = "******";

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_its_value() {
        let secret = Secret::new("sk-live-123");
        assert_eq!(
            format!("{secret} {secret:?} {:?}", Some(&secret)),
            "****** ****** Some(******)"
        );
        assert_eq!(secret.expose(), "sk-live-123");
    }
}
