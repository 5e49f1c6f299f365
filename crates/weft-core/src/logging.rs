//! What Weft logs. `WEFT_LOG` takes a level for Weft's own crates only: the HTTP, TLS and D-Bus
//! crates stay at `warn` whatever it says, since at debug and trace they print request headers
//! and D-Bus payloads, where keys travel.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The filter for `WEFT_LOG` (a level: `error`, `warn`, `info`, `debug`, `trace`), falling back
/// to `default` when it is unset or not a level.
pub fn log_filter(weft_log: Option<&str>, default: &str) -> EnvFilter {
    let level = weft_log
        .and_then(|value| value.trim().parse::<LevelFilter>().ok())
        .or_else(|| default.parse().ok())
        .unwrap_or(LevelFilter::WARN);
    // Directive targets match by prefix: `weft` covers weft_core, weft_ai, weft_desktop and the rest.
    EnvFilter::new(format!("warn,weft={level}"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(weft_log: Option<&str>) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(log_filter(weft_log, "info"))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "weft_ai::client", "weft trace");
            tracing::info!(target: "weft_core", "weft info");
            tracing::trace!(target: "hyper::proto::h1", "api-key: sk-in-a-header");
            tracing::debug!(target: "zbus", "secret payload");
            tracing::warn!(target: "h2", "h2 warning");
        });
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn only_weft_crates_take_the_level() {
        let all = logged(Some("trace"));
        assert!(
            all.contains("weft trace") && all.contains("weft info"),
            "{all}"
        );
        assert!(all.contains("h2 warning"), "{all}");
        assert!(
            !all.contains("sk-in-a-header") && !all.contains("secret payload"),
            "{all}"
        );
        let default = logged(None);
        assert!(
            default.contains("weft info") && !default.contains("weft trace"),
            "{default}"
        );
        // A directive for another crate is not a level: it is not obeyed.
        let directive = logged(Some("hyper=trace,zbus=trace"));
        assert!(!directive.contains("sk-in-a-header"), "{directive}");
        assert!(directive.contains("weft info"), "{directive}");
    }
}
