//! Every fixture (a Prompt flow project in Prompt flow's own format) imports, validates once the
//! connections it names exist, reports each node at its line, and matches its golden files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use weft_flow::{ConnectionType, Context, SavedConnection, Severity as Diag};
use weft_promptflow::{Imported, Severity, import_dir, write};

const FIXTURES: [&str; 6] = [
    "basic",
    "chat",
    "web_classification",
    "variants",
    "eval_accuracy",
    "custom_connection",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Fails when `path` differs from `fresh`, after rewriting it so that a commit fixes the drift
/// (as weft-flow's generated schema test does).
fn check_golden(path: &Path, fresh: &str) {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    if current != fresh {
        std::fs::write(path, fresh).unwrap();
        panic!(
            "{} was out of date; it has been regenerated, review and commit it",
            path.display()
        );
    }
}

fn report_text(imported: &Imported) -> String {
    imported
        .report
        .iter()
        .map(|e| {
            format!(
                "{:?} {} line {}: {}\n",
                e.severity,
                e.node,
                e.line.map_or("-".into(), |l| l.to_string()),
                e.message
            )
        })
        .collect()
}

fn context(imported: &Imported) -> Context {
    let connections = imported
        .connections_needed
        .iter()
        .map(|(name, kind)| {
            let kind: ConnectionType = serde_json::from_value(serde_json::json!(kind)).unwrap();
            let mut saved = SavedConnection::new(name, kind);
            if kind == ConnectionType::Custom {
                saved.configs = vec!["endpoint".into()];
                saved.secrets = vec!["api_key".into()];
            }
            saved
        })
        .collect();
    Context {
        connections,
        strict: false,
    }
}

#[test]
fn every_fixture_imports_validates_and_matches_its_golden_files() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut stale = Vec::new();
    for name in FIXTURES {
        let imported = import_dir(&fixture(name)).unwrap();
        let errors: Vec<String> = weft_flow::validate(&imported.document, &context(&imported))
            .into_iter()
            .filter(|d| d.severity == Diag::Error)
            .map(|d| format!("{d:?}"))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let files = [
            (
                format!("{name}.weft.yaml"),
                Some(imported.document.to_yaml()),
            ),
            (format!("{name}.report.txt"), Some(report_text(&imported))),
            (
                format!("{name}.eval.yaml"),
                imported.eval_file.as_ref().map(|e| e.to_yaml()),
            ),
        ];
        for (file, text) in files {
            if let Some(text) = text {
                let result = std::panic::catch_unwind(|| check_golden(&golden.join(&file), &text));
                if result.is_err() {
                    stale.push(file);
                }
            }
        }
    }
    assert!(stale.is_empty(), "regenerated: {stale:?}");
}

/// The line of `needle` in the fixture's flow.dag.yaml.
fn line_of(name: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(fixture(name).join("flow.dag.yaml")).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn each_node_is_reported_at_its_name_line() {
    for name in FIXTURES {
        let imported = import_dir(&fixture(name)).unwrap();
        let text = std::fs::read_to_string(fixture(name).join("flow.dag.yaml")).unwrap();
        for line in text.lines().filter(|l| l.starts_with("- name: ")) {
            let node = line.trim_start_matches("- name: ");
            let at = line_of(name, line);
            assert!(
                imported
                    .report
                    .iter()
                    .any(|e| e.node == node && e.line == Some(at)),
                "{name}: no entry for {node} at line {at}: {:#?}",
                imported.report
            );
        }
    }
}

#[test]
fn a_simple_chat_template_becomes_the_system_and_user_prompts() {
    let imported = import_dir(&fixture("basic")).unwrap();
    let llm = imported
        .document
        .nodes
        .iter()
        .find(|n| n.id == "llm")
        .unwrap();
    assert_eq!(
        llm.properties["system_prompt"],
        "You are a helpful translator."
    );
    assert_eq!(llm.properties["user_prompt"], "{{prompt}}");
    assert_eq!(llm.properties["deployment"], "gpt-35-turbo");
    assert_eq!(llm.properties["max_tokens"], 120);
    assert_eq!(
        llm.properties["variables"]["prompt"],
        "${hello_prompt.output}"
    );
    // Left to right by dependency: prompt, llm, python.
    let x = |id: &str| {
        imported
            .document
            .nodes
            .iter()
            .find(|n| n.id == id)
            .unwrap()
            .position
            .x
    };
    assert!(x("inputs") < x("hello_prompt") && x("hello_prompt") < x("llm"));
    assert!(x("llm") < x("format") && x("format") < x("outputs"));
}

#[test]
fn a_history_loop_becomes_a_chat_template_with_its_stop() {
    let imported = import_dir(&fixture("chat")).unwrap();
    let chat = imported.report.iter().find(|e| e.node == "chat").unwrap();
    assert_eq!(chat.severity, Severity::Mapped, "{}", chat.message);
    let node = imported
        .document
        .nodes
        .iter()
        .find(|n| n.id == "chat")
        .unwrap();
    let template = node.properties["chat_template"].as_str().unwrap();
    assert!(
        template.contains("{% for item in chat_history %}"),
        "{template}"
    );
    assert!(!node.properties.contains_key("user_prompt"));
    assert_eq!(node.properties["stop"], serde_json::json!(["\nuser:"]));
    let history = imported
        .report
        .iter()
        .find(|e| e.node == "chat_history")
        .unwrap();
    assert_eq!(history.severity, Severity::Approximated);
}

#[test]
fn activate_runs_the_node_on_a_condition_branch() {
    let imported = import_dir(&fixture("web_classification")).unwrap();
    let node = |id: &str| imported.document.nodes.iter().find(|n| n.id == id).unwrap();
    assert_eq!(
        node("summarize_news").properties["when"],
        "${summarize_news_active.true}"
    );
    let condition = node("summarize_news_active");
    assert_eq!(
        condition.properties["variables"]["value"],
        "${classify.output}"
    );
    assert_eq!(condition.properties["variables"]["expected"], "news");
    assert_eq!(node("safety").kind, weft_flow::NodeKind::ContentSafetyText);
    assert!(
        imported
            .connections_needed
            .contains(&("content_safety".into(), "azure_content_safety".into()))
    );
}

#[test]
fn variants_become_an_eval_file_that_weft_eval_reads() {
    let imported = import_dir(&fixture("variants")).unwrap();
    let eval = imported.eval_file.as_ref().unwrap();
    let file = weft_eval::EvalFile::parse(&eval.to_yaml()).unwrap();
    let names: Vec<_> = file.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["variant_0", "variant_1"]);
    assert!(file.variants[0].set.is_empty());
    assert_eq!(file.variants[1].set["summarize.temperature"], 1);
    assert_eq!(
        file.variants[1].set["summarize.system_prompt"],
        "Summarise the text in five words."
    );
    // The default variant is the flow's node.
    let node = imported
        .document
        .nodes
        .iter()
        .find(|n| n.id == "summarize")
        .unwrap();
    assert_eq!(node.properties["temperature"], 0.2);
    let flow = weft_flow::FlowDocument::parse(&imported.document.to_yaml()).unwrap();
    file.check_outputs(&flow).unwrap();
}

