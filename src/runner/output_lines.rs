//! A turn's output file, cut into lines as its bytes arrive.
//!
//! The agent writes one JSON object per line; the follower receives the file in chunks of any
//! size, cut anywhere. Two things matter here:
//! - **Linear time.** Only the bytes of each new chunk are scanned for a newline; the held-back
//!   fragment of an unfinished line is never rescanned (a 20 MB line arriving in 16 KB chunks
//!   used to rescan the whole fragment on every chunk: quadratic, minutes of CPU).
//! - **Bounded memory.** A line longer than the reader's limit is not kept: its bytes are counted
//!   and dropped until its newline, and it comes out as [`LineContent::TooLong`] with its length,
//!   so the caller can say so instead of growing without end.
//!
//! Offsets are byte positions in the file; [`OutputLines::consumed`] is the end of the last line
//! handed out, which is where following resumes after a restart (a line is handed out whole or
//! not at all, so a restart re-reads a line it had only partly seen).

/// The longest output line kept (the agent's answer is one line, so this is generous).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One line of output, without its newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// Where the line starts in the file.
    pub offset: u64,
    pub content: LineContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineContent {
    Bytes(Vec<u8>),
    /// Longer than the limit: dropped, `len` bytes (without the newline).
    TooLong {
        len: u64,
    },
}

/// Cuts a stream of chunks into lines.
#[derive(Debug)]
pub struct OutputLines {
    limit: usize,
    /// The end of the last line handed out.
    consumed: u64,
    /// The start of an unfinished line, while it is within the limit.
    partial: Vec<u8>,
    /// Bytes of an unfinished line that went over the limit (and were dropped).
    overflow: Option<u64>,
}

impl OutputLines {
    /// A reader that starts at byte `offset` of the file, keeping lines up to `limit` bytes.
    pub fn new(offset: u64, limit: usize) -> Self {
        Self {
            limit,
            consumed: offset,
            partial: Vec::new(),
            overflow: None,
        }
    }

