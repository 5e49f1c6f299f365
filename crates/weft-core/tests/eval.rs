//! Eval runs through `AppCore`: an eval file's variants run as batches against a fake Azure
//! resource on 127.0.0.1, checked, stored, compared with a baseline, recorded and replayed;
//! and "Add to dataset" on a run from history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use weft_core::{
    AppCore, AppError, BatchEvent, Cassette, CassetteMode, CassetteOptions, Concurrency, ErrorKind,
    EvalEvent, EvalOrder, EvalReport, EvalStatus, Pace, RunOrder, RunPlan,
};
use weft_flow::FlowDocument;
use weft_testkit::{AzureFake, LimitedChat};

mod common;
use common::{Files, core, with_connection};

const KEY: &str = "sk-eval-key-5b17";

/// One chat node answering `question`; the fake answers "Hello from <deployment>".
const CHAT_FLOW: &str = "schema: 1\ninputs:\n  question: { type: string }\noutputs:\n  answer: { value: \"${chat.output}\" }\nnodes:\n\
    \x20 - { id: chat, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: gpt-4o-mini, stream: false, user_prompt: \"{{ q }}\", variables: { q: \"${inputs.question}\" } } }\n";

const QUESTIONS: &str = "{\"q\": \"one\"}\n{\"q\": \"two\"}\n{\"q\": \"three\"}\n";

/// Two variants and three kinds of assertion: `large` fails `equals` on every row.
fn eval_file(pass_rate: f64, mini_deployment: &str) -> String {
    format!(
        "name: chat\nflow: chat.weft.yaml\ndata: questions.jsonl\ncolumn_mapping: {{ question: \"${{data.q}}\" }}\n\
         variants:\n  - {{ name: mini, set: {{ chat.deployment: {mini_deployment} }} }}\n  - {{ name: large, set: {{ chat.deployment: gpt-4o }} }}\n\
         assert:\n  - {{ type: contains, value: Hello }}\n  - {{ type: equals, value: Hello from gpt-4o-mini }}\n  - {{ type: latency_ms, max: 30000 }}\n\
         thresholds: {{ pass_rate: {pass_rate} }}\n"
    )
}

struct Setup {
    _home: tempfile::TempDir,
    files: Files,
    core: Arc<AppCore>,
    fake: AzureFake,
    eval: PathBuf,
}

fn setup(eval: &str) -> Setup {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup()
        .deployment("gpt-4o-mini")
        .deployment("gpt-4o")
        .key(KEY)
        .start();
    with_connection(&core, &fake.base, KEY);
    files.write("chat.weft.yaml", CHAT_FLOW);
    files.write("questions.jsonl", QUESTIONS);
    let eval = files.write("chat.eval.yaml", eval);
    Setup {
        _home: home,
        files,
        core,
        fake,
        eval,
    }
}

fn order(path: &Path) -> EvalOrder {
    EvalOrder {
        eval_id: weft_core::new_run_id(),
        path: path.to_owned(),
        variants: Vec::new(),
        baseline: None,
        concurrency: Concurrency::Fixed(NonZeroU32::new(2).unwrap()),
        node_timeout: Duration::from_secs(30),
        cassette: None,
    }
}

async fn run(
    core: &Arc<AppCore>,
    order: EvalOrder,
) -> (Result<EvalReport, AppError>, Vec<EvalEvent>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let report = core.run_eval(order, events).await;
    let mut seen = Vec::new();
    while let Ok(event) = received.try_recv() {
        seen.push(event);
    }
    (report, seen)
}

