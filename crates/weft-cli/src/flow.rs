use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use serde_json::{Map, Value};
use weft_core::{AppCore, RunOrder, RunPlan, new_run_id};
use weft_engine::{Reuse, RunEvent, RunStatus};
use weft_flow::{FlowDocument, ValidFlow, ValueType};

use crate::cassette::{CassetteArgs, InUse, closing};
use crate::{CliError, open_core};

#[derive(Debug, Subcommand)]
pub(crate) enum FlowCommand {
    /// Check a flow without running it: exit 0 if valid, 2 if not, one problem per line.
    Validate {
        file: PathBuf,
        /// Treat template variables missing from `variables` as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Run a flow: outputs on stdout, progress on stderr. Exit 0 ok, 1 run failed, 2 invalid.
    Run {
        file: PathBuf,
        /// An input, NAME=VALUE; for secrets NAME=@env:VAR or NAME=@stdin.
        #[arg(long = "input", value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// A JSON object of inputs; --input values win over it.
        #[arg(long, value_name = "FILE")]
        input_file: Option<PathBuf>,
        /// Print the outputs as one JSON object.
        #[arg(long)]
        json: bool,
        /// Show chat tokens on stderr as they arrive.
        #[arg(long)]
        stream: bool,
        /// Seconds one node may take, retries included.
        #[arg(long, default_value_t = 300)]
        node_timeout: u64,
        /// Run only this node, on the values --given supplies for what it reads.
        #[arg(long, value_name = "NODE", conflicts_with = "from")]
        only: Option<String>,
        /// Run this node and what follows it; nodes before it take their --given value, or run.
        #[arg(long, value_name = "NODE")]
        from: Option<String>,
        /// Use VALUE (JSON, or else text) as NODE's output instead of running NODE.
        #[arg(long = "given", value_name = "NODE=VALUE")]
        given: Vec<String>,
        // Boxed: the flags would make this variant far larger than `Validate`.
        #[command(flatten)]
        cassette: Box<CassetteArgs>,
    },
}

pub(crate) fn run(command: FlowCommand, profile: Option<&str>) -> Result<(), CliError> {
    match command {
        FlowCommand::Validate { file, strict } => {
            let core = open_core(profile)?;
            let flow = load(&core, &file, strict, &mut std::io::stdout())?;
            let nodes = flow.document().nodes.len();
            println!("{}: valid ({nodes} nodes)", file.display());
            Ok(())
        }
        FlowCommand::Run {
            file,
            inputs,
            input_file,
            json,
            stream,
            node_timeout,
            only,
            from,
            given,
            cassette,
        } => {
            let core = Arc::new(open_core(profile)?);
            let flow = load(&core, &file, false, &mut std::io::stderr())?;
            let inputs = gather_inputs(&flow, &inputs, input_file.as_deref())?;
            let plan = match (only, from) {
                (Some(node), _) => RunPlan::Only { node },
                (None, Some(node)) => RunPlan::From { node },
                (None, None) => RunPlan::All,
            };
            let given = gather_given(flow.document(), &given)?;
            let cassette = cassette.open()?;
            let ran = execute(
                core,
                &file,
                flow,
                inputs,
                Settings {
                    json,
                    stream,
                    node_timeout: Duration::from_secs(node_timeout),
                    plan,
                    given,
                    cassette: cassette.as_ref(),
                },
            );
            closing(cassette.as_ref(), ran)
        }
    }
}

/// Parses and validates (the one validation of a run); prints each finding to `out`. The flow,
/// ready to run, or an error counting its problems.
fn load(
    core: &AppCore,
    file: &Path,
    strict: bool,
    out: &mut dyn Write,
) -> Result<ValidFlow, CliError> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file)
        .map_err(|err| CliError::Usage(format!("could not read {name}: {err}")))?;
    let doc =
        FlowDocument::parse(&text).map_err(|err| CliError::Usage(format!("{name}: {err}")))?;
    // Connection names come from the store; no keychain is needed to check them.
    let checked = core.check_flow(&doc, strict)?;
    // Python nodes' files are relative to the flow file's folder: checked here, where it is known.
    let dir = flow_dir(file);
    let sources = weft_flow::kinds::python::check_sources(&doc, &dir);
    for diagnostic in checked.diagnostics.iter().chain(&sources) {
        let _ = writeln!(out, "{name}: {diagnostic}");
    }
    let errors = checked.errors().count() + sources.len();
    match checked.valid {
        Some(valid) if sources.is_empty() => Ok(valid.with_base_dir(dir)),
        _ => Err(CliError::Usage(format!(
            "{name} is not valid: {errors} error(s)"
        ))),
    }
}

