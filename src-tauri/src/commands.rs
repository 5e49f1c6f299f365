//! The commands the web UI may call. Each is a few lines: get the core, call it off the UI
//! thread (SQLite and the keychain block), and turn its error into an [`IpcError`].
//! No command returns a secret value.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use tauri::State;
use tauri::ipc::Channel;
use weft_core::{
    AppCore, AppError, ConnectionCheck, ConnectionInput, ConnectionView, Diagnostics,
    EffectiveConnectionView, FileVersion, IpcError, KindSpec, OpenedFlow, OverrideInput,
    ProfileView, Recovery, Replace, RunOrder, RunPlan, RunSummary, RunView, SavedConnection,
    SavedOverride,
};
use weft_engine::RunEvent;
use weft_flow::{Diagnostic, FlowDocument};

use crate::state::CoreState;

#[tauri::command]
pub async fn diagnostics(state: State<'_, CoreState>) -> Result<Diagnostics, IpcError> {
    let core = state.core()?;
    settled(async move { core.diagnostics().await }).await
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
    settled(async move {
        core.check_connection(&connection, deployment.as_deref())
            .await
    })
    .await
}

#[tauri::command]
pub async fn open_flow(state: State<'_, CoreState>, path: PathBuf) -> Result<OpenedFlow, IpcError> {
    blocking(&state, move |core| core.open_flow(&path)).await
}

/// Refused with `changedOnDisk` when `replace` names a version the file no longer has.
#[tauri::command]
pub async fn save_flow(
    state: State<'_, CoreState>,
    path: PathBuf,
    document: FlowDocument,
    replace: Replace,
) -> Result<FileVersion, IpcError> {
    blocking(&state, move |core| {
        core.save_flow(&path, &document, &replace)
    })
    .await
}

#[tauri::command]
pub fn sample_flow(state: State<'_, CoreState>) -> Result<OpenedFlow, IpcError> {
    Ok(state.core()?.sample_flow()?)
}

#[tauri::command]
pub async fn validate_flow(
    state: State<'_, CoreState>,
    document: FlowDocument,
) -> Result<Vec<Diagnostic>, IpcError> {
    blocking(&state, move |core| core.validate_flow(&document)).await
}

/// The flow's inputs whose values are secrets: marked so, or feeding a dynamic connection's key
/// (through variables too). The run form masks them and never remembers them.
#[tauri::command]
pub fn secret_inputs(document: FlowDocument) -> Vec<String> {
    weft_flow::secret_inputs(&document).into_iter().collect()
}

#[tauri::command]
pub async fn save_recovery(
    state: State<'_, CoreState>,
    path: Option<String>,
    version: Option<FileVersion>,
    document: FlowDocument,
) -> Result<(), IpcError> {
    blocking(&state, move |core| {
        core.save_recovery(path, version, document)
    })
    .await
}

#[tauri::command]
pub async fn take_recovery(state: State<'_, CoreState>) -> Result<Option<Recovery>, IpcError> {
    blocking(&state, AppCore::take_recovery).await
}

#[tauri::command]
pub async fn clear_recovery(state: State<'_, CoreState>) -> Result<(), IpcError> {
    blocking(&state, AppCore::clear_recovery).await
}

/// How long one node of a test run may take, retries included.
const NODE_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs the flow; its events stream over `events` as they happen, the summary returns at the end.
#[tauri::command]
pub async fn run_flow(
    state: State<'_, CoreState>,
    document: FlowDocument,
    path: Option<String>,
    inputs: Map<String, Value>,
    plan: RunPlan,
    run_id: String,
    events: Channel<RunEvent>,
) -> Result<RunSummary, IpcError> {
    let core = state.core()?;
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(event) = received.recv().await {
            if events.send(event).is_err() {
                break;
            }
        }
    });
    let order = RunOrder {
        run_id,
        path,
        inputs,
        plan,
        given: Default::default(),
        node_timeout: NODE_TIMEOUT,
    };
    let summary = settled(async move { core.run_flow(document, order, sender).await }).await;
    let _ = forward.await;
    summary
}

/// Stops the run with this id; `false` when it is not (or no longer) running.
#[tauri::command]
pub fn cancel_run(state: State<'_, CoreState>, run_id: String) -> Result<bool, IpcError> {
    Ok(state.core()?.cancel_run(&run_id))
}

#[tauri::command]
pub async fn list_runs(state: State<'_, CoreState>, limit: u32) -> Result<Vec<RunView>, IpcError> {
    blocking(&state, move |core| core.list_runs(limit)).await
}

#[tauri::command]
pub async fn get_run(state: State<'_, CoreState>, id: String) -> Result<RunView, IpcError> {
    blocking(&state, move |core| core.run(&id)).await
}

#[tauri::command]
pub async fn list_profiles(state: State<'_, CoreState>) -> Result<Vec<ProfileView>, IpcError> {
    blocking(&state, AppCore::list_profiles).await
}

#[tauri::command]
pub async fn create_profile(
    state: State<'_, CoreState>,
    name: String,
) -> Result<ProfileView, IpcError> {
    blocking(&state, move |core| core.create_profile(&name)).await
}

/// Deletes the profile and what it changes in connections, keychain entries included.
#[tauri::command]
pub async fn delete_profile(state: State<'_, CoreState>, name: String) -> Result<(), IpcError> {
    blocking(&state, move |core| core.delete_profile(&name)).await
}

/// The profile runs and connection tests use; `null`: none.
#[tauri::command]
pub async fn active_profile(state: State<'_, CoreState>) -> Result<Option<String>, IpcError> {
    blocking(&state, AppCore::active_profile).await
}

/// Switches the profile later runs use (`null`: none); a run in progress keeps its own.
/// Returns the profile's name as created.
#[tauri::command]
pub async fn set_active_profile(
    state: State<'_, CoreState>,
    name: Option<String>,
) -> Result<Option<String>, IpcError> {
    blocking(&state, move |core| core.set_active_profile(name.as_deref())).await
}

/// The connection called `name` as `profile` sees it (`null`: as saved), secrets as `******`,
/// with the fields that come from the profile marked.
#[tauri::command]
pub async fn connection_in_profile(
    state: State<'_, CoreState>,
    name: String,
    profile: Option<String>,
) -> Result<EffectiveConnectionView, IpcError> {
    blocking(&state, move |core| {
        core.connection_in_profile(&name, profile.as_deref())
    })
    .await
}

/// Saves what `profile` changes in the connection; the input replaces its earlier override.
#[tauri::command]
pub async fn set_connection_override(
    state: State<'_, CoreState>,
    name: String,
    profile: String,
    input: OverrideInput,
) -> Result<SavedOverride, IpcError> {
    blocking(&state, move |core| {
        core.set_connection_override(&name, &profile, input)
    })
    .await
}

/// Removes what `profile` changes in the connection, keychain entries included; `false` when
/// it changed nothing.
#[tauri::command]
pub async fn clear_connection_override(
    state: State<'_, CoreState>,
    name: String,
    profile: String,
) -> Result<bool, IpcError> {
    blocking(&state, move |core| {
        core.clear_connection_override(&name, &profile)
    })
    .await
}

/// Runs async work as its own task, so that a panic inside it still answers the UI's promise
/// (with an internal error) instead of leaving it pending for good.
async fn settled<T: Send + 'static>(
    work: impl Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn(work)
        .await
        .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))?
        .map_err(IpcError::from)
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
