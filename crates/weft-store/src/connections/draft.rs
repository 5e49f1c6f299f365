//! A connection as a user asks to save it (a [`Draft`]), and the checks that make it [`Valid`]:
//! names, choices, secrets to write or keep, and (in `urls`) the URL fields.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use ts_rs::TS;

use super::env;
use super::kind::{ConnectionKind, FieldInput, FieldSpec};
use crate::Secret;

mod urls;
pub(crate) use urls::remote_plain_http;
use urls::{check_fits_kind, check_url, is_v1_base};

const MAX_NAME_CHARS: usize = 64;
const MAX_KEY_CHARS: usize = 64;

/// A secret as a form or a file gives it: a new value, or "keep the stored one". Prompt flow's
/// convention, kept here: an empty value or `******` means keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretInput {
    Keep,
    Set(Secret),
}

impl SecretInput {
    pub fn from_raw(raw: &str) -> Self {
        let value = raw.trim();
        if value.is_empty() || value == Secret::MASK {
            Self::Keep
        } else {
            Self::Set(Secret::new(value))
        }
    }
}

/// What a user asks to save. For `custom`, `config` holds its `configs` and `secrets` its
/// `secrets`; for the other kinds both hold that kind's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    pub kind: ConnectionKind,
    pub config: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretInput>,
}

/// One thing wrong with a draft, tied to the field the form should mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Problem {
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    fn on(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

/// A draft that passed validation: normalised, defaults filled in, warnings collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub name: String,
    pub kind: ConnectionKind,
    pub config: BTreeMap<String, String>,
    /// Every secret key the connection will have once saved.
    pub secret_keys: BTreeSet<String>,
    /// The secrets to write now (new or replaced).
    pub new_secrets: BTreeMap<String, Secret>,
    pub warnings: Vec<String>,
}

impl Draft {
    /// Checks the draft. `stored_secrets` are the keys that already have a secret (on update),
    /// which a `Keep` may refer to.
    pub fn validate(self, stored_secrets: &BTreeSet<String>) -> Result<Valid, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let name = check_name(&self.name).unwrap_or_else(|problem| {
            problems.push(problem);
            String::new()
        });

        let mut config = BTreeMap::new();
        let mut secret_keys = BTreeSet::new();
        let mut new_secrets = BTreeMap::new();

