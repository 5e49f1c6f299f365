//! Prompt flow's chat prompts: a Jinja template rendered whole, then split into messages at role
//! lines. The separator is promptflow-tools' own (`src/promptflow-tools/promptflow/tools/common.py`,
//! `parse_chat`): `(?i)\n+\s*#?\s*(system|user|assistant|function)\s*:\s*\n`, applied to the text
//! with a newline put in front, so `# system:`, `system:` and `# User :` all start a message.
//! (The `## name:` / `## content:` forms are only for `function` messages.)

use std::sync::LazyLock;

use regex::Regex;

static ROLE_LINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\n+\s*#?\s*(system|user|assistant|function)\s*:\s*\n").ok());

/// One message of a split template: its role (lower case) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub role: String,
    pub text: String,
}

/// The template's messages, split as Prompt flow splits the rendered text, and the text before
/// the first role line (Prompt flow refuses a non-blank one).
pub fn split(template: &str) -> (String, Vec<Block>) {
    let text = format!("\n{template}");
    let Some(re) = ROLE_LINE.as_ref() else {
        return (template.to_owned(), Vec::new());
    };
    let mut blocks: Vec<Block> = Vec::new();
    let mut last = 0;
    let mut prefix = String::new();
    for caps in re.captures_iter(&text) {
        let (Some(whole), Some(role)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let before = &text[last..whole.start()];
        match blocks.last_mut() {
            Some(block) => block.text = before.trim().to_owned(),
            None => prefix = before.trim().to_owned(),
        }
        blocks.push(Block {
            role: role.as_str().to_lowercase(),
            text: String::new(),
        });
        last = whole.end();
    }
    match blocks.last_mut() {
        Some(block) => block.text = text[last..].trim().to_owned(),
        None => prefix = template.trim().to_owned(),
    }
    (prefix, blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_role_lines_in_any_case_with_or_without_a_hash() {
        let (prefix, blocks) =
            split("# system:\nBe brief.\n\n# User :\n{{ question }}\nassistant:\nOk\n");
        assert_eq!(prefix, "");
        let roles: Vec<_> = blocks.iter().map(|b| b.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant"]);
        assert_eq!(blocks[0].text, "Be brief.");
        assert_eq!(blocks[1].text, "{{ question }}");
    }

    #[test]
    fn a_template_without_role_lines_is_all_prefix() {
        let (prefix, blocks) = split("Hello {{ name }}");
        assert_eq!(prefix, "Hello {{ name }}");
        assert!(blocks.is_empty());
    }
}
