//! The commands the web UI may call. Each is a few lines: get the core, call it off the UI
//! thread (SQLite and the keychain block), and turn its error into an [`IpcError`].
//! No command returns a secret value.

use tauri::State;
use weft_core::{
    AppCore, AppError, ConnectionCheck, ConnectionInput, ConnectionView, Diagnostics, IpcError,
    KindSpec, SavedConnection,
};

use crate::state::CoreState;

#[tauri::command]
pub async fn diagnostics(state: State<'_, CoreState>) -> Result<Diagnostics, IpcError> {
    blocking(&state, AppCore::diagnostics).await
}

#[tauri::command]
pub fn connection_kinds(state: State<'_, CoreState>) -> Result<Vec<KindSpec>, IpcError> {
    Ok(state.core()?.connection_kinds().to_vec())
}

#[tauri::command]
pub async fn list_connections(
    state: State<'_, CoreState>,
) -> Result<Vec<ConnectionView>, IpcError> {
    blocking(&state, AppCore::list_connections).await
}

#[tauri::command]
pub async fn create_connection(
    state: State<'_, CoreState>,
    input: ConnectionInput,
) -> Result<SavedConnection, IpcError> {
    blocking(&state, move |core| core.create_connection(input)).await
}

#[tauri::command]
pub async fn update_connection(
    state: State<'_, CoreState>,
    name: String,
    input: ConnectionInput,
) -> Result<SavedConnection, IpcError> {
    blocking(&state, move |core| core.update_connection(&name, input)).await
}

#[tauri::command]
pub async fn delete_connection(state: State<'_, CoreState>, name: String) -> Result<(), IpcError> {
    blocking(&state, move |core| core.delete_connection(&name)).await
}

/// A live call to the connection's service; the key is read here and never leaves Rust.
#[tauri::command]
pub async fn test_connection(
    state: State<'_, CoreState>,
    name: String,
    deployment: Option<String>,
) -> Result<ConnectionCheck, IpcError> {
    let connection = blocking(&state, move |core| core.resolve_connection(&name)).await?;
    let core = state.core()?;
    Ok(core
        .check_connection(&connection, deployment.as_deref())
        .await?)
}

async fn blocking<T, F>(state: &CoreState, call: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&AppCore) -> Result<T, AppError> + Send + 'static,
{
    let core = state.core()?;
    tauri::async_runtime::spawn_blocking(move || call(&core))
        .await
        .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))?
        .map_err(IpcError::from)
}
