//! Weft's batch datasets: a JSONL or CSV file read one row at a time ([`DataReader`]), and the
//! column mapping that turns a row into a flow's inputs ([`ColumnMapping`], Prompt flow's
//! `--column-mapping`). No IO beyond reading the data file, no async: the batch runner pulls
//! rows from the reader as fast as it can run them, so memory never grows with the file.

mod csv;
mod jsonl;
mod mapping;
mod reader;

pub use mapping::{ColumnMapping, MappingError, MappingValue, RowFailure, ValueError};
pub use reader::{BadRow, DataError, DataFormat, DataReader, DataRow, Preview, preview};

#[cfg(test)]
mod testdata {
    use std::io::Write;
    use std::path::PathBuf;

    /// A data file named `name` holding `bytes`, in a folder removed when the guard drops.
    pub fn file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        (dir, path)
    }
}
