//! The assertions that call a model, against weft-testkit's fake Azure resource on 127.0.0.1:
//! the judge (its JSON-schema request, its pass, score and reason), embeddings similarity, and
//! an evaluator flow with Prompt flow's input mapping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Row, checker};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{ApiKey, Credential, Endpoint, RetryPolicy, Timeouts};
use weft_engine::services::Services;
use weft_engine::{ConnectionSource, ResolvedConnection, Target};
use weft_eval::Models;
use weft_testkit::{AzureFake, Reply};

const KEY: &str = "sk-eval-test-5c1e77";

/// Every connection name but `missing` resolves to the fake resource; counts the lookups.
struct Fake(String, Arc<AtomicUsize>);

impl ConnectionSource for Fake {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        self.1.fetch_add(1, Ordering::SeqCst);
        if name == "missing" {
            return Err(format!("no connection `{name}`"));
        }
        Ok(ResolvedConnection::Model(Target {
            name: name.into(),
            endpoint: Endpoint::AzureV1 {
                base: Url::parse(&format!("{}/openai/v1", self.0)).unwrap(),
            },
            credential: Credential::Key(ApiKey::new(KEY)),
        }))
    }
}

fn models(fake: &AzureFake) -> Models {
    counted_models(fake, Arc::default())
}

fn counted_models(fake: &AzureFake, lookups: Arc<AtomicUsize>) -> Models {
    let retry = RetryPolicy {
        max_retries: 0,
        budget: Duration::from_secs(5),
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    };
    Models {
        services: Services::from_client(weft_ai::Client::new(Timeouts::default(), retry).unwrap()),
        connections: Arc::new(Fake(fake.base.clone(), lookups)),
        node_timeout: Duration::from_secs(10),
        cancel: CancellationToken::new(),
    }
}

fn chat_answer(content: Value) -> Reply {
    Reply::Json(
        200,
        json!({
            "id": "chatcmpl-judge", "object": "chat.completion", "model": "judge-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100}
        }),
    )
}

const JUDGE: &str = "  - { type: llm_judge, output: answer, rubric: Names the capital, value: \"${data.expected}\", connection: judge, deployment: judge-4o, threshold: 0.5 }\n";

#[tokio::test]
async fn the_judge_is_asked_in_a_json_schema_and_its_verdict_is_kept() {
    let fake = AzureFake::setup()
        .deployment("judge-4o")
        .reply("judge-4o", chat_answer(json!({"pass": true, "score": 0.9, "reason": "Names Paris."})))
        .reply("judge-4o", chat_answer(json!({"pass": false, "score": 0.1, "reason": "Names Lyon, not Paris."})))
        .reply("judge-4o", chat_answer(json!({"pass": true, "score": 0.3, "reason": "Hedges."})))
        .reply("judge-4o", Reply::Json(200, json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "I think it passes"}, "finish_reason": "stop"}]})))
        .start();
    let checker = checker(JUDGE, Path::new("."), Some(models(&fake)));
    let row = |answer: &str| {
        Row::new(
            json!({"expected": "Paris"}),
            json!({"answer": answer, "n": 1}),
        )
    };

    let good = checker.check(&row("Paris.").under_test()).await;
    assert!(good.pass, "{good:#?}");
    assert_eq!(good.score, 0.9);
    assert_eq!(good.verdicts[0].reason, "judge: Names Paris.");

    let bad = checker.check(&row("Lyon.").under_test()).await;
    assert!(!bad.pass);
    assert_eq!(bad.verdicts[0].score, 0.1);
    assert_eq!(bad.verdicts[0].reason, "judge: Names Lyon, not Paris.");

    let low = checker.check(&row("Maybe Paris?").under_test()).await;
    assert!(!low.pass, "a pass below the threshold fails");
    assert_eq!(low.verdicts[0].reason, "judge: Hedges. (score below 0.5)");

    let prose = checker.check(&row("Paris").under_test()).await;
    assert!(!prose.pass);
    assert!(
        prose.verdicts[0]
            .reason
            .starts_with("the judge's answer is not the JSON asked for"),
        "{prose:#?}"
    );

    let sent = fake.requests();
    assert_eq!(sent.len(), 4);
    let body = sent[0].json();
    assert_eq!(body["model"], "judge-4o");
    assert_eq!(body["response_format"]["type"], "json_schema");
    let schema = &body["response_format"]["json_schema"];
    assert_eq!(schema["strict"], true);
    assert_eq!(
        schema["schema"]["required"],
        json!(["pass", "score", "reason"])
    );
    let prompt = body["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("Names the capital"), "{prompt}");
    assert!(prompt.contains("Paris."), "{prompt}");
    assert!(
        prompt.contains("Expected answer (for reference):\nParis"),
        "{prompt}"
    );
    assert_eq!(sent[0].header("api-key"), Some(KEY));
}

