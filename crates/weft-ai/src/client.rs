//! The inference client: the model calls (chat, streamed chat, embeddings, `/info`) and their
//! credentials, on the shared [`Transport`].

use futures_util::future::BoxFuture;
use reqwest::{Method, Response};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::credential::{Authorization, ENTRA_FALLBACK_SCOPE, EntraSignIn, Tokens, entra_scope};
use crate::endpoint::{Operation, Target};
use crate::error::InferenceError;
use crate::limiter::{Admission, EndpointLoad};
use crate::request::{PreparedRequest, json_body};
use crate::retry::RetryPolicy;
use crate::status::{filtered_categories, model_error};
use crate::stream::Assembly;
use crate::transport::{ClientEvent, Exchanged, Limits, Timeouts, Transport, Watch, cancellable};
use crate::wire::{
    ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, FinishReason, RawCompletion,
    RawEmbeddings, ToolCall,
};
use crate::{Credential, Endpoint};

/// One call: where it goes, its credential, which deployment, and the caller's handles.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub endpoint: &'a Endpoint,
    pub credential: &'a Credential,
    pub deployment: Option<&'a str>,
    /// Cancelling it ends the call, waiting or streaming, right away.
    pub cancel: CancellationToken,
    pub events: Option<UnboundedSender<ClientEvent>>,
}

impl Call<'_> {
    fn watch(&self) -> Watch<'_> {
        Watch {
            cancel: &self.cancel,
            events: self.events.as_ref(),
        }
    }

    /// The URL and JSON body of a chat completion through this call, exactly as
    /// [`Client::chat`] (`stream` false) or [`Client::chat_stream`] (true) send them. The
    /// credential is not in either (it travels in a header): this is what a recording of the
    /// call keys on and keeps.
    pub fn chat_wire(
        &self,
        request: &ChatRequest,
        stream: bool,
    ) -> Result<(Url, Value), InferenceError> {
        let target = self.target(Operation::ChatCompletions)?;
        let bytes = json_body(&request.body(self.endpoint, target.model.as_deref(), stream))?;
        // Through the bytes a live call sends, so an `f32` such as 0.2 reads `0.2`, not the
        // `0.20000000298023224` a direct conversion to a `Value` gives.
        Ok((target.url, reparse(&bytes)?))
    }

    /// The URL and JSON body of an embeddings call, as [`Client::embeddings`] sends them;
    /// no credential, as for [`Self::chat_wire`].
    pub fn embeddings_wire(
        &self,
        request: &EmbeddingsRequest,
    ) -> Result<(Url, Value), InferenceError> {
        let target = self.target(Operation::Embeddings)?;
        let bytes = json_body(&embeddings_body(&target, request)?)?;
        Ok((target.url, reparse(&bytes)?))
    }

    fn target(&self, operation: Operation) -> Result<Target, InferenceError> {
        self.endpoint
            .target(operation, self.deployment)
            .map_err(InferenceError::Config)
    }
}

fn reparse(bytes: &[u8]) -> Result<Value, InferenceError> {
    serde_json::from_slice(bytes)
        .map_err(|err| InferenceError::Config(format!("could not encode the request: {err}")))
}

/// An embeddings request's body, with the deployment in `model` where the endpoint's style
/// carries it there.
fn embeddings_body(target: &Target, request: &EmbeddingsRequest) -> Result<Value, InferenceError> {
    let mut body =
        serde_json::to_value(request).map_err(|err| InferenceError::Config(err.to_string()))?;
    if let (Some(model), Some(map)) = (&target.model, body.as_object_mut()) {
        map.insert("model".into(), Value::String(model.clone()));
    }
    Ok(body)
}

/// The inference client. Make one per process and share it: it pools connections and holds the
/// Microsoft Entra ID tokens its calls fetch (in memory, shared by clones).
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    tokens: Tokens,
}

impl Client {
    pub fn new(timeouts: Timeouts, retry: RetryPolicy) -> Result<Self, InferenceError> {
        Ok(Self {
            transport: Transport::new(timeouts, retry)?,
            tokens: Tokens::new(None),
        })
    }

    /// The same client, but the Azure CLI and the Azure Developer CLI are looked up on `path`
    /// instead of this process's `PATH` (tests put a stand-in `az` there), with a token cache of
    /// its own.
    pub fn with_sign_in_path(mut self, path: impl Into<std::ffi::OsString>) -> Self {
        self.tokens = Tokens::new(Some(path.into()));
        self
    }

    /// Which Microsoft Entra ID sign-in gives tokens for `scope` (None: the default scope), in
    /// which tenant, and until when; the token itself stays in the cache.
    pub async fn entra_sign_in(&self, scope: Option<&str>) -> Result<EntraSignIn, InferenceError> {
        let (scope, _) = entra_scope(scope);
        Ok(self.tokens.get(scope).await?.sign_in)
    }

