//! What a running batch prints: its progress on stderr (a bar on a terminal, plain lines
//! otherwise, throttle waits and bad rows as notices) and its summary at the end.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use weft_core::{BatchEvent, BatchProgress, BatchSummary};

use super::{rows_ended, short};

fn seconds(ms: u64) -> String {
    // Precision in proportion: a 3.2 s batch and a 2 h one.
    let secs = ms as f64 / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
    }
}

pub(super) fn render_summary(summary: &BatchSummary) -> String {
    format!(
        "batch      {}\nstatus     {}\nrows       {}\ntime       {}, {:.1} rows/s\nthrottled  {}\ntokens     {} prompt, {} completion\n",
        summary.batch_id,
        summary.status.as_str(),
        rows_ended(
            summary.total,
            summary.succeeded,
            summary.failed,
            summary.cancelled
        ),
        seconds(summary.elapsed_ms),
        summary.rows_per_s,
        summary.throttles,
        summary.prompt_tokens,
        summary.completion_tokens,
    )
}

/// One plain progress line: what the bar shows, for logs and pipes.
fn progress_line(progress: &BatchProgress, pause: Option<&Pause>) -> String {
    let total = progress
        .total
        .map_or_else(|| "?".to_owned(), |total| total.to_string());
    format!(
        "{}/{total} rows, {}",
        progress.done,
        progress_detail(progress, pause)
    )
}

fn progress_detail(progress: &BatchProgress, pause: Option<&Pause>) -> String {
    let eta = progress
        .eta_ms
        .map(|ms| format!("ETA {}, ", seconds(ms)))
        .unwrap_or_default();
    let pause = pause
        .map(|pause| {
            format!(
                "; {} asked to wait {}",
                pause.endpoint,
                seconds(pause.wait_ms)
            )
        })
        .unwrap_or_default();
    // Failures and the ETA first: an 80-column terminal cuts the bar's line at about here.
    format!(
        "{} failed, {eta}{:.1} rows/s, concurrency {}, {} throttled{pause}",
        progress.failed, progress.rows_per_s, progress.concurrency, progress.throttles
    )
}

/// An endpoint's `retry-after`: every call to it waits, so the rows/s drop has a reason to show.
struct Pause {
    endpoint: String,
    wait_ms: u64,
    at: Instant,
}

/// How long a pause stays in the progress after it began: long enough to be read.
const PAUSE_SHOWN: Duration = Duration::from_secs(3);

/// A line on stderr that does not tear the bar.
pub(super) fn notice(bar: Option<&ProgressBar>, text: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{text}")),
        None => eprintln!("{text}"),
    }
}

/// Bad rows named one by one up to this many; the rest are counted in the summary and listed by
/// `weft batch show --rows`.
const BAD_ROWS_SHOWN: u64 = 20;

/// How often plain progress lines may come when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(1);

