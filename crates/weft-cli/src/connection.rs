use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use serde::Serialize;
use weft_core::{
    AppCore, ConnectionInput, ConnectionKind, ConnectionView, OverrideInput, SavedConnection,
};

use crate::secrets::SecretSource;
use crate::{CliError, connection_file, open_core};

#[derive(Debug, Subcommand)]
pub(crate) enum ConnectionCommand {
    /// Create a connection from a Prompt-flow-style YAML file, or from flags.
    Create(CreateArgs),
    /// List connections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one connection; secrets print as ******. With --profile: as that profile sees it,
    /// each field it sets marked.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change fields or secrets of a connection; what is not given stays as it is. With
    /// --profile: what that profile changes (--unset returns a field to the connection's own).
    Update(UpdateArgs),
    /// Delete a connection and its keychain entries.
    Delete { name: String },
    /// Call the service for real: GET /info on serverless endpoints, else a tiny chat completion;
    /// says which API answered.
    Test {
        name: String,
        /// The deployment (or model) to call; needed unless the connection pins one.
        #[arg(long)]
        deployment: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "name"])))]
pub(crate) struct CreateArgs {
    /// YAML with `name`, `type` and fields; a secret written as <user-input> is asked for.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "kind", "set", "secret"])]
    file: Option<PathBuf>,
    /// With --file: read the <user-input> secrets from stdin, one line each, in file order.
    #[arg(long, requires = "file")]
    secrets_stdin: bool,
    #[arg(long, requires = "kind")]
    name: Option<String>,
    /// azure_ai, azure_open_ai, open_ai, serverless, azure_content_safety, cognitive_search,
    /// serp or custom.
    #[arg(long = "type", value_name = "TYPE", requires = "name")]
    kind: Option<ConnectionKind>,
    #[command(flatten)]
    fields: FieldArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    name: String,
    /// A new name; the secrets stay with the connection.
    #[arg(long, value_name = "NEW_NAME")]
    rename: Option<String>,
    /// Remove a field (an optional one returns to its default) or a custom key.
    #[arg(long, value_name = "KEY")]
    unset: Vec<String>,
    #[command(flatten)]
    fields: FieldArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct FieldArgs {
    /// A plain field, e.g. --set endpoint=https://….
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    set: Vec<(String, String)>,
    /// A secret field whose value is read from stdin (one line per --secret, in order), or
    /// asked for on a terminal. Secrets are never taken from the command line.
    #[arg(long = "secret", value_name = "KEY")]
    secret: Vec<String>,
}

fn parse_key_value(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(key, value)| (key.trim().to_owned(), value.to_owned()))
        .filter(|(key, _)| !key.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got `{raw}`"))
}

impl FieldArgs {
    fn apply(
        self,
        kind: ConnectionKind,
        config: &mut BTreeMap<String, String>,
        secrets: &mut BTreeMap<String, String>,
    ) -> Result<(), CliError> {
        for (key, value) in self.set {
            let is_secret = kind
                .spec()
                .fields
                .iter()
                .any(|field| field.key == key && field.is_secret());
            if is_secret {
                return Err(CliError::Usage(format!(
                    "`{key}` is a secret: pass --secret {key} and give its value on stdin, never on the command line"
                )));
            }
            config.insert(key, value);
        }
        let mut source = SecretSource::new(false);
        for key in self.secret {
            let value = source.read(&key)?;
            secrets.insert(key, value);
        }
        Ok(())
    }
}

/// `profile`: this run's --profile or WEFT_PROFILE; `show` and `update` then work on what it
/// changes, `test` calls the connection as it sees it.
pub(crate) fn run(command: ConnectionCommand, profile: Option<&str>) -> Result<(), CliError> {
    let core = open_core(profile)?;
    match command {
        ConnectionCommand::Create(args) => create(&core, args),
        ConnectionCommand::List { json } => list(&core, json),
        ConnectionCommand::Show { name, json } => match profile {
            Some(profile) => {
                let effective = core.connection_in_profile(&name, Some(profile))?;
                if json {
                    return print_json(&effective);
                }
                let profile = effective.profile.as_deref().unwrap_or(profile);
                print!(
                    "{}",
                    render_one(
                        &effective.connection,
                        Some((profile, &effective.from_profile))
                    )
                );
                Ok(())
            }
            None => {
                let view = core.connection(&name)?;
                if json {
                    print_json(&view)
                } else {
                    print!("{}", render_one(&view, None));
                    Ok(())
                }
            }
        },
        ConnectionCommand::Update(args) => match profile {
            Some(profile) => update_in_profile(&core, args, profile),
            None => update(&core, args),
        },
        ConnectionCommand::Delete { name } => {
            core.delete_connection(&name)?;
            println!("deleted connection `{}`", name.trim());
            Ok(())
        }
        ConnectionCommand::Test {
            name,
            deployment,
            json,
        } => test(&core, &name, deployment.as_deref(), json),
    }
}

fn test(core: &AppCore, name: &str, deployment: Option<&str>, json: bool) -> Result<(), CliError> {
    let connection = core.resolve_connection(name)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| CliError::Usage(format!("could not start the async runtime: {err}")))?;
    let check = runtime.block_on(core.check_connection(&connection, deployment))?;
    if json {
        return print_json(&check);
    }
    let model = check
        .model
        .as_deref()
        .map(|m| format!(", model {m}"))
        .unwrap_or_default();
    println!(
        "ok: `{}` answered a {} through the {} in {:.0} ms{model}",
        connection.name(),
        check.method,
        check.api,
        check.latency_ms
    );
    Ok(())
}

