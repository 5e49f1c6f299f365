//! `${env:VAR}` in a connection's plain fields: stored as written, read from the environment
//! each time the connection is resolved, so one saved connection can follow the machine (or the
//! CI job) it runs on. Never stored resolved.

use std::collections::BTreeMap;

use super::draft::Problem;

const OPEN: &str = "${env:";

/// One piece of a field's value: text as written, or a variable to read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits a value into its text and its `${env:VAR}` references. `Err` describes a malformed
/// reference.
fn pieces(value: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + OPEN.len()..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{OPEN}` is not closed; write it as ${{env:NAME}}"))?;
        let name = &after[..end];
        if !is_var_name(name) {
            return Err(format!(
                "`${{env:{name}}}` does not name a variable; use letters, digits and `_`, not starting with a digit, as in ${{env:AZURE_ENDPOINT}}"
            ));
        }
        out.push(Piece::Var(name));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a value reads the environment (and so cannot be checked until it is resolved).
pub(crate) fn mentions_env(value: &str) -> bool {
    value.contains(OPEN)
}

/// At save: a value's references are well formed.
pub(crate) fn check_references(field: &str, value: &str) -> Result<(), Problem> {
    pieces(value).map(drop).map_err(|message| Problem {
        field: Some(field.to_owned()),
        message,
    })
}

/// Why a field could not be resolved at run time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error(
        "connection `{connection}`'s {field} reads ${{env:{var}}}, which is not set; set it, or edit the connection"
    )]
    NotSet {
        connection: String,
        field: String,
        var: String,
    },
    #[error(
        "connection `{connection}`'s {field} is written as `{written}`, which reads the environment: {message}; set the variables to what the field takes, or edit the connection"
    )]
    Invalid {
        connection: String,
        field: String,
        written: String,
        message: String,
    },
    /// A saved plain-http URL was warned about when it was saved; one that comes from the
    /// environment was never seen, so the key must not follow it across the network.
    #[error(
        "connection `{connection}`'s {field} is written as `{written}`, which reads the environment and gives plain http to {host}: the API key would cross the network unencrypted; set the variable to an https:// URL (http:// is accepted only for this machine and your own network)"
    )]
    PlainHttp {
        connection: String,
        field: String,
        written: String,
        host: String,
    },
}

/// Resolves every `${env:VAR}` in `config` with `lookup`. Values without a reference are
/// returned as they are.
pub(crate) fn resolve(
    connection: &str,
    config: &BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, EnvError> {
    config
        .iter()
        .map(|(field, written)| {
            if !mentions_env(written) {
                return Ok((field.clone(), written.clone()));
            }
            let invalid = |message: String| EnvError::Invalid {
                connection: connection.to_owned(),
                field: field.clone(),
                written: written.clone(),
                message,
            };
            let mut value = String::new();
            for piece in pieces(written).map_err(invalid)? {
                match piece {
                    Piece::Text(text) => value.push_str(text),
                    Piece::Var(var) => match lookup(var) {
                        Some(found) if !found.trim().is_empty() => value.push_str(found.trim()),
                        _ => {
                            return Err(EnvError::NotSet {
                                connection: connection.to_owned(),
                                field: field.clone(),
                                var: var.to_owned(),
                            });
                        }
                    },
                }
            }
            Ok((field.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(var: &str) -> Option<String> {
        match var {
            "RES" => Some("contoso".into()),
            "EMPTY" => Some("  ".into()),
            _ => None,
        }
    }

    fn one(written: &str) -> Result<String, EnvError> {
        let config = BTreeMap::from([("endpoint".to_owned(), written.to_owned())]);
        resolve("azure-ai", &config, &lookup).map(|mut c| c.remove("endpoint").unwrap())
    }

    #[test]
    fn whole_and_partial_references_are_resolved_and_plain_values_kept() {
        assert_eq!(one("${env:RES}").unwrap(), "contoso");
        assert_eq!(
            one("https://${env:RES}.services.ai.azure.com/models").unwrap(),
            "https://contoso.services.ai.azure.com/models"
        );
        assert_eq!(
            one("https://plain.example").unwrap(),
            "https://plain.example"
        );
    }

    #[test]
    fn a_missing_or_empty_variable_names_itself_the_connection_and_the_field() {
        for var in ["AZURE_ENDPOINT", "EMPTY"] {
            let err = one(&format!("${{env:{var}}}")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "connection `azure-ai`'s endpoint reads ${{env:{var}}}, which is not set; set it, or edit the connection"
                )
            );
        }
    }

    #[test]
    fn malformed_references_are_refused_at_save() {
        assert!(check_references("endpoint", "${env:RES}").is_ok());
        let open = check_references("endpoint", "https://${env:RES").unwrap_err();
        assert!(open.message.contains("is not closed"), "{open:?}");
        let bad = check_references("endpoint", "${env:1X}").unwrap_err();
        assert!(bad.message.contains("does not name a variable"), "{bad:?}");
        assert_eq!(bad.field.as_deref(), Some("endpoint"));
    }
}
