//! How a call proves who it is: an API key, or a Microsoft Entra ID token from the sign-in the
//! developer already has (the Azure CLI, else the Azure Developer CLI), fetched through the
//! official `azure_identity` crate and kept in memory only.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use azure_core::credentials::{AccessToken, TokenCredential};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzureDeveloperCliCredential,
    AzureDeveloperCliCredentialOptions, Executor,
};
use base64::Engine as _;
use serde_json::Value;

use crate::ApiKey;
use crate::endpoint::Auth;
use crate::error::{SignInCli, SignInError};
use crate::status::cut;

/// The scope a Microsoft Entra ID token is asked for when the connection names none: the one
/// the OpenAI v1 API documents for Foundry resources
/// (https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle, "Microsoft Entra ID").
pub const ENTRA_DEFAULT_SCOPE: &str = "https://ai.azure.com/.default";

/// The older audience of Azure AI services, which the service accepts as well
/// (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/managed-identity): tried once
/// when a token for the default scope is refused.
pub const ENTRA_FALLBACK_SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// A cached token is used until this long before it expires, so that no call starts with a
/// token that runs out on the way.
const REFRESH_MARGIN_SECS: i64 = 5 * 60;

/// How a call proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// An API key, sent in the header the endpoint's style takes.
    Key(ApiKey),
    /// A Microsoft Entra ID token for `scope` (None: [`ENTRA_DEFAULT_SCOPE`]) from the
    /// developer's Azure CLI or Azure Developer CLI sign-in, sent as `Authorization: Bearer`.
    Entra { scope: Option<String> },
}

impl Credential {
    /// The API key, when this credential is one: what a run's redactor must mask.
    pub fn key(&self) -> Option<&ApiKey> {
        match self {
            Self::Key(key) => Some(key),
            Self::Entra { .. } => None,
        }
    }
}

/// The scope a token is asked for, and whether it is the default one (the only one that falls
/// back to [`ENTRA_FALLBACK_SCOPE`]).
pub(crate) fn entra_scope(scope: Option<&str>) -> (&str, bool) {
    match scope.map(str::trim).filter(|s| !s.is_empty()) {
        Some(scope) if scope != ENTRA_DEFAULT_SCOPE => (scope, false),
        _ => (ENTRA_DEFAULT_SCOPE, true),
    }
}

/// The header one request carries, and the secret in it (masked in whatever an error shows).
pub(crate) struct Authorization {
    pub name: &'static str,
    pub value: String,
    pub secret: ApiKey,
    /// The token's scope; None for a key.
    pub scope: Option<String>,
}

impl Authorization {
    pub(crate) fn key(auth: Auth, key: &ApiKey) -> Self {
        let (name, value) = match auth {
            Auth::ApiKeyHeader => ("api-key", key.expose().to_owned()),
            Auth::Bearer => ("authorization", format!("Bearer {}", key.expose())),
        };
        Self {
            name,
            value,
            secret: key.clone(),
            scope: None,
        }
    }

    /// Entra ID always goes as a bearer token, and never with an `api-key` beside it.
    pub(crate) fn token(token: &Token, scope: &str) -> Self {
        Self {
            name: "authorization",
            value: format!("Bearer {}", token.secret.expose()),
            secret: token.secret.clone(),
            scope: Some(scope.to_owned()),
        }
    }
}

/// Which sign-in answered, for `weft doctor` and the Diagnostics dialog. Holds no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraSignIn {
    /// `"Azure CLI"` or `"Azure Developer CLI"`.
    pub credential: &'static str,
    /// The token's `tid` claim: the tenant it was issued in.
    pub tenant: Option<String>,
    pub expires_at_unix: i64,
}

/// A token as the cache holds it.
#[derive(Clone)]
pub(crate) struct Token {
    pub secret: ApiKey,
    pub sign_in: EntraSignIn,
}

impl Token {
    fn new(token: AccessToken, credential: &'static str) -> Self {
        let secret = ApiKey::new(token.token.secret());
        let tenant = tenant_claim(secret.expose());
        Self {
            secret,
            sign_in: EntraSignIn {
                credential,
                tenant,
                expires_at_unix: token.expires_on.unix_timestamp(),
            },
        }
    }

    fn fresh(&self, now_unix: i64) -> bool {
        now_unix + REFRESH_MARGIN_SECS < self.sign_in.expires_at_unix
    }
}

/// The `tid` claim of a JWT access token, read without checking the signature: it only says
/// which tenant signed the user in, for display.
fn tenant_claim(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("tid")?.as_str().map(str::to_owned)
}

/// Runs the CLIs for `azure_identity`: as its own executor does (tokio), but the child is killed
/// when the call that waits on it is dropped (a cancelled node), and, for tests, with another
/// `PATH`.
#[derive(Debug)]
struct CliExecutor {
    path: Option<OsString>,
}

