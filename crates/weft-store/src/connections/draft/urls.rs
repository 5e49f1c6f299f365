//! The URL fields of a draft: parsed and normalised, plain http warned about unless the server is
//! local, and an endpoint pasted into the wrong connection type named with the type it fits.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::Problem;
use crate::connections::kind::ConnectionKind;

/// Trims, drops trailing slashes, refuses non-HTTP schemes, and warns about plain HTTP to a
/// machine that is not local (the API key would cross the network unencrypted).
pub(super) fn check_url(
    field: &str,
    raw: &str,
    warnings: &mut Vec<String>,
) -> Result<String, Problem> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|err| {
        Problem::on(
            field,
            format!("`{trimmed}` is not a URL ({err}); write it like https://example.com"),
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_local(&url) => {}
        "http" => warnings.push(format!(
            "{field} uses plain http to {}: the API key would travel unencrypted. Use https unless this is a server on your own network",
            url.host_str().unwrap_or_default()
        )),
        scheme => {
            return Err(Problem::on(
                field,
                format!("`{scheme}:` URLs are not supported; use https:// (or http:// for a local server)"),
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Problem::on(field, format!("`{trimmed}` has no host name")));
    }
    Ok(trimmed.to_owned())
}

/// The host of a plain-http URL that leaves this machine and its network; None for https, a
/// local server, or what is not a URL.
pub(crate) fn remote_plain_http(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    (url.scheme() == "http" && !is_local(&url))
        .then(|| url.host_str().unwrap_or_default().to_owned())
}

fn is_local(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_local_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_local_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(host)) => {
            let host = host.to_ascii_lowercase();
            host == "localhost"
                || host.ends_with(".localhost")
                || host.ends_with(".local")
                || host.ends_with(".internal")
                || !host.contains('.')
        }
        None => false,
    }
}

fn is_local_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        IpAddr::V6(ip) => ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local(),
    }
}

/// Whether a base URL is the OpenAI v1 API of an Azure resource (`…/openai/v1`).
pub(super) fn is_v1_base(raw: &str) -> bool {
    url::Url::parse(raw.trim()).is_ok_and(|url| {
        url.path()
            .trim_end_matches('/')
            .to_ascii_lowercase()
            .ends_with("/openai/v1")
    })
}

