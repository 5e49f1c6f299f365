//! The ports a cassette stands in for: each call is put in canonical form, then answered from
//! the file, refused (strict), or passed to the live port and, when recording, written down.
//! A request that cannot be put in canonical form (no deployment, a URL that is not one) goes
//! to the live port untouched, which refuses it with its own message before sending anything.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::time::Instant;
use weft_ai::content_safety::{Analysis, AnalyzeRequest, ContentSafetyTarget};
use weft_ai::http::{HttpRequest, HttpResponse};
use weft_ai::search::{Document, SearchRequest, SearchTarget};
use weft_ai::serp::{OrganicResult, SerpRequest, SerpTarget};
use weft_ai::{
    Call, ChatRequest, ChatResponse, ClientEvent, EmbeddingsRequest, EmbeddingsResponse, Handles,
    InferenceError,
};
use weft_engine::services::{
    BoxFuture, ContentSafety, DocumentSearch, HttpClient, ModelClient, Services, WebSearch,
};

use crate::Pace;
use crate::answer::{Recordable, decode, encode};
use crate::canonical::{Canonical, Service};
use crate::cassette::{Cassette, Decision};
use crate::tape::{Chunk, Line};

/// Every port of a run, through one cassette.
pub(crate) struct Taped {
    cassette: Arc<Cassette>,
    live: Services,
}

impl Taped {
    pub(crate) fn new(cassette: Arc<Cassette>, live: Services) -> Self {
        Self { cassette, live }
    }

    /// One unstreamed call: replayed, refused, or `live` (recorded when the mode says so).
    async fn through<T: Recordable>(
        &self,
        call: Canonical,
        live: impl Future<Output = Result<T, InferenceError>>,
    ) -> Result<T, InferenceError> {
        match self.cassette.decide(&call) {
            Decision::Replay(line) => replayed(&line),
            Decision::Refuse(message) => Err(InferenceError::NotRecorded { message }),
            Decision::Live { record } => {
                let started = Instant::now();
                let result = live.await;
                match (&result, record) {
                    (Ok(answer), true) => self.keep(&call, answer, None, started.elapsed()),
                    _ => self.cassette.went_live(),
                }
                result
            }
        }
    }

    fn keep<T: Recordable>(
        &self,
        call: &Canonical,
        answer: &T,
        chunks: Option<Vec<Chunk>>,
        took: Duration,
    ) {
        match encode(answer) {
            Ok(response) => self.cassette.keep(call, response, chunks, took),
            // Not writable (a NaN in a vector): the answer is used, just not recorded.
            Err(_) => self.cassette.went_live(),
        }
    }

    /// A streamed chat: the recorded pieces go to `call.events` at the cassette's pace; a live
    /// stream's pieces are forwarded as they come and, when recording, kept with their time.
    async fn stream(
        &self,
        call: &Call<'_>,
        request: &ChatRequest,
        canonical: Canonical,
    ) -> Result<ChatResponse, InferenceError> {
        let record = match self.cassette.decide(&canonical) {
            Decision::Replay(line) => return self.replay_stream(call, &line).await,
            Decision::Refuse(message) => return Err(InferenceError::NotRecorded { message }),
            Decision::Live { record } => record,
        };
        let started = Instant::now();
        let (sender, mut pieces) = unbounded_channel();
        let mut inner = call.clone();
        inner.events = Some(sender);
        let mut chunks = Vec::new();
        let mut heard = |event: ClientEvent| {
            if let ClientEvent::Delta(text) = &event {
                chunks.push(Chunk {
                    after_ms: millis(started.elapsed()),
                    text: text.clone(),
                });
            }
            forward(call.events.as_ref(), event);
        };
        let result = {
            let live = self.live.model.chat_stream(&inner, request);
            tokio::pin!(live);
            loop {
                tokio::select! {
                    biased;
                    Some(event) = pieces.recv() => heard(event),
                    result = &mut live => break result,
                }
            }
        };
        while let Ok(event) = pieces.try_recv() {
            heard(event);
        }
        match (&result, record) {
            (Ok(answer), true) => self.keep(&canonical, answer, Some(chunks), started.elapsed()),
            _ => self.cassette.went_live(),
        }
        result
    }

