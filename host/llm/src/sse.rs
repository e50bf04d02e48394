//! A small incremental parser for server-sent events (the `text/event-stream` format of
//! the WHATWG HTML standard), enough for LLM streams: `event:` and `data:` fields,
//! multi-line data, comments, CRLF or LF line ends, chunks split anywhere (also inside a
//! UTF-8 character).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

#[derive(Debug, Default)]
pub(crate) struct Parser {
    buffer: Vec<u8>,
    /// How much of `buffer` is known to hold no line end: a long line arriving in many
    /// chunks is scanned once, not once per chunk.
    scanned: usize,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Feeds a chunk; returns the events it completed.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        let mut from = self.scanned;
        while let Some(pos) = self.buffer[from..].iter().position(|b| *b == b'\n') {
            let end = from + pos;
            let mut line = &self.buffer[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            from = start;
            if let Some(e) = self.line(&line) {
                events.push(e);
            }
        }
        self.buffer.drain(..start);
        self.scanned = self.buffer.len();
        events
    }

    /// Whether bytes of an unfinished event are pending (a stream that ends here was cut).
    pub(crate) fn has_pending(&self) -> bool {
        !self.buffer.is_empty() || self.data.is_some()
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            let data = self.data.take()?;
            return Some(Event { event: self.event.take(), data });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str) -> Event {
        Event { event: event.map(str::to_owned), data: data.to_owned() }
    }

    #[test]
    fn events_split_anywhere() {
        let stream =
            "event: a\ndata: {\"x\":\r\ndata: 1}\r\n\r\n: comment\ndata: é\n\nid: 3\nretry: 5\ndata\n\n";
        let bytes = stream.as_bytes();
        let want = vec![ev(Some("a"), "{\"x\":\n1}"), ev(None, "é"), ev(None, "")];
        for split in 0..bytes.len() {
            let mut p = Parser::default();
            let mut got = p.feed(&bytes[..split]);
            got.extend(p.feed(&bytes[split..]));
            assert_eq!(got, want, "split at {split}");
            assert!(!p.has_pending());
        }
        // Byte by byte, too.
        let mut p = Parser::default();
        let got: Vec<Event> = bytes.iter().flat_map(|b| p.feed(std::slice::from_ref(b))).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_cut_event_is_pending() {
        let mut p = Parser::default();
        assert!(p.feed(b"data: partial\n").is_empty());
        assert!(p.has_pending());
        let mut q = Parser::default();
        assert!(q.feed(b"data: no newline").is_empty());
        assert!(q.has_pending());
        // A blank line without data dispatches nothing.
        assert!(Parser::default().feed(b"event: x\n\n").is_empty());
    }
}
