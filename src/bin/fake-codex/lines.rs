//! Every output line, built from a captured sample line by replacing values only.
//!
//! The samples in `tests/fixtures/agent-cli/codex/` were captured from the real Codex CLI
//! 0.169.0; each function picks the sample line for its situation and replaces ids, texts and
//! numbers, so keys, nesting and key order stay the real ones. The shape tests in
//! `tests/e2e/fake_agent.rs` compare each scenario against the same files.
//!
//! What no sample shows is marked `INVENTED`: the `file_change` item (the shape of Codex's
//! published `exec` events) and the failure texts of statuses other than 500.

use crate::tree::Node;

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/agent-cli/codex/", $name))
    };
}

const TOOL_TURN: &str = sample!("exec-tool-turn.jsonl");
const HTTP_500: &str = sample!("exec-http500.jsonl");

/// INVENTED (no sample): a file the agent wrote with its patch tool.
const FILE_CHANGE: &str = r#"{"type":"item.completed","item":{"id":"","type":"file_change","changes":[{"path":"","kind":"add"}],"status":"completed"}}"#;

pub const VERSION: &str = "0.171.0";

fn sample_line(file: &str, index: usize) -> Node {
    let line = file.lines().nth(index).expect("sample line exists");
    Node::parse(line).expect("sample line is JSON")
}

pub fn thread_started(thread_id: &str) -> Node {
    let mut node = sample_line(TOOL_TURN, 0);
    node.set(&["thread_id"], thread_id);
    node
}

pub fn turn_started() -> Node {
    sample_line(TOOL_TURN, 2)
}

/// A shell command the agent started (`item.started`) or that ended with `exit_code`.
pub fn command(item_id: &str, command: &str, ended: Option<(i32, &str)>) -> Node {
    let mut node = sample_line(TOOL_TURN, if ended.is_some() { 4 } else { 3 });
    node.set(&["item", "id"], item_id);
    node.set(&["item", "command"], command);
    if let Some((code, output)) = ended {
        node.set(&["item", "aggregated_output"], output);
        node.set(&["item", "exit_code"], serde_json::Value::from(code));
        if code != 0 {
            node.set(&["item", "status"], "failed");
        }
    }
    node
}

/// INVENTED shape: the agent's patch added or updated `path`.
pub fn file_change(item_id: &str, path: &str, added: bool) -> Node {
    let mut node = Node::parse(FILE_CHANGE).expect("template is JSON");
    node.set(&["item", "id"], item_id);
    node.set(&["item", "changes", "0", "path"], path);
    node.set(
        &["item", "changes", "0", "kind"],
        if added { "add" } else { "update" },
    );
    node
}

pub fn agent_message(item_id: &str, text: &str) -> Node {
    let mut node = sample_line(TOOL_TURN, 5);
    node.set(&["item", "id"], item_id);
    node.set(&["item", "text"], text);
    node
}

pub fn turn_completed(input_tokens: u64, output_tokens: u64) -> Node {
    let mut node = sample_line(TOOL_TURN, 6);
    node.set(&["usage", "input_tokens"], input_tokens);
    node.set(&["usage", "output_tokens"], output_tokens);
    node
}

/// The model API failed for good: the `error` line and `turn.failed` with the same message
/// (the sample's for HTTP 500; INVENTED for other statuses and a refused connection).
pub fn api_failure(status: Option<u16>) -> [Node; 2] {
    let mut error = sample_line(HTTP_500, 3);
    let mut failed = sample_line(HTTP_500, 4);
    let message = match status {
        Some(500) => None,
        Some(status) => Some(format!("unexpected status {status}")),
        None => Some("stream disconnected before completion: error sending request".to_owned()),
    };
    if let Some(message) = message {
        error.set(&["message"], message.as_str());
        failed.set(&["error", "message"], message.as_str());
    }
    [error, failed]
}
