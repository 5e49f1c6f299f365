//! A stored batch written out as JSONL or CSV, streamed row by row, redacted as stored.

use std::io::Write;

use serde_json::{Value, json};
use weft_flow::FlowDocument;
use weft_store::BatchRowRecord;

use crate::batch::ExportFormat;
use crate::{AppCore, AppError};

/// The columns every CSV export starts with, before the flow's `inputs.X` and `outputs.Y`.
const CSV_FIELDS: [&str; 7] = [
    "row",
    "line",
    "status",
    "error",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
];

/// One row as a JSONL export writes it.
fn json_row(row: &BatchRowRecord) -> Value {
    json!({
        "row": row.row,
        "line": row.line,
        "status": row.status,
        "inputs": row.inputs,
        "outputs": row.outputs,
        "error": row.error,
        "latency_ms": row.latency_ms,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
    })
}

/// A value as a CSV cell: text as it is, nothing as an empty cell, anything else as JSON.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Writes one format; the first write error stops the writing and is kept for the caller.
struct Sink<'a> {
    out: Box<dyn RowWriter + 'a>,
    error: Option<std::io::Error>,
    rows: u64,
}

trait RowWriter {
    fn write(&mut self, row: &BatchRowRecord) -> std::io::Result<()>;
    fn finish(&mut self) -> std::io::Result<()>;
}

struct Jsonl<'a>(&'a mut dyn Write);

impl RowWriter for Jsonl<'_> {
    fn write(&mut self, row: &BatchRowRecord) -> std::io::Result<()> {
        serde_json::to_writer(&mut *self.0, &json_row(row))?;
        self.0.write_all(b"\n")
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

struct Csv<'a> {
    out: csv::Writer<&'a mut dyn Write>,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl<'a> Csv<'a> {
    fn new(out: &'a mut dyn Write, flow: &FlowDocument) -> std::io::Result<Self> {
        let mut csv = Self {
            out: csv::Writer::from_writer(out),
            inputs: flow.inputs.keys().cloned().collect(),
            outputs: flow.outputs.keys().cloned().collect(),
        };
        let header: Vec<String> = CSV_FIELDS
            .iter()
            .map(|f| (*f).to_owned())
            .chain(csv.inputs.iter().map(|name| format!("inputs.{name}")))
            .chain(csv.outputs.iter().map(|name| format!("outputs.{name}")))
            .collect();
        csv.out.write_record(&header)?;
        Ok(csv)
    }
}

impl RowWriter for Csv<'_> {
    fn write(&mut self, row: &BatchRowRecord) -> std::io::Result<()> {
        let fields = [
            row.row.to_string(),
            row.line.to_string(),
            row.status.clone(),
            row.error.clone().unwrap_or_default(),
            row.latency_ms.to_string(),
            row.prompt_tokens.to_string(),
            row.completion_tokens.to_string(),
        ];
        let inputs = self.inputs.iter().map(|name| cell(row.inputs.get(name)));
        let outputs = self.outputs.iter().map(|name| cell(row.outputs.get(name)));
        let record: Vec<String> = fields.into_iter().chain(inputs).chain(outputs).collect();
        Ok(self.out.write_record(&record)?)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl AppCore {
    /// Writes every row of the batch to `out`, by row, redacted as stored; returns the number of
    /// rows. CSV columns: the row's fields, then `inputs.X` and `outputs.Y` for the inputs and
    /// outputs the flow declares, non-text values as JSON.
    pub fn export_batch(
        &self,
        id: &str,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<u64, AppError> {
        let record = self.batch_record(id)?;
        let io = |source| AppError::Io {
            what: format!("write the export of batch `{}`", record.id),
            source,
        };
        let writer: Box<dyn RowWriter + '_> = match format {
            ExportFormat::Jsonl => Box::new(Jsonl(out)),
            ExportFormat::Csv => {
                let flow = FlowDocument::parse(&record.flow_text).map_err(|err| {
                    AppError::Internal(format!(
                        "the flow stored with batch `{}` does not parse: {err}",
                        record.id
                    ))
                })?;
                Box::new(Csv::new(out, &flow).map_err(io)?)
            }
        };
        let mut sink = Sink {
            out: writer,
            error: None,
            rows: 0,
        };
        // A write error cannot stop the database's iteration; the rows left are read and not
        // written, and the error is reported.
        self.db()?.for_each_batch_row(&record.id, &mut |row| {
            if sink.error.is_none() {
                match sink.out.write(&row) {
                    Ok(()) => sink.rows += 1,
                    Err(err) => sink.error = Some(err),
                }
            }
            Ok(())
        })?;
        if let Some(err) = sink.error.take() {
            return Err(io(err));
        }
        sink.out.finish().map_err(io)?;
        Ok(sink.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_text_or_json() {
        assert_eq!(cell(Some(&json!("a,b"))), "a,b");
        assert_eq!(cell(Some(&json!(null))), "");
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(&json!(2.5))), "2.5");
        assert_eq!(cell(Some(&json!({"k": [1]}))), r#"{"k":[1]}"#);
    }
}
