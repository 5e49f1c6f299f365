//! `weft flow run` / `validate` of a flow with a Python node: its file is found relative to
//! the flow file, and a missing file or @tool function is a validation error (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{text, weft};

const FLOW: &str = "schema: 1\ninputs:\n  text: { type: string }\noutputs:\n  answer: { value: \"${python.output}\" }\nnodes:\n\
\x20 - id: python\n    type: python\n    position: { x: 0, y: 0 }\n    properties:\n\
\x20     source: tools/shout.py\n      inputs: { text: \"${inputs.text}\" }\n";

const TOOL: &str = "from promptflow.core import tool\n\n@tool\ndef shout(text: str) -> str:\n    print('shouting')\n    return text.upper() + '!'\n";

#[test]
fn a_python_node_runs_its_file_next_to_the_flow() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("flows/shout.weft.yaml");
    std::fs::create_dir_all(home.path().join("flows/tools")).unwrap();
    std::fs::write(&file, FLOW).unwrap();
    std::fs::write(home.path().join("flows/tools/shout.py"), TOOL).unwrap();
    // Run from elsewhere: the file is found relative to the flow, not the working directory.
    let out = weft(home.path())
        .current_dir(home.path())
        .args(["flow", "run"])
        .arg(&file)
        .args(["--input", "text=hello", "--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "{\"answer\":\"HELLO!\"}\n");
}

#[test]
fn a_missing_python_file_or_tool_function_is_a_validation_error() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("shout.weft.yaml");
    std::fs::write(&file, FLOW).unwrap();
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        shown.contains("node python, source: cannot read"),
        "{shown}"
    );

    std::fs::create_dir(home.path().join("tools")).unwrap();
    std::fs::write(
        home.path().join("tools/shout.py"),
        "def shout(text):\n    return text\n",
    )
    .unwrap();
    let out = weft(home.path())
        .args(["flow", "validate"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        shown.contains("has no function decorated with @tool"),
        "{shown}"
    );
}

const PIDS: &str = "import os\nfrom promptflow.core import tool\n\n@tool\ndef pid(text: str) -> str:\n    with open(os.path.join(os.path.dirname(__file__), 'pids.txt'), 'a') as f:\n        f.write(f'{os.getpid()}\\n')\n    return text\n";

#[test]
fn a_batch_reuses_a_few_python_workers_for_all_its_rows() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("pids.weft.yaml");
    std::fs::create_dir(home.path().join("tools")).unwrap();
    std::fs::write(&file, FLOW.replace("shout.py", "pids.py")).unwrap();
    std::fs::write(home.path().join("tools/pids.py"), PIDS).unwrap();
    let rows: String = (0..60)
        .map(|i| format!("{{\"text\": \"row {i}\"}}\n"))
        .collect();
    let data = home.path().join("rows.jsonl");
    std::fs::write(&data, rows).unwrap();
    let out = weft(home.path())
        .args(["batch", "run"])
        .arg(&file)
        .arg("--data")
        .arg(&data)
        .args(["--concurrency", "8", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pids = std::fs::read_to_string(home.path().join("tools/pids.txt")).unwrap();
    assert_eq!(pids.lines().count(), 60);
    let distinct: std::collections::BTreeSet<&str> = pids.lines().collect();
    // At most 4 workers per interpreter and folder, however many rows and rows in flight.
    assert!(distinct.len() <= 4, "{distinct:?}");
}

#[test]
fn the_word_stats_example_runs() {
    let home = tempfile::tempdir().unwrap();
    let flow = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/word-stats.weft.yaml");
    let out = weft(home.path())
        .args(["flow", "run"])
        .arg(&flow)
        .args(["--json", "--stream"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "{\"top\":[\"the\",\"cat\"],\"words\":9}\n");
    assert!(
        stderr.contains("counted 9 words"),
        "the print()s are the node's log: {stderr}"
    );
}
