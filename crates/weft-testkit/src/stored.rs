//! What tests look for in what Weft wrote: every byte it keeps under a folder, and whether some
//! bytes hold a secret. One definition, so that "the key is nowhere on disk" means the same in
//! every test.

use std::path::Path;

/// Every byte of every file under `dir`, subfolders included (the database, its WAL, and
/// anything Weft keeps beside them).
pub fn stored_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            bytes.extend(stored_bytes(&path));
        } else if let Ok(content) = std::fs::read(&path) {
            bytes.extend(content);
        }
    }
    bytes
}

/// Whether `needle` occurs in `haystack`, byte for byte.
pub fn holds(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_secret_in_a_nested_file_and_not_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("deep")).unwrap();
        std::fs::write(dir.path().join("a.db"), b"nothing here").unwrap();
        std::fs::write(dir.path().join("deep").join("b.wal"), b"..sk-123..").unwrap();
        let bytes = stored_bytes(dir.path());
        assert!(holds(&bytes, "sk-123"));
        assert!(!holds(&bytes, "sk-124"));
        assert!(!holds(&bytes, ""), "an empty needle would match anything");
    }
}
