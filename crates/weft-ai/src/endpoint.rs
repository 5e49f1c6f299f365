use std::fmt;
use std::str::FromStr;

use url::Url;

/// The `api-version` the Azure AI Model Inference API (`…/models`) is called with when a
/// connection names none: the version its REST reference documents
/// (https://learn.microsoft.com/rest/api/aifoundry/modelinference/).
pub const MODEL_INFERENCE_API_VERSION: &str = "2024-05-01-preview";

/// The `api-version` Azure OpenAI deployment URLs are called with when a connection names none:
/// the GA version of the dated data-plane API
/// (https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle).
pub const AZURE_OPENAI_API_VERSION: &str = "2024-10-21";

/// Which API an Azure AI Foundry connection calls. v1 is the default: Azure retired the Azure AI
/// Model Inference API (`…/models`) on 2026-08-26 and points its users to the OpenAI v1 API
/// of the same resource (https://learn.microsoft.com/azure/ai-foundry/how-to/model-inference-to-openai-migration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FoundryApi {
    /// `…/openai/v1`: every deployment of the resource, no api-version.
    #[default]
    V1,
    /// `…/models`, for a resource that still serves it.
    ModelInference,
}

impl FoundryApi {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::ModelInference => "model_inference",
        }
    }
}

impl fmt::Display for FoundryApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FoundryApi {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim() {
            "v1" => Ok(Self::V1),
            "model_inference" => Ok(Self::ModelInference),
            other => Err(format!(
                "`{other}` is not an API Weft knows: use `v1` (the default) or `model_inference`"
            )),
        }
    }
}

/// How to reach a model: the wire styles differ in URL shape, where the model name goes, which
/// auth header they take, and which body fields they accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The Azure AI Model Inference API (`…/models`, retired by Azure on 2026-08-26): one
    /// endpoint for every deployment; the deployment name goes in the body's `model`.
    ModelInference { endpoint: Url, api_version: String },
    /// Azure OpenAI with the deployment in the path. `deployment` is set when the connection's
    /// URL pinned one; otherwise the call names it.
    AzureOpenAi {
        resource: Url,
        deployment: Option<String>,
        api_version: String,
    },
    /// The OpenAI v1 API of an Azure resource (`…/openai/v1`, on Foundry and Azure OpenAI
    /// resources alike): every deployment, no api-version, the deployment in the body's `model`.
    AzureV1 { base: Url },
    /// An Azure AI serverless API: Bearer auth, the model is optional.
    Serverless { api_base: Url, api_version: String },
    /// OpenAI or any OpenAI-compatible server.
    OpenAi {
        base_url: Url,
        organization: Option<String>,
    },
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ChatCompletions,
    Embeddings,
    /// `GET {endpoint}/info`, which serverless and Foundry endpoints answer with the model.
    Info,
}

impl Operation {
    fn path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "chat/completions",
            Self::Embeddings => "embeddings",
            Self::Info => "info",
        }
    }
}

/// Where and how one request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub url: Url,
    /// The body's `model`, when this style carries it there.
    pub model: Option<String>,
    pub auth: Auth,
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    ApiKeyHeader,
    Bearer,
}

fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    let path = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        segments.join("/")
    );
    url.set_path(&path);
    url
}

fn with_version(mut url: Url, api_version: &str) -> Url {
    url.query_pairs_mut()
        .append_pair("api-version", api_version);
    url
}

/// `url` without query, fragment and empty path segments, and those segments.
fn tidy(url: &Url) -> (Url, Vec<String>) {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let segments = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    (url, segments)
}

/// `url` with its path set to these segments (the resource, or a base under it).
fn with_path(url: &Url, segments: &[String]) -> Url {
    let mut url = url.clone();
    url.set_path(&format!("/{}", segments.join("/")));
    url
}

/// Whether `segments` end with `tail`, compared without case.
fn ends_with(segments: &[String], tail: &[&str]) -> bool {
    segments.len() >= tail.len()
        && segments[segments.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(segment, want)| segment.eq_ignore_ascii_case(want))
}

/// Where a URL given to [`Endpoint::from_url`] comes from, which decides what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlOrigin {
    /// Given at run time (the Create Azure AI connection node). Nobody saw the warning a saved
    /// connection gets, so plain http is refused except to this machine, and a URL of no Azure
    /// shape is refused with the shapes that work.
    RunTime,
    /// The `api_base` of a saved Azure OpenAI connection, checked (and plain http warned about)
    /// when it was saved. A URL that is neither a deployment nor a v1 URL is the resource itself
    /// (a gateway, a local server).
    SavedAzureOpenAi,
}