    /// The same client with other reply limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.transport = self.transport.with_limits(limits);
        self
    }

    /// The same client, but each attempt of its calls (model calls and service calls alike)
    /// first takes a place at its endpoint, under a limit that adapts to the endpoint's answers
    /// (see [`Admission`]); the place is held for that attempt only (for a stream, until it has
    /// been read or dropped), never during a retry's wait. Clones share the limits. Meant for a
    /// batch; a client without it sends at once, as before.
    pub fn with_admission(mut self, admission: Admission) -> Self {
        self.transport = self.transport.with_admission(admission);
        self
    }

    /// The endpoints this client's admission has seen, with their limit and load now (empty
    /// without [`Self::with_admission`]).
    pub fn load(&self) -> Vec<EndpointLoad> {
        self.transport.load()
    }

    /// The transport the service clients of this crate share with the model calls: the same
    /// connection pool, timeouts, retry policy and limits.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// A chat completion, waiting for the whole answer.
    pub async fn chat(
        &self,
        call: &Call<'_>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, InferenceError> {
        let target = self.target(call, Operation::ChatCompletions)?;
        let body = json_body(&request.body(call.endpoint, target.model.as_deref(), false))?;
        let exchanged = self
            .send(call, &target, Method::POST, Some(body), |response| {
                Box::pin(
                    self.transport
                        .read_json::<RawCompletion>(&call.cancel, response),
                )
            })
            .await?;
        completion(exchanged.answer, exchanged.request_id)
    }

    /// A streamed chat completion: each piece of text goes to `call.events` as it arrives, and
    /// the assembled answer is returned at the end.
    pub async fn chat_stream(
        &self,
        call: &Call<'_>,
        request: &ChatRequest,
    ) -> Result<ChatResponse, InferenceError> {
        let target = self.target(call, Operation::ChatCompletions)?;
        let body = json_body(&request.body(call.endpoint, target.model.as_deref(), true))?;
        let Exchanged {
            answer: response,
            request_id,
            // The attempt goes on while the stream is read: its place is given back when this
            // function returns, or when its future is dropped mid-stream.
            permit: _permit,
        } = self
            .send(call, &target, Method::POST, Some(body), |response| {
                Box::pin(async { Ok(response) })
            })
            .await?;
        let mut answer = Assembly::new(request_id, self.transport.limits().body);
        match answer.read(&self.transport, call.watch(), response).await {
            Ok(()) => answer.finish(),
            Err(InferenceError::Cancelled { .. }) => Err(InferenceError::Cancelled {
                partial: answer.text,
            }),
            Err(err) if answer.text.is_empty() && answer.tool_calls.is_empty() => Err(err),
            Err(err) => Err(InferenceError::Interrupted {
                partial: answer.text,
                source: Box::new(err),
            }),
        }
    }

    pub async fn embeddings(
        &self,
        call: &Call<'_>,
        request: &EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, InferenceError> {
        let target = self.target(call, Operation::Embeddings)?;
        let body = json_body(&embeddings_body(&target, request)?)?;
        let raw = self
            .send(call, &target, Method::POST, Some(body), |response| {
                Box::pin(
                    self.transport
                        .read_json::<RawEmbeddings>(&call.cancel, response),
                )
            })
            .await?
            .answer;
        embeddings(raw, request.input.len())
    }

    /// `GET {endpoint}/info`: the model behind a serverless or Foundry endpoint.
    pub async fn info(&self, call: &Call<'_>) -> Result<Value, InferenceError> {
        let target = self.target(call, Operation::Info)?;
        let info = self
            .send(call, &target, Method::GET, None, |response| {
                Box::pin(self.transport.read_json(&call.cancel, response))
            })
            .await?
            .answer;
        Ok(info)
    }

    /// The `Authorization: Bearer` header of a Microsoft Entra ID token for `scope` (None: the
    /// default scope), for this crate's other clients that accept one (the Batch API).
    pub(crate) async fn entra_authorization(
        &self,
        scope: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Authorization, InferenceError> {
        let (scope, _) = entra_scope(scope);
        let token = cancellable(cancel, self.tokens.get(scope)).await??;
        Ok(Authorization::token(&token, scope))
    }

    fn target(&self, call: &Call<'_>, operation: Operation) -> Result<Target, InferenceError> {
        call.target(operation)
    }

    /// Sends a model call through the transport. A Microsoft Entra ID token for the default
    /// scope that is refused (401) is tried once more, at once, with the fallback scope:
    /// Foundry resources take tokens for both audiences, an older resource or a gateway may know
    /// only the Cognitive Services one; when that works, the resource is asked for the fallback
    /// scope from then on.
    async fn send<'a, T>(
        &self,
        call: &Call<'_>,
        target: &Target,
        method: Method,
        body: Option<Vec<u8>>,
        take: impl Fn(Response) -> BoxFuture<'a, Result<T, InferenceError>>,
    ) -> Result<Exchanged<T>, InferenceError> {
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let (auth, may_fall_back) = self.authorize(call, target, None).await?;
        let prepare = |auth: &Authorization| {
            let mut request = PreparedRequest::new(method.clone(), target.url.clone())
                .secret_header(auth.name, auth.value.as_str(), &auth.secret)
                .client_request_id(client_request_id.clone());
            if let Some(org) = &target.organization {
                request = request.header("OpenAI-Organization", org.as_str());
            }
            if let Some(body) = &body {
                request = request.body("application/json", body.clone());
            }
            request
        };
        let exchange = |auth: Authorization| {
            let request = prepare(&auth);
            let take = &take;
            async move {
                let scope = auth.scope.as_deref();
                self.transport
                    .exchange(
                        &request,
                        target.model.as_deref(),
                        call.watch(),
                        |failure| model_error(failure, scope, call.endpoint),
                        take,
                    )
                    .await
            }
        };
        match exchange(auth).await {
            Err(InferenceError::TokenRefused { .. }) if may_fall_back => {
                let (auth, _) = self
                    .authorize(call, target, Some(ENTRA_FALLBACK_SCOPE))
                    .await?;
                let answer = exchange(auth).await?;
                self.tokens.remember_fallback(origin(target));
                Ok(answer)
            }
            other => other,
        }
    }

    /// The header for `call`'s credential, and whether a 401 may be tried once more with the
    /// fallback scope (a token for the default scope only). `scope` overrides the credential's.
    async fn authorize(
        &self,
        call: &Call<'_>,
        target: &Target,
        scope: Option<&str>,
    ) -> Result<(Authorization, bool), InferenceError> {
        match call.credential {
            Credential::Key(key) => Ok((Authorization::key(target.auth, key), false)),
            Credential::Entra { .. } if matches!(call.endpoint, Endpoint::OpenAi { .. }) => {
                Err(InferenceError::Config(
                    "Microsoft Entra ID sign-in works with Azure endpoints only; use an API key for an OpenAI endpoint".into(),
                ))
            }
            Credential::Entra { scope: own } => {
                let (scope, default) = match scope {
                    Some(scope) => (scope, false),
                    None => match entra_scope(own.as_deref()) {
                        (_, true) if self.tokens.takes_fallback(&origin(target)) => {
                            (ENTRA_FALLBACK_SCOPE, false)
                        }
                        chosen => chosen,
                    },
                };
                let token = cancellable(&call.cancel, self.tokens.get(scope)).await??;
                Ok((Authorization::token(&token, scope), default))
            }
        }
    }
}

