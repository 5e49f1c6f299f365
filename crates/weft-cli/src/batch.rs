//! `weft batch`: a flow over every row of a JSONL or CSV file, in the same engine and store as the
//! app's Batch panel. Exit codes and `--json` shapes are a contract (docs/cli.md).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedSender;
use weft_batch::ColumnMapping;
use weft_core::{
    AppCore, AppError, BatchEngine, BatchEvent, BatchOrder, BatchProgress, BatchStatus,
    BatchSummary, BatchView, Concurrency, ExportFormat, RowFilter, new_run_id,
};

use crate::{CliError, Exit, open_core};

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
        } => mapping_pairs(&mapping).and_then(|mapping| {
            let order = BatchOrder {
                batch_id: new_run_id(),
                name,
                flow_path: absolute(&flow),
                data_path: absolute(&data),
                mapping,
                concurrency,
                node_timeout: Duration::from_secs(node_timeout),
                engine,
            };
            start(profile, Launch::New(order), json)
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

fn start(profile: Option<&str>, launch: Launch, json: bool) -> Result<Exit, CliError> {
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

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn seconds(ms: u64) -> String {
    // Precision in proportion: a 3.2 s batch and a 2 h one.
    let secs = ms as f64 / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
    }
}

fn render_summary(summary: &BatchSummary) -> String {
    format!(
        "batch      {}\nstatus     {}\nrows       {} ({} succeeded, {} failed, {} cancelled)\ntime       {}, {:.1} rows/s\nthrottled  {}\ntokens     {} prompt, {} completion\n",
        summary.batch_id,
        summary.status.as_str(),
        summary.total,
        summary.succeeded,
        summary.failed,
        summary.cancelled,
        seconds(summary.elapsed_ms),
        summary.rows_per_s,
        summary.throttles,
        summary.prompt_tokens,
        summary.completion_tokens,
    )
}

/// One plain progress line: what the bar shows, for logs and pipes.
fn progress_line(progress: &BatchProgress, pause: Option<&Pause>) -> String {
    let total = progress
        .total
        .map_or_else(|| "?".to_owned(), |total| total.to_string());
    format!(
        "{}/{total} rows, {}",
        progress.done,
        progress_detail(progress, pause)
    )
}

fn progress_detail(progress: &BatchProgress, pause: Option<&Pause>) -> String {
    let eta = progress
        .eta_ms
        .map(|ms| format!(", ETA {}", seconds(ms)))
        .unwrap_or_default();
    let pause = pause
        .map(|pause| {
            format!(
                "; {} asked to wait {}",
                pause.endpoint,
                seconds(pause.wait_ms)
            )
        })
        .unwrap_or_default();
    format!(
        "{} failed, {:.1} rows/s, concurrency {}, {} throttled{eta}{pause}",
        progress.failed, progress.rows_per_s, progress.concurrency, progress.throttles
    )
}

/// An endpoint's `retry-after`: every call to it waits, so the rows/s drop has a reason to show.
struct Pause {
    endpoint: String,
    wait_ms: u64,
    at: Instant,
}

/// How long a pause stays in the progress after it began: long enough to be read.
const PAUSE_SHOWN: Duration = Duration::from_secs(3);

/// A line on stderr that does not tear the bar.
fn notice(bar: Option<&ProgressBar>, text: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{text}")),
        None => eprintln!("{text}"),
    }
}

/// Bad rows named one by one up to this many; the rest are counted in the summary and listed by
/// `weft batch show --rows`.
const BAD_ROWS_SHOWN: u64 = 20;

/// How often plain progress lines may come when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(1);

/// The progress of a batch on stderr: a bar on a terminal, else a plain line a second at most.
struct Progress {
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    bad_rows: u64,
    length_known: bool,
    pause: Option<Pause>,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Self {
            bar,
            last_line: None,
            bad_rows: 0,
            length_known: false,
            pause: None,
        }
    }

    async fn print(mut self, mut events: tokio::sync::mpsc::UnboundedReceiver<BatchEvent>) {
        while let Some(event) = events.recv().await {
            self.event(&event);
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn event(&mut self, event: &BatchEvent) {
        match event {
            BatchEvent::Started {
                batch_id,
                resumed,
                skipped,
            } => {
                // First, once the batch is stored: whatever happens next, the user knows what
                // to resume.
                self.notice(&format!(
                    "batch {batch_id} (resume with `weft batch resume {}`)",
                    short(batch_id)
                ));
                if *resumed {
                    self.notice(&format!("resuming: {skipped} rows already succeeded"));
                }
            }
            BatchEvent::Progress(progress) => self.progress(progress),
            // A 429 without a wait is counted in the progress' throttles; a wait is shown in it
            // (not as lines of its own, which a 429 storm would flood).
            BatchEvent::Throttled { wait_ms: 0, .. } => {}
            BatchEvent::Throttled { endpoint, wait_ms } => {
                self.pause = Some(Pause {
                    endpoint: endpoint.clone(),
                    wait_ms: *wait_ms,
                    at: Instant::now(),
                });
            }
            BatchEvent::BadRow { message, .. } => {
                self.bad_rows += 1;
                if self.bad_rows <= BAD_ROWS_SHOWN {
                    self.notice(message);
                } else if self.bad_rows == BAD_ROWS_SHOWN + 1 {
                    self.notice("more bad rows: `weft batch show ID --rows` lists them all");
                }
            }
            // The batch ends at once; its summary's message says why, once, after the summary.
            BatchEvent::Stopped { .. } => {}
            // Once a poll (every 60 s): the rows stay at 0 until Azure's answers are back.
            BatchEvent::Remote {
                status,
                completed,
                failed,
                total,
            } => self.notice(&format!(
                "Azure batch {status}: {completed} of {total} requests done, {failed} failed"
            )),
        }
    }

    fn progress(&mut self, progress: &BatchProgress) {
        if self
            .pause
            .as_ref()
            .is_some_and(|pause| pause.at.elapsed() > PAUSE_SHOWN)
        {
            self.pause = None;
        }
        let Some(bar) = &self.bar else {
            if self.due() {
                eprintln!("{}", progress_line(progress, self.pause.as_ref()));
            }
            return;
        };
        if let (Some(total), false) = (progress.total, self.length_known) {
            bar.set_length(total);
            bar.set_style(bar_style());
            self.length_known = true;
        }
        bar.set_position(progress.done);
        bar.set_message(progress_detail(progress, self.pause.as_ref()));
    }

    /// Whether a plain line may be printed now (and then counts it as printed).
    fn due(&mut self) -> bool {
        let now = Instant::now();
        let due = self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= PLAIN_EVERY);
        if due {
            self.last_line = Some(now);
        }
        due
    }

    fn notice(&self, text: &str) {
        notice(self.bar.as_ref(), text);
    }
}

fn spinner_style() -> ProgressStyle {
    // A template of ours that is known to parse; the default style is the fallback all the same.
    // wide_msg: cut to the terminal's width, so the bar never wraps onto a second line.
    ProgressStyle::with_template("{spinner} {pos} rows  {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{bar:20} {pos}/{len} rows  {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn when(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

fn show(batch_id: &str, rows: bool, json: bool) -> Result<(), CliError> {
    let core = open_core(None)?;
    let batch = core.batch(batch_id)?;
    let mut out = std::io::stdout().lock();
    let written = if json {
        show_json(&core, &batch, rows, &mut out)
    } else {
        show_text(&core, &batch, rows, &mut out)
    };
    match written {
        Ok(()) => Ok(()),
        // `weft batch show ID --rows | head`: the reader has all it wanted.
        Err(ShowError::Io(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(ShowError::Io(err)) => Err(CliError::Runtime(format!(
            "could not print the batch: {err}"
        ))),
        Err(ShowError::App(err)) => Err(err.into()),
    }
}

/// Rows are read from the store a page at a time, so showing 100,000 rows holds one page.
const ROWS_PAGE: u32 = 1000;

fn each_row(
    core: &AppCore,
    id: &str,
    f: &mut dyn FnMut(weft_core::BatchRowView) -> std::io::Result<()>,
) -> Result<(), ShowError> {
    let mut offset = 0;
    loop {
        let page = core.batch_rows(id, RowFilter::All, offset, ROWS_PAGE)?;
        let count = page.len();
        for row in page {
            f(row)?;
        }
        if count < ROWS_PAGE as usize {
            return Ok(());
        }
        offset += count as u64;
    }
}

/// What stops `weft batch show` half-way.
#[derive(Debug, thiserror::Error)]
enum ShowError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn show_json(
    core: &AppCore,
    batch: &BatchView,
    rows: bool,
    out: &mut dyn Write,
) -> Result<(), ShowError> {
    if !rows {
        serde_json::to_writer(&mut *out, batch).map_err(std::io::Error::from)?;
        return Ok(writeln!(out)?);
    }
    // The batch object with a `rows` array, streamed: the rows are never all in memory.
    let head = serde_json::to_string(batch).map_err(std::io::Error::from)?;
    let open = head
        .strip_suffix('}')
        .ok_or_else(|| std::io::Error::other("a batch serialises as an object"))?;
    write!(out, "{open},\"rows\":[")?;
    let mut first = true;
    each_row(core, &batch.id, &mut |row| {
        if !std::mem::take(&mut first) {
            write!(out, ",")?;
        }
        serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)
    })?;
    Ok(writeln!(out, "]}}")?)
}

fn show_text(
    core: &AppCore,
    batch: &BatchView,
    rows: bool,
    out: &mut dyn Write,
) -> Result<(), ShowError> {
    let total = batch
        .total
        .map_or_else(|| "not known yet".to_owned(), |total| total.to_string());
    writeln!(out, "batch        {}", batch.id)?;
    if let Some(name) = &batch.name {
        writeln!(out, "name         {name}")?;
    }
    writeln!(out, "flow         {}", batch.flow_path)?;
    writeln!(out, "data         {}", batch.data_path)?;
    writeln!(out, "status       {}", batch.status.as_str())?;
    writeln!(
        out,
        "rows         {total} ({} succeeded, {} failed, {} cancelled)",
        batch.counts.succeeded, batch.counts.failed, batch.counts.cancelled
    )?;
    writeln!(out, "concurrency  {}", batch.concurrency)?;
    writeln!(out, "engine       {}", batch.engine)?;
    writeln!(
        out,
        "profile      {}",
        batch.profile.as_deref().unwrap_or("(none)")
    )?;
    writeln!(out, "started      {}", when(batch.created_at_ms))?;
    if let Some(finished) = batch.finished_at_ms {
        writeln!(out, "finished     {}", when(finished))?;
    }
    if let Some(message) = &batch.message {
        writeln!(out, "message      {message}")?;
    }
    if !rows {
        return Ok(());
    }
    each_row(core, &batch.id, &mut |row| {
        writeln!(
            out,
            "{:>7}  {:<9}  {:>8.0} ms  {}",
            row.row,
            row.status.as_str(),
            row.latency_ms,
            row.error.as_deref().unwrap_or("")
        )
    })?;
    Ok(())
}

fn list(json: bool, limit: u32) -> Result<(), CliError> {
    // Like run history: every profile's batches.
    let core = open_core(None)?;
    let batches = core.batches(limit)?;
    if json {
        let text =
            serde_json::to_string(&batches).map_err(|err| CliError::Runtime(err.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    if batches.is_empty() {
        println!("no batches yet; start one with `weft batch run FLOW --data FILE`");
    }
    for batch in &batches {
        let flow = Path::new(&batch.flow_path)
            .file_name()
            .map_or(batch.flow_path.clone(), |n| {
                n.to_string_lossy().into_owned()
            });
        let done = batch.counts.succeeded + batch.counts.failed + batch.counts.cancelled;
        let total = batch
            .total
            .map_or_else(|| "?".to_owned(), |total| total.to_string());
        let name = batch
            .name
            .as_deref()
            .map(|name| format!("  {name}"))
            .unwrap_or_default();
        println!(
            "{}  {}  {:<11}  {done:>7}/{total:<7} {:>5} failed  {flow}{name}",
            short(&batch.id),
            when(batch.created_at_ms),
            batch.status.as_str(),
            batch.counts.failed,
        );
    }
    Ok(())
}

fn export(batch_id: &str, format: ExportFormat, out: Option<&Path>) -> Result<(), CliError> {
    let core = open_core(None)?;
    let Some(path) = out else {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        core.export_batch(batch_id, format, &mut stdout)?;
        return stdout
            .flush()
            .map_err(|err| CliError::Runtime(format!("could not write the export: {err}")));
    };
    // Written beside the target and renamed at the end, so a failed export leaves no file
    // that looks complete.
    let partial = path.with_extension("partial");
    let written = (|| -> Result<u64, CliError> {
        let file = std::fs::File::create(&partial).map_err(|err| {
            CliError::Runtime(format!(
                "could not create {}: {err}; check the folder exists and you may write there",
                partial.display()
            ))
        })?;
        let mut writer = std::io::BufWriter::new(file);
        let rows = core.export_batch(batch_id, format, &mut writer)?;
        writer
            .into_inner()
            .map_err(|err| err.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|err| {
                CliError::Runtime(format!("could not write {}: {err}", path.display()))
            })?;
        Ok(rows)
    })();
    match written {
        Ok(rows) => {
            eprintln!("exported {rows} rows to {}", path.display());
            Ok(())
        }
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(total: Option<u64>, eta_ms: Option<u64>) -> BatchProgress {
        BatchProgress {
            done: 120,
            succeeded: 117,
            failed: 3,
            cancelled: 0,
            total,
            rows_per_s: 41.25,
            concurrency: 32,
            in_flight: 30,
            throttles: 2,
            elapsed_ms: 2900,
            eta_ms,
        }
    }

    #[test]
    fn a_plain_line_says_what_the_bar_shows() {
        assert_eq!(
            progress_line(&progress(Some(1000), Some(21_300)), None),
            "120/1000 rows, 3 failed, 41.2 rows/s, concurrency 32, 2 throttled, ETA 21.3 s"
        );
        let pause = Pause {
            endpoint: "contoso.openai.azure.com/gpt-4o".into(),
            wait_ms: 2000,
            at: Instant::now(),
        };
        assert_eq!(
            progress_line(&progress(None, None), Some(&pause)),
            "120/? rows, 3 failed, 41.2 rows/s, concurrency 32, 2 throttled; contoso.openai.azure.com/gpt-4o asked to wait 2.0 s"
        );
        assert_eq!(seconds(3_723_000), "1h 2m 3s");
    }

    #[test]
    fn plain_lines_come_at_most_once_a_second() {
        let mut shown = Progress::new(false);
        assert!(shown.due());
        assert!(!shown.due());
        shown.last_line = Some(Instant::now() - PLAIN_EVERY);
        assert!(shown.due());
    }

    #[test]
    fn a_wait_shows_in_the_progress_for_a_while_and_a_bare_429_does_not() {
        let mut shown = Progress::new(false);
        let throttled = |wait_ms| BatchEvent::Throttled {
            endpoint: "127.0.0.1:9/gpt-4o".into(),
            wait_ms,
        };
        shown.event(&throttled(0));
        assert!(shown.pause.is_none());
        shown.event(&throttled(1500));
        assert_eq!(shown.pause.as_ref().map(|pause| pause.wait_ms), Some(1500));
        shown.event(&BatchEvent::Progress(progress(None, None)));
        assert!(shown.pause.is_some(), "still shown right after");
        shown.pause.as_mut().unwrap().at -= PAUSE_SHOWN + Duration::from_millis(1);
        shown.event(&BatchEvent::Progress(progress(None, None)));
        assert!(shown.pause.is_none());
    }

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