        if self.kind == ConnectionKind::Custom {
            for key in self.config.keys().chain(self.secrets.keys()) {
                if let Err(problem) = check_custom_key(key) {
                    problems.push(problem);
                }
            }
            for key in self
                .config
                .keys()
                .filter(|key| self.secrets.contains_key(*key))
            {
                problems.push(Problem::on(
                    key,
                    format!("`{key}` is both a plain and a secret key; keep one"),
                ));
            }
            problems.extend(
                self.config
                    .iter()
                    .filter_map(|(key, value)| env::check_references(key, value).err()),
            );
            config = self.config;
            for (key, input) in self.secrets {
                take_secret(
                    &key,
                    input,
                    stored_secrets,
                    &mut secret_keys,
                    &mut new_secrets,
                    &mut problems,
                );
            }
        } else {
            let spec = self.kind.spec();
            let expected = || {
                spec.fields
                    .iter()
                    .map(|field| field.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for key in self.config.keys().chain(self.secrets.keys()) {
                let known = spec.fields.iter().find(|field| field.key == key);
                let in_right_map = known.is_some_and(|field| {
                    field.is_secret() == self.secrets.contains_key(key.as_str())
                });
                if !in_right_map {
                    problems.push(Problem::on(
                        key,
                        format!(
                            "unknown field `{key}` for a {} connection; expected {}",
                            self.kind,
                            expected()
                        ),
                    ));
                }
            }
            let mut config_in = self.config;
            let mut secrets_in = self.secrets;
            // Choices first: they decide which of the other fields the connection has.
            for field in spec.fields.iter().filter(|f| f.input == FieldInput::Choice) {
                match take_choice(field, config_in.remove(field.key)) {
                    Ok(value) => {
                        config.insert(field.key.to_owned(), value.to_owned());
                    }
                    Err(problem) => problems.push(problem),
                }
            }
            if self.kind == ConnectionKind::AzureOpenAi
                && config_in
                    .get("api_base")
                    .is_some_and(|base| is_v1_base(base))
            {
                // An …/openai/v1 base can only be called with the v1 API, whatever the form chose.
                config.insert("api".to_owned(), "v1".to_owned());
            }
            let shown = config.clone();
            for field in spec.fields.iter().filter(|f| f.input != FieldInput::Choice) {
                if !spec.shows(field, &shown) {
                    // The only secrets with a rule are the keys of an `auth_mode` choice.
                    if let Some(SecretInput::Set(_)) = secrets_in.remove(field.key) {
                        problems.push(Problem::on(
                            field.key,
                            "Microsoft Entra ID connections store no key; remove it, or choose API key",
                        ));
                    }
                    // A plain field the choices leave out is not saved; a file or the CLI may
                    // give one (and rows saved before the choice existed have one).
                    if let (Some(value), Some(when)) =
                        (config_in.remove(field.key), field.shown_when)
                        && !value.trim().is_empty()
                    {
                        warnings.push(format!(
                            "{} is used only when {} is {}, so it was not saved",
                            field.key, when.field, when.equals
                        ));
                    }
                    continue;
                }
                if field.is_secret() {
                    match secrets_in.remove(field.key) {
                        Some(input) => take_secret(
                            field.key,
                            input,
                            stored_secrets,
                            &mut secret_keys,
                            &mut new_secrets,
                            &mut problems,
                        ),
                        None if stored_secrets.contains(field.key) => {
                            secret_keys.insert(field.key.to_owned());
                        }
                        None => problems.push(Problem::on(
                            field.key,
                            format!("{} is required", field.label),
                        )),
                    }
                    continue;
                }
                let given = config_in
                    .remove(field.key)
                    .map(|value| value.trim().to_owned())
                    .filter(|value| !value.is_empty());
                let value = match (given, field.default) {
                    (Some(value), _) => value,
                    (None, Some(default)) => default.to_owned(),
                    (None, None) if field.required => {
                        problems.push(Problem::on(
                            field.key,
                            format!("{} is required", field.label),
                        ));
                        continue;
                    }
                    (None, None) => continue,
                };
                if let Err(problem) = env::check_references(field.key, &value) {
                    problems.push(problem);
                    continue;
                }
                // A value that reads the environment is checked once resolved, each time it is used.
                let value = if field.input == FieldInput::Url && !env::mentions_env(&value) {
                    match check_url(field.key, &value, &mut warnings) {
                        Ok(url) => url,
                        Err(problem) => {
                            problems.push(problem);
                            continue;
                        }
                    }
                } else {
                    value
                };
                config.insert(field.key.to_owned(), value);
            }
            if let Err(problem) = check_fits_kind(self.kind, &config) {
                problems.push(problem);
            }
        }

        if problems.is_empty() {
            Ok(Valid {
                name,
                kind: self.kind,
                config,
                secret_keys,
                new_secrets,
                warnings,
            })
        } else {
            Err(problems)
        }
    }
}

/// The choice's own spelling of the value given (any case), or its default when none is.
fn take_choice(field: &FieldSpec, given: Option<String>) -> Result<&'static str, Problem> {
    let given = given
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty());
    let Some(given) = given else {
        return field
            .default
            .ok_or_else(|| Problem::on(field.key, format!("{} is required", field.label)));
    };
    field
        .choices
        .iter()
        .find(|choice| choice.value.eq_ignore_ascii_case(&given))
        .map(|choice| choice.value)
        .ok_or_else(|| {
            let allowed = field
                .choices
                .iter()
                .map(|choice| format!("`{}` ({})", choice.value, choice.label))
                .collect::<Vec<_>>()
                .join(", ");
            Problem::on(
                field.key,
                format!(
                    "`{given}` is not a {} value; use one of {allowed}",
                    field.key
                ),
            )
        })
}

fn take_secret(
    key: &str,
    input: SecretInput,
    stored: &BTreeSet<String>,
    keys: &mut BTreeSet<String>,
    new: &mut BTreeMap<String, Secret>,
    problems: &mut Vec<Problem>,
) {
    match input {
        SecretInput::Set(secret) => {
            new.insert(key.to_owned(), secret);
        }
        SecretInput::Keep if stored.contains(key) => {}
        SecretInput::Keep => {
            problems.push(Problem::on(
                key,
                format!("`{key}` needs a value; there is no stored one to keep"),
            ));
            return;
        }
    }
    keys.insert(key.to_owned());
}

