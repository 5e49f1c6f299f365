//! CSV records, parsed by `csv-core` (the `csv` crate's parser) fed one physical line at a
//! time, so that a record's line is the line where it starts: the `csv` crate's reader gives a
//! record the position where the one before it ended, which is off after blank lines.
//! RFC 4180 quoting, `\n` / `\r\n` line ends, quoted fields that span lines.

use std::io;

use csv_core::{ReadRecordResult, Reader};

use crate::reader::{BadRow, Lines, RawRow, is_blank};

pub(crate) struct CsvRows {
    lines: Lines,
    /// Where the parser is in the current line.
    pos: usize,
    /// The file has ended: the parser is fed empty input until it says so too.
    ended: bool,
    parser: Reader,
    /// One record's fields, back to back, and where each ends.
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl CsvRows {
    pub(crate) fn new(lines: Lines) -> CsvRows {
        CsvRows {
            lines,
            pos: 0,
            ended: false,
            parser: Reader::new(),
            out: vec![0; 1024],
            ends: vec![0; 32],
        }
    }

    /// The next record and the line it starts on; blank lines between records are skipped.
    pub(crate) fn next_record(&mut self) -> io::Result<Option<RawRow<Vec<String>>>> {
        let (mut out_len, mut ends_len) = (0, 0);
        let mut start: Option<u64> = None;
        loop {
            if !self.ended && self.pos >= self.lines.text().len() {
                self.pos = 0;
                self.ended = !self.lines.advance()?;
            }
            let input = if self.ended {
                &[][..]
            } else {
                &self.lines.text()[self.pos..]
            };
            if start.is_none() && !self.ended {
                // Between records, a blank line (or the `\n` of a `\r\n` the parser ended a record
                // before) is no record.
                if is_blank(input) {
                    self.pos = self.lines.text().len();
                    continue;
                }
                start = Some(self.lines.line());
            }
            let (result, read, written, ended) = self.parser.read_record(
                input,
                &mut self.out[out_len..],
                &mut self.ends[ends_len..],
            );
            self.pos += read;
            out_len += written;
            ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let len = self.out.len() * 2;
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    let line = start.unwrap_or(self.lines.line());
                    return Ok(Some((line, self.fields(ends_len, line))));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    fn fields(&self, ends_len: usize, line: u64) -> Result<Vec<String>, BadRow> {
        let mut from = 0;
        self.ends[..ends_len]
            .iter()
            .map(|&end| {
                let field = std::str::from_utf8(&self.out[from..end])
                    .map_err(|_| BadRow::InvalidUtf8 { line })?;
                from = end;
                Ok(field.to_owned())
            })
            .collect()
    }

    /// The line a failed read was reading.
    pub(crate) fn reading_line(&self) -> u64 {
        self.lines.line() + 1
    }
}
