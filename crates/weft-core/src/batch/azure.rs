//! A batch on the Azure OpenAI Batch API (`--engine azure-batch`): the rows' model calls go to
//! Azure in one uploaded JSONL file and come back as result files; every other node runs here.
//!
//! The five steps (the API's routes and shapes are cited in `weft_ai::batch_api`; the how-to is
//! https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch):
//! 1. Before the record: `stage` says the flow's model calls form one stage, else the batch is
//!    refused naming the node (in `run.rs`, `AppCore::stage_for`).
//! 2. Pass 1, per row: the engine runs the row with [`Capture`] as its model port, which keeps
//!    the request the model node built; it becomes the row's line (`custom_id` = the row index).
//!    Every row must call the same deployment of the same resource, with the same credential.
//! 3. Upload the file(s) (a new file at Azure's 100,000 lines / 200 MB), create one batch each,
//!    poll every minute ("waiting at least 60 seconds in between each status call", the how-to)
//!    reporting [`BatchEvent::Remote`].
//! 4. Download the output and error files; their lines come in no particular order, so they are
//!    kept in an unnamed temporary file indexed by row, not in memory.
//! 5. Pass 2, per row: the engine runs the row again with [`Replay`] answering the model node
//!    with its line; the row is stored as a local batch stores it (same table, statuses, node
//!    records, tokens from the line's usage).
//!
//! Cancel ([`AppCore::cancel_run`]) asks Azure to cancel the batch and stores the rows sent to it
//! as cancelled. The credential travels in the calls' headers only: the file holds request
//! bodies.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;
use weft_ai::batch_api::{self, BatchEndpoint, BatchError, BatchTarget, InputFile, OutputLine};
use weft_ai::{Credential, Endpoint, Handles, InferenceError};
use weft_batch::{DataReader, DataRow};
use weft_engine::Engine;
use weft_engine::services::Services;
use weft_engine::stage::{Capture, Captured, Replay, StageCall, StageRequest};

use super::rows::{Breaker, Finished, RowRunner};
use super::rowset::RowSet;
use super::run::{Finish, Prepared, data_stamp, produce};
use super::writer::{FLUSH_ROWS, Tally, Writer};
use crate::batch::{BatchEvent, BatchSummary};
use crate::{AppCore, AppError};

/// Milliseconds between status polls, for tests only (a child `weft` process's environment):
/// the how-to asks for 60 s, which a test cannot wait. Unset (or not a positive number): 60 s.
pub const POLL_ENV: &str = "WEFT_BATCH_POLL_MS";
const POLL_EVERY: Duration = Duration::from_secs(60);
/// How long a cancel call may take before the batch gives up on it (Ctrl-C should not hang).
const CANCEL_WITHIN: Duration = Duration::from_secs(10);
/// Set by [`set_poll_for_tests`]; 0: not set.
static POLL_OVERRIDE_MS: AtomicU64 = AtomicU64::new(0);

/// For tests in this process, which cannot set [`POLL_ENV`] without `unsafe`: status polls
/// every `every` instead of every 60 s.
#[doc(hidden)]
pub fn set_poll_for_tests(every: Duration) {
    let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    POLL_OVERRIDE_MS.store(ms, Ordering::Relaxed);
}

fn poll_every() -> Duration {
    let set = POLL_OVERRIDE_MS.load(Ordering::Relaxed);
    if set > 0 {
        return Duration::from_millis(set);
    }
    std::env::var(POLL_ENV)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(POLL_EVERY, Duration::from_millis)
}

/// Where every row's model call goes; the first row that calls the model sets it.
struct Destination {
    endpoint: Endpoint,
    credential: Credential,
    deployment: String,
    target: BatchTarget,
}

/// The input files being written in pass 1.
struct Requests {
    call: StageCall,
    destination: Option<Destination>,
    full: Vec<InputFile>,
    current: InputFile,
    /// Rows whose answer comes from Azure.
    held: RowSet,
}

/// Why a row's call cannot join the batch.
enum Refused {
    /// This row fails; the others go on.
    Row(String),
    /// No row can: the connection has no Batch API.
    Batch(String),
}

impl Requests {
    fn new(call: StageCall) -> Self {
        Self {
            call,
            destination: None,
            full: Vec::new(),
            current: InputFile::default(),
            held: RowSet::default(),
        }
    }

