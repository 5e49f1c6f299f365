//! JSON Lines: one JSON value per line, read with one line in memory.

use std::fmt;
use std::io;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::reader::{BadRow, Lines, RawRow, is_blank};

pub(crate) struct JsonlRows {
    lines: Lines,
}

impl JsonlRows {
    pub(crate) fn new(lines: Lines) -> JsonlRows {
        JsonlRows { lines }
    }

    /// The next non-blank line as a row, with its line number.
    pub(crate) fn next_row(&mut self) -> io::Result<Option<RawRow<Map<String, Value>>>> {
        while self.lines.advance()? {
            if is_blank(self.lines.text()) {
                continue;
            }
            let line = self.lines.line();
            return Ok(Some((line, object(self.lines.text(), line))));
        }
        Ok(None)
    }

    /// The line a failed read was reading.
    pub(crate) fn reading_line(&self) -> u64 {
        self.lines.line() + 1
    }
}

fn object(text: &[u8], line: u64) -> Result<Map<String, Value>, BadRow> {
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(BadRow::NotAnObject { line }),
        Err(err) => Err(BadRow::MalformedJson {
            line,
            message: describe(&err),
        }),
    }
}

/// serde_json's message ends with "at line 1 column 12"; the line is the file's, said once by
/// [`BadRow`], so only the column stays.
fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    if err.column() == 0 {
        message.to_owned()
    } else {
        format!("{message} at column {}", err.column())
    }
}

/// The keys of the first line that is a JSON object, in the file's order (serde_json's `Map`
/// sorts them), read without keeping the values.
pub(crate) fn first_object_keys(mut lines: Lines) -> Result<Vec<String>, (u64, io::Error)> {
    loop {
        match lines.advance() {
            Ok(true) => {}
            Ok(false) => return Ok(Vec::new()),
            Err(err) => return Err((lines.line() + 1, err)),
        }
        if let Ok(Keys(keys)) = serde_json::from_slice::<Keys>(lines.text()) {
            return Ok(keys);
        }
    }
}

struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        deserializer.deserialize_map(KeysVisitor)
    }
}

struct KeysVisitor;

impl<'de> Visitor<'de> for KeysVisitor {
    type Value = Keys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
        let mut keys: Vec<String> = Vec::new();
        while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
            // A repeated key is one field (serde_json keeps the last value).
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(Keys(keys))
    }
}
