//! `weft`: the headless face of Weft, on the same engine and store as the desktop app.

mod connection;
mod connection_file;
mod doctor;
mod flow;
mod runs;
mod secrets;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use weft_core::{AppCore, AppError, ErrorKind, Settings};

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
    /// Manage connections: endpoints and options in Weft's store, secrets in the OS keychain.
    #[command(subcommand)]
    Connection(connection::ConnectionCommand),
    /// Work with flow files (*.weft.yaml).
    #[command(subcommand)]
    Flow(flow::FlowCommand),
    /// Past flow runs (kept 30 days, at most 500; WEFT_RUNS_MAX_AGE_DAYS, WEFT_RUNS_KEEP).
    #[command(subcommand)]
    Runs(runs::RunsCommand),
}

/// Why a command failed, and so which exit code it ends with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad usage or input: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The work itself failed (a flow run): exit 1.
    #[error("{0}")]
    Runtime(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl CliError {
    fn exit(&self) -> Exit {
        match self {
            Self::Usage(_) => Exit::Usage,
            Self::Runtime(_) => Exit::Failure,
            Self::App(err) => match err.kind() {
                ErrorKind::InvalidInput | ErrorKind::NotFound | ErrorKind::Conflict => Exit::Usage,
                _ => Exit::Failure,
            },
        }
    }
}

pub(crate) fn open_core() -> Result<AppCore, CliError> {
    Ok(Settings::from_env().and_then(AppCore::open)?)
}

/// Exit codes are part of the CLI's contract: scripts depend on them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Exit {
    Ok = 0,
    Failure = 1,
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

fn report(result: Result<(), CliError>) -> Exit {
    match result {
        Ok(()) => Exit::Ok,
        Err(err) => {
            eprintln!("weft: {err}");
            err.exit()
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(weft_core::log_filter(
            std::env::var("WEFT_LOG").ok().as_deref(),
            "warn",
        ))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor { json } => doctor::run(json),
        Command::Connection(command) => report(connection::run(command)),
        Command::Flow(command) => report(flow::run(command)),
        Command::Runs(command) => report(runs::run(command)),
    }
    .into()
}