fn pass_rates(report: &EvalReport) -> Vec<(&str, f64)> {
    report
        .variants
        .iter()
        .map(|v| (v.variant.as_str(), v.pass_rate))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_variants_run_as_batches_and_their_rows_are_checked_side_by_side() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));
    let order = order(&s.eval);
    let id = order.eval_id.clone();

    let (report, events) = run(&s.core, order).await;

    let report = report.unwrap();
    assert_eq!(report.status, EvalStatus::Finished);
    assert_eq!(pass_rates(&report), [("mini", 1.0), ("large", 0.0)]);
    let mini = &report.variants[0];
    assert_eq!((mini.rows, mini.passed, mini.failed), (3, 3, 0));
    assert_eq!((mini.prompt_tokens, mini.completion_tokens), (27, 9));
    assert_eq!(mini.metrics["contains"], 1.0);
    assert_eq!(report.variants[1].metrics["equals"], 0.0);
    assert_eq!(report.variants[1].metrics["contains"], 1.0);
    assert_eq!(s.fake.requests().len(), 6);
    let models: Vec<String> = s
        .fake
        .requests()
        .iter()
        .map(|r| r.json()["model"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(models.iter().filter(|m| *m == "gpt-4o").count(), 3);

    assert!(
        matches!(&events[0], EvalEvent::Started { variants, .. } if variants == &["mini", "large"])
    );
    assert!(events.iter().any(|e| matches!(e, EvalEvent::Batch { variant, event: BatchEvent::Started { .. } } if variant == "large")));
    assert!(events.iter().any(
        |e| matches!(e, EvalEvent::Checking { variant, done: 3, total: 3 } if variant == "mini")
    ));
    let done: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EvalEvent::VariantDone(summary) => Some(summary.variant.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(done, ["mini", "large"]);

    let names: Vec<Option<String>> = s
        .core
        .batches(10)
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert!(
        names.contains(&Some("eval chat · mini".into())),
        "{names:?}"
    );
    assert!(
        names.contains(&Some("eval chat · large".into())),
        "{names:?}"
    );
    let stored = s.core.eval_report(&id[..8]).unwrap();
    assert_eq!(stored, report);
    let listed = s.core.evals(10).unwrap();
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].passed, Some(false));
    assert_eq!(listed[0].variants.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_passes_only_when_every_variants_thresholds_hold() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));

    let both = run(&s.core, order(&s.eval)).await.0.unwrap();
    let mini_only = run(
        &s.core,
        EvalOrder {
            variants: vec!["mini".into()],
            ..order(&s.eval)
        },
    )
    .await
    .0
    .unwrap();

    assert!(!both.passed);
    let held: Vec<(&str, bool)> = both
        .thresholds
        .iter()
        .map(|t| (t.variant.as_str(), t.holds))
        .collect();
    assert_eq!(held, [("mini", true), ("large", false)]);
    assert!(mini_only.passed, "{:?}", mini_only.thresholds);
    assert_eq!(pass_rates(&mini_only), [("mini", 1.0)]);
    let err = run(
        &s.core,
        EvalOrder {
            variants: vec!["huge".into()],
            ..order(&s.eval)
        },
    )
    .await
    .0
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no variant `huge`"), "{err}");
    assert!(err.to_string().contains("mini, large"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eval_that_cannot_run_is_refused_before_any_call_or_record() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini").replace(
        "{ type: contains, value: Hello }",
        "{ type: contains, output: summary, value: Hello }",
    ));
    let refused = |text: &str| {
        s.files.write("chat.eval.yaml", text);
        let core = s.core.clone();
        let order = order(&s.eval);
        async move { run(&core, order).await.0.unwrap_err() }
    };

    let unknown_output = refused(&std::fs::read_to_string(&s.eval).unwrap()).await;
    let bad_variant =
        refused(&eval_file(0.9, "gpt-4o-mini").replace("chat.deployment", "chat.colour")).await;
    let bad_mapping =
        refused(&eval_file(0.9, "gpt-4o-mini").replace("{ question:", "{ topic:")).await;

    assert!(
        unknown_output.to_string().contains("summary"),
        "{unknown_output}"
    );
    assert!(bad_variant.to_string().contains("colour"), "{bad_variant}");
    assert!(bad_mapping.to_string().contains("topic"), "{bad_mapping}");
    for err in [&unknown_output, &bad_variant, &bad_mapping] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(s.fake.requests().is_empty());
    assert!(s.core.evals(10).unwrap().is_empty());
    assert!(s.core.batches(10).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_baseline_the_rows_that_changed_are_listed() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));
    let before = run(&s.core, order(&s.eval)).await.0.unwrap();
    // mini now calls the large deployment: its rows fail `equals`.
    s.files.write("chat.eval.yaml", &eval_file(0.9, "gpt-4o"));

    let after = run(
        &s.core,
        EvalOrder {
            baseline: Some(before.eval_id[..8].to_owned()),
            ..order(&s.eval)
        },
    )
    .await
    .0
    .unwrap();

    assert_eq!(after.baseline.as_deref(), Some(before.eval_id.as_str()));
    let changes: Vec<(&str, u64, bool, bool)> = after
        .changes
        .iter()
        .map(|c| (c.variant.as_str(), c.row, c.was_pass, c.now_pass))
        .collect();
    assert_eq!(
        changes,
        [
            ("mini", 0, true, false),
            ("mini", 1, true, false),
            ("mini", 2, true, false)
        ]
    );
    let err = run(
        &s.core,
        EvalOrder {
            baseline: Some("nope-nope".into()),
            ..order(&s.eval)
        },
    )
    .await
    .0
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_eval_stops_its_batch_and_is_stored_cancelled() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = LimitedChat::new(Duration::from_secs(20)).start();
    with_connection(&core, &fake.base, KEY);
    files.write("chat.weft.yaml", CHAT_FLOW);
    files.write("questions.jsonl", QUESTIONS);
    let eval = files.write("chat.eval.yaml", &eval_file(0.9, "gpt-4o-mini"));
    let order = order(&eval);
    let id = order.eval_id.clone();
    let (events, mut received) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let core = core.clone();
        async move { core.run_eval(order, events).await }
    });
    // Cancel once the first batch has started its rows.
    while let Some(event) = received.recv().await {
        if matches!(
            event,
            EvalEvent::Batch {
                event: BatchEvent::Started { .. },
                ..
            }
        ) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(core.cancel_run(&id));

    let report = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the eval did not stop on cancel")
        .unwrap()
        .unwrap();

    assert_eq!(report.status, EvalStatus::Cancelled);
    assert!(!report.passed);
    assert!(report.variants.is_empty());
    assert_eq!(core.eval_report(&id).unwrap().status, EvalStatus::Cancelled);
    assert_eq!(core.evals(10).unwrap()[0].passed, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_while_a_judge_is_waited_for_stops_the_checking() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup()
        .deployment("gpt-4o-mini")
        .deployment("judge")
        .reply("judge", weft_testkit::Reply::Stall(Duration::from_secs(30)))
        .key(KEY)
        .start();
    with_connection(&core, &fake.base, KEY);
    files.write("chat.weft.yaml", CHAT_FLOW);
    files.write("questions.jsonl", QUESTIONS);
    let eval = files.write(
        "chat.eval.yaml",
        "flow: chat.weft.yaml\ndata: questions.jsonl\ncolumn_mapping: { question: \"${data.q}\" }\n\
         assert:\n  - { type: llm_judge, rubric: Greets the user, connection: model, deployment: judge }\n",
    );
    let order = EvalOrder {
        concurrency: Concurrency::Fixed(NonZeroU32::new(1).unwrap()),
        ..order(&eval)
    };
    let id = order.eval_id.clone();
    let (events, _received) = mpsc::unbounded_channel();
    let running = tokio::spawn({
        let core = core.clone();
        async move { core.run_eval(order, events).await }
    });
    let judged = || fake.requests().iter().any(|r| r.json()["model"] == "judge");
    while !judged() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(core.cancel_run(&id));

    let report = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the checking did not stop on cancel")
        .unwrap()
        .unwrap();

    assert_eq!(report.status, EvalStatus::Cancelled);
    assert!(report.variants.is_empty());
    assert!(core.eval_rows(&id, 0, 10).unwrap().is_empty());
    let judgements = fake
        .requests()
        .iter()
        .filter(|r| r.json()["model"] == "judge")
        .count();
    assert_eq!(judgements, 1, "rows were judged after the cancel");
}

#[test]
fn an_eval_whose_process_ended_shows_as_failed_interrupted() {
    let home = tempfile::tempdir().unwrap();
    let core = core(home.path());
    let mut db = weft_store::Database::open(
        &weft_store::DataDir::new(home.path()).database_path(),
        "test",
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let running = |id: &str, beat: i64| weft_store::EvalRecord {
        id: id.into(),
        name: "chat".into(),
        eval_path: "/flows/chat.eval.yaml".into(),
        eval_text: String::new(),
        status: "running".into(),
        message: None,
        started_at_ms: now - 60_000,
        finished_at_ms: None,
        updated_at_ms: beat,
        passed: None,
        report: None,
        cassette: None,
    };
    db.create_eval(&running("live-eval", now)).unwrap();
    db.create_eval(&running("gone-eval", now - 30_000)).unwrap();

    let gone = core.eval_report("gone-eval").unwrap();

    assert_eq!(gone.status, EvalStatus::Failed);
    assert!(gone.message.unwrap().contains("interrupted"));
    assert!(!gone.passed);
    assert_eq!(
        core.eval_report("live-eval").unwrap().status,
        EvalStatus::Running
    );
    let listed: Vec<(String, EvalStatus)> = core
        .evals(10)
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.status))
        .collect();
    assert!(listed.contains(&("gone-eval".into(), EvalStatus::Failed)));
    assert!(listed.contains(&("live-eval".into(), EvalStatus::Running)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_eval_replays_offline_to_the_same_verdicts() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));
    let tape = s.eval.with_file_name("chat.cassette.jsonl");
    let options = |mode| CassetteOptions {
        mode,
        strict: true,
        pace: Pace::Instant,
    };
    let recording = Cassette::open(&tape, options(CassetteMode::Record)).unwrap();
    let recorded = run(
        &s.core,
        EvalOrder {
            cassette: Some(recording.clone()),
            ..order(&s.eval)
        },
    )
    .await
    .0
    .unwrap();
    recording.save().unwrap();
    let calls = s.fake.requests().len() as u64;

    let replayed = run(
        &s.core,
        EvalOrder {
            cassette: Some(Cassette::open(&tape, options(CassetteMode::Replay)).unwrap()),
            ..order(&s.eval)
        },
    )
    .await
    .0
    .unwrap();

    assert_eq!(
        s.fake.requests().len() as u64,
        calls,
        "the replay called the endpoint"
    );
    let replay_use = replayed.cassette.clone().unwrap();
    assert_eq!(
        (
            replay_use.mode.as_str(),
            replay_use.replayed,
            replay_use.live
        ),
        ("replay", calls, 0)
    );
    assert_eq!(recorded.cassette.clone().unwrap().recorded, calls);
    assert_eq!(pass_rates(&replayed), pass_rates(&recorded));
    assert_eq!(replayed.passed, recorded.passed);
    assert_eq!(replayed.thresholds.len(), recorded.thresholds.len());
    for (again, first) in replayed.variants.iter().zip(&recorded.variants) {
        assert_eq!(
            (again.passed, again.prompt_tokens, &again.metrics),
            (first.passed, first.prompt_tokens, &first.metrics)
        );
    }
    let rows = |id: &str| -> Vec<Vec<Value>> {
        s.core
            .eval_rows(id, 0, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.cells.into_iter().map(|c| c.outputs).collect())
            .collect()
    };
    assert_eq!(rows(&replayed.eval_id), rows(&recorded.eval_id));
}

