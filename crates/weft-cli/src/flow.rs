use std::path::PathBuf;

use clap::Subcommand;
use weft_flow::{Context, FlowDocument, Severity, validate};

use crate::{CliError, open_core};

#[derive(Debug, Subcommand)]
pub(crate) enum FlowCommand {
    /// Check a flow without running it: exit 0 if valid, 2 if not, one problem per line.
    Validate {
        file: PathBuf,
        /// Treat template variables missing from `variables` as errors.
        #[arg(long)]
        strict: bool,
    },
}

pub(crate) fn run(command: FlowCommand) -> Result<(), CliError> {
    match command {
        FlowCommand::Validate { file, strict } => {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file)
                .map_err(|err| CliError::Usage(format!("could not read {name}: {err}")))?;
            let doc = FlowDocument::parse(&text)
                .map_err(|err| CliError::Usage(format!("{name}: {err}")))?;
            // Connection names come from the store; no keychain is needed to check them.
            let connections = open_core()?
                .list_connections()?
                .into_iter()
                .map(|c| c.name)
                .collect();
            let found = validate(
                &doc,
                &Context {
                    connections,
                    strict,
                },
            );
            let errors = found
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            for diagnostic in &found {
                println!("{name}: {diagnostic}");
            }
            if errors > 0 {
                return Err(CliError::Usage(format!(
                    "{name} is not valid: {errors} error(s)"
                )));
            }
            println!("{name}: valid ({} nodes)", doc.nodes.len());
            Ok(())
        }
    }
}
