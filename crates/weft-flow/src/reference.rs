use std::ops::Range;

/// Where a reference points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// `${inputs.name}`
    Input(String),
    /// `${vars.name}`
    Var(String),
    /// `${node.port}`, e.g. `${chat.output}`
    Node { id: String, port: String },
    /// `${connection.configs.x}` or `${connection.secrets.y}`: a setting of the node's own
    /// custom connection. The engine leaves it in the evaluated properties as written; only the
    /// node that sends the request puts the value in, into what it sends.
    Connection {
        section: ConnectionSection,
        key: String,
    },
}

/// Which settings of a custom connection a `${connection.…}` reference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionSection {
    Configs,
    Secrets,
}

impl ConnectionSection {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Configs => "configs",
            Self::Secrets => "secrets",
        }
    }

    /// One setting of the section, for messages: `config`, `secret`.
    pub fn one(self) -> &'static str {
        match self {
            Self::Configs => "config",
            Self::Secrets => "secret",
        }
    }
}

/// One `${…}` in a property, with a path into the value (`${chat.output.answer}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub source: Source,
    pub path: Vec<String>,
    /// Byte range of the whole `${…}` in the text.
    pub span: Range<usize>,
}

impl Reference {
    /// Whether `text` is this reference and nothing else, so it passes a typed value through.
    pub fn is_whole(&self, text: &str) -> bool {
        self.span == (0..text.len())
    }
}

fn is_ident(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every `${…}` in `text`. An unclosed or malformed one is an error naming it.
pub fn find_references(text: &str) -> Result<Vec<Reference>, String> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(offset) = text[rest..].find("${") {
        let start = rest + offset;
        let Some(len) = text[start + 2..].find('}') else {
            return Err(format!("`{}` has no closing `}}`", &text[start..]));
        };
        let end = start + 2 + len + 1;
        let inner = text[start + 2..end - 1].trim();
        let segments: Vec<&str> = inner.split('.').collect();
        // Source and port are names; the path after them may also index lists (`.0`).
        let path_ok =
            |s: &&str| is_ident(s) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
        if segments.len() < 2
            || !segments[..2].iter().all(|s| is_ident(s))
            || !segments[2..].iter().all(path_ok)
        {
            return Err(format!(
                "`{}` is not a reference; write ${{inputs.name}}, ${{vars.name}} or ${{node.output}}",
                &text[start..end]
            ));
        }
        let source = match segments[0] {
            "connection" => {
                let section = match segments[1] {
                    "configs" => ConnectionSection::Configs,
                    "secrets" => ConnectionSection::Secrets,
                    _ => return Err(connection_form(&text[start..end])),
                };
                let [_, _, key] = segments[..] else {
                    return Err(connection_form(&text[start..end]));
                };
                if !is_ident(key) {
                    return Err(connection_form(&text[start..end]));
                }
                found.push(Reference {
                    source: Source::Connection {
                        section,
                        key: key.to_owned(),
                    },
                    path: Vec::new(),
                    span: start..end,
                });
                rest = end;
                continue;
            }
            "inputs" => Source::Input(segments[1].to_owned()),
            "vars" => Source::Var(segments[1].to_owned()),
            id => Source::Node {
                id: id.to_owned(),
                port: segments[1].to_owned(),
            },
        };
        let path = segments[2..].iter().map(|s| (*s).to_owned()).collect();
        found.push(Reference {
            source,
            path,
            span: start..end,
        });
        rest = end;
    }
    Ok(found)
}

fn connection_form(written: &str) -> String {
    format!(
        "`{written}` is not a connection reference; write ${{connection.configs.name}} or ${{connection.secrets.name}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind_of_reference_with_paths() {
        let text = "Q: ${inputs.question} / ${vars.persona} / ${chat.output.answer.text}";
        let refs = find_references(text).unwrap();
        assert_eq!(refs[0].source, Source::Input("question".into()));
        assert_eq!(refs[1].source, Source::Var("persona".into()));
        assert_eq!(
            refs[2].source,
            Source::Node {
                id: "chat".into(),
                port: "output".into()
            }
        );
        assert_eq!(refs[2].path, ["answer", "text"]);
        assert_eq!(&text[refs[0].span.clone()], "${inputs.question}");
        assert!(!refs[0].is_whole(text));
        let whole = "${chat.output}";
        assert!(find_references(whole).unwrap()[0].is_whole(whole));
    }

    #[test]
    fn connection_references_name_a_section_and_one_key() {
        let refs =
            find_references("${connection.configs.base_url}/v1?k=${connection.secrets.api_key}")
                .unwrap();
        assert_eq!(
            refs[0].source,
            Source::Connection {
                section: ConnectionSection::Configs,
                key: "base_url".into()
            }
        );
        assert_eq!(
            refs[1].source,
            Source::Connection {
                section: ConnectionSection::Secrets,
                key: "api_key".into()
            }
        );
        for bad in [
            "${connection.other.x}",
            "${connection.secrets}",
            "${connection.secrets.a.b}",
        ] {
            assert!(
                find_references(bad)
                    .unwrap_err()
                    .contains("write ${connection.configs.name} or ${connection.secrets.name}"),
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_references_are_named() {
        assert!(
            find_references("hi ${inputs.x")
                .unwrap_err()
                .contains("no closing")
        );
        assert!(
            find_references("${question}")
                .unwrap_err()
                .contains("is not a reference")
        );
        assert!(
            find_references("${a..b}")
                .unwrap_err()
                .contains("is not a reference")
        );
        assert!(
            find_references("plain text, {{ jinja }} and $5")
                .unwrap()
                .is_empty()
        );
    }
}
