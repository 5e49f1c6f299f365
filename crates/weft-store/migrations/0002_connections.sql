-- Connections: how to reach a service. Secret values are never here: they live in the OS
-- keychain under the account "<id>/<key>"; `secret_keys` lists which keys have one.
CREATE TABLE connections (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind        TEXT NOT NULL,
    config      TEXT NOT NULL,  -- JSON object of plain fields
    secret_keys TEXT NOT NULL,  -- JSON array of secret field names
    created_at  INTEGER NOT NULL,  -- Unix milliseconds
    updated_at  INTEGER NOT NULL
) STRICT;

-- Keychain writes in flight. A row is committed before its keychain entry is written and removed
-- in the transaction that makes the entry part of a connection, so entries left by a crash can be
-- found and deleted on the next start without listing the keychain (not every store can).
CREATE TABLE secret_intents (
    account       TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL,
    key           TEXT NOT NULL
) STRICT;
