-- Flow runs, for the run panel and `weft runs`. Everything here is already redacted: secret
-- inputs and keys appear as ******.
CREATE TABLE runs (
    id          TEXT PRIMARY KEY NOT NULL,
    flow_path   TEXT NOT NULL,
    flow_hash   TEXT NOT NULL,     -- SHA-256 of the flow file's text
    started_at  INTEGER NOT NULL,  -- Unix milliseconds
    finished_at INTEGER NOT NULL,
    status      TEXT NOT NULL,     -- succeeded | failed | cancelled
    inputs      TEXT NOT NULL,     -- JSON object
    outputs     TEXT NOT NULL,     -- JSON object
    nodes       TEXT NOT NULL      -- JSON object: node id -> state, inputs, output, error, latency, usage
) STRICT;
CREATE INDEX runs_by_start ON runs (started_at);
