use weft_core::{AppCore, Diagnostics, ProbeOutcome, Settings};

use crate::Exit;

pub(crate) fn run(json: bool) -> Exit {
    let report = match Settings::from_env().and_then(AppCore::open) {
        Ok(core) => core.diagnostics(),
        Err(err) => Err(err),
    };
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
    match &report.keychain.probe {
        ProbeOutcome::Ok { .. } => Exit::Ok,
        ProbeOutcome::Failed { message, .. } => {
            eprintln!("weft doctor: the keychain is unusable: {message}");
            Exit::Failure
        }
    }
}

fn render(report: &Diagnostics) -> String {
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
