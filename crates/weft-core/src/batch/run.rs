//! Running a batch: rows read on a blocking thread into a bounded channel, run by the engine a
//! bounded number at a time, written to SQLite in batched transactions by one writer.
//!
//! Memory is bounded by the concurrency, not the file: the reader holds one row, the channel
//! twice the rows in flight, the writer at most [`FLUSH_ROWS`] finished rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use weft_ai::Admission;
use weft_batch::{ColumnMapping, DataFormat, DataReader, DataRow};
use weft_engine::services::Services;
use weft_engine::{
    ConnectionSource, Engine, FailureCause, NodeRecord, NodeState, Plan, ResolvedConnection, Reuse,
    RunOutcome, RunRequest, RunStatus,
};
use weft_flow::{FlowDocument, ValidFlow, find_references};
use weft_store::{BatchRecord, BatchRowRecord};

use crate::batch::{
    BatchEngine, BatchEvent, BatchOrder, BatchProgress, BatchRowStatus, BatchStatus, BatchSummary,
    Concurrency,
};
use crate::runs::now_ms;
use crate::{AppCore, AppError, StoreConnections};

/// Finished rows written in one transaction at most, and how long a finished row may wait.
pub(super) const FLUSH_ROWS: usize = 128;
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Progress events at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// A running batch writes at least this often, rows or not, so that it does not look
/// interrupted while its rows wait on a slow model (see `history::STALE_AFTER`).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// With `auto`, the rows in flight at most; the per-endpoint limiter does the real limiting.
const AUTO_ROWS: u32 = 256;
/// With `auto`, each endpoint starts at this many calls in flight and grows from there.
const AUTO_START: u32 = 16;
/// A resume does not know the node timeout of the first run: it uses the app's.
const RESUME_NODE_TIMEOUT: Duration = Duration::from_secs(300);

/// A batch checked and recorded, ready to run: nothing has been called yet.
pub(super) struct Prepared {
    pub(super) batch_id: String,
    pub(super) flow: Arc<ValidFlow>,
    pub(super) mapping: ColumnMapping,
    pub(super) reader: DataReader,
    /// Read again by an Azure batch once its answers are back.
    pub(super) data_path: PathBuf,
    pub(super) concurrency: Concurrency,
    pub(super) profile: Option<String>,
    /// Rows that succeeded before: not run again.
    pub(super) done: RowSet,
    pub(super) resumed: bool,
    pub(super) node_timeout: Duration,
    pub(super) engine: BatchEngine,
    /// With the Azure Batch engine, the model node whose calls go to Azure.
    pub(super) stage: Option<weft_engine::stage::Stage>,
}

/// A set of row indexes, one bit each: a resume of 100,000 rows holds 12.5 kB.
#[derive(Debug, Default)]
pub(crate) struct RowSet {
    words: Vec<u64>,
    pub(super) len: u64,
}

impl RowSet {
    pub(super) fn insert(&mut self, row: u64) {
        let Ok(word) = usize::try_from(row / 64) else {
            return;
        };
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let bit = 1 << (row % 64);
        if self.words[word] & bit == 0 {
            self.words[word] |= bit;
            self.len += 1;
        }
    }

    pub(super) fn contains(&self, row: u64) -> bool {
        usize::try_from(row / 64)
            .ok()
            .and_then(|word| self.words.get(word))
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }
}

/// The size and modification time of the data file, so that a resume can tell it changed.
pub(super) fn data_stamp(path: &Path) -> Result<(i64, i64), AppError> {
    let meta = std::fs::metadata(path).map_err(|source| AppError::Io {
        what: format!("read the data file {}", path.display()),
        source,
    })?;
    let size = i64::try_from(meta.len()).unwrap_or(i64::MAX);
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    Ok((size, modified))
}

/// The flow as the batch stores it: a secret input never keeps a value in SQLite, even a default
/// written in the file.
fn snapshot(document: &FlowDocument) -> String {
    crate::flows::without_secret_values(document).to_yaml()
}

fn invalid(err: impl std::fmt::Display) -> AppError {
    AppError::Invalid(err.to_string())
}

impl AppCore {
    /// Runs the flow of `order` over every row of its data file, storing each row as it
    /// finishes. `Err`: the batch could not start (a bad flow, data file or mapping), before any
    /// call. Cancel it with [`AppCore::cancel_run`] and its batch id: rows in flight stop at once
    /// and are stored as cancelled, everything finished is stored.
    pub async fn run_batch(
        self: &Arc<Self>,
        order: BatchOrder,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let cancel = CancellationToken::new();
        let _registered = self.register_run(&order.batch_id, &cancel)?;
        let prepared = self.blocking(move |core| core.prepare_batch(order)).await?;
        self.execute(prepared, cancel, events).await
    }

