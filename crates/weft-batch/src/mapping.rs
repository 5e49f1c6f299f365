//! From a data row to a flow's inputs, as Prompt flow's `--column-mapping` does it
//! (<https://microsoft.github.io/promptflow/how-to-guides/run-and-evaluate-a-flow/use-column-mapping.html>):
//! `${data.COLUMN}` reads a column of the row, any other value is a static value given to every
//! row, and an input's value comes from, in this order, its mapping, its default, a column of the
//! same name. `${run.inputs.…}` / `${run.outputs.…}` read another run, which only an evaluation
//! run has; they are refused until Weft has those.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use weft_flow::{FlowDocument, FlowInput, ValueType};

use crate::reader::DataFormat;

/// Where one flow input's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MappingValue {
    /// `${data.COLUMN}`: the row's column.
    Column(String),
    /// Any other text: the same value for every row, read as the input's type like a CSV cell.
    Static(Value),
}

impl MappingValue {
    pub fn parse(raw: &str) -> Result<MappingValue, ValueError> {
        let value = || raw.to_owned();
        let trimmed = raw.trim();
        if let Some(inner) = trimmed
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|inner| !inner.contains("${"))
        {
            return match inner.strip_prefix("data.").map(str::trim) {
                Some("") => Err(ValueError::NoColumn { value: value() }),
                Some(column) => Ok(MappingValue::Column(column.to_owned())),
                None if inner.starts_with("run.") => {
                    Err(ValueError::RunReference { value: value() })
                }
                None => Err(ValueError::UnknownReference { value: value() }),
            };
        }
        if raw.contains("${") {
            // Not a template: a value is one reference or plain text, as in Prompt flow.
            return Err(ValueError::UnknownReference { value: value() });
        }
        Ok(MappingValue::Static(Value::String(raw.to_owned())))
    }

    /// The text it was parsed from (`${data.COLUMN}` or the static text), as stored.
    pub fn to_text(&self) -> String {
        match self {
            MappingValue::Column(column) => format!("${{data.{column}}}"),
            MappingValue::Static(Value::String(text)) => text.clone(),
            MappingValue::Static(value) => value.to_string(),
        }
    }
}

/// Why a mapping value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error(
        "`{value}` reads another run, which only an evaluation run has; map the input to a column (`${{data.COLUMN}}`) or a static value"
    )]
    RunReference { value: String },
    #[error(
        "`{value}` is not a reference a batch knows; write `${{data.COLUMN}}` to read a column, or text without `${{` for a static value"
    )]
    UnknownReference { value: String },
    #[error("`{value}` names no column; write `${{data.COLUMN}}`")]
    NoColumn { value: String },
}

/// Why a mapping cannot be used with a flow and its data. Raised before any row runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("`{pair}` is not INPUT=VALUE; write it as question='${{data.question}}'")]
    Pair { pair: String },
    #[error("`{pair}` names no input before `=`; write INPUT=VALUE")]
    NoInput { pair: String },
    #[error("the input `{input}` is mapped twice; keep one mapping for it")]
    Duplicate { input: String },
    #[error("input `{input}`: {source}")]
    Value { input: String, source: ValueError },
    #[error(
        "the flow has no input `{input}` (its inputs: {known}); fix the name in the mapping or remove it"
    )]
    UnknownInput { input: String, known: String },
    #[error(
        "the input `{input}` is mapped to the column `{column}`, which the CSV header does not have (its columns: {columns}); fix the column in the mapping"
    )]
    ColumnAbsent {
        input: String,
        column: String,
        columns: String,
    },
    #[error(
        "nothing fills the flow input `{input}`: it has no mapping and no default, and the data has no `{input}` column (its columns: {columns}); map it to a column (`${{data.COLUMN}}`) or a static value, or give the input a default"
    )]
    Unfilled { input: String, columns: String },
    #[error(
        "the input `{input}` takes {} but its static value is {}; {}",
        expected_text(*.expected), shown(.value), hint(*.expected)
    )]
    StaticValue {
        input: String,
        expected: ValueType,
        /// `None` for a secret input.
        value: Option<String>,
    },
}

