//! `weft`: the headless face of Weft, on the same engine and store as the desktop app.

mod batch;
mod cassette;
mod connection;
mod connection_file;
mod doctor;
mod eval;
mod flow;
mod import;
mod import_connections;
mod profile;
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
    /// The environment profile to run with (its connections' endpoints and keys); else
    /// WEFT_PROFILE, else the profile chosen in the app.
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
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
    /// Environment profiles (dev, prod…): what each changes in connections is set with
    /// `weft connection update NAME --profile P`.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Run a flow over every row of a JSONL or CSV file; resume, inspect and export batches.
    #[command(subcommand)]
    Batch(batch::BatchCommand),
    /// Evaluate a flow: an *.eval.yaml's assertions over its dataset, per variant, against
    /// thresholds and an earlier run.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Bring work over from Prompt flow: its connections (keys included) and its flows.
    #[command(subcommand)]
    Import(ImportCommand),
}

/// `weft import …`: one subcommand per thing brought over, each in its own module.
#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// A Prompt flow folder (flow.dag.yaml) as a Weft flow beside it, with a report of what
    /// mapped, was approximated or could not map. Exit 0: imported; 2: some could not map; 1:
    /// nothing written.
    Promptflow(import::Args),
    /// Copy Prompt flow connections into Weft's store, their secrets into the OS keychain.
    /// Exit 0: all imported; 1: nothing could be read; 2: some were skipped (the report says why).
    PromptflowConnections(import_connections::Args),
}

/// Reads the profile of the environment: another source of the same choice as --profile.
const PROFILE_ENV: &str = "WEFT_PROFILE";

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

/// Opens the store with `profile` (this run's --profile or WEFT_PROFILE; `None`: the app's
/// choice). An unknown profile is a usage error naming `weft profile create`.
pub(crate) fn open_core(profile: Option<&str>) -> Result<AppCore, CliError> {
    Ok(Settings::from_env()
        .and_then(AppCore::open)?
        .with_profile(profile)?)
}

/// The profile the command line asked for: --profile, else a non-empty WEFT_PROFILE.
fn chosen_profile(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var(PROFILE_ENV).ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// Exit codes are part of the CLI's contract: scripts depend on them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Exit {
    Ok = 0,
    Failure = 1,
    Usage = 2,
    /// A batch finished with failed rows.
    Failed = 3,
    /// A batch was cancelled (Ctrl-C): 128 + SIGINT, as shells report it.
    Cancelled = 130,
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
    let profile = chosen_profile(cli.profile);
    let profile = profile.as_deref();
    match cli.command {
        Command::Doctor { json } => doctor::run(json),
        Command::Connection(command) => report(connection::run(command, profile)),
        Command::Flow(command) => report(flow::run(command, profile)),
        Command::Runs(command) => report(runs::run(command)),
        Command::Profile(command) => report(profile::run(command)),
        Command::Batch(command) => batch::run(command, profile),
        Command::Eval(command) => eval::run(command, profile),
        Command::Import(command) => match command {
            ImportCommand::Promptflow(args) => import::run(args),
            ImportCommand::PromptflowConnections(args) => import_connections::run(args, profile),
        },
    }
    .into()
}
