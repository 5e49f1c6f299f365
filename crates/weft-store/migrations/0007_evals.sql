-- Evaluations (issue 15) and cassettes.
--
-- A run or a batch that went through a cassette says so: JSON {mode, replayed, recorded, live}
-- (the calls of that run alone); NULL: no cassette, every call was live.
ALTER TABLE runs ADD COLUMN cassette TEXT;
ALTER TABLE batch_runs ADD COLUMN cassette TEXT;

-- One row per `weft eval run` (or the Evaluate panel's Run): an eval file run once per variant.
CREATE TABLE eval_runs (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,     -- the file's `name`, else its file name
    eval_path   TEXT NOT NULL,
    eval_text   TEXT NOT NULL,     -- the eval file as run
    status      TEXT NOT NULL,     -- running | finished | cancelled | failed
    message     TEXT,              -- why it failed, for the user
    started_at  INTEGER NOT NULL,  -- Unix milliseconds
    finished_at INTEGER,
    updated_at  INTEGER NOT NULL,  -- heartbeat while it runs; a stale running eval was interrupted
    passed      INTEGER,           -- 1 when every threshold held; NULL until it finished
    report      TEXT,              -- JSON: the report (summaries, thresholds, changes) once it ended
    cassette    TEXT               -- JSON, as in runs.cassette
) STRICT;
CREATE INDEX eval_runs_by_start ON eval_runs (started_at);

-- The variants of an eval run, in the order they ran, each with the batch that ran its flow.
-- No foreign key to batch_runs: the batch is history of its own.
CREATE TABLE eval_variants (
    eval_id  TEXT NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    variant  TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (eval_id, variant)
) STRICT;

-- The verdict on one dataset row of one variant.
CREATE TABLE eval_verdicts (
    eval_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    row     INTEGER NOT NULL,  -- 0-based, as batch_rows.row
    pass    INTEGER NOT NULL,  -- 0 | 1
    score   REAL NOT NULL,
    verdict TEXT NOT NULL,     -- JSON: every assertion's verdict, the row's cost
    PRIMARY KEY (eval_id, variant, row),
    FOREIGN KEY (eval_id, variant) REFERENCES eval_variants (eval_id, variant) ON DELETE CASCADE
) STRICT;
-- The results grid pages by row, a cell per variant.
CREATE INDEX eval_verdicts_by_row ON eval_verdicts (eval_id, row);
