//! Evaluations: the `*.eval.yaml` format (which flow, which data, which variants, which
//! assertions), the assertions checked on each row a batch ran, the per-variant summaries, the
//! thresholds a CI run holds to, the rows that changed against a baseline, and JUnit XML.
//! Running the batches is weft-core's; this crate judges what they produced.

mod assertions;
mod check;
mod compare;
mod evaluator;
mod expected;
mod file;
mod judge;
mod junit;
mod reference;
mod schema;
mod summary;
mod threshold;
mod variant;

pub use check::{Checker, Models, RowUnderTest, RowVerdict, Verdict};
pub use compare::{Change, RowPass, compare};
pub use file::{AssertionKind, AssertionSpec, EvalFile, EvalFileError, Price, Thresholds};
pub use junit::{JunitInput, JunitRow, JunitSuite, junit};
pub use schema::schema;
pub use summary::{Summariser, TokenCount, VariantSummary};
pub use threshold::{ThresholdCheck, check_thresholds};
pub use variant::{Variant, VariantError, apply_variant};
