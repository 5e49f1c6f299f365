//! The OS keychain itself (Secret Service on Linux), not the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use weft_store::{Backend, Keychain};

/// The real keychain, or `None` where this machine has none. CI sets WEFT_REQUIRE_KEYCHAIN=1 and
/// provides an unlocked gnome-keyring, so there these tests cannot skip.
fn real_keychain() -> Option<Keychain> {
    let service = format!("weft-test-{}", std::process::id());
    let keychain = Keychain::native(service);
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

#[test]
fn secrets_round_trip_through_the_os_keychain() {
    let Some(keychain) = real_keychain() else {
        return;
    };
    assert_eq!(keychain.backend(), Backend::NATIVE);
    let account = format!("conn-{}", std::process::id());
    let secret = "sk-ünïcødé-🔑-".to_owned() + &"k".repeat(4000);

    keychain.set(&account, &secret).unwrap();
    assert_eq!(
        keychain.get(&account).unwrap().as_deref(),
        Some(secret.as_str())
    );
    keychain.set(&account, "rotated").unwrap();
    assert_eq!(keychain.get(&account).unwrap().as_deref(), Some("rotated"));
    assert!(keychain.delete(&account).unwrap());
    assert_eq!(keychain.get(&account).unwrap(), None);
    assert!(!keychain.delete(&account).unwrap());
}

#[test]
fn entries_are_scoped_by_service_name() {
    let Some(keychain) = real_keychain() else {
        return;
    };
    let other = Keychain::native(format!("{}-other", keychain.service()));
    keychain.set("shared-account", "mine").unwrap();
    assert_eq!(other.get("shared-account").unwrap(), None);
    keychain.delete("shared-account").unwrap();
}
