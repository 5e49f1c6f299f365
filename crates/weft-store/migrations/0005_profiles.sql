-- Environment profiles (dev, prod…): the same connection name reaches another endpoint and key
-- under another profile. Names may not contain `/` or `@`, which the keychain account of an
-- override uses as separators (see below).
CREATE TABLE profiles (
    name       TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
    created_at INTEGER NOT NULL  -- Unix milliseconds
) STRICT;

-- What a profile changes in a connection. Like `connections`, no secret value is here: an
-- overridden secret lives in the OS keychain under the account "<connection id>@<profile>/<key>",
-- which cannot collide with the connection's own "<id>/<key>". Its keychain intents name
-- "<connection id>@<profile>" as their connection_id, so a crash's leftovers are swept like the
-- connection's own.
CREATE TABLE connection_overrides (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    profile       TEXT NOT NULL REFERENCES profiles (name) ON DELETE CASCADE,
    config        TEXT NOT NULL,  -- JSON object of the plain fields the profile sets
    secret_keys   TEXT NOT NULL,  -- JSON array of the secret fields the profile sets
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (connection_id, profile)
) STRICT;
CREATE INDEX connection_overrides_by_profile ON connection_overrides (profile);

-- The profile the desktop app runs with; no row: none. One row at most.
CREATE TABLE active_profile (
    slot    INTEGER PRIMARY KEY CHECK (slot = 1),
    profile TEXT NOT NULL REFERENCES profiles (name) ON DELETE CASCADE
) STRICT;

-- The profile each run was started with; NULL: none (and every run from before profiles).
ALTER TABLE runs ADD COLUMN profile TEXT;
