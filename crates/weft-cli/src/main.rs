//! `weft`: the headless face of Weft, on the same engine and store as the desktop app.

mod doctor;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "weft",
    version,
    about = "Design and test-run AI flows on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the data folder, the database and the OS keychain, and say how to fix what fails.
    Doctor {
        /// Print the report as JSON (the same shape the desktop app's Diagnostics view uses).
        #[arg(long)]
        json: bool,
    },
}

/// Exit codes are part of the CLI's contract: scripts depend on them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Exit {
    Ok = 0,
    Failure = 1,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor { json } => doctor::run(json),
    }
    .into()
}
