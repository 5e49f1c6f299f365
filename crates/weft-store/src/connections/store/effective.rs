//! A connection as a profile sees it: the connection's fields, then the profile's, then (when
//! it is resolved for a call) each `${env:VAR}` read from the process's environment.

use std::collections::BTreeSet;

use super::errors::join_problems;
use super::overrides::OverrideRecord;
use super::profiles::owner;
use super::{ConnectionRecord, Connections, ProfileError, account, keychain_failed};
use crate::connections::draft::{Draft, SecretInput, remote_plain_http};
use crate::connections::env::{self, EnvError};
use crate::connections::kind::FieldInput;
use crate::{Database, Secret};

/// A connection as a profile sees it: the connection's fields, then the profile's. `${env:…}`
/// references are still as written until [`Effective::resolve_env`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// The merged connection: its own id and name, the fields in effect, every secret key.
    pub record: ConnectionRecord,
    pub profile: Option<String>,
    /// The fields (plain and secret) whose value comes from the profile.
    pub from_profile: BTreeSet<String>,
    /// The secrets whose value comes from the profile's keychain entries.
    override_secrets: BTreeSet<String>,
}

impl Effective {
    /// The connection with no profile.
    pub(super) fn base(record: ConnectionRecord) -> Self {
        Self {
            record,
            profile: None,
            from_profile: BTreeSet::new(),
            override_secrets: BTreeSet::new(),
        }
    }

    pub(super) fn merge(
        base: ConnectionRecord,
        profile: String,
        over: Option<OverrideRecord>,
    ) -> Self {
        let mut effective = Self::base(base);
        effective.profile = Some(profile);
        if let Some(over) = over {
            effective.from_profile = over
                .config
                .keys()
                .chain(&over.secret_keys)
                .cloned()
                .collect();
            effective.record.config.extend(over.config);
            effective
                .record
                .secret_keys
                .extend(over.secret_keys.iter().cloned());
            effective.override_secrets = over.secret_keys;
        }
        effective
    }

