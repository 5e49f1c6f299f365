//! A failed HTTP status and its body as an [`InferenceError`]: what every service shares
//! ([`Failure::into_error`]), and what the model APIs add ([`model_error`]: the content filter,
//! Entra ID tokens, the retired `/models` API and the deployment hints).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::endpoint::Endpoint;
use crate::error::InferenceError;
use crate::request::PreparedRequest;

/// The error body services send. Azure documents
/// `{"error": {"code", "message", "param", "type", "innererror"}}`
/// (https://learn.microsoft.com/azure/ai-foundry/openai/reference, "ErrorResponse"), and its
/// other REST APIs the same `error.code` / `error.message`; SerpAPI sends `{"error": "<text>"}`
/// (https://serpapi.com/api-errors).
#[derive(Debug, Default, Deserialize)]
struct RawErrorBody {
    error: Option<RawError>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawError {
    Text(String),
    Detailed {
        code: Option<Value>,
        message: Option<String>,
        innererror: Option<Value>,
    },
}

/// A non-2xx reply, read and masked: what each service's error mapping starts from.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub status: u16,
    /// `error.code`, as text.
    pub code: Option<String>,
    /// The service's message (or its raw body), masked and cut to 300 characters.
    pub message: String,
    pub innererror: Option<Value>,
    /// The request's URL with its secrets masked.
    pub url: String,
    pub retry_after: Option<Duration>,
    pub request_id: Option<String>,
}

impl Failure {
    /// The body's secrets are masked in the raw text first, then again in the parsed message
    /// (JSON escapes can spell a key in ways the raw text hides), and only then is it cut, so a
    /// cut never leaves a piece of a key. Anything that is not the documented body (a gateway's
    /// or proxy's text) is shown raw, masked the same way.
    pub(crate) fn parse(
        status: u16,
        text: &str,
        request: &PreparedRequest,
        retry_after: Option<Duration>,
        request_id: Option<String>,
    ) -> Self {
        let text = request.mask(text);
        let body: RawErrorBody = serde_json::from_str(&text).unwrap_or_default();
        let (code, message, innererror) = match body.error {
            Some(RawError::Text(message)) => (None, Some(message), None),
            Some(RawError::Detailed {
                code,
                message,
                innererror,
            }) => (code, message, innererror),
            None => (None, None, None),
        };
        let code = code.map(|code| match code {
            Value::String(code) => code,
            other => other.to_string(),
        });
        let message = match (message.as_deref(), text.trim()) {
            (Some(message), _) => cut(&request.mask(message)),
            (None, "") => "no details given".to_owned(),
            (None, t) if t.starts_with('<') => {
                "the reply was an HTML page (a proxy or a wrong URL?)".to_owned()
            }
            (None, t) => cut(t),
        };
        Self {
            status,
            code,
            message,
            innererror,
            url: request.shown_url(),
            retry_after,
            request_id,
        }
    }

    /// The error this status means for any service: 401 a refused key, 403 denied, 404
    /// nothing at the URL (with `not_found`, the service's hint on what to check), 429 rate
    /// limited, 5xx the service failed, anything else a rejected request.
    pub(crate) fn into_error(self, not_found: &str) -> InferenceError {
        let Self {
            status,
            message,
            url,
            retry_after,
            request_id,
            ..
        } = self;
        match status {
            401 => InferenceError::Unauthorized {
                message,
                request_id,
            },
            403 => InferenceError::Forbidden {
                message,
                request_id,
            },
            404 => InferenceError::NotFound {
                url,
                hint: not_found.to_owned(),
                message,
                request_id,
            },
            429 => InferenceError::RateLimited {
                retry_after,
                message,
                request_id,
            },
            500..=599 => InferenceError::Server {
                status,
                message,
                request_id,
            },
            _ => InferenceError::BadRequest {
                status,
                message,
                request_id,
            },
        }
    }
}

/// The error a model API's failed status means. `scope` is the Entra ID token's scope (None
/// for a key).
pub(crate) fn model_error(
    failure: Failure,
    scope: Option<&str>,
    endpoint: &Endpoint,
) -> InferenceError {
    let code = failure.code.as_deref();
    if code == Some("content_filter") {
        return InferenceError::ContentFiltered {
            categories: filtered_categories(failure.innererror.as_ref()),
            in_prompt: true,
            request_id: failure.request_id,
        };
    }
    let model_inference = matches!(endpoint, Endpoint::ModelInference { .. });
    match (failure.status, scope) {
        (401, Some(scope)) => InferenceError::TokenRefused {
            scope: scope.to_owned(),
            message: failure.message,
            request_id: failure.request_id,
        },
        (404 | 410, _) if model_inference && !names_a_deployment(code, &failure.message) => {
            InferenceError::RetiredApi {
                status: failure.status,
                request_id: failure.request_id,
            }
        }
        (404, _) => {
            let hint = not_found_hint(&failure.url, code, &failure.message);
            failure.into_error(hint)
        }
        _ => failure.into_error(""),
    }
}