#[tokio::test]
async fn a_judge_that_cannot_be_reached_fails_the_verdict_saying_why() {
    let fake = AzureFake::setup().deployment("judge-4o").start();
    let yaml = JUDGE.replace("connection: judge", "connection: missing");
    let checker = checker(&yaml, Path::new("."), Some(models(&fake)));
    let row = Row::new(json!({"expected": "Paris"}), json!({"answer": "Paris"}));
    let v = checker.check(&row.under_test()).await;
    assert!(!v.pass);
    assert_eq!(
        v.verdicts[0].reason,
        "connection `missing`: no connection `missing`"
    );
    let unknown = JUDGE.replace("deployment: judge-4o", "deployment: gpt-5");
    let v = checker_with(&unknown, &fake).check(&row.under_test()).await;
    assert!(
        v.verdicts[0]
            .reason
            .starts_with("the judge could not answer:"),
        "{v:#?}"
    );
    assert!(!v.verdicts[0].reason.contains(KEY));
}

fn checker_with(yaml: &str, fake: &AzureFake) -> weft_eval::Checker {
    checker(yaml, Path::new("."), Some(models(fake)))
}

#[tokio::test]
async fn a_rows_rubric_column_uses_the_files_judge() {
    let fake = AzureFake::setup()
        .deployment("judge-4o")
        .reply(
            "judge-4o",
            chat_answer(json!({"pass": true, "score": 1, "reason": "Polite."})),
        )
        .start();
    let checker = checker_with(JUDGE, &fake);
    let row = Row::new(
        json!({"__expected": "llm-rubric: Is polite"}),
        json!({"answer": "Paris, thank you"}),
    );
    let v = checker.check(&row.under_test()).await;
    assert!(v.pass, "{v:#?}");
    assert_eq!(
        v.verdicts.len(),
        1,
        "the file's judge is replaced by the row's"
    );
    let prompt = fake.requests()[0].json()["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(prompt.starts_with("Rubric:\nIs polite"), "{prompt}");
}

#[tokio::test]
async fn similar_compares_embeddings_with_the_threshold() {
    let embeddings = |a: Value, b: Value| {
        Reply::Json(
            200,
            json!({"object": "list", "model": "embed", "data": [
                {"object": "embedding", "index": 0, "embedding": a},
                {"object": "embedding", "index": 1, "embedding": b}
            ], "usage": {"prompt_tokens": 4, "total_tokens": 4}}),
        )
    };
    let fake = AzureFake::setup()
        .deployment("embed")
        .reply("embed", embeddings(json!([1.0, 0.0]), json!([0.9, 0.1])))
        .reply("embed", embeddings(json!([1.0, 0.0]), json!([0.0, 1.0])))
        .start();
    let yaml =
        "  - { type: similar, value: \"${data.expected}\", connection: emb, deployment: embed }\n";
    let checker = checker_with(yaml, &fake);
    let row = Row::new(
        json!({"expected": "Paris is the capital"}),
        json!({"answer": "The capital is Paris"}),
    );
    let close = checker.check(&row.under_test()).await;
    assert!(close.pass, "{close:#?}");
    assert_eq!(
        close.verdicts[0].reason,
        "cosine similarity 0.994 (at least 0.8)"
    );
    let far = checker.check(&row.under_test()).await;
    assert!(!far.pass);
    assert_eq!(
        far.verdicts[0].reason,
        "cosine similarity 0.000 (at least 0.8)"
    );
    let sent = fake.requests()[0].json();
    assert_eq!(
        sent["input"],
        json!(["The capital is Paris", "Paris is the capital"])
    );
}

#[tokio::test]
async fn an_evaluator_flow_gets_its_inputs_mapped_and_gives_the_verdict() {
    let fake = AzureFake::setup()
        .deployment("grader-4o")
        .reply(
            "grader-4o",
            chat_answer(json!({"pass": true, "score": 0.8, "reason": "Right city."})),
        )
        .reply(
            "grader-4o",
            chat_answer(json!({"pass": false, "score": 0.2, "reason": "Wrong city."})),
        )
        .start();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let yaml = "  - { type: flow, flow: grader.weft.yaml, inputs: { answer: \"${run.outputs.answer}\", expected: \"${data.truth}\", question: \"${run.inputs.question}\" } }\n";
    let checker = checker(yaml, &base, Some(models(&fake)));
    let mut row = Row::new(json!({"truth": "Paris"}), json!({"answer": "It is Paris."}));
    row.inputs = json!({"question": "Capital of France?"})
        .as_object()
        .unwrap()
        .clone();
    let good = checker.check(&row.under_test()).await;
    assert!(good.pass, "{good:#?}");
    assert_eq!(good.score, 0.8);
    assert_eq!(
        good.verdicts[0].reason,
        "evaluator: pass true, score 0.8: Right city."
    );
    let bad = checker.check(&row.under_test()).await;
    assert!(!bad.pass);
    assert_eq!(
        bad.verdicts[0].reason,
        "evaluator: pass false, score 0.2: Wrong city."
    );
    let prompt = fake.requests()[0].json()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        prompt,
        "Question: Capital of France?\nAnswer: It is Paris.\nExpected: Paris\nGrade it as JSON with pass, score and reason."
    );
    // A failing evaluator run fails the verdict with the node's error.
    let broken = checker.check(&row.under_test()).await;
    assert!(!broken.pass);
    assert!(
        broken.verdicts[0]
            .reason
            .starts_with("the evaluator flow failed: node grade:"),
        "{broken:#?}"
    );
}

