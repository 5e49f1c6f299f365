//! The Python node against the real `python3` (scripts/install-deps.sh installs it): the
//! user's @tool function in a reused worker, Prompt flow's imports unchanged, a custom
//! connection's secret reaching the function and nowhere else, print()s in the log, the
//! errors a user meets, a timeout and a cancel killing the worker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use weft_ai::ApiKey;
use weft_engine::python::PythonPools;
use weft_engine::services::Services;
use weft_engine::{
    CustomSettings, Engine, NodeState, Plan, ResolvedConnection, Reuse, RunEvent, RunOutcome,
    RunRequest, RunStatus,
};
use weft_flow::ConnectionType;

use common::{cancel_after, reported, source, valid};

const SECRET: &str = "py-secret-7f3a91c2";

/// A folder of its own per test, with the files given.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-python-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn flow(extra: &str, properties: &str) -> String {
    format!(
        r#"
schema: 1
{extra}
inputs:
  text: {{ type: string }}
outputs:
  answer: {{ value: "${{python.output}}" }}
nodes:
  - id: python
    type: python
    position: {{ x: 0, y: 0 }}
    properties:
{properties}
"#
    )
}

fn engine(pools: &PythonPools) -> Engine {
    let mut services = Services::from_client(
        weft_ai::Client::new(
            weft_ai::Timeouts::default(),
            weft_ai::RetryPolicy::default(),
        )
        .unwrap(),
    );
    services.python = pools.clone();
    Engine::new(services)
}

struct Call<'a> {
    dir: &'a Path,
    yaml: String,
    connections: Vec<ResolvedConnection>,
    timeout: Duration,
    cancel: CancellationToken,
}

impl<'a> Call<'a> {
    fn new(dir: &'a Path, yaml: String) -> Self {
        Self {
            dir,
            yaml,
            connections: Vec::new(),
            timeout: Duration::from_secs(30),
            cancel: CancellationToken::new(),
        }
    }

    async fn run(self, engine: &Engine, text: &str) -> (RunOutcome, Vec<RunEvent>) {
        let saved: Vec<(&str, ConnectionType)> = self
            .connections
            .iter()
            .map(|c| (c.name(), ConnectionType::Custom))
            .collect();
        let flow = valid(&self.yaml, &saved);
        let flow = Arc::new((*flow).clone().with_base_dir(self.dir));
        let request = RunRequest {
            run_id: "python-run".into(),
            flow,
            inputs: serde_json::from_value(json!({ "text": text })).unwrap(),
            connections: source(self.connections),
            cancel: self.cancel,
            node_timeout: self.timeout,
            plan: Plan::All,
            reuse: Reuse::default(),
        };
        let (events, mut received) = mpsc::unbounded_channel();
        let outcome = engine.run(request, events).await.unwrap();
        let mut seen = Vec::new();
        while let Ok(event) = received.try_recv() {
            seen.push(event);
        }
        (outcome, seen)
    }
}

fn error(outcome: &RunOutcome) -> String {
    assert_eq!(outcome.status, RunStatus::Failed, "{outcome:#?}");
    assert_eq!(outcome.nodes["python"].state, NodeState::Failed);
    outcome.nodes["python"].error.clone().unwrap()
}

