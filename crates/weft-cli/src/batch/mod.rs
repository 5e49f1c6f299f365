//! `weft batch`: a flow over every row of a JSONL or CSV file, in the same engine and store as the
//! app's Batch panel. Exit codes and `--json` shapes are a contract (docs/cli.md).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use tokio::sync::mpsc::UnboundedSender;
use weft_batch::ColumnMapping;
use weft_core::{
    AppCore, AppError, BatchEngine, BatchEvent, BatchOrder, BatchStatus, BatchSummary, Concurrency,
    ExportFormat, new_run_id,
};

use crate::cassette::{CassetteArgs, InUse, closing};
use crate::{CliError, Exit, open_core};

mod progress;
mod show;

use progress::{Progress, notice, render_summary};
use show::{export, list, show};

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Run a flow once per row of a JSONL or CSV file. Exit 0 every row succeeded, 3 some rows
    /// failed, 1 it could not start (bad file, mapping or flow), 130 cancelled.
    Run {
        flow: PathBuf,
        /// The rows: JSONL (.jsonl, .ndjson: one object per line) or CSV (.csv, header row).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Fill a flow input: INPUT='${data.COLUMN}' or INPUT=TEXT. Unmapped inputs take their
        /// default, else the column of the same name.
        #[arg(long = "column-mapping", value_name = "INPUT=VALUE")]
        mapping: Vec<String>,
        /// Rows in flight: `auto` (adapts to the service's rate limits) or a number, 1 to 1024.
        #[arg(long, default_value = "auto", value_name = "N|auto")]
        concurrency: Concurrency,
        /// A name to find the batch by in `weft batch list` and the app.
        #[arg(long)]
        name: Option<String>,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
        /// Seconds one node of one row may take, retries included.
        #[arg(long, default_value_t = 300, value_name = "SECS")]
        node_timeout: u64,
        /// Where the model calls run: `local` (from this machine, row by row) or `azure-batch`
        /// (the Azure OpenAI Batch API: one model call per row in one uploaded file, answered
        /// within 24 h at batch prices; the connection must be an Azure resource with a
        /// Global-Batch deployment). Azure is polled every 60 s.
        #[arg(long, default_value = "local", value_name = "local|azure-batch")]
        engine: BatchEngine,
        #[command(flatten)]
        cassette: CassetteArgs,
    },
    /// Run the rows of a batch that did not succeed (after a crash, a kill or Ctrl-C), with the
    /// flow as it was when the batch started. Exit codes as for `run`.
    Resume {
        /// The batch id, or its first characters (at least 4).
        batch_id: String,
        /// Rows in flight; else the batch's own setting.
        #[arg(long, value_name = "N|auto")]
        concurrency: Option<Concurrency>,
        #[arg(long)]
        json: bool,
    },
    /// One batch: status, counts and settings; with --rows one line per row.
    Show {
        /// The batch id, or its first characters (at least 4).
        batch_id: String,
        /// Also list every row: row, status, latency and error.
        #[arg(long)]
        rows: bool,
        #[arg(long)]
        json: bool,
    },
    /// Recent batches, newest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Each row's inputs, outputs, status, error, latency and tokens (secrets as ******).
    Export {
        /// The batch id, or its first characters (at least 4).
        batch_id: String,
        #[arg(long, value_name = "jsonl|csv")]
        format: ExportFormat,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub(crate) fn run(command: BatchCommand, profile: Option<&str>) -> Exit {
    let result = match command {
        BatchCommand::Run {
            flow,
            data,
            mapping,
            concurrency,
            name,
            json,
            node_timeout,
            engine,
            cassette,
        } => mapping_pairs(&mapping).and_then(|mapping| {
            let cassette = cassette.open()?;
            let order = BatchOrder {
                batch_id: new_run_id(),
                name,
                flow_path: absolute(&flow),
                data_path: absolute(&data),
                mapping,
                concurrency,
                node_timeout: Duration::from_secs(node_timeout),
                engine,
                cassette: cassette.as_ref().map(InUse::cassette),
            };
            let ran = start(profile, Launch::New(order), json, cassette.as_ref());
            closing(cassette.as_ref(), ran)
        }),
        BatchCommand::Resume {
            batch_id,
            concurrency,
            json,
        } => start(
            profile,
            Launch::Resume {
                batch_id,
                concurrency,
            },
            json,
            None,
        ),
        BatchCommand::Show {
            batch_id,
            rows,
            json,
        } => return crate::report(show(&batch_id, rows, json)),
        BatchCommand::List { json, limit } => return crate::report(list(json, limit)),
        BatchCommand::Export {
            batch_id,
            format,
            out,
        } => return crate::report(export(&batch_id, format, out.as_deref())),
    };
    match result {
        Ok(exit) => exit,
        // Whatever stops a batch before it runs is "could not run" (exit 1), even what other
        // commands call a usage error: the contract for batch.
        Err(err) => {
            eprintln!("weft: {err}");
            Exit::Failure
        }
    }
}

/// What `run` and `resume` start.
enum Launch {
    New(BatchOrder),
    Resume {
        /// As given: the whole id or its first characters.
        batch_id: String,
        concurrency: Option<Concurrency>,
    },
}

/// `--column-mapping` pairs, read as weft-batch reads them (one mapping per input, `${data.COL}`
/// or static text), into the map a batch order carries.
fn mapping_pairs(pairs: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    ColumnMapping::parse(pairs)
        .map(|mapping| mapping.to_map())
        .map_err(|err| CliError::Usage(format!("--column-mapping: {err}")))
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// Runs the batch with its progress on stderr; `cassette` is the one its order carries, saved
/// here only when a second Ctrl-C quits at once (else the caller saves it).
fn start(
    profile: Option<&str>,
    launch: Launch,
    json: bool,
    cassette: Option<&InUse>,
) -> Result<Exit, CliError> {
    let core = Arc::new(open_core(profile)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| CliError::Runtime(format!("could not start the async runtime: {err}")))?;
    // The whole id: the one Ctrl-C cancels.
    let (batch_id, launch) = match launch {
        Launch::New(order) => (order.batch_id.clone(), Launch::New(order)),
        Launch::Resume {
            batch_id,
            concurrency,
        } => {
            let batch_id = core.batch(&batch_id)?.id;
            (
                batch_id.clone(),
                Launch::Resume {
                    batch_id,
                    concurrency,
                },
            )
        }
    };
    let summary = runtime.block_on(async {
        let (events, received) = tokio::sync::mpsc::unbounded_channel();
        let progress = Progress::new(std::io::stderr().is_terminal());
        let notices = progress.bar.clone();
        let printer = tokio::spawn(progress.print(received));
        let work = launch.run(&core, events);
        tokio::pin!(work);
        let summary = tokio::select! {
            summary = &mut work => summary,
            Ok(()) = tokio::signal::ctrl_c() => {
                notice(notices.as_ref(), "cancelling: rows in flight finish or are marked cancelled; Ctrl-C again to quit at once");
                core.cancel_run(&batch_id);
                tokio::select! {
                    summary = &mut work => summary,
                    Ok(()) = tokio::signal::ctrl_c() => {
                        // Rows already committed are kept: SQLite wrote them in transactions.
                        notice(notices.as_ref(), "quit before the batch stopped");
                        // The calls recorded so far are kept too.
                        if let Some(Err(err)) = cassette.map(InUse::close) {
                            notice(notices.as_ref(), &format!("weft: {err}"));
                        }
                        std::process::exit(Exit::Cancelled as i32);
                    }
                }
            }
        };
        let _ = printer.await;
        summary
    })?;
    if json {
        let text =
            serde_json::to_string(&summary).map_err(|err| CliError::Runtime(err.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", render_summary(&summary));
    }
    if let Some(message) = &summary.message {
        eprintln!("weft: {message}");
    }
    Ok(exit_for(&summary))
}

impl Launch {
    async fn run(
        self,
        core: &Arc<AppCore>,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        match self {
            Launch::New(order) => core.run_batch(order, events).await,
            Launch::Resume {
                batch_id,
                concurrency,
            } => core.resume_batch(&batch_id, concurrency, events).await,
        }
    }
}

/// The exit code of a batch that ran: the contract in docs/cli.md.
fn exit_for(summary: &BatchSummary) -> Exit {
    match summary.status {
        BatchStatus::Succeeded => Exit::Ok,
        BatchStatus::Cancelled => Exit::Cancelled,
        // Stopped: the circuit breaker ended it after calls were made, so rows are left that
        // did not succeed; resume runs them once the cause is fixed.
        BatchStatus::Failed | BatchStatus::Stopped => Exit::Failed,
        // A batch that returned is not running any more; should the core say so, it is no
        // success a script may rely on.
        BatchStatus::Running | BatchStatus::Interrupted => Exit::Failure,
    }
}

/// A batch's rows and how they ended, as the summary and `weft batch show` word it.
fn rows_ended(
    total: impl std::fmt::Display,
    succeeded: u64,
    failed: u64,
    cancelled: u64,
) -> String {
    format!("{total} ({succeeded} succeeded, {failed} failed, {cancelled} cancelled)")
}

/// An id as the user types it back: its first characters.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_pairs_split_at_the_first_equals_sign_once_per_input() {
        let pairs = mapping_pairs(&["q=${data.question}".into(), "tone=a=b".into()]).unwrap();
        assert_eq!(pairs["q"], "${data.question}");
        assert_eq!(pairs["tone"], "a=b");
        let err = mapping_pairs(&["question".into()]).unwrap_err();
        assert!(err.to_string().starts_with("--column-mapping: "), "{err}");
        let twice = mapping_pairs(&["q=a".into(), "q=b".into()]).unwrap_err();
        assert!(twice.to_string().contains("mapped twice"), "{twice}");
    }
}
