//! Clients for the services the tool nodes call (Azure AI Content Safety, Azure AI Search,
//! SerpApi, any HTTP endpoint) and for the Azure OpenAI Batch API, each on the model client's
//! [`Transport`](crate::transport): the same timeouts, redirect refusal, reply cap, cancellation
//! and retries, and their keys masked in every URL and message they report.

pub mod batch_api;
pub mod content_safety;
pub mod http;
pub mod search;
pub mod serp;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::InferenceError;
use crate::transport::{ClientEvent, Watch};

/// The caller's handles on one service call: cancelling the token ends the call at once,
/// waiting or reading; `events`, when given, hears each retry.
#[derive(Debug, Clone, Default)]
pub struct Handles {
    pub cancel: CancellationToken,
    pub events: Option<UnboundedSender<ClientEvent>>,
}

impl Handles {
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            cancel,
            events: None,
        }
    }

    pub fn with_events(mut self, events: UnboundedSender<ClientEvent>) -> Self {
        self.events = Some(events);
        self
    }

    pub(crate) fn watch(&self) -> Watch<'_> {
        Watch {
            cancel: &self.cancel,
            events: self.events.as_ref(),
        }
    }
}

/// A service's base URL (`https://<name>.<service domain>`, maybe with a path a proxy adds),
/// without query or fragment; `example` is what the error suggests instead.
pub(crate) fn base_url(
    service: &str,
    endpoint: &str,
    example: &str,
) -> Result<Url, InferenceError> {
    let mut url = Url::parse(endpoint.trim()).map_err(|err| {
        InferenceError::Config(format!(
            "the {service} endpoint `{endpoint}` is not a URL ({err}); it looks like {example}"
        ))
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err(InferenceError::Config(format!(
            "the {service} endpoint `{endpoint}` is not an http(s) URL; it looks like {example}"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// `base` with `segments` appended to its path (each one percent-encoded as a path segment).
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}
