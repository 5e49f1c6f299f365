//! From a stored connection to a live call: which endpoint style it is, its credential (a key
//! from the keychain, or the developer's Microsoft Entra ID sign-in), and a quick check that it
//! answers.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;
use url::Url;
use weft_ai::content_safety::ContentSafetyTarget;
use weft_ai::search::SearchTarget;
use weft_ai::serp::SerpTarget;
use weft_ai::{
    ApiKey, Call, ChatRequest, Credential, Endpoint, FoundryApi, InferenceError,
    MODEL_INFERENCE_API_VERSION, Message, Role, TimeoutPhase, UrlOrigin,
};
use weft_engine::{CustomSettings, ResolvedConnection, Target};
use weft_store::connections::{
    AuthMode, CONTENT_SAFETY_API_VERSION, ConnectionKind, ConnectionRecord, Connections,
    SEARCH_API_VERSION,
};

use crate::{AppCore, AppError};

/// Whether calls must name a deployment (or model): every style but serverless and an Azure
/// OpenAI URL that pins one.
fn needs_deployment(endpoint: &Endpoint) -> bool {
    !matches!(
        endpoint,
        Endpoint::Serverless { .. }
            | Endpoint::AzureOpenAi {
                deployment: Some(_),
                ..
            }
    )
}

/// The outcome of a connection test.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectionCheck {
    pub latency_ms: f64,
    /// The model the service says answered, when it says.
    pub model: Option<String>,
    /// What was called: `GET /info` or `chat completion`.
    pub method: String,
    /// The API that answered, e.g. `OpenAI v1 API` or `Azure AI Model Inference API`.
    pub api: String,
}

/// A field the connection needs, as it uses it (a row saved before the field existed reads as
/// the field's default).
fn required<'r>(record: &'r ConnectionRecord, field: &str) -> Result<&'r str, AppError> {
    record.setting(field).ok_or_else(|| {
        AppError::Invalid(format!(
            "connection `{}` has no {field}; edit it and set one",
            record.name
        ))
    })
}

/// A URL field of a model connection.
fn url(record: &ConnectionRecord, field: &str) -> Result<Url, AppError> {
    let raw = required(record, field)?;
    Url::parse(raw).map_err(|err| {
        AppError::Invalid(format!(
            "connection `{}` has a bad {field} ({err}); edit it",
            record.name
        ))
    })
}

fn invalid(record: &ConnectionRecord, err: impl std::fmt::Display) -> AppError {
    AppError::Invalid(format!("connection `{}`: {err}; edit it", record.name))
}

/// The client endpoint a model connection describes.
pub fn endpoint_for(record: &ConnectionRecord) -> Result<Endpoint, AppError> {
    Ok(match record.kind {
        ConnectionKind::AzureAi => {
            // Rows saved before `api` existed have none: they get the default, v1.
            let api = match record.setting("api") {
                Some(raw) => raw
                    .parse::<FoundryApi>()
                    .map_err(|err| invalid(record, err))?,
                None => FoundryApi::default(),
            };
            Endpoint::foundry(url(record, "endpoint")?, api, record.setting("api_version"))
                .map_err(|err| invalid(record, err))?
        }
        ConnectionKind::AzureOpenAi => {
            // The stored api is `deployments` (or, saved before it existed, none) or `v1`.
            let api = (record.setting("api") == Some("v1")).then_some(FoundryApi::V1);
            // A saved connection may use plain http: it was warned about when saved.
            Endpoint::from_url(
                url(record, "api_base")?.as_str(),
                api,
                record.setting("api_version"),
                UrlOrigin::SavedAzureOpenAi,
            )
            .map_err(|err| invalid(record, err))?
        }
        // Serverless endpoints serve the model inference API and have no api_version field.
        ConnectionKind::Serverless => Endpoint::Serverless {
            api_base: url(record, "api_base")?,
            api_version: MODEL_INFERENCE_API_VERSION.to_owned(),
        },
        ConnectionKind::OpenAi => Endpoint::OpenAi {
            base_url: url(record, "base_url")?,
            organization: record.config.get("organization").cloned(),
        },
        other => {
            return Err(AppError::Invalid(format!(
                "`{}` is a {other} connection, not a model endpoint; choose an Azure AI Foundry, Azure OpenAI, OpenAI or serverless connection",
                record.name
            )));
        }
    })
}