fn check_name(raw: &str) -> Result<String, Problem> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(Problem::on(
            "name",
            format!(
                "a connection name has 1 to {MAX_NAME_CHARS} characters (this one has {chars})"
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Problem::on(
            "name",
            "a connection name cannot contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_custom_key(key: &str) -> Result<(), Problem> {
    let valid = !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(Problem::on(
            key,
            format!(
                "`{key}` is not a valid key: use 1 to {MAX_KEY_CHARS} letters, digits, `_`, `-` or `.`"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn draft(
        kind: ConnectionKind,
        config: &[(&str, &str)],
        secrets: &[(&str, &str)],
    ) -> Draft {
        Draft {
            name: "  azure-ai  ".into(),
            kind,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), SecretInput::from_raw(v)))
                .collect(),
        }
    }

    pub(super) fn problems(draft: Draft) -> Vec<Problem> {
        draft.validate(&BTreeSet::new()).unwrap_err()
    }

    #[test]
    fn foundry_connection_is_normalised_and_defaulted() {
        let valid = draft(
            ConnectionKind::AzureAi,
            &[("endpoint", " https://res.services.ai.azure.com/models/ \n")],
            &[("api_key", " k-123 ")],
        )
        .validate(&BTreeSet::new())
        .unwrap();
        assert_eq!(valid.name, "azure-ai");
        assert_eq!(
            valid.config,
            BTreeMap::from([
                (
                    "endpoint".to_owned(),
                    "https://res.services.ai.azure.com/models".to_owned()
                ),
                ("api".to_owned(), "v1".to_owned()),
                ("auth_mode".to_owned(), "key".to_owned()),
            ]),
            "v1 by default, so no api_version"
        );
        assert_eq!(valid.new_secrets["api_key"].expose(), "k-123");
        assert!(valid.warnings.is_empty());
    }

    #[test]
    fn a_v1_base_is_called_with_the_v1_api_whatever_the_form_chose() {
        let valid = draft(
            ConnectionKind::AzureOpenAi,
            &[
                ("api_base", "https://res.openai.azure.com/openai/v1"),
                ("api", "deployments"),
                ("api_version", "2024-10-21"),
            ],
            &[("api_key", "k")],
        )
        .validate(&BTreeSet::new())
        .unwrap();
        assert_eq!(valid.config["api"], "v1");
        assert!(!valid.config.contains_key("api_version"));
    }

    #[test]
    fn choice_values_are_checked_and_the_allowed_ones_listed() {
        let found = problems(draft(
            ConnectionKind::AzureAi,
            &[
                ("endpoint", "https://res.services.ai.azure.com"),
                ("api", "v2"),
                ("auth_mode", "password"),
            ],
            &[("api_key", "k")],
        ));
        let messages: Vec<_> = found.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`v2` is not a api value; use one of `v1` (OpenAI v1 API), `model_inference` (Azure AI Model Inference API (/models, retired))",
                "`password` is not a auth_mode value; use one of `key` (API key), `meid_token` (Microsoft Entra ID)",
            ]
        );
        // Any case is accepted and stored in the choice's own spelling.
        let valid = draft(
            ConnectionKind::AzureAi,
            &[
                ("endpoint", "https://res.services.ai.azure.com"),
                ("api", " Model_Inference "),
            ],
            &[("api_key", "k")],
        )
        .validate(&BTreeSet::new())
        .unwrap();
        assert_eq!(valid.config["api"], "model_inference");
        assert_eq!(valid.config["api_version"], "2024-05-01-preview");
    }

    #[test]
    fn an_entra_connection_needs_no_key_and_refuses_one() {
        let entra = |secrets: &[(&str, &str)]| {
            draft(
                ConnectionKind::AzureAi,
                &[
                    ("endpoint", "https://res.services.ai.azure.com"),
                    ("auth_mode", "meid_token"),
                    (
                        "token_scope",
                        " https://cognitiveservices.azure.com/.default ",
                    ),
                ],
                secrets,
            )
        };
        // A form sends the key field empty: nothing to keep, nothing required.
        for secrets in [&[][..], &[("api_key", "")]] {
            let valid = entra(secrets).validate(&BTreeSet::new()).unwrap();
            assert!(valid.secret_keys.is_empty());
            assert!(valid.new_secrets.is_empty());
            assert_eq!(valid.config["auth_mode"], "meid_token");
            assert_eq!(
                valid.config["token_scope"],
                "https://cognitiveservices.azure.com/.default"
            );
        }
        let found = problems(entra(&[("api_key", "sk-should-not-be-here")]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field.as_deref(), Some("api_key"));
        assert_eq!(
            found[0].message,
            "Microsoft Entra ID connections store no key; remove it, or choose API key"
        );
        assert!(!found[0].message.contains("sk-should-not-be-here"));
    }

    #[test]
    fn switching_to_entra_drops_the_stored_key_and_back_needs_one() {
        let stored = BTreeSet::from(["api_key".to_owned()]);
        let valid = draft(
            ConnectionKind::AzureOpenAi,
            &[
                ("api_base", "https://res.openai.azure.com"),
                ("auth_mode", "meid_token"),
            ],
            &[("api_key", "******")],
        )
        .validate(&stored)
        .unwrap();
        assert!(valid.secret_keys.is_empty(), "{:?}", valid.secret_keys);
        assert!(
            !valid.config.contains_key("token_scope"),
            "empty means the default"
        );

        let found = problems(draft(
            ConnectionKind::AzureOpenAi,
            &[
                ("api_base", "https://res.openai.azure.com"),
                ("auth_mode", "key"),
            ],
            &[],
        ));
        assert_eq!(found[0].field.as_deref(), Some("api_key"));
        assert_eq!(found[0].message, "API key is required");
    }

    #[test]
    fn fields_the_choices_leave_out_are_not_stored() {
        let valid = draft(
            ConnectionKind::AzureAi,
            &[
                ("endpoint", "https://res.services.ai.azure.com/openai/v1"),
                ("api_version", "2024-05-01-preview"),
                ("token_scope", "https://ai.azure.com/.default"),
            ],
            &[("api_key", "k")],
        )
        .validate(&BTreeSet::new())
        .unwrap();
        assert!(!valid.config.contains_key("api_version"));
        assert!(!valid.config.contains_key("token_scope"));
        assert_eq!(
            valid.warnings,
            [
                "token_scope is used only when auth_mode is meid_token, so it was not saved",
                "api_version is used only when api is model_inference, so it was not saved",
            ]
        );
    }

    #[test]
    fn missing_required_and_unknown_fields_are_all_reported() {
        let found = problems(draft(
            ConnectionKind::AzureAi,
            &[("endpont", "https://x")],
            &[],
        ));
        let fields: Vec<_> = found.iter().filter_map(|p| p.field.as_deref()).collect();
        assert_eq!(fields, ["endpont", "endpoint", "api_key"], "{found:?}");
        assert!(
            found[0]
                .message
                .contains("expected endpoint, api, auth_mode, api_key, token_scope, api_version")
        );
    }

    #[test]
    fn a_secret_passed_as_plain_config_is_refused() {
        let found = problems(draft(ConnectionKind::Serp, &[("api_key", "k")], &[]));
        assert!(
            found
                .iter()
                .any(|p| p.field.as_deref() == Some("api_key")
                    && p.message.contains("unknown field")),
            "{found:?}"
        );
    }

    #[test]
    fn masked_or_empty_secret_keeps_the_stored_one_on_update() {
        let stored = BTreeSet::from(["api_key".to_owned()]);
        for raw in ["", "******"] {
            let valid = draft(ConnectionKind::Serp, &[], &[("api_key", raw)])
                .validate(&stored)
                .unwrap();
            assert!(valid.new_secrets.is_empty());
            assert!(valid.secret_keys.contains("api_key"));
        }
        let found = problems(draft(ConnectionKind::Serp, &[], &[("api_key", "******")]));
        assert!(found[0].message.contains("no stored one to keep"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        let mut long = draft(ConnectionKind::Serp, &[], &[("api_key", "k")]);
        long.name = "n".repeat(65);
        assert!(problems(long)[0].message.contains("1 to 64 characters"));
        let mut blank = draft(ConnectionKind::Serp, &[], &[("api_key", "k")]);
        blank.name = "   ".into();
        assert!(problems(blank)[0].message.contains("this one has 0"));
    }

    #[test]
    fn custom_keys_are_checked_and_cannot_be_both_plain_and_secret() {
        let found = problems(draft(
            ConnectionKind::Custom,
            &[("region", "westeurope"), ("token", "x"), ("bad key", "y")],
            &[("token", "s")],
        ));
        let messages: Vec<_> = found.iter().map(|p| p.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`bad key` is not a valid key")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("both a plain and a secret key")),
            "{messages:?}"
        );
    }
}
