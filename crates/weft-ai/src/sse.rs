//! Server-sent events, as the chat APIs stream them: `data: {json}` events separated by blank
//! lines, ending with `data: [DONE]`. Chunks from the network split lines anywhere.

#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    pending: Vec<u8>,
    data: Option<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the data of every event they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
            // A "\r\n" split across chunks: wait for the next byte to know.
            if self.pending[end] == b'\r' && end + 1 == self.pending.len() {
                break;
            }
            let skip = if self.pending[end] == b'\r' && self.pending.get(end + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            let line: Vec<u8> = self.pending.drain(..end + skip).take(end).collect();
            let line = String::from_utf8(line).map_err(|_| "the stream is not UTF-8".to_owned())?;
            self.line(&line, &mut events);
        }
        Ok(events)
    }

    /// The stream ended: an event without its closing blank line still counts.
    pub(crate) fn finish(&mut self) -> Option<String> {
        self.data.take()
    }

    fn line(&mut self, line: &str, events: &mut Vec<String>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                events.push(data);
            }
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        // Comments (":keep-alive"), `event:`, `id:` and `retry:` carry nothing we use.
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_any_chunking_and_line_ending() {
        let stream = ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        for size in 1..stream.len() {
            let mut decoder = SseDecoder::default();
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
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: tail").unwrap().is_empty());
        assert!(decoder.push(b"\n").unwrap().is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("tail"));
    }
}