impl AppCore {
    /// Reads the connection as the active profile sees it, and its keys (blocking: SQLite, then
    /// the keychain with the database unlocked). A Microsoft Entra ID connection has no key and
    /// needs no keychain: its token is fetched by the client when a call needs it.
    pub fn resolve_connection(&self, name: &str) -> Result<ResolvedConnection, AppError> {
        let profile = self.active_profile()?;
        self.resolve_connection_in(name, profile.as_deref())
    }

    /// [`AppCore::resolve_connection`] under `profile` (`None`: the connection as saved): the
    /// connection's fields, then the profile's, then each `${env:VAR}` read from this process's
    /// environment.
    pub fn resolve_connection_in(
        &self,
        name: &str,
        profile: Option<&str>,
    ) -> Result<ResolvedConnection, AppError> {
        let effective = self
            .db()?
            .effective_connection(name, profile)?
            .resolve_env(&|var| std::env::var(var).ok())?;
        let record = &effective.record;
        let name = record.name.clone();
        // No database lock from here on: the keychain may wait on an unlock prompt.
        let secret = |key: &str| -> Result<ApiKey, AppError> {
            let keychain = self.keychain();
            let value =
                Connections::new(self.database(), &keychain).effective_secret(&effective, key)?;
            Ok(ApiKey::new(value.expose()))
        };
        // A tool's URL is checked by its client as it takes it.
        let base = |field: &str| required(record, field);
        let api_version = |default: &'static str| record.setting("api_version").unwrap_or(default);
        Ok(match record.kind {
            ConnectionKind::AzureAi
            | ConnectionKind::AzureOpenAi
            | ConnectionKind::OpenAi
            | ConnectionKind::Serverless => ResolvedConnection::Model(Target {
                name: name.clone(),
                endpoint: endpoint_for(record)?,
                credential: match record.auth_mode() {
                    AuthMode::MeidToken => Credential::Entra {
                        scope: record.setting("token_scope").map(str::to_owned),
                    },
                    AuthMode::Key => Credential::Key(secret("api_key")?),
                },
            }),
            ConnectionKind::AzureContentSafety => {
                let key = secret("api_key")?;
                ResolvedConnection::ContentSafety {
                    target: ContentSafetyTarget::new(base("endpoint")?, key.clone())
                        .map_err(|err| invalid(record, err))?
                        .with_api_version(api_version(CONTENT_SAFETY_API_VERSION)),
                    name: name.clone(),
                    key,
                }
            }
            ConnectionKind::CognitiveSearch => {
                let key = secret("api_key")?;
                ResolvedConnection::Search {
                    target: SearchTarget::new(base("api_base")?, key.clone())
                        .map_err(|err| invalid(record, err))?
                        .with_api_version(api_version(SEARCH_API_VERSION)),
                    name: name.clone(),
                    key,
                }
            }
            ConnectionKind::Serp => {
                let key = secret("api_key")?;
                ResolvedConnection::Serp {
                    target: SerpTarget::new(base("endpoint")?, key.clone())
                        .map_err(|err| invalid(record, err))?,
                    name: name.clone(),
                    key,
                }
            }
            ConnectionKind::Custom => ResolvedConnection::Custom(CustomSettings {
                name: name.clone(),
                configs: record.config.clone(),
                secrets: record
                    .secret_keys
                    .iter()
                    .map(|key| Ok((key.clone(), secret(key)?)))
                    .collect::<Result<_, AppError>>()?,
            }),
        })
    }