    fn add(&mut self, row: u64, captured: Captured) -> Result<(), Refused> {
        let Some(deployment) = captured.deployment else {
            return Err(Refused::Row(
                "the model call names no deployment, and each line of an Azure batch names its Global-Batch deployment; set the node's deployment".to_owned(),
            ));
        };
        let destination = match &self.destination {
            Some(destination) => destination,
            None => {
                let target = BatchTarget::new(&captured.endpoint, captured.credential.clone())
                    .map_err(|err| Refused::Batch(err.to_string()))?;
                self.destination.insert(Destination {
                    endpoint: captured.endpoint.clone(),
                    credential: captured.credential.clone(),
                    deployment: deployment.clone(),
                    target,
                })
            }
        };
        if destination.deployment != deployment {
            return Err(Refused::Row(format!(
                "this row calls deployment `{deployment}` but the batch's first row called `{}`: one Azure batch runs one deployment; give every row the same deployment, or run the batch locally",
                destination.deployment
            )));
        }
        if destination.endpoint != captured.endpoint
            || destination.credential != captured.credential
        {
            return Err(Refused::Row(
                "this row calls another resource or connection than the batch's first row: one Azure batch runs on one resource with one credential; give every row the same connection, or run the batch locally".to_owned(),
            ));
        }
        let custom_id = row.to_string();
        let line = match (self.call, &captured.request) {
            (StageCall::Chat, StageRequest::Chat(request)) => {
                destination
                    .target
                    .chat_line(&custom_id, &deployment, request)
            }
            (StageCall::Embeddings, StageRequest::Embeddings(request)) => destination
                .target
                .embeddings_line(&custom_id, &deployment, request),
            _ => Err(InferenceError::Config(
                "internal: the model node made another kind of call than its stage; please report it"
                    .to_owned(),
            )),
        }
        .map_err(|err| Refused::Row(err.to_string()))?;
        if !self.current.fits(&line) {
            self.full.push(std::mem::take(&mut self.current));
        }
        self.current.push(&line);
        self.held.insert(row);
        Ok(())
    }

    /// The files to upload, none when no row needs Azure.
    fn files(mut self) -> (Vec<InputFile>, Option<Destination>, RowSet) {
        if self.current.lines() > 0 {
            self.full.push(self.current);
        }
        (self.full, self.destination, self.held)
    }
}

/// The downloaded result lines, in an unnamed temporary file (gone when dropped), by row.
struct Results {
    file: File,
    at: HashMap<u64, (u64, usize)>,
    end: u64,
    broken: Option<std::io::Error>,
}

impl Results {
    fn new() -> Result<Self, String> {
        let file = tempfile::tempfile().map_err(|err| {
            format!("could not create a temporary file for the batch's answers ({err}); free space in the temporary folder and resume the batch")
        })?;
        Ok(Self {
            file,
            at: HashMap::new(),
            end: 0,
            broken: None,
        })
    }

    /// Keeps `line` for its row (a `custom_id` this batch did not write is left out).
    fn keep(&mut self, line: OutputLine) {
        let Ok(row) = line.custom_id.parse::<u64>() else {
            return;
        };
        if self.broken.is_some() {
            return;
        }
        // OutputLine is read-only; written back in the documented shape, it reads back the same.
        let text = json!({
            "custom_id": line.custom_id,
            "response": line.response.map(|r| json!({
                "status_code": r.status_code, "request_id": r.request_id, "body": r.body,
            })),
            "error": line.error.map(|e| json!({"code": e.code, "message": e.message})),
        })
        .to_string();
        match self.file.write_all(text.as_bytes()) {
            Ok(()) => {
                self.at.insert(row, (self.end, text.len()));
                self.end += text.len() as u64;
            }
            Err(err) => self.broken = Some(err),
        }
    }

    fn take(&mut self, row: u64) -> Result<Option<OutputLine>, String> {
        let Some((at, len)) = self.at.remove(&row) else {
            return Ok(None);
        };
        let mut bytes = vec![0; len];
        self.file
            .seek(SeekFrom::Start(at))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(|err| format!("the batch's answer could not be read back: {err}"))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| format!("internal: a kept answer does not read back ({err})"))
    }
}

/// How Azure's part ended, for pass 2.
enum Remote {
    /// The answers there are (rows without one fail saying so); a message when the batch did
    /// not complete (it expired, someone cancelled it at Azure).
    Answered(Results, Option<String>),
    /// The batch could not run: every row sent fails with this.
    Failed(String),
    /// Cancelled here: every row sent is stored as cancelled.
    Cancelled,
}