/// The progress of a batch on stderr: a bar on a terminal, else a plain line a second at most.
pub(super) struct Progress {
    /// `None` off a terminal. The Ctrl-C notices take it too, so that they print above the bar.
    pub(super) bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    bad_rows: u64,
    length_known: bool,
    pause: Option<Pause>,
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
            last_line: None,
            bad_rows: 0,
            length_known: false,
            pause: None,
        }
    }

    pub(super) async fn print(
        mut self,
        mut events: tokio::sync::mpsc::UnboundedReceiver<BatchEvent>,
    ) {
        while let Some(event) = events.recv().await {
            self.event(&event);
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn event(&mut self, event: &BatchEvent) {
        match event {
            BatchEvent::Started {
                batch_id,
                resumed,
                skipped,
            } => {
                // First, once the batch is stored: whatever happens next, the user knows what
                // to resume.
                self.notice(&format!(
                    "batch {batch_id} (resume with `weft batch resume {}`)",
                    short(batch_id)
                ));
                if *resumed {
                    self.notice(&format!("resuming: {skipped} rows already succeeded"));
                }
            }
            BatchEvent::Progress(progress) => self.progress(progress),
            // A 429 without a wait is counted in the progress' throttles; a wait is shown in it
            // (not as lines of its own, which a 429 storm would flood).
            BatchEvent::Throttled { wait_ms: 0, .. } => {}
            BatchEvent::Throttled { endpoint, wait_ms } => {
                self.pause = Some(Pause {
                    endpoint: endpoint.clone(),
                    wait_ms: *wait_ms,
                    at: Instant::now(),
                });
            }
            BatchEvent::BadRow { message, .. } => {
                self.bad_rows += 1;
                if self.bad_rows <= BAD_ROWS_SHOWN {
                    self.notice(message);
                } else if self.bad_rows == BAD_ROWS_SHOWN + 1 {
                    self.notice("more bad rows: `weft batch show ID --rows` lists them all");
                }
            }
            // The batch ends at once; its summary's message says why, once, after the summary.
            BatchEvent::Stopped { .. } => {}
            // Once a poll (every 60 s): the rows stay at 0 until Azure's answers are back.
            BatchEvent::Remote {
                status,
                completed,
                failed,
                total,
            } => self.notice(&format!(
                "Azure batch {status}: {completed} of {total} requests done, {failed} failed"
            )),
        }
    }

    fn progress(&mut self, progress: &BatchProgress) {
        if self
            .pause
            .as_ref()
            .is_some_and(|pause| pause.at.elapsed() > PAUSE_SHOWN)
        {
            self.pause = None;
        }
        let Some(bar) = &self.bar else {
            if self.due() {
                eprintln!("{}", progress_line(progress, self.pause.as_ref()));
            }
            return;
        };
        if let (Some(total), false) = (progress.total, self.length_known) {
            bar.set_length(total);
            bar.set_style(bar_style());
            self.length_known = true;
        }
        bar.set_position(progress.done);
        bar.set_message(progress_detail(progress, self.pause.as_ref()));
    }

    /// Whether a plain line may be printed now (and then counts it as printed).
    fn due(&mut self) -> bool {
        let now = Instant::now();
        let due = self
            .last_line
            .is_none_or(|last| now.duration_since(last) >= PLAIN_EVERY);
        if due {
            self.last_line = Some(now);
        }
        due
    }

    fn notice(&self, text: &str) {
        notice(self.bar.as_ref(), text);
    }
}

fn spinner_style() -> ProgressStyle {
    // A template of ours that is known to parse; the default style is the fallback all the same.
    // wide_msg: cut to the terminal's width, so the bar never wraps onto a second line.
    ProgressStyle::with_template("{spinner} {pos} rows  {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{bar:20} {pos}/{len} rows  {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(total: Option<u64>, eta_ms: Option<u64>) -> BatchProgress {
        BatchProgress {
            done: 120,
            succeeded: 117,
            failed: 3,
            cancelled: 0,
            total,
            rows_per_s: 41.25,
            concurrency: 32,
            in_flight: 30,
            throttles: 2,
            elapsed_ms: 2900,
            eta_ms,
        }
    }

    #[test]
    fn a_plain_line_says_what_the_bar_shows() {
        assert_eq!(
            progress_line(&progress(Some(1000), Some(21_300)), None),
            "120/1000 rows, 3 failed, ETA 21.3 s, 41.2 rows/s, concurrency 32, 2 throttled"
        );
        let pause = Pause {
            endpoint: "contoso.openai.azure.com/gpt-4o".into(),
            wait_ms: 2000,
            at: Instant::now(),
        };
        assert_eq!(
            progress_line(&progress(None, None), Some(&pause)),
            "120/? rows, 3 failed, 41.2 rows/s, concurrency 32, 2 throttled; contoso.openai.azure.com/gpt-4o asked to wait 2.0 s"
        );
        assert_eq!(seconds(3_723_000), "1h 2m 3s");
    }

    #[test]
    fn plain_lines_come_at_most_once_a_second() {
        let mut shown = Progress::new(false);
        assert!(shown.due());
        assert!(!shown.due());
        shown.last_line = Some(Instant::now() - PLAIN_EVERY);
        assert!(shown.due());
    }

    #[test]
    fn a_wait_shows_in_the_progress_for_a_while_and_a_bare_429_does_not() {
        let mut shown = Progress::new(false);
        let throttled = |wait_ms| BatchEvent::Throttled {
            endpoint: "127.0.0.1:9/gpt-4o".into(),
            wait_ms,
        };
        shown.event(&throttled(0));
        assert!(shown.pause.is_none());
        shown.event(&throttled(1500));
        assert_eq!(shown.pause.as_ref().map(|pause| pause.wait_ms), Some(1500));
        shown.event(&BatchEvent::Progress(progress(None, None)));
        assert!(shown.pause.is_some(), "still shown right after");
        shown.pause.as_mut().unwrap().at -= PAUSE_SHOWN + Duration::from_millis(1);
        shown.event(&BatchEvent::Progress(progress(None, None)));
        assert!(shown.pause.is_none());
    }
}
