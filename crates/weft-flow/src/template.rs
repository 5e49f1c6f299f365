use std::collections::BTreeSet;

use minijinja::Environment;

/// A problem in a template, with its position inside the template text (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env
}

fn position(source: &str, err: &minijinja::Error) -> TemplateError {
    let line = err.line().unwrap_or(1);
    let column = err
        .range()
        .map(|range| {
            let before = &source[..range.start.min(source.len())];
            before.len() - before.rfind('\n').map_or(0, |nl| nl + 1) + 1
        })
        .unwrap_or(1);
    TemplateError {
        line,
        column,
        message: err.detail().unwrap_or("syntax error").to_owned(),
    }
}

/// Parses a Jinja template and returns the top-level variables it reads.
pub(crate) fn check(source: &str) -> Result<BTreeSet<String>, TemplateError> {
    let env = environment();
    let template = env
        .template_from_str(source)
        .map_err(|err| position(source, &err))?;
    Ok(template.undeclared_variables(false).into_iter().collect())
}

/// Parses a Jinja expression (a Condition's test) and returns the variables it reads.
pub(crate) fn check_expression(source: &str) -> Result<BTreeSet<String>, TemplateError> {
    let env = environment();
    let expression = env
        .compile_expression(source)
        .map_err(|err| position(source, &err))?;
    Ok(expression.undeclared_variables(false).into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_variables_a_template_reads() {
        let vars =
            check("Hi {{ name }}, {% for d in docs %}{{ d.title }}{% endfor %} {{ name|upper }}")
                .unwrap();
        assert_eq!(vars.into_iter().collect::<Vec<_>>(), ["docs", "name"]);
    }

    #[test]
    fn expressions_are_checked_like_templates() {
        let vars = check_expression("text | length > limit").unwrap();
        assert_eq!(vars.into_iter().collect::<Vec<_>>(), ["limit", "text"]);
        assert!(check_expression("text >").is_err());
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = check("line one\nline two {{ name }\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.column > 1, "{err:?}");
        assert!(!err.message.is_empty());
    }
}