fn log(events: &[RunEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Token { node, text } if node == "python" => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

const ECHO: &str = r#"
from promptflow.core import tool

@tool
def shout(text: str, times: int = 1) -> dict:
    print("shouting", text)
    return {"text": text.upper() * times, "length": len(text)}
"#;

#[tokio::test]
async fn a_tool_function_gets_its_inputs_and_its_json_result_is_the_output() {
    let dir = folder("basic", &[("tools/echo.py", ECHO)]);
    let yaml = flow(
        "",
        "      source: tools/echo.py\n      inputs: { text: \"${inputs.text}\", times: 2 }",
    );
    let pools = PythonPools::with_size(2);
    let (outcome, events) = Call::new(&dir, yaml).run(&engine(&pools), "hi").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(
        outcome.outputs["answer"],
        json!({"text": "HIHI", "length": 2})
    );
    // print() is the node's log, not part of the protocol.
    assert_eq!(log(&events), "shouting hi\n");
}

#[tokio::test]
async fn prompt_flow_imports_and_connection_classes_work_without_prompt_flow() {
    let code = r#"
from promptflow import tool
from promptflow.connections import (CustomConnection, AzureOpenAIConnection, OpenAIConnection,
    ServerlessConnection, CognitiveSearchConnection, SerpConnection, AzureContentSafetyConnection)

@tool
def classes(text: str) -> dict:
    conn = AzureOpenAIConnection(api_key="k", api_base="https://a", api_version="2024-02-01")
    return {"api_type": conn.api_type, "base": conn["api_base"],
            "serp": SerpConnection(api_key="s").api_key,
            "custom": isinstance(CustomConnection(configs={}, secrets={}), CustomConnection)}
"#;
    let dir = folder("compat", &[("pf.py", code)]);
    let yaml = flow("", "      source: pf.py\n      inputs: { text: x }");
    let (outcome, _) = Call::new(&dir, yaml)
        .run(&engine(&PythonPools::with_size(1)), "x")
        .await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    assert_eq!(
        outcome.outputs["answer"],
        json!({"api_type": "azure", "base": "https://a", "serp": "s", "custom": true})
    );
}

#[tokio::test]
async fn a_custom_connections_secret_reaches_the_function_and_nothing_recorded_shows_it() {
    let code = r#"
from promptflow.core import tool
from promptflow.connections import CustomConnection

@tool
def use(text: str, conn: CustomConnection) -> dict:
    print("key is", conn.api_key)
    assert conn["api_key"] == conn.secrets["api_key"]
    if text == "fail":
        raise ValueError("bad key " + conn.api_key)
    return {"base": conn.configs["base_url"], "key": conn.api_key, "typed": isinstance(conn, CustomConnection)}
"#;
    let dir = folder("secret", &[("use.py", code)]);
    let yaml = flow(
        "",
        "      source: use.py\n      inputs: { text: \"${inputs.text}\" }\n      connections: { conn: tracker }",
    );
    let tracker = ResolvedConnection::Custom(CustomSettings {
        name: "tracker".into(),
        configs: BTreeMap::from([("base_url".into(), "http://127.0.0.1:9".into())]),
        secrets: BTreeMap::from([("api_key".into(), ApiKey::new(SECRET))]),
    });
    let engine = engine(&PythonPools::with_size(1));
    let mut call = Call::new(&dir, yaml.clone());
    call.connections = vec![tracker.clone()];
    let (outcome, events) = call.run(&engine, "ok").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
    let output = &outcome.nodes["python"].output;
    assert_eq!(
        output.as_ref().unwrap()["base"],
        json!("http://127.0.0.1:9")
    );
    assert_eq!(output.as_ref().unwrap()["typed"], json!(true));
    // The function had the key (it returned and printed it); the record and the log mask it.
    assert!(log(&events).starts_with("key is "), "{}", log(&events));
    let all = reported(&outcome, &events);
    assert!(!all.contains(SECRET), "{all}");

    let mut call = Call::new(&dir, yaml);
    call.connections = vec![tracker];
    let (outcome, events) = call.run(&engine, "fail").await;
    let message = error(&outcome);
    assert!(message.starts_with("ValueError: bad key "), "{message}");
    assert!(!reported(&outcome, &events).contains(SECRET));
}

#[tokio::test]
async fn an_exception_shows_its_type_message_and_the_users_file_and_line() {
    let code = "from promptflow.core import tool\n\n@tool\ndef boom(text):\n    return helper(text)\n\ndef helper(text):\n    raise KeyError(text)\n";
    let dir = folder("raise", &[("boom.py", code)]);
    let yaml = flow(
        "",
        "      source: boom.py\n      inputs: { text: \"${inputs.text}\" }",
    );
    let (outcome, _) = Call::new(&dir, yaml)
        .run(&engine(&PythonPools::with_size(1)), "missing")
        .await;
    assert_eq!(error(&outcome), "KeyError: 'missing' at boom.py:8");
}

#[tokio::test]
async fn a_missing_module_names_it_and_how_to_install_it() {
    let code = "import weft_no_such_module_xyz\nfrom promptflow.core import tool\n\n@tool\ndef f(text):\n    return text\n";
    let dir = folder("module", &[("needs.py", code)]);
    let yaml = flow("", "      source: needs.py\n      inputs: { text: x }");
    let (outcome, _) = Call::new(&dir, yaml)
        .run(&engine(&PythonPools::with_size(1)), "x")
        .await;
    let message = error(&outcome);
    assert!(
        message.contains("`weft_no_such_module_xyz` is not installed for `python3`"),
        "{message}"
    );
    assert!(
        message.contains("run `python3 -m pip install weft_no_such_module_xyz`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_interpreter_is_named_with_how_to_choose_one() {
    let dir = folder("interp", &[("tools/echo.py", ECHO)]);
    let yaml = flow(
        "python:\n  interpreter: .venv/bin/python",
        "      source: tools/echo.py\n      inputs: { text: x }",
    );
    let (outcome, _) = Call::new(&dir, yaml)
        .run(&engine(&PythonPools::with_size(1)), "x")
        .await;
    let message = error(&outcome);
    assert!(
        message.contains(".venv/bin/python` (not found)"),
        "{message}"
    );
    assert!(message.contains("python: { interpreter:"), "{message}");
}

#[tokio::test]
async fn a_missing_source_file_or_a_file_without_a_tool_fails_the_node_clearly() {
    let dir = folder("nofile", &[("plain.py", "def f(text):\n    return text\n")]);
    let engine = engine(&PythonPools::with_size(1));
    let yaml = flow("", "      source: gone.py\n      inputs: { text: x }");
    let (outcome, _) = Call::new(&dir, yaml).run(&engine, "x").await;
    assert!(error(&outcome).starts_with("cannot find `gone.py`"));
    let yaml = flow("", "      source: plain.py\n      inputs: { text: x }");
    let (outcome, _) = Call::new(&dir, yaml).run(&engine, "x").await;
    let message = error(&outcome);
    assert!(
        message.contains("`plain.py` has 0 @tool functions"),
        "{message}"
    );
}

#[tokio::test]
async fn input_reads_nothing_and_a_result_that_is_not_json_is_named() {
    let code = "from promptflow.core import tool\n\n@tool\ndef ask(text):\n    try:\n        got = input()\n    except EOFError:\n        got = 'eof'\n    return {'got': got} if text == 'ok' else {1, 2}\n";
    let dir = folder("stdin", &[("ask.py", code)]);
    let yaml = flow(
        "",
        "      source: ask.py\n      inputs: { text: \"${inputs.text}\" }",
    );
    let engine = engine(&PythonPools::with_size(1));
    let (outcome, _) = Call::new(&dir, yaml.clone()).run(&engine, "ok").await;
    assert_eq!(
        outcome.outputs["answer"],
        json!({"got": "eof"}),
        "{outcome:#?}"
    );
    let (outcome, _) = Call::new(&dir, yaml.clone()).run(&engine, "set").await;
    assert_eq!(
        error(&outcome),
        "`ask` returned a set, which is not JSON; return a dict, list, text, number, bool or None"
    );
    // The worker still serves the next call.
    let (outcome, _) = Call::new(&dir, yaml).run(&engine, "ok").await;
    assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
}

const PID: &str = r#"
import os
from promptflow.core import tool

@tool
def pid(text):
    return os.getpid()
"#;

#[tokio::test]
async fn workers_are_reused_across_calls() {
    let dir = folder("reuse", &[("pid.py", PID)]);
    let yaml = flow("", "      source: pid.py\n      inputs: { text: x }");
    let pools = PythonPools::with_size(2);
    let engine = Arc::new(engine(&pools));
    let mut pids = std::collections::BTreeSet::new();
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (engine, dir, yaml) = (engine.clone(), dir.clone(), yaml.clone());
        runs.spawn(async move { Call::new(&dir, yaml).run(&engine, "x").await.0 });
    }
    while let Some(outcome) = runs.join_next().await {
        let outcome = outcome.unwrap();
        assert_eq!(outcome.status, RunStatus::Succeeded, "{outcome:#?}");
        pids.insert(outcome.outputs["answer"].as_u64().unwrap());
    }
    assert!(pids.len() <= 2, "{pids:?}");
    assert!(pools.started() <= 2, "{} started", pools.started());
}

const SLOW: &str = r#"
import os, time
from promptflow.core import tool

@tool
def slow(text):
    if text == "slow":
        time.sleep(60)
    return os.getpid()
"#;

/// One worker of SLOW in a pool of one, which has answered a fast call with its pid.
struct Slow {
    dir: PathBuf,
    yaml: String,
    pools: PythonPools,
    engine: Engine,
    pid: u64,
}

impl Slow {
    async fn start(name: &str) -> Self {
        let dir = folder(name, &[("slow.py", SLOW)]);
        let yaml = flow(
            "",
            "      source: slow.py\n      inputs: { text: \"${inputs.text}\" }",
        );
        let pools = PythonPools::with_size(1);
        let engine = engine(&pools);
        let (outcome, _) = Call::new(&dir, yaml.clone()).run(&engine, "fast").await;
        let pid = outcome.outputs["answer"].as_u64().unwrap();
        Self {
            dir,
            yaml,
            pools,
            engine,
            pid,
        }
    }
}

#[tokio::test]
async fn a_timeout_kills_the_stuck_worker_and_the_next_call_gets_a_new_one() {
    let Slow {
        dir,
        yaml,
        pools,
        engine,
        pid: first,
    } = Slow::start("timeout").await;

    let started = Instant::now();
    let mut call = Call::new(&dir, yaml.clone());
    call.timeout = Duration::from_millis(700);
    let (outcome, _) = call.run(&engine, "slow").await;
    assert!(error(&outcome).contains("timeout"), "{outcome:#?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    gone(first).await;

    let (outcome, _) = Call::new(&dir, yaml).run(&engine, "fast").await;
    let second = outcome.outputs["answer"].as_u64().unwrap();
    assert_ne!(first, second);
    assert_eq!(pools.started(), 2);
}

#[tokio::test]
async fn cancel_kills_the_call_in_flight() {
    // The pool is held to the end, as the engine's workers are.
    let Slow {
        dir,
        yaml,
        pools: _pools,
        engine,
        pid,
    } = Slow::start("cancel").await;

    let started = Instant::now();
    let mut call = Call::new(&dir, yaml);
    call.cancel = cancel_after(Duration::from_millis(500));
    let (outcome, _) = call.run(&engine, "slow").await;
    assert_eq!(outcome.status, RunStatus::Cancelled, "{outcome:#?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    gone(pid).await;
}

/// The process `pid` has exited (within a few seconds: the kill is sent as the call drops).
async fn gone(pid: u64) {
    for _ in 0..50 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let zombie = status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'));
        if status.is_empty() || zombie {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("worker {pid} still runs");
}