/// Why one row gives no inputs: that row fails, the others run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowFailure {
    #[error(
        "the row has no `{column}` column, which the input `{input}` reads; add it to the row or change the mapping"
    )]
    MissingColumn { column: String, input: String },
    #[error(
        "the input `{input}` takes {} but the `{column}` column holds {}; {}",
        expected_text(*.expected), shown(.value), hint(*.expected)
    )]
    Coerce {
        input: String,
        column: String,
        expected: ValueType,
        /// `None` for a secret input.
        value: Option<String>,
    },
    #[error(
        "the input `{input}` takes {} but its static value is not one; {}",
        expected_text(*.expected), hint(*.expected)
    )]
    Static { input: String, expected: ValueType },
}

/// Flow input → where its value comes from. Inputs without an entry take their default, or
/// else the column of their name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnMapping(pub BTreeMap<String, MappingValue>);

impl ColumnMapping {
    /// `INPUT=VALUE` pairs, as given to `--column-mapping`.
    pub fn parse(pairs: &[String]) -> Result<ColumnMapping, MappingError> {
        let mut mapping = BTreeMap::new();
        for pair in pairs {
            let Some((input, value)) = pair.split_once('=') else {
                return Err(MappingError::Pair { pair: pair.clone() });
            };
            let input = input.trim();
            if input.is_empty() {
                return Err(MappingError::NoInput { pair: pair.clone() });
            }
            if mapping.contains_key(input) {
                return Err(MappingError::Duplicate {
                    input: input.to_owned(),
                });
            }
            mapping.insert(input.to_owned(), value_of(input, value)?);
        }
        Ok(ColumnMapping(mapping))
    }

    /// The mapping as the app sends and the store keeps it: input → text.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<ColumnMapping, MappingError> {
        map.iter()
            .map(|(input, value)| Ok((input.clone(), value_of(input, value)?)))
            .collect::<Result<_, _>>()
            .map(ColumnMapping)
    }

    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(input, value)| (input.clone(), value.to_text()))
            .collect()
    }

    /// Before any row runs: every mapped input exists, every mapped column is in the CSV header
    /// (a JSONL row may have keys the first one lacks, so there each row is checked as it comes),
    /// every static value is of its input's type, and every input is filled by something.
    pub fn check(
        &self,
        flow: &FlowDocument,
        columns: &[String],
        format: DataFormat,
    ) -> Result<(), MappingError> {
        let listed = |names: &mut dyn Iterator<Item = &String>| {
            let list: Vec<&str> = names.map(String::as_str).collect();
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        };
        for (input, value) in &self.0 {
            let Some(spec) = flow.inputs.get(input) else {
                return Err(MappingError::UnknownInput {
                    input: input.clone(),
                    known: listed(&mut flow.inputs.keys()),
                });
            };
            match value {
                MappingValue::Column(column) => {
                    if format == DataFormat::Csv && !columns.contains(column) {
                        return Err(MappingError::ColumnAbsent {
                            input: input.clone(),
                            column: column.clone(),
                            columns: listed(&mut columns.iter()),
                        });
                    }
                }
                MappingValue::Static(value) => {
                    if static_value(spec, value).is_none() {
                        return Err(MappingError::StaticValue {
                            input: input.clone(),
                            expected: spec.kind,
                            value: visible(
                                flow,
                                input,
                                &MappingValue::Static(value.clone()).to_text(),
                            ),
                        });
                    }
                }
            }
        }
        for (input, spec) in &flow.inputs {
            if !self.0.contains_key(input) && spec.default.is_none() && !columns.contains(input) {
                return Err(MappingError::Unfilled {
                    input: input.clone(),
                    columns: listed(&mut columns.iter()),
                });
            }
        }
        Ok(())
    }

    /// One row's flow inputs. An input with no mapping and a default is left out: the engine
    /// gives it its default. CSV cells, all text, are read as the input's type; JSONL values
    /// are passed as they are, and the engine checks their type.
    pub fn inputs(
        &self,
        flow: &FlowDocument,
        row: &Map<String, Value>,
        format: DataFormat,
    ) -> Result<Map<String, Value>, RowFailure> {
        let mut inputs = Map::new();
        for (input, spec) in &flow.inputs {
            let column = match self.0.get(input) {
                Some(MappingValue::Static(value)) => {
                    let value = static_value(spec, value).ok_or_else(|| RowFailure::Static {
                        input: input.clone(),
                        expected: spec.kind,
                    })?;
                    inputs.insert(input.clone(), value);
                    continue;
                }
                Some(MappingValue::Column(column)) => column,
                None if spec.default.is_some() => continue,
                None => input,
            };
            let Some(value) = row.get(column) else {
                return Err(RowFailure::MissingColumn {
                    column: column.clone(),
                    input: input.clone(),
                });
            };
            let value = match (format, value) {
                (DataFormat::Csv, Value::String(text)) => {
                    coerce(text, spec.kind).ok_or_else(|| RowFailure::Coerce {
                        input: input.clone(),
                        column: column.clone(),
                        expected: spec.kind,
                        value: visible(flow, input, text),
                    })?
                }
                _ => value.clone(),
            };
            inputs.insert(input.clone(), value);
        }
        Ok(inputs)
    }

    /// The mapping the app proposes: each input to the column of its name, compared without
    /// case when no column has exactly its name; inputs without such a column stay unmapped.
    pub fn suggest(flow: &FlowDocument, columns: &[String]) -> ColumnMapping {
        ColumnMapping(
            flow.inputs
                .keys()
                .filter_map(|input| {
                    let folded = input.to_lowercase();
                    columns
                        .iter()
                        .find(|column| *column == input)
                        .or_else(|| columns.iter().find(|c| c.to_lowercase() == folded))
                        .map(|column| (input.clone(), MappingValue::Column(column.clone())))
                })
                .collect(),
        )
    }
}

