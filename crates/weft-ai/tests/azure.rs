//! The client against the route-aware fake Azure resource on 127.0.0.1: the v1 API behind a
//! Foundry `…/models` connection (exact URL, headers, body), the retired Model Inference API,
//! and Microsoft Entra ID tokens from a stand-in `az` (reuse, expiry, the audience fallback, a
//! missing or signed-out CLI). Nothing reaches a real tenant: the CLIs are looked up only in a
//! temporary directory the test writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use url::Url;
use weft_ai::{
    ApiKey, Call, ChatRequest, Client, Credential, ENTRA_DEFAULT_SCOPE, ENTRA_FALLBACK_SCOPE,
    EmbeddingsRequest, Endpoint, FoundryApi, InferenceError, Message, RetryPolicy, Role, SignInCli,
    SignInError, Timeouts,
};
use weft_testkit::{AzureFake, AzureSetup, Reply};

const KEY: &str = "foundry-key-7d1e";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// Far enough ahead that a token never needs fetching again within a test (2100-01-01).
const LATER: i64 = 4_102_444_800;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An access token shaped like Entra ID's (a JWT whose payload names the audience and tenant).
fn token(audience: &str) -> String {
    let claims = json!({"aud": audience, "tid": TENANT}).to_string();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
    format!("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.c2lnbmF0dXJl")
}

fn ai_token() -> String {
    token("https://ai.azure.com")
}

fn cognitive_token() -> String {
    token("https://cognitiveservices.azure.com")
}

/// A `"…"` string for sh, whatever it holds.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A directory that stands for `PATH`: stand-in CLIs, each of which appends its arguments to
/// `runs` every time it runs. They use shell builtins only, since nothing else is on that PATH.
struct CliDir {
    dir: tempfile::TempDir,
}

impl CliDir {
    fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn with(self, name: &str, body: &str) -> Self {
        let runs = self.dir.path().join("runs");
        let script = format!(
            "#!/bin/sh\necho \"{name} $*\" >> {}\n{body}\n",
            quoted(&runs.to_string_lossy())
        );
        let path = self.dir.path().join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    /// An `az` that prints what `az account get-access-token -o json` prints: a token for the
    /// scope asked (the Cognitive Services audience, or the AI one), expiring at `expires_on`.
    fn az(self, expires_on: i64) -> Self {
        let print = |token: &str| {
            let json = json!({
                "accessToken": token,
                "expiresOn": "2100-01-01 00:00:00.000000",
                "expires_on": expires_on,
                "subscription": "00000000-0000-0000-0000-000000000000",
                "tenant": TENANT,
                "tokenType": "Bearer",
            });
            format!("printf '%s\\n' {}", quoted(&json.to_string()))
        };
        let body = format!(
            "case \"$*\" in\n  *cognitiveservices*) {} ;;\n  *) {} ;;\nesac",
            print(&cognitive_token()),
            print(&ai_token())
        );
        self.with("az", &body)
    }

    /// An `az` that fails as the real one does, with this on stderr.
    fn az_failing(self, stderr: &str) -> Self {
        self.with(
            "az",
            &format!("printf '%s\\n' {} >&2\nexit 1", quoted(stderr)),
        )
    }

    /// An `azd` that prints what `azd auth token -o json` prints.
    fn azd(self) -> Self {
        let json = json!({"token": ai_token(), "expiresOn": "2100-01-01T00:00:00Z"});
        self.with(
            "azd",
            &format!("printf '%s\\n' {}", quoted(&json.to_string())),
        )
    }

    /// Each run of a stand-in, as `<name> <arguments>`.
    fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("runs"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn client(&self) -> Client {
        Client::new(Timeouts::default(), RetryPolicy::default())
            .unwrap()
            .with_sign_in_path(self.dir.path())
    }
}

fn resource(setup: AzureSetup) -> AzureFake {
    setup
        .deployment("gpt-4o-mini")
        .deployment("Phi-4")
        .deployment("text-embedding-3-small")
        .start()
}

/// The Foundry connection as the seed and the portal show it, called on v1 by default.
fn v1(fake: &AzureFake) -> Endpoint {
    Endpoint::foundry(
        Url::parse(&format!("{}/models", fake.base)).unwrap(),
        FoundryApi::V1,
        None,
    )
    .unwrap()
}

fn pinned(fake_base: &str) -> Endpoint {
    Endpoint::foundry(
        Url::parse(&format!("{fake_base}/models")).unwrap(),
        FoundryApi::ModelInference,
        None,
    )
    .unwrap()
}

fn call<'a>(endpoint: &'a Endpoint, credential: &'a Credential, deployment: &'a str) -> Call<'a> {
    Call {
        endpoint,
        credential,
        deployment: Some(deployment),
        cancel: CancellationToken::new(),
        events: None,
    }
}

