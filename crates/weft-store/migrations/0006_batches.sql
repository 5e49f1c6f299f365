-- Batch runs: one flow over every row of a dataset, for `weft batch` and the Batch panel.
-- Everything here is already redacted, like `runs`: secret inputs and keys appear as ******.
-- Statuses are not CHECKed: SQLite cannot change a CHECK without rebuilding the table, and a
-- batch table may hold 100,000 rows by the time a new status (an engine's phase) is wanted.
CREATE TABLE batch_runs (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT,
    flow_path     TEXT NOT NULL,
    flow_hash     TEXT NOT NULL,     -- SHA-256 of flow_text
    flow_text     TEXT NOT NULL,     -- the flow as run: a resume runs this, not the file as it is now
    data_path     TEXT NOT NULL,
    data_size     INTEGER NOT NULL,  -- bytes when the batch started; with data_modified, how a
    data_modified INTEGER NOT NULL,  -- resume notices the dataset changed since (Unix milliseconds)
    mapping       TEXT NOT NULL,     -- JSON object: flow input -> mapping text (`${data.col}` or a value)
    concurrency   TEXT NOT NULL,     -- "auto" or a number
    node_timeout  INTEGER NOT NULL,  -- ms one node may take, retries included; a resume keeps it
    engine        TEXT NOT NULL,     -- local | azure-batch
    profile       TEXT,              -- NULL: no profile
    status        TEXT NOT NULL,     -- running | succeeded | failed | cancelled | stopped
    message       TEXT,              -- why it stopped or failed, for the user
    created_at    INTEGER NOT NULL,  -- Unix milliseconds
    updated_at    INTEGER NOT NULL,  -- heartbeat: every write of rows; a stale running batch was interrupted
    finished_at   INTEGER,
    total_rows    INTEGER            -- NULL until the reader reached the end of the dataset
) STRICT;
CREATE INDEX batch_runs_by_creation ON batch_runs (created_at);

-- One row per dataset row that finished (succeeded, failed or cancelled); a row without an entry
-- has not run. A resume replaces a row's entry, so each row has one, its latest.
CREATE TABLE batch_rows (
    batch_id          TEXT NOT NULL REFERENCES batch_runs (id) ON DELETE CASCADE,
    row               INTEGER NOT NULL,  -- 0-based among the dataset's data rows
    line              INTEGER NOT NULL,  -- 1-based line of the file where the row starts
    status            TEXT NOT NULL,     -- succeeded | failed | cancelled
    inputs            TEXT NOT NULL,     -- JSON object: the flow inputs the row gave
    outputs           TEXT NOT NULL,     -- JSON object
    nodes             TEXT NOT NULL,     -- JSON object: node id -> record, as in runs.nodes
    error             TEXT,
    latency_ms        REAL NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finished_at       INTEGER NOT NULL,  -- Unix milliseconds
    PRIMARY KEY (batch_id, row)
) STRICT;
-- Counts by status, the failed rows of a batch in order, and resume's list of succeeded rows are
-- all read from this index alone.
CREATE INDEX batch_rows_by_status ON batch_rows (batch_id, status, row);