impl Endpoint {
    /// The endpoint a URL and a connection's options name: the one place a pasted URL becomes
    /// an [`Endpoint`] (R = resource, D = deployment).
    ///
    /// | URL | `api` None | `api` V1 | `api` ModelInference |
    /// |---|---|---|---|
    /// | `https://R.services.ai.azure.com[/models]` | `R/openai/v1` | `R/openai/v1` | `R/models?api-version` |
    /// | `…/openai/v1` | that v1 base | that v1 base | `R/models?api-version` |
    /// | `…/openai/deployments/D[/…]` | D pinned, dated API | `R/openai/v1` | as None |
    /// | `https://R.openai.azure.com` | dated API, the call names D | `R/openai/v1` | as None |
    /// | `https://N.<region>.models.ai.azure.com` | serverless | serverless | serverless |
    ///
    /// `api_version` (blank: none) is the dated API's version, default
    /// [`AZURE_OPENAI_API_VERSION`], or the Model Inference and serverless one, default
    /// [`MODEL_INFERENCE_API_VERSION`]. With [`UrlOrigin::SavedAzureOpenAi`] only the Azure
    /// OpenAI rows apply (`api` is V1 or None); any other URL is a resource URL.
    pub fn from_url(
        raw: &str,
        api: Option<FoundryApi>,
        api_version: Option<&str>,
        origin: UrlOrigin,
    ) -> Result<Self, String> {
        let version = api_version.map(str::trim).filter(|v| !v.is_empty());
        let dated = |resource: Url, deployment: Option<String>| Self::AzureOpenAi {
            resource,
            deployment,
            api_version: version.unwrap_or(AZURE_OPENAI_API_VERSION).to_owned(),
        };
        let detected = match origin {
            UrlOrigin::RunTime => detect_azure_url(raw)?,
            UrlOrigin::SavedAzureOpenAi => {
                let url = Url::parse(raw.trim())
                    .map_err(|err| format!("`{}` is not a URL: {err}", raw.trim()))?;
                if api == Some(FoundryApi::V1) {
                    return Ok(Self::azure_openai_v1(url));
                }
                return Ok(match classify_azure_url(url.clone()) {
                    Ok(DetectedUrl::AzureOpenAiDeployment {
                        resource,
                        deployment,
                    }) => dated(resource, Some(deployment)),
                    // Saved before `api` existed: a v1 base is called as v1.
                    Ok(DetectedUrl::AzureV1 { base }) => Self::AzureV1 { base },
                    Ok(DetectedUrl::AzureOpenAiResource { resource }) => dated(resource, None),
                    _ => dated(tidy(&url).0, None),
                });
            }
        };
        Ok(match detected {
            DetectedUrl::Foundry { url } => Self::foundry(url, api.unwrap_or_default(), version)?,
            DetectedUrl::AzureV1 { base } if api == Some(FoundryApi::ModelInference) => {
                Self::foundry(base, FoundryApi::ModelInference, version)?
            }
            DetectedUrl::AzureV1 { base } => Self::AzureV1 { base },
            DetectedUrl::AzureOpenAiDeployment { resource, .. }
            | DetectedUrl::AzureOpenAiResource { resource }
                if api == Some(FoundryApi::V1) =>
            {
                Self::azure_openai_v1(resource)
            }
            DetectedUrl::AzureOpenAiDeployment {
                resource,
                deployment,
            } => dated(resource, Some(deployment)),
            DetectedUrl::AzureOpenAiResource { resource } => dated(resource, None),
            // Serverless endpoints speak the model inference API's wire format.
            DetectedUrl::Serverless { api_base } => Self::Serverless {
                api_base,
                api_version: version.unwrap_or(MODEL_INFERENCE_API_VERSION).to_owned(),
            },
        })
    }

