use clap::Subcommand;
use serde_json::Value;
use weft_core::RunView;

use crate::cassette::{described, mark};
use crate::{CliError, open_core};

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// Recent runs, newest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One run: status, inputs, outputs and each node (secrets as ******).
    Show {
        /// The run id, or its first characters (at least 4).
        run_id: String,
        #[arg(long)]
        json: bool,
    },
}

/// A stored time (ms since the epoch) as RFC 3339, to the second.
pub(crate) fn when(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

fn json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|err| CliError::Runtime(err.to_string()))?;
    println!("{text}");
    Ok(())
}

pub(crate) fn run(command: RunsCommand) -> Result<(), CliError> {
    // History shows every profile's runs; none needs choosing.
    let core = open_core(None)?;
    match command {
        RunsCommand::List {
            json: as_json,
            limit,
        } => {
            let runs = core.list_runs(limit)?;
            if as_json {
                return json(&runs);
            }
            if runs.is_empty() {
                println!("no runs yet; start one with `weft flow run FILE`");
            }
            for run in &runs {
                let flow = std::path::Path::new(&run.flow_path)
                    .file_name()
                    .map_or(run.flow_path.clone(), |n| n.to_string_lossy().into_owned());
                let profile = run
                    .profile
                    .as_deref()
                    .map(|profile| format!("  [{profile}]"))
                    .unwrap_or_default();
                let cassette = run
                    .cassette
                    .as_ref()
                    .map(|used| format!("  ({})", mark(used)))
                    .unwrap_or_default();
                println!(
                    "{}  {}  {:<9}  {:>6} ms  {flow}{profile}{cassette}",
                    &run.id[..8],
                    when(run.started_at_ms),
                    run.status,
                    run.finished_at_ms - run.started_at_ms
                );
            }
            Ok(())
        }
        RunsCommand::Show {
            run_id,
            json: as_json,
        } => {
            let run = core.run(&run_id)?;
            if as_json {
                return json(&run);
            }
            print!("{}", render(&run));
            Ok(())
        }
    }
}

fn render(run: &RunView) -> String {
    let mut out = format!(
        "run      {}\nflow     {}\nprofile  {}\nstarted  {}\nstatus   {} in {} ms\ninputs   {}\noutputs  {}\n",
        run.id,
        run.flow_path,
        run.profile.as_deref().unwrap_or("(none)"),
        when(run.started_at_ms),
        run.status,
        run.finished_at_ms - run.started_at_ms,
        run.inputs,
        run.outputs
    );
    if let Some(used) = &run.cassette {
        out += &format!("cassette {}\n", described(used));
    }
    if let Value::Object(nodes) = &run.nodes {
        for (id, node) in nodes {
            let state = node["state"].as_str().unwrap_or("?");
            let latency = node["latency_ms"].as_f64().unwrap_or(0.0);
            let detail = match (&node["error"], &node["output"]) {
                (Value::String(error), _) => error.clone(),
                (_, Value::Null) => String::new(),
                (_, output) => output.to_string(),
            };
            out += &format!("  {id}: {state}, {latency:.0} ms  {detail}\n");
        }
    }
    out
}
