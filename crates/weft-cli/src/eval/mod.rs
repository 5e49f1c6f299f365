//! `weft eval`: an evaluation file's flow over its data once per variant, every row checked by
//! its assertions, in the same engine and store as the app's Evaluate panel. Exit codes, the
//! `--json` report and the JUnit file are a contract (docs/cli.md).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Subcommand;
use weft_core::{AppCore, Concurrency, EvalOrder, EvalReport, EvalStatus, new_run_id};
use weft_eval::{JunitInput, JunitRow, JunitSuite, RowVerdict, junit};

use crate::cassette::{CassetteArgs, InUse, closing};
use crate::{CliError, Exit, open_core};

mod progress;
mod table;

use progress::Progress;

#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// Run an evaluation file (*.eval.yaml): its flow over its data once per variant, each row
    /// checked by its assertions. Exit 0 every threshold holds, 2 one does not, 1 it could not
    /// run, 130 cancelled.
    Run {
        file: PathBuf,
        /// Run only this variant (repeat for more); else every variant of the file.
        #[arg(long = "variant", value_name = "NAME")]
        variants: Vec<String>,
        /// A stored eval run (its id or first characters) to list the rows that changed against.
        #[arg(long, value_name = "EVAL")]
        baseline: Option<String>,
        /// Also write the results as JUnit XML to FILE: a test suite per variant, a test case
        /// per row.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Rows in flight per variant: `auto` (adapts to the service's rate limits) or a
        /// number, 1 to 1024.
        #[arg(long, default_value = "auto", value_name = "N|auto")]
        concurrency: Concurrency,
        /// Seconds one node of one row may take, retries included (judges too).
        #[arg(long, default_value_t = 300, value_name = "SECS")]
        node_timeout: u64,
        #[command(flatten)]
        cassette: CassetteArgs,
    },
    /// One stored eval run: per variant its results, the thresholds and the changed rows.
    Show {
        /// The eval run's id, or its first characters (at least 4).
        eval_id: String,
        #[arg(long)]
        json: bool,
        /// Write its results as JUnit XML to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Recent eval runs, newest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

pub(crate) fn run(command: EvalCommand, profile: Option<&str>) -> Exit {
    match command {
        EvalCommand::Run {
            file,
            variants,
            baseline,
            junit,
            json,
            concurrency,
            node_timeout,
            cassette,
        } => {
            let order = EvalOrder {
                eval_id: new_run_id(),
                path: std::fs::canonicalize(&file).unwrap_or(file),
                variants,
                baseline,
                concurrency,
                node_timeout: Duration::from_secs(node_timeout),
                cassette: None,
            };
            match start(profile, order, &cassette, Printing { json, junit }) {
                Ok(exit) => exit,
                // Whatever stops an eval before its verdict is "could not run", even what
                // other commands call a usage error: scripts tell it from a failed threshold.
                Err(err) => {
                    eprintln!("weft: {err}");
                    Exit::Failure
                }
            }
        }
        EvalCommand::Show {
            eval_id,
            json,
            junit,
        } => crate::report(show(&eval_id, json, junit.as_deref())),
        EvalCommand::List { json, limit } => crate::report(list(json, limit)),
    }
}

/// What `weft eval run` prints besides its progress.
struct Printing {
    json: bool,
    junit: Option<PathBuf>,
}

fn start(
    profile: Option<&str>,
    mut order: EvalOrder,
    cassette: &CassetteArgs,
    printing: Printing,
) -> Result<Exit, CliError> {
    let core = Arc::new(open_core(profile)?);
    let cassette = cassette.open()?;
    order.cassette = cassette.as_ref().map(|open| open.cassette());
    let result = evaluate(&core, order, cassette.as_ref());
    let (report, cancelled) = closing(cassette.as_ref(), result)?;
    print_report(&core, &report, &printing)?;
    Ok(exit_for(&report, cancelled))
}

/// Runs the eval with its progress on stderr; a first Ctrl-C cancels it (what was checked is
/// kept and reported), a second quits at once. Returns the report and whether it was
/// cancelled here.
fn evaluate(
    core: &Arc<AppCore>,
    order: EvalOrder,
    cassette: Option<&InUse>,
) -> Result<(EvalReport, bool), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| CliError::Runtime(format!("could not start the async runtime: {err}")))?;
    let eval_id = order.eval_id.clone();
    let cancelled = AtomicBool::new(false);
    let report = runtime.block_on(async {
        let (events, received) = tokio::sync::mpsc::unbounded_channel();
        let progress = Progress::new(std::io::stderr().is_terminal());
        let notices = progress.bar();
        let printer = tokio::spawn(progress.print(received));
        let work = core.run_eval(order, events);
        tokio::pin!(work);
        let report = tokio::select! {
            report = &mut work => report,
            Ok(()) = tokio::signal::ctrl_c() => {
                cancelled.store(true, Ordering::SeqCst);
                progress::notice(notices.as_ref(), "cancelling: rows in flight finish or are cancelled; Ctrl-C again to quit at once");
                core.cancel_run(&eval_id);
                tokio::select! {
                    report = &mut work => report,
                    Ok(()) = tokio::signal::ctrl_c() => {
                        progress::notice(notices.as_ref(), "quit before the eval stopped");
                        // What was recorded so far is kept all the same.
                        if let Some(Err(err)) = cassette.map(InUse::close) {
                            progress::notice(notices.as_ref(), &format!("weft: {err}"));
                        }
                        std::process::exit(Exit::Cancelled as i32);
                    }
                }
            }
        };
        let _ = printer.await;
        report
    })?;
    Ok((report, cancelled.load(Ordering::SeqCst)))
}

