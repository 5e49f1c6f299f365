//! What the CLI's integration tests share: running `weft` against a private home and keychain
//! service, and knowing whether this machine has a usable keychain.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use weft_store::Keychain;

pub fn service() -> String {
    format!("weft-test-{}", std::process::id())
}

pub fn weft(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.env("WEFT_HOME", home)
        .env("WEFT_KEYRING_SERVICE", service())
        .stdin(Stdio::null());
    cmd
}

/// Runs `weft` with `stdin` piped in.
pub fn weft_with_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    piped(weft(home).args(args), stdin)
}

/// Runs `cmd` with `stdin` piped in.
pub fn piped(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The real keychain under this test process's service name, or `None` where this machine has
/// none. CI sets WEFT_REQUIRE_KEYCHAIN=1 and provides one, so there these tests cannot skip.
pub fn keychain() -> Option<Keychain> {
    let keychain = Keychain::native(service());
    match keychain.probe().result {
        Ok(()) => Some(keychain),
        Err(err) if std::env::var_os("WEFT_REQUIRE_KEYCHAIN").is_some() => {
            panic!("WEFT_REQUIRE_KEYCHAIN is set but the keychain is unusable: {err}")
        }
        Err(err) => {
            eprintln!("skipped: no usable OS keychain here ({err})");
            None
        }
    }
}

/// A stand-in `az` in a folder of its own, to be the whole `PATH` of a `weft` child (so no real
/// Azure CLI or Azure Developer CLI is reached). It answers `az account get-access-token -o json`
/// as the Azure CLI does (https://learn.microsoft.com/cli/azure/authenticate-azure-cli, "Refresh
/// tokens": `accessToken`, `expiresOn` local time, `expires_on` POSIX seconds since 2.54.0,
/// `subscription`, `tenant`, `tokenType`), or fails as a signed-out one does, and writes the
/// arguments of each run to a file.
#[cfg(unix)]
pub struct StandInAz {
    dir: tempfile::TempDir,
}

/// The tenant in [`ENTRA_TOKEN`]'s `tid` claim.
pub const ENTRA_TENANT: &str = "7f0c3a52-1d2e-4b6a-9c8d-5e4f3a2b1c0d";

/// A JWT-shaped token (unsigned) whose payload is
/// `{"aud":"https://ai.azure.com","tid":"<ENTRA_TENANT>"}`.
pub const ENTRA_TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2FpLmF6dXJlLmNvbSIsInRpZCI6IjdmMGMzYTUyLTFkMmUtNGI2YS05YzhkLTVlNGYzYTJiMWMwZCJ9.c2ln";

#[cfg(unix)]
impl StandInAz {
    /// Signed in: every run prints [`ENTRA_TOKEN`], expiring at `expires_on` (Unix seconds).
    pub fn signed_in(expires_on: i64) -> Self {
        let json = format!(
            r#"{{"accessToken": "{ENTRA_TOKEN}", "expiresOn": "2027-01-15 08:00:00.000000", "expires_on": {expires_on}, "subscription": "00000000-0000-0000-0000-000000000000", "tenant": "{ENTRA_TENANT}", "tokenType": "Bearer"}}"#
        );
        Self::with_body(&format!("printf '%s\\n' '{json}'\nexit 0"))
    }

    /// Not signed in: what the Azure CLI prints then, and exit status 1.
    pub fn signed_out() -> Self {
        Self::with_body(
            "printf '%s\\n' \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
        )
    }

    fn with_body(body: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        // Shell built-ins only: this folder is the child's whole PATH.
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n{body}\n",
            runs.display()
        );
        let az = dir.path().join("az");
        std::fs::write(&az, script).unwrap();
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    /// The `PATH` to give the child.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The arguments of each run so far.
    pub fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("runs"))
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}
