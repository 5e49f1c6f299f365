//! `weft import promptflow-connections`: Prompt flow connections into Weft's store, from YAML
//! files (the reader of `weft connection create --file`) and from Prompt flow's local store.
//! The report names each connection and what happened to it; no secret is printed.

use std::path::{Path, PathBuf};

use clap::ArgGroup;
use weft_core::{AppCore, Candidate, ImportOutcome, ImportStatus, PF_HOME_ENV, read_local_store};

use crate::{CliError, Exit, connection_file, open_core};

#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("source").required(true).multiple(true).args(["from_yaml", "from_local_store"])))]
pub(crate) struct Args {
    /// Prompt flow connection YAML files (`name`, `type`, the type's fields; `configs` and
    /// `secrets` for `custom`).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    from_yaml: Vec<PathBuf>,
    /// Prompt flow's local store: $PF_HOME_DIRECTORY/pf.sqlite, else ~/.promptflow/pf.sqlite,
    /// its secrets decrypted with Prompt flow's key from the OS keyring.
    #[arg(long)]
    from_local_store: bool,
    /// Overwrite Weft connections with the same names (else they are skipped).
    #[arg(long)]
    replace: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args, profile: Option<&str>) -> Exit {
    match import(args, profile) {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("weft: {err}");
            Exit::Failure
        }
    }
}

fn import(args: Args, profile: Option<&str>) -> Result<Exit, CliError> {
    let core: AppCore = open_core(profile)?;
    let mut candidates: Vec<Candidate> =
        args.from_yaml.iter().map(|path| from_yaml(path)).collect();
    if args.from_local_store {
        candidates.extend(from_local_store()?);
    }
    let outcomes = core.import_connections(candidates, args.replace)?;
    if args.json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "connections": outcomes }))
            .map_err(|err| CliError::Runtime(format!("could not encode JSON: {err}")))?;
        println!("{text}");
    } else {
        print_report(&outcomes);
    }
    Ok(
        if outcomes
            .iter()
            .any(|outcome| outcome.status == ImportStatus::Skipped)
        {
            Exit::Usage
        } else {
            Exit::Ok
        },
    )
}

fn from_yaml(path: &Path) -> Candidate {
    let source = path.display().to_string();
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    match connection_file::read(path, false) {
        Ok(input) => Candidate {
            name: input.name.clone(),
            source,
            pf_type: input.kind.to_string(),
            input: Ok(input),
            notes: Vec::new(),
        },
        Err(err) => Candidate {
            name: stem,
            source,
            pf_type: String::new(),
            input: Err(err.to_string()),
            notes: Vec::new(),
        },
    }
}

fn from_local_store() -> Result<Vec<Candidate>, CliError> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    read_local_store(std::env::var(PF_HOME_ENV).ok().as_deref(), &home)
        .map_err(|err| CliError::Runtime(err.to_string()))
}

fn print_report(outcomes: &[ImportOutcome]) {
    for outcome in outcomes {
        let status = match outcome.status {
            ImportStatus::Imported => "imported",
            ImportStatus::Replaced => "replaced",
            ImportStatus::Skipped => "skipped",
        };
        let mut line = format!("{status:<9}{}", outcome.name);
        if let Some(kind) = outcome.kind {
            line.push_str(&format!(" ({kind}"));
            if outcome.keyless {
                line.push_str(", Microsoft Entra ID, no key");
            }
            line.push(')');
        }
        line.push_str(&format!(" from {}", outcome.source));
        if let Some(reason) = &outcome.reason {
            line.push_str(&format!(": {reason}"));
        }
        println!("{line}");
        for note in &outcome.notes {
            println!("         {note}");
        }
    }
    let count = |status| outcomes.iter().filter(|o| o.status == status).count();
    println!(
        "{} imported, {} replaced, {} skipped",
        count(ImportStatus::Imported),
        count(ImportStatus::Replaced),
        count(ImportStatus::Skipped)
    );
}
