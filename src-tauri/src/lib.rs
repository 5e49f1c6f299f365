//! The desktop shell: wires Weft's core into a Tauri window. It holds no logic of its own;
//! commands parse, call `weft_core`, and map the error.

mod batch;
mod cassette;
mod commands;
mod ipc;
mod state;

use std::process::ExitCode;

use weft_core::{AppCore, Settings};

use crate::state::CoreState;

pub fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(weft_core::log_filter(
            std::env::var("WEFT_LOG").ok().as_deref(),
            "info",
        ))
        .init();

    // A broken store must not stop the window from opening: the UI shows the error and its fix.
    let core = Settings::from_env().and_then(AppCore::open);
    if let Err(err) = &core {
        tracing::error!("Weft's store could not be opened: {err}");
    }

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(CoreState::new(core))
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("Weft could not start its window: {err}");
            ExitCode::FAILURE
        }
    }
}