fn value_of(input: &str, raw: &str) -> Result<MappingValue, MappingError> {
    MappingValue::parse(raw).map_err(|source| MappingError::Value {
        input: input.to_owned(),
        source,
    })
}

/// A static value for this input: text is read as the input's type, like a CSV cell.
fn static_value(spec: &FlowInput, value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => coerce(text, spec.kind),
        other => Some(other.clone()),
    }
}

/// Text as a value of `kind`: numbers as integers when they are, `true`/`false` in any case,
/// objects and lists as JSON; text (and `any`) stays text.
fn coerce(text: &str, kind: ValueType) -> Option<Value> {
    let trimmed = text.trim();
    match kind {
        ValueType::String | ValueType::Any => Some(Value::String(text.to_owned())),
        ValueType::Number => trimmed.parse::<i64>().map(Value::from).ok().or_else(|| {
            trimmed
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        }),
        ValueType::Bool => {
            if trimmed.eq_ignore_ascii_case("true") {
                Some(Value::Bool(true))
            } else if trimmed.eq_ignore_ascii_case("false") {
                Some(Value::Bool(false))
            } else {
                None
            }
        }
        ValueType::Object | ValueType::Connection => serde_json::from_str::<Value>(trimmed)
            .ok()
            .filter(Value::is_object),
        ValueType::List => serde_json::from_str::<Value>(trimmed)
            .ok()
            .filter(Value::is_array),
    }
}

/// The value for a message: cut to 80 characters, and never a secret input's.
fn visible(flow: &FlowDocument, input: &str, text: &str) -> Option<String> {
    if weft_flow::secret_inputs(flow).contains(input) {
        None
    } else {
        Some(text.chars().take(80).collect())
    }
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(value) => format!("`{value}`"),
        None => "a value (not shown: the input is secret)".to_owned(),
    }
}

fn expected_text(kind: ValueType) -> &'static str {
    match kind {
        ValueType::String | ValueType::Any => "text",
        ValueType::Number => "a number",
        ValueType::Bool => "true or false",
        ValueType::Object => "a JSON object",
        ValueType::List => "a JSON list",
        ValueType::Connection => "a connection object",
    }
}

