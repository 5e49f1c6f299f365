use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::csv::CsvRows;
use crate::jsonl::{self, JsonlRows};

/// How a data file is written, told by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataFormat {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
    /// A header row naming the columns, then one row per record (`.csv`).
    Csv,
}

impl DataFormat {
    pub fn from_path(path: &Path) -> Result<DataFormat, DataError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("jsonl" | "ndjson") => Ok(DataFormat::Jsonl),
            Some("csv") => Ok(DataFormat::Csv),
            _ => Err(DataError::UnknownFormat {
                path: path.to_owned(),
            }),
        }
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataFormat::Jsonl => "JSONL",
            DataFormat::Csv => "CSV",
        })
    }
}

/// One row of the data: its fields, or why the line could not be read as a row. A bad row
/// is a failed row of the batch; the rows after it are read as usual.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRow {
    /// 0-based among the data rows, bad rows included; empty lines and a CSV header are no row.
    pub index: u64,
    /// 1-based line of the file where the row starts (a CSV row may span lines in quotes).
    pub line: u64,
    /// A CSV row's fields are all strings, keyed by the header's column names.
    pub fields: Result<Map<String, Value>, BadRow>,
}

/// A line that is no row. Each message names the line and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRow {
    #[error("line {line}: not valid JSON ({message}); fix or remove the line")]
    MalformedJson { line: u64, message: String },
    #[error(
        "line {line}: not a JSON object; each line must be one object, such as {{\"question\": \"…\"}}"
    )]
    NotAnObject { line: u64 },
    #[error(
        "line {line}: {found} fields where the header has {expected} columns; quote fields that contain commas, or fix the row"
    )]
    ColumnCount {
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: not valid UTF-8; save the file as UTF-8")]
    InvalidUtf8 { line: u64 },
}

/// A line read as a row or not: where it starts, and its fields or why it is bad.
pub(crate) type RawRow<T> = (u64, Result<T, BadRow>);

/// Why the data cannot be read at all (as opposed to a [`BadRow`], which fails one row).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot open the data file {}: {source}; check the path and that you may read it", .path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("reading {} failed at line {line}: {source}; check that the file is still there and readable", .path.display())]
    Read {
        path: PathBuf,
        line: u64,
        source: io::Error,
    },
    #[error(
        "{} is not a data file Weft reads; use a .jsonl (or .ndjson) file with one JSON object per line, or a .csv file with a header row", .path.display()
    )]
    UnknownFormat { path: PathBuf },
    #[error("{} has no header row; a CSV file starts with a row naming its columns", .path.display())]
    NoHeader { path: PathBuf },
    #[error("the header row of {} is not valid UTF-8; save the file as UTF-8", .path.display())]
    HeaderNotUtf8 { path: PathBuf },
    #[error("column {position} of the header row of {} has no name; name it, or remove the extra comma", .path.display())]
    UnnamedColumn { path: PathBuf, position: usize },
    #[error("the header row of {} names the column `{column}` twice; rename one of them", .path.display())]
    DuplicateColumn { path: PathBuf, column: String },
}

/// A data file read one row at a time: it holds one line (one CSV record) in memory, whatever
/// the size of the file.
pub struct DataReader {
    path: PathBuf,
    format: DataFormat,
    columns: Vec<String>,
    rows: Rows,
    next_index: u64,
    done: bool,
}

enum Rows {
    Jsonl(JsonlRows),
    /// Boxed: the parser's state tables are large.
    Csv(Box<CsvRows>),
}

