//! Eval files as the Evaluate panel opens and saves them.

use std::path::Path;

use weft_eval::EvalFile;

use crate::eval::plan::{base_dir, read_eval_file};
use crate::eval::views::EvalFileView;
use crate::flows::{Access, write_atomically};
use crate::{AppCore, AppError};

/// What an eval file's name ends with.
const EVAL_SUFFIX: &str = ".eval.yaml";

impl AppCore {
    /// The eval file at `path`, with the flow and data it names resolved against its folder.
    pub fn open_eval(&self, path: &Path) -> Result<EvalFileView, AppError> {
        let (_, file) = read_eval_file(path)?;
        let base = base_dir(path);
        Ok(EvalFileView {
            flow_path: base.join(&file.flow).display().to_string(),
            data_path: base.join(&file.data).display().to_string(),
            file,
        })
    }

    /// Writes `view.file` to `path` (a `*.eval.yaml`), replacing it whole. The file holds
    /// connection names, never their keys: what the form gives is all it writes.
    pub fn save_eval(&self, path: &Path, view: EvalFileView) -> Result<(), AppError> {
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() > EVAL_SUFFIX.len() && n.ends_with(EVAL_SUFFIX));
        if !named {
            return Err(AppError::Invalid(format!(
                "{} is not an eval file name; name it <something>{EVAL_SUFFIX}",
                path.display()
            )));
        }
        let text = view.file.to_yaml();
        // A file that would not open again is not written (a value the format refuses).
        EvalFile::parse(&text).map_err(|err| {
            AppError::Invalid(format!(
                "the eval file would not read back: {err}; fix the form"
            ))
        })?;
        write_atomically(path, text.as_bytes(), Access::AsBefore, || Ok(()))?;
        Ok(())
    }
}