/// The judge's answer in the chat completion shape, its content the JSON the schema asks for.
fn judgement(pass: bool, reason: &str) -> weft_testkit::Reply {
    let content = json!({"pass": pass, "score": if pass { 0.9 } else { 0.1 }, "reason": reason});
    weft_testkit::Reply::Json(
        200,
        json!({
            "id": "chatcmpl-judge", "object": "chat.completion", "model": "judge",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judges_go_through_the_evals_cassette_and_cost_is_priced_by_each_variants_deployment() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup()
        .deployment("gpt-4o-mini")
        .deployment("gpt-4o")
        .deployment("judge")
        .reply("judge", judgement(true, "greets"))
        .reply("judge", judgement(false, "does not answer"))
        .reply("judge", judgement(true, "greets"))
        .key(KEY)
        .start();
    with_connection(&core, &fake.base, KEY);
    files.write("chat.weft.yaml", CHAT_FLOW);
    files.write("questions.jsonl", QUESTIONS);
    let eval = files.write(
        "chat.eval.yaml",
        "flow: chat.weft.yaml\ndata: questions.jsonl\ncolumn_mapping: { question: \"${data.q}\" }\n\
         variants:\n  - { name: mini, set: { chat.deployment: gpt-4o-mini } }\n  - { name: large, set: { chat.deployment: gpt-4o } }\n\
         assert:\n  - { type: llm_judge, rubric: Greets the user, connection: model, deployment: judge }\n\
         prices: { gpt-4o-mini: { input: 1.0, output: 2.0 } }\n",
    );
    let tape = home.path().join("judged.cassette.jsonl");
    let options = |mode| CassetteOptions {
        mode,
        strict: true,
        pace: Pace::Instant,
    };
    let recording = Cassette::open(&tape, options(CassetteMode::Record)).unwrap();
    let mini_only = |cassette| EvalOrder {
        variants: vec!["mini".into()],
        cassette: Some(cassette),
        // One row at a time: the judge's scripted answers go to the rows in order.
        concurrency: Concurrency::Fixed(NonZeroU32::new(1).unwrap()),
        ..order(&eval)
    };
    let recorded = run(&core, mini_only(recording.clone())).await.0.unwrap();
    recording.save().unwrap();
    let calls = fake.requests().len();
    assert_eq!(calls, 6, "3 rows and 3 judgements");

    let replayed = run(
        &core,
        mini_only(Cassette::open(&tape, options(CassetteMode::Replay)).unwrap()),
    )
    .await
    .0
    .unwrap();

    assert_eq!(
        fake.requests().len(),
        calls,
        "the replay called the endpoint"
    );
    for report in [&recorded, &replayed] {
        let mini = &report.variants[0];
        assert_eq!((mini.passed, mini.failed), (2, 1), "{mini:?}");
        // 9 prompt and 3 completion tokens a row, at 1 and 2 per million.
        let cost = mini.cost.unwrap();
        assert!((cost - 3.0 * 15e-6).abs() < 1e-12, "{cost}");
    }
    let rows = core.eval_rows(&replayed.eval_id, 1, 1).unwrap();
    let reason = &rows[0].cells[0].verdicts[0].reason;
    assert!(reason.contains("does not answer"), "{reason}");

    // The large variant's deployment has no price: its cost is unknown, not 0.
    let both = run(
        &core,
        EvalOrder {
            cassette: None,
            ..order(&eval)
        },
    )
    .await
    .0
    .unwrap();
    assert!(both.variants[0].cost.is_some());
    assert_eq!(both.variants[1].cost, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_is_priced_by_the_deployment_its_connections_url_pins_over_its_own() {
    let (home, files) = (tempfile::tempdir().unwrap(), Files::new());
    let core = core(home.path());
    let fake = AzureFake::setup()
        .deployment("gpt-4o-mini")
        .key(KEY)
        .start();
    core.create_connection(weft_core::ConnectionInput {
        name: "pinned".into(),
        kind: weft_core::ConnectionKind::AzureOpenAi,
        config: std::collections::BTreeMap::from([(
            "api_base".into(),
            format!("{}/openai/deployments/gpt-4o-mini", fake.base),
        )]),
        secrets: std::collections::BTreeMap::from([("api_key".into(), KEY.into())]),
    })
    .unwrap();
    files.write(
        "chat.weft.yaml",
        &CHAT_FLOW.replace(
            "connection: model, deployment: gpt-4o-mini,",
            "connection: pinned, deployment: unpriced,",
        ),
    );
    files.write("questions.jsonl", QUESTIONS);
    let eval = files.write(
        "chat.eval.yaml",
        "flow: chat.weft.yaml\ndata: questions.jsonl\ncolumn_mapping: { question: \"${data.q}\" }\n\
         assert:\n  - { type: cost, max: 1.0 }\nprices: { gpt-4o-mini: { input: 1.0, output: 2.0 } }\n",
    );

    let report = run(&core, order(&eval)).await.0.unwrap();

    assert_eq!(fake.requests().len(), 3);
    assert!(
        fake.requests()[0]
            .path()
            .starts_with("/openai/deployments/gpt-4o-mini/")
    );
    let flow = &report.variants[0];
    assert_eq!((flow.variant.as_str(), flow.passed), (weft_core::AS_IS, 3));
    let cost = flow.cost.unwrap();
    assert!((cost - 3.0 * 15e-6).abs() < 1e-12, "{cost}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_rows_page_by_row_with_a_cell_per_variant_and_its_reasons() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));
    let report = run(&s.core, order(&s.eval)).await.0.unwrap();

    let page = s.core.eval_rows(&report.eval_id, 1, 1).unwrap();

    assert_eq!(page.len(), 1);
    let row = &page[0];
    assert_eq!(row.row, 1);
    assert_eq!(row.inputs, json!({"question": "two"}));
    let cells: Vec<(&str, bool)> = row
        .cells
        .iter()
        .map(|c| (c.variant.as_str(), c.pass))
        .collect();
    assert_eq!(cells, [("mini", true), ("large", false)]);
    assert_eq!(row.cells[1].outputs, json!({"answer": "Hello from gpt-4o"}));
    let equals = row.cells[1]
        .verdicts
        .iter()
        .find(|v| v.kind == "equals")
        .unwrap();
    assert!(!equals.pass);
    assert!(!equals.reason.is_empty());
    assert_eq!(s.core.eval_rows(&report.eval_id, 0, 100).unwrap().len(), 3);
    assert!(
        s.core
            .eval_rows(&report.eval_id, 3, 100)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eval_file_opens_with_its_paths_resolved_and_saves_back() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));

    let mut view = s.core.open_eval(&s.eval).unwrap();

    assert_eq!(
        view.flow_path,
        s.eval
            .with_file_name("chat.weft.yaml")
            .display()
            .to_string()
    );
    assert_eq!(view.file.variants.len(), 2);
    view.file.thresholds.pass_rate = Some(0.5);
    let copy = s.eval.with_file_name("copy.eval.yaml");
    s.core.save_eval(&copy, view.clone()).unwrap();
    assert_eq!(s.core.open_eval(&copy).unwrap().file, view.file);
    let err = s
        .core
        .save_eval(&s.eval.with_file_name("copy.yaml"), view)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

async fn a_run(core: &Arc<AppCore>, question: &str) -> String {
    let order = RunOrder {
        run_id: weft_core::new_run_id(),
        path: Some("/flows/chat.weft.yaml".into()),
        inputs: Map::from_iter([("question".to_owned(), Value::from(question))]),
        plan: RunPlan::All,
        given: Default::default(),
        node_timeout: Duration::from_secs(30),
        cassette: None,
    };
    let (events, _received) = mpsc::unbounded_channel();
    let summary = core
        .run_flow(FlowDocument::parse(CHAT_FLOW).unwrap(), order, events)
        .await
        .unwrap();
    summary.run_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_added_to_a_jsonl_dataset_with_its_output_as_expected() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));
    let first = a_run(&s.core, "What is \"Weft\"?").await;
    let second = a_run(&s.core, "Why?").await;
    // A file whose last line has no newline yet.
    let data = s.files.write("added.jsonl", "{\"question\": \"old\"}");

    s.core
        .add_run_to_dataset(&first, &data, Some("answer".into()))
        .unwrap();
    s.core.add_run_to_dataset(&second, &data, None).unwrap();

    let lines: Vec<Value> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"question": "old"}),
            json!({"question": "What is \"Weft\"?", "expected": "Hello from gpt-4o-mini"}),
            json!({"question": "Why?"}),
        ]
    );
    let created = s.files.write("unused.txt", "").with_file_name("new.jsonl");
    s.core.add_run_to_dataset(&second, &created, None).unwrap();
    assert_eq!(
        std::fs::read_to_string(&created).unwrap(),
        "{\"question\":\"Why?\"}\n"
    );
    let err = s
        .core
        .add_run_to_dataset(&first, &data, Some("summary".into()))
        .unwrap_err();
    assert!(err.to_string().contains("no output `summary`"), "{err}");
    assert!(err.to_string().contains("`answer`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_added_to_a_csv_dataset_in_its_header_order() {
    let s = setup(&eval_file(0.9, "gpt-4o-mini"));
    let run = a_run(&s.core, "Hi, there").await;
    let data = s
        .files
        .write("added.csv", "expected,note,question\nx,,old\n");

    s.core
        .add_run_to_dataset(&run, &data, Some("answer".into()))
        .unwrap();

    assert_eq!(
        std::fs::read_to_string(&data).unwrap(),
        "expected,note,question\nx,,old\nHello from gpt-4o-mini,,\"Hi, there\"\n"
    );
    let rows: Vec<_> = weft_batch::DataReader::open(&data)
        .unwrap()
        .map(|r| r.unwrap().fields.unwrap())
        .collect();
    assert_eq!(rows[1]["question"], "Hi, there");
    let narrow = s.files.write("narrow.csv", "question\nold\n");
    let err = s
        .core
        .add_run_to_dataset(&run, &narrow, Some("answer".into()))
        .unwrap_err();
    assert!(
        err.to_string().contains("no column for `expected`"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&narrow).unwrap(), "question\nold\n");
    let created = s.files.write("unused.txt", "").with_file_name("new.csv");
    s.core.add_run_to_dataset(&run, &created, None).unwrap();
    assert_eq!(
        std::fs::read_to_string(&created).unwrap(),
        "question\n\"Hi, there\"\n"
    );
}