/// The folder of the flow file, absolute when it can be made so.
fn flow_dir(file: &Path) -> std::path::PathBuf {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned())
}

fn gather_inputs(
    flow: &ValidFlow,
    given: &[String],
    file: Option<&Path>,
) -> Result<Map<String, Value>, CliError> {
    let mut inputs = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                CliError::Usage(format!("could not read {}: {err}", path.display()))
            })?;
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(CliError::Usage(format!(
                        "{} must hold one JSON object of inputs",
                        path.display()
                    )));
                }
            }
        }
        None => Map::new(),
    };
    let mut stdin_used = false;
    let doc = flow.document();
    // Marked secret, or feeding a dynamic connection's key.
    let secret = flow.secret_inputs();
    for pair in given {
        let (name, raw) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--input takes NAME=VALUE, got `{pair}`")))?;
        let name = name.trim();
        let spec = doc
            .inputs
            .get(name)
            .ok_or_else(|| CliError::Usage(format!("the flow has no input `{name}`")))?;
        let raw = if let Some(var) = raw.strip_prefix("@env:") {
            std::env::var(var).map_err(|_| {
                CliError::Usage(format!(
                    "input `{name}`: the environment variable {var} is not set"
                ))
            })?
        } else if raw == "@stdin" {
            if std::mem::replace(&mut stdin_used, true) {
                return Err(CliError::Usage(
                    "only one input can come from @stdin".into(),
                ));
            }
            if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("{name}: "))
                    .map_err(|err| CliError::Usage(err.to_string()))?
            } else {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|err| CliError::Usage(err.to_string()))?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            }
        } else if secret.contains(name) {
            // A literal stays in the shell's history and the process list.
            return Err(CliError::Usage(format!(
                "input `{name}` is secret: give it as --input {name}=@env:VAR or --input {name}=@stdin, not as text"
            )));
        } else {
            raw.to_owned()
        };
        let value = match spec.kind {
            ValueType::String => Value::String(raw),
            expected => serde_json::from_str(&raw).map_err(|_| {
                CliError::Usage(format!(
                    "input `{name}` should be {expected:?}, e.g. --input {name}=… as JSON"
                ))
            })?,
        };
        inputs.insert(name.to_owned(), value);
    }
    Ok(inputs)
}

/// Node outputs given on the command line, as if those nodes had run.
fn gather_given(doc: &FlowDocument, given: &[String]) -> Result<Reuse, CliError> {
    let mut reuse = Reuse::default();
    for pair in given {
        let (node, raw) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--given takes NODE=VALUE, got `{pair}`")))?;
        if !doc.nodes.iter().any(|n| n.id == node) {
            return Err(CliError::Usage(format!(
                "--given: the flow has no node `{node}`"
            )));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        reuse.set_output(node, value);
    }
    Ok(reuse)
}

/// How `weft flow run` runs and prints.
struct Settings<'a> {
    json: bool,
    stream: bool,
    node_timeout: Duration,
    plan: RunPlan,
    given: Reuse,
    cassette: Option<&'a InUse>,
}

