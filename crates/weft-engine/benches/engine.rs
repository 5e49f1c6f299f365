//! Engine overhead against a zero-latency endpoint on 127.0.0.1: one Chat completion node, and a
//! chain of 50 of them. Run: cargo bench -p weft-engine
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{ApiKey, Credential, Endpoint, RetryPolicy, Timeouts};
use weft_engine::services::Services;
use weft_engine::{ConnectionSource, Engine, ResolvedConnection, RunRequest, RunStatus, Target};
use weft_flow::{ConnectionType, Context, FlowDocument, SavedConnection, ValidFlow};

fn main() {
    divan::main();
}

struct One(Target);

impl ConnectionSource for One {
    fn connection(&self, _: &str) -> Result<ResolvedConnection, String> {
        Ok(ResolvedConnection::Model(self.0.clone()))
    }
}

fn chain(length: usize) -> ValidFlow {
    let mut yaml = String::from("schema: 1\ninputs:\n  question: { type: string }\noutputs:\n");
    yaml += &format!(
        "  answer: {{ value: \"${{n{}.output}}\" }}\nnodes:\n",
        length - 1
    );
    for i in 0..length {
        let source = if i == 0 {
            "${inputs.question}".to_owned()
        } else {
            format!("${{n{}.output}}", i - 1)
        };
        yaml += &format!(
            "  - {{ id: n{i}, type: chat_completion, position: {{ x: {x}, y: 0 }}, properties: {{ connection: azure-ai, deployment: d, user_prompt: \"{{{{ q }}}}\", variables: {{ q: \"{source}\" }} }} }}\n",
            x = i * 300
        );
    }
    let context = Context {
        connections: vec![SavedConnection::new("azure-ai", ConnectionType::AzureAi)],
        strict: false,
    };
    weft_flow::validation(&FlowDocument::parse(&yaml).unwrap(), &context)
        .valid
        .expect("the benchmark's chain validates")
}

fn bench_flow(bencher: divan::Bencher, length: usize) {
    let base =
        weft_testkit::serve_forever(&weft_testkit::chat_stream(&["Weft ", "runs ", "flows."]));
    let endpoint = Endpoint::ModelInference {
        endpoint: Url::parse(&format!("{base}/models")).unwrap(),
        api_version: "v".into(),
    };
    let connections = Arc::new(One(Target {
        name: "azure-ai".into(),
        endpoint,
        credential: Credential::Key(ApiKey::new("bench-key")),
    }));
    let engine = Engine::new(Services::from_client(
        weft_ai::Client::new(Timeouts::default(), RetryPolicy::default()).unwrap(),
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let flow = Arc::new(chain(length));
    let inputs: Map<String, Value> =
        Map::from_iter([("question".to_owned(), Value::String("hi".into()))]);
    let run = || {
        runtime.block_on(async {
            let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
            let request = RunRequest {
                run_id: "bench".into(),
                flow: flow.clone(),
                inputs: inputs.clone(),
                connections: connections.clone(),
                cancel: CancellationToken::new(),
                node_timeout: Duration::from_secs(30),
                plan: weft_engine::Plan::All,
                reuse: weft_engine::Reuse::default(),
            };
            let drain = tokio::spawn(async move { while received.recv().await.is_some() {} });
            let outcome = engine.run(request, events).await.unwrap();
            drain.await.unwrap();
            assert_eq!(outcome.status, RunStatus::Succeeded);
            outcome
        })
    };
    run(); // warm the connection pool
    bencher.bench_local(run);
}

#[divan::bench(sample_count = 500)]
fn one_chat_node(bencher: divan::Bencher) {
    bench_flow(bencher, 1);
}

#[divan::bench(sample_count = 50)]
fn chain_of_50_chat_nodes(bencher: divan::Bencher) {
    bench_flow(bencher, 50);
}