    /// Reads every `${env:VAR}` of the plain fields with `lookup`, then checks the result as a
    /// saved connection is checked (a URL must still be one). Nothing resolved is stored.
    pub fn resolve_env(
        mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ProfileError> {
        let written = self.record.config.clone();
        if !written.values().any(|value| env::mentions_env(value)) {
            return Ok(self);
        }
        let resolved = env::resolve(&self.record.name, &written, lookup)?;
        let draft = Draft {
            name: self.record.name.clone(),
            kind: self.record.kind,
            config: resolved,
            secrets: self
                .record
                .secret_keys
                .iter()
                .map(|key| (key.clone(), SecretInput::Keep))
                .collect(),
        };
        let valid = draft
            .validate(&self.record.secret_keys)
            .map_err(|problems| {
                let field = problems
                    .iter()
                    .find_map(|problem| problem.field.clone())
                    .unwrap_or_default();
                EnvError::Invalid {
                    connection: self.record.name.clone(),
                    written: written.get(&field).cloned().unwrap_or_default(),
                    field,
                    message: join_problems(&problems),
                }
            })?;
        let spec = self.record.kind.spec();
        for (field, written) in &written {
            let is_url = spec
                .field(field)
                .is_some_and(|spec| spec.input == FieldInput::Url);
            let Some(url) = valid
                .config
                .get(field)
                .filter(|_| is_url && env::mentions_env(written))
            else {
                continue;
            };
            if let Some(host) = remote_plain_http(url) {
                return Err(EnvError::PlainHttp {
                    connection: self.record.name.clone(),
                    field: field.clone(),
                    written: written.clone(),
                    host,
                }
                .into());
            }
        }
        self.record.config = valid.config;
        Ok(self)
    }
}

impl Database {
    /// The connection called `name` as `profile` sees it (`None`: as saved).
    pub fn effective_connection(
        &self,
        name: &str,
        profile: Option<&str>,
    ) -> Result<Effective, ProfileError> {
        let base = self.connection(name)?;
        let Some(profile) = profile else {
            return Ok(Effective::base(base));
        };
        let profile = self.profile(profile)?;
        let over = self.override_of(&base.id, &profile)?;
        Ok(Effective::merge(base, profile, over))
    }
}

impl Connections<'_> {
    /// The value of one secret of a connection as its profile sees it.
    pub fn effective_secret(
        &self,
        effective: &Effective,
        key: &str,
    ) -> Result<Secret, ProfileError> {
        match &effective.profile {
            Some(profile) if effective.override_secrets.contains(key) => self
                .keychain
                .get(&account(&owner(&effective.record.id, profile), key))
                .map_err(keychain_failed)?
                .map(Secret::new)
                .ok_or_else(|| ProfileError::MissingSecret {
                    name: effective.record.name.clone(),
                    profile: profile.clone(),
                    key: key.to_owned(),
                }),
            _ => Ok(self.secret(&effective.record, key)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::store::fixture::{
        DEV, DEV_KEY, PROD, PROD_KEY, contains, fixture, foundry_at, prod_account,
    };

    #[test]
    fn a_profile_reaches_its_own_endpoint_with_its_own_key() {
        let f = fixture();
        let base = f.dev_and_prod();
        let prod = f.effective(Some("PROD"));
        assert_eq!(prod.profile.as_deref(), Some("prod"));
        assert_eq!(
            prod.record.config["endpoint"], PROD,
            "normalised like a saved one"
        );
        assert_eq!(
            prod.from_profile,
            BTreeSet::from(["api_key".to_owned(), "endpoint".to_owned()])
        );
        assert_eq!(f.key(Some("prod")), PROD_KEY);

        let dev = f.effective(None);
        assert_eq!(dev.record.config["endpoint"], DEV);
        assert!(dev.from_profile.is_empty());
        assert_eq!(f.key(None), DEV_KEY);

        assert_eq!(
            f.keychain.get(&prod_account(&base)).unwrap().as_deref(),
            Some(PROD_KEY)
        );
        assert_eq!(
            f.keychain
                .get(&account(&base.id, "api_key"))
                .unwrap()
                .as_deref(),
            Some(DEV_KEY)
        );
        assert!(f.intent_accounts().is_empty());
        let disk = f.disk_bytes();
        assert!(!contains(&disk, PROD_KEY) && !contains(&disk, DEV_KEY));
        assert!(contains(&disk, "prod.services.ai.azure.com"), "sanity");
    }

    #[test]
    fn a_profile_without_an_override_sees_the_connection_and_an_unknown_one_is_refused() {
        let f = fixture();
        f.dev_and_prod();
        f.db().create_profile("staging").unwrap();
        let staging = f.effective(Some("staging"));
        assert_eq!(staging.record.config["endpoint"], DEV);
        assert_eq!(f.key(Some("staging")), DEV_KEY);
        let err = f
            .db()
            .effective_connection("azure-ai", Some("qa"))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("create it with `weft profile create qa`"),
            "{err}"
        );
    }

    #[test]
    fn env_references_are_saved_as_written_and_resolved_when_used() {
        let f = fixture();
        f.connections()
            .create(foundry_at("azure-ai", "${env:WEFT_T_ENDPOINT}", DEV_KEY))
            .unwrap();
        let written = f.effective(None);
        assert_eq!(written.record.config["endpoint"], "${env:WEFT_T_ENDPOINT}");
        assert!(!contains(&f.disk_bytes(), "resolved.services"));

        let lookup = |var: &str| {
            (var == "WEFT_T_ENDPOINT")
                .then(|| "https://resolved.services.ai.azure.com/models/".into())
        };
        let resolved = f.effective(None).resolve_env(&lookup).unwrap();
        assert_eq!(
            resolved.record.config["endpoint"],
            "https://resolved.services.ai.azure.com/models"
        );

        let missing = f.effective(None).resolve_env(&|_| None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "connection `azure-ai`'s endpoint reads ${env:WEFT_T_ENDPOINT}, which is not set; set it, or edit the connection"
        );
        let remote_http = f
            .effective(None)
            .resolve_env(&|_| Some("http://gateway.example.com/models".into()))
            .unwrap_err();
        assert_eq!(
            remote_http.to_string(),
            "connection `azure-ai`'s endpoint is written as `${env:WEFT_T_ENDPOINT}`, which reads the environment and gives plain http to gateway.example.com: the API key would cross the network unencrypted; set the variable to an https:// URL (http:// is accepted only for this machine and your own network)"
        );
        let local = f
            .effective(None)
            .resolve_env(&|_| Some("http://127.0.0.1:8080/models".into()))
            .unwrap();
        assert_eq!(
            local.record.config["endpoint"],
            "http://127.0.0.1:8080/models"
        );
        let not_a_url = f
            .effective(None)
            .resolve_env(&|_| Some("ftp://nope.example".into()))
            .unwrap_err();
        let text = not_a_url.to_string();
        assert!(
            text.contains("`${env:WEFT_T_ENDPOINT}`") && text.contains("not supported"),
            "{text}"
        );
    }
}
