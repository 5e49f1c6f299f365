//! `weft eval`: exit 0 thresholds hold / 2 one fails / 1 it could not run, `--variant`, the
//! JUnit file against the JUnit schema, `--baseline`'s changed rows, `show` and `list`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use common::{text, weft};

/// A flow that calls nothing: `said` is its input `q` in the template a variant may change.
const ECHO_FLOW: &str = "schema: 1\ninputs:\n  q: { type: string }\n\
     outputs:\n  said: { value: \"${say.output}\" }\nnodes:\n\
     \x20 - id: say\n    type: prompt_template\n    position: { x: 0, y: 0 }\n    properties:\n\
     \x20     template: \"{{ q }}!\"\n      variables: { q: \"${inputs.q}\" }\n";

/// Two variants of the echo flow, each row's `said` checked against its `expected` column.
const TWO_VARIANTS: &str = "name: Echoes\nflow: echo.weft.yaml\ndata: rows.jsonl\n\
     column_mapping: { q: \"${data.q}\" }\n\
     variants:\n  - { name: exclaim, set: { say.template: \"{{ q }}!\" } }\n\
     \x20 - { name: ask, set: { say.template: \"{{ q }}?\" } }\n\
     assert:\n  - { type: equals, value: \"${data.expected}\" }\n\
     thresholds: { pass_rate: 1.0 }\n";

/// Three rows whose `expected` is the question said with `!`.
const EXCLAIMED: &str = "{\"q\": \"one\", \"expected\": \"one!\"}\n\
     {\"q\": \"two\", \"expected\": \"two!\"}\n{\"q\": \"three\", \"expected\": \"three!\"}\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// A folder with the echo flow, `rows` as its data and `eval` as `echo.eval.yaml`.
fn setup(dir: &Path, eval: &str, rows: &str) -> PathBuf {
    write(dir, "echo.weft.yaml", ECHO_FLOW);
    write(dir, "rows.jsonl", rows);
    write(dir, "echo.eval.yaml", eval)
}

fn eval(home: &Path, args: &[&str]) -> Output {
    weft(home).arg("eval").args(args).output().unwrap()
}