/// The vectors of `inputs` inputs, in input order; the Batch API's output lines are read
/// through it too.
pub(crate) fn embeddings(
    raw: RawEmbeddings,
    inputs: usize,
) -> Result<EmbeddingsResponse, InferenceError> {
    let mut data = raw.data;
    data.sort_by_key(|item| item.index);
    if data.len() != inputs {
        return Err(InferenceError::Protocol {
            what: format!("{inputs} inputs but {} embeddings came back", data.len()),
        });
    }
    let vectors = data
        .into_iter()
        .map(|item| {
            item.embedding.ok_or_else(|| InferenceError::Protocol {
                what: "an embedding without a vector".into(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(EmbeddingsResponse {
        vectors,
        usage: raw.usage,
        model: raw.model,
    })
}

/// Scheme, host and port: what one resource's answers about tokens hold for.
fn origin(target: &Target) -> String {
    target.url.origin().ascii_serialization()
}

/// A completion as the caller gets it (the content filter's verdict, tool calls, the text); the
/// Batch API's output lines are read through it too, so a batched answer reads like a live one.
pub(crate) fn completion(
    raw: RawCompletion,
    request_id: Option<String>,
) -> Result<ChatResponse, InferenceError> {
    let choice = raw
        .choices
        .into_iter()
        .find(|choice| choice.index == 0)
        .ok_or_else(|| InferenceError::Protocol {
            what: "the answer had no choices".into(),
        })?;
    if choice.finish_reason == Some(FinishReason::ContentFilter) {
        return Err(InferenceError::ContentFiltered {
            categories: filtered_categories(choice.content_filter_results.as_ref()),
            in_prompt: false,
            request_id,
        });
    }
    let message = choice.message.ok_or_else(|| InferenceError::Protocol {
        what: "the choice had no message".into(),
    })?;
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .into_iter()
        .map(|call| ToolCall {
            id: call.id.unwrap_or_default(),
            name: call
                .function
                .as_ref()
                .and_then(|f| f.name.clone())
                .unwrap_or_default(),
            arguments: call.function.and_then(|f| f.arguments).unwrap_or_default(),
        })
        .collect();
    let text = match (message.content, tool_calls.is_empty()) {
        (Some(text), _) => text,
        (None, false) => String::new(),
        (None, true) => {
            return Err(InferenceError::Protocol {
                what: "the message had no content".into(),
            });
        }
    };
    Ok(ChatResponse {
        text,
        tool_calls,
        finish_reason: choice.finish_reason,
        usage: raw.usage,
        model: raw.model,
        request_id,
    })
}