    /// Runs again the rows of a stored batch that did not succeed (failed, cancelled, never
    /// run), with the flow as it was run, under the same id. Refused when the data file changed
    /// since. `concurrency`: `None` keeps the batch's own.
    pub async fn resume_batch(
        self: &Arc<Self>,
        id: &str,
        concurrency: Option<Concurrency>,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let id = id.to_owned();
        let record = self.blocking(move |core| core.batch_record(&id)).await?;
        let cancel = CancellationToken::new();
        let _registered = self.register_run(&record.id, &cancel)?;
        let prepared = self
            .blocking(move |core| core.prepare_resume(record, concurrency))
            .await?;
        self.execute(prepared, cancel, events).await
    }

    async fn execute(
        self: &Arc<Self>,
        prepared: Prepared,
        cancel: CancellationToken,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        match prepared.engine {
            BatchEngine::Local => self.execute_batch(prepared, cancel, events).await,
            BatchEngine::AzureBatch => self.execute_azure(prepared, cancel, events).await,
        }
    }

    /// The flow's one model-call stage when the batch runs on the Azure Batch API: a flow that
    /// does not fit is refused here, naming the node, before the record and any upload.
    fn stage_for(
        engine: BatchEngine,
        flow: &ValidFlow,
    ) -> Result<Option<weft_engine::stage::Stage>, AppError> {
        match engine {
            BatchEngine::Local => Ok(None),
            BatchEngine::AzureBatch => weft_engine::stage::stage(flow).map(Some).map_err(invalid),
        }
    }

    /// The flow validated, the file opened and the mapping checked against both, then the batch
    /// recorded: every refusal comes before the record, and before any call.
    fn prepare_batch(&self, order: BatchOrder) -> Result<Prepared, AppError> {
        let document = self.open_flow(&order.flow_path)?.document;
        let flow = self.ready(&document)?;
        let stage = Self::stage_for(order.engine, &flow)?;
        let mapping = ColumnMapping::from_map(&order.mapping).map_err(invalid)?;
        let reader = DataReader::open(&order.data_path).map_err(invalid)?;
        mapping
            .check(&document, reader.columns(), reader.format())
            .map_err(invalid)?;
        let (data_size, data_modified_ms) = data_stamp(&order.data_path)?;
        let profile = self.active_profile()?;
        let flow_text = snapshot(&document);
        let now = now_ms();
        let record = BatchRecord {
            id: order.batch_id.clone(),
            name: order.name,
            flow_path: order.flow_path.display().to_string(),
            flow_hash: format!("{:x}", Sha256::digest(flow_text.as_bytes())),
            flow_text,
            data_path: order.data_path.display().to_string(),
            data_size,
            data_modified_ms,
            mapping: Value::Object(
                mapping
                    .to_map()
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ),
            concurrency: order.concurrency.to_string(),
            engine: order.engine.as_str().into(),
            profile: profile.clone(),
            status: BatchStatus::Running.as_str().into(),
            message: None,
            created_at_ms: now,
            updated_at_ms: now,
            finished_at_ms: None,
            total_rows: None,
        };
        self.db()?.create_batch(&record)?;
        Ok(Prepared {
            batch_id: order.batch_id,
            flow: Arc::new(flow),
            mapping,
            reader,
            data_path: order.data_path,
            concurrency: order.concurrency,
            profile,
            done: RowSet::default(),
            resumed: false,
            node_timeout: order.node_timeout,
            engine: order.engine,
            stage,
        })
    }

