//! The commands the web UI may call, as one table (see [`crate::ipc`]). Each is a few lines: get
//! the core, call it off the UI thread (SQLite and the keychain block), and turn its error into
//! an [`IpcError`]. No command returns a secret value.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use weft_core::{
    AppCore, AppError, BatchEngine, BatchEvent, BatchOrder, BatchRowView, BatchSummary, BatchView,
    Cassette, Concurrency, ConnectionCheck, ConnectionInput, ConnectionView, DataPreview,
    Diagnostics, EffectiveConnectionView, EvalEvent, EvalFileView, EvalOrder, EvalReport,
    EvalRowView, EvalView, ExportFormat, FileVersion, IpcError, KindSpec, OpenedFlow,
    OverrideInput, Pace, ProfileView, Recovery, Replace, RowFilter, RunOrder, RunPlan, RunSummary,
    RunView, SavedConnection, SavedOverride,
};
use weft_engine::RunEvent;
use weft_flow::{Diagnostic, FlowDocument};

use crate::cassette::{self, CassetteSwitch};
use crate::ipc::commands;
use crate::state::CoreState;

/// How long one node of a test run (or of one batch row) may take, retries included.
const NODE_TIMEOUT: Duration = Duration::from_secs(300);

/// The data rows the Batch panel shows before a batch starts.
const PREVIEW_ROWS: usize = 10;

