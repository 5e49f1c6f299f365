//! Stored batches written out: `weft batch show`, `list` and `export`.

use std::io::Write;
use std::path::Path;

use weft_core::{AppCore, AppError, BatchView, ExportFormat, RowFilter};

use super::{rows_ended, short};
use crate::cassette::described;
use crate::runs::when;
use crate::{CliError, open_core};

pub(super) fn show(batch_id: &str, rows: bool, json: bool) -> Result<(), CliError> {
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
    let counts = batch.counts;
    writeln!(
        out,
        "rows         {}",
        rows_ended(total, counts.succeeded, counts.failed, counts.cancelled)
    )?;
    writeln!(out, "concurrency  {}", batch.concurrency)?;
    writeln!(out, "engine       {}", batch.engine)?;
    writeln!(
        out,
        "profile      {}",
        batch.profile.as_deref().unwrap_or("(none)")
    )?;
    if let Some(used) = &batch.cassette {
        writeln!(out, "cassette     {}", described(used))?;
    }
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

pub(super) fn list(json: bool, limit: u32) -> Result<(), CliError> {
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

pub(super) fn export(
    batch_id: &str,
    format: ExportFormat,
    out: Option<&Path>,
) -> Result<(), CliError> {
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
