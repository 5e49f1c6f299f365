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
    let mut child = weft(home)
        .args(args)
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
    match Keychain::native(service()).and_then(|k| k.probe().result.map(|()| k)) {
        Ok(keychain) => Some(keychain),
        Err(err) if std::env::var_os("WEFT_REQUIRE_KEYCHAIN").is_some() => {
            panic!("WEFT_REQUIRE_KEYCHAIN is set but the keychain is unusable: {err}")
        }
        Err(err) => {
            eprintln!("skipped: no usable OS keychain here ({err})");
            None
        }
    }
}