    /// A stored batch made ready to run again: its flow snapshot validated, its data file
    /// checked unchanged, the rows that succeeded read.
    fn prepare_resume(
        &self,
        record: BatchRecord,
        concurrency: Option<Concurrency>,
    ) -> Result<Prepared, AppError> {
        // A batch resumes on the engine it started on: an Azure batch sends its rows that did
        // not succeed to Azure again.
        let engine: BatchEngine = record.engine.parse().map_err(|err| {
            AppError::Internal(format!(
                "batch `{}` is stored with an unknown engine: {err}",
                record.id
            ))
        })?;
        let document = FlowDocument::parse(&record.flow_text).map_err(|err| {
            AppError::Internal(format!(
                "the flow stored with batch `{}` does not parse: {err}",
                record.id
            ))
        })?;
        let flow = self.ready(&document)?;
        let stage = Self::stage_for(engine, &flow)?;
        let data_path = Path::new(&record.data_path);
        if data_stamp(data_path)? != (record.data_size, record.data_modified_ms) {
            return Err(AppError::Invalid(format!(
                "the data file {} changed since batch `{}` ran, so its rows may not be the rows the batch numbered; start a new batch on it with `weft batch run`",
                record.data_path, record.id
            )));
        }
        let stored: BTreeMap<String, String> = record
            .mapping
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        let mapping = ColumnMapping::from_map(&stored).map_err(invalid)?;
        let reader = DataReader::open(data_path).map_err(invalid)?;
        mapping
            .check(&document, reader.columns(), reader.format())
            .map_err(invalid)?;
        let concurrency = match concurrency {
            Some(given) => given,
            None => record.concurrency.parse().map_err(invalid)?,
        };
        let mut db = self.db()?;
        let mut done = RowSet::default();
        for row in db.succeeded_rows(&record.id)? {
            done.insert(u64::try_from(row).unwrap_or_default());
        }
        db.set_batch_status(
            &record.id,
            BatchStatus::Running.as_str(),
            None,
            None,
            None,
            now_ms(),
        )?;
        Ok(Prepared {
            batch_id: record.id,
            flow: Arc::new(flow),
            mapping,
            reader,
            data_path: data_path.to_owned(),
            concurrency,
            profile: record.profile,
            done,
            resumed: true,
            node_timeout: RESUME_NODE_TIMEOUT,
            engine,
            stage,
        })
    }

    async fn execute_batch(
        self: &Arc<Self>,
        prepared: Prepared,
        cancel: CancellationToken,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let started = Instant::now();
        let (rows_at_once, admission) = match prepared.concurrency {
            Concurrency::Auto => (AUTO_ROWS, Admission::adaptive(AUTO_START, AUTO_ROWS)),
            Concurrency::Fixed(n) => (n.get(), Admission::adaptive(n.get(), n.get())),
        };
        // A client of the batch's own: its limits are the batch's, and test runs beside it in
        // the app are not held back by them. It shares the process's connection pool.
        let client = self.ai().clone().with_admission(admission);
        let skipped = prepared.done.len;
        let _ = events.send(BatchEvent::Started {
            batch_id: prepared.batch_id.clone(),
            resumed: prepared.resumed,
            skipped,
        });
        let connections = self
            .warm_connections(prepared.flow.document(), prepared.profile)
            .await;
        let rows = Arc::new(RowRunner {
            batch_id: prepared.batch_id.clone(),
            flow: prepared.flow,
            mapping: prepared.mapping,
            format: prepared.reader.format(),
            services: Services::from_client(client.clone()),
            connections,
            cancel: cancel.clone(),
            node_timeout: prepared.node_timeout,
            breaker: Breaker::default(),
            events: events.clone(),
        });
        let total = Arc::new(OnceLock::new());
        let fatal = Arc::new(Mutex::new(None));
        let (row_sender, mut row_receiver) = mpsc::channel(2 * rows_at_once as usize);
        let producer = tokio::task::spawn_blocking({
            let (total, fatal) = (total.clone(), fatal.clone());
            move || produce(prepared.reader, &prepared.done, &row_sender, &total, &fatal)
        });
        let (done_sender, done_receiver) = mpsc::channel(2 * FLUSH_ROWS);
        let slots = Arc::new(Semaphore::new(rows_at_once as usize));
        let writer = tokio::spawn(
            Writer {
                core: self.clone(),
                batch_id: rows.batch_id.clone(),
                buffer: Vec::with_capacity(FLUSH_ROWS),
                tally: Tally::skipping(skipped),
                skipped,
                started,
                total: total.clone(),
                client,
                slots: slots.clone(),
                rows_at_once,
                cancel: cancel.clone(),
                throttled: HashMap::new(),
                events: events.clone(),
                changes_only: None,
            }
            .run(done_receiver),
        );
        dispatch(&rows, &slots, &mut row_receiver, &done_sender).await;
        // Unread rows stay unread: the reader stops at its next send.
        drop(row_receiver);
        drop(done_sender);
        // Every row in flight has ended (cancelled ones at once) when all slots are free again.
        let _ = slots.acquire_many(rows_at_once).await;
        let _ = producer.await;
        let tally = writer
            .await
            .map_err(|err| AppError::Internal(format!("the batch writer stopped: {err}")))?;
        // Rows that could not be saved end the batch here: it stays `running`, shows as
        // interrupted, and a resume runs what was not saved.
        let tally = tally?;
        let stopped = rows.breaker.message();
        let failure = fatal.lock().unwrap_or_else(PoisonError::into_inner).take();
        let finish = Finish {
            batch_id: rows.batch_id.clone(),
            stopped,
            cancelled: cancel.is_cancelled(),
            failure,
            total: total.get().copied(),
            tally,
            skipped,
            elapsed: started.elapsed(),
        };
        self.blocking(move |core| core.finish_batch(finish)).await
    }

