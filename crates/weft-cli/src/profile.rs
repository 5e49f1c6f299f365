use clap::Subcommand;

use crate::{CliError, open_core};

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// List profiles; `*` marks the one chosen in the app.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a profile: 1 to 32 letters, digits, `-`, `_` or `.`.
    Create { name: String },
    /// Delete a profile, what it changes in connections and those keychain entries.
    Delete { name: String },
}

pub(crate) fn run(command: ProfileCommand) -> Result<(), CliError> {
    // Managing profiles runs under none of them.
    let core = open_core(None)?;
    match command {
        ProfileCommand::List { json } => {
            let profiles = core.list_profiles()?;
            if json {
                let text = serde_json::to_string_pretty(&profiles)
                    .map_err(|err| CliError::Runtime(format!("could not encode JSON: {err}")))?;
                println!("{text}");
                return Ok(());
            }
            if profiles.is_empty() {
                println!("no profiles yet; create one with `weft profile create NAME`");
            }
            let width = profiles.iter().map(|p| p.name.len()).max().unwrap_or(0);
            for profile in &profiles {
                let mark = if profile.active { '*' } else { ' ' };
                let noun = if profile.overrides == 1 {
                    "connection"
                } else {
                    "connections"
                };
                println!(
                    "{mark} {:width$}  changes {} {noun}",
                    profile.name, profile.overrides
                );
            }
            Ok(())
        }
        ProfileCommand::Create { name } => {
            let profile = core.create_profile(&name)?;
            println!(
                "created profile `{}`; set what it changes with `weft connection update NAME --profile {} --set …`",
                profile.name, profile.name
            );
            Ok(())
        }
        ProfileCommand::Delete { name } => {
            core.delete_profile(&name)?;
            println!("deleted profile `{}`", name.trim());
            Ok(())
        }
    }
}
