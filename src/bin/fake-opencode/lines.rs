//! Every output line, built from a captured sample line by replacing values only.
//!
//! The samples in `tests/fixtures/agent-cli/opencode/` were captured from the real OpenCode
//! 1.18.33; each function picks the sample line for its situation and replaces ids, texts and
//! numbers, so keys, nesting and key order stay the real ones. The shape tests in
//! `tests/e2e/fake_opencode.rs` compare each scenario against the same files.
//!
//! What no sample shows is marked `INVENTED`: the error line of a refused connection.

use crate::tree::Node;

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!(
            "../../../tests/fixtures/agent-cli/opencode/",
            $name
        ))
    };
}

const PLAIN: &str = sample!("plain-answer.jsonl");
const BASH: &str = sample!("tool-turn-bash.jsonl");
const WRITE: &str = sample!("tool-turn-write.jsonl");
const DENIED: &str = sample!("tool-denied-by-rule.jsonl");
const API_ERROR: &str = sample!("api-error-500.jsonl");

pub const VERSION: &str = "1.18.33";

/// The stderr of a `--session` id that has no session: red, bold, even into a file.
pub const SESSION_NOT_FOUND: &str = "\u{1b}[91m\u{1b}[1mError: \u{1b}[0mSession not found";
/// The stderr of a run without a prompt.
pub const NO_MESSAGE: &str =
    "\u{1b}[91m\u{1b}[1mError: \u{1b}[0mYou must provide a message or a command";

fn sample_line(file: &str, index: usize) -> Node {
    let line = file.lines().nth(index).expect("sample line exists");
    Node::parse(line).expect("sample line is JSON")
}

/// What every line of one step carries: the session, the step's message, the time.
pub struct Ids<'a> {
    pub session: &'a str,
    pub message: &'a str,
    pub part: &'a str,
    pub now_ms: u64,
}

/// A line's envelope and its part's ids.
fn stamped(mut node: Node, ids: &Ids<'_>) -> Node {
    node.set(&["timestamp"], ids.now_ms);
    node.set(&["sessionID"], ids.session);
    node.set(&["part", "id"], ids.part);
    node.set(&["part", "messageID"], ids.message);
    node.set(&["part", "sessionID"], ids.session);
    node
}

pub fn step_start(ids: &Ids<'_>) -> Node {
    stamped(sample_line(PLAIN, 0), ids)
}

pub fn text(ids: &Ids<'_>, text: &str) -> Node {
    let mut node = stamped(sample_line(PLAIN, 1), ids);
    node.set(&["part", "text"], text);
    node.set(&["part", "time", "start"], ids.now_ms);
    node.set(&["part", "time", "end"], ids.now_ms);
    node
}

/// How a tool call ended.
pub enum ToolEnd<'a> {
    /// `bash`: its output and exit code (OpenCode reports a failing command as completed).
    Bash { output: &'a str, exit: i32 },
    /// `write`: the absolute path written, and whether it existed before.
    Write { path: &'a str, existed: bool },
    /// Any other tool: its output.
    Other { output: &'a str },
    /// A `deny` permission rule refused it.
    Denied,
}

/// A finished tool call: `tool` with `input`, ended as `end`, titled `title`.
pub fn tool_use(
    ids: &Ids<'_>,
    call_id: &str,
    tool: &str,
    input: Node,
    title: &str,
    end: ToolEnd<'_>,
) -> Node {
    let mut node = match end {
        ToolEnd::Denied => sample_line(DENIED, 1),
        ToolEnd::Write { .. } => sample_line(WRITE, 1),
        ToolEnd::Bash { .. } | ToolEnd::Other { .. } => sample_line(BASH, 1),
    };
    node = stamped(node, ids);
    node.set(&["part", "tool"], tool);
    node.set(&["part", "callID"], call_id);
    node.set(&["part", "state", "input"], input);
    node.set(&["part", "state", "time", "start"], ids.now_ms);
    node.set(&["part", "state", "time", "end"], ids.now_ms);
    match end {
        ToolEnd::Denied => {}
        ToolEnd::Bash { output, exit } => {
            let output = if output.is_empty() {
                "(no output)"
            } else {
                output
            };
            node.set(&["part", "state", "output"], output);
            node.set(&["part", "state", "metadata", "output"], output);
            node.set(
                &["part", "state", "metadata", "exit"],
                serde_json::Value::from(exit),
            );
            node.set(&["part", "state", "title"], title);
        }
        ToolEnd::Write { path, existed } => {
            node.set(&["part", "state", "metadata", "filepath"], path);
            node.set(&["part", "state", "metadata", "exists"], existed);
            node.set(&["part", "state", "title"], title);
        }
        ToolEnd::Other { output } => {
            node.set(&["part", "state", "output"], output);
            node.set(&["part", "state", "metadata", "output"], output);
            node.set(&["part", "state", "title"], title);
        }
    }
    node
}

/// A step's end: `tool-calls` when tools ran, `stop` for the answer.
pub fn step_finish(ids: &Ids<'_>, reason: &str, input: u64, output: u64) -> Node {
    let mut node = stamped(sample_line(PLAIN, 2), ids);
    node.set(&["part", "reason"], reason);
    node.set(&["part", "tokens", "total"], input + output);
    node.set(&["part", "tokens", "input"], input);
    node.set(&["part", "tokens", "output"], output);
    node
}

/// OpenCode gave up on the model API: HTTP `status`, or (INVENTED) no answer at all.
pub fn api_error(session: &str, now_ms: u64, status: Option<u16>) -> Node {
    let mut node = sample_line(API_ERROR, 0);
    node.set(&["timestamp"], now_ms);
    node.set(&["sessionID"], session);
    let data = ["error", "data"];
    let at = |key: &'static str| [data[0], data[1], key];
    match status {
        Some(500) => {}
        Some(status) => {
            node.set(&at("statusCode"), u64::from(status));
            node.set(&at("message"), format!("fake status {status}"));
            node.set(&at("isRetryable"), status >= 500 || status == 429);
        }
        None => {
            node.set(&at("statusCode"), serde_json::Value::Null);
            node.set(
                &at("message"),
                "Unable to connect. Is the computer able to access the url?",
            );
        }
    }
    node
}