commands! {
    /// The app's version, data folder, database, keychain and Entra ID sign-ins, for the status bar.
    fn diagnostics(state) -> Diagnostics {
        let core = state.core()?;
        settled(async move { core.diagnostics().await }).await
    }

    /// The connection types and their fields, for the connection form.
    fn connection_kinds(state) -> Vec<KindSpec> {
        Ok(state.core()?.connection_kinds().to_vec())
    }

    /// Every saved connection, secrets as `******`.
    fn list_connections(state) -> Vec<ConnectionView> {
        blocking(&state, AppCore::list_connections).await
    }

    /// Rejects with kind `invalidInput` (with `problems` per field) or `conflict` (the name is taken).
    fn create_connection(state, input: ConnectionInput) -> SavedConnection {
        blocking(&state, move |core| core.create_connection(input)).await
    }

    /// Replaces the connection called `name`; a secret given as `******` or `""` keeps the stored one.
    fn update_connection(state, name: String, input: ConnectionInput) -> SavedConnection {
        blocking(&state, move |core| core.update_connection(&name, input)).await
    }

    /// Deletes the connection and its keychain entries.
    fn delete_connection(state, name: String) -> () {
        blocking(&state, move |core| core.delete_connection(&name)).await
    }

    /// A live call to the connection's service; the key is read here and never leaves Rust.
    fn test_connection(state, name: String, deployment: Option<String>) -> ConnectionCheck {
        let connection = blocking(&state, move |core| core.resolve_connection(&name)).await?;
        let core = state.core()?;
        settled(async move {
            core.check_connection(&connection, deployment.as_deref())
                .await
        })
        .await
    }

    /// Reads and parses a flow file, with the version a later save compares against.
    fn open_flow(state, path: PathBuf) -> OpenedFlow {
        blocking(&state, move |core| core.open_flow(&path)).await
    }

    /// Resolves to the version now on disk; refused with `changedOnDisk` when `replace` names a
    /// version the file no longer has.
    fn save_flow(state, path: PathBuf, document: FlowDocument, replace: Replace) -> FileVersion {
        blocking(&state, move |core| {
            core.save_flow(&path, &document, &replace)
        })
        .await
    }

    /// The example flow a new window starts with (not saved anywhere).
    fn sample_flow(state) -> OpenedFlow {
        Ok(state.core()?.sample_flow()?)
    }

    /// The flow's problems, for the editor to show on the nodes and properties.
    fn validate_flow(state, document: FlowDocument) -> Vec<Diagnostic> {
        blocking(&state, move |core| core.validate_flow(&document)).await
    }

    /// The flow's inputs whose values are secrets: marked so, or feeding a dynamic connection's key
    /// (through variables too). The run form masks them and never remembers them.
    fn secret_inputs(_state, document: FlowDocument) -> Vec<String> {
        Ok(weft_flow::secret_inputs(&document).into_iter().collect())
    }

    /// Keeps the unsaved editor state, so a crash or a closed window loses nothing.
    fn save_recovery(
        state,
        path: Option<String>,
        version: Option<FileVersion>,
        document: FlowDocument
    ) -> () {
        blocking(&state, move |core| {
            core.save_recovery(path, version, document)
        })
        .await
    }

    /// What the last session left unsaved, if anything (taken: a second call finds nothing).
    fn take_recovery(state) -> Option<Recovery> {
        blocking(&state, AppCore::take_recovery).await
    }

    fn clear_recovery(state) -> () {
        blocking(&state, AppCore::clear_recovery).await
    }

    /// Runs the flow; its events stream over `events` as they happen, the summary returns at the
    /// end, whatever the run's status. Rejects only when the run cannot start. `cassette`: the
    /// model calls go live, or are recorded to / replayed from `<flow stem>.cassette.jsonl`
    /// beside `path` (an unsaved flow runs live only).
    fn run_flow(
        state,
        document: FlowDocument,
        path: Option<String>,
        inputs: Map<String, Value>,
        plan: RunPlan,
        run_id: String,
        cassette: CassetteSwitch;
        events: Channel<RunEvent>
    ) -> RunSummary {
        let core = state.core()?;
        // A replayed test run streams at the pace it was recorded, as the live one did.
        let beside = path.clone().map(PathBuf::from);
        let tape = off_thread(move || cassette::open_beside(beside.as_deref(), cassette, Pace::Recorded)).await?;
        let order = RunOrder {
            run_id,
            path,
            inputs,
            plan,
            given: Default::default(),
            node_timeout: NODE_TIMEOUT,
            cassette: tape.clone(),
        };
        let result =
            streamed(events, |sender| async move { core.run_flow(document, order, sender).await }).await;
        recorded(result, tape).await
    }

    /// Stops the run with this id; `false` when it is not (or no longer) running.
    fn cancel_run(state, run_id: String) -> bool {
        Ok(state.core()?.cancel_run(&run_id))
    }

    /// A data file's columns and first rows (a bad one with why), and the mapping proposed for
    /// the open flow's inputs.
    fn batch_preview(state, document: FlowDocument, path: PathBuf) -> DataPreview {
        blocking(&state, move |core| {
            core.preview_data(&document, &path, PREVIEW_ROWS)
        })
        .await
    }

    /// Runs the flow file at `flow_path` over every row of the data file; its events stream over
    /// `events`, the summary returns at the end, whatever the batch's status. Rejects only when
    /// the batch cannot start (the flow, the data file or the mapping), before any call. The
    /// caller picks `batch_id`, so `batch_cancel` works from the moment it is asked for.
    /// `engine` `azure-batch`: the model calls go to the Azure OpenAI Batch API (the flow must
    /// form one model stage; refused before anything is sent otherwise).
    fn batch_start(
        state,
        batch_id: String,
        name: Option<String>,
        flow_path: PathBuf,
        data_path: PathBuf,
        mapping: BTreeMap<String, String>,
        concurrency: Concurrency,
        engine: BatchEngine;
        events: Channel<BatchEvent>
    ) -> BatchSummary {
        let core = state.core()?;
        let order = BatchOrder {
            batch_id,
            name,
            flow_path,
            data_path,
            mapping,
            concurrency,
            node_timeout: NODE_TIMEOUT,
            engine,
            // The Batch panel has no cassette switch: its batches run live.
            cassette: None,
        };
        streamed(events, |sender| async move { core.run_batch(order, sender).await }).await
    }

    /// Runs again the rows of a stored batch that did not succeed, with the flow as it ran then;
    /// `concurrency` `null`: as it was started.
    fn batch_resume(
        state,
        batch_id: String,
        concurrency: Option<Concurrency>;
        events: Channel<BatchEvent>
    ) -> BatchSummary {
        let core = state.core()?;
        streamed(events, |sender| async move {
            core.resume_batch(&batch_id, concurrency, sender).await
        })
        .await
    }

    /// Stops the batch with this id (rows in flight are recorded cancelled); `false` when it is
    /// not (or no longer) running.
    fn batch_cancel(state, batch_id: String) -> bool {
        Ok(state.core()?.cancel_run(&batch_id))
    }

    /// The latest batches first, with their row counts.
    fn batch_list(state, limit: u32) -> Vec<BatchView> {
        blocking(&state, move |core| core.batches(limit)).await
    }

    /// One batch by its id (or a unique prefix of it).
    fn batch_get(state, id: String) -> BatchView {
        blocking(&state, move |core| core.batch(&id)).await
    }

    /// A page of a batch's rows in row order, those of one status or all, redacted as stored.
    fn batch_rows(
        state,
        id: String,
        filter: RowFilter,
        offset: u32,
        limit: u32
    ) -> Vec<BatchRowView> {
        blocking(&state, move |core| {
            core.batch_rows(&id, filter, u64::from(offset), limit)
        })
        .await
    }

    /// One row of a batch with what each of its nodes did.
    fn batch_row(state, id: String, row: u32) -> BatchRowView {
        blocking(&state, move |core| core.batch_row(&id, u64::from(row))).await
    }

    /// Writes every row of the batch to `path` (chosen in the save dialog) as JSONL or CSV; a
    /// failed export leaves no file behind.
    fn batch_export(state, id: String, format: ExportFormat, path: PathBuf) -> () {
        blocking(&state, move |core| {
            crate::batch::export_to_file(core, &id, format, &path)
        })
        .await
    }

    /// Reads an eval file (`*.eval.yaml`), with the flow and data it names resolved.
    fn eval_open(state, path: PathBuf) -> EvalFileView {
        blocking(&state, move |core| core.open_eval(&path)).await
    }

    /// Writes the eval file; rejects with what is wrong in it (nothing is written then).
    fn eval_save(state, path: PathBuf, file: EvalFileView) -> () {
        blocking(&state, move |core| core.save_eval(&path, file)).await
    }

    /// Runs the eval file at `path`: each variant (`variants` empty: all) over the data, then
    /// the assertions on every row; its events stream over `events`, the report returns at the
    /// end. `baseline`: a stored eval run to compare with. `cassette`: the rows' and the judges'
    /// model calls go live, or through `<eval stem>.eval.cassette.jsonl` beside the file. Cancel
    /// with `cancel_run` and the eval's id. Rejects only when the eval cannot start.
    fn eval_run(
        state,
        eval_id: String,
        path: PathBuf,
        variants: Vec<String>,
        baseline: Option<String>,
        concurrency: Concurrency,
        cassette: CassetteSwitch;
        events: Channel<EvalEvent>
    ) -> EvalReport {
        let core = state.core()?;
        let beside = path.clone();
        let tape = off_thread(move || cassette::open_beside(Some(&beside), cassette, Pace::Instant)).await?;
        let order = EvalOrder {
            eval_id,
            path,
            variants,
            baseline,
            concurrency,
            node_timeout: NODE_TIMEOUT,
            cassette: tape.clone(),
        };
        let result = streamed(events, |sender| async move { core.run_eval(order, sender).await }).await;
        recorded(result, tape).await
    }

    /// The latest eval runs first.
    fn eval_list(state, limit: u32) -> Vec<EvalView> {
        blocking(&state, move |core| core.evals(limit)).await
    }

    /// One eval run's report by its id (or a unique prefix of it).
    fn eval_report(state, id: String) -> EvalReport {
        blocking(&state, move |core| core.eval_report(&id)).await
    }

    /// A page of an eval run's data rows in row order, each with a verdict per variant.
    fn eval_rows(state, id: String, offset: u32, limit: u32) -> Vec<EvalRowView> {
        blocking(&state, move |core| core.eval_rows(&id, u64::from(offset), limit)).await
    }

    /// Appends the stored run's inputs to the data file at `path` (JSONL, or CSV in its header's
    /// order; made when missing), with its output `expected_from` as `expected` when given.
    fn dataset_add_run(state, run_id: String, path: PathBuf, expected_from: Option<String>) -> () {
        blocking(&state, move |core| {
            core.add_run_to_dataset(&run_id, &path, expected_from)
        })
        .await
    }

    /// The latest runs first, secrets redacted.
    fn list_runs(state, limit: u32) -> Vec<RunView> {
        blocking(&state, move |core| core.list_runs(limit)).await
    }

    /// One run by its id (or a unique prefix of it).
    fn get_run(state, id: String) -> RunView {
        blocking(&state, move |core| core.run(&id)).await
    }

    /// Every profile, sorted, with the active one marked.
    fn list_profiles(state) -> Vec<ProfileView> {
        blocking(&state, AppCore::list_profiles).await
    }

    /// Rejects with kind `invalidInput` (a name the store refuses) or `conflict` (taken, ignoring
    /// case).
    fn create_profile(state, name: String) -> ProfileView {
        blocking(&state, move |core| core.create_profile(&name)).await
    }

    /// Deletes the profile and what it changes in connections, keychain entries included.
    fn delete_profile(state, name: String) -> () {
        blocking(&state, move |core| core.delete_profile(&name)).await
    }

    /// The profile runs and connection tests use; `null`: none.
    fn active_profile(state) -> Option<String> {
        blocking(&state, AppCore::active_profile).await
    }

    /// Switches the profile later runs use (`null`: none); a run in progress keeps its own.
    /// Returns the profile's name as created.
    fn set_active_profile(state, name: Option<String>) -> Option<String> {
        blocking(&state, move |core| core.set_active_profile(name.as_deref())).await
    }

    /// The connection called `name` as `profile` sees it (`null`: as saved), secrets as `******`,
    /// with the fields that come from the profile marked.
    fn connection_in_profile(
        state,
        name: String,
        profile: Option<String>
    ) -> EffectiveConnectionView {
        blocking(&state, move |core| {
            core.connection_in_profile(&name, profile.as_deref())
        })
        .await
    }

    /// Saves what `profile` changes in the connection; the input replaces its earlier override.
    fn set_connection_override(
        state,
        name: String,
        profile: String,
        input: OverrideInput
    ) -> SavedOverride {
        blocking(&state, move |core| {
            core.set_connection_override(&name, &profile, input)
        })
        .await
    }

    /// Removes what `profile` changes in the connection, keychain entries included; `false` when
    /// it changed nothing.
    fn clear_connection_override(state, name: String, profile: String) -> bool {
        blocking(&state, move |core| {
            core.clear_connection_override(&name, &profile)
        })
        .await
    }
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

/// Runs work that reports events, forwarding each one to the window's `Channel` as it comes, and
/// answers once the work has ended and every event it sent has been forwarded.
async fn streamed<E, T, W, F>(events: tauri::ipc::Channel<E>, work: W) -> Result<T, IpcError>
where
    E: tauri::ipc::IpcResponse + Send + 'static,
    T: Send + 'static,
    W: FnOnce(UnboundedSender<E>) -> F,
    F: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let forward = tauri::async_runtime::spawn(async move {
        while let Some(event) = received.recv().await {
            if events.send(event).is_err() {
                break;
            }
        }
    });
    let result = settled(work(sender)).await;
    let _ = forward.await;
    result
}

/// Work on files (a cassette read or written whole) off the async threads.
async fn off_thread<T, F>(work: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))?
        .map_err(IpcError::from)
}

/// Saves the cassette however the run ended, so the calls made before a failure or a cancel are
/// kept. The run's own error wins over a failed save, which is only logged then.
async fn recorded<T>(
    result: Result<T, IpcError>,
    tape: Option<Arc<Cassette>>,
) -> Result<T, IpcError> {
    if tape.is_none() {
        return result;
    }
    let saved = off_thread(move || cassette::save(tape.as_ref())).await;
    match (result, saved) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(err)) => Err(err),
        (Err(err), Ok(())) => Err(err),
        (Err(err), Err(save)) => {
            tracing::error!("the cassette could not be saved: {}", save.message);
            Err(err)
        }
    }
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