fn hint(kind: ValueType) -> &'static str {
    match kind {
        ValueType::String | ValueType::Any => "give it text",
        ValueType::Number => "write a number such as 3 or 0.5",
        ValueType::Bool => "write true or false",
        ValueType::Object | ValueType::Connection => "write a JSON object such as {\"a\": 1}",
        ValueType::List => "write a JSON list such as [1, 2]",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn flow(inputs: &str) -> FlowDocument {
        FlowDocument::parse(&format!("schema: 1\ninputs:\n{inputs}")).unwrap()
    }

    /// The inputs of Prompt flow's precedence example, and one of each type.
    fn typed_flow() -> FlowDocument {
        flow(
            "  question: {type: string}
  temperature: {type: number}
  verbose: {type: bool, default: false}
  meta: {type: object}
  tags: {type: list}
  extra: {type: any}
  pin: {type: number, secret: true}
",
        )
    }

    fn mapping(pairs: &[&str]) -> ColumnMapping {
        let pairs: Vec<String> = pairs.iter().map(|p| p.to_string()).collect();
        ColumnMapping::parse(&pairs).unwrap()
    }

    fn row(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn values_are_a_data_column_or_static_text() {
        let parse = |raw: &str| MappingValue::parse(raw);
        assert_eq!(
            parse("${data.question}"),
            Ok(MappingValue::Column("question".into()))
        );
        assert_eq!(
            parse(" ${data. q a } "),
            Ok(MappingValue::Column("q a".into()))
        );
        assert_eq!(
            parse("friendly"),
            Ok(MappingValue::Static(json!("friendly")))
        );
        assert_eq!(parse(" 0.2"), Ok(MappingValue::Static(json!(" 0.2"))));
        assert_eq!(parse(""), Ok(MappingValue::Static(json!(""))));
        for refused in ["${data.}", "${data. }"] {
            assert!(
                matches!(parse(refused), Err(ValueError::NoColumn { .. })),
                "{refused}"
            );
        }
        for other in [
            "${inputs.x}",
            "${data}",
            "Hello ${data.name}",
            "${data.a}${data.b}",
        ] {
            assert!(
                matches!(parse(other), Err(ValueError::UnknownReference { .. })),
                "{other}"
            );
        }
    }

    #[test]
    fn run_references_are_for_evaluation_runs() {
        for raw in ["${run.outputs.answer}", "${run.inputs.question}"] {
            let err = MappingValue::parse(raw).unwrap_err();
            assert!(matches!(err, ValueError::RunReference { .. }), "{raw}");
            assert!(err.to_string().contains("evaluation run"), "{err}");
        }
        let pairs = vec!["answer=${run.outputs.answer}".to_string()];
        let err = ColumnMapping::parse(&pairs).unwrap_err();
        assert!(err.to_string().starts_with("input `answer`: "), "{err}");
    }

    #[test]
    fn pairs_are_input_equals_value() {
        let parsed = mapping(&["question=${data.q}", " tone =a=b"]);
        assert_eq!(
            parsed.0,
            BTreeMap::from([
                ("question".to_string(), MappingValue::Column("q".into())),
                ("tone".to_string(), MappingValue::Static(json!("a=b"))),
            ])
        );
        let parse = |pairs: &[&str]| {
            ColumnMapping::parse(&pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        };
        assert!(matches!(
            parse(&["question"]),
            Err(MappingError::Pair { .. })
        ));
        assert!(matches!(parse(&[" =x"]), Err(MappingError::NoInput { .. })));
        assert_eq!(
            parse(&["a=1", "a=${data.a}"]),
            Err(MappingError::Duplicate { input: "a".into() })
        );
    }

    #[test]
    fn the_stored_map_reads_back() {
        let parsed = mapping(&["question=${data.q}", "tone=friendly"]);
        let map = parsed.to_map();
        assert_eq!(
            map,
            BTreeMap::from([
                ("question".to_string(), "${data.q}".to_string()),
                ("tone".to_string(), "friendly".to_string()),
            ])
        );
        assert_eq!(ColumnMapping::from_map(&map), Ok(parsed));
        let bad = BTreeMap::from([("x".to_string(), "${run.outputs.y}".to_string())]);
        assert!(matches!(
            ColumnMapping::from_map(&bad),
            Err(MappingError::Value {
                source: ValueError::RunReference { .. },
                ..
            })
        ));
    }

    /// Prompt flow's example: mapping > default > the column of the same name.
    #[test]
    fn precedence_is_mapping_then_default_then_same_named_column() {
        let flow = flow(
            "  input1: {type: string, default: default_val1}
  input2: {type: string, default: default_val2}
  input3: {type: string}
  input4: {type: string}
",
        );
        let mapping = mapping(&["input1=${data.source}", "input3=static_val3"]);
        let row = row(json!({
            "input1": "val1_in_data", "input2": "val2_in_data", "input3": "val3_in_data",
            "input4": "val4_in_data", "source": "mapped_val1",
        }));
        for format in [DataFormat::Jsonl, DataFormat::Csv] {
            let inputs = mapping.inputs(&flow, &row, format).unwrap();
            // input2 is left out: the engine gives it its default.
            assert_eq!(
                Value::Object(inputs),
                json!({"input1": "mapped_val1", "input3": "static_val3", "input4": "val4_in_data"})
            );
        }
    }

    #[test]
    fn a_missing_mapped_column_fails_the_row_naming_it() {
        let flow = flow("  q: {type: string}\n  other: {type: string}\n");
        let mapping = mapping(&["q=${data.question}"]);
        let err = mapping
            .inputs(&flow, &row(json!({"other": "x"})), DataFormat::Jsonl)
            .unwrap_err();
        assert_eq!(
            err,
            RowFailure::MissingColumn {
                column: "question".into(),
                input: "q".into()
            }
        );
        assert!(err.to_string().contains("no `question` column"), "{err}");
        // An unmapped input without a default reads the column of its name, and fails the same way.
        let err = mapping
            .inputs(&flow, &row(json!({"question": "x"})), DataFormat::Jsonl)
            .unwrap_err();
        assert_eq!(
            err,
            RowFailure::MissingColumn {
                column: "other".into(),
                input: "other".into()
            }
        );
    }

    #[test]
    fn csv_cells_are_read_as_the_inputs_type() {
        let flow = typed_flow();
        let row = row(json!({
            "question": " 42 ", "temperature": " 0.5", "verbose": "TRUE", "meta": "{\"a\": [1]}",
            "tags": " [1, \"two\"] ", "extra": "7", "pin": "1234",
        }));
        let mapping = mapping(&["verbose=${data.verbose}"]);
        let inputs = mapping.inputs(&flow, &row, DataFormat::Csv).unwrap();
        assert_eq!(
            Value::Object(inputs),
            json!({
                "question": " 42 ", "temperature": 0.5, "verbose": true, "meta": {"a": [1]},
                "tags": [1, "two"], "extra": "7", "pin": 1234,
            })
        );
        for (text, number) in [("3", json!(3)), ("-7", json!(-7)), ("1e3", json!(1000.0))] {
            assert_eq!(coerce(text, ValueType::Number), Some(number), "{text}");
        }
        assert_eq!(coerce("False", ValueType::Bool), Some(json!(false)));
        assert_eq!(coerce("{}", ValueType::Connection), Some(json!({})));
        for (text, kind) in [
            ("", ValueType::Number),
            ("NaN", ValueType::Number),
            ("inf", ValueType::Number),
            ("yes", ValueType::Bool),
            ("[1]", ValueType::Object),
            ("{\"a\": 1}", ValueType::List),
            ("{not json", ValueType::Object),
        ] {
            assert_eq!(coerce(text, kind), None, "{text} as {kind:?}");
        }
    }

    #[test]
    fn a_cell_of_the_wrong_type_fails_the_row_naming_input_and_column() {
        let flow = typed_flow();
        let mapping = mapping(&["temperature=${data.temp}"]);
        let mut cells = row(json!({
            "question": "q", "temp": "warm", "meta": "{}", "tags": "[]", "extra": "", "pin": "1",
        }));
        let err = mapping.inputs(&flow, &cells, DataFormat::Csv).unwrap_err();
        assert_eq!(
            err,
            RowFailure::Coerce {
                input: "temperature".into(),
                column: "temp".into(),
                expected: ValueType::Number,
                value: Some("warm".into()),
            }
        );
        assert_eq!(
            err.to_string(),
            "the input `temperature` takes a number but the `temp` column holds `warm`; write a number such as 3 or 0.5"
        );
        // A secret input's cell is never repeated in the message.
        cells.insert("temp".into(), json!("0.1"));
        cells.insert("pin".into(), json!("s3cr3t"));
        let err = mapping.inputs(&flow, &cells, DataFormat::Csv).unwrap_err();
        assert!(matches!(&err, RowFailure::Coerce { input, value: None, .. } if input == "pin"));
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }

    #[test]
    fn jsonl_values_pass_as_they_are() {
        let flow = typed_flow();
        let given = json!({
            "question": 42, "temperature": "0.5", "meta": [1], "tags": "x", "extra": {"a": 1}, "pin": "1",
        });
        let inputs = ColumnMapping::default()
            .inputs(&flow, &row(given.clone()), DataFormat::Jsonl)
            .unwrap();
        assert_eq!(Value::Object(inputs), given);
    }

    #[test]
    fn static_values_are_read_as_the_inputs_type() {
        let flow = typed_flow();
        let cells =
            row(json!({"question": "q", "meta": "{}", "tags": "[]", "extra": "", "pin": "1"}));
        let good = mapping(&["temperature=0.2", "verbose=true", "extra=anything"]);
        good.check(
            &flow,
            &columns(&["question", "meta", "tags", "pin"]),
            DataFormat::Csv,
        )
        .unwrap();
        let inputs = good.inputs(&flow, &cells, DataFormat::Csv).unwrap();
        assert_eq!(inputs["temperature"], json!(0.2));
        assert_eq!(inputs["verbose"], json!(true));
        assert_eq!(inputs["extra"], json!("anything"));

        let bad = mapping(&["temperature=warm"]);
        let err = bad
            .check(
                &flow,
                &columns(&["question", "meta", "tags", "pin"]),
                DataFormat::Jsonl,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the input `temperature` takes a number but its static value is `warm`; write a number such as 3 or 0.5"
        );
        assert_eq!(
            bad.inputs(&flow, &cells, DataFormat::Jsonl),
            Err(RowFailure::Static {
                input: "temperature".into(),
                expected: ValueType::Number
            })
        );
        let secret = mapping(&["pin=hunter2", "temperature=1"]);
        let err = secret.check(
            &flow,
            &columns(&["question", "meta", "tags"]),
            DataFormat::Csv,
        );
        let err = err.unwrap_err().to_string();
        assert!(err.contains("`pin`") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn check_finds_unknown_and_unfillable_inputs_and_absent_columns() {
        let flow = flow("  question: {type: string}\n  tone: {type: string, default: plain}\n");
        let header = columns(&["question", "answer"]);
        ColumnMapping::default()
            .check(&flow, &header, DataFormat::Csv)
            .unwrap();

        let err = mapping(&["questoin=${data.question}"])
            .check(&flow, &header, DataFormat::Csv)
            .unwrap_err();
        assert_eq!(
            err,
            MappingError::UnknownInput {
                input: "questoin".into(),
                known: "question, tone".into()
            }
        );

        let err = ColumnMapping::default()
            .check(&flow, &columns(&["q", "answer"]), DataFormat::Csv)
            .unwrap_err();
        assert_eq!(
            err,
            MappingError::Unfilled {
                input: "question".into(),
                columns: "q, answer".into()
            }
        );
        assert!(err.to_string().contains("${data.COLUMN}"), "{err}");
        let err = ColumnMapping::default()
            .check(&flow, &[], DataFormat::Jsonl)
            .unwrap_err();
        assert!(err.to_string().contains("(its columns: none)"), "{err}");

        let absent = mapping(&["question=${data.prompt}"]);
        let err = absent.check(&flow, &header, DataFormat::Csv).unwrap_err();
        assert_eq!(
            err,
            MappingError::ColumnAbsent {
                input: "question".into(),
                column: "prompt".into(),
                columns: "question, answer".into(),
            }
        );
        // A JSONL row may have keys the first one lacks: each row is checked as it comes.
        absent.check(&flow, &header, DataFormat::Jsonl).unwrap();
    }

    #[test]
    fn suggest_maps_inputs_to_columns_by_name_without_case() {
        let flow = flow(
            "  question: {type: string}\n  Temperature: {type: number}\n  tone: {type: string}\n",
        );
        let suggested = ColumnMapping::suggest(
            &flow,
            &columns(&["QUESTION", "question", "temperature", "x"]),
        );
        assert_eq!(
            suggested.to_map(),
            BTreeMap::from([
                ("question".to_string(), "${data.question}".to_string()),
                ("Temperature".to_string(), "${data.temperature}".to_string()),
            ])
        );
        let suggested = ColumnMapping::suggest(&flow, &columns(&["Question"]));
        assert_eq!(
            suggested.0["question"],
            MappingValue::Column("Question".into())
        );
    }
}