    async fn replay_stream(
        &self,
        call: &Call<'_>,
        line: &Line,
    ) -> Result<ChatResponse, InferenceError> {
        let answer = replayed::<ChatResponse>(line)?;
        let started = Instant::now();
        let mut partial = String::new();
        for chunk in line.chunks.iter().flatten() {
            if self.cassette.pace() == Pace::Recorded {
                let due = started + Duration::from_millis(chunk.after_ms);
                tokio::select! {
                    () = tokio::time::sleep_until(due) => {}
                    () = call.cancel.cancelled() => return Err(InferenceError::Cancelled { partial }),
                }
            } else if call.cancel.is_cancelled() {
                return Err(InferenceError::Cancelled { partial });
            }
            partial.push_str(&chunk.text);
            forward(call.events.as_ref(), ClientEvent::Delta(chunk.text.clone()));
        }
        Ok(answer)
    }
}

fn forward(events: Option<&UnboundedSender<ClientEvent>>, event: ClientEvent) {
    if let Some(events) = events {
        // The node may have stopped listening; the call goes on regardless.
        let _ = events.send(event);
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// A recorded answer, as its port returns it.
fn replayed<T: Recordable>(line: &Line) -> Result<T, InferenceError> {
    decode(&line.response).map_err(|err| InferenceError::Protocol {
        what: format!("a recorded answer does not fit its call: {err}"),
    })
}

fn model(
    service: Service,
    call: &Call<'_>,
    wire: Result<(url::Url, serde_json::Value), InferenceError>,
    stream: bool,
) -> Option<Canonical> {
    let (url, body) = wire.ok()?;
    Some(Canonical::model(
        service,
        &url,
        call.deployment,
        body,
        stream,
        call.credential.key(),
    ))
}

impl ModelClient for Taped {
    fn chat<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        let live = self.live.model.chat(call, request);
        match model(Service::Chat, call, call.chat_wire(request, false), false) {
            Some(canonical) => Box::pin(self.through(canonical, live)),
            None => live,
        }
    }

    fn chat_stream<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, InferenceError>> {
        match model(Service::Chat, call, call.chat_wire(request, true), true) {
            Some(canonical) => Box::pin(self.stream(call, request, canonical)),
            None => self.live.model.chat_stream(call, request),
        }
    }

    fn embeddings<'a>(
        &'a self,
        call: &'a Call<'_>,
        request: &'a EmbeddingsRequest,
    ) -> BoxFuture<'a, Result<EmbeddingsResponse, InferenceError>> {
        let live = self.live.model.embeddings(call, request);
        match model(
            Service::Embeddings,
            call,
            call.embeddings_wire(request),
            false,
        ) {
            Some(canonical) => Box::pin(self.through(canonical, live)),
            None => live,
        }
    }
}

impl ContentSafety for Taped {
    fn analyze<'a>(
        &'a self,
        target: &'a ContentSafetyTarget,
        request: &'a AnalyzeRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Analysis, InferenceError>> {
        let live = self.live.content_safety.analyze(target, request, handles);
        match serde_json::to_value(request) {
            Ok(body) => Box::pin(self.through(
                Canonical::service(Service::ContentSafety, &target.url(), Some(body)),
                live,
            )),
            Err(_) => live,
        }
    }
}

impl WebSearch for Taped {
    fn search<'a>(
        &'a self,
        target: &'a SerpTarget,
        request: &'a SerpRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<OrganicResult>, InferenceError>> {
        let live = self.live.web_search.search(target, request, handles);
        match request.url(target) {
            Ok(url) => {
                Box::pin(self.through(Canonical::service(Service::WebSearch, &url, None), live))
            }
            Err(_) => live,
        }
    }
}

impl DocumentSearch for Taped {
    fn query<'a>(
        &'a self,
        target: &'a SearchTarget,
        request: &'a SearchRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<Vec<Document>, InferenceError>> {
        let live = self.live.document_search.query(target, request, handles);
        match request.body() {
            Ok(body) => Box::pin(self.through(
                Canonical::service(
                    Service::DocumentSearch,
                    &target.url(&request.index),
                    Some(body),
                ),
                live,
            )),
            Err(_) => live,
        }
    }
}

impl HttpClient for Taped {
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest,
        handles: &'a Handles,
    ) -> BoxFuture<'a, Result<HttpResponse, InferenceError>> {
        let live = self.live.http.send(request, handles);
        Box::pin(self.through(Canonical::http(request), live))
    }
}