    /// A real call: `GET /info` on serverless endpoints, else the smallest chat completion.
    /// Settles within [`CHECK_TIMEOUT`], whatever the endpoint does.
    pub async fn check_connection(
        &self,
        connection: &ResolvedConnection,
        deployment: Option<&str>,
    ) -> Result<ConnectionCheck, AppError> {
        self.check_connection_within(connection, deployment, CHECK_TIMEOUT)
            .await
    }

    /// [`AppCore::check_connection`] with another overall limit.
    pub async fn check_connection_within(
        &self,
        connection: &ResolvedConnection,
        deployment: Option<&str>,
        limit: Duration,
    ) -> Result<ConnectionCheck, AppError> {
        let Some(target) = connection.as_model() else {
            return Err(AppError::Invalid(format!(
                "`{}` is {}, and a connection test calls a model; run a flow that uses it to check it",
                connection.name(),
                connection.family()
            )));
        };
        let deployment = deployment.map(str::trim).filter(|d| !d.is_empty());
        if deployment.is_none() && needs_deployment(&target.endpoint) {
            return Err(AppError::Invalid(format!(
                "`{}` serves several deployments; name the one to test with (the CLI's --deployment)",
                target.name
            )));
        }
        let call = Call {
            endpoint: &target.endpoint,
            credential: &target.credential,
            deployment,
            cancel: CancellationToken::new(),
            events: None,
        };
        let started = Instant::now();
        let probe = async {
            if matches!(target.endpoint, Endpoint::Serverless { .. }) {
                let info = self.ai().info(&call).await?;
                let model = info
                    .get("model_name")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned);
                Ok::<_, InferenceError>((model, "GET /info"))
            } else {
                let ping = ChatRequest {
                    messages: vec![Message::new(Role::User, "Reply with OK.")],
                    max_completion_tokens: Some(16),
                    ..ChatRequest::default()
                };
                Ok((self.ai().chat(&call, &ping).await?.model, "chat completion"))
            }
        };
        // The client's own limits reset with every retry and every chunk; a person waiting on
        // the test needs one limit for all of it.
        let (model, method) =
            tokio::time::timeout(limit, probe)
                .await
                .map_err(|_| InferenceError::Timeout {
                    phase: TimeoutPhase::Overall,
                    after: limit,
                })??;
        Ok(ConnectionCheck {
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            model,
            method: method.to_owned(),
            api: target.endpoint.api_label().to_owned(),
        })
    }
}

/// The longest a connection test takes, retries and waits included.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// Saved connections for the flow engine: each one resolved from the store and the keychain
/// when a node first needs it, under the profile the run started with (a switch of profile
/// while it runs does not reach it).
pub struct StoreConnections {
    core: std::sync::Arc<AppCore>,
    profile: Option<String>,
}

impl StoreConnections {
    pub fn new(core: std::sync::Arc<AppCore>, profile: Option<String>) -> Self {
        Self { core, profile }
    }
}

