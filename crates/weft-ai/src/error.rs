use std::fmt;
use std::time::Duration;

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    Connect,
    FirstByte,
    Idle,
    /// A caller's limit on the whole call, retries and waits included.
    Overall,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting",
            Self::FirstByte => "waiting for the first byte of the answer",
            Self::Idle => "waiting for the next part of the stream",
            Self::Overall => "in all, retries included",
        })
    }
}

/// A byte count as people read it: whole MiB for the defaults, bytes for anything smaller.
fn size(bytes: &usize) -> String {
    const MIB: usize = 1024 * 1024;
    if *bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn rid(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

/// Everything a call can fail with. Each message says what is wrong and what to do; none
/// contains the API key.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    #[error("the service refused the API key (HTTP 401){}: check the connection's key and that it belongs to this resource. {message}", rid(.request_id))]
    Unauthorized {
        message: String,
        request_id: Option<String>,
    },
    #[error("access denied (HTTP 403){}: the key was read, but this resource refuses the call; check the endpoint's region, the resource's network rules and the key's permissions. {message}", rid(.request_id))]
    Forbidden {
        message: String,
        request_id: Option<String>,
    },
    #[error("nothing at {url} (HTTP 404){}: {hint}. {message}", rid(.request_id))]
    NotFound {
        url: String,
        hint: String,
        message: String,
        request_id: Option<String>,
    },
    #[error("the service rejected the request (HTTP {status}){}: {message}", rid(.request_id))]
    BadRequest {
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    #[error("the content filter blocked the {}{}: {}; rephrase it", if *.in_prompt { "prompt" } else { "answer" }, rid(.request_id), if .categories.is_empty() { "no category given".to_owned() } else { .categories.join(", ") })]
    ContentFiltered {
        categories: Vec<String>,
        in_prompt: bool,
        request_id: Option<String>,
    },
    #[error("rate limited (HTTP 429){}{}: {message}", rid(.request_id), .retry_after.map(|d| format!("; try again in {} s", d.as_secs_f64().ceil())).unwrap_or_default())]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
        request_id: Option<String>,
    },
    #[error("the service failed (HTTP {status}){}: {message}; try again later", rid(.request_id))]
    Server {
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    #[error("no answer after {} s {phase}; check the endpoint, or raise the timeout if the model is slow", .after.as_secs_f64())]
    Timeout {
        phase: TimeoutPhase,
        after: Duration,
    },
    #[error("could not reach {host}: {message}; check the endpoint URL and your network")]
    Network { host: String, message: String },
    /// Not retried: the same name fails the same way a moment later.
    #[error(
        "could not find {host} in DNS: {message}; check the host name in the endpoint URL, and the VPN or DNS settings a private endpoint needs"
    )]
    Dns { host: String, message: String },
    /// Not retried: a handshake fails the same way every time.
    #[error(
        "the secure connection to {host} failed: {message}; check the URL's scheme and port (https:// to a plain-http server fails like this), the system clock, and any proxy that inspects TLS"
    )]
    Tls { host: String, message: String },
    /// Redirects are never followed, so the key is never sent to an address the user did not give.
    #[error("the endpoint redirected (HTTP {status}) to {to}; use the final URL in the connection")]
    Redirected { status: u16, to: String },
    #[error("the {what} is larger than {}; check that the endpoint URL points at an inference API", size(.limit))]
    TooLarge { what: &'static str, limit: usize },
    #[error("unexpected reply from the service: {what}")]
    Protocol { what: String },
    #[error("the answer broke off after {} characters: {source}", .partial.chars().count())]
    Interrupted {
        /// What had arrived: kept, never retried silently.
        partial: String,
        source: Box<InferenceError>,
    },
    #[error("cancelled")]
    Cancelled { partial: String },
    #[error("{0}")]
    Config(String),
}

impl InferenceError {
    /// The text that arrived before a stream failed or was cancelled.
    pub fn partial_text(&self) -> Option<&str> {
        match self {
            Self::Interrupted { partial, .. } | Self::Cancelled { partial } => Some(partial),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let err = InferenceError::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
            message: "Requests exceeded".into(),
            request_id: Some("abc".into()),
        };
        assert_eq!(
            err.to_string(),
            "rate limited (HTTP 429) (request id abc); try again in 2 s: Requests exceeded"
        );
        let filtered = InferenceError::ContentFiltered {
            categories: vec!["hate".into(), "violence".into()],
            in_prompt: true,
            request_id: None,
        };
        assert_eq!(
            filtered.to_string(),
            "the content filter blocked the prompt: hate, violence; rephrase it"
        );
    }
}