    /// The end of the last line handed out: where to follow from after a restart.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Takes in the next chunk of the file and hands out the lines it completes.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<OutputLine> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = (&rest[..newline], &rest[newline + 1..]);
            lines.push(self.complete(head));
            rest = tail;
        }
        self.hold(rest);
        lines
    }

    /// The file has ended: an unfinished last line still counts. `None` when nothing was held.
    pub fn finish(&mut self) -> Option<OutputLine> {
        if self.partial.is_empty() && self.overflow.is_none() {
            return None;
        }
        let line = self.complete(&[]);
        // No newline followed it: the file position is one byte short of what `complete` assumed.
        self.consumed -= 1;
        Some(line)
    }

    /// Ends the held line with `head` (the bytes before its newline).
    fn complete(&mut self, head: &[u8]) -> OutputLine {
        let offset = self.consumed;
        let content = match self.overflow.take() {
            Some(dropped) => LineContent::TooLong {
                len: dropped + head.len() as u64,
            },
            None if self.partial.len() + head.len() > self.limit => LineContent::TooLong {
                len: (self.partial.len() + head.len()) as u64,
            },
            None if self.partial.is_empty() => LineContent::Bytes(head.to_vec()),
            None => {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                LineContent::Bytes(line)
            }
        };
        self.partial.clear();
        let len = match &content {
            LineContent::Bytes(bytes) => bytes.len() as u64,
            LineContent::TooLong { len } => *len,
        };
        self.consumed = offset + len + 1;
        OutputLine { offset, content }
    }

    /// Keeps the start of an unfinished line, or only counts it once it is over the limit.
    fn hold(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match &mut self.overflow {
            Some(dropped) => *dropped += bytes.len() as u64,
            None if self.partial.len() + bytes.len() > self.limit => {
                self.overflow = Some((self.partial.len() + bytes.len()) as u64);
                self.partial = Vec::new();
            }
            None => self.partial.extend_from_slice(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(line: &OutputLine) -> &[u8] {
        match &line.content {
            LineContent::Bytes(b) => b,
            LineContent::TooLong { .. } => panic!("{line:?} is too long"),
        }
    }

    /// Whatever the chunking, the same lines at the same offsets come out.
    #[test]
    fn lines_do_not_depend_on_how_the_file_is_cut() {
        let file = b"{\"a\":1}\n\n{\"b\":\"two\"}\nlast without newline";
        let expected = {
            let mut r = OutputLines::new(0, 1024);
            let mut all = r.push(file);
            all.extend(r.finish());
            all
        };
        assert_eq!(expected.len(), 4);
        assert_eq!(bytes(&expected[0]), b"{\"a\":1}");
        assert_eq!(bytes(&expected[1]), b"");
        assert_eq!(
            (expected[2].offset, bytes(&expected[2])),
            (9, &b"{\"b\":\"two\"}"[..])
        );
        assert_eq!(bytes(&expected[3]), b"last without newline");
        for size in 1..file.len() {
            let mut r = OutputLines::new(0, 1024);
            let mut all = Vec::new();
            for chunk in file.chunks(size) {
                all.extend(r.push(chunk));
            }
            all.extend(r.finish());
            assert_eq!(all, expected, "chunks of {size}");
            assert_eq!(r.consumed(), file.len() as u64);
        }
    }

    #[test]
    fn consumed_stops_at_the_last_whole_line() {
        let mut r = OutputLines::new(100, 1024);
        let lines = r.push(b"one\ntw");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].offset, 100);
        assert_eq!(r.consumed(), 104);
        let lines = r.push(b"o\n");
        assert_eq!((lines[0].offset, bytes(&lines[0])), (104, &b"two"[..]));
        assert_eq!(r.consumed(), 108);
        assert_eq!(r.finish(), None);
    }

    /// A line over the limit is dropped as it arrives and reported with its length; the lines
    /// around it are untouched, and memory never holds more than the limit.
    #[test]
    fn an_over_long_line_is_counted_not_kept() {
        let mut r = OutputLines::new(0, 10);
        let mut all = r.push(b"ok\n0123456");
        all.extend(r.push(b"789abcdef"));
        assert!(r.partial.capacity() <= 10, "the long line was not kept");
        all.extend(r.push(b"ghij\nfine\n"));
        assert_eq!(
            all,
            vec![
                OutputLine {
                    offset: 0,
                    content: LineContent::Bytes(b"ok".to_vec())
                },
                OutputLine {
                    offset: 3,
                    content: LineContent::TooLong { len: 20 }
                },
                OutputLine {
                    offset: 24,
                    content: LineContent::Bytes(b"fine".to_vec())
                },
            ]
        );
        assert_eq!(r.consumed(), 29);
        // Exactly at the limit is kept; one over is not, even when it arrives in one chunk.
        let mut r = OutputLines::new(0, 4);
        let lines = r.push(b"abcd\nabcde\n");
        assert_eq!(bytes(&lines[0]), b"abcd");
        assert_eq!(lines[1].content, LineContent::TooLong { len: 5 });
        let mut r = OutputLines::new(0, 4);
        r.push(b"abcdefgh");
        assert_eq!(
            r.finish().map(|l| l.content),
            Some(LineContent::TooLong { len: 8 })
        );
        assert_eq!(r.consumed(), 8);
    }

    /// The case that took 105 s before: a 20 MB line in 16 KB chunks, then the answer.
    #[test]
    fn a_twenty_megabyte_line_arrives_in_small_chunks() {
        let mut r = OutputLines::new(0, MAX_LINE_BYTES);
        let chunk = vec![b'x'; 16 * 1024];
        let mut lines = Vec::new();
        for _ in 0..(20 * 64) {
            lines.extend(r.push(&chunk));
        }
        lines.extend(r.push(b"\n{\"type\":\"result\"}\n"));
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0].content,
            LineContent::TooLong {
                len: 20 * 1024 * 1024
            }
        );
        assert_eq!(bytes(&lines[1]), b"{\"type\":\"result\"}");
        assert_eq!(lines[1].offset, 20 * 1024 * 1024 + 1);
    }
}
