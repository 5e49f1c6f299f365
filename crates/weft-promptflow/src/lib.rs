//! Imports a Prompt flow project (a folder with `flow.dag.yaml`) as a Weft flow, with a report of
//! what mapped, what was approximated and what could not map, each with its node and line.
//!
//! The format is Prompt flow's
//! [flow YAML schema](https://microsoft.github.io/promptflow/reference/flow-yaml-schema-reference.html)
//! (`docs/reference/flow-yaml-schema-reference.md` in microsoft/promptflow): `inputs`, `outputs`
//! (`reference`), `nodes` (`name`, `type`, `source`, `inputs`, `connection`, `api`, `activate`,
//! `aggregation`, `use_variants`), `node_variants`, `environment_variables`,
//! `additional_includes`. The original folder is never written to except for the new files
//! [`write`] adds beside it, and never over an existing file unless asked.

mod map;

use std::path::{Path, PathBuf};

use serde::Serialize;
use weft_flow::FlowDocument;

pub use map::{EvalOut, EvalVariant};

/// How one thing of the Prompt flow file came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Weft does the same thing.
    Mapped,
    /// Weft does something close; the message says what differs.
    Approximated,
    /// Left out; the message says what to do instead.
    Unmapped,
}

/// One line of the import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportEntry {
    pub severity: Severity,
    /// The Prompt flow node (or input, output, top-level key) it is about.
    pub node: String,
    /// Its 1-based line in flow.dag.yaml.
    pub line: Option<usize>,
    pub message: String,
}

/// A Prompt flow project read as a Weft flow.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The flow's name: its folder's name (Prompt flow files name none), used for the files.
    pub name: String,
    pub document: FlowDocument,
    /// With `node_variants`: an eval of the flow with one variant per node variant.
    pub eval_file: Option<EvalOut>,
    /// Whether it is an evaluation flow (it had `aggregation: true` nodes): use it as a `flow`
    /// assertion's evaluator from an eval file.
    pub evaluator: bool,
    pub report: Vec<ReportEntry>,
    /// The connections the flow names, with the Weft connection type each needs.
    pub connections_needed: Vec<(String, String)>,
}

/// The files [`write`] made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    pub flow: PathBuf,
    pub eval: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{dir} has no flow.dag.yaml; pass the folder of a Prompt flow DAG flow")]
    NoFlow { dir: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}{}: {message}; fix the file and import again", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Parse {
        path: String,
        line: Option<u64>,
        message: String,
    },
    #[error("{path} already exists; pass --out {path} to replace it, or another --out path")]
    Exists { path: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The file a flow folder holds.
pub const FLOW_FILE: &str = "flow.dag.yaml";

/// Reads `dir/flow.dag.yaml` (and the templates and Python files it names) as a Weft flow.
pub fn import_dir(dir: &Path) -> Result<Imported, ImportError> {
    let path = dir.join(FLOW_FILE);
    if !path.is_file() {
        return Err(ImportError::NoFlow {
            dir: dir.display().to_string(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let value: serde_json::Value = serde_saphyr::from_str(&text).map_err(|err| {
        let parsed = weft_flow::ParseError::from_yaml(&err);
        ImportError::Parse {
            path: path.display().to_string(),
            line: parsed.line,
            message: parsed.message,
        }
    })?;
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "flow".into());
    map::Importer::new(dir, &text, &name).import(&value)
}

/// The default flow file for a folder: `<dir>/<name>.weft.yaml`.
pub fn default_out(dir: &Path, imported: &Imported) -> PathBuf {
    dir.join(format!("{}.weft.yaml", imported.name))
}

/// Writes the flow (and its eval file, `<stem>.eval.yaml` beside it). Without `out` the flow
/// goes to [`default_out`] and an existing flow or eval file is refused; a named `out` (and the
/// eval file beside it) is written even when it exists (the caller asked for that path).
pub fn write(dir: &Path, imported: &Imported, out: Option<&Path>) -> Result<Written, ImportError> {
    let flow = out.map_or_else(|| default_out(dir, imported), Path::to_path_buf);
    if out.is_none() && flow.exists() {
        return Err(ImportError::Exists {
            path: flow.display().to_string(),
        });
    }
    let eval = imported.eval_file.as_ref().map(|file| {
        let stem = flow
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .trim_end_matches(".weft.yaml")
                    .to_owned()
            })
            .unwrap_or_else(|| imported.name.clone());
        let path = flow.with_file_name(format!("{stem}.eval.yaml"));
        let mut file = file.clone();
        file.flow = flow
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (path, file)
    });
    if let Some((path, _)) = &eval
        && path.exists()
        && out.is_none()
    {
        return Err(ImportError::Exists {
            path: path.display().to_string(),
        });
    }
    let put = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|source| ImportError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    put(&flow, imported.document.to_yaml())?;
    if let Some((path, file)) = &eval {
        put(path, file.to_yaml())?;
    }
    Ok(Written {
        flow,
        eval: eval.map(|(path, _)| path),
    })
}