#[test]
fn an_evaluation_flow_drops_its_aggregation_node_and_says_how_to_use_it() {
    let imported = import_dir(&fixture("eval_accuracy")).unwrap();
    assert!(imported.evaluator);
    assert!(
        imported
            .document
            .nodes
            .iter()
            .all(|n| n.id != "calculate_accuracy")
    );
    assert_eq!(
        imported.document.outputs.keys().collect::<Vec<_>>(),
        ["score"]
    );
    let aggregation = imported
        .report
        .iter()
        .find(|e| e.node == "calculate_accuracy")
        .unwrap();
    assert_eq!(aggregation.severity, Severity::Unmapped);
    assert!(
        imported
            .report
            .iter()
            .any(|e| e.message.contains("type: flow"))
    );
}

#[test]
fn a_custom_connection_parameter_becomes_a_python_connection() {
    let imported = import_dir(&fixture("custom_connection")).unwrap();
    let lookup = imported
        .document
        .nodes
        .iter()
        .find(|n| n.id == "lookup")
        .unwrap();
    assert_eq!(lookup.properties["connections"]["conn"], "weather_api");
    assert_eq!(lookup.properties["inputs"]["city"], "${inputs.city}");
    assert_eq!(
        imported.connections_needed,
        [("weather_api".to_owned(), "custom".to_owned())]
    );
    let env = imported
        .report
        .iter()
        .find(|e| e.node == "environment_variables")
        .unwrap();
    assert_eq!(env.line, Some(2));
    assert!(env.message.contains("PF_WORKER_COUNT") && !env.message.contains("\"2\""));
    let includes = imported
        .report
        .iter()
        .find(|e| e.node == "additional_includes")
        .unwrap();
    assert!(includes.message.contains("not copied"));
}

#[test]
fn writing_never_replaces_a_file_unless_named_and_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("variants")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let original = std::fs::read_to_string(dir.path().join("flow.dag.yaml")).unwrap();
    let imported = import_dir(dir.path()).unwrap();
    let written = write(dir.path(), &imported, None).unwrap();
    assert!(
        written
            .flow
            .ends_with(format!("{}.weft.yaml", imported.name))
    );
    let eval = written.eval.unwrap();
    let text = std::fs::read_to_string(&eval).unwrap();
    assert!(
        text.contains(&format!("flow: {}.weft.yaml", imported.name)),
        "{text}"
    );
    let again = write(dir.path(), &imported, None).unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
    let out = dir.path().join("mine.weft.yaml");
    let named = write(dir.path(), &imported, Some(&out)).unwrap();
    assert_eq!(named.eval.unwrap(), dir.path().join("mine.eval.yaml"));
    write(dir.path(), &imported, Some(&out)).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("flow.dag.yaml")).unwrap(),
        original
    );
}

#[test]
fn a_folder_without_a_flow_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let err = import_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("no flow.dag.yaml"), "{err}");
}
