//! From a stored connection to a live call: which endpoint style it is, its credential (a key
//! from the keychain, or the developer's Microsoft Entra ID sign-in), and a quick check that it
//! answers.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;
use url::Url;
use weft_ai::{
    AZURE_OPENAI_API_VERSION, ApiKey, Call, ChatRequest, Credential, DetectedUrl, Endpoint,
    FoundryApi, InferenceError, MODEL_INFERENCE_API_VERSION, Message, Role, TimeoutPhase,
    classify_azure_url,
};
use weft_store::connections::{AuthMode, ConnectionKind, ConnectionRecord, Connections};

use crate::{AppCore, AppError};

/// A connection ready to call: never serialised, the key prints as `******`.
#[derive(Debug, Clone)]
pub struct ResolvedConnection {
    pub name: String,
    pub endpoint: Endpoint,
    pub credential: Credential,
}

impl ResolvedConnection {
    /// Whether calls must name a deployment (or model): every style but serverless and an
    /// Azure OpenAI URL that pins one.
    pub fn needs_deployment(&self) -> bool {
        !matches!(
            self.endpoint,
            Endpoint::Serverless { .. }
                | Endpoint::AzureOpenAi {
                    deployment: Some(_),
                    ..
                }
        )
    }
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

fn url(record: &ConnectionRecord, field: &str) -> Result<Url, AppError> {
    let raw = record.config.get(field).ok_or_else(|| {
        AppError::Invalid(format!(
            "connection `{}` has no {field}; edit it and set one",
            record.name
        ))
    })?;
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

/// The client endpoint a connection describes.
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
            let base = url(record, "api_base")?;
            if record.setting("api") == Some("v1") {
                return Ok(Endpoint::azure_openai_v1(base));
            }
            let api_version = record
                .setting("api_version")
                .unwrap_or(AZURE_OPENAI_API_VERSION)
                .to_owned();
            // Not `detect_azure_url`: that refuses plain http, which a saved connection may use
            // (it was warned about when saved).
            match classify_azure_url(base.clone()) {
                Ok(DetectedUrl::AzureOpenAiDeployment {
                    resource,
                    deployment,
                }) => Endpoint::AzureOpenAi {
                    resource,
                    deployment: Some(deployment),
                    api_version,
                },
                // Saved before `api` existed: a v1 base is called as v1.
                Ok(DetectedUrl::AzureV1 { base }) => Endpoint::AzureV1 { base },
                _ => Endpoint::AzureOpenAi {
                    resource: base,
                    deployment: None,
                    api_version,
                },
            }
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
                "`{}` is a {other} connection; only Azure AI Foundry, Azure OpenAI, OpenAI and serverless connections can be called for now",
                record.name
            )));
        }
    })
}

impl AppCore {
    /// Reads the connection as the active profile sees it, and its key (blocking: SQLite, then
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
        let endpoint = endpoint_for(record)?;
        let credential = match record.auth_mode() {
            AuthMode::MeidToken => Credential::Entra {
                scope: record.setting("token_scope").map(str::to_owned),
            },
            AuthMode::Key => {
                let keychain = self.keychain()?;
                // No database lock from here on: the keychain may wait on an unlock prompt.
                let key = Connections::new(self.database(), &keychain)
                    .effective_secret(&effective, "api_key")?;
                Credential::Key(ApiKey::new(key.expose()))
            }
        };
        Ok(ResolvedConnection {
            name: record.name.clone(),
            endpoint,
            credential,
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
        let deployment = deployment.map(str::trim).filter(|d| !d.is_empty());
        if deployment.is_none() && connection.needs_deployment() {
            return Err(AppError::Invalid(format!(
                "`{}` serves several deployments; name the one to test with (the CLI's --deployment)",
                connection.name
            )));
        }
        let call = Call {
            endpoint: &connection.endpoint,
            credential: &connection.credential,
            deployment,
            cancel: CancellationToken::new(),
            events: None,
        };
        let started = Instant::now();
        let probe = async {
            if matches!(connection.endpoint, Endpoint::Serverless { .. }) {
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
            api: connection.endpoint.api_label().to_owned(),
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
    fn connection(&self, name: &str) -> Result<weft_engine::Target, String> {
        let resolved = self
            .core
            .resolve_connection_in(name, self.profile.as_deref())
            .map_err(|err| err.to_string())?;
        Ok(weft_engine::Target {
            name: resolved.name,
            endpoint: resolved.endpoint,
            credential: resolved.credential,
        })
    }
}

impl AppCore {
    /// A flow engine sharing this process's HTTP client.
    pub fn engine(&self) -> weft_engine::Engine {
        weft_engine::Engine::new(weft_engine::services::Services::from_client(
            self.ai().clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn the_forms_default_api_versions_are_the_clients() {
        let default = |kind: ConnectionKind| {
            kind.spec()
                .fields
                .iter()
                .find(|field| field.key == "api_version")
                .and_then(|field| field.default)
        };
        assert_eq!(
            default(ConnectionKind::AzureAi),
            Some(MODEL_INFERENCE_API_VERSION)
        );
        assert_eq!(
            default(ConnectionKind::AzureOpenAi),
            Some(AZURE_OPENAI_API_VERSION)
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
        let resolved = core.resolve_connection("entra0").unwrap();
        assert_eq!(resolved.credential, Credential::Entra { scope: None });
        assert_eq!(
            resolved.endpoint,
            Endpoint::AzureV1 {
                base: url("https://r.services.ai.azure.com/openai/v1")
            }
        );
        assert_eq!(
            core.resolve_connection("entra22").unwrap().credential,
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
        let connection = ResolvedConnection {
            name: "silent".into(),
            endpoint: Endpoint::ModelInference {
                endpoint: Url::parse(&format!("http://{}/models", silent.local_addr().unwrap()))
                    .unwrap(),
                api_version: "2024-05-01-preview".into(),
            },
            credential: Credential::Key(ApiKey::new("sk-silent-test")),
        };
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