    /// The batch's connections, each saved one the flow names looked up now, before the first
    /// row: rows then take them from memory instead of all missing the cache at once. A lookup
    /// that fails is kept too, and fails the rows that use it.
    pub(super) async fn warm_connections(
        self: &Arc<Self>,
        flow: &FlowDocument,
        profile: Option<String>,
    ) -> Arc<CachedConnections> {
        let connections = Arc::new(CachedConnections::new(StoreConnections::new(
            self.clone(),
            profile,
        )));
        let names = saved_connections(flow);
        let warming = connections.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for name in names {
                let _ = warming.connection(&name);
            }
        })
        .await;
        connections
    }

    /// The batch's final status, stored, and its summary.
    pub(super) fn finish_batch(&self, finish: Finish) -> Result<BatchSummary, AppError> {
        let mut db = self.db()?;
        let counts = db.batch_counts(&finish.batch_id)?;
        let (status, message) = if let Some(message) = finish.stopped {
            (BatchStatus::Stopped, Some(message))
        } else if finish.cancelled {
            (BatchStatus::Cancelled, None)
        } else if let Some(message) = finish.failure {
            (BatchStatus::Failed, Some(message))
        } else if counts.failed > 0 || counts.cancelled > 0 {
            (BatchStatus::Failed, None)
        } else {
            (BatchStatus::Succeeded, None)
        };
        let now = now_ms();
        let total = finish.total.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        db.set_batch_status(
            &finish.batch_id,
            status.as_str(),
            message.as_deref(),
            total,
            Some(now),
            now,
        )?;
        let elapsed_ms = u64::try_from(finish.elapsed.as_millis()).unwrap_or(u64::MAX);
        let secs = finish.elapsed.as_secs_f64();
        let ran = finish.tally.committed() - finish.skipped;
        Ok(BatchSummary {
            batch_id: finish.batch_id,
            status,
            total: finish
                .total
                .unwrap_or(counts.succeeded + counts.failed + counts.cancelled),
            succeeded: counts.succeeded,
            failed: counts.failed,
            cancelled: counts.cancelled,
            elapsed_ms,
            rows_per_s: if secs > 0.0 { ran as f64 / secs } else { 0.0 },
            throttles: finish.tally.throttles,
            prompt_tokens: finish.tally.prompt_tokens,
            completion_tokens: finish.tally.completion_tokens,
            message,
        })
    }

    /// The validated flow, or every problem it has.
    fn ready(&self, document: &FlowDocument) -> Result<ValidFlow, AppError> {
        crate::runs::ready(self.check_flow(document, false)?)
    }
}

/// The saved connections the flow's nodes name (a reference such as `${inputs.conn}` is only
/// known when a row runs).
fn saved_connections(flow: &FlowDocument) -> BTreeSet<String> {
    flow.nodes
        .iter()
        .flat_map(|node| {
            node.kind
                .properties()
                .iter()
                .filter(|spec| !spec.connection_types().is_empty())
                .filter_map(|spec| node.properties.get(spec.key)?.as_str())
        })
        .map(str::trim)
        .filter(|name| !name.is_empty() && find_references(name).is_ok_and(|r| r.is_empty()))
        .map(str::to_owned)
        .collect()
}

/// How a batch ended, for [`AppCore::finish_batch`].
pub(super) struct Finish {
    pub(super) batch_id: String,
    pub(super) stopped: Option<String>,
    pub(super) cancelled: bool,
    /// Why the batch could not run to its end: the data file broke off, the Batch API failed it.
    pub(super) failure: Option<String>,
    pub(super) total: Option<u64>,
    pub(super) tally: Tally,
    /// Rows a resume did not run again (counted in the tally as succeeded).
    pub(super) skipped: u64,
    pub(super) elapsed: Duration,
}

