//! Reading agents' JSON output lines, the same lenient way for every CLI.
//!
//! CLIs change often and a tool's raw bytes can end up inside a line, so a line that is not JSON
//! gives nothing and invalid UTF-8 costs only the bytes it spoils, never the line.

use serde_json::Value;

/// Longest tool argument summary shown in progress messages.
pub const SUMMARY_CHARS: usize = 60;

/// One output line as JSON; `None` when it is not JSON at all.
pub fn parse(line: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(line)
        .or_else(|e| match std::str::from_utf8(line) {
            Ok(_) => Err(e),
            // A tool's raw bytes (or a cut multi-byte character) in a line must not cost the
            // answer: read it with the invalid bytes replaced.
            Err(_) => serde_json::from_str(&String::from_utf8_lossy(line)),
        })
        .ok()
}

/// A string field of an object.
pub fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A text as a progress summary: its first line, trimmed, at most [`SUMMARY_CHARS`].
pub fn summary(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or_default().trim();
    truncate(first_line, SUMMARY_CHARS)
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max_chars - 1).collect();
        format!("{cut}…")
    }
}
