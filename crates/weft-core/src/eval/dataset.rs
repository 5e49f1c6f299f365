//! "Add to dataset": a run from history appended to a data file as one more row, its inputs as
//! columns and, if asked, one of its outputs as the `expected` column an eval compares with.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::{Map, Value};
use weft_batch::DataFormat;

use crate::{AppCore, AppError};

/// The column the chosen output goes to (`${data.expected}` in an eval file).
const EXPECTED_COLUMN: &str = "expected";

/// A run's inputs are stored redacted: a secret input reads as this, and is left out of the row.
const MASK: &str = "******";

fn io(what: String) -> impl FnOnce(std::io::Error) -> AppError {
    move |source| AppError::Io { what, source }
}

/// A CSV cell: text as it is, anything else as JSON (what a batch reads back from a cell).
fn cell(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl AppCore {
    /// Appends run `run_id`'s inputs (and, with `expected_from`, that output as `expected`) to
    /// the JSONL or CSV file at `data_path`, creating it if missing. A CSV file keeps its header:
    /// the row follows its column order, and a value it has no column for is refused.
    pub fn add_run_to_dataset(
        &self,
        run_id: &str,
        data_path: &Path,
        expected_from: Option<String>,
    ) -> Result<(), AppError> {
        let run = self.run(run_id)?;
        let mut row: Map<String, Value> = run
            .inputs
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, value)| value.as_str() != Some(MASK))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(output) = expected_from {
            let Some(value) = run.outputs.get(&output) else {
                let names: Vec<&String> = run
                    .outputs
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                    .collect();
                return Err(AppError::Invalid(format!(
                    "run `{}` has no output `{output}`; its outputs are {}",
                    run.id,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )));
            };
            row.insert(EXPECTED_COLUMN.to_owned(), value.clone());
        }
        let format =
            DataFormat::from_path(data_path).map_err(|err| AppError::Invalid(err.to_string()))?;
        match format {
            DataFormat::Jsonl => append_jsonl(data_path, &row),
            DataFormat::Csv => append_csv(data_path, &row),
        }
    }
}

/// Opens the file for appending (creating it), and says whether its last byte is a newline
/// (an empty file counts as ending in one).
fn open_end(path: &Path) -> Result<(std::fs::File, bool), AppError> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io(format!("open the data file {}", path.display())))?;
    let length = file
        .metadata()
        .map_err(io(format!("read the data file {}", path.display())))?
        .len();
    if length == 0 {
        return Ok((file, true));
    }
    let mut last = [0u8];
    file.seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(io(format!("read the data file {}", path.display())))?;
    Ok((file, last[0] == b'\n'))
}

fn append_jsonl(path: &Path, row: &Map<String, Value>) -> Result<(), AppError> {
    let (mut file, ends_in_newline) = open_end(path)?;
    let mut line = if ends_in_newline {
        String::new()
    } else {
        "\n".to_owned()
    };
    line.push_str(&Value::Object(row.clone()).to_string());
    line.push('\n');
    // One write: a reader never sees half a line.
    file.write_all(line.as_bytes())
        .map_err(io(format!("append to the data file {}", path.display())))
}

fn append_csv(path: &Path, row: &Map<String, Value>) -> Result<(), AppError> {
    let header: Option<Vec<String>> = match std::fs::metadata(path) {
        Ok(meta) if meta.len() > 0 => {
            let mut reader = csv::Reader::from_path(path).map_err(|err| {
                AppError::Invalid(format!(
                    "cannot read the header row of {}: {err}",
                    path.display()
                ))
            })?;
            let header = reader.headers().map_err(|err| {
                AppError::Invalid(format!(
                    "cannot read the header row of {}: {err}",
                    path.display()
                ))
            })?;
            Some(header.iter().map(str::to_owned).collect())
        }
        _ => None,
    };
    let (columns, write_header) = match header {
        Some(columns) => {
            let missing: Vec<&String> = row.keys().filter(|k| !columns.contains(k)).collect();
            if !missing.is_empty() {
                return Err(AppError::Invalid(format!(
                    "{} has no column for {}; add {} to its header row, or choose another file",
                    path.display(),
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if missing.len() == 1 { "it" } else { "them" }
                )));
            }
            (columns, false)
        }
        None => (row.keys().cloned().collect(), true),
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let written = (|| {
        if write_header {
            out.write_record(&columns)?;
        }
        out.write_record(
            columns
                .iter()
                .map(|c| row.get(c).map(cell).unwrap_or_default()),
        )?;
        out.into_inner()
            .map_err(|err| csv::Error::from(err.into_error()))
    })();
    let bytes = written.map_err(|err| AppError::Internal(format!("a CSV row: {err}")))?;
    let (mut file, ends_in_newline) = open_end(path)?;
    let mut text = if ends_in_newline {
        Vec::new()
    } else {
        b"\n".to_vec()
    };
    text.extend_from_slice(&bytes);
    file.write_all(&text)
        .map_err(io(format!("append to the data file {}", path.display())))
}
