//! Prompt-flow-style connection YAML: `name`, `type`, then the type's fields (or `configs` and
//! `secrets` maps for `custom`). A secret written as `<user-input>` is asked for.

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use weft_core::{ConnectionInput, ConnectionKind};
use weft_flow::ParseError;

use crate::CliError;
use crate::secrets::SecretSource;

const ASK: &str = "<user-input>";

#[derive(Debug, Deserialize)]
struct ConnectionFile {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    configs: IndexMap<String, Scalar>,
    #[serde(default)]
    secrets: IndexMap<String, Scalar>,
    /// Everything else: the type's fields (and Prompt flow's `$schema`, which is ignored).
    #[serde(flatten)]
    fields: IndexMap<String, Scalar>,
}

/// YAML reads `8080` as a number and `true` as a bool; fields are text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Int(int) => int.to_string(),
            Self::Float(float) => float.to_string(),
            Self::Bool(flag) => flag.to_string(),
        }
    }
}

pub(crate) fn read(path: &Path, secrets_stdin: bool) -> Result<ConnectionInput, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| CliError::Usage(format!("could not read {}: {err}", path.display())))?;
    // The file holds keys: its parse error must quote none of it.
    let file: ConnectionFile = serde_saphyr::from_str(&text).map_err(|err| {
        CliError::Usage(format!(
            "{} is not a valid connection file: {}",
            path.display(),
            ParseError::from_yaml(&err).without_file_text(&text)
        ))
    })?;
    let kind: ConnectionKind = file
        .kind
        .parse()
        .map_err(|err| CliError::Usage(format!("{}: {err}", path.display())))?;

    let mut config = BTreeMap::new();
    let mut secrets = IndexMap::new();
    if kind == ConnectionKind::Custom {
        if let Some(key) = file.fields.keys().find(|key| *key != "$schema") {
            return Err(CliError::Usage(format!(
                "{}: a custom connection keeps its fields under `configs:` and `secrets:`, not `{key}`",
                path.display()
            )));
        }
        config.extend(file.configs.into_iter().map(|(k, v)| (k, v.into_text())));
        secrets.extend(file.secrets.into_iter().map(|(k, v)| (k, v.into_text())));
    } else {
        let spec = kind.spec();
        for (key, value) in file.fields.into_iter().filter(|(key, _)| key != "$schema") {
            let secret = spec
                .fields
                .iter()
                .any(|field| field.key == key && field.is_secret());
            if secret {
                secrets.insert(key, value.into_text());
            } else {
                config.insert(key, value.into_text());
            }
        }
    }

    let mut source = None;
    for (key, value) in secrets.iter_mut() {
        if value.trim() == ASK {
            let source = match &mut source {
                Some(source) => source,
                None => source.insert(SecretSource::for_file(secrets_stdin)?),
            };
            *value = source.read(&format!("{key} for {}", file.name.trim()))?;
        }
    }
    Ok(ConnectionInput {
        name: file.name,
        kind,
        config,
        secrets: secrets.into_iter().collect(),
    })
}