#[async_trait::async_trait]
impl Executor for CliExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        let mut command = tokio::process::Command::new(program);
        command.args(args).stdin(Stdio::null()).kill_on_drop(true);
        if let Some(path) = &self.path {
            command.env("PATH", path);
        }
        command.output().await
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Tokens by scope, in memory only, shared by a client's clones. `azure_identity`'s CLI
/// credentials do not cache: each ask runs `az`, which takes a second or more.
#[derive(Clone)]
pub(crate) struct Tokens {
    executor: Arc<CliExecutor>,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
    /// Origins that refused a token for the default scope and took the fallback one: their
    /// calls ask for the fallback at once, instead of a 401 round trip each.
    fallback_origins: Arc<Mutex<HashSet<String>>>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    /// `path`: the `PATH` the CLIs are looked up on (None: this process's).
    pub(crate) fn new(path: Option<OsString>) -> Self {
        Self {
            executor: Arc::new(CliExecutor { path }),
            slots: Arc::default(),
            fallback_origins: Arc::default(),
        }
    }

    pub(crate) fn takes_fallback(&self, origin: &str) -> bool {
        self.fallback_origins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(origin)
    }

    pub(crate) fn remember_fallback(&self, origin: String) {
        self.fallback_origins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(origin);
    }

    /// A token for `scope`, from the cache while it has 5 minutes left, else from the CLIs.
    /// Callers asking for one scope at once wait for one fetch.
    pub(crate) async fn get(&self, scope: &str) -> Result<Token, SignInError> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(scope.to_owned())
            .or_default()
            .clone();
        let mut held = slot.lock().await;
        let now = azure_core::time::OffsetDateTime::now_utc().unix_timestamp();
        if let Some(token) = held.as_ref().filter(|token| token.fresh(now)) {
            return Ok(token.clone());
        }
        let token = self.fetch(scope).await?;
        *held = Some(token.clone());
        Ok(token)
    }

    /// The Azure CLI, then the Azure Developer CLI: the order of `azure_identity`'s
    /// `DeveloperToolsCredential`, run one by one to know which answered.
    async fn fetch(&self, scope: &str) -> Result<Token, SignInError> {
        let executor: Arc<dyn Executor> = self.executor.clone();
        let az = AzureCliCredential::new(Some(AzureCliCredentialOptions {
            executor: Some(executor.clone()),
            ..AzureCliCredentialOptions::default()
        }))
        .map_err(|err| failed(SignInCli::AzureCli, &err.to_string()))?;
        let az_error = match az.get_token(&[scope], None).await {
            Ok(token) => return Ok(Token::new(token, SignInCli::AzureCli.name())),
            Err(err) => err.to_string(),
        };
        let azd = AzureDeveloperCliCredential::new(Some(AzureDeveloperCliCredentialOptions {
            executor: Some(executor),
            ..AzureDeveloperCliCredentialOptions::default()
        }))
        .map_err(|err| failed(SignInCli::AzureDeveloperCli, &err.to_string()))?;
        let azd_error = match azd.get_token(&[scope], None).await {
            Ok(token) => return Ok(Token::new(token, SignInCli::AzureDeveloperCli.name())),
            Err(err) => err.to_string(),
        };
        Err(sign_in_error(&az_error, &azd_error))
    }
}

/// What went wrong when neither CLI gave a token, from the texts `azure_identity` makes of their
/// failures: `"<credential> authentication failed. <stderr>"`, or `"az not found on PATH"` when
/// the shell cannot find the program (exit status 127). The Azure CLI, when installed, is the one
/// reported: it is the sign-in Weft asks for.
fn sign_in_error(az: &str, azd: &str) -> SignInError {
    let az_missing = az.contains("az not found on PATH");
    let azd_missing = azd.contains("azd not found on PATH");
    match (az_missing, azd_missing) {
        (true, true) => SignInError::NoCli,
        (false, _) => classify(SignInCli::AzureCli, az),
        (true, false) => classify(SignInCli::AzureDeveloperCli, azd),
    }
}

/// Not signed in (or the sign-in expired) when the CLI says to sign in or Entra ID refused it with
/// an AADSTS error: the Azure CLI prints `ERROR: Please run 'az login' to setup account.`, or
/// the AADSTS error and `az login --tenant "<tenant>" …` to run; azd prints
/// `not logged in, run `azd auth login` to login`.
fn classify(cli: SignInCli, text: &str) -> SignInError {
    let signs_in = match cli {
        SignInCli::AzureCli => text.contains("az login"),
        SignInCli::AzureDeveloperCli => {
            text.contains("azd auth login") || text.contains("not logged in")
        }
    };
    let code = aadsts_code(text);
    if signs_in || code.is_some() {
        SignInError::NotSignedIn {
            cli,
            tenant: tenant_in(text),
            code,
        }
    } else {
        failed(cli, text)
    }
}

