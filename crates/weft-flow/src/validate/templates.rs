//! Jinja templates and expressions: they parse, and the names they use are in `variables`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Checker, Severity};
use crate::document::Node;
use crate::kinds::common::VARIABLES;
use crate::template;

impl<'a> Checker<'a> {
    pub(super) fn check_template(
        &mut self,
        node: &Node,
        key: &str,
        parsed: Result<BTreeSet<String>, template::TemplateError>,
    ) {
        match parsed {
            Err(err) => self.error(
                Some(&node.id),
                Some(key),
                format!(
                    "template line {}, column {}: {}",
                    err.line, err.column, err.message
                ),
            ),
            Ok(used) => {
                let declared: BTreeSet<&str> = match node.properties.get(VARIABLES.key) {
                    Some(Value::Object(map)) => map.keys().map(String::as_str).collect(),
                    _ => BTreeSet::new(),
                };
                for name in used.iter().filter(|name| !declared.contains(name.as_str())) {
                    let severity = if self.context.strict {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    self.report(
                        severity,
                        Some(&node.id),
                        Some(key),
                        format!("`{name}` is used but not in `variables`; add it there (e.g. {name}: ${{inputs.{name}}})"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::FlowDocument;
    use crate::validate::tests::{CHAT, check, errors};
    use crate::validate::{Context, Severity, validate};

    #[test]
    fn template_errors_have_positions_and_unknown_variables_warn() {
        let broken = CHAT.replace("\"{{ question }}\"", "\"Q:\\n{{ question }\"");
        let found = errors(&broken);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("error: node chat, user_prompt: template line 2, column "),
            "{found:?}"
        );

        let unknown = CHAT.replace("\"{{ question }}\"", "\"{{ question }} {{ context }}\"");
        let found = check(&unknown);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .contains("`context` is used but not in `variables`"),
            "{}",
            found[0]
        );

        let doc = FlowDocument::parse(&unknown).unwrap();
        let strict = validate(
            &doc,
            &Context {
                connections: vec![crate::SavedConnection::new(
                    "azure-ai",
                    crate::ConnectionType::AzureAi,
                )],
                strict: true,
            },
        );
        assert_eq!(strict[0].severity, Severity::Error);
    }
}