impl weft_engine::ConnectionSource for StoreConnections {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        self.core
            .resolve_connection_in(name, self.profile.as_deref())
            .map_err(|err| err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use weft_ai::AZURE_OPENAI_API_VERSION;
    use weft_store::{DataDir, Keychain};

    use super::*;
    use crate::Settings;

    fn record(kind: ConnectionKind, config: &[(&str, &str)]) -> ConnectionRecord {
        ConnectionRecord {
            id: "id".into(),
            name: "c".into(),
            kind,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secret_keys: ["api_key".to_owned()].into(),
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn each_stored_shape_reaches_the_api_its_fields_name() {
        use ConnectionKind::{AzureAi, AzureOpenAi};
        let v1 = |raw: &str| Endpoint::AzureV1 { base: url(raw) };
        let cases = [
            // As saved before `api` existed: the /models endpoint now calls v1.
            (
                record(
                    AzureAi,
                    &[
                        ("endpoint", "https://r.services.ai.azure.com/models"),
                        ("api_version", "2024-05-01-preview"),
                    ],
                ),
                v1("https://r.services.ai.azure.com/openai/v1"),
            ),
            (
                record(
                    AzureAi,
                    &[
                        ("endpoint", "https://r.services.ai.azure.com/openai/v1"),
                        ("api", "v1"),
                    ],
                ),
                v1("https://r.services.ai.azure.com/openai/v1"),
            ),
            (
                record(
                    AzureAi,
                    &[
                        ("endpoint", "https://r.services.ai.azure.com"),
                        ("api", "model_inference"),
                    ],
                ),
                Endpoint::ModelInference {
                    endpoint: url("https://r.services.ai.azure.com/models"),
                    api_version: MODEL_INFERENCE_API_VERSION.into(),
                },
            ),
            (
                record(
                    AzureAi,
                    &[
                        ("endpoint", "https://r.services.ai.azure.com/models"),
                        ("api", "model_inference"),
                        ("api_version", "2024-08-01-preview"),
                    ],
                ),
                Endpoint::ModelInference {
                    endpoint: url("https://r.services.ai.azure.com/models"),
                    api_version: "2024-08-01-preview".into(),
                },
            ),
            (
                record(AzureOpenAi, &[("api_base", "https://r.openai.azure.com")]),
                Endpoint::AzureOpenAi {
                    resource: url("https://r.openai.azure.com"),
                    deployment: None,
                    api_version: AZURE_OPENAI_API_VERSION.into(),
                },
            ),
            (
                record(
                    AzureOpenAi,
                    &[
                        (
                            "api_base",
                            "https://r.openai.azure.com/openai/deployments/gpt-4o",
                        ),
                        ("api", "v1"),
                    ],
                ),
                v1("https://r.openai.azure.com/openai/v1"),
            ),
            // A v1 base saved before `api` existed.
            (
                record(
                    AzureOpenAi,
                    &[("api_base", "https://r.openai.azure.com/openai/v1")],
                ),
                v1("https://r.openai.azure.com/openai/v1"),
            ),
        ];
        for (record, expected) in cases {
            assert_eq!(
                endpoint_for(&record).unwrap(),
                expected,
                "{:?}",
                record.config
            );
        }
    }

    fn core(dir: &tempfile::TempDir) -> std::sync::Arc<AppCore> {
        let settings = Settings {
            data_dir: DataDir::new(dir.path().join("home")),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        std::sync::Arc::new(
            AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap())
                .unwrap(),
        )
    }

    fn create(
        core: &AppCore,
        name: &str,
        kind: ConnectionKind,
        config: &[(&str, &str)],
        secrets: &[(&str, &str)],
    ) {
        let pairs = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        core.create_connection(crate::ConnectionInput {
            name: name.into(),
            kind,
            config: pairs(config),
            secrets: pairs(secrets),
        })
        .unwrap();
    }

    /// The one request a fake recorded went to a path and query ending in `tail`, with the key
    /// in its header.
    fn sent(requests: &[weft_testkit::Recorded], tail: &str, (header, key): (&str, &str)) {
        let [sent] = requests else {
            panic!("{} requests, not one", requests.len());
        };
        assert!(sent.target.ends_with(tail), "{}", sent.target);
        assert_eq!(sent.header(header), Some(key));
    }

    #[tokio::test]
    async fn each_seed_tool_connection_reaches_its_service_with_its_key_and_api_version() {
        use ConnectionKind::{AzureContentSafety, CognitiveSearch, Serp};
        use weft_ai::{Handles, content_safety, search, serp};
        use weft_testkit::{ContentSafetyFake, SearchFake, SerpFake};
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        let safety = ContentSafetyFake::setup().key("cs-key").start();
        let index = SearchFake::setup()
            .key("search-key")
            .index("docs", vec![serde_json::json!({"id": "1", "text": "weft"})])
            .start();
        let web = SerpFake::setup()
            .key("serp-key")
            .result("Weft", "https://example.com", "a flow designer")
            .start();
        // No api_version given: the form's default, the GA version the node calls.
        create(
            &core,
            "safety",
            AzureContentSafety,
            &[("endpoint", &safety.base)],
            &[("api_key", "cs-key")],
        );
        // One the user chose stays theirs.
        create(
            &core,
            "search",
            CognitiveSearch,
            &[("api_base", &index.base), ("api_version", "2023-11-01")],
            &[("api_key", "search-key")],
        );
        create(
            &core,
            "web",
            Serp,
            &[("endpoint", &web.base)],
            &[("api_key", "serp-key")],
        );
        let handles = Handles::default();

        let ResolvedConnection::ContentSafety { name, target, .. } =
            core.resolve_connection("safety").unwrap()
        else {
            panic!("not a content safety target");
        };
        assert_eq!(name, "safety");
        let request = content_safety::AnalyzeRequest {
            text: "hello".into(),
            ..Default::default()
        };
        content_safety::analyze(core.ai(), &target, &request, &handles)
            .await
            .unwrap();
        sent(
            &safety.requests(),
            "/contentsafety/text:analyze?api-version=2024-09-01",
            ("Ocp-Apim-Subscription-Key", "cs-key"),
        );

        let ResolvedConnection::Search { target, .. } = core.resolve_connection("search").unwrap()
        else {
            panic!("not a search target");
        };
        let request = search::SearchRequest {
            index: "docs".into(),
            search: Some("weft".into()),
            ..Default::default()
        };
        // The fake serves 2024-07-01 only; what matters is what was asked.
        let _ = search::query(core.ai(), &target, &request, &handles).await;
        sent(
            &index.requests(),
            "/indexes/docs/docs/search?api-version=2023-11-01",
            ("api-key", "search-key"),
        );

        let ResolvedConnection::Serp { target, .. } = core.resolve_connection("web").unwrap()
        else {
            panic!("not a serp target");
        };
        let request = serp::SerpRequest {
            query: "weft".into(),
            ..Default::default()
        };
        let found = serp::search(core.ai(), &target, &request, &handles)
            .await
            .unwrap();
        assert_eq!(found[0].link, "https://example.com");
        assert!(web.requests()[0].target.contains("api_key=serp-key"));
    }

    #[test]
    fn a_serp_connection_without_an_endpoint_reaches_serpapi_and_custom_reads_every_secret() {
        use ConnectionKind::{Custom, Serp};
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        create(&core, "web", Serp, &[], &[("api_key", "serp-key")]);
        let resolved = core.resolve_connection("web").unwrap();
        let printed = format!("{resolved:?}");
        assert!(
            matches!(resolved, ResolvedConnection::Serp { .. })
                && printed.contains(r#"scheme: "https""#)
                && printed.contains(r#"host: Some(Domain("serpapi.com"))"#)
                && !printed.contains("serp-key"),
            "{printed}"
        );
        create(
            &core,
            "custom",
            Custom,
            &[("region", "westeurope")],
            &[("token", "tok-1"), ("password", "pw-2")],
        );
        let resolved = core.resolve_connection("custom").unwrap();
        assert!(
            matches!(&resolved, ResolvedConnection::Custom(settings) if *settings == CustomSettings {
                name: "custom".into(),
                configs: [("region".to_owned(), "westeurope".to_owned())].into(),
                secrets: [
                    ("password".to_owned(), ApiKey::new("pw-2")),
                    ("token".to_owned(), ApiKey::new("tok-1")),
                ]
                .into(),
            }),
            "{resolved:?}"
        );
        let printed = format!("{resolved:?}");
        assert!(
            !printed.contains("pw-2") && printed.contains("region"),
            "{printed}"
        );
    }

    #[tokio::test]
    async fn a_tool_connection_given_where_a_model_is_called_is_refused_naming_what_it_is() {
        use weft_engine::ConnectionSource;
        let dir = tempfile::tempdir().unwrap();
        let core = core(&dir);
        create(
            &core,
            "web",
            ConnectionKind::Serp,
            &[],
            &[("api_key", "serp-key")],
        );
        let err = StoreConnections::new(core.clone(), None)
            .connection("web")
            .unwrap()
            .into_model()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`web` is a SerpAPI account, and this node needs a model endpoint; choose a connection of type azure_ai, azure_open_ai, open_ai or serverless"
        );
        let resolved = core.resolve_connection("web").unwrap();
        let err = core.check_connection(&resolved, None).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .contains("a connection test calls a model; run a flow that uses it"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_connection_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = core(&dir).resolve_connection("nowhere").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
    }

    #[test]
    fn the_forms_defaults_are_the_clients() {
        let default = |kind: ConnectionKind, key: &str| {
            kind.spec().field(key).and_then(|field| field.default)
        };
        assert_eq!(
            default(ConnectionKind::AzureAi, "api_version"),
            Some(MODEL_INFERENCE_API_VERSION)
        );
        assert_eq!(
            default(ConnectionKind::AzureOpenAi, "api_version"),
            Some(AZURE_OPENAI_API_VERSION)
        );
        assert_eq!(
            default(ConnectionKind::AzureContentSafety, "api_version"),
            Some(weft_ai::content_safety::CONTENT_SAFETY_API_VERSION)
        );
        assert_eq!(
            default(ConnectionKind::CognitiveSearch, "api_version"),
            Some(weft_ai::search::SEARCH_API_VERSION)
        );
        assert_eq!(
            default(ConnectionKind::Serp, "endpoint"),
            Some(weft_ai::serp::SERP_DEFAULT_ENDPOINT)
        );
    }

    #[test]
    fn an_entra_connection_resolves_to_a_sign_in_and_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: DataDir::new(dir.path().join("home")),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        let core = AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap())
            .unwrap();
        let input = |scope: &str| crate::ConnectionInput {
            name: format!("entra{}", scope.len()),
            kind: ConnectionKind::AzureAi,
            config: [
                ("endpoint", "https://r.services.ai.azure.com/models"),
                ("auth_mode", "meid_token"),
                ("token_scope", scope),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            secrets: Default::default(),
        };
        core.create_connection(input("")).unwrap();
        core.create_connection(input("api://gateway/.default"))
            .unwrap();
        let resolved = core
            .resolve_connection("entra0")
            .unwrap()
            .as_model()
            .cloned()
            .unwrap();
        assert_eq!(resolved.credential, Credential::Entra { scope: None });
        assert_eq!(
            resolved.endpoint,
            Endpoint::AzureV1 {
                base: url("https://r.services.ai.azure.com/openai/v1")
            }
        );
        assert_eq!(
            core.resolve_connection("entra22")
                .unwrap()
                .as_model()
                .unwrap()
                .credential,
            Credential::Entra {
                scope: Some("api://gateway/.default".into())
            }
        );
    }

    #[tokio::test]
    async fn a_connection_test_settles_when_the_endpoint_never_answers() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: DataDir::new(dir.path().join("home")),
            keyring_service: "weft-test".into(),
            retention: Default::default(),
        };
        let core = AppCore::open_with_keychain(settings, Keychain::in_memory("weft-test").unwrap())
            .unwrap();
        // Bound and never accepted: the kernel takes the connection and the request, and no
        // answer ever comes (the client's own first-byte wait is two minutes).
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let connection = ResolvedConnection::Model(Target {
            name: "silent".into(),
            endpoint: Endpoint::ModelInference {
                endpoint: Url::parse(&format!("http://{}/models", silent.local_addr().unwrap()))
                    .unwrap(),
                api_version: "2024-05-01-preview".into(),
            },
            credential: Credential::Key(ApiKey::new("sk-silent-test")),
        });
        let err = core
            .check_connection_within(&connection, Some("gpt-4o-mini"), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                AppError::Service(InferenceError::Timeout {
                    phase: TimeoutPhase::Overall,
                    ..
                })
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "no answer after 0.3 s in all, retries included; check the endpoint, or raise the timeout if the model is slow"
        );
    }
}
