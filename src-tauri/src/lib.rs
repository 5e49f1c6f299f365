//! The desktop shell: wires Weft's core into a Tauri window. It holds no logic of its own;
//! commands parse, call `weft_core`, and map the error.

mod commands;
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
        .invoke_handler(tauri::generate_handler![
            commands::diagnostics,
            commands::connection_kinds,
            commands::list_connections,
            commands::create_connection,
            commands::update_connection,
            commands::delete_connection,
            commands::test_connection,
            commands::open_flow,
            commands::save_flow,
            commands::sample_flow,
            commands::validate_flow,
            commands::secret_inputs,
            commands::save_recovery,
            commands::take_recovery,
            commands::clear_recovery,
            commands::run_flow,
            commands::cancel_run,
            commands::list_runs,
            commands::get_run,
            commands::list_profiles,
            commands::create_profile,
            commands::delete_profile,
            commands::active_profile,
            commands::set_active_profile,
            commands::connection_in_profile,
            commands::set_connection_override,
            commands::clear_connection_override,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("Weft could not start its window: {err}");
            ExitCode::FAILURE
        }
    }
}