/// Asks Azure to cancel `ids`, each within [`CANCEL_WITHIN`]; a failure is logged (the batch
/// then runs on at Azure), not fatal to what is stored here.
async fn cancel_remote(client: &weft_ai::Client, target: &BatchTarget, ids: &[String]) {
    let handles = Handles::new(CancellationToken::new());
    for id in ids {
        match tokio::time::timeout(
            CANCEL_WITHIN,
            batch_api::cancel(client, target, id, &handles),
        )
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::warn!(batch = %id, "the Azure batch could not be cancelled: {err}")
            }
            Err(_) => tracing::warn!(batch = %id, "the Azure batch's cancel call took too long"),
        }
    }
}

impl AppCore {
    pub(super) async fn execute_azure(
        self: &Arc<Self>,
        prepared: Prepared,
        cancel: CancellationToken,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let started = Instant::now();
        let Some(stage) = prepared.stage.clone() else {
            return Err(AppError::Internal(
                "an Azure batch was prepared without its model stage; please report it".into(),
            ));
        };
        let client = self.ai().clone();
        let skipped = prepared.done.len;
        let _ = events.send(BatchEvent::Started {
            batch_id: prepared.batch_id.clone(),
            resumed: prepared.resumed,
            skipped,
        });
        // The rows are read again when the answers are back, hours later maybe: a file changed
        // meanwhile would give answers to other rows.
        let stamp = data_stamp(&prepared.data_path)?;
        let connections = self
            .warm_connections(prepared.flow.document(), prepared.profile.clone())
            .await;
        let rows = RowRunner {
            batch_id: prepared.batch_id.clone(),
            flow: prepared.flow,
            mapping: prepared.mapping,
            format: prepared.reader.format(),
            services: Services::from_client(client.clone()),
            connections,
            cancel: cancel.clone(),
            node_timeout: prepared.node_timeout,
            breaker: Breaker::off(),
            events: events.clone(),
        };
        let total = Arc::new(OnceLock::new());
        let (done_sender, done_receiver) = mpsc::channel(2 * FLUSH_ROWS);
        // The writer also keeps the heartbeat while Azure works, so that a batch waiting hours
        // for its answers does not show as interrupted.
        let writer = tokio::spawn(
            Writer {
                core: self.clone(),
                batch_id: rows.batch_id.clone(),
                buffer: Vec::with_capacity(FLUSH_ROWS),
                tally: Tally::skipping(skipped),
                skipped,
                started,
                total: total.clone(),
                client: client.clone(),
                slots: Arc::new(Semaphore::new(1)),
                rows_at_once: 1,
                cancel: cancel.clone(),
                throttled: HashMap::new(),
                events: events.clone(),
                // `Remote` says how Azure is doing; a progress every 100 ms for hours would
                // repeat the same counts (a line a second in a CLI log).
                changes_only: Some(u64::MAX),
            }
            .run(done_receiver),
        );

        let (requests, mut failure) = capture_pass(
            &rows,
            prepared.reader,
            prepared.done,
            Requests::new(stage.call),
            &total,
            &done_sender,
        )
        .await;
        let (files, destination, held) = requests.files();
        let remote = match destination {
            Some(destination) if !files.is_empty() && failure.is_none() => {
                let endpoint = match stage.call {
                    StageCall::Chat => BatchEndpoint::ChatCompletions,
                    StageCall::Embeddings => BatchEndpoint::Embeddings,
                };
                let remote = submit(
                    &client,
                    &destination.target,
                    &rows.batch_id,
                    files,
                    endpoint,
                    &cancel,
                    &events,
                )
                .await;
                Some((remote, destination.target))
            }
            _ => None,
        };
        if let Some((remote, target)) = remote {
            if let Remote::Answered(_, Some(message)) | Remote::Failed(message) = &remote {
                failure = Some(message.clone());
            }
            // Rows whose answers cannot be matched stay unstored: a resume sends them again.
            let data = match data_stamp(&prepared.data_path) {
                Ok(now) if now == stamp => {
                    DataReader::open(&prepared.data_path).map_err(|err| err.to_string())
                }
                Ok(_) => Err(format!(
                    "the data file {} changed while Azure ran the batch, so its answers may not be for the rows it now holds",
                    prepared.data_path.display()
                )),
                Err(err) => Err(err.to_string()),
            };
            let replayed = match data {
                Ok(data) => replay_pass(&rows, data, held, remote, target, &done_sender).await,
                Err(message) => Some(format!(
                    "{message}; the rows sent to Azure are not stored: put the file back as it was and resume the batch (`weft batch resume {}`), which sends them again",
                    rows.batch_id
                )),
            };
            if let Some(message) = replayed {
                failure = Some(message);
            }
        }
        drop(done_sender);
        let tally = writer
            .await
            .map_err(|err| AppError::Internal(format!("the batch writer stopped: {err}")))??;
        let finish = Finish {
            batch_id: rows.batch_id.clone(),
            stopped: None,
            cancelled: cancel.is_cancelled(),
            failure,
            total: total.get().copied(),
            tally,
            skipped,
            elapsed: started.elapsed(),
            // Refused with a cassette: Azure makes the calls (see `prepare_document`).
            cassette: None,
        };
        self.blocking(move |core| core.finish_batch(finish)).await
    }
}