impl DataReader {
    pub fn open(path: &Path) -> Result<DataReader, DataError> {
        let format = DataFormat::from_path(path)?;
        let open = || {
            File::open(path).map_err(|source| DataError::Open {
                path: path.to_owned(),
                source,
            })
        };
        let (columns, rows) = match format {
            DataFormat::Jsonl => {
                // Peeked through a second handle, so the rows before the first object are not held.
                let columns = jsonl::first_object_keys(Lines::new(open()?))
                    .map_err(|(line, source)| read_error(path, line, source))?;
                (columns, Rows::Jsonl(JsonlRows::new(Lines::new(open()?))))
            }
            DataFormat::Csv => {
                let mut rows = Box::new(CsvRows::new(Lines::new(open()?)));
                let header = rows
                    .next_record()
                    .map_err(|source| read_error(path, rows.reading_line(), source))?;
                (header_columns(path, header)?, Rows::Csv(rows))
            }
        };
        Ok(DataReader {
            path: path.to_owned(),
            format,
            columns,
            rows,
            next_index: 0,
            done: false,
        })
    }

    pub fn format(&self) -> DataFormat {
        self.format
    }

    /// CSV: the header's column names. JSONL: the keys of the first line that is an object, in
    /// the file's order (later lines may have others).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    fn next_row(&mut self) -> io::Result<Option<RawRow<Map<String, Value>>>> {
        match &mut self.rows {
            Rows::Jsonl(rows) => rows.next_row(),
            Rows::Csv(rows) => Ok(rows.next_record()?.map(|(line, fields)| {
                let fields = fields.and_then(|fields| csv_row(&self.columns, fields, line));
                (line, fields)
            })),
        }
    }

    fn reading_line(&self) -> u64 {
        match &self.rows {
            Rows::Jsonl(rows) => rows.reading_line(),
            Rows::Csv(rows) => rows.reading_line(),
        }
    }
}

impl Iterator for DataReader {
    /// `Err` only when the file cannot be read any further; iteration ends after it.
    type Item = Result<DataRow, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_row() {
            Ok(Some((line, fields))) => {
                let index = self.next_index;
                self.next_index += 1;
                Some(Ok(DataRow {
                    index,
                    line,
                    fields,
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(source) => {
                self.done = true;
                Some(Err(read_error(&self.path, self.reading_line(), source)))
            }
        }
    }
}

/// The first rows of a data file, for choosing a mapping before a batch starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub format: DataFormat,
    pub columns: Vec<String>,
    /// Up to `n` rows, bad ones included with their message.
    pub rows: Vec<DataRow>,
}

pub fn preview(path: &Path, n: usize) -> Result<Preview, DataError> {
    let reader = DataReader::open(path)?;
    let format = reader.format();
    let columns = reader.columns().to_vec();
    let rows = reader.take(n).collect::<Result<Vec<_>, _>>()?;
    Ok(Preview {
        format,
        columns,
        rows,
    })
}

fn read_error(path: &Path, line: u64, source: io::Error) -> DataError {
    DataError::Read {
        path: path.to_owned(),
        line,
        source,
    }
}

/// Column names are trimmed: `question, answer` is read as two columns a mapping can name.
fn header_columns(
    path: &Path,
    header: Option<RawRow<Vec<String>>>,
) -> Result<Vec<String>, DataError> {
    let Some((_, names)) = header else {
        return Err(DataError::NoHeader {
            path: path.to_owned(),
        });
    };
    let names = names.map_err(|_| DataError::HeaderNotUtf8 {
        path: path.to_owned(),
    })?;
    let mut columns: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            return Err(DataError::UnnamedColumn {
                path: path.to_owned(),
                position: i + 1,
            });
        }
        if columns.iter().any(|c| c == name) {
            return Err(DataError::DuplicateColumn {
                path: path.to_owned(),
                column: name.to_owned(),
            });
        }
        columns.push(name.to_owned());
    }
    Ok(columns)
}

