//! From a stored connection to a live call: which endpoint style it is, its key from the
//! keychain, and a quick check that it answers.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;
use url::Url;
use weft_ai::{
    ApiKey, Call, ChatRequest, Credential, DetectedUrl, Endpoint, InferenceError, Message, Role,
    TimeoutPhase, classify_azure_url,
};
use weft_store::connections::{ConnectionKind, ConnectionRecord, Connections};

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

fn version(record: &ConnectionRecord) -> String {
    record
        .config
        .get("api_version")
        .cloned()
        .unwrap_or_default()
}

/// The client endpoint a connection describes.
pub fn endpoint_for(record: &ConnectionRecord) -> Result<Endpoint, AppError> {
    Ok(match record.kind {
        ConnectionKind::AzureAi => Endpoint::ModelInference {
            endpoint: url(record, "endpoint")?,
            api_version: version(record),
        },
        ConnectionKind::AzureOpenAi => {
            let base = url(record, "api_base")?;
            // Not `detect_azure_url`: that refuses plain http, which a saved connection may use
            // (it was warned about when saved).
            match classify_azure_url(base.clone()) {
                Ok(DetectedUrl::AzureOpenAiDeployment {
                    resource,
                    deployment,
                }) => Endpoint::AzureOpenAi {
                    resource,
                    deployment: Some(deployment),
                    api_version: version(record),
                },
                Ok(DetectedUrl::AzureV1 { base }) => Endpoint::AzureV1 { base },
                _ => Endpoint::AzureOpenAi {
                    resource: base,
                    deployment: None,
                    api_version: version(record),
                },
            }
        }
        // Serverless connections have no api_version field; this is the model API's GA version.
        ConnectionKind::Serverless => Endpoint::Serverless {
            api_base: url(record, "api_base")?,
            api_version: "2024-05-01-preview".to_owned(),
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
    /// the keychain with the database unlocked).
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
        let keychain = self.keychain()?;
        // No database lock from here on: the keychain may wait on an unlock prompt.
        let key =
            Connections::new(self.database(), &keychain).effective_secret(&effective, "api_key")?;
        Ok(ResolvedConnection {
            name: record.name.clone(),
            endpoint,
            credential: Credential::Key(ApiKey::new(key.expose())),
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
        weft_engine::Engine::new(self.ai().clone())
    }
}

#[cfg(test)]
mod tests {
    use weft_store::{DataDir, Keychain};

    use super::*;
    use crate::Settings;

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
