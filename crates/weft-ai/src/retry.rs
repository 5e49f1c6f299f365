use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// When and how often to try again. Defaults: at most 8 retries within 60 s in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The whole call, retries and waits included, ends by then.
    pub budget: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 8,
            budget: Duration::from_secs(60),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(16),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter": half fixed, half random, so retries from many
    /// clients spread out but never collapse to zero.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Statuses worth another try: timeouts, throttling and transient server failures.
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The longest wait a header can ask for: a bigger number (`retry-after: 1e20`) reads as this,
/// and the budget check then turns it into an error instead of a wait.
const LONGEST_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Seconds from a header as a wait, clamped to [`LONGEST_WAIT`]; `None` for negative or NaN.
fn clamped(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(seconds).map_or(LONGEST_WAIT, |wait| wait.min(LONGEST_WAIT)))
}

/// The wait a response asks for: `retry-after-ms`, `x-ms-retry-after-ms`, or `Retry-After` as
/// seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(wait) = header(name)
            .and_then(|v| v.parse::<f64>().ok())
            .and_then(|ms| clamped(ms / 1000.0))
        {
            return Some(wait);
        }
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return clamped(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn reads_all_three_headers_and_the_date_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "1500")]), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ms-retry-after-ms", "250.5")]), now),
            Some(Duration::from_micros(250_500))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        // The millisecond headers are more precise, so they win.
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "9"), ("retry-after-ms", "100")]),
                now
            ),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn huge_or_negative_waits_neither_panic_nor_wrap() {
        let now = SystemTime::UNIX_EPOCH;
        for (name, value) in [
            ("retry-after", "1e20"),
            ("retry-after-ms", "1e300"),
            ("retry-after", "inf"),
        ] {
            assert_eq!(
                retry_after(&headers(&[(name, value)]), now),
                Some(LONGEST_WAIT),
                "{name}: {value}"
            );
        }
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "NaN")]), now),
            None
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..=10 {
            let exp =
                (Duration::from_millis(500) * 2u32.pow(retry - 1)).min(Duration::from_secs(16));
            let delay = policy.backoff(retry);
            assert!(delay >= exp / 2 && delay <= exp, "retry {retry}: {delay:?}");
        }
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(status));
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!is_retryable(status));
        }
    }
}