    /// The endpoint of an Azure AI Foundry connection, from its URL as the portal shows it:
    /// `https://<res>.services.ai.azure.com/models`, the bare resource URL, or `…/openai/v1`
    /// (trailing slashes and a query are ignored; a gateway's path prefix is kept). `api` picks
    /// the API called on that resource, whichever shape was pasted: v1 at
    /// `<resource>/openai/v1`, or the Model Inference API at `<resource>/models` with
    /// `api_version` (default [`MODEL_INFERENCE_API_VERSION`]).
    pub fn foundry(url: Url, api: FoundryApi, api_version: Option<&str>) -> Result<Self, String> {
        let (url, segments) = tidy(&url);
        let resource = if ends_with(&segments, &["openai", "v1"]) {
            &segments[..segments.len() - 2]
        } else if ends_with(&segments, &["models"]) {
            &segments[..segments.len() - 1]
        } else if segments.is_empty() {
            &segments[..]
        } else {
            return Err(format!(
                "`{url}` is not an Azure AI Foundry endpoint: use the resource URL as the portal shows it, https://<resource>.services.ai.azure.com/models, https://<resource>.services.ai.azure.com or https://<resource>.services.ai.azure.com/openai/v1"
            ));
        };
        let mut base = resource.to_vec();
        Ok(match api {
            FoundryApi::V1 => {
                base.extend(["openai".to_owned(), "v1".to_owned()]);
                Self::AzureV1 {
                    base: with_path(&url, &base),
                }
            }
            FoundryApi::ModelInference => {
                base.push("models".to_owned());
                Self::ModelInference {
                    endpoint: with_path(&url, &base),
                    api_version: api_version
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .unwrap_or(MODEL_INFERENCE_API_VERSION)
                        .to_owned(),
                }
            }
        })
    }

    /// The OpenAI v1 API of the Azure OpenAI resource behind `url`: a resource URL
    /// (`https://<res>.openai.azure.com`), a deployment URL (`…/openai/deployments/<name>/…`,
    /// whose deployment is then the call's to name) or a v1 URL. One such endpoint serves every
    /// deployment of the resource.
    pub fn azure_openai_v1(url: Url) -> Self {
        let (url, segments) = tidy(&url);
        let resource = segments
            .iter()
            .position(|s| s.eq_ignore_ascii_case("openai"))
            .map_or(&segments[..], |i| &segments[..i]);
        let mut base = resource.to_vec();
        base.extend(["openai".to_owned(), "v1".to_owned()]);
        Self::AzureV1 {
            base: with_path(&url, &base),
        }
    }

    /// The API this endpoint calls, as a connection test reports which one answered.
    pub fn api_label(&self) -> &'static str {
        match self {
            Self::AzureV1 { .. } => "OpenAI v1 API",
            Self::ModelInference { .. } => "Azure AI Model Inference API",
            Self::AzureOpenAi { .. } => "Azure OpenAI deployments API",
            Self::Serverless { .. } => "serverless model API",
            Self::OpenAi { .. } => "OpenAI API",
        }
    }

    /// Whether this style accepts `max_completion_tokens` (Azure OpenAI and OpenAI do; the
    /// Foundry and serverless model APIs take `max_tokens` and reject unknown fields).
    pub(crate) fn knows_max_completion_tokens(&self) -> bool {
        matches!(
            self,
            Self::AzureOpenAi { .. } | Self::AzureV1 { .. } | Self::OpenAi { .. }
        )
    }

    /// Whether streamed responses can end with a usage chunk when asked (`stream_options`).
    pub(crate) fn knows_stream_options(&self) -> bool {
        self.knows_max_completion_tokens()
    }

    /// The URL, body model and auth for `operation` on `deployment` (the node's model choice).
    pub(crate) fn target(
        &self,
        operation: Operation,
        deployment: Option<&str>,
    ) -> Result<Target, String> {
        let deployment = deployment.map(str::trim).filter(|d| !d.is_empty());
        let need_deployment = |style: &str| {
            deployment.map(str::to_owned).ok_or_else(|| {
                format!("{style} needs a deployment name: set the node's deployment")
            })
        };
        Ok(match self {
            Self::ModelInference {
                endpoint,
                api_version,
            } => Target {
                url: with_version(join(endpoint, &[operation.path()]), api_version),
                model: match operation {
                    Operation::Info => None,
                    _ => Some(need_deployment("an Azure AI Foundry endpoint")?),
                },
                auth: Auth::ApiKeyHeader,
                organization: None,
            },
            Self::AzureOpenAi {
                resource,
                deployment: pinned,
                api_version,
            } => {
                let name = match (pinned, deployment) {
                    (Some(pinned), _) => pinned.clone(),
                    (None, _) => need_deployment("an Azure OpenAI resource URL")?,
                };
                Target {
                    url: with_version(
                        join(
                            resource,
                            &["openai", "deployments", &name, operation.path()],
                        ),
                        api_version,
                    ),
                    model: None,
                    auth: Auth::ApiKeyHeader,
                    organization: None,
                }
            }
            Self::AzureV1 { base } => Target {
                url: join(base, &[operation.path()]),
                model: Some(need_deployment("the Azure OpenAI v1 API")?),
                auth: Auth::ApiKeyHeader,
                organization: None,
            },
            Self::Serverless {
                api_base,
                api_version,
            } => Target {
                url: with_version(join(api_base, &[operation.path()]), api_version),
                model: deployment.map(str::to_owned),
                auth: Auth::Bearer,
                organization: None,
            },
            Self::OpenAi {
                base_url,
                organization,
            } => Target {
                url: join(base_url, &[operation.path()]),
                model: Some(need_deployment("an OpenAI endpoint")?),
                auth: Auth::Bearer,
                organization: organization.clone(),
            },
        })
    }
}