/// Starts each row read as soon as a slot is free, until the rows run out or the batch is
/// cancelled.
async fn dispatch(
    rows: &Arc<RowRunner>,
    slots: &Arc<Semaphore>,
    read: &mut mpsc::Receiver<DataRow>,
    done: &mpsc::Sender<Finished>,
) {
    loop {
        let permit = tokio::select! {
            biased;
            () = rows.cancel.cancelled() => return,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { return };
        let row = tokio::select! {
            biased;
            () = rows.cancel.cancelled() => return,
            row = read.recv() => row,
        };
        let Some(row) = row else { return };
        tokio::spawn(rows.clone().run(row, permit, done.clone()));
    }
}

/// Reads the file into `rows`, leaving out rows in `done`; sets `total` when it reached the end.
/// Ends early when the runner stops taking rows (it cancelled) or the file cannot be read on.
pub(super) fn produce(
    reader: DataReader,
    done: &RowSet,
    rows: &mpsc::Sender<DataRow>,
    total: &OnceLock<u64>,
    fatal: &Mutex<Option<String>>,
) {
    let mut count = 0;
    for row in reader {
        let row = match row {
            Ok(row) => row,
            Err(err) => {
                *fatal.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(format!("the data file could not be read to its end: {err}"));
                return;
            }
        };
        count = row.index + 1;
        if done.contains(row.index) {
            continue;
        }
        if rows.blocking_send(row).is_err() {
            return;
        }
    }
    let _ = total.set(count);
}

/// Stops a batch whose first rows fail in a way every row would: a refused key or a missing
/// deployment, before any row succeeded.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    succeeded: AtomicBool,
    tripped: Mutex<Option<String>>,
}

impl Breaker {
    /// A breaker that never trips: for rows whose calls are already made (an Azure batch's
    /// answers), where stopping would only throw answers away.
    pub(super) fn off() -> Self {
        Self {
            succeeded: AtomicBool::new(true),
            tripped: Mutex::default(),
        }
    }

