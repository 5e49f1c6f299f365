//! Running a batch: rows read on a blocking thread into a bounded channel, run by the engine a
//! bounded number at a time, written to SQLite in batched transactions by one writer.
//!
//! Memory is bounded by the concurrency, not the file: the reader holds one row, the channel
//! twice the rows in flight, the writer at most [`FLUSH_ROWS`] finished rows.
//! The pieces: [`super::rows`] runs one row, [`super::writer`] stores them, [`super::cache`]
//! holds the connections, [`super::rowset`] the rows a resume skips.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;
use weft_ai::Admission;
use weft_batch::{ColumnMapping, DataReader, DataRow};
use weft_cassette::Cassette;
use weft_engine::services::Services;
use weft_flow::{FlowDocument, ValidFlow};
use weft_store::BatchRecord;

use super::rows::{Breaker, Finished, RowRunner};
use super::rowset::RowSet;
use super::writer::{FLUSH_ROWS, Tally, Writer};
use crate::batch::{BatchEngine, BatchEvent, BatchOrder, BatchStatus, BatchSummary, Concurrency};
use crate::cassette::{CassetteMark, CassetteUse, wrapped};
use crate::runs::now_ms;
use crate::{AppCore, AppError};

/// With `auto`, the rows in flight at most; the per-endpoint limiter does the real limiting.
const AUTO_ROWS: u32 = 256;
/// With `auto`, each endpoint starts at this many calls in flight and grows from there.
const AUTO_START: u32 = 16;

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
    /// Records or replays the rows' calls (the local engine only).
    pub(super) cassette: Option<Arc<Cassette>>,
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

    /// [`AppCore::run_batch`] of `document` (a flow not read from `order.flow_path`, which only
    /// names it in history), stopped by `cancel` as well as by its own id: an eval's variant.
    pub(crate) async fn run_batch_of(
        self: &Arc<Self>,
        order: BatchOrder,
        document: FlowDocument,
        cancel: CancellationToken,
        events: UnboundedSender<BatchEvent>,
    ) -> Result<BatchSummary, AppError> {
        let _registered = self.register_run(&order.batch_id, &cancel)?;
        let prepared = self
            .blocking(move |core| core.prepare_document(order, &document))
            .await?;
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
        self.prepare_document(order, &document)
    }

    /// [`AppCore::prepare_batch`] of a flow already read.
    fn prepare_document(
        &self,
        order: BatchOrder,
        document: &FlowDocument,
    ) -> Result<Prepared, AppError> {
        if order.cassette.is_some() && order.engine == BatchEngine::AzureBatch {
            return Err(AppError::Invalid(
                "a cassette records calls made from this machine, and with the Azure Batch engine \
                 Azure makes them; run the batch on the local engine to record or replay it, or \
                 leave out the cassette"
                    .into(),
            ));
        }
        let flow = crate::runs::in_folder(self.ready(document)?, Some(&order.flow_path));
        let stage = Self::stage_for(order.engine, &flow)?;
        let mapping = ColumnMapping::from_map(&order.mapping).map_err(invalid)?;
        let reader = DataReader::open(&order.data_path).map_err(invalid)?;
        mapping
            .check(document, reader.columns(), reader.format())
            .map_err(invalid)?;
        let (data_size, data_modified_ms) = data_stamp(&order.data_path)?;
        let profile = self.active_profile()?;
        let flow_text = snapshot(document);
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
            node_timeout_ms: i64::try_from(order.node_timeout.as_millis()).unwrap_or(i64::MAX),
            engine: order.engine.as_str().into(),
            profile: profile.clone(),
            status: BatchStatus::Running.as_str().into(),
            message: None,
            created_at_ms: now,
            updated_at_ms: now,
            finished_at_ms: None,
            total_rows: None,
            cassette: None,
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
            cassette: order.cassette,
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
        // Python nodes' files are beside the original flow file, not the stored copy.
        let flow =
            crate::runs::in_folder(self.ready(&document)?, Some(Path::new(&record.flow_path)));
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
            node_timeout: Duration::from_millis(u64::try_from(record.node_timeout_ms).unwrap_or(0)),
            engine,
            stage,
            cassette: None,
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
        let mark = prepared.cassette.as_ref().map(CassetteMark::new);
        let rows = Arc::new(RowRunner {
            batch_id: prepared.batch_id.clone(),
            flow: prepared.flow,
            mapping: prepared.mapping,
            format: prepared.reader.format(),
            services: wrapped(
                Services::from_client(client.clone()),
                prepared.cassette.as_ref(),
            ),
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
            cassette: mark.as_ref().map(CassetteMark::use_since),
        };
        self.blocking(move |core| core.finish_batch(finish)).await
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
        if let Some(cassette) = &finish.cassette {
            db.set_batch_cassette(&finish.batch_id, &cassette.to_json())?;
        }
        let elapsed_ms = u64::try_from(finish.elapsed.as_millis()).unwrap_or(u64::MAX);
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
            rows_per_s: finish.tally.rows_per_s(finish.skipped, finish.elapsed),
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
    /// How the rows used the batch's cassette, if it had one.
    pub(super) cassette: Option<CassetteUse>,
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
