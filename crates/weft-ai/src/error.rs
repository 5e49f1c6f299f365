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
/// contains the API key or an Entra ID token.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    #[error("the service refused the API key (HTTP 401){}: check the connection's key and that it belongs to this resource. {message}", rid(.request_id))]
    Unauthorized {
        message: String,
        request_id: Option<String>,
    },
    #[error("access denied (HTTP 403){}: the credential was accepted, but this resource refuses the call; check the endpoint's region, the resource's network rules and the key's permissions (with Microsoft Entra ID, your role assignment). {message}", rid(.request_id))]
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
    /// The Model Inference API (`…/models`) is gone from this resource. Not retried.
    #[error(
        "this resource no longer serves the /models API (Azure retired the Azure AI Model Inference API on 2026-08-26); switch the connection to v1"
    )]
    RetiredApi {
        status: u16,
        request_id: Option<String>,
    },
    #[error("the service refused the Microsoft Entra ID token (HTTP 401){}: check that your account has the Cognitive Services User role (Cognitive Services OpenAI User on an Azure OpenAI resource) on this resource, that the connection's token_scope fits it (the token was for {scope}), and allow 5 minutes for a new role assignment. {message}", rid(.request_id))]
    TokenRefused {
        scope: String,
        message: String,
        request_id: Option<String>,
    },
    /// A cassette replaying strictly (or filling, with nothing live to ask) holds no answer for
    /// this request. Not retried: the file holds the same a moment later. The message names the
    /// cassette and how the closest recorded request differs.
    #[error("{message}")]
    NotRecorded { message: String },
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error("{0}")]
    Config(String),
}

/// The developer tool a Microsoft Entra ID token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInCli {
    AzureCli,
    AzureDeveloperCli,
}

impl SignInCli {
    pub fn name(self) -> &'static str {
        match self {
            Self::AzureCli => "Azure CLI",
            Self::AzureDeveloperCli => "Azure Developer CLI",
        }
    }

    /// The command that signs in, in `tenant` when one is named.
    fn login(self, tenant: Option<&str>) -> String {
        match (self, tenant) {
            (Self::AzureCli, None) => "az login".to_owned(),
            (Self::AzureCli, Some(tenant)) => format!("az login --tenant {tenant}"),
            (Self::AzureDeveloperCli, None) => "azd auth login".to_owned(),
            (Self::AzureDeveloperCli, Some(tenant)) => {
                format!("azd auth login --tenant-id {tenant}")
            }
        }
    }
}

/// Why no Microsoft Entra ID token could be had. No text here holds a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error(
        "Microsoft Entra ID sign-in needs the Azure CLI: install it and run `az login` (or the Azure Developer CLI and `azd auth login`)"
    )]
    NoCli,
    #[error("Microsoft Entra ID sign-in: the {} is not signed in, or its sign-in has expired{}; run `{}`", .cli.name(), .code.as_deref().map(|code| format!(" ({code})")).unwrap_or_default(), .cli.login(.tenant.as_deref()))]
    NotSignedIn {
        cli: SignInCli,
        /// The tenant the CLI says to sign in to.
        tenant: Option<String>,
        /// The Entra ID error code (`AADSTS…`) the CLI reported.
        code: Option<String>,
    },
    #[error("Microsoft Entra ID sign-in through the {} failed: {message}", .cli.name())]
    Failed { cli: SignInCli, message: String },
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
        let expired = SignInError::NotSignedIn {
            cli: SignInCli::AzureCli,
            tenant: None,
            code: None,
        };
        assert_eq!(
            expired.to_string(),
            "Microsoft Entra ID sign-in: the Azure CLI is not signed in, or its sign-in has expired; run `az login`"
        );
    }
}