fn print_report(core: &AppCore, report: &EvalReport, printing: &Printing) -> Result<(), CliError> {
    if let Some(path) = &printing.junit {
        write_junit(core, report, path)?;
    }
    if printing.json {
        let text =
            serde_json::to_string(report).map_err(|err| CliError::Runtime(err.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", table::render(report));
    }
    if let Some(message) = &report.message {
        eprintln!("weft: {message}");
    }
    Ok(())
}

/// The exit code of an eval that returned a report: the contract in docs/cli.md.
fn exit_for(report: &EvalReport, cancelled: bool) -> Exit {
    match report.status {
        _ if cancelled => Exit::Cancelled,
        EvalStatus::Cancelled => Exit::Cancelled,
        EvalStatus::Finished if report.passed => Exit::Ok,
        EvalStatus::Finished => Exit::Usage,
        // It stopped before its verdict: no threshold was decided.
        EvalStatus::Failed | EvalStatus::Running => Exit::Failure,
    }
}

fn show(eval_id: &str, json: bool, junit: Option<&Path>) -> Result<(), CliError> {
    let core = open_core(None)?;
    let report = core.eval_report(eval_id)?;
    if let Some(path) = junit {
        write_junit(&core, &report, path)?;
    }
    if json {
        let text =
            serde_json::to_string(&report).map_err(|err| CliError::Runtime(err.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", table::render(&report));
    }
    Ok(())
}

fn list(json: bool, limit: u32) -> Result<(), CliError> {
    let core = open_core(None)?;
    let evals = core.evals(limit)?;
    if json {
        let text =
            serde_json::to_string(&evals).map_err(|err| CliError::Runtime(err.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    print!("{}", table::list(&evals));
    Ok(())
}

/// Rows are read from the store a page at a time.
const ROWS_PAGE: u32 = 1000;

/// A row's verdict under one variant, as the JUnit file reports it.
struct Checked {
    row: u64,
    verdict: RowVerdict,
    latency_ms: f64,
}

/// Every row's verdict under each variant, grouped by variant in the report's order.
fn verdicts(core: &AppCore, report: &EvalReport) -> Result<Vec<Vec<Checked>>, CliError> {
    let mut suites: Vec<Vec<Checked>> = report.variants.iter().map(|_| Vec::new()).collect();
    let mut offset = 0;
    loop {
        let page = core.eval_rows(&report.eval_id, offset, ROWS_PAGE)?;
        let count = page.len();
        for row in page {
            for cell in row.cells {
                let Some(suite) = report
                    .variants
                    .iter()
                    .position(|summary| summary.variant == cell.variant)
                else {
                    continue;
                };
                suites[suite].push(Checked {
                    row: row.row,
                    verdict: RowVerdict {
                        pass: cell.pass,
                        score: cell.score,
                        verdicts: cell.verdicts,
                        cost: cell.cost,
                    },
                    latency_ms: cell.latency_ms,
                });
            }
        }
        if count < ROWS_PAGE as usize {
            return Ok(suites);
        }
        offset += count as u64;
    }
}

/// Writes the report as JUnit XML, whole or not at all (a partial file beside it, renamed).
fn write_junit(core: &AppCore, report: &EvalReport, path: &Path) -> Result<(), CliError> {
    let rows = verdicts(core, report)?;
    let suites = report
        .variants
        .iter()
        .zip(&rows)
        .map(|(summary, rows)| JunitSuite {
            summary,
            rows: rows
                .iter()
                .map(|checked| JunitRow {
                    row: checked.row,
                    verdict: &checked.verdict,
                    latency_ms: checked.latency_ms,
                })
                .collect(),
        })
        .collect();
    let xml = junit(&JunitInput {
        name: &report.name,
        suites,
    });
    let partial = path.with_extension("partial");
    std::fs::write(&partial, xml)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|err| {
            let _ = std::fs::remove_file(&partial);
            CliError::Runtime(format!(
                "could not write {}: {err}; check the folder exists and you may write there",
                path.display()
            ))
        })
}
