fn main() {
    // tauri.conf.json sits at the repository root (CARGO_MANIFEST_DIR); capabilities live beside
    // the shell's sources.
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*");
    if let Err(err) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {err:#}");
        std::process::exit(1);
    }
}