/// What an Azure URL turns out to be, for connections built at run time from a pasted URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DetectedUrl {
    /// An Azure AI Foundry resource: `…/models` on any host, or the bare
    /// `https://<res>.services.ai.azure.com`. [`Endpoint::foundry`] takes either.
    Foundry { url: Url },
    /// `…/openai/deployments/<name>[/…]`: the deployment is pinned.
    AzureOpenAiDeployment { resource: Url, deployment: String },
    /// `…/openai/v1`.
    AzureV1 { base: Url },
    /// A bare Azure OpenAI resource (`https://<res>.openai.azure.com`).
    AzureOpenAiResource { resource: Url },
    /// `https://<name>.<region>.models.ai.azure.com`.
    Serverless { api_base: Url },
}

/// Recognises Foundry `/models`, Azure OpenAI (deployment, v1 or resource) and serverless URLs,
/// for a URL given at run time. Such a URL was never saved, so nobody saw the warning a saved
/// connection gets for plain http: here it is refused, except to this machine.
pub(crate) fn detect_azure_url(raw: &str) -> Result<DetectedUrl, String> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|err| format!("`{raw}` is not a URL: {err}"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "`{raw}` uses plain http, so the API key would cross the network unencrypted; use https:// (http:// is accepted only for this machine, such as http://127.0.0.1)"
            ));
        }
        scheme => {
            return Err(format!("`{scheme}:` URLs are not supported; use https://"));
        }
    }
    classify_azure_url(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(host)) => {
            let host = host.to_ascii_lowercase();
            host == "localhost" || host.ends_with(".localhost")
        }
        None => false,
    }
}

