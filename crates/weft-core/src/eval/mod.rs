//! Evaluations: an eval file's variants each run as a batch, their rows checked by weft-eval,
//! the verdicts, summaries, thresholds and baseline changes stored as an eval run.

mod dataset;
mod file;
mod history;
mod plan;
mod run;
mod views;

pub use views::{
    AS_IS, EvalCell, EvalEvent, EvalFileView, EvalOrder, EvalReport, EvalRowView, EvalStatus,
    EvalView,
};
