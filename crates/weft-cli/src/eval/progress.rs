//! What a running eval prints on stderr: the line naming it, then on a terminal a bar per
//! variant as its rows run and are checked, and a line as each variant is done. Off a terminal
//! only the first line: the table at the end says the rest, and a CI log keeps no bar.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use weft_core::{BatchEvent, EvalEvent};
use weft_eval::VariantSummary;

use super::table::{percent, short};

/// A line on stderr that does not tear the bar.
pub(super) fn notice(bar: Option<&ProgressBar>, text: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{text}")),
        None => eprintln!("{text}"),
    }
}

pub(super) struct Progress {
    /// `None` off a terminal.
    bar: Option<ProgressBar>,
    /// Whether the bar has its variant's row count: a spinner until the data file was read
    /// to its end.
    length_known: bool,
}

impl Progress {
    pub(super) fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Self {
            bar,
            length_known: false,
        }
    }

    /// The bar, for the Ctrl-C notices to print above it.
    pub(super) fn bar(&self) -> Option<ProgressBar> {
        self.bar.clone()
    }

    pub(super) async fn print(
        mut self,
        mut events: tokio::sync::mpsc::UnboundedReceiver<EvalEvent>,
    ) {
        while let Some(event) = events.recv().await {
            self.event(&event);
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn event(&mut self, event: &EvalEvent) {
        if let EvalEvent::Started { eval_id, variants } = event {
            // First, once the run is stored, whatever happens next.
            notice(
                self.bar.as_ref(),
                &format!(
                    "eval {eval_id}: {} (weft eval show {})",
                    variants.join(", "),
                    short(eval_id)
                ),
            );
            return;
        }
        let Some(bar) = &self.bar else {
            return;
        };
        match event {
            EvalEvent::Started { .. } => {}
            EvalEvent::Batch {
                variant,
                event: BatchEvent::Progress(progress),
            } => {
                bar.set_prefix(variant.clone());
                if let (Some(total), false) = (progress.total, self.length_known) {
                    bar.set_length(total);
                    bar.set_style(bar_style());
                    self.length_known = true;
                }
                bar.set_position(progress.done);
                bar.set_message(format!(
                    "running, {} failed, {:.1} rows/s",
                    progress.failed, progress.rows_per_s
                ));
            }
            EvalEvent::Batch {
                variant,
                event: BatchEvent::BadRow { message, .. },
            } => bar.println(format!("{variant}: {message}")),
            EvalEvent::Batch { .. } => {}
            EvalEvent::Checking {
                variant,
                done,
                total,
            } => {
                bar.set_prefix(variant.clone());
                bar.set_length(*total);
                bar.set_style(bar_style());
                self.length_known = true;
                bar.set_position(*done);
                bar.set_message("checking");
            }
            EvalEvent::VariantDone(summary) => {
                bar.println(done_line(summary));
                // The next variant reads the data again.
                bar.set_position(0);
                bar.set_style(spinner_style());
                self.length_known = false;
            }
        }
    }
}

/// `✓ mini: 5 of 5 rows passed (100.0 %)`, or ✗ when one did not.
fn done_line(summary: &VariantSummary) -> String {
    let mark = if summary.failed == 0 { '✓' } else { '✗' };
    format!(
        "{mark} {}: {} of {} rows passed ({})",
        summary.variant,
        summary.passed,
        summary.rows,
        percent(summary.pass_rate)
    )
}

// Templates of ours that are known to parse; the default styles are the fallback all the same.
// wide_msg: cut to the terminal's width, so the bar never wraps onto a second line.
fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {pos} rows  {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} {bar:20} {pos}/{len} rows  {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}