fn hello() -> ChatRequest {
    ChatRequest {
        messages: vec![Message::new(Role::User, "hi")],
        ..ChatRequest::default()
    }
}

fn entra() -> Credential {
    Credential::Entra { scope: None }
}

#[tokio::test]
async fn a_foundry_models_connection_calls_v1_with_the_exact_shape_for_key_and_entra() {
    let fake = resource(AzureFake::setup().key(KEY).token(&ai_token()));
    let path = CliDir::empty().az(LATER);
    let client = path.client();
    let endpoint = v1(&fake);
    let key = Credential::Key(ApiKey::new(KEY));
    let entra = entra();
    for credential in [&key, &entra] {
        let reply = client
            .chat(&call(&endpoint, credential, "Phi-4"), &hello())
            .await
            .unwrap();
        assert_eq!(reply.text, "Hello from Phi-4");
        let streamed = client
            .chat_stream(&call(&endpoint, credential, "gpt-4o-mini"), &hello())
            .await
            .unwrap();
        assert_eq!(streamed.text, "Hello from gpt-4o-mini");
        let embedded = client
            .embeddings(
                &call(&endpoint, credential, "text-embedding-3-small"),
                &EmbeddingsRequest {
                    input: vec!["a".into(), "b".into()],
                    dimensions: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(embedded.vectors.len(), 2);
    }
    let requests = fake.requests();
    let expected = [
        ("/openai/v1/chat/completions", "Phi-4", false),
        ("/openai/v1/chat/completions", "gpt-4o-mini", true),
        ("/openai/v1/embeddings", "text-embedding-3-small", false),
    ];
    assert_eq!(requests.len(), 6);
    for (i, sent) in requests.iter().enumerate() {
        let (target, model, stream) = expected[i % 3];
        assert_eq!(sent.method, "POST");
        // The exact URL: no api-version, nor any other query.
        assert_eq!(sent.target, target, "request {i}");
        let body = sent.json();
        assert_eq!(body["model"], model, "request {i}");
        assert_eq!(body["stream"] == true, stream, "request {i}");
        if i < 3 {
            assert_eq!(sent.header("api-key"), Some(KEY), "request {i}");
            assert_eq!(sent.header("authorization"), None, "request {i}");
        } else {
            assert_eq!(
                sent.header("authorization"),
                Some(format!("Bearer {}", ai_token()).as_str()),
                "request {i}"
            );
            assert_eq!(sent.header("api-key"), None, "request {i}");
        }
    }
    // One sign-in for all three Entra calls.
    assert_eq!(path.runs().len(), 1, "{:?}", path.runs());
}

#[tokio::test]
async fn an_unknown_v1_deployment_gets_the_deployment_message() {
    let fake = resource(AzureFake::setup());
    let client = CliDir::empty().client();
    let endpoint = v1(&fake);
    let key = Credential::Key(ApiKey::new(KEY));
    let err = client
        .chat(&call(&endpoint, &key, "gpt-5-typo"), &hello())
        .await
        .unwrap_err();
    assert!(matches!(err, InferenceError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("the deployment does not exist on this resource"),
        "{err}"
    );
}

#[tokio::test]
async fn a_token_is_fetched_once_per_scope_even_by_calls_that_ask_at_once() {
    let fake = resource(AzureFake::setup().token(&ai_token()));
    let path = CliDir::empty().az(LATER);
    let client = path.client();
    let endpoint = v1(&fake);
    let entra = entra();
    let (first, second, request) = (
        call(&endpoint, &entra, "Phi-4"),
        call(&endpoint, &entra, "gpt-4o-mini"),
        hello(),
    );
    let (a, b) = tokio::join!(
        client.chat(&first, &request),
        client.chat(&second, &request)
    );
    a.unwrap();
    b.unwrap();
    // A clone shares the cache.
    client
        .clone()
        .chat(&call(&endpoint, &entra, "Phi-4"), &hello())
        .await
        .unwrap();
    let runs = path.runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(
        runs[0].starts_with(
            "az account get-access-token -o json --scope https://ai.azure.com/.default"
        ),
        "{runs:?}"
    );
    let custom = Credential::Entra {
        scope: Some("https://cognitiveservices.azure.com/.default".into()),
    };
    let refused = client
        .chat(&call(&endpoint, &custom, "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, InferenceError::TokenRefused { .. }),
        "{refused:?}"
    );
    assert_eq!(path.runs().len(), 2, "another scope is another sign-in");
}

#[tokio::test]
async fn a_token_within_five_minutes_of_expiry_is_fetched_again() {
    let fake = resource(AzureFake::setup().token(&ai_token()));
    let soon = CliDir::empty().az(now() + 4 * 60);
    let client = soon.client();
    let endpoint = v1(&fake);
    let entra = entra();
    for _ in 0..2 {
        client
            .chat(&call(&endpoint, &entra, "Phi-4"), &hello())
            .await
            .unwrap();
    }
    assert_eq!(soon.runs().len(), 2);

    let later = CliDir::empty().az(now() + 6 * 60);
    let client = later.client();
    for _ in 0..2 {
        client
            .chat(&call(&endpoint, &entra, "Phi-4"), &hello())
            .await
            .unwrap();
    }
    assert_eq!(later.runs().len(), 1);
}

#[tokio::test]
async fn a_refused_default_scope_token_is_tried_once_with_the_cognitive_services_audience() {
    let fake = resource(AzureFake::setup().token(&cognitive_token()));
    let path = CliDir::empty().az(LATER);
    let client = path.client();
    let endpoint = v1(&fake);
    let entra = entra();
    let reply = client
        .chat(&call(&endpoint, &entra, "Phi-4"), &hello())
        .await
        .unwrap();
    assert_eq!(reply.text, "Hello from Phi-4");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {}", ai_token()).as_str())
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {}", cognitive_token()).as_str())
    );
    assert_eq!(requests[1].header("api-key"), None);
    // The resource's answer is remembered: the next call asks with the token it takes.
    client
        .chat_stream(&call(&endpoint, &entra, "gpt-4o-mini"), &hello())
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[2].header("authorization"),
        Some(format!("Bearer {}", cognitive_token()).as_str())
    );
    let runs = path.runs();
    assert_eq!(runs.len(), 2, "one sign-in per scope: {runs:?}");
    assert!(runs[0].contains(&format!("--scope {ENTRA_DEFAULT_SCOPE}")));
    assert!(runs[1].contains(&format!("--scope {ENTRA_FALLBACK_SCOPE}")));
}

#[tokio::test]
async fn a_token_still_refused_says_to_check_the_role_and_the_scope_and_never_shows_it() {
    // Neither audience is accepted: the fallback is tried once, then the error.
    let fake = resource(AzureFake::setup().token("some-other-token"));
    let path = CliDir::empty().az(LATER);
    let client = path.client();
    let endpoint = v1(&fake);
    let err = client
        .chat(&call(&endpoint, &entra(), "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert_eq!(fake.requests().len(), 2);
    let text = err.to_string();
    assert!(
        matches!(&err, InferenceError::TokenRefused { scope, .. } if scope == ENTRA_FALLBACK_SCOPE),
        "{err:?}"
    );
    assert!(
        text.starts_with("the service refused the Microsoft Entra ID token (HTTP 401)")
            && text.contains("Cognitive Services User")
            && text.contains("token_scope")
            && text.contains("audience is incorrect"),
        "{text}"
    );
    assert!(!text.contains(&ai_token()) && !text.contains(&cognitive_token()));

    // A custom scope is the user's choice: no fallback.
    let custom = Credential::Entra {
        scope: Some("api://weft-gateway/.default".into()),
    };
    let err = client
        .chat(&call(&endpoint, &custom, "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, InferenceError::TokenRefused { scope, .. } if scope == "api://weft-gateway/.default"),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_signed_out_azure_cli_says_to_run_az_login_and_nothing_is_sent() {
    let fake = resource(AzureFake::setup());
    let endpoint = v1(&fake);
    let path = CliDir::empty().az_failing("ERROR: Please run 'az login' to setup account.");
    let err = path
        .client()
        .chat(&call(&endpoint, &entra(), "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            InferenceError::SignIn(SignInError::NotSignedIn {
                cli: SignInCli::AzureCli,
                tenant: None,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(err.to_string().ends_with("run `az login`"), "{err}");
    assert!(fake.requests().is_empty());

    // The MSAL-era CLI's text for an expired sign-in names the tenant to sign in to.
    let expired = CliDir::empty().az_failing(&format!(
        "ERROR: AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-04-20T14:30:28.0990908Z and was inactive for 90.00:00:00. Trace ID: 20a49692 Correlation ID: be3b62e3 Timestamp: 2026-08-10 09:16:47Z\nRun the command below to authenticate interactively; additional arguments may be added as needed:\naz logout\naz login --tenant \"{TENANT}\" --scope \"https://ai.azure.com/.default\""
    ));
    let err = expired
        .client()
        .chat(&call(&endpoint, &entra(), "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Microsoft Entra ID sign-in: the Azure CLI is not signed in, or its sign-in has expired (AADSTS700082); run `az login --tenant {TENANT}`"
        )
    );
}

#[tokio::test]
async fn without_either_cli_the_error_says_to_install_the_azure_cli() {
    let fake = resource(AzureFake::setup());
    let endpoint = v1(&fake);
    let path = CliDir::empty();
    let client = path.client();
    let err = client
        .chat(&call(&endpoint, &entra(), "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Microsoft Entra ID sign-in needs the Azure CLI: install it and run `az login` (or the Azure Developer CLI and `azd auth login`)"
    );
    assert!(fake.requests().is_empty());
    let sign_in = client.entra_sign_in(None).await.unwrap_err();
    assert!(matches!(
        sign_in,
        InferenceError::SignIn(SignInError::NoCli)
    ));
}

#[tokio::test]
async fn the_sign_in_reports_which_cli_answered_its_tenant_and_expiry() {
    let az = CliDir::empty().az(LATER);
    let sign_in = az.client().entra_sign_in(None).await.unwrap();
    assert_eq!(sign_in.credential, "Azure CLI");
    assert_eq!(sign_in.tenant.as_deref(), Some(TENANT));
    assert_eq!(sign_in.expires_at_unix, LATER);

    // The Azure Developer CLI answers when the Azure CLI is missing, or signed out.
    let azd = CliDir::empty().azd();
    let sign_in = azd.client().entra_sign_in(None).await.unwrap();
    assert_eq!(sign_in.credential, "Azure Developer CLI");
    assert_eq!(sign_in.expires_at_unix, LATER);
    let both = CliDir::empty()
        .az_failing("ERROR: Please run 'az login' to setup account.")
        .azd();
    let client = both.client();
    assert_eq!(
        client.entra_sign_in(None).await.unwrap().credential,
        "Azure Developer CLI"
    );
    client.entra_sign_in(None).await.unwrap();
    let runs = both.runs();
    assert_eq!(runs.len(), 2, "az once, azd once, then the cache: {runs:?}");
    assert!(
        runs[0].starts_with("az ")
            && runs[1].starts_with(
                "azd auth token -o json --no-prompt --scope https://ai.azure.com/.default"
            ),
        "{runs:?}"
    );
}

#[tokio::test]
async fn a_pinned_model_inference_call_on_a_retired_resource_says_to_switch_to_v1() {
    const RETIRED: &str = "this resource no longer serves the /models API (Azure retired the Azure AI Model Inference API on 2026-08-26); switch the connection to v1";
    let key = Credential::Key(ApiKey::new(KEY));
    let client = CliDir::empty().client();

    // 410 from the fake resource's retired routes.
    let fake = resource(AzureFake::setup());
    let endpoint = pinned(&fake.base);
    let err = client
        .chat(&call(&endpoint, &key, "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(err, InferenceError::RetiredApi { status: 410, .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), RETIRED);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "not retried");
    assert_eq!(
        requests[0].target,
        "/models/chat/completions?api-version=2024-05-01-preview"
    );
    let err = client
        .embeddings(
            &call(&endpoint, &key, "text-embedding-3-small"),
            &EmbeddingsRequest {
                input: vec!["a".into()],
                dimensions: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), RETIRED);

    // 404 for the route ("Resource not found") is the retirement too; a 404 that names the
    // deployment is still the deployment's.
    let server = support::Server::start(vec![
        support::Reply::json(404, json!({"error": {"code": "404", "message": "Resource not found"}})),
        support::Reply::json(404, json!({"error": {"code": "unknown_model", "message": "Unknown model: Phi-5"}})),
        support::Reply::json(404, json!({"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}})),
    ])
    .await;
    let endpoint = pinned(&server.base);
    let err = client
        .chat(&call(&endpoint, &key, "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(err, InferenceError::RetiredApi { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), RETIRED);
    for _ in 0..2 {
        let err = client
            .chat(&call(&endpoint, &key, "Phi-5"), &hello())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the deployment does not exist on this resource"),
            "{err}"
        );
    }
    assert_eq!(server.requests().len(), 3, "none retried");

    // The same 404s from v1 are never called retirement.
    let v1_server = support::Server::start(vec![support::Reply::json(
        404,
        json!({"error": {"code": "404", "message": "Resource not found"}}),
    )])
    .await;
    let endpoint =
        Endpoint::foundry(Url::parse(&v1_server.base).unwrap(), FoundryApi::V1, None).unwrap();
    let err = client
        .chat(&call(&endpoint, &key, "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(matches!(err, InferenceError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn entra_is_refused_for_an_openai_endpoint_before_any_sign_in() {
    let path = CliDir::empty().az(LATER);
    let endpoint = Endpoint::OpenAi {
        base_url: Url::parse("http://127.0.0.1:9/v1").unwrap(),
        organization: None,
    };
    let err = path
        .client()
        .chat(&call(&endpoint, &entra(), "gpt-4o"), &hello())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Microsoft Entra ID sign-in works with Azure endpoints only"),
        "{err}"
    );
    assert!(path.runs().is_empty());
}

#[tokio::test]
async fn the_fake_serves_scripted_replies_and_dated_deployment_urls() {
    let fake = resource(
        AzureFake::setup()
            .key(KEY)
            .reply("Phi-4", Reply::Json(429, json!({"error": {"code": "429", "message": "slow down"}})))
            .reply("Phi-4", Reply::Json(200, json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "scripted"}, "finish_reason": "stop"}]}))),
    );
    let client = Client::new(
        Timeouts::default(),
        RetryPolicy {
            base_delay: std::time::Duration::from_millis(5),
            max_delay: std::time::Duration::from_millis(10),
            ..RetryPolicy::default()
        },
    )
    .unwrap();
    let key = Credential::Key(ApiKey::new(KEY));
    let endpoint = v1(&fake);
    let reply = client
        .chat(&call(&endpoint, &key, "Phi-4"), &hello())
        .await
        .unwrap();
    assert_eq!(reply.text, "scripted");
    let dated = Endpoint::AzureOpenAi {
        resource: Url::parse(&fake.base).unwrap(),
        deployment: None,
        api_version: weft_ai::AZURE_OPENAI_API_VERSION.into(),
    };
    let reply = client
        .chat(&call(&dated, &key, "gpt-4o-mini"), &hello())
        .await
        .unwrap();
    assert_eq!(reply.text, "Hello from gpt-4o-mini");
    let wrong_key = Credential::Key(ApiKey::new("not-the-key"));
    let err = client
        .chat(&call(&endpoint, &wrong_key, "Phi-4"), &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(err, InferenceError::Unauthorized { .. }),
        "{err:?}"
    );
    let targets: Vec<String> = fake.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/openai/v1/chat/completions",
            "/openai/v1/chat/completions",
            "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
            "/openai/v1/chat/completions",
        ]
    );
}