    fn message(&self) -> Option<String> {
        self.tripped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What one row needs to run, shared by every row of the batch.
pub(super) struct RowRunner {
    pub(super) batch_id: String,
    pub(super) flow: Arc<ValidFlow>,
    pub(super) mapping: ColumnMapping,
    pub(super) format: DataFormat,
    /// What the rows' nodes call (an Azure batch swaps the model port per pass).
    pub(super) services: Services,
    pub(super) connections: Arc<dyn ConnectionSource>,
    pub(super) cancel: CancellationToken,
    pub(super) node_timeout: Duration,
    pub(super) breaker: Breaker,
    pub(super) events: UnboundedSender<BatchEvent>,
}

/// A row finished, as the writer stores it.
pub(super) struct Finished {
    pub(super) record: BatchRowRecord,
    pub(super) status: BatchRowStatus,
}

impl RowRunner {
    async fn run(
        self: Arc<Self>,
        row: DataRow,
        permit: OwnedSemaphorePermit,
        done: mpsc::Sender<Finished>,
    ) {
        let finished = self.finish(&row).await;
        // The slot is free once the row is handed on (or the writer is gone).
        let _ = done.send(finished).await;
        drop(permit);
    }

    async fn finish(&self, row: &DataRow) -> Finished {
        let inputs = match self.inputs(row) {
            Ok(inputs) => inputs,
            Err(message) => return self.bad(row, message),
        };
        let engine = Engine::new(self.services.clone());
        match self.outcome(&engine, row, inputs).await {
            Ok(outcome) => self.ran(row, outcome),
            Err(bad) => bad,
        }
    }

    /// The row's flow inputs, or why it could not be read or mapped (store it with [`Self::bad`]).
    pub(super) fn inputs(&self, row: &DataRow) -> Result<Map<String, Value>, String> {
        match &row.fields {
            Ok(fields) => self
                .mapping
                .inputs(self.flow.document(), fields, self.format)
                // Its text never quotes a secret input's value.
                .map_err(|failure| failure.to_string()),
            Err(bad) => Err(bad.to_string()),
        }
    }

    /// The row run by `engine`, or the row stored as failed when the engine refused its inputs.
    pub(super) async fn outcome(
        &self,
        engine: &Engine,
        row: &DataRow,
        inputs: Map<String, Value>,
    ) -> Result<RunOutcome, Finished> {
        let request = RunRequest {
            run_id: format!("{}/{}", self.batch_id, row.index),
            flow: self.flow.clone(),
            inputs,
            connections: self.connections.clone(),
            cancel: self.cancel.child_token(),
            node_timeout: self.node_timeout,
            plan: Plan::All,
            reuse: Reuse::default(),
        };
        // Nobody watches a row's events; the outcome holds what is stored.
        let (events, _) = mpsc::unbounded_channel();
        engine
            .run(request, events)
            .await
            // The inputs the row gave do not fit the flow (one missing, a wrong type): the engine
            // refused them before any node ran.
            .map_err(|err| self.bad(row, format!("line {}: {err}", row.line)))
    }

    /// A row that was not run: it could not be read, or not mapped to the flow's inputs.
    pub(super) fn bad(&self, row: &DataRow, error: String) -> Finished {
        let _ = self.events.send(BatchEvent::BadRow {
            row: row.index,
            line: row.line,
            message: error.clone(),
        });
        Finished {
            record: BatchRowRecord {
                batch_id: self.batch_id.clone(),
                row: i64::try_from(row.index).unwrap_or(i64::MAX),
                line: i64::try_from(row.line).unwrap_or(i64::MAX),
                status: BatchRowStatus::Failed.as_str().into(),
                inputs: Value::Object(Map::new()),
                outputs: Value::Object(Map::new()),
                nodes: Value::Object(Map::new()),
                error: Some(error),
                latency_ms: 0.0,
                prompt_tokens: 0,
                completion_tokens: 0,
                finished_at_ms: now_ms(),
            },
            status: BatchRowStatus::Failed,
        }
    }

    /// A row the engine ran, redacted by it, and what the breaker makes of it.
    pub(super) fn ran(&self, row: &DataRow, outcome: RunOutcome) -> Finished {
        let status = match outcome.status {
            RunStatus::Succeeded => BatchRowStatus::Succeeded,
            RunStatus::Failed => BatchRowStatus::Failed,
            RunStatus::Cancelled => BatchRowStatus::Cancelled,
        };
        let failed = self.flow.document().nodes.iter().find_map(|node| {
            let record = outcome.nodes.get(&node.id)?;
            (record.state == NodeState::Failed).then_some((node.id.as_str(), record))
        });
        match (status, failed) {
            (BatchRowStatus::Succeeded, _) => self.breaker.succeeded.store(true, Ordering::Relaxed),
            (BatchRowStatus::Failed, Some((node, record))) => self.check_breaker(row, node, record),
            _ => {}
        }
        let error = match status {
            BatchRowStatus::Cancelled => Some("cancelled".to_owned()),
            _ => failed.and_then(|(_, record)| record.error.clone()),
        };
        let (prompt_tokens, completion_tokens) = outcome
            .nodes
            .values()
            .filter_map(|record| record.usage.as_ref())
            .fold((0, 0), |(p, c), usage| {
                (
                    p + i64::from(usage.prompt_tokens),
                    c + i64::from(usage.completion_tokens),
                )
            });
        Finished {
            record: BatchRowRecord {
                batch_id: self.batch_id.clone(),
                row: i64::try_from(row.index).unwrap_or(i64::MAX),
                line: i64::try_from(row.line).unwrap_or(i64::MAX),
                status: status.as_str().into(),
                inputs: Value::Object(outcome.inputs),
                outputs: Value::Object(outcome.outputs),
                nodes: serde_json::to_value(&outcome.nodes).unwrap_or(Value::Null),
                error,
                latency_ms: outcome.latency_ms,
                prompt_tokens,
                completion_tokens,
                finished_at_ms: now_ms(),
            },
            status,
        }
    }

    /// Trips the breaker when no row has succeeded yet and this one failed on a refused
    /// credential or a missing endpoint: every other row would fail the same way.
    fn check_breaker(&self, row: &DataRow, node: &str, record: &NodeRecord) {
        let fatal = matches!(
            record.cause,
            Some(FailureCause::Auth | FailureCause::NotFound)
        );
        if !fatal || self.breaker.succeeded.load(Ordering::Relaxed) {
            return;
        }
        let mut tripped = self
            .breaker
            .tripped
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if tripped.is_some() {
            return;
        }
        let message = format!(
            "stopped after row {} (line {}): node `{node}` failed in a way every row would: {}. Fix that, then resume the batch (`weft batch resume {}`)",
            row.index,
            row.line,
            record.error.as_deref().unwrap_or("no message"),
            self.batch_id
        );
        let _ = self.events.send(BatchEvent::Stopped {
            message: message.clone(),
        });
        *tripped = Some(message);
        self.cancel.cancel();
    }
}

/// What the writer has committed so far.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Tally {
    succeeded: u64,
    failed: u64,
    cancelled: u64,
    throttles: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl Tally {
    /// Before any row: the rows a resume skips count as succeeded.
    pub(super) fn skipping(skipped: u64) -> Self {
        Self {
            succeeded: skipped,
            ..Self::default()
        }
    }

    /// Rows committed, with the rows a resume skipped (counted as succeeded).
    fn committed(&self) -> u64 {
        self.succeeded + self.failed + self.cancelled
    }

    fn add(&mut self, finished: &Finished) {
        match finished.status {
            BatchRowStatus::Succeeded => self.succeeded += 1,
            BatchRowStatus::Failed => self.failed += 1,
            BatchRowStatus::Cancelled => self.cancelled += 1,
        }
        self.prompt_tokens += u64::try_from(finished.record.prompt_tokens).unwrap_or_default();
        self.completion_tokens +=
            u64::try_from(finished.record.completion_tokens).unwrap_or_default();
    }
}

/// Collects finished rows and writes them in batched transactions; reports progress on what is
/// committed.
pub(super) struct Writer {
    pub(super) core: Arc<AppCore>,
    pub(super) batch_id: String,
    pub(super) buffer: Vec<Finished>,
    pub(super) tally: Tally,
    pub(super) skipped: u64,
    pub(super) started: Instant,
    pub(super) total: Arc<OnceLock<u64>>,
    pub(super) client: weft_ai::Client,
    pub(super) slots: Arc<Semaphore>,
    pub(super) rows_at_once: u32,
    pub(super) cancel: CancellationToken,
    /// 429s seen per endpoint at the last report.
    pub(super) throttled: HashMap<String, u64>,
    pub(super) events: UnboundedSender<BatchEvent>,
    /// Progress only when rows were committed since the last report (`Some`: the count then),
    /// for an Azure batch, whose rows wait hours with nothing new; `None`: every 100 ms.
    pub(super) changes_only: Option<u64>,
}

impl Writer {
    pub(super) async fn run(
        mut self,
        mut rows: mpsc::Receiver<Finished>,
    ) -> Result<Tally, AppError> {
        let result = self.collect(&mut rows).await;
        if result.is_err() {
            // Rows can no longer be saved: running more would lose them.
            self.cancel.cancel();
        }
        result.map(|()| self.tally)
    }

    async fn collect(&mut self, rows: &mut mpsc::Receiver<Finished>) -> Result<(), AppError> {
        let mut tick = tokio::time::interval(FLUSH_EVERY.min(PROGRESS_EVERY));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_write = Instant::now();
        let mut last_progress = Instant::now();
        loop {
            let flush = tokio::select! {
                row = rows.recv() => match row {
                    Some(row) => {
                        self.buffer.push(row);
                        self.buffer.len() >= FLUSH_ROWS
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    !self.buffer.is_empty() || last_write.elapsed() >= HEARTBEAT_EVERY
                }
            };
            if flush {
                self.flush().await?;
                last_write = Instant::now();
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                self.report_load();
                self.progress();
                last_progress = Instant::now();
            }
        }
        self.flush().await?;
        self.report_load();
        self.progress();
        Ok(())
    }

    /// Writes the buffered rows in one transaction (an empty write moves the heartbeat); they
    /// count once committed.
    async fn flush(&mut self) -> Result<(), AppError> {
        let mut written = self.tally;
        let records: Vec<BatchRowRecord> = std::mem::take(&mut self.buffer)
            .into_iter()
            .map(|finished| {
                written.add(&finished);
                finished.record
            })
            .collect();
        let core = self.core.clone();
        let id = self.batch_id.clone();
        tokio::task::spawn_blocking(move || {
            core.db()?.write_batch_rows(&id, &records, now_ms())?;
            Ok::<_, AppError>(())
        })
        .await
        .map_err(|err| AppError::Internal(format!("a background task failed: {err}")))??;
        self.tally = written;
        Ok(())
    }

    /// Throttle notices for endpoints that met a 429 since the last look.
    fn report_load(&mut self) {
        let mut throttles = 0;
        for load in self.client.load() {
            throttles += load.throttled;
            let seen = self.throttled.entry(load.endpoint.clone()).or_default();
            if load.throttled > *seen {
                *seen = load.throttled;
                let _ = self.events.send(BatchEvent::Throttled {
                    endpoint: load.endpoint,
                    wait_ms: load.paused_ms,
                });
            }
        }
        self.tally.throttles = throttles;
    }

    fn progress(&mut self) {
        if let Some(reported) = &mut self.changes_only {
            if *reported == self.tally.committed() {
                return;
            }
            *reported = self.tally.committed();
        }
        let elapsed = self.started.elapsed();
        let ran = self.tally.committed() - self.skipped;
        let rows_per_s = if elapsed.as_secs_f64() > 0.0 {
            ran as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let total = self.total.get().copied();
        let done = self.tally.committed();
        let eta_ms = total.filter(|_| rows_per_s > 0.0).map(|total| {
            let left = total.saturating_sub(done) as f64;
            (left / rows_per_s * 1000.0) as u64
        });
        let free = u32::try_from(self.slots.available_permits()).unwrap_or(u32::MAX);
        let in_flight = self.rows_at_once.saturating_sub(free);
        let limit = self.client.load().iter().map(|l| l.limit).max();
        let _ = self.events.send(BatchEvent::Progress(BatchProgress {
            done,
            succeeded: self.tally.succeeded,
            failed: self.tally.failed,
            cancelled: self.tally.cancelled,
            total,
            rows_per_s,
            concurrency: limit.unwrap_or(self.rows_at_once).min(self.rows_at_once),
            in_flight,
            throttles: self.tally.throttles,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            eta_ms,
        }));
    }
}

/// One connection's lookup, made by the first row that needs it and shared by the rest.
type Lookup = Arc<OnceLock<Result<ResolvedConnection, String>>>;

/// The saved connections a batch uses, each read once (SQLite and the keychain) for every row,
/// instead of once per node per row.
pub(super) struct CachedConnections<S = StoreConnections> {
    inner: S,
    cache: Mutex<HashMap<String, Lookup>>,
}

impl<S> CachedConnections<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            cache: Mutex::default(),
        }
    }
}

impl<S: ConnectionSource> ConnectionSource for CachedConnections<S> {
    fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
        let slot = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_default()
            .clone();
        // Rows that ask meanwhile wait for the first lookup (they run on the blocking pool)
        // rather than each asking the keychain.
        slot.get_or_init(|| self.inner.connection(name)).clone()
    }

