//! `weft flow validate`: exit 0 valid, 2 invalid, one problem per line naming the node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{text, weft, weft_with_stdin};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

#[test]
fn a_valid_flow_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("keywords.weft.yaml");
    std::fs::write(
        &file,
        "schema: 1\ninputs:\n  text: { type: string }\noutputs:\n  prompt: { value: \"${keywords.output}\" }\nnodes:\n\
         \x20 - id: keywords\n    type: prompt_template\n    position: { x: 0, y: 0 }\n    properties:\n\
         \x20     template: \"Keywords of: {{ text }}\"\n      variables: { text: \"${inputs.text}\" }\n",
    )
    .unwrap();
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        format!("{}: valid (1 nodes)\n", file.display())
    );
}

#[test]
fn problems_print_one_per_line_with_the_node_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let file = example("chat.weft.yaml");
    // No connection named azure-ai exists in this fresh store.
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{}: error: node chat, connection: unknown connection `azure-ai`; create it in Connections or with `weft connection create`\n",
            file.display()
        )
    );
    assert!(text(&out.stderr).contains("is not valid: 1 error(s)"));
}

#[test]
fn yaml_syntax_errors_give_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("broken.weft.yaml");
    std::fs::write(&file, "schema: 1\nnodes:\n  - id: a\n    type: [oops\n").unwrap();
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("broken.weft.yaml: line 4, column "),
        "{stderr}"
    );
}

#[test]
fn the_chat_example_is_valid_once_its_connection_exists() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = weft_with_stdin(
        home.path(),
        &[
            "connection",
            "create",
            "--name",
            "azure-ai",
            "--type",
            "azure_ai",
            "--set",
            "endpoint=https://res.services.ai.azure.com/models",
            "--secret",
            "api_key",
        ],
        "k\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(example("chat.weft.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).ends_with("chat.weft.yaml: valid (3 nodes)\n"));
}