fn failed(cli: SignInCli, text: &str) -> SignInError {
    let said = text
        .split_once("authentication failed.")
        .map_or(text, |(_, rest)| rest);
    // azure_identity appends its troubleshooting link; the message says what to do instead.
    let said = said
        .split_once("To troubleshoot, visit")
        .map_or(said, |(head, _)| head);
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    SignInError::Failed {
        cli,
        message: cut(&said),
    }
}

/// `AADSTS50076` and the like: which Entra ID rule refused the sign-in.
fn aadsts_code(text: &str) -> Option<String> {
    let at = text.find("AADSTS")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

/// The tenant in a `--tenant "<tenant>"` (or unquoted) the CLI suggests running, when it is a
/// plain tenant id or domain (nothing else goes into the command Weft suggests).
fn tenant_in(text: &str) -> Option<String> {
    let (_, after) = text.split_once("--tenant ")?;
    let tenant: String = after
        .trim_start()
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    (!tenant.is_empty()).then_some(tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "eeff6f72-412a-4df3-9eac-064920c95e17";

    #[test]
    fn both_clis_missing_is_one_install_hint() {
        let az = "AzureCliCredential authentication failed. az not found on PATH\nTo troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli";
        let azd = "AzureDeveloperCliCredential authentication failed. azd not found on PATH\nTo troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azd";
        assert_eq!(sign_in_error(az, azd), SignInError::NoCli);
    }

    #[test]
    fn an_expired_sign_in_names_the_tenant_to_sign_in_to() {
        // As the Azure CLI prints it (MSAL-era CLI, an expired refresh token).
        let az = format!(
            "AzureCliCredential authentication failed. ERROR: AADSTS700082: The refresh token has expired due to inactivity. Trace ID: 20a4 Correlation ID: be3b\nRun the command below to authenticate interactively; additional arguments may be added as needed:\naz logout\naz login --tenant \"{TENANT}\" --scope \"https://ai.azure.com/.default\"\n"
        );
        let error = sign_in_error(&az, "azd not found on PATH");
        assert_eq!(
            error,
            SignInError::NotSignedIn {
                cli: SignInCli::AzureCli,
                tenant: Some(TENANT.into()),
                code: Some("AADSTS700082".into()),
            }
        );
        assert!(
            error
                .to_string()
                .ends_with(&format!("run `az login --tenant {TENANT}`")),
            "{error}"
        );
    }

    #[test]
    fn azd_is_reported_only_without_the_azure_cli() {
        let azd = "AzureDeveloperCliCredential authentication failed. \nERROR: not logged in, run `azd auth login` to login";
        let error = sign_in_error("az not found on PATH", azd);
        assert_eq!(
            error,
            SignInError::NotSignedIn {
                cli: SignInCli::AzureDeveloperCli,
                tenant: None,
                code: None,
            }
        );
        assert!(
            error.to_string().ends_with("run `azd auth login`"),
            "{error}"
        );
    }

    #[test]
    fn another_failure_shows_what_the_cli_said_without_the_sdk_link() {
        let az = "AzureCliCredential authentication failed. expires_on field not found. Please use Azure CLI 2.54.0 or newer.\nTo troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli";
        let error = sign_in_error(az, "azd not found on PATH");
        assert_eq!(
            error.to_string(),
            "Microsoft Entra ID sign-in through the Azure CLI failed: expires_on field not found. Please use Azure CLI 2.54.0 or newer."
        );
    }

    #[test]
    fn a_suggested_tenant_is_taken_only_when_it_is_plain() {
        assert_eq!(
            tenant_in("az login --tenant contoso.onmicrosoft.com --scope x").as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(tenant_in("az login --tenant \"$(rm -rf)\""), None);
        assert_eq!(
            tenant_in("ERROR: Please run 'az login' to setup account."),
            None
        );
    }

    #[test]
    fn the_tenant_comes_from_the_tokens_tid_claim() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            r#"{{"aud":"https://ai.azure.com","tid":"{TENANT}"}}"#
        ));
        assert_eq!(
            tenant_claim(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig")).as_deref(),
            Some(TENANT)
        );
        assert_eq!(tenant_claim("not-a-jwt"), None);
    }

    #[test]
    fn the_default_scope_is_the_only_one_that_falls_back() {
        assert_eq!(entra_scope(None), (ENTRA_DEFAULT_SCOPE, true));
        assert_eq!(entra_scope(Some("  ")), (ENTRA_DEFAULT_SCOPE, true));
        assert_eq!(
            entra_scope(Some(ENTRA_DEFAULT_SCOPE)),
            (ENTRA_DEFAULT_SCOPE, true)
        );
        assert_eq!(
            entra_scope(Some("api://gateway/.default")),
            ("api://gateway/.default", false)
        );
    }
}
