//! The keychain intent protocol (ADR 2): each keychain write is announced by a row naming the
//! writer's process and time, cleared in the commit that makes the entry part of a connection,
//! so a crash's leftovers are removed on a later start, and only when the intent is old or its
//! process gone, so the app and the CLI never remove each other's writes in flight.

use rusqlite::params;

use super::{ConnectionError, Connections, account, now_ms};
use crate::Database;

/// How long an intent shields its keychain entry from another process's cleanup. A create or an
/// update commits within milliseconds of its keychain write (unless an unlock prompt holds the
/// write up, and then the cleanup's delete waits on the same prompt or finds nothing yet), so ten
/// minutes only delays removing a crash's leftovers when the crashed process's id lives on.
pub(super) const INTENT_GRACE_MS: i64 = 10 * 60 * 1000;

/// A row of `secret_intents`: a keychain entry that is, or may soon be, not part of a connection.
struct Intent {
    account: String,
    connection_id: String,
    key: String,
    created_at_ms: i64,
    pid: i64,
}

impl Intent {
    fn is_stale(&self, now: i64) -> bool {
        now.saturating_sub(self.created_at_ms) >= INTENT_GRACE_MS || process_gone(self.pid)
    }
}

/// Whether the process that recorded an intent has exited. This process never has; elsewhere
/// only Linux can tell without a platform API (`/proc`), so other systems rely on the grace
/// period alone. A reused process id reads as alive, which only delays a cleanup.
fn process_gone(pid: i64) -> bool {
    if pid == i64::from(std::process::id()) {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

impl Database {
    /// Whether a keychain write was in flight when a Weft process stopped: an intent whose
    /// process is gone, or that is older than the grace period. Other intents may be writes a
    /// running process has in flight.
    pub fn has_stale_secret_intents(&self) -> Result<bool, ConnectionError> {
        Ok(!self.stale_intents(now_ms())?.is_empty())
    }

    fn stale_intents(&self, now: i64) -> Result<Vec<Intent>, ConnectionError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT account, connection_id, key, created_at, pid FROM secret_intents")?;
        let intents: Vec<Intent> = stmt
            .query_map([], |row| {
                Ok(Intent {
                    account: row.get(0)?,
                    connection_id: row.get(1)?,
                    key: row.get(2)?,
                    created_at_ms: row.get(3)?,
                    pid: row.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(intents
            .into_iter()
            .filter(|intent| intent.is_stale(now))
            .collect())
    }
}

impl Connections<'_> {
    /// Deletes keychain entries that a crash left behind (written, but never part of a saved
    /// connection, or dropped from one). Intents another running process may still commit are
    /// left alone. Returns how many entries were removed.
    pub fn clean_up_orphans(&self) -> Result<usize, ConnectionError> {
        self.clean_up_orphans_as_of(now_ms())
    }

    pub(super) fn clean_up_orphans_as_of(&self, now: i64) -> Result<usize, ConnectionError> {
        let stale: Vec<(Intent, bool)> = {
            let db = self.db()?;
            db.stale_intents(now)?
                .into_iter()
                .map(|intent| {
                    let in_use = db.uses_secret(&intent.connection_id, &intent.key)?;
                    Ok((intent, in_use))
                })
                .collect::<Result<_, ConnectionError>>()?
        };
        let mut removed = 0;
        for (intent, in_use) in stale {
            if !in_use {
                match self.keychain.delete(&intent.account) {
                    Ok(true) => removed += 1,
                    Ok(false) => {}
                    Err(err) => {
                        // Stop here: a locked keychain would fail (or prompt) for every entry.
                        tracing::warn!(
                            removed,
                            "could not remove a left-over keychain entry; the rest stay until a later start: {err}"
                        );
                        return Ok(removed);
                    }
                }
            }
            // Only the row as it was read: one rewritten since belongs to a newer write.
            self.db()?.conn().execute(
                "DELETE FROM secret_intents WHERE account = ?1 AND created_at = ?2 AND pid = ?3",
                params![intent.account, intent.created_at_ms, intent.pid],
            )?;
        }
        Ok(removed)
    }

    pub(super) fn clear_intents(&self, id: &str, keys: &[&String]) {
        if keys.is_empty() {
            return;
        }
        let cleared = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            delete_intents(&tx, id, keys)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = cleared {
            tracing::warn!(
                "could not clear keychain intents; a later start checks them again: {err}"
            );
        }
    }
}

pub(super) fn record_intents(
    db: &mut Database,
    id: &str,
    keys: &[&String],
) -> Result<(), ConnectionError> {
    let tx = db.conn_mut().transaction()?;
    for key in keys {
        insert_intent(&tx, id, key)?;
    }
    tx.commit()?;
    Ok(())
}

/// Records (or renews) an intent as this process's, now.
pub(super) fn insert_intent(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    key: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO secret_intents (account, connection_id, key, created_at, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account(id, key), id, key, now_ms(), std::process::id()],
    )
    .map(drop)
}

pub(super) fn delete_intents(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    keys: &[&String],
) -> rusqlite::Result<()> {
    for key in keys {
        tx.execute(
            "DELETE FROM secret_intents WHERE account = ?1",
            [account(id, key)],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    use super::*;
    use crate::connections::store::fixture::{DEAD_PID, fixture, foundry, foundry_with};

    #[test]
    fn entries_left_by_a_crash_are_cleaned_up_and_live_ones_kept() {
        let f = fixture();
        let live = f.connections().create(foundry("live", "keep-me")).unwrap();
        // A crash between the keychain write and the SQLite commit leaves an intent and an entry;
        // this one is old and its process is gone.
        f.keychain.set("dead-id/api_key", "orphan").unwrap();
        f.add_intent("dead-id", "api_key", 0, DEAD_PID);
        f.add_intent(&live.record.id, "api_key", 0, DEAD_PID);
        assert!(f.db().has_stale_secret_intents().unwrap());
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get("dead-id/api_key").unwrap(), None);
        assert_eq!(
            f.connections()
                .secret(&live.record, "api_key")
                .unwrap()
                .expose(),
            "keep-me"
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_intent_from_before_owners_were_recorded_is_a_leftover() {
        let f = fixture();
        f.keychain.set("old-id/api_key", "orphan").unwrap();
        // As Weft wrote intents before migration 0004: no time, no process.
        f.db()
            .conn()
            .execute(
                "INSERT INTO secret_intents (account, connection_id, key) VALUES ('old-id/api_key', 'old-id', 'api_key')",
                [],
            )
            .unwrap();
        assert!(f.db().has_stale_secret_intents().unwrap());
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get("old-id/api_key").unwrap(), None);
    }

    #[test]
    fn a_fresh_intent_of_a_running_process_is_left_to_that_process() {
        let f = fixture();
        // Another Weft process (here: this one, which is certainly running) has recorded its
        // intent and written the secret, and is about to commit the connection.
        f.keychain.set("in-flight/api_key", "theirs").unwrap();
        f.add_intent(
            "in-flight",
            "api_key",
            now_ms(),
            i64::from(std::process::id()),
        );
        assert!(!f.db().has_stale_secret_intents().unwrap());
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 0);
        assert_eq!(
            f.keychain.get("in-flight/api_key").unwrap().as_deref(),
            Some("theirs")
        );
        assert_eq!(f.intents(), 1);

        // Past the grace period it counts as a crash's leftover, even from a live process id.
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain.get("in-flight/api_key").unwrap(), None);
        assert_eq!(f.intents(), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_intent_of_an_exited_process_is_cleaned_at_once_and_a_running_ones_kept() {
        let f = fixture();
        f.keychain.set("crashed/api_key", "orphan").unwrap();
        f.add_intent("crashed", "api_key", now_ms(), DEAD_PID);
        // pid 1 (init) runs for as long as the machine does.
        f.keychain.set("running/api_key", "theirs").unwrap();
        f.add_intent("running", "api_key", now_ms(), 1);
        assert_eq!(f.connections().clean_up_orphans().unwrap(), 1);
        assert_eq!(f.keychain.get("crashed/api_key").unwrap(), None);
        assert_eq!(
            f.keychain.get("running/api_key").unwrap().as_deref(),
            Some("theirs")
        );
        assert_eq!(f.intent_accounts(), ["running/api_key"]);
    }

    #[test]
    fn a_create_in_another_process_survives_this_ones_cleanup() {
        let f = fixture();
        // Process B opens the same database file, with the same keychain, and cleans up while
        // process A (this fixture) is between its keychain write and its commit.
        let other = Mutex::new(Database::open(&f.dir.path().join("weft.sqlite3"), "test").unwrap());
        let draft = foundry("azure-ai", "sk-in-flight");
        let valid = draft.validate(&BTreeSet::new()).unwrap();
        let id = "a-new-id";
        record_intents(
            &mut f.db(),
            id,
            &valid.new_secrets.keys().collect::<Vec<_>>(),
        )
        .unwrap();
        f.keychain
            .set(&account(id, "api_key"), "sk-in-flight")
            .unwrap();
        assert_eq!(
            Connections::new(&other, &f.keychain)
                .clean_up_orphans()
                .unwrap(),
            0
        );
        assert_eq!(
            f.keychain.get(&account(id, "api_key")).unwrap().as_deref(),
            Some("sk-in-flight")
        );
    }

    #[test]
    fn a_key_that_cannot_be_deleted_on_the_switch_to_entra_is_cleaned_up_later() {
        let f = fixture();
        let saved = f.connections().create(foundry("c", "sk-old")).unwrap();
        f.keychain.fail_next_delete("/api_key");
        f.connections()
            .update("c", foundry_with("c", &[("auth_mode", "meid_token")], ""))
            .unwrap();
        let key = account(&saved.record.id, "api_key");
        assert_eq!(f.intent_accounts(), [key]);
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain_accounts(), Vec::<String>::new());
    }
}