/// Pass 1: every row not done before, run up to its model call; the calls are collected into
/// input files, rows without one are stored as they ran. `Some` message: the batch cannot go to
/// Azure at all.
async fn capture_pass(
    rows: &RowRunner,
    reader: DataReader,
    done: RowSet,
    mut requests: Requests,
    total: &Arc<OnceLock<u64>>,
    store: &mpsc::Sender<Finished>,
) -> (Requests, Option<String>) {
    let fatal = Arc::new(Mutex::new(None));
    let (row_sender, mut read) = mpsc::channel(64);
    let producer = tokio::task::spawn_blocking({
        let (total, fatal) = (total.clone(), fatal.clone());
        move || produce(reader, &done, &row_sender, &total, &fatal)
    });
    let mut refused = None;
    loop {
        let row = tokio::select! {
            biased;
            () = rows.cancel.cancelled() => None,
            row = read.recv() => row,
        };
        let Some(row) = row else { break };
        let inputs = match rows.inputs(&row) {
            Ok(inputs) => inputs,
            Err(message) => {
                let _ = store.send(rows.bad(&row, message)).await;
                continue;
            }
        };
        let capture = Arc::new(Capture::default());
        let engine = Engine::new(Services {
            model: capture.clone(),
            ..rows.services.clone()
        });
        let outcome = match rows.outcome(&engine, &row, inputs).await {
            Ok(outcome) => outcome,
            Err(bad) => {
                let _ = store.send(bad).await;
                continue;
            }
        };
        let Some(captured) = capture.take() else {
            // The model node did not run (its `when` was false, or a node before it failed):
            // the row ran whole here.
            let _ = store.send(rows.ran(&row, outcome)).await;
            continue;
        };
        match requests.add(row.index, captured) {
            Ok(()) => {}
            Err(Refused::Row(message)) => {
                let _ = store.send(rows.bad(&row, message)).await;
            }
            Err(Refused::Batch(message)) => {
                let _ = store.send(rows.bad(&row, message.clone())).await;
                refused = Some(message);
                break;
            }
        }
    }
    drop(read);
    let _ = producer.await;
    let read_error = fatal.lock().unwrap_or_else(PoisonError::into_inner).take();
    (requests, refused.or(read_error))
}