#[test]
fn an_evaluator_flow_that_cannot_give_a_verdict_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("no-verdict.weft.yaml"),
        "schema: 1\ninputs:\n  a: { type: string }\noutputs:\n  text: { value: \"${inputs.a}\" }\n",
    )
    .unwrap();
    let file = common::eval("  - { type: flow, flow: no-verdict.weft.yaml }\n");
    let fake = AzureFake::setup().start();
    let err = weft_eval::Checker::new(&file.assert, &file.prices, dir.path(), Some(models(&fake)))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        "no-verdict.weft.yaml: an evaluator flow has a `pass` output, a `score` output or both"
    );
    let file = common::eval("  - { type: flow, flow: absent.weft.yaml }\n");
    let err = weft_eval::Checker::new(&file.assert, &file.prices, dir.path(), Some(models(&fake)))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("absent.weft.yaml: cannot read it:"),
        "{err}"
    );
    let file = common::eval(JUDGE);
    let err = weft_eval::Checker::new(&file.assert, &file.prices, dir.path(), None)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        "assertion 1 (llm_judge): it calls a model, and no model connections were given"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rows_checked_at_once_look_the_connection_up_once() {
    let mut setup = AzureFake::setup().deployment("judge-4o");
    for _ in 0..8 {
        setup = setup.reply(
            "judge-4o",
            chat_answer(json!({"pass": true, "score": 1, "reason": "Fine."})),
        );
    }
    let fake = setup.start();
    let lookups = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(checker(
        JUDGE,
        Path::new("."),
        Some(counted_models(&fake, lookups.clone())),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8u64 {
        let checker = shared.clone();
        tasks.spawn(async move {
            let mut row = Row::new(json!({"expected": "Paris"}), json!({"answer": "Paris"}));
            row.row = n;
            checker.check(&row.under_test()).await
        });
    }
    while let Some(verdict) = tasks.join_next().await {
        let verdict = verdict.unwrap();
        assert!(verdict.pass, "{verdict:#?}");
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    assert_eq!(fake.requests().len(), 8);

    // A connection that cannot be had is asked for once too, and every row says why.
    let lookups = Arc::new(AtomicUsize::new(0));
    let yaml = JUDGE.replace("connection: judge", "connection: missing");
    let checker = checker(
        &yaml,
        Path::new("."),
        Some(counted_models(&fake, lookups.clone())),
    );
    let row = Row::new(json!({"expected": "Paris"}), json!({"answer": "Paris"}));
    for _ in 0..3 {
        let v = checker.check(&row.under_test()).await;
        assert_eq!(
            v.verdicts[0].reason,
            "connection `missing`: no connection `missing`"
        );
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rows_similar_column_uses_the_files_embeddings() {
    let fake = AzureFake::setup().deployment("embed").start();
    let yaml = "  - { type: similar, value: anything, connection: emb, deployment: embed }\n";
    let checker = checker_with(yaml, &fake);
    let row = Row::new(
        json!({"__expected": "similar: The capital is Paris"}),
        json!({"answer": "Paris"}),
    );
    let v = checker.check(&row.under_test()).await;
    // The fake's default vectors, [0.25, -0.5, 0] and [0.25, -0.5, 1], are 0.488 alike.
    assert!(!v.pass);
    assert_eq!(v.verdicts.len(), 1);
    assert_eq!(
        v.verdicts[0].reason,
        "cosine similarity 0.488 (at least 0.8)"
    );
    assert_eq!(
        fake.requests()[0].json()["input"],
        json!(["Paris", "The capital is Paris"])
    );
}

#[tokio::test]
async fn an_evaluator_with_a_score_only_passes_at_its_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let grader = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grader.weft.yaml"),
    )
    .unwrap();
    let scorer = grader.replace("  pass:\n    value: ${grade.output.pass}\n", "");
    assert_ne!(scorer, grader);
    std::fs::write(dir.path().join("scorer.weft.yaml"), scorer).unwrap();
    let fake = AzureFake::setup()
        .deployment("grader-4o")
        .reply(
            "grader-4o",
            chat_answer(json!({"pass": true, "score": 0.7, "reason": "Close."})),
        )
        .reply(
            "grader-4o",
            chat_answer(json!({"pass": true, "score": 0.6, "reason": "Vague."})),
        )
        .start();
    // `answer` and `expected` are unmapped: they take the data columns of their names.
    let yaml = "  - { type: flow, flow: scorer.weft.yaml, threshold: 0.65 }\n";
    let checker = checker(yaml, dir.path(), Some(models(&fake)));
    let row = Row::new(
        json!({"answer": "Paris", "expected": "Paris"}),
        json!({"out": "x"}),
    );
    let v = checker.check(&row.under_test()).await;
    assert!(v.pass, "{v:#?}");
    assert_eq!(
        v.verdicts[0].reason,
        "evaluator: score 0.7 (at least 0.65): Close."
    );
    let v = checker.check(&row.under_test()).await;
    assert!(!v.pass);
    assert_eq!(v.verdicts[0].score, 0.6);
    let prompt = fake.requests()[0].json()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        prompt.starts_with("Question: (none)\nAnswer: Paris\nExpected: Paris"),
        "{prompt}"
    );
}
