//! Undoing the keychain half of a change whose other half failed, and putting back what a
//! failed delete removed. Each step says, as a [`Rollback`], how far it got.

use std::collections::BTreeMap;

use super::intents::delete_intents;
use super::records::insert_row;
use super::{
    ConnectionError, ConnectionRecord, Connections, OverrideRecord, Rollback, account,
    keychain_failed, overrides,
};
use crate::Secret;

impl Connections<'_> {
    pub(super) fn snapshot<'k>(
        &self,
        id: &str,
        keys: impl Iterator<Item = &'k String>,
    ) -> Result<BTreeMap<String, Secret>, ConnectionError> {
        let mut values = BTreeMap::new();
        for key in keys {
            if let Some(value) = self
                .keychain
                .get(&account(id, key))
                .map_err(keychain_failed)?
            {
                values.insert(key.clone(), Secret::new(value));
            }
        }
        Ok(values)
    }

    /// Writes the secrets; on a failure, undoes the ones written and clears `intents` as far as
    /// the undo went.
    pub(super) fn write_secrets(
        &self,
        id: &str,
        secrets: &BTreeMap<String, Secret>,
        undo: &BTreeMap<String, Secret>,
        intents: &[&String],
    ) -> Result<(), ConnectionError> {
        for (index, (key, secret)) in secrets.iter().enumerate() {
            if let Err(source) = self.keychain.set(&account(id, key), secret.expose()) {
                let written: Vec<&String> = secrets.keys().take(index).collect();
                let rollback = self.undo_writes(id, &written, undo, intents);
                return Err(ConnectionError::Keychain { source, rollback });
            }
        }
        Ok(())
    }

    /// Puts written secrets back as they were (the old value, or no entry), then clears those of
    /// `intents` whose entry is as before. An intent whose undo failed stays, so a later start
    /// removes the entry.
    pub(super) fn undo_writes(
        &self,
        id: &str,
        written: &[&String],
        undo: &BTreeMap<String, Secret>,
        intents: &[&String],
    ) -> Rollback {
        let mut failed = Vec::new();
        let mut reason = None;
        for key in written {
            let account = account(id, key);
            let result = match undo.get(*key) {
                Some(old) => self.keychain.set(&account, old.expose()),
                None => self.keychain.delete(&account).map(drop),
            };
            if let Err(err) = result {
                tracing::warn!(%account, "could not undo a keychain change: {err}");
                failed.push((*key).clone());
                reason.get_or_insert(err.to_string());
            }
        }
        let settled: Vec<&String> = intents
            .iter()
            .copied()
            .filter(|key| !failed.contains(*key))
            .collect();
        self.clear_intents(id, &settled);
        match reason {
            None => Rollback::Complete,
            Some(reason) => {
                let (left_over, overwritten) =
                    failed.into_iter().partition(|key| intents.contains(&key));
                Rollback::KeychainNotRestored {
                    left_over,
                    overwritten,
                    reason,
                }
            }
        }
    }

    /// Undoes a delete whose keychain half failed: first the row, which needs only the database,
    /// then the secrets already deleted, which need the keychain that just failed.
    pub(super) fn undelete(
        &self,
        record: &ConnectionRecord,
        overrides: &[OverrideRecord],
        undo: &BTreeMap<String, Secret>,
        deleted: &[&String],
    ) -> Rollback {
        let keys: Vec<&String> = record.secret_keys.iter().collect();
        let restored = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            insert_row(&tx, record)?;
            // The entries are the connection's again, not leftovers for a cleanup to remove.
            delete_intents(&tx, &record.id, &keys)?;
            overrides::restore_overrides(&tx, overrides)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = restored {
            // The intents stay, so a later start removes the entries the delete did not reach.
            return Rollback::StaysDeleted {
                reason: err.to_string(),
            };
        }
        let mut lost = Vec::new();
        let mut reason = None;
        for key in deleted {
            if let Some(value) = undo.get(*key)
                && let Err(err) = self.keychain.set(&account(&record.id, key), value.expose())
            {
                lost.push((*key).clone());
                reason.get_or_insert(err.to_string());
            }
        }
        match reason {
            None => Rollback::Complete,
            Some(reason) => Rollback::SecretsLost { keys: lost, reason },
        }
    }

    /// Deletes entries no longer used; one that fails keeps its intent for a later cleanup.
    pub(super) fn forget(&self, id: &str, keys: &[&String]) {
        let mut gone = Vec::new();
        for key in keys {
            match self.keychain.delete(&account(id, key)) {
                Ok(_) => gone.push(*key),
                Err(err) => {
                    tracing::warn!("could not delete an unused keychain entry yet: {err}")
                }
            }
        }
        self.clear_intents(id, &gone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::store::fixture::{Fixture, custom, fixture, foundry};
    use crate::connections::store::intents::INTENT_GRACE_MS;
    use crate::connections::store::{Saved, now_ms};

    /// A saved custom connection `svc` with two secrets, `a` (sa) and `b` (sb).
    fn svc_with_two_secrets(f: &Fixture) -> Saved {
        f.connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap()
    }

    /// The value the keychain holds for `record`'s secret `key`.
    fn secret_of(f: &Fixture, record: &ConnectionRecord, key: &str) -> String {
        f.connections()
            .secret(record, key)
            .unwrap()
            .expose()
            .to_owned()
    }

    #[test]
    fn a_failed_keychain_write_rolls_back_the_whole_create() {
        let f = fixture();
        f.keychain.fail_next("/b");
        let err = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(text.contains("locked"), "{text}");
        assert!(f.db().connections().unwrap().is_empty());
        assert_eq!(f.intents(), 0);
        // The first secret, already written, was removed again: the create can simply be retried.
        let saved = svc_with_two_secrets(&f);
        assert_eq!(secret_of(&f, &saved.record, "b"), "sb");
    }

    #[test]
    fn a_failed_keychain_write_leaves_the_update_undone() {
        let f = fixture();
        f.connections()
            .create(custom("svc", &[("a", "old-a"), ("b", "old-b")]))
            .unwrap();
        f.keychain.fail_next("/b");
        let err = f
            .connections()
            .update("svc", custom("svc-2", &[("a", "new-a"), ("b", "new-b")]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConnectionError::Keychain {
                    rollback: Rollback::Complete,
                    ..
                }
            ),
            "{err:?}"
        );
        let record = f.db().connection("svc").unwrap();
        assert_eq!(secret_of(&f, &record, "a"), "old-a");
        assert_eq!(secret_of(&f, &record, "b"), "old-b");
    }

    #[test]
    fn a_failed_keychain_delete_restores_the_connection() {
        let f = fixture();
        let saved = svc_with_two_secrets(&f);
        f.keychain.fail_next("/b");
        let err = f.connections().delete("svc").unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        let record = f.db().connection("svc").unwrap();
        assert_eq!(record, saved.record);
        assert_eq!(secret_of(&f, &record, "a"), "sa");
        assert_eq!(secret_of(&f, &record, "b"), "sb");
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn a_failed_delete_puts_the_row_back_even_when_the_keychain_stays_locked() {
        let f = fixture();
        let saved = svc_with_two_secrets(&f);
        // `a` is deleted, `b` fails, and writing `a` back fails too: the keychain is locked.
        f.keychain.fail_next("/b");
        f.keychain.fail_next("/a");
        let err = f.connections().delete("svc").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("nothing was changed"), "{text}");
        assert!(
            text.contains("the connection was put back, but `a` had already been deleted"),
            "{text}"
        );
        assert_eq!(f.db().connection("svc").unwrap(), saved.record);
        assert_eq!(secret_of(&f, &saved.record, "b"), "sb");
        assert!(matches!(
            f.connections().secret(&saved.record, "a"),
            Err(ConnectionError::MissingSecret { .. })
        ));
        // The entries are the connection's again: a cleanup must not remove `b`.
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_undo_that_fails_keeps_its_intent_and_says_so() {
        let f = fixture();
        // `a` is written, `b` fails, and removing `a` again fails too.
        f.keychain.fail_next("/b");
        f.keychain.fail_next("/a");
        let err = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("nothing was changed"), "{text}");
        assert!(
            text.contains("Weft removes the new entries for `a` on a later start"),
            "{text}"
        );
        assert!(f.db().connections().unwrap().is_empty());
        let left = f.intent_accounts();
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].ends_with("/a"), "{left:?}");
        assert_eq!(f.keychain.get(&left[0]).unwrap().as_deref(), Some("sa"));
        // The promise holds: a later start removes it.
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain.get(&left[0]).unwrap(), None);
    }

    #[test]
    fn a_failed_commit_undoes_the_keychain_and_clears_its_intents() {
        let f = fixture();
        f.fail_inserts();
        let err = f
            .connections()
            .create(foundry("azure-ai", "sk-x"))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("injected failure"), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn a_failed_commit_whose_undo_fails_keeps_its_intent_and_says_so() {
        let f = fixture();
        f.fail_inserts();
        f.keychain.fail_next_delete("/api_key");
        let err = f
            .connections()
            .create(foundry("azure-ai", "sk-x"))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("could not save the change in the database"),
            "{text}"
        );
        assert!(!text.contains("nothing was changed"), "{text}");
        assert!(
            text.contains("Weft removes the new entries for `api_key`"),
            "{text}"
        );
        let left = f.intent_accounts();
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(f.keychain.get(&left[0]).unwrap().as_deref(), Some("sk-x"));
    }
}
