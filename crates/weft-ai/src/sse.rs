//! Server-sent events, as the chat APIs stream them: `data: {json}` events separated by blank
//! lines, ending with `data: [DONE]`. Chunks from the network split lines anywhere.

use crate::InferenceError;

#[derive(Debug)]
pub(crate) struct SseDecoder {
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no line end: each byte is searched once, so a long
    /// line arriving in many chunks costs linear time, not quadratic.
    scanned: usize,
    data: Option<String>,
    /// The longest line, and the largest event, accepted.
    max_line: usize,
}

impl SseDecoder {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            pending: Vec::new(),
            scanned: 0,
            data: None,
            max_line,
        }
    }

    /// Feeds bytes; returns the data of every event they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, InferenceError> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        let mut from = self.scanned;
        loop {
            let Some(found) = self.pending[from..]
                .iter()
                .position(|b| matches!(b, b'\n' | b'\r'))
            else {
                from = self.pending.len();
                break;
            };
            let end = from + found;
            let skip = match (self.pending[end], self.pending.get(end + 1)) {
                // A "\r\n" split across chunks: wait for the next byte to know.
                (b'\r', None) => {
                    from = end;
                    break;
                }
                (b'\r', Some(b'\n')) => 2,
                _ => 1,
            };
            take_line(
                &self.pending[start..end],
                &mut self.data,
                self.max_line,
                &mut events,
            )?;
            start = end + skip;
            from = start;
        }
        self.pending.drain(..start);
        self.scanned = from - start;
        if self.pending.len() > self.max_line {
            return Err(too_large(self.max_line));
        }
        Ok(events)
    }

    /// The stream ended: a last line without its line end, and an event without its closing
    /// blank line, still count.
    pub(crate) fn finish(&mut self) -> Result<Option<String>, InferenceError> {
        let mut events = Vec::new();
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            let line = rest.strip_suffix(b"\r").unwrap_or(&rest);
            take_line(line, &mut self.data, self.max_line, &mut events)?;
        }
        Ok(events.pop().or_else(|| self.data.take()))
    }
}

fn too_large(limit: usize) -> InferenceError {
    InferenceError::TooLarge {
        what: "line of the stream",
        limit,
    }
}

fn take_line(
    line: &[u8],
    data: &mut Option<String>,
    max: usize,
    events: &mut Vec<String>,
) -> Result<(), InferenceError> {
    if line.len() > max {
        return Err(too_large(max));
    }
    let line = std::str::from_utf8(line).map_err(|_| InferenceError::Protocol {
        what: "the stream is not UTF-8".into(),
    })?;
    if line.is_empty() {
        if let Some(data) = data.take() {
            events.push(data);
        }
        return Ok(());
    }
    let (field, value) = match line.split_once(':') {
        Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
        None => (line, ""),
    };
    // Comments (":keep-alive"), `event:`, `id:` and `retry:` carry nothing we use.
    if field == "data" {
        match data {
            Some(data) if data.len() + 1 + value.len() > max => {
                return Err(InferenceError::TooLarge {
                    what: "event of the stream",
                    limit: max,
                });
            }
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => *data = Some(value.to_owned()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_any_chunking_and_line_ending() {
        let stream = ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        for size in 1..stream.len() {
            let mut decoder = SseDecoder::new(1024);
            let mut events = Vec::new();
            for chunk in stream.as_bytes().chunks(size) {
                events.extend(decoder.push(chunk).unwrap());
            }
            assert_eq!(
                events,
                ["{\"a\":1}", "line1\nline2", "[DONE]"],
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn a_last_event_without_blank_line_is_kept() {
        let mut decoder = SseDecoder::new(1024);
        assert!(decoder.push(b"data: tail").unwrap().is_empty());
        assert!(decoder.push(b"\n").unwrap().is_empty());
        assert_eq!(decoder.finish().unwrap().as_deref(), Some("tail"));
    }

    #[test]
    fn a_last_line_without_its_line_end_is_kept() {
        for end in ["", "\r"] {
            let mut decoder = SseDecoder::new(1024);
            let head = decoder.push(b"data: {}\n\n").unwrap();
            assert_eq!(head, ["{}"]);
            assert!(
                decoder
                    .push(format!("data: [DONE]{end}").as_bytes())
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                decoder.finish().unwrap().as_deref(),
                Some("[DONE]"),
                "{end:?}"
            );
        }
    }

    #[test]
    fn a_line_or_an_event_over_the_limit_is_refused() {
        let mut decoder = SseDecoder::new(16);
        assert!(decoder.push(b"data: 0123456789").unwrap().is_empty());
        let err = decoder.push(b"x").unwrap_err();
        assert!(
            matches!(err, InferenceError::TooLarge { limit: 16, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the line of the stream is larger than 16 bytes; check that the endpoint URL points at an inference API"
        );

        let mut decoder = SseDecoder::new(16);
        let err = decoder
            .push(b"data: 01234567\ndata: 01234567\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the event of the stream is larger than 16 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_long_line_is_searched_once() {
        let mut decoder = SseDecoder::new(1 << 20);
        for _ in 0..1000 {
            assert!(decoder.push(&[b'x'; 512]).unwrap().is_empty());
            assert_eq!(decoder.scanned, decoder.pending.len());
        }
        let events = decoder.push(b"\n\n").unwrap();
        assert_eq!(events.len(), 0, "a line without `data:` is no event");
        assert_eq!((decoder.scanned, decoder.pending.len()), (0, 0));
    }
}