fn path(file: &Path) -> &str {
    file.to_str().unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "{err}: stdout {} stderr {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// Each variant's name and pass rate, in the order the report gives them.
fn pass_rates(report: &Value) -> Vec<(String, f64)> {
    report["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|summary| {
            (
                summary["variant"].as_str().unwrap().to_owned(),
                summary["pass_rate"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn thresholds_that_hold_exit_0_one_that_fails_exits_2_with_the_table_saying_which() {
    let home = tempfile::tempdir().unwrap();
    let single = "flow: echo.weft.yaml\ndata: rows.jsonl\ncolumn_mapping: { q: \"${data.q}\" }\n\
         assert:\n  - { type: equals, value: \"${data.expected}\" }\n\
         thresholds: { pass_rate: 0.6 }\n";
    let file = setup(home.path(), single, EXCLAIMED);
    let out = eval(home.path(), &["run", path(&file)]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("status      finished in "), "{stdout}");
    assert!(stdout.contains("thresholds hold"), "{stdout}");
    let flow_row = stdout
        .lines()
        .find(|line| line.starts_with("flow "))
        .unwrap_or_else(|| panic!("a row for the flow as it is: {stdout}"));
    let cells: Vec<&str> = flow_row.split_whitespace().collect();
    assert_eq!(&cells[..5], ["flow", "3", "3", "100.0", "%"], "{flow_row}");
    assert!(
        stdout.contains("  ✓ flow  pass_rate 1.00, at least 0.60\n"),
        "{stdout}"
    );
    assert!(stderr.starts_with("eval "), "the eval is named: {stderr}");

    // Two of three rows now expect something else: 33 % is under the 60 % asked for.
    write(
        home.path(),
        "rows.jsonl",
        "{\"q\": \"one\", \"expected\": \"one!\"}\n{\"q\": \"two\", \"expected\": \"2!\"}\n\
         {\"q\": \"three\", \"expected\": \"3!\"}\n",
    );
    let out = eval(home.path(), &["run", path(&file), "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(report["status"], "finished");
    assert_eq!(report["passed"], false);
    assert_eq!(report["variants"][0]["passed"], 1);
    assert_eq!(report["variants"][0]["failed"], 2);
    let check = &report["thresholds"][0];
    assert_eq!(
        (&check["what"], &check["holds"]),
        (&Value::from("pass_rate"), &Value::from(false)),
        "{check}"
    );
    let table = text(&eval(home.path(), &["run", path(&file)]).stdout);
    assert!(
        table.contains("  ✗ flow  pass_rate 0.33, at least 0.60\n"),
        "{table}"
    );
}

#[test]
fn what_stops_an_eval_before_its_verdict_exits_1_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let file = setup(home.path(), TWO_VARIANTS, EXCLAIMED);
    let no_data = write(
        home.path(),
        "no-data.eval.yaml",
        &TWO_VARIANTS.replace("rows.jsonl", "missing.jsonl"),
    );
    let not_yaml = write(home.path(), "broken.eval.yaml", "flow: [oops\n");
    let absent = home.path().join("none.eval.yaml");
    let cases: [(&[&str], &str); 4] = [
        (&["run", path(&no_data)], "missing.jsonl"),
        (&["run", path(&not_yaml)], "line "),
        (&["run", path(&absent)], "none.eval.yaml"),
        (&["run", path(&file), "--variant", "shout"], "shout"),
    ];
    for (args, named) in cases {
        let out = eval(home.path(), args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("weft: ") && stderr.contains(named),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            text(&out.stdout),
            "",
            "{args:?}: no report without a verdict"
        );
    }
}

#[test]
fn variant_runs_only_the_variants_named() {
    let home = tempfile::tempdir().unwrap();
    let file = setup(home.path(), TWO_VARIANTS, EXCLAIMED);
    let both = eval(home.path(), &["run", path(&file), "--json"]);
    assert_eq!(both.status.code(), Some(2), "`ask` fails every row");
    assert_eq!(
        pass_rates(&json_of(&both)),
        [("exclaim".to_owned(), 1.0), ("ask".to_owned(), 0.0)]
    );

    let exclaim = eval(
        home.path(),
        &["run", path(&file), "--variant", "exclaim", "--json"],
    );
    assert_eq!(exclaim.status.code(), Some(0), "{}", text(&exclaim.stderr));
    let report = json_of(&exclaim);
    assert_eq!(pass_rates(&report), [("exclaim".to_owned(), 1.0)]);
    assert_eq!(report["thresholds"].as_array().unwrap().len(), 1);

    let out = eval(
        home.path(),
        &[
            "run",
            path(&file),
            "--variant",
            "ask",
            "--variant",
            "exclaim",
            "--json",
        ],
    );
    let names: Vec<String> = pass_rates(&json_of(&out))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// `xmllint --schema` of EVAL's copy of the JUnit schema on `file`.
fn validate_junit(file: &Path) {
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../weft-eval/tests/fixtures/junit-10.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(file)
        .output()
        .expect("xmllint (libxml2-utils; scripts/install-deps.sh test installs it)");
    assert!(
        out.status.success(),
        "{}{}\n{}",
        text(&out.stdout),
        text(&out.stderr),
        std::fs::read_to_string(file).unwrap()
    );
}

#[test]
fn junit_writes_a_suite_per_variant_and_a_case_per_row_that_the_junit_schema_accepts() {
    let home = tempfile::tempdir().unwrap();
    let file = setup(home.path(), TWO_VARIANTS, EXCLAIMED);
    let junit = home.path().join("results.xml");
    let out = eval(
        home.path(),
        &["run", path(&file), "--junit", path(&junit), "--json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    validate_junit(&junit);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 3, "`ask`'s rows: {xml}");
    assert!(!home.path().join("results.partial").exists());

    // The same file again from the stored run.
    let id = json_of(&out)["eval_id"].as_str().unwrap().to_owned();
    let again = home.path().join("again.xml");
    let shown = eval(home.path(), &["show", &id[..8], "--junit", path(&again)]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    validate_junit(&again);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), xml);
}

#[test]
fn a_baseline_lists_the_rows_that_went_from_pass_to_fail_and_back() {
    let home = tempfile::tempdir().unwrap();
    let file = setup(home.path(), TWO_VARIANTS, EXCLAIMED);
    let first = eval(home.path(), &["run", path(&file), "--json"]);
    let baseline = json_of(&first)["eval_id"].as_str().unwrap().to_owned();

    // Row 1 now wants the question asked: `exclaim` loses it, `ask` gains it.
    write(
        home.path(),
        "rows.jsonl",
        &EXCLAIMED.replace("\"two!\"", "\"two?\""),
    );
    let out = eval(
        home.path(),
        &["run", path(&file), "--baseline", &baseline[..8]],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "against {}: 1 pass → fail, 1 fail → pass\n",
            &baseline[..8]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("  ✓ ask      row 1: fail → pass\n")
            && stdout.contains("  ✗ exclaim  row 1: pass → fail\n"),
        "{stdout}"
    );

    let out = eval(
        home.path(),
        &["run", path(&file), "--baseline", &baseline, "--json"],
    );
    let report = json_of(&out);
    assert_eq!(report["baseline"], baseline.as_str());
    let mut changes: Vec<(String, u64, bool)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            (
                change["variant"].as_str().unwrap().to_owned(),
                change["row"].as_u64().unwrap(),
                change["now_pass"].as_bool().unwrap(),
            )
        })
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        [
            ("ask".to_owned(), 1, true),
            ("exclaim".to_owned(), 1, false)
        ]
    );

    let unknown = eval(home.path(), &["run", path(&file), "--baseline", "ffffffff"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("ffffffff"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn eval_runs_are_listed_and_shown_as_they_ran() {
    let home = tempfile::tempdir().unwrap();
    let empty = eval(home.path(), &["list"]);
    assert!(empty.status.success(), "{}", text(&empty.stderr));
    assert!(text(&empty.stdout).starts_with("no eval runs yet"));

    let file = setup(home.path(), TWO_VARIANTS, EXCLAIMED);
    let out = eval(
        home.path(),
        &["run", path(&file), "--variant", "exclaim", "--json"],
    );
    let report = json_of(&out);
    let id = report["eval_id"].as_str().unwrap().to_owned();

    let shown = eval(home.path(), &["show", &id[..6], "--json"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert_eq!(json_of(&shown), report);
    let table = text(&eval(home.path(), &["show", &id]).stdout);
    assert!(
        table.starts_with(&format!("eval        {id}  Echoes\n")),
        "{table}"
    );

    let listed = json_of(&eval(home.path(), &["list", "--json"]));
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["passed"], true);
    let listed = text(&eval(home.path(), &["list"]).stdout);
    let line = listed.lines().next().unwrap();
    assert!(
        line.starts_with(&id[..8])
            && line.contains("  finished  passed  echo.eval.yaml  Echoes  exclaim 100.0 %"),
        "{listed}"
    );

    let unknown = eval(home.path(), &["show", "ffffffff"]);
    assert_eq!(unknown.status.code(), Some(2));
}
