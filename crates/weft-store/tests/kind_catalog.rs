//! The connection form in the browser tests is served the connection types by a mock IPC; it
//! reads them from a file generated here, so the mock cannot drift from `kind.rs`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

#[test]
fn the_connection_kind_catalog_is_current() {
    let dir = std::env::var_os("TS_RS_EXPORT_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/ipc/generated"),
        PathBuf::from,
    );
    let path = dir.join("connectionKinds.json");
    let fresh = serde_json::to_string_pretty(weft_store::connections::kind_specs()).unwrap() + "\n";
    if std::fs::read_to_string(&path).unwrap_or_default() != fresh {
        std::fs::write(&path, &fresh).unwrap();
        panic!(
            "{} was out of date with the connection kinds; it has been regenerated, commit it",
            path.display()
        );
    }
}
