-- Who recorded each keychain intent, and when. The app and the CLI run side by side and every
-- start cleans up leftovers, so an intent is only a leftover once its process is gone or it is
-- older than a grace period; until then it may be a write still in flight in another process.
-- Intents from before this migration get 0 for both: old and of no process, so cleaned as before.
ALTER TABLE secret_intents ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;  -- Unix milliseconds
ALTER TABLE secret_intents ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