/// A service's (or a CLI's) message as an error shows it: at most 300 characters.
pub(crate) fn cut(message: &str) -> String {
    const SHOWN: usize = 300;
    match message.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    }
}

/// Whether a 404 says the deployment (model) is unknown, not the route: Azure OpenAI answers
/// `DeploymentNotFound` ("The API deployment for this resource does not exist…"), the Model
/// Inference API `unknown_model` ("Unknown model: …"). A retired route answers neither.
fn names_a_deployment(code: Option<&str>, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    matches!(code, Some("DeploymentNotFound" | "unknown_model"))
        || lower.contains("deployment")
        || lower.contains("unknown model")
}

fn not_found_hint(url: &str, code: Option<&str>, message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if names_a_deployment(code, message) {
        "the deployment does not exist on this resource (or was created in the last few minutes); check the deployment name"
    } else if lower.contains("api-version") || lower.contains("api version") {
        "this API version is not available here; try another api_version in the connection"
    } else if url.contains("/openai/deployments/") {
        "check the deployment name and that the connection's URL is the resource, not a portal link"
    } else {
        "check the endpoint: an Azure resource serves the v1 API at https://<resource>.services.ai.azure.com/openai/v1 (or https://<resource>.openai.azure.com/openai/v1)"
    }
}

/// The categories Azure's content filter flagged, from an error's `innererror` or a choice's
/// `content_filter_results`.
pub(crate) fn filtered_categories(inner: Option<&Value>) -> Vec<String> {
    let results = inner
        .and_then(|inner| {
            inner
                .get("content_filter_result")
                .or_else(|| inner.get("content_filter_results"))
        })
        .or(inner);
    let mut categories: Vec<String> = results
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter(|(_, verdict)| {
                    verdict.get("filtered").and_then(Value::as_bool) == Some(true)
                        || verdict.get("detected").and_then(Value::as_bool) == Some(true)
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    categories.sort();
    categories
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ApiKey;
    use reqwest::Method;
    use url::Url;

    fn request() -> PreparedRequest {
        PreparedRequest::new(
            Method::GET,
            Url::parse("https://serpapi.example/search.json?q=x").unwrap(),
        )
        .secret_query("api_key", &ApiKey::new("serp-k3y"))
    }

    #[test]
    fn serpapis_text_error_and_azures_detailed_one_are_both_read() {
        let serp = Failure::parse(
            401,
            r#"{"error":"Invalid API key serp-k3y. Your API key should be here: https://serpapi.com/manage-api-key"}"#,
            &request(),
            None,
            None,
        );
        assert_eq!(serp.code, None);
        assert_eq!(
            serp.message,
            "Invalid API key ******. Your API key should be here: https://serpapi.com/manage-api-key"
        );
        let azure = Failure::parse(
            400,
            r#"{"error":{"code":"InvalidRequestBody","message":"The request body is invalid.","innererror":null}}"#,
            &request(),
            None,
            Some("r1".into()),
        );
        assert_eq!(azure.code.as_deref(), Some("InvalidRequestBody"));
        let err = azure.into_error("unused");
        assert_eq!(
            err.to_string(),
            "the service rejected the request (HTTP 400) (request id r1): The request body is invalid."
        );
    }

    #[test]
    fn a_404_names_the_masked_url_and_the_services_hint() {
        let err =
            Failure::parse(404, "", &request(), None, None).into_error("check the index name");
        assert_eq!(
            err.to_string(),
            "nothing at https://serpapi.example/search.json?q=x&api_key=****** (HTTP 404): check the index name. no details given"
        );
    }

    #[test]
    fn each_status_class_has_its_error() {
        let of = |status| Failure::parse(status, "{}", &request(), None, None).into_error("");
        assert!(matches!(of(401), InferenceError::Unauthorized { .. }));
        assert!(matches!(of(403), InferenceError::Forbidden { .. }));
        assert!(matches!(of(429), InferenceError::RateLimited { .. }));
        assert!(matches!(
            of(503),
            InferenceError::Server { status: 503, .. }
        ));
        assert!(matches!(
            of(409),
            InferenceError::BadRequest { status: 409, .. }
        ));
    }
}
