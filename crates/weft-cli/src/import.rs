//! `weft import promptflow DIR`: a Prompt flow folder (flow.dag.yaml) as a Weft flow beside it,
//! plus an eval file for its node variants, and the report of what mapped (weft-promptflow).

use std::path::PathBuf;

use weft_promptflow::{Imported, Severity, import_dir, write};

use crate::Exit;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Prompt flow folder: the one holding flow.dag.yaml. It is not modified.
    dir: PathBuf,
    /// Where to write the flow; default DIR/<folder name>.weft.yaml, never over an existing
    /// file (a path given here is written even when it exists).
    #[arg(long, value_name = "FILE.weft.yaml")]
    out: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Exit 0: imported; 2: imported, but some things could not map (the report says which);
/// 1: nothing written.
pub(crate) fn run(args: Args) -> Exit {
    let result = import_dir(&args.dir).and_then(|imported| {
        write(&args.dir, &imported, args.out.as_deref()).map(|w| (imported, w))
    });
    let (imported, written) = match result {
        Ok(done) => done,
        Err(err) => {
            eprintln!("weft: {err}");
            return Exit::Failure;
        }
    };
    if args.json {
        let value = serde_json::json!({
            "flow": written.flow,
            "eval": written.eval,
            "evaluator": imported.evaluator,
            "report": imported.report,
            "connections_needed": imported
                .connections_needed
                .iter()
                .map(|(name, kind)| serde_json::json!({ "name": name, "type": kind }))
                .collect::<Vec<_>>(),
        });
        match serde_json::to_string_pretty(&value) {
            Ok(text) => println!("{text}"),
            Err(err) => {
                eprintln!("weft: could not encode JSON: {err}");
                return Exit::Failure;
            }
        }
    } else {
        print_report(&imported, &written);
    }
    if imported
        .report
        .iter()
        .any(|e| e.severity == Severity::Unmapped)
    {
        Exit::Usage
    } else {
        Exit::Ok
    }
}

fn print_report(imported: &Imported, written: &weft_promptflow::Written) {
    println!("wrote {}", written.flow.display());
    if let Some(eval) = &written.eval {
        println!("wrote {} (one variant per node variant)", eval.display());
    }
    for entry in &imported.report {
        let severity = match entry.severity {
            Severity::Mapped => "mapped",
            Severity::Approximated => "approximated",
            Severity::Unmapped => "unmapped",
        };
        let line = entry
            .line
            .map_or_else(String::new, |l| format!(" (line {l})"));
        println!("{severity:<13}{}{line}: {}", entry.node, entry.message);
    }
    if !imported.connections_needed.is_empty() {
        println!(
            "connections it needs (create them with `weft connection create` or `weft import promptflow-connections`):"
        );
        for (name, kind) in &imported.connections_needed {
            println!("  {name} ({kind})");
        }
    }
}
