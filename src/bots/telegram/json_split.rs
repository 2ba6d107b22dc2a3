//! Finding the parts of a JSON text without parsing them.
//!
//! Why: serde_json refuses a document nested deeper than 128 levels, and it refuses the whole
//! document — so one update nested too deep would make a whole `getUpdates` answer unreadable,
//! and the poller would ask for the same batch forever (`RawValue` and `IgnoredAny` enforce the
//! same limit). This scanner only finds where each member of an object or element of an array
//! starts and ends: it tracks strings, escapes and brackets with a heap stack, never recursion,
//! so any depth is fine and nothing it reads can overflow the stack. Each part is then parsed
//! on its own, and a bad one fails alone.
//!
//! It checks only what it needs to cut correctly (balanced brackets, closed strings); whether a
//! part is valid JSON is left to the parser that reads it.

use std::fmt;

/// The text is not a JSON object or array this scanner can cut into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Byte offset where the scan gave up.
    pub at: usize,
    pub expected: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed JSON at byte {}: {}", self.at, self.expected)
    }
}

impl std::error::Error for Malformed {}

/// The members of the JSON object `text`, in order: each key (unescaped) and its value's text.
pub fn object_members(text: &str) -> Result<Vec<(String, &str)>, Malformed> {
    let mut scan = Scanner::new(text);
    scan.expect(b'{', "an object")?;
    let mut members = Vec::new();
    if scan.take(b'}') {
        scan.end()?;
        return Ok(members);
    }
    loop {
        scan.skip_ws();
        let key_start = scan.pos;
        if scan.peek() != Some(b'"') {
            return Err(scan.malformed("a key"));
        }
        scan.string()?;
        let key = serde_json::from_str::<String>(&text[key_start..scan.pos])
            .map_err(|_| scan.malformed("a readable key"))?;
        scan.expect(b':', "':'")?;
        members.push((key, scan.value()?));
        if scan.take(b',') {
            continue;
        }
        scan.expect(b'}', "',' or '}'")?;
        scan.end()?;
        return Ok(members);
    }
}

/// The elements of the JSON array `text`, in order, each as its text.
pub fn array_elements(text: &str) -> Result<Vec<&str>, Malformed> {
    let mut scan = Scanner::new(text);
    scan.expect(b'[', "an array")?;
    let mut elements = Vec::new();
    if scan.take(b']') {
        scan.end()?;
        return Ok(elements);
    }
    loop {
        elements.push(scan.value()?);
        if scan.take(b',') {
            continue;
        }
        scan.expect(b']', "',' or ']'")?;
        scan.end()?;
        return Ok(elements);
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn malformed(&self, expected: &'static str) -> Malformed {
        Malformed {
            at: self.pos,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) if it is next.
    fn take(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), Malformed> {
        if self.take(byte) {
            Ok(())
        } else {
            Err(self.malformed(expected))
        }
    }

    /// Only whitespace is left.
    fn end(&mut self) -> Result<(), Malformed> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.malformed("the end of the text")),
        }
    }

    /// Moves past the string starting here (at its opening quote).
    fn string(&mut self) -> Result<(), Malformed> {
        let mut at = self.pos + 1;
        loop {
            match self.bytes.get(at) {
                Some(b'\\') => at += 2,
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(());
                }
                Some(_) => at += 1,
                None => return Err(self.malformed("the end of a string")),
            }
        }
    }

    /// Moves past one value (after whitespace) and returns its text. Containers are matched
    /// with a stack of the closing brackets still owed.
    fn value(&mut self) -> Result<&'a str, Malformed> {
        self.skip_ws();
        let start = self.pos;
        let mut owed: Vec<u8> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(self.malformed("the end of a value")),
                Some(b'"') => self.string()?,
                Some(open @ (b'{' | b'[')) => {
                    owed.push(if open == b'{' { b'}' } else { b']' });
                    self.pos += 1;
                    continue;
                }
                Some(close @ (b'}' | b']')) => {
                    if owed.pop() != Some(close) {
                        return Err(self.malformed("a value"));
                    }
                    self.pos += 1;
                }
                Some(b',' | b':') if !owed.is_empty() => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {
                    let scalar = self.pos;
                    while self.peek().is_some_and(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
                    }) {
                        self.pos += 1;
                    }
                    if self.pos == scalar {
                        return Err(self.malformed("a value"));
                    }
                }
            }
            if owed.is_empty() {
                return Ok(&self.text[start..self.pos]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_split_into_keys_and_raw_values() {
        let text = r#" { "ok" : true, "result": [1, {"a": "]}\"[{"}, "x"], "n\u0041me": -1.5e3 } "#;
        let members = object_members(text).unwrap();
        assert_eq!(
            members,
            vec![
                ("ok".to_owned(), "true"),
                ("result".to_owned(), r#"[1, {"a": "]}\"[{"}, "x"]"#),
                ("nAme".to_owned(), "-1.5e3"),
            ]
        );
        assert_eq!(object_members("{}").unwrap(), vec![]);
    }

    #[test]
    fn arrays_split_into_elements_whatever_their_depth() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = format!(r#"[{{"update_id": 1}}, {deep}, "a,b", null]"#);
        let elements = array_elements(&text).unwrap();
        assert_eq!(elements.len(), 4);
        assert_eq!(elements[0], r#"{"update_id": 1}"#);
        assert_eq!(elements[1].len(), 200_000);
        assert_eq!(elements[2], r#""a,b""#);
        assert_eq!(elements[3], "null");
        assert!(serde_json::from_str::<serde_json::Value>(elements[1]).is_err());
        assert_eq!(array_elements(" [ ] ").unwrap(), Vec::<&str>::new());
        let update = format!(r#"{{"update_id": 7, "message": {deep}}}"#);
        assert_eq!(
            object_members(&update).unwrap()[0],
            ("update_id".to_owned(), "7")
        );
    }

    #[test]
    fn broken_texts_are_refused_not_misread() {
        for text in [
            "",
            "[",
            "[1,",
            "[1 2]",
            "[1]]",
            "[[1}]",
            r#"["open]"#,
            r#"["escaped\"]"#,
            "[1] x",
            "{1: 2}",
            r#"{"a" 1}"#,
            r#"{"a": }"#,
            "[,]",
            "{",
            "}",
            "[\u{1F680}]",
        ] {
            assert!(array_elements(text).is_err(), "{text:?} as an array");
            assert!(object_members(text).is_err(), "{text:?} as an object");
        }
    }
}