/// Catches the most common mix-up: an endpoint pasted into the wrong connection type.
pub(super) fn check_fits_kind(
    kind: ConnectionKind,
    config: &BTreeMap<String, String>,
) -> Result<(), Problem> {
    let shape = |field: &str| {
        config
            .get(field)
            .and_then(|raw| url::Url::parse(raw).ok())
            .map(|url| EndpointShape::of(&url))
    };
    let (field, found) = match kind {
        ConnectionKind::AzureAi => ("endpoint", shape("endpoint")),
        ConnectionKind::AzureOpenAi | ConnectionKind::Serverless => ("api_base", shape("api_base")),
        _ => return Ok(()),
    };
    let Some(found) = found else { return Ok(()) };
    let message = match (kind, found) {
        (ConnectionKind::AzureAi, EndpointShape::AzureOpenAi) => {
            "this is an Azure OpenAI URL (*.openai.azure.com, or …/openai/deployments/…), so use an Azure OpenAI connection (azure_open_ai): an Azure AI Foundry connection takes a *.services.ai.azure.com resource and sends the deployment name in each request"
        }
        (ConnectionKind::AzureAi | ConnectionKind::AzureOpenAi, EndpointShape::Serverless) => {
            "this is a serverless endpoint (*.models.ai.azure.com), so use a Serverless connection (serverless): it authenticates with a Bearer token"
        }
        (ConnectionKind::AzureOpenAi | ConnectionKind::Serverless, EndpointShape::Foundry) => {
            "this is an Azure AI Foundry URL (*.services.ai.azure.com, or …/models), so use an Azure AI Foundry connection (azure_ai): one connection serves every deployment of the resource"
        }
        (ConnectionKind::Serverless, EndpointShape::AzureOpenAi) => {
            "this is an Azure OpenAI URL (*.openai.azure.com, or …/openai/…), so use an Azure OpenAI connection (azure_open_ai)"
        }
        _ => return Ok(()),
    };
    Err(Problem::on(field, message))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndpointShape {
    Foundry,
    AzureOpenAi,
    Serverless,
    Other,
}

impl EndpointShape {
    fn of(url: &url::Url) -> Self {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| {
                s.filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let openai_at = segments.iter().position(|s| s == "openai");
        let after_openai = openai_at
            .and_then(|i| segments.get(i + 1))
            .map(String::as_str);
        if host.ends_with(".models.ai.azure.com") {
            Self::Serverless
        } else if openai_at.is_some() && after_openai != Some("v1") {
            // The deployment API (…/openai, …/openai/deployments/<name>): Azure OpenAI's shape.
            Self::AzureOpenAi
        } else if segments.last().is_some_and(|s| s == "models") {
            Self::Foundry
        } else if host.ends_with(".services.ai.azure.com") {
            // The bare resource and …/openai/v1 are served by both kinds of resource: the
            // host says which one this is.
            Self::Foundry
        } else if host.ends_with(".openai.azure.com") {
            Self::AzureOpenAi
        } else {
            Self::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::tests::{draft, problems};
    use super::*;

    #[test]
    fn azure_openai_url_in_a_foundry_connection_says_which_type_fits() {
        let found = problems(draft(
            ConnectionKind::AzureAi,
            &[(
                "endpoint",
                "https://res.openai.azure.com/openai/deployments/gpt-4o",
            )],
            &[("api_key", "k")],
        ));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field.as_deref(), Some("endpoint"));
        assert!(
            found[0]
                .message
                .contains("use an Azure OpenAI connection (azure_open_ai)")
        );
    }

    #[test]
    fn foundry_url_in_an_azure_openai_connection_says_which_type_fits() {
        let found = problems(draft(
            ConnectionKind::AzureOpenAi,
            &[("api_base", "https://res.services.ai.azure.com/models")],
            &[("api_key", "k")],
        ));
        assert!(
            found[0]
                .message
                .contains("use an Azure AI Foundry connection (azure_ai)"),
            "{found:?}"
        );
    }

    #[test]
    fn azure_openai_accepts_resource_deployment_and_v1_urls() {
        for url in [
            "https://res.openai.azure.com",
            "https://res.openai.azure.com/openai/deployments/gpt-4o-mini",
            "https://res.openai.azure.com/openai/v1/",
        ] {
            let valid = draft(
                ConnectionKind::AzureOpenAi,
                &[("api_base", url)],
                &[("api_key", "k")],
            )
            .validate(&BTreeSet::new())
            .unwrap();
            assert_eq!(valid.config["api_base"], url.trim_end_matches('/'));
            assert_eq!(valid.config["api_type"], "azure");
            if url.contains("/openai/v1") {
                assert_eq!(valid.config["api"], "v1", "{url}");
                assert!(!valid.config.contains_key("api_version"), "{url}");
            } else {
                assert_eq!(valid.config["api"], "deployments", "{url}");
                assert_eq!(valid.config["api_version"], "2024-10-21", "{url}");
            }
        }
    }

    #[test]
    fn the_host_decides_urls_both_kinds_of_resource_serve() {
        use ConnectionKind::{AzureAi, AzureOpenAi};
        let field = |kind| match kind {
            AzureAi => "endpoint",
            _ => "api_base",
        };
        let cases = [
            (AzureAi, "https://res.services.ai.azure.com/openai/v1", None),
            (AzureAi, "https://res.services.ai.azure.com", None),
            (AzureAi, "https://res.services.ai.azure.com/models", None),
            (
                AzureAi,
                "https://res.openai.azure.com/openai/v1",
                Some("azure_open_ai"),
            ),
            (
                AzureAi,
                "https://res.openai.azure.com",
                Some("azure_open_ai"),
            ),
            (
                AzureAi,
                "https://res.services.ai.azure.com/openai/deployments/gpt-4o",
                Some("azure_open_ai"),
            ),
            (
                AzureAi,
                "https://m.eastus2.models.ai.azure.com",
                Some("(serverless)"),
            ),
            // A host Weft cannot place (a proxy, a local fake) is taken as given.
            (AzureAi, "http://127.0.0.1:8080/openai/v1", None),
            (AzureOpenAi, "https://res.openai.azure.com/openai/v1", None),
            (
                AzureOpenAi,
                "https://res.services.ai.azure.com/openai/v1",
                Some("(azure_ai)"),
            ),
            (
                AzureOpenAi,
                "https://res.services.ai.azure.com",
                Some("(azure_ai)"),
            ),
            (AzureOpenAi, "http://127.0.0.1:8080/openai/v1", None),
        ];
        for (kind, url, refused_for) in cases {
            let result =
                draft(kind, &[(field(kind), url)], &[("api_key", "k")]).validate(&BTreeSet::new());
            match (result, refused_for) {
                (Ok(_), None) => {}
                (Err(found), Some(hint)) => {
                    assert_eq!(found.len(), 1, "{url}: {found:?}");
                    assert!(found[0].message.contains(hint), "{url}: {found:?}");
                }
                (result, _) => panic!("{kind} {url}: {result:?}"),
            }
        }
    }

    #[test]
    fn schemes_other_than_http_are_refused_and_remote_http_is_warned_about() {
        let found = problems(draft(
            ConnectionKind::OpenAi,
            &[("base_url", "ftp://x.example")],
            &[("api_key", "k")],
        ));
        assert!(found[0].message.contains("not supported"), "{found:?}");

        let local = draft(
            ConnectionKind::OpenAi,
            &[("base_url", "http://127.0.0.1:8080/v1")],
            &[("api_key", "k")],
        )
        .validate(&BTreeSet::new())
        .unwrap();
        assert!(local.warnings.is_empty());

        let remote = draft(
            ConnectionKind::OpenAi,
            &[("base_url", "http://llm.example.com/v1")],
            &[("api_key", "k")],
        )
        .validate(&BTreeSet::new())
        .unwrap();
        assert_eq!(remote.warnings.len(), 1);
        assert!(remote.warnings[0].contains("unencrypted"));
    }

    #[test]
    fn a_serp_endpoint_defaults_to_serpapi_and_takes_a_local_server_or_a_warned_remote_one() {
        let endpoint = |config: &[(&str, &str)]| {
            let valid = draft(ConnectionKind::Serp, config, &[("api_key", "serp-key")])
                .validate(&BTreeSet::new())
                .unwrap();
            (valid.config["endpoint"].clone(), valid.warnings)
        };
        assert_eq!(endpoint(&[]), ("https://serpapi.com".to_owned(), vec![]));
        assert_eq!(
            endpoint(&[("endpoint", "http://127.0.0.1:8931/")]),
            ("http://127.0.0.1:8931".to_owned(), vec![])
        );
        let (url, warnings) = endpoint(&[("endpoint", "http://serp-proxy.example.com")]);
        assert_eq!(url, "http://serp-proxy.example.com");
        assert!(
            warnings[0].contains("endpoint uses plain http to serp-proxy.example.com"),
            "{warnings:?}"
        );
        let refused = problems(draft(
            ConnectionKind::Serp,
            &[("endpoint", "ftp://serpapi.com")],
            &[("api_key", "serp-key")],
        ));
        assert_eq!(refused[0].field.as_deref(), Some("endpoint"));
    }
}