fn create(core: &AppCore, args: CreateArgs) -> Result<(), CliError> {
    let input = match (args.file, args.name, args.kind) {
        (Some(file), _, _) => connection_file::read(&file, args.secrets_stdin)?,
        (None, Some(name), Some(kind)) => {
            let mut input = ConnectionInput {
                name,
                kind,
                config: BTreeMap::new(),
                secrets: BTreeMap::new(),
            };
            args.fields
                .apply(kind, &mut input.config, &mut input.secrets)?;
            input
        }
        _ => return Err(CliError::Usage("give --file, or --name and --type".into())),
    };
    let saved = core.create_connection(input)?;
    report_saved("created", &saved, args.json)
}

/// Changes what `profile` sets in the connection, starting from what it sets now.
fn update_in_profile(core: &AppCore, args: UpdateArgs, profile: &str) -> Result<(), CliError> {
    if args.rename.is_some() {
        return Err(CliError::Usage(
            "a connection has one name in every profile; rename it without --profile".into(),
        ));
    }
    let current = core.connection_in_profile(&args.name, Some(profile))?;
    let profile = current
        .profile
        .clone()
        .unwrap_or_else(|| profile.to_owned());
    let view = &current.connection;
    let sets = |key: &String| current.from_profile.contains(key);
    let mut config: BTreeMap<String, String> = view
        .config
        .iter()
        .filter(|(key, _)| sets(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    // Each secret the profile has is passed as its mask, which keeps it unless replaced below.
    let mut secrets: BTreeMap<String, String> = view
        .secrets
        .iter()
        .filter(|(key, _)| sets(key))
        .map(|(key, mask)| (key.clone(), mask.clone()))
        .collect();
    for key in &args.unset {
        let known = config.remove(key).is_some() | secrets.remove(key).is_some();
        if !known {
            return Err(CliError::Usage(format!(
                "profile `{profile}` does not change `{key}` of `{}`",
                view.name
            )));
        }
    }
    args.fields.apply(view.kind, &mut config, &mut secrets)?;
    let saved =
        core.set_connection_override(&view.name, &profile, OverrideInput { config, secrets })?;
    for warning in &saved.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        return print_json(&saved);
    }
    println!(
        "updated connection `{}` ({}) in profile `{profile}`",
        view.name, view.kind
    );
    Ok(())
}

fn update(core: &AppCore, args: UpdateArgs) -> Result<(), CliError> {
    let current = core.connection(&args.name)?;
    let mut config = current.config;
    // Every stored secret is passed as its mask, which keeps it unless replaced below.
    let mut secrets = current.secrets;
    for key in &args.unset {
        let known = config.remove(key).is_some() | secrets.remove(key).is_some();
        if !known {
            return Err(CliError::Usage(format!(
                "`{}` has no field `{key}`",
                current.name
            )));
        }
    }
    args.fields.apply(current.kind, &mut config, &mut secrets)?;
    let input = ConnectionInput {
        name: args.rename.unwrap_or_else(|| current.name.clone()),
        kind: current.kind,
        config,
        secrets,
    };
    let saved = core.update_connection(&current.name, input)?;
    report_saved("updated", &saved, args.json)
}

fn list(core: &AppCore, json: bool) -> Result<(), CliError> {
    let views = core.list_connections()?;
    if json {
        return print_json(&views);
    }
    if views.is_empty() {
        println!("no connections yet; create one with `weft connection create`");
        return Ok(());
    }
    let rows: Vec<[&str; 4]> = views
        .iter()
        .map(|view| {
            [
                view.name.as_str(),
                view.kind.as_str(),
                address(view),
                view.updated_at.as_str(),
            ]
        })
        .collect();
    print!(
        "{}",
        render_table(["NAME", "TYPE", "ENDPOINT", "UPDATED"], &rows)
    );
    Ok(())
}

fn report_saved(verb: &str, saved: &SavedConnection, json: bool) -> Result<(), CliError> {
    for warning in &saved.warnings {
        eprintln!("warning: {warning}");
    }
    if json {
        print_json(saved)
    } else {
        let view = &saved.connection;
        println!("{verb} connection `{}` ({})", view.name, view.kind);
        Ok(())
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::Usage(format!("could not encode JSON: {err}")))?;
    println!("{text}");
    Ok(())
}

/// The field users recognise a connection by.
fn address(view: &ConnectionView) -> &str {
    ["endpoint", "api_base", "base_url"]
        .iter()
        .find_map(|key| view.config.get(*key))
        .map_or("", String::as_str)
}

/// `in_profile`: the profile the view is of and the fields it sets, which are marked.
fn render_one(view: &ConnectionView, in_profile: Option<(&str, &[String])>) -> String {
    let mark = |key: &str| match in_profile {
        Some((profile, sets)) if sets.iter().any(|set| set == key) => {
            format!("  (from profile {profile})")
        }
        _ => String::new(),
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("name", view.name.clone()),
        ("type", view.kind.as_str().to_owned()),
    ];
    if let Some((profile, _)) = in_profile {
        rows.push(("profile", profile.to_owned()));
    }
    rows.push(("id", view.id.clone()));
    let fields = view.config.iter().chain(&view.secrets);
    rows.extend(fields.map(|(k, v)| (k.as_str(), format!("{v}{}", mark(k)))));
    rows.push(("created", view.created_at.clone()));
    rows.push(("updated", view.updated_at.clone()));
    let width = rows.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(key, value)| format!("{key:width$}  {value}\n"))
        .collect()
}

fn render_table<const N: usize>(header: [&str; N], rows: &[[&str; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            format!("{}\n", line.join("  ").trim_end())
        })
        .collect()
}
