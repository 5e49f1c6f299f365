use std::sync::Arc;

use weft_core::{AppCore, AppError, Diagnostics, ProbeOutcome, Settings, SignInOutcome};

use crate::Exit;

pub(crate) fn run(json: bool) -> Exit {
    let report = Settings::from_env()
        .and_then(AppCore::open)
        .and_then(|core| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| {
                    AppError::Internal(format!("could not start the async runtime: {err}"))
                })?;
            runtime.block_on(Arc::new(core).diagnostics())
        });
    let report = match report {
        Ok(report) => report,
        Err(err) => {
            eprintln!("weft doctor: {err}");
            return Exit::Failure;
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(err) => {
                eprintln!("weft doctor: could not encode the report: {err}");
                return Exit::Failure;
            }
        }
    } else {
        print!("{}", render(&report));
    }
    let mut exit = Exit::Ok;
    if let ProbeOutcome::Failed { message, .. } = &report.keychain.probe {
        eprintln!("weft doctor: the keychain is unusable: {message}");
        exit = Exit::Failure;
    }
    for entra in &report.entra {
        if let SignInOutcome::Failed { message } = &entra.sign_in {
            eprintln!(
                "weft doctor: {} cannot sign in: {message}",
                entra.connections.join(", ")
            );
            exit = Exit::Failure;
        }
    }
    exit
}

fn render(report: &Diagnostics) -> String {
    let mut text = render_local(report);
    for entra in &report.entra {
        let outcome = match &entra.sign_in {
            SignInOutcome::Ok {
                credential,
                tenant,
                expires_at,
            } => format!(
                "signed in through the {credential}, tenant {}, token expires {expires_at}",
                tenant.as_deref().unwrap_or("unknown")
            ),
            SignInOutcome::Failed { message } => format!("FAILED: {message}"),
        };
        text.push_str(&format!(
            "entra id     {scope} for {connections}\n\x20            {outcome}\n",
            scope = entra.scope,
            connections = entra.connections.join(", "),
        ));
    }
    text
}

fn render_local(report: &Diagnostics) -> String {
    let db = &report.database;
    let keychain = &report.keychain;
    let probe = match &keychain.probe {
        ProbeOutcome::Ok { millis } => format!("round-trip ok in {millis:.1} ms"),
        ProbeOutcome::Failed { message, .. } => format!("FAILED: {message}"),
    };
    format!(
        "Weft {version}\n\
         data folder  {data_dir}\n\
         database     {path}\n\
         \x20            schema v{schema} of {latest}, journal {journal}, busy timeout {busy} ms, {perms}{created}\n\
         keychain     {backend}, service \"{service}\"\n\
         \x20            {probe}\n",
        version = report.app_version,
        data_dir = report.data_dir,
        path = db.path,
        schema = db.schema_version,
        latest = db.latest_schema_version,
        journal = db.journal_mode,
        busy = db.busy_timeout_ms,
        perms = if db.owner_only {
            "owner-only"
        } else {
            "READABLE BY OTHERS"
        },
        created = db
            .created_with
            .as_deref()
            .map(|v| format!(", created by Weft {v}"))
            .unwrap_or_default(),
        backend = keychain.backend,
        service = keychain.service,
    )
}