/// Steps 3 and 4: upload, create, wait, download. Whatever ends it early is a
/// [`Remote::Failed`] (the batches it created cancelled) or [`Remote::Cancelled`].
async fn submit(
    client: &weft_ai::Client,
    target: &BatchTarget,
    batch_id: &str,
    files: Vec<InputFile>,
    endpoint: BatchEndpoint,
    cancel: &CancellationToken,
    events: &UnboundedSender<BatchEvent>,
) -> Remote {
    if cancel.is_cancelled() {
        return Remote::Cancelled;
    }
    // Before anything is sent: where the answers will wait for pass 2.
    let mut results = match Results::new() {
        Ok(results) => results,
        Err(message) => return Remote::Failed(message),
    };
    let handles = Handles::new(cancel.clone());
    let total: u64 = files.iter().map(|file| file.lines() as u64).sum();
    let mut created: Vec<String> = Vec::new();
    let ended = |created: Vec<String>, err: String| async move {
        // Batches already created would run (and be billed) for nothing.
        cancel_remote(client, target, &created).await;
        if cancel.is_cancelled() {
            Remote::Cancelled
        } else {
            Remote::Failed(err)
        }
    };
    for (n, file) in files.into_iter().enumerate() {
        let name = format!("weft-{batch_id}-{n}.jsonl");
        let made = async {
            let uploaded =
                batch_api::upload(client, target, &name, file.into_bytes(), &handles).await?;
            batch_api::create(client, target, &uploaded.id, endpoint, &handles).await
        }
        .await;
        match made {
            Ok(batch) => created.push(batch.id),
            Err(err) => return ended(created, err.to_string()).await,
        }
    }
    let mut message = None;
    let (mut completed, mut failed) = (0, 0);
    for (n, id) in created.iter().enumerate() {
        let waited = batch_api::wait(client, target, id, poll_every(), &handles, |batch| {
            let _ = events.send(BatchEvent::Remote {
                status: batch.status.as_str().to_owned(),
                completed: completed + batch.request_counts.completed,
                failed: failed + batch.request_counts.failed,
                total,
            });
        })
        .await;
        let batch = match waited {
            Ok(batch) => batch,
            Err(_) if cancel.is_cancelled() => {
                cancel_remote(client, target, &created[n..]).await;
                return Remote::Cancelled;
            }
            Err(err) => {
                let text = err.to_string();
                match err {
                    // Expired, or cancelled at Azure: the answers it has are in its output file.
                    BatchError::Expired { batch } | BatchError::Cancelled { batch } => {
                        message = Some(text);
                        *batch
                    }
                    // Azure ended this one; the batches after it would run for nothing.
                    BatchError::Failed { .. } => {
                        return ended(created[n + 1..].to_vec(), text).await;
                    }
                    // Where this one is is not known: it is cancelled too.
                    BatchError::Call(_) => return ended(created[n..].to_vec(), text).await,
                }
            }
        };
        completed += batch.request_counts.completed;
        failed += batch.request_counts.failed;
        for file_id in [&batch.output_file_id, &batch.error_file_id]
            .into_iter()
            .flatten()
        {
            let downloaded =
                batch_api::download(client, target, file_id, &handles, |line| results.keep(line))
                    .await;
            if let Err(err) = downloaded {
                return ended(created[n + 1..].to_vec(), err.to_string()).await;
            }
        }
        if let Some(err) = results.broken.take() {
            let text = format!(
                "the batch's answers could not be kept in a temporary file ({err}); free space in the temporary folder and resume the batch"
            );
            return ended(created[n + 1..].to_vec(), text).await;
        }
    }
    Remote::Answered(results, message)
}

/// Step 5, pass 2: every row sent to Azure, run again with its answer (or stored failed or
/// cancelled as `remote` says). `Some` message: the data file could not be read to its end.
async fn replay_pass(
    rows: &RowRunner,
    reader: DataReader,
    held: RowSet,
    mut remote: Remote,
    target: BatchTarget,
    store: &mpsc::Sender<Finished>,
) -> Option<String> {
    let fatal = Arc::new(Mutex::new(None));
    let (row_sender, mut read) = mpsc::channel::<DataRow>(64);
    let producer = tokio::task::spawn_blocking({
        let fatal = fatal.clone();
        move || {
            for row in reader {
                match row {
                    Ok(row) if held.contains(row.index) => {
                        if row_sender.blocking_send(row).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        *fatal.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(format!("the data file could not be read to its end: {err}"));
                        return;
                    }
                }
            }
        }
    });
    while let Some(row) = read.recv().await {
        let inputs = match rows.inputs(&row) {
            Ok(inputs) => inputs,
            Err(message) => {
                let _ = store.send(rows.bad(&row, message)).await;
                continue;
            }
        };
        let replay = match &mut remote {
            // The batch's token is cancelled: the engine stores the row as cancelled, with its
            // inputs redacted, as a local batch stores a row cancelled in flight.
            Remote::Cancelled => Replay::default(),
            Remote::Failed(message) => Replay::new(Err(InferenceError::Config(message.clone()))),
            Remote::Answered(results, _) => match results.take(row.index) {
                Ok(Some(line)) => Replay::from_line(line, target.clone()),
                // Replay fails the row saying Azure returned no answer for it.
                Ok(None) => Replay::default(),
                Err(message) => Replay::new(Err(InferenceError::Config(message))),
            },
        };
        let engine = Engine::new(Services {
            model: Arc::new(replay),
            ..rows.services.clone()
        });
        let finished = match rows.outcome(&engine, &row, inputs).await {
            Ok(outcome) => rows.ran(&row, outcome),
            Err(bad) => bad,
        };
        let _ = store.send(finished).await;
    }
    let _ = producer.await;
    fatal.lock().unwrap_or_else(PoisonError::into_inner).take()
}
