//! The flows shipped in examples/ parse and validate cleanly against the connections they name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection, validate};

#[test]
fn every_example_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".weft.yaml") {
            continue;
        }
        let doc = FlowDocument::parse(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let context = Context {
            connections: vec![
                SavedConnection::new("azure-ai", ConnectionType::AzureAi),
                SavedConnection::new("aoai", ConnectionType::AzureOpenAi),
                SavedConnection::new("safety", ConnectionType::AzureContentSafety),
                SavedConnection::new("search", ConnectionType::CognitiveSearch),
                SavedConnection::new("serp", ConnectionType::Serp),
            ],
            strict: true,
        };
        let mut found = validate(&doc, &context);
        found.extend(weft_flow::kinds::python::check_sources(&doc, &dir));
        assert!(found.is_empty(), "{}: {found:#?}", path.display());
        checked.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "azure-openai.weft.yaml",
            "chat.weft.yaml",
            "condition-branches.weft.yaml",
            "dynamic-connection.weft.yaml",
            "moderated-chat.weft.yaml",
            "rag-search.weft.yaml",
            "web-answer.weft.yaml",
            "word-stats.weft.yaml"
        ]
    );
}