fn execute(
    core: Arc<AppCore>,
    file: &Path,
    flow: ValidFlow,
    inputs: Map<String, Value>,
    settings: Settings<'_>,
) -> Result<(), CliError> {
    let Settings {
        json,
        stream,
        node_timeout,
        plan,
        given,
        cassette,
    } = settings;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| CliError::Usage(format!("could not start the async runtime: {err}")))?;
    let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    let run_id = new_run_id();
    let order = RunOrder {
        run_id: run_id.clone(),
        path: Some(path.display().to_string()),
        inputs,
        plan: plan.clone(),
        given,
        node_timeout,
        cassette: cassette.map(InUse::cassette),
    };
    let summary = runtime.block_on(async {
        let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
        let printer = tokio::spawn(async move {
            let mut streaming = false;
            while let Some(event) = received.recv().await {
                streaming = progress(&event, stream, streaming);
            }
        });
        let run = core.run_valid_flow(flow, order, events);
        tokio::pin!(run);
        let summary = tokio::select! {
            summary = &mut run => summary,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("cancelling…");
                core.cancel_run(&run_id);
                run.await
            }
        };
        let _ = printer.await;
        summary
    })?;
    let under = summary
        .profile
        .as_deref()
        .map(|profile| format!(" under profile {profile}"))
        .unwrap_or_default();
    eprintln!(
        "run {}{under} (weft runs show {})",
        summary.run_id,
        &summary.run_id[..8]
    );
    // A single node's run has no flow outputs; its own output is what was asked for.
    let outputs = match &plan {
        RunPlan::Only { node } => Map::from_iter([(
            node.clone(),
            summary
                .nodes
                .get(node)
                .and_then(|record| record.output.clone())
                .unwrap_or(Value::Null),
        )]),
        _ => summary.outputs,
    };
    if json {
        println!("{}", Value::Object(outputs));
    } else {
        for (name, value) in &outputs {
            match value {
                Value::String(text) => println!("{name}: {text}"),
                other => println!("{name}: {other}"),
            }
        }
    }
    match summary.status {
        RunStatus::Succeeded => Ok(()),
        RunStatus::Failed => Err(CliError::Runtime("the run failed".into())),
        RunStatus::Cancelled => Err(CliError::Runtime("the run was cancelled".into())),
    }
}

/// One progress line per event on stderr; streamed tokens inline. Returns whether a token line
/// is open.
fn progress(event: &RunEvent, stream: bool, streaming: bool) -> bool {
    let mut err = std::io::stderr().lock();
    let close = |err: &mut dyn Write| {
        if streaming {
            let _ = writeln!(err);
        }
    };
    match event {
        RunEvent::Token { text, .. } if stream => {
            let _ = write!(err, "{text}");
            let _ = err.flush();
            return true;
        }
        RunEvent::Token { .. } | RunEvent::RunStarted { .. } => return streaming,
        RunEvent::NodeStarted { node } => {
            close(&mut err);
            let _ = writeln!(err, "▶ {node}");
        }
        RunEvent::Retrying { node, message } => {
            close(&mut err);
            let _ = writeln!(err, "↻ {node}: {message}");
        }
        RunEvent::NodeFinished {
            node,
            latency_ms,
            usage,
            ..
        } => {
            close(&mut err);
            let tokens = usage
                .as_ref()
                .map(|u| format!(", {} tokens", u.total_tokens))
                .unwrap_or_default();
            let _ = writeln!(err, "✓ {node} {latency_ms:.0} ms{tokens}");
        }
        RunEvent::NodeFailed { node, error } => {
            close(&mut err);
            let _ = writeln!(err, "✗ {node}: {error}");
        }
        RunEvent::NodeSkipped { node, reason } => {
            close(&mut err);
            let _ = writeln!(err, "↷ {node} skipped: {reason}");
        }
        RunEvent::NodeReused { node } => {
            close(&mut err);
            let _ = writeln!(err, "= {node} reused");
        }
        RunEvent::RunFinished {
            status, latency_ms, ..
        } => {
            close(&mut err);
            let _ = writeln!(err, "{status:?} in {latency_ms:.0} ms");
        }
    }
    false
}