    fn at_hand(&self, name: &str) -> Option<Result<ResolvedConnection, String>> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)?
            .get()
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_connections_a_flow_names_are_found_but_not_references() {
        let flow = FlowDocument::parse(
            "schema: 1\ninputs:\n  conn: { type: string }\nnodes:\n\
             \x20 - { id: a, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: model, deployment: d, user_prompt: hi } }\n\
             \x20 - { id: b, type: chat_completion, position: { x: 0, y: 0 }, properties: { connection: \"${inputs.conn}\", deployment: d, user_prompt: hi } }\n\
             \x20 - { id: c, type: prompt_template, position: { x: 0, y: 0 }, properties: { template: model } }\n",
        )
        .unwrap();
        assert_eq!(
            saved_connections(&flow),
            BTreeSet::from(["model".to_owned()])
        );
    }

    /// Counts its lookups; every one fails, which is cached like a success.
    #[derive(Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl ConnectionSource for Counting {
        fn connection(&self, name: &str) -> Result<ResolvedConnection, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(format!("no `{name}`"))
        }
    }

    #[test]
    fn each_connection_is_looked_up_once_per_batch() {
        let cached = CachedConnections::new(Counting::default());
        assert!(
            cached.at_hand("model").is_none(),
            "nothing at hand before a lookup"
        );
        for _ in 0..3 {
            assert_eq!(cached.connection("model").unwrap_err(), "no `model`");
        }
        assert_eq!(cached.at_hand("model").unwrap().unwrap_err(), "no `model`");
        let _ = cached.connection("other");
        assert_eq!(cached.inner.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_row_set_holds_what_was_put_in() {
        let mut set = RowSet::default();
        for row in [0, 63, 64, 1000, 64] {
            set.insert(row);
        }
        assert_eq!(set.len, 4);
        assert!(set.contains(0) && set.contains(63) && set.contains(64) && set.contains(1000));
        assert!(!set.contains(1) && !set.contains(65) && !set.contains(99_999));
    }
}
