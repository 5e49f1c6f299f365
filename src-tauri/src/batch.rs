//! The one piece of the batch commands that is not a call into the core: the export's file, chosen
//! by the user in the save dialog, which the core writes through a `Write`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use weft_core::{AppCore, AppError, ExportFormat};

/// Writes the batch's rows to `path`: first to a file beside it, moved over `path` once whole, so
/// a failed export leaves neither a partial file nor a damaged earlier one.
pub fn export_to_file(
    core: &AppCore,
    id: &str,
    format: ExportFormat,
    path: &Path,
) -> Result<(), AppError> {
    let io = |what: &str, source| AppError::Io {
        what: format!("{what} {}", path.display()),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let part = path.with_file_name(format!(".{name}.part"));
    let written = File::create(&part)
        .map_err(|err| io("create", err))
        .and_then(|file| {
            let mut out = BufWriter::new(file);
            core.export_batch(id, format, &mut out)?;
            out.flush().map_err(|err| io("write", err))
        })
        .and_then(|()| std::fs::rename(&part, path).map_err(|err| io("replace", err)));
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}

#[cfg(test)]
mod tests {
    use weft_core::Settings;
    use weft_store::{DataDir, Keychain};

    use super::*;

    /// A batch that does not exist exports nothing: no file where it was asked, none beside it,
    /// and an earlier export there is left as it was.
    #[test]
    fn a_failed_export_leaves_no_file() {
        let home = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: DataDir::new(home.path()),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        let core = AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap())
            .unwrap();
        let path = home.path().join("out.jsonl");
        export_to_file(&core, "no-such-batch", ExportFormat::Jsonl, &path).unwrap_err();
        assert!(!path.exists());
        std::fs::write(&path, "earlier\n").unwrap();
        export_to_file(&core, "no-such-batch", ExportFormat::Jsonl, &path).unwrap_err();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "earlier\n");
        let left: Vec<_> = std::fs::read_dir(home.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
