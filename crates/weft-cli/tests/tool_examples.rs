//! `weft flow run` of the tool examples (rag-search, moderated-chat, web-answer) on saved
//! connections that point at the loopback fakes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use weft_testkit::{ContentSafetyFake, FakeEndpoint, Reply, SearchFake, SerpFake};

use common::{text, weft, weft_with_stdin};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// `weft connection create`, the key read from stdin.
fn create(home: &Path, name: &str, kind: &str, setting: &str, key: &str) {
    let out = weft_with_stdin(
        home,
        &[
            "connection",
            "create",
            "--name",
            name,
            "--type",
            kind,
            "--set",
            setting,
            "--secret",
            "api_key",
        ],
        &format!("{key}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn model(home: &Path, fake: &FakeEndpoint) {
    create(
        home,
        "azure-ai",
        "azure_ai",
        &format!("endpoint={}/models", fake.base),
        "sk-model-tools-71",
    );
}

fn answer(text: &str) -> Reply {
    Reply::Sse(vec![
        json!({"choices": [{"index": 0, "delta": {"content": text}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
    ])
}

/// Runs the example with `question`; its outputs, and everything the run printed.
fn run(home: &Path, name: &str, question: &str) -> (Value, String) {
    let out = weft(home)
        .args(["flow", "run"])
        .arg(example(name))
        .args(["--input", &format!("question={question}"), "--json"])
        .output()
        .unwrap();
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{printed}");
    (serde_json::from_slice(&out.stdout).unwrap(), printed)
}

#[test]
fn rag_search_embeds_the_question_looks_it_up_and_answers_with_the_documents() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let models = FakeEndpoint::start(vec![
        Reply::Json(
            200,
            json!({"data": [{"index": 0, "embedding": [1.0, 0.0]}], "usage": {"prompt_tokens": 3, "total_tokens": 3}}),
        ),
        answer("Holiday pay is in the holiday rules."),
    ]);
    let index = SearchFake::setup()
        .key("search-key-cli-1")
        .index(
            "docs",
            vec![
                json!({"id": "1", "title": "Holidays", "content": "Holiday rules and holiday pay", "embedding": [1.0, 0.0]}),
                json!({"id": "2", "title": "Expenses", "content": "How to claim expenses", "embedding": [0.0, 1.0]}),
            ],
        )
        .start();
    model(home.path(), &models);
    create(
        home.path(),
        "search",
        "cognitive_search",
        &format!("api_base={}", index.base),
        "search-key-cli-1",
    );
    let (outputs, printed) = run(home.path(), "rag-search.weft.yaml", "How is holiday paid?");

    assert_eq!(outputs["answer"], "Holiday pay is in the holiday rules.");
    assert_eq!(outputs["sources"][0]["title"], "Holidays");
    let system = &models.requests()[1].json()["messages"][0]["content"];
    assert!(
        system
            .as_str()
            .unwrap()
            .contains("- Holidays: Holiday rules and holiday pay"),
        "{system}"
    );
    assert_eq!(
        index.requests()[0].json()["vectorQueries"][0]["vector"],
        json!([1.0, 0.0])
    );
    assert!(!printed.contains("search-key-cli-1") && !printed.contains("sk-model-tools-71"));
}

#[test]
fn moderated_chat_answers_an_accepted_question_and_refuses_a_rejected_one() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let models = FakeEndpoint::start(vec![answer("Paris.")]);
    let accepting = ContentSafetyFake::setup().key("cs-key-cli-2").start();
    model(home.path(), &models);
    create(
        home.path(),
        "safety",
        "azure_content_safety",
        &format!("endpoint={}", accepting.base),
        "cs-key-cli-2",
    );
    let (outputs, printed) = run(
        home.path(),
        "moderated-chat.weft.yaml",
        "Capital of France?",
    );
    assert_eq!(outputs["verdict"], "Accept");
    assert_eq!(outputs["answer"], "Paris.");
    assert_eq!(outputs["refusal"], Value::Null);
    assert!(!printed.contains("cs-key-cli-2"));

    // The same flow on a resource that finds the text hateful: no model call.
    let rejecting = ContentSafetyFake::setup()
        .key("cs-key-cli-2")
        .severity("Hate", 6)
        .start();
    let out = weft(home.path())
        .args(["connection", "update", "safety", "--set"])
        .arg(format!("endpoint={}", rejecting.base))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (outputs, _) = run(home.path(), "moderated-chat.weft.yaml", "something hateful");
    assert_eq!(outputs["verdict"], "Reject");
    assert_eq!(outputs["answer"], Value::Null);
    assert!(
        outputs["refusal"]
            .as_str()
            .unwrap()
            .starts_with("Sorry, I can't help")
    );
    assert_eq!(models.requests().len(), 1);
}

#[test]
fn web_answer_searches_and_gives_the_model_the_links_to_cite() {
    if common::keychain().is_none() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let models = FakeEndpoint::start(vec![answer(
        "Weft designs flows [Weft](https://weft.example/).",
    )]);
    let serp = SerpFake::setup()
        .key("serp-key-cli-3")
        .result("Weft", "https://weft.example/", "A flow designer.")
        .start();
    model(home.path(), &models);
    create(
        home.path(),
        "serp",
        "serp",
        &format!("endpoint={}", serp.base),
        "serp-key-cli-3",
    );
    let (outputs, printed) = run(home.path(), "web-answer.weft.yaml", "What is Weft?");

    assert_eq!(outputs["results"][0]["link"], "https://weft.example/");
    assert!(
        outputs["answer"]
            .as_str()
            .unwrap()
            .contains("(https://weft.example/)")
    );
    let system = &models.requests()[0].json()["messages"][0]["content"];
    assert!(
        system
            .as_str()
            .unwrap()
            .contains("[1] Weft (https://weft.example/): A flow designer."),
        "{system}"
    );
    assert!(serp.requests()[0].target.contains("q=What+is+Weft%3F"));
    assert!(!printed.contains("serp-key-cli-3"));
}