fn csv_row(
    columns: &[String],
    fields: Vec<String>,
    line: u64,
) -> Result<Map<String, Value>, BadRow> {
    if fields.len() != columns.len() {
        return Err(BadRow::ColumnCount {
            line,
            expected: columns.len(),
            found: fields.len(),
        });
    }
    Ok(columns
        .iter()
        .cloned()
        .zip(fields.into_iter().map(Value::String))
        .collect())
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file's physical lines, one in memory at a time, counted from 1, the UTF-8 byte order mark
/// (which Excel writes) removed from the first.
pub(crate) struct Lines {
    input: BufReader<File>,
    /// The line now in `buf`; 0 before the first.
    line: u64,
    /// The line with its terminator (`\n` or `\r\n`), absent on a last line without one.
    buf: Vec<u8>,
}

impl Lines {
    fn new(file: File) -> Lines {
        Lines {
            input: BufReader::new(file),
            line: 0,
            buf: Vec::new(),
        }
    }

    /// Reads the next line into `buf`; false at the end of the file.
    pub(crate) fn advance(&mut self) -> io::Result<bool> {
        self.buf.clear();
        if self.input.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.line == 1 && self.buf.starts_with(UTF8_BOM) {
            self.buf.drain(..UTF8_BOM.len());
        }
        Ok(true)
    }

    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    pub(crate) fn text(&self) -> &[u8] {
        &self.buf
    }
}

/// Spaces, tabs and line ends only: such a line is no row, in either format.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::*;
    use crate::testdata::file;

    fn rows(path: &Path) -> Vec<DataRow> {
        DataReader::open(path)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Each row as (index, line, fields or the bad row's message).
    fn summary(path: &Path) -> Vec<(u64, u64, Result<Value, String>)> {
        rows(path)
            .into_iter()
            .map(|row| {
                let fields = row.fields.map(Value::Object).map_err(|e| e.to_string());
                (row.index, row.line, fields)
            })
            .collect()
    }

    #[test]
    fn the_extension_tells_the_format() {
        let format = |name: &str| DataFormat::from_path(Path::new(name));
        assert_eq!(format("a.jsonl").unwrap(), DataFormat::Jsonl);
        assert_eq!(format("a.NDJSON").unwrap(), DataFormat::Jsonl);
        assert_eq!(format("dir/a.Csv").unwrap(), DataFormat::Csv);
        let err = format("a.json").unwrap_err();
        assert!(matches!(err, DataError::UnknownFormat { .. }));
        assert!(err.to_string().contains(".jsonl"), "{err}");
        assert!(err.to_string().contains(".csv"), "{err}");
    }

    #[test]
    fn a_missing_file_says_which() {
        let err = DataReader::open(Path::new("/nonexistent/rows.jsonl"))
            .err()
            .unwrap();
        assert!(matches!(err, DataError::Open { .. }));
        assert!(err.to_string().contains("/nonexistent/rows.jsonl"), "{err}");
    }

    #[test]
    fn jsonl_bom_crlf_and_empty_lines() {
        let (_dir, path) = file(
            "rows.jsonl",
            b"\xEF\xBB\xBF{\"q\": \"one\", \"a\": 1}\r\n\r\n   \r\n{\"q\": \"two\"}\r\n\n{\"q\": \"three\"}",
        );
        assert_eq!(DataReader::open(&path).unwrap().columns(), ["q", "a"]);
        assert_eq!(
            summary(&path),
            vec![
                (0, 1, Ok(json!({"q": "one", "a": 1}))),
                (1, 4, Ok(json!({"q": "two"}))),
                (2, 6, Ok(json!({"q": "three"}))),
            ]
        );
    }

    #[test]
    fn a_malformed_jsonl_line_fails_alone() {
        let (_dir, path) = file(
            "rows.jsonl",
            b"{\"q\": 1}\n{\"q\": 2 \"r\": 3}\n[1, 2]\n\n\"text\"\n{\"q\": 6}\n",
        );
        let rows = summary(&path);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0], (0, 1, Ok(json!({"q": 1}))));
        let (index, line, bad) = &rows[1];
        assert_eq!((*index, *line), (1, 2));
        assert_eq!(
            bad.as_ref().unwrap_err(),
            "line 2: not valid JSON (expected `,` or `}` at column 9); fix or remove the line"
        );
        assert_eq!(
            rows[2].2.as_ref().unwrap_err(),
            &BadRow::NotAnObject { line: 3 }.to_string()
        );
        assert!(
            rows[2]
                .2
                .as_ref()
                .unwrap_err()
                .contains("line 3: not a JSON object")
        );
        assert_eq!((rows[3].0, rows[3].1), (3, 5));
        assert!(rows[3].2.is_err());
        assert_eq!(rows[4], (4, 6, Ok(json!({"q": 6}))));
    }

    #[test]
    fn jsonl_columns_are_the_first_objects_keys_in_file_order() {
        let (_dir, path) = file(
            "rows.jsonl",
            b"\xEF\xBB\xBF\nnot json\n[1]\n{\"zeta\": 1, \"alpha\": {\"x\": 2}, \"mid\": [3], \"zeta\": 4}\n{\"other\": 1}\n",
        );
        let reader = DataReader::open(&path).unwrap();
        assert_eq!(reader.format(), DataFormat::Jsonl);
        assert_eq!(reader.columns(), ["zeta", "alpha", "mid"]);
        // Peeking read nothing away: every line is still a row.
        assert_eq!(reader.count(), 4);
    }

    #[test]
    fn jsonl_without_an_object_has_no_columns() {
        let (_dir, path) = file("rows.jsonl", b"");
        let reader = DataReader::open(&path).unwrap();
        assert!(reader.columns().is_empty());
        assert_eq!(reader.count(), 0);
    }

    #[test]
    fn csv_bom_header_and_crlf() {
        let (_dir, path) = file(
            "rows.csv",
            b"\xEF\xBB\xBFquestion, answer\r\nWhat?,Yes\r\n\"Quoted, with comma\",\"a \"\"b\"\"\"\r\n",
        );
        let reader = DataReader::open(&path).unwrap();
        assert_eq!(reader.format(), DataFormat::Csv);
        assert_eq!(reader.columns(), ["question", "answer"]);
        assert_eq!(
            summary(&path),
            vec![
                (0, 2, Ok(json!({"question": "What?", "answer": "Yes"}))),
                (
                    1,
                    3,
                    Ok(json!({"question": "Quoted, with comma", "answer": "a \"b\""}))
                ),
            ]
        );
    }

    #[test]
    fn a_quoted_newline_keeps_the_row_on_its_first_line() {
        let (_dir, path) = file(
            "rows.csv",
            b"id,text\n1,\"first\nsecond\r\nthird\"\n\n2,\"\n\"\n3,plain",
        );
        assert_eq!(
            summary(&path),
            vec![
                (
                    0,
                    2,
                    Ok(json!({"id": "1", "text": "first\nsecond\r\nthird"}))
                ),
                (1, 6, Ok(json!({"id": "2", "text": "\n"}))),
                (2, 8, Ok(json!({"id": "3", "text": "plain"}))),
            ]
        );
    }

    #[test]
    fn csv_empty_lines_are_no_rows_but_count_as_lines() {
        let (_dir, path) = file("rows.csv", b"\n\na,b\n\n \t\n1,2\r\n\r\n\r\n,\n");
        assert_eq!(
            summary(&path),
            vec![
                (0, 6, Ok(json!({"a": "1", "b": "2"}))),
                (1, 9, Ok(json!({"a": "", "b": ""}))),
            ]
        );
    }

    #[test]
    fn a_csv_row_with_the_wrong_column_count_fails_alone() {
        let (_dir, path) = file("rows.csv", b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n7,8,9\n");
        let rows = summary(&path);
        assert_eq!(rows[0], (0, 2, Ok(json!({"a": "1", "b": "2", "c": "3"}))));
        assert_eq!(
            rows[1],
            (
                1,
                3,
                Err("line 3: 2 fields where the header has 3 columns; quote fields that contain commas, or fix the row".into())
            )
        );
        assert_eq!(
            rows[2].2,
            Err(BadRow::ColumnCount {
                line: 4,
                expected: 3,
                found: 4
            }
            .to_string())
        );
        assert_eq!(rows[3], (3, 5, Ok(json!({"a": "7", "b": "8", "c": "9"}))));
    }

    #[test]
    fn a_csv_row_that_is_not_utf8_fails_alone() {
        let (_dir, path) = file("rows.csv", b"a\n\xFF\xFE\nok\n");
        let rows = summary(&path);
        assert_eq!(rows[0].2, Err(BadRow::InvalidUtf8 { line: 2 }.to_string()));
        assert_eq!(rows[1], (1, 3, Ok(json!({"a": "ok"}))));
    }

    #[test]
    fn a_long_csv_record_grows_the_buffers() {
        let wide: Vec<String> = (0..100).map(|i| format!("c{i}")).collect();
        let long = "x".repeat(5000);
        let cells = vec![long.as_str(); 100].join(",");
        let text = format!("{}\n{cells}\n", wide.join(","));
        let (_dir, path) = file("rows.csv", text.as_bytes());
        let rows = rows(&path);
        let fields = rows[0].fields.as_ref().unwrap();
        assert_eq!(fields.len(), 100);
        assert_eq!(fields["c99"], json!(long));
    }

    #[test]
    fn csv_header_problems_stop_before_any_row() {
        let open = |bytes: &[u8]| {
            let (_dir, path) = file("rows.csv", bytes);
            DataReader::open(&path).err().unwrap()
        };
        assert!(matches!(open(b"\n\n"), DataError::NoHeader { .. }));
        assert!(matches!(
            open(b"a,,b\n"),
            DataError::UnnamedColumn { position: 2, .. }
        ));
        let duplicate = open(b"a, b ,b\n1,2,3\n");
        assert!(
            matches!(&duplicate, DataError::DuplicateColumn { column, .. } if column == "b"),
            "{duplicate}"
        );
        assert!(duplicate.to_string().contains("rename one"), "{duplicate}");
        assert!(matches!(open(b"\xFF\n"), DataError::HeaderNotUtf8 { .. }));
    }

    #[test]
    fn preview_reads_the_first_rows_bad_ones_included() {
        let (_dir, path) = file("rows.jsonl", b"{\"a\": 1}\nnope\n{\"a\": 3}\n{\"a\": 4}\n");
        let preview = preview(&path, 3).unwrap();
        assert_eq!(preview.format, DataFormat::Jsonl);
        assert_eq!(preview.columns, ["a"]);
        assert_eq!(preview.rows.len(), 3);
        assert!(matches!(
            preview.rows[1].fields,
            Err(BadRow::MalformedJson { line: 2, .. })
        ));
        assert_eq!(preview.rows[2].line, 3);

        let (_dir, path) = file("rows.csv", b"a\n1\n");
        let preview = super::preview(&path, 10).unwrap();
        assert_eq!((preview.format, preview.rows.len()), (DataFormat::Csv, 1));
    }

    /// 100,000 rows streamed: the reader is an iterator counted as it goes, nothing collected.
    #[test]
    fn a_large_jsonl_file_streams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.jsonl");
        let mut out = std::io::BufWriter::new(File::create(&path).unwrap());
        for i in 0..100_000 {
            writeln!(out, "{{\"id\": {i}, \"question\": \"What is {i} + 1?\"}}").unwrap();
        }
        drop(out);
        let (mut count, mut last_line) = (0u64, 0u64);
        for row in DataReader::open(&path).unwrap() {
            let row = row.unwrap();
            assert_eq!(row.index, count);
            assert!(row.fields.is_ok());
            last_line = row.line;
            count += 1;
        }
        assert_eq!((count, last_line), (100_000, 100_000));
    }
}
