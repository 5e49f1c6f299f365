//! `weft doctor` as a user runs it: a real binary, a real SQLite file, the real OS keychain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use weft_store::Keychain;

fn weft(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.env("WEFT_HOME", home)
        .env(
            "WEFT_KEYRING_SERVICE",
            format!("weft-test-{}", std::process::id()),
        )
        .stdin(Stdio::null());
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// True when an unlocked Secret Service is on this session bus. CI sets WEFT_REQUIRE_KEYCHAIN=1
/// and provides one, so there these tests cannot skip.
fn secret_service_ready() -> bool {
    let probe = Keychain::native("weft-test-probe").probe().result;
    match probe {
        Ok(()) => true,
        Err(err) if std::env::var_os("WEFT_REQUIRE_KEYCHAIN").is_some() => {
            panic!("WEFT_REQUIRE_KEYCHAIN is set but the keychain is unusable: {err}")
        }
        Err(err) => {
            eprintln!("skipped: no usable Secret Service here ({err})");
            false
        }
    }
}

#[test]
fn version_flag_names_the_build() {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("weft {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_verb_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn doctor_reports_store_and_a_keychain_round_trip() {
    if !secret_service_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = weft(home.path()).arg("doctor").output().unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "{}, journal wal, busy timeout 5000 ms, owner-only",
            latest_schema()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("Secret Service (D-Bus)"), "{stdout}");
    assert!(stdout.contains("round-trip ok in"), "{stdout}");
    assert!(home.path().join("weft.sqlite3").is_file());
}

#[test]
fn doctor_json_has_the_shape_the_app_shows() {
    if !secret_service_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = weft(home.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["dataDir"], home.path().display().to_string());
    assert_eq!(
        json["database"]["schemaVersion"],
        json["database"]["latestSchemaVersion"]
    );
    assert_eq!(json["keychain"]["probe"]["status"], "ok");
}

/// How the report shows a database at the newest schema (one per migration file).
fn latest_schema() -> String {
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../weft-store/migrations"
    ))
    .unwrap()
    .filter(|entry| {
        entry
            .as_ref()
            .is_ok_and(|e| e.path().extension().is_some_and(|ext| ext == "sql"))
    })
    .count();
    format!("schema v{migrations} of {migrations}")
}

fn assert_fails_with(out: &Output, home: &Path, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "missing {needle:?} in: {stderr}");
    }
    // The rest of the report still printed, and nothing fell back to a file.
    assert!(text(&out.stdout).contains(&latest_schema()));
    let files: Vec<String> = std::fs::read_dir(home)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.iter().all(|name| name.starts_with("weft.sqlite3")),
        "{files:?}"
    );
}

#[test]
fn doctor_fails_clearly_without_a_secret_service() {
    let home = tempfile::tempdir().unwrap();
    let nowhere = tempfile::tempdir().unwrap();
    let out = weft(home.path())
        .arg("doctor")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", nowhere.path().display()),
        )
        .env("XDG_RUNTIME_DIR", nowhere.path())
        .output()
        .unwrap();
    assert_fails_with(
        &out,
        home.path(),
        &[
            "keychain is unusable",
            "no Secret Service (D-Bus) is reachable",
            "GNOME Keyring",
        ],
    );
}

/// A private session bus whose Secret Service (gnome-keyring, D-Bus activated) has no unlocked
/// collection: what a user sees when the login keyring is locked.
struct LockedSession {
    bus: Child,
    address: String,
    _dirs: [tempfile::TempDir; 2],
}

impl LockedSession {
    fn start() -> Option<Self> {
        let runtime = tempfile::tempdir().ok()?;
        let data = tempfile::tempdir().ok()?;
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}/bus",
                runtime.path().display()
            ))
            .env("XDG_DATA_HOME", data.path())
            .env("XDG_RUNTIME_DIR", runtime.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut address = String::new();
        BufReader::new(bus.stdout.take()?)
            .read_line(&mut address)
            .ok()?;
        Some(Self {
            bus,
            address: address.trim().to_owned(),
            _dirs: [runtime, data],
        })
    }
}

impl Drop for LockedSession {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

#[test]
fn doctor_fails_clearly_when_the_keyring_is_locked() {
    let has_tools = ["dbus-daemon", "gnome-keyring-daemon"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if !has_tools {
        assert!(
            std::env::var_os("WEFT_REQUIRE_KEYCHAIN").is_none(),
            "WEFT_REQUIRE_KEYCHAIN is set but dbus-daemon or gnome-keyring-daemon is missing"
        );
        eprintln!("skipped: dbus-daemon or gnome-keyring-daemon is not installed");
        return;
    }
    let session = LockedSession::start().expect("a private D-Bus session");
    let home = tempfile::tempdir().unwrap();
    let out = weft(home.path())
        .arg("doctor")
        .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
        .env("XDG_DATA_HOME", session._dirs[1].path())
        .env("XDG_RUNTIME_DIR", session._dirs[0].path())
        .output()
        .unwrap();
    assert_fails_with(
        &out,
        home.path(),
        &[
            "keychain is unusable",
            "locked",
            "unlock your login keyring",
        ],
    );
}
