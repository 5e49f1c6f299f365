//! Creating, updating and deleting connections, atomically across SQLite and the keychain.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;

use super::intents::{delete_intents, insert_intent, record_intents};
use super::records::{insert_row, to_json};
use super::{
    ConnectionError, ConnectionRecord, Connections, Saved, account, not_saved, now_ms, overrides,
};
use crate::connections::draft::{Draft, Problem};

impl Connections<'_> {
    pub fn create(&self, draft: Draft) -> Result<Saved, ConnectionError> {
        let valid = draft
            .validate(&BTreeSet::new())
            .map_err(ConnectionError::Invalid)?;
        let now = now_ms();
        let record = ConnectionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: valid.name,
            kind: valid.kind,
            config: valid.config,
            secret_keys: valid.secret_keys,
            created_at_ms: now,
            updated_at_ms: now,
        };
        let keys: Vec<&String> = valid.new_secrets.keys().collect();
        {
            let mut db = self.db()?;
            if db.find_connection(&record.name)?.is_some() {
                return Err(ConnectionError::NameTaken(record.name));
            }
            record_intents(&mut db, &record.id, &keys)?;
        }
        let nothing = BTreeMap::new(); // no entry existed before
        self.write_secrets(&record.id, &valid.new_secrets, &nothing, &keys)?;
        let committed = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            insert_row(&tx, &record)?;
            delete_intents(&tx, &record.id, &keys)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(err) = committed {
            let rollback = self.undo_writes(&record.id, &keys, &nothing, &keys);
            return Err(not_saved(err, &record.name, rollback));
        }
        Ok(Saved {
            record,
            warnings: valid.warnings,
        })
    }

    /// Updates the connection called `name` (the draft may rename it). The type cannot change.
    pub fn update(&self, name: &str, draft: Draft) -> Result<Saved, ConnectionError> {
        let (existing, valid) = {
            let db = self.db()?;
            let existing = db.connection(name)?;
            if draft.kind != existing.kind {
                return Err(ConnectionError::Invalid(vec![Problem {
                    field: Some("type".into()),
                    message: format!(
                        "`{}` is a {} connection and its type cannot change; create a new {} connection instead",
                        existing.name, existing.kind, draft.kind
                    ),
                }]));
            }
            let valid = draft
                .validate(&existing.secret_keys)
                .map_err(ConnectionError::Invalid)?;
            if let Some(other) = db.find_connection(&valid.name)?
                && other.id != existing.id
            {
                return Err(ConnectionError::NameTaken(valid.name));
            }
            (existing, valid)
        };
        let undo = self.snapshot(&existing.id, valid.new_secrets.keys())?;
        let written: Vec<&String> = valid.new_secrets.keys().collect();
        let added: Vec<&String> = written
            .iter()
            .copied()
            .filter(|key| !existing.secret_keys.contains(*key))
            .collect();
        record_intents(&mut *self.db()?, &existing.id, &added)?;
        self.write_secrets(&existing.id, &valid.new_secrets, &undo, &added)?;

        let removed: Vec<&String> = existing
            .secret_keys
            .difference(&valid.secret_keys)
            .collect();
        let record = ConnectionRecord {
            name: valid.name,
            config: valid.config,
            secret_keys: valid.secret_keys.clone(),
            updated_at_ms: now_ms(),
            ..existing.clone()
        };
        let config = to_json(&record.config)?;
        let secret_keys = to_json(&record.secret_keys)?;
        let committed = self.db().and_then(|mut db| {
            let tx = db.conn_mut().transaction()?;
            let changed = tx.execute(
                "UPDATE connections SET name = ?2, config = ?3, secret_keys = ?4, updated_at = ?5 WHERE id = ?1",
                params![record.id, record.name, config, secret_keys, record.updated_at_ms],
            )?;
            if changed == 0 {
                return Err(ConnectionError::NotFound(existing.name.clone()));
            }
            // Only this update's intents: one left by an earlier removal that could not finish
            // stays until its entry is gone.
            delete_intents(&tx, &record.id, &added)?;
            // Secrets the update drops are deleted after the commit; until then an intent marks them.
            for key in &removed {
                insert_intent(&tx, &record.id, key)?;
            }
            tx.commit()?;
            Ok(())
        });
        match committed {
            Ok(()) => {}
            Err(err @ ConnectionError::NotFound(_)) => {
                // Deleted meanwhile (by another window or process): putting old values back
                // would leave entries of a connection that is gone, so remove what was written.
                record_intents(&mut *self.db()?, &existing.id, &written)?;
                self.forget(&existing.id, &written);
                return Err(err);
            }
            Err(err) => {
                let rollback = self.undo_writes(&existing.id, &written, &undo, &added);
                return Err(not_saved(err, &record.name, rollback));
            }
        }
        self.forget(&record.id, &removed);
        Ok(Saved {
            record,
            warnings: valid.warnings,
        })
    }

    /// Deletes the connection and its keychain entries.
    pub fn delete(&self, name: &str) -> Result<ConnectionRecord, ConnectionError> {
        let existing = self.db()?.connection(name)?;
        let keys: Vec<&String> = existing.secret_keys.iter().collect();
        let undo = self.snapshot(&existing.id, keys.iter().copied())?;
        let overrides = {
            let mut db = self.db()?;
            let tx = db.conn_mut().transaction()?;
            // Deleting the row deletes its profiles' overrides too; their entries go last.
            let overrides = overrides::overrides_of(&tx, &existing.id)?;
            if tx.execute("DELETE FROM connections WHERE id = ?1", [&existing.id])? == 0 {
                return Err(ConnectionError::NotFound(existing.name));
            }
            for key in &keys {
                insert_intent(&tx, &existing.id, key)?;
            }
            overrides::intend_override_removal(&tx, &overrides)?;
            tx.commit()?;
            overrides
        };
        for (index, key) in keys.iter().enumerate() {
            if let Err(source) = self.keychain.delete(&account(&existing.id, key)) {
                let rollback = self.undelete(&existing, &overrides, &undo, &keys[..index]);
                return Err(ConnectionError::Keychain { source, rollback });
            }
        }
        self.clear_intents(&existing.id, &keys);
        self.forget_overrides(&overrides);
        Ok(existing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::kind::AuthMode;
    use crate::connections::store::fixture::{contains, custom, fixture, foundry, foundry_with};
    use crate::connections::store::intents::INTENT_GRACE_MS;

    #[test]
    fn create_keeps_the_secret_in_the_keychain_only() {
        let f = fixture();
        let secret = "sk-unique-7d1f0c9e2b";
        let saved = f.connections().create(foundry("azure-ai", secret)).unwrap();
        assert_eq!(
            saved.record.secret_keys,
            BTreeSet::from(["api_key".to_owned()])
        );
        assert_eq!(
            f.connections()
                .secret(&saved.record, "api_key")
                .unwrap()
                .expose(),
            secret
        );
        assert_eq!(f.db().connection("AZURE-AI").unwrap(), saved.record);
        assert!(
            !contains(&f.disk_bytes(), secret),
            "the secret reached the SQLite files"
        );
        assert!(
            contains(&f.disk_bytes(), "r.services.ai.azure.com"),
            "sanity: the plain fields are there"
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_entra_connection_makes_no_keychain_entry() {
        let f = fixture();
        let saved = f
            .connections()
            .create(foundry_with("entra", &[("auth_mode", "meid_token")], ""))
            .unwrap();
        assert!(saved.record.secret_keys.is_empty());
        assert_eq!(saved.record.auth_mode(), AuthMode::MeidToken);
        assert_eq!(f.keychain_accounts(), Vec::<String>::new());
        assert_eq!(f.intents(), 0);
        // Sanity: the listing sees a key connection's entry.
        let keyed = f.connections().create(foundry("keyed", "sk-1")).unwrap();
        assert_eq!(
            f.keychain_accounts(),
            [account(&keyed.record.id, "api_key")]
        );
    }

    #[test]
    fn switching_to_entra_deletes_the_key_and_switching_back_needs_a_new_one() {
        let f = fixture();
        let saved = f.connections().create(foundry("c", "sk-old")).unwrap();
        // The form sends the hidden key field as "keep".
        let entra = f
            .connections()
            .update(
                "c",
                foundry_with("c", &[("auth_mode", "meid_token")], "******"),
            )
            .unwrap();
        assert!(entra.record.secret_keys.is_empty());
        assert_eq!(f.keychain_accounts(), Vec::<String>::new());
        assert_eq!(f.intents(), 0);

        let err = f
            .connections()
            .update("c", foundry_with("c", &[("auth_mode", "key")], "******"))
            .unwrap_err();
        assert!(err.to_string().contains("no stored one to keep"), "{err}");
        let keyed = f
            .connections()
            .update("c", foundry_with("c", &[("auth_mode", "key")], "sk-new"))
            .unwrap();
        assert_eq!(
            f.connections()
                .secret(&keyed.record, "api_key")
                .unwrap()
                .expose(),
            "sk-new"
        );
        assert_eq!(
            f.keychain_accounts(),
            [account(&saved.record.id, "api_key")]
        );
    }

    #[test]
    fn names_are_unique_ignoring_case() {
        let f = fixture();
        f.connections().create(foundry("Azure-AI", "k1")).unwrap();
        let err = f
            .connections()
            .create(foundry("azure-ai", "k2"))
            .unwrap_err();
        assert!(matches!(err, ConnectionError::NameTaken(_)), "{err:?}");
        assert_eq!(f.db().connections().unwrap().len(), 1);
    }

    #[test]
    fn update_keeps_masked_secrets_and_survives_a_rename() {
        let f = fixture();
        let saved = f
            .connections()
            .create(foundry("azure-ai", "original"))
            .unwrap();
        let renamed = f
            .connections()
            .update("azure-ai", foundry("prod-ai", "******"))
            .unwrap();
        assert_eq!(renamed.record.id, saved.record.id);
        assert_eq!(renamed.record.name, "prod-ai");
        assert_eq!(
            f.connections()
                .secret(&renamed.record, "api_key")
                .unwrap()
                .expose(),
            "original"
        );
        assert!(matches!(
            f.db().connection("azure-ai"),
            Err(ConnectionError::NotFound(_))
        ));

        let rotated = f
            .connections()
            .update("prod-ai", foundry("prod-ai", "rotated"))
            .unwrap();
        assert_eq!(
            f.connections()
                .secret(&rotated.record, "api_key")
                .unwrap()
                .expose(),
            "rotated"
        );
    }

    #[test]
    fn dropping_a_custom_secret_deletes_its_entry() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("b", "sb")]))
            .unwrap();
        let updated = f
            .connections()
            .update("svc", custom("svc", &[("a", "")]))
            .unwrap();
        assert_eq!(updated.record.secret_keys, BTreeSet::from(["a".to_owned()]));
        assert_eq!(
            f.keychain.get(&account(&saved.record.id, "b")).unwrap(),
            None
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn the_type_of_a_connection_cannot_change() {
        let f = fixture();
        f.connections().create(foundry("c", "k")).unwrap();
        let err = f
            .connections()
            .update("c", custom("c", &[("a", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("its type cannot change"), "{err}");
    }

    #[test]
    fn delete_removes_the_row_and_its_keychain_entries() {
        let f = fixture();
        let saved = f.connections().create(foundry("azure-ai", "k")).unwrap();
        f.connections().delete("azure-ai").unwrap();
        assert!(f.db().connections().unwrap().is_empty());
        assert_eq!(
            f.keychain
                .get(&account(&saved.record.id, "api_key"))
                .unwrap(),
            None
        );
        assert_eq!(f.intents(), 0);
    }

    #[test]
    fn an_update_keeps_a_pending_removal_of_an_earlier_update() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "sa"), ("c", "sc")]))
            .unwrap();
        // Dropping `c` commits, but deleting its entry fails: its intent stays for cleanup.
        f.keychain.fail_next("/c");
        f.connections()
            .update("svc", custom("svc", &[("a", "")]))
            .unwrap();
        let c = account(&saved.record.id, "c");
        assert_eq!(f.intent_accounts(), vec![c.clone()]);
        // An unrelated change must not forget it.
        f.connections()
            .update("svc", custom("svc", &[("a", "rotated"), ("b", "sb")]))
            .unwrap();
        assert_eq!(f.intent_accounts(), vec![c.clone()]);
        let later = now_ms() + INTENT_GRACE_MS;
        assert_eq!(f.connections().clean_up_orphans_as_of(later).unwrap(), 1);
        assert_eq!(f.keychain.get(&c).unwrap(), None);
        let record = f.db().connection("svc").unwrap();
        assert_eq!(
            f.connections().secret(&record, "a").unwrap().expose(),
            "rotated"
        );
        assert_eq!(f.connections().secret(&record, "b").unwrap().expose(), "sb");
    }

    #[test]
    fn an_update_of_a_connection_deleted_meanwhile_leaves_no_entries() {
        let f = fixture();
        let saved = f
            .connections()
            .create(custom("svc", &[("a", "old")]))
            .unwrap();
        // Another window deletes the connection while this update writes its secrets: the
        // trigger does it when the update records its intent for the new key.
        f.db()
            .conn()
            .execute_batch(&format!(
                "CREATE TEMP TRIGGER gone AFTER INSERT ON secret_intents BEGIN DELETE FROM connections WHERE id = '{}'; END;",
                saved.record.id
            ))
            .unwrap();
        let err = f
            .connections()
            .update("svc", custom("svc", &[("a", "new"), ("b", "sb")]))
            .unwrap_err();
        assert!(matches!(err, ConnectionError::NotFound(_)), "{err:?}");
        for key in ["a", "b"] {
            assert_eq!(
                f.keychain.get(&account(&saved.record.id, key)).unwrap(),
                None,
                "{key}"
            );
        }
        assert_eq!(f.intents(), 0);
    }
}