/// What kind of Azure URL this is, whatever its scheme: for a saved connection, whose URL was
/// checked (and plain http warned about) when it was saved.
pub(crate) fn classify_azure_url(mut url: Url) -> Result<DetectedUrl, String> {
    let raw = url.to_string();
    url.set_query(None);
    url.set_fragment(None);
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let prefix = |n: usize| {
        let mut base = url.clone();
        base.set_path(&format!("/{}", segments[..n].join("/")));
        base
    };
    if let Some(i) = lower.iter().position(|s| s == "openai") {
        match (lower.get(i + 1).map(String::as_str), segments.get(i + 2)) {
            (Some("deployments"), Some(name)) => {
                return Ok(DetectedUrl::AzureOpenAiDeployment {
                    resource: prefix(i),
                    deployment: name.clone(),
                });
            }
            (Some("v1"), _) => {
                return Ok(DetectedUrl::AzureV1 {
                    base: prefix(i + 2),
                });
            }
            (None, _) => {
                return Ok(DetectedUrl::AzureOpenAiResource {
                    resource: prefix(i),
                });
            }
            _ => {}
        }
    }
    if let Some(i) = lower.iter().position(|s| s == "models") {
        return Ok(DetectedUrl::Foundry { url: prefix(i + 1) });
    }
    if host.ends_with(".services.ai.azure.com") && segments.is_empty() {
        return Ok(DetectedUrl::Foundry { url: prefix(0) });
    }
    if host.ends_with(".models.ai.azure.com") {
        return Ok(DetectedUrl::Serverless {
            api_base: prefix(0),
        });
    }
    if host.ends_with(".openai.azure.com") && segments.is_empty() {
        return Ok(DetectedUrl::AzureOpenAiResource {
            resource: prefix(0),
        });
    }
    Err(format!(
        "`{raw}` is neither an Azure AI Foundry resource (https://<resource>.services.ai.azure.com, …/models or …/openai/v1) nor an Azure OpenAI URL (https://<resource>.openai.azure.com, …/openai/deployments/<name>)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn urls_and_auth_per_style() {
        let cases = [
            (
                Endpoint::ModelInference {
                    endpoint: url("https://r.services.ai.azure.com/models"),
                    api_version: MODEL_INFERENCE_API_VERSION.into(),
                },
                "https://r.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview",
                Some("gpt-4o-mini"),
                Auth::ApiKeyHeader,
            ),
            (
                Endpoint::AzureOpenAi {
                    resource: url("https://r.openai.azure.com"),
                    deployment: None,
                    api_version: AZURE_OPENAI_API_VERSION.into(),
                },
                "https://r.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
                None,
                Auth::ApiKeyHeader,
            ),
            (
                Endpoint::AzureV1 {
                    base: url("https://r.openai.azure.com/openai/v1"),
                },
                "https://r.openai.azure.com/openai/v1/chat/completions",
                Some("gpt-4o-mini"),
                Auth::ApiKeyHeader,
            ),
            (
                Endpoint::Serverless {
                    api_base: url("https://m.eastus2.models.ai.azure.com"),
                    api_version: MODEL_INFERENCE_API_VERSION.into(),
                },
                "https://m.eastus2.models.ai.azure.com/chat/completions?api-version=2024-05-01-preview",
                Some("gpt-4o-mini"),
                Auth::Bearer,
            ),
            (
                Endpoint::OpenAi {
                    base_url: url("https://api.openai.com/v1"),
                    organization: None,
                },
                "https://api.openai.com/v1/chat/completions",
                Some("gpt-4o-mini"),
                Auth::Bearer,
            ),
        ];
        for (endpoint, expected_url, model, auth) in cases {
            let target = endpoint
                .target(Operation::ChatCompletions, Some("gpt-4o-mini"))
                .unwrap();
            assert_eq!(target.url.as_str(), expected_url);
            assert_eq!(target.model.as_deref(), model);
            assert_eq!(target.auth, auth);
        }
    }

    #[test]
    fn a_pinned_deployment_wins_and_missing_ones_are_named() {
        let pinned = Endpoint::AzureOpenAi {
            resource: url("https://r.openai.azure.com"),
            deployment: Some("pinned".into()),
            api_version: AZURE_OPENAI_API_VERSION.into(),
        };
        let target = pinned.target(Operation::Embeddings, Some("other")).unwrap();
        assert_eq!(target.url.path(), "/openai/deployments/pinned/embeddings");

        let foundry = Endpoint::ModelInference {
            endpoint: url("https://r.services.ai.azure.com/models"),
            api_version: "v".into(),
        };
        let err = foundry
            .target(Operation::ChatCompletions, Some("  "))
            .unwrap_err();
        assert!(err.contains("needs a deployment name"), "{err}");
        assert!(foundry.target(Operation::Info, None).is_ok());
    }

    #[test]
    fn every_foundry_url_shape_reaches_the_v1_api_or_the_pinned_models_api() {
        let shapes = [
            "https://r.services.ai.azure.com/models",
            "https://r.services.ai.azure.com/models/",
            "https://r.services.ai.azure.com",
            "https://r.services.ai.azure.com/",
            "https://r.services.ai.azure.com/openai/v1",
            "https://r.services.ai.azure.com/openai/v1/?api-version=preview",
            "https://r.services.ai.azure.com/OpenAI/V1",
        ];
        for shape in shapes {
            assert_eq!(
                Endpoint::foundry(url(shape), FoundryApi::V1, None).unwrap(),
                Endpoint::AzureV1 {
                    base: url("https://r.services.ai.azure.com/openai/v1")
                },
                "{shape}"
            );
            assert_eq!(
                Endpoint::foundry(url(shape), FoundryApi::ModelInference, None).unwrap(),
                Endpoint::ModelInference {
                    endpoint: url("https://r.services.ai.azure.com/models"),
                    api_version: MODEL_INFERENCE_API_VERSION.into(),
                },
                "{shape}"
            );
        }
        assert_eq!(
            Endpoint::foundry(
                url("http://127.0.0.1:8080/models"),
                FoundryApi::ModelInference,
                Some("2025-04-01")
            )
            .unwrap(),
            Endpoint::ModelInference {
                endpoint: url("http://127.0.0.1:8080/models"),
                api_version: "2025-04-01".into(),
            }
        );
        assert_eq!(
            Endpoint::foundry(url("http://127.0.0.1:8080/models"), FoundryApi::V1, None).unwrap(),
            Endpoint::AzureV1 {
                base: url("http://127.0.0.1:8080/openai/v1")
            }
        );
        // A gateway's prefix stays in front of the API's path.
        assert_eq!(
            Endpoint::foundry(
                url("https://gw.example.com/ai/models"),
                FoundryApi::V1,
                None
            )
            .unwrap(),
            Endpoint::AzureV1 {
                base: url("https://gw.example.com/ai/openai/v1")
            }
        );
        for wrong in [
            "https://r.services.ai.azure.com/api/projects/p",
            "https://r.openai.azure.com/openai/deployments/gpt-4o",
            "https://r.services.ai.azure.com/models/chat/completions",
        ] {
            let err = Endpoint::foundry(url(wrong), FoundryApi::V1, None).unwrap_err();
            assert!(
                err.contains("is not an Azure AI Foundry endpoint")
                    && err.contains("https://<resource>.services.ai.azure.com/models")
                    && err.contains("https://<resource>.services.ai.azure.com/openai/v1"),
                "{wrong}: {err}"
            );
        }
    }

    #[test]
    fn an_azure_openai_url_switched_to_v1_serves_every_deployment() {
        for shape in [
            "https://r.openai.azure.com",
            "https://r.openai.azure.com/",
            "https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            "https://r.openai.azure.com/openai/deployments/gpt-4o",
            "https://r.openai.azure.com/openai/v1/",
        ] {
            assert_eq!(
                Endpoint::azure_openai_v1(url(shape)),
                Endpoint::AzureV1 {
                    base: url("https://r.openai.azure.com/openai/v1")
                },
                "{shape}"
            );
        }
    }

    #[test]
    fn the_api_is_named_and_parsed() {
        assert_eq!("v1".parse::<FoundryApi>(), Ok(FoundryApi::V1));
        assert_eq!(
            "model_inference".parse::<FoundryApi>(),
            Ok(FoundryApi::ModelInference)
        );
        assert_eq!(FoundryApi::default(), FoundryApi::V1);
        for api in [FoundryApi::V1, FoundryApi::ModelInference] {
            assert_eq!(api.as_str().parse::<FoundryApi>(), Ok(api));
        }
        let err = "models".parse::<FoundryApi>().unwrap_err();
        assert!(
            err.contains("use `v1` (the default) or `model_inference`"),
            "{err}"
        );
        let v1 = Endpoint::foundry(url("https://r.services.ai.azure.com"), FoundryApi::V1, None)
            .unwrap();
        assert_eq!(v1.api_label(), "OpenAI v1 API");
        let pinned = Endpoint::foundry(
            url("https://r.services.ai.azure.com"),
            FoundryApi::ModelInference,
            None,
        )
        .unwrap();
        assert_eq!(pinned.api_label(), "Azure AI Model Inference API");
    }

    /// The closing note of issue 12's URL table, row by row, for a URL given at run time.
    #[test]
    fn from_url_reads_each_run_time_shape_with_each_api() {
        use FoundryApi::{ModelInference, V1};
        let v1 = |raw: &str| Endpoint::AzureV1 { base: url(raw) };
        let models = |raw: &str, version: &str| Endpoint::ModelInference {
            endpoint: url(raw),
            api_version: version.into(),
        };
        let dated =
            |resource: &str, deployment: Option<&str>, version: &str| Endpoint::AzureOpenAi {
                resource: url(resource),
                deployment: deployment.map(str::to_owned),
                api_version: version.into(),
            };
        let foundry_v1 = v1("https://r.services.ai.azure.com/openai/v1");
        let foundry_models = models(
            "https://r.services.ai.azure.com/models",
            MODEL_INFERENCE_API_VERSION,
        );
        let cases = [
            // Foundry: /models, the bare resource and …/openai/v1 reach v1 unless pinned.
            (
                "https://r.services.ai.azure.com/models",
                None,
                None,
                foundry_v1.clone(),
            ),
            (
                "https://r.services.ai.azure.com/models",
                Some(V1),
                None,
                foundry_v1.clone(),
            ),
            (
                "https://r.services.ai.azure.com/models",
                Some(ModelInference),
                None,
                foundry_models.clone(),
            ),
            (
                "https://r.services.ai.azure.com/models",
                Some(ModelInference),
                Some("2025-04-01"),
                models("https://r.services.ai.azure.com/models", "2025-04-01"),
            ),
            (
                "https://r.services.ai.azure.com",
                None,
                None,
                foundry_v1.clone(),
            ),
            (
                "https://r.services.ai.azure.com/",
                Some(ModelInference),
                None,
                foundry_models.clone(),
            ),
            (
                "https://r.services.ai.azure.com/openai/v1/",
                None,
                None,
                foundry_v1.clone(),
            ),
            (
                "https://r.services.ai.azure.com/openai/v1",
                Some(ModelInference),
                Some(" "),
                foundry_models,
            ),
            (
                "http://127.0.0.1:8080/models",
                None,
                None,
                v1("http://127.0.0.1:8080/openai/v1"),
            ),
            // Azure OpenAI: the dated deployments API unless v1 is asked for.
            (
                "https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
                None,
                None,
                dated(
                    "https://r.openai.azure.com/",
                    Some("gpt-4o"),
                    AZURE_OPENAI_API_VERSION,
                ),
            ),
            (
                "https://r.openai.azure.com/openai/deployments/gpt-4o",
                Some(ModelInference),
                Some("2024-06-01"),
                dated("https://r.openai.azure.com/", Some("gpt-4o"), "2024-06-01"),
            ),
            (
                "https://r.openai.azure.com/openai/deployments/gpt-4o",
                Some(V1),
                None,
                v1("https://r.openai.azure.com/openai/v1"),
            ),
            (
                "https://r.openai.azure.com",
                None,
                None,
                dated(
                    "https://r.openai.azure.com/",
                    None,
                    AZURE_OPENAI_API_VERSION,
                ),
            ),
            (
                "https://r.openai.azure.com/",
                Some(V1),
                None,
                v1("https://r.openai.azure.com/openai/v1"),
            ),
            (
                "https://r.openai.azure.com/openai/v1",
                None,
                None,
                v1("https://r.openai.azure.com/openai/v1"),
            ),
            // Serverless: the model inference wire format, whatever `api` says.
            (
                "https://m.eastus2.models.ai.azure.com",
                Some(V1),
                None,
                Endpoint::Serverless {
                    api_base: url("https://m.eastus2.models.ai.azure.com/"),
                    api_version: MODEL_INFERENCE_API_VERSION.into(),
                },
            ),
        ];
        for (raw, api, version, expected) in cases {
            assert_eq!(
                Endpoint::from_url(raw, api, version, UrlOrigin::RunTime).unwrap(),
                expected,
                "{raw} {api:?} {version:?}"
            );
        }
        for (refused, says) in [
            ("http://r.openai.azure.com/openai/v1", "uses plain http"),
            (
                "https://example.com/api",
                "is neither an Azure AI Foundry resource",
            ),
            ("not a url", "is not a URL"),
        ] {
            let err = Endpoint::from_url(refused, None, None, UrlOrigin::RunTime).unwrap_err();
            assert!(err.contains(says), "{refused}: {err}");
        }
    }

    /// A saved Azure OpenAI connection's `api_base`: plain http and any URL are accepted (it was
    /// checked when saved), and what is not a deployment or v1 URL is the resource.
    #[test]
    fn from_url_reads_a_saved_azure_openai_base() {
        let saved = |raw: &str, api, version| {
            Endpoint::from_url(raw, api, version, UrlOrigin::SavedAzureOpenAi).unwrap()
        };
        let dated = |resource: &str, deployment: Option<&str>| Endpoint::AzureOpenAi {
            resource: url(resource),
            deployment: deployment.map(str::to_owned),
            api_version: AZURE_OPENAI_API_VERSION.into(),
        };
        assert_eq!(
            saved("https://r.openai.azure.com", None, None),
            dated("https://r.openai.azure.com", None)
        );
        assert_eq!(
            saved(
                "https://r.openai.azure.com/openai/deployments/gpt-4o",
                None,
                None
            ),
            dated("https://r.openai.azure.com", Some("gpt-4o"))
        );
        assert_eq!(
            saved("https://r.openai.azure.com/openai/v1", None, None),
            Endpoint::AzureV1 {
                base: url("https://r.openai.azure.com/openai/v1")
            }
        );
        assert_eq!(
            saved("https://r.openai.azure.com", None, Some("2024-06-01")),
            Endpoint::AzureOpenAi {
                resource: url("https://r.openai.azure.com"),
                deployment: None,
                api_version: "2024-06-01".into(),
            }
        );
        // A gateway or a local server is the resource, over plain http too; `?x` is dropped.
        assert_eq!(
            saved("http://gateway.internal/aoai?x=1", None, None),
            dated("http://gateway.internal/aoai", None)
        );
        assert_eq!(
            saved("http://127.0.0.1:9/", None, None),
            dated("http://127.0.0.1:9/", None)
        );
        for base in [
            "https://r.openai.azure.com/openai/deployments/gpt-4o",
            "http://127.0.0.1:9",
            "https://r.openai.azure.com/openai/v1",
        ] {
            let expected = match base {
                "http://127.0.0.1:9" => "http://127.0.0.1:9/openai/v1",
                _ => "https://r.openai.azure.com/openai/v1",
            };
            assert_eq!(
                saved(base, Some(FoundryApi::V1), None),
                Endpoint::AzureV1 {
                    base: url(expected)
                },
                "{base}"
            );
        }
        let err = Endpoint::from_url("::", None, None, UrlOrigin::SavedAzureOpenAi).unwrap_err();
        assert!(err.contains("is not a URL"), "{err}");
    }

    #[test]
    fn detects_each_kind_of_azure_url() {
        assert_eq!(
            detect_azure_url(" https://r.services.ai.azure.com/models/ ").unwrap(),
            DetectedUrl::Foundry {
                url: url("https://r.services.ai.azure.com/models")
            }
        );
        assert_eq!(
            detect_azure_url("https://r.services.ai.azure.com/").unwrap(),
            DetectedUrl::Foundry {
                url: url("https://r.services.ai.azure.com/")
            }
        );
        assert_eq!(
            detect_azure_url("https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=1").unwrap(),
            DetectedUrl::AzureOpenAiDeployment { resource: url("https://r.openai.azure.com/"), deployment: "gpt-4o".into() }
        );
        assert_eq!(
            detect_azure_url("https://r.openai.azure.com/openai/v1").unwrap(),
            DetectedUrl::AzureV1 {
                base: url("https://r.openai.azure.com/openai/v1")
            }
        );
        assert_eq!(
            detect_azure_url("https://r.openai.azure.com").unwrap(),
            DetectedUrl::AzureOpenAiResource {
                resource: url("https://r.openai.azure.com/")
            }
        );
        assert_eq!(
            detect_azure_url("https://m.eastus2.models.ai.azure.com").unwrap(),
            DetectedUrl::Serverless {
                api_base: url("https://m.eastus2.models.ai.azure.com/")
            }
        );
        assert!(
            detect_azure_url("https://example.com/api")
                .unwrap_err()
                .contains("neither")
        );
    }

    #[test]
    fn plain_http_is_refused_except_to_this_machine() {
        for remote in [
            "http://r.openai.azure.com/openai/v1",
            "http://10.0.0.5/models",
            "http://gateway/models",
        ] {
            let err = detect_azure_url(remote).unwrap_err();
            assert!(
                err.ends_with("uses plain http, so the API key would cross the network unencrypted; use https:// (http:// is accepted only for this machine, such as http://127.0.0.1)"),
                "{remote}: {err}"
            );
        }
        for local in [
            "http://127.0.0.1:8080/models",
            "http://localhost:1234/openai/v1",
            "http://[::1]:9/models",
        ] {
            assert!(detect_azure_url(local).is_ok(), "{local}");
        }
        assert!(
            detect_azure_url("ftp://r.services.ai.azure.com/models")
                .unwrap_err()
                .contains("`ftp:` URLs are not supported")
        );
        // A saved connection was warned about at save time, and is still understood.
        assert_eq!(
            classify_azure_url(url("http://gateway/openai/deployments/gpt-4o")).unwrap(),
            DetectedUrl::AzureOpenAiDeployment {
                resource: url("http://gateway/"),
                deployment: "gpt-4o".into()
            }
        );
    }
}
