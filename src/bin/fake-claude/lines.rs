//! Every output line, built from a captured sample line by replacing values only.
//!
//! The samples in `tests/fixtures/agent-cli/claude/` were captured from the real Claude Code
//! 2.1.330; each function here picks the sample line for its situation, parses it into an
//! order-preserving [`Node`] and replaces ids, texts, numbers and nested values. Keys, nesting,
//! value kinds and key order therefore stay exactly the real ones, and a new capture is adopted
//! by replacing the fixture files. The shape tests in `tests/e2e/fake_agent.rs` compare each
//! scenario against the same files.
//!
//! What no sample shows is marked `INVENTED` and kept as close to a sample as possible: the
//! `system`/`permission_denied` line and the `Write` tool's `tool_use_result` (both as public
//! captures of the real CLI show them), the retry and synthetic assistant lines of a connection
//! failure (the HTTP-error lines without a status), stream events of tool_use blocks (the
//! Anthropic streaming API's shape) and the error texts of HTTP statuses other than 429 and 500.

use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use crate::cli::Format;
use crate::session::ModelTotals;
use crate::tree::Node;

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/agent-cli/claude/", $name))
    };
}

const TOOL_TURN: &str = sample!("tool-turn.stream.jsonl");
const PARTIAL: &str = sample!("include-partial-messages.stream.jsonl");
const MAX_TURNS: &str = sample!("max-turns-1.stream.jsonl");
const API_429: &str = sample!("api-error-429.stream.jsonl");
const API_500: &str = sample!("api-error-500-retries2.stream.jsonl");
const CONNECTION_REFUSED: &str = sample!("connection-refused.result.json");
const RESUME_RESULT: &str = sample!("resume-turn.result.json");
const RESUME_UNKNOWN: &str = sample!("resume-unknown-id.stream.jsonl");
const SIGINT_API: &str = sample!("sigint-during-api.stream.jsonl");
const SIGINT_TOOL: &str = sample!("sigint-during-tool.stream.jsonl");
const SIGTERM_TOOL: &str = sample!("sigterm-during-tool.stream.jsonl");

/// INVENTED (no sample): public captures show `tool_name`, `tool_use_id` and `message`.
const PERMISSION_DENIED: &str = r#"{"type":"system","subtype":"permission_denied","tool_name":"","tool_use_id":"","message":"","session_id":"","uuid":""}"#;

/// INVENTED (no sample): the Write tool's result as public captures of the real CLI show it.
const WRITE_RESULT: &str = r#"{"type":"create","filePath":"","content":"","structuredPatch":[],"originalFile":null,"userModified":false}"#;

pub const VERSION: &str = "2.1.330";

fn sample_line(file: &str, index: usize) -> Node {
    let line = file.lines().nth(index).expect("sample line exists");
    Node::parse(line).expect("sample line is JSON")
}

/// What every line of one run shares.
pub struct Ctx {
    pub session_id: String,
    pub model: String,
    /// `bypassPermissions`: tool results then say the mode, not a rule, allowed them.
    pub bypass: bool,
}

impl Ctx {
    /// Sets `session_id`, a fresh `uuid` and, where the sample has one, `timestamp`.
    fn stamp(&self, mut node: Node) -> Node {
        node.set(&["session_id"], self.session_id.as_str());
        if node.has("uuid") {
            node.set(&["uuid"], Uuid::new_v4().to_string());
        }
        if node.has("timestamp") {
            node.set(&["timestamp"], timestamp());
        }
        node
    }

    /// `permission_decision.reason_type`: the mode decides under bypassPermissions or a denial,
    /// an allow rule otherwise (as in the samples).
    fn reason_type(&self, denied: bool) -> &'static str {
        if denied || self.bypass {
            "mode"
        } else {
            "rule"
        }
    }
}

/// What the init line reports besides the context.
pub struct InitInfo<'a> {
    pub cwd: &'a str,
    pub permission_mode: &'a str,
    pub memory_dir: &'a str,
    pub disallowed_tools: &'a [String],
}

pub fn init(ctx: &Ctx, info: &InitInfo<'_>) -> Node {
    let mut node = ctx.stamp(sample_line(TOOL_TURN, 0));
    node.set(&["cwd"], info.cwd);
    node.set(&["original_cwd"], info.cwd);
    node.set(&["model"], ctx.model.as_str());
    node.set(&["permissionMode"], info.permission_mode);
    node.set(&["memory_paths", "auto"], info.memory_dir);
    node.set(&["claude_code_version"], VERSION);
    if let Some(Node::Arr(tools)) = node.at(&["tools"]) {
        let kept: Vec<Node> = tools
            .iter()
            .filter(|tool| {
                !info
                    .disallowed_tools
                    .iter()
                    .any(|d| Node::from(d.as_str()) == **tool)
            })
            .cloned()
            .collect();
        node.set(&["tools"], Node::Arr(kept));
    }
    node
}

/// One API message in progress.
pub struct Message {
    pub id: String,
    pub request_id: String,
    pub input_tokens: u64,
}

pub enum Block<'a> {
    Text(&'a str),
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Node,
    },
}

impl Block<'_> {
    fn to_node(&self) -> Node {
        match self {
            Block::Text(text) => Node::obj([("type", "text".into()), ("text", (*text).into())]),
            Block::ToolUse { id, name, input } => Node::obj([
                ("type", "tool_use".into()),
                ("id", (*id).into()),
                ("name", (*name).into()),
                ("input", (*input).clone()),
            ]),
        }
    }
}

/// An `assistant` line: one content block of `message`.
pub fn assistant(ctx: &Ctx, message: &Message, block: &Block<'_>) -> Node {
    let index = match block {
        Block::Text(_) => 1,
        Block::ToolUse { .. } => 2,
    };
    let mut node = ctx.stamp(sample_line(TOOL_TURN, index));
    node.set(&["message", "id"], message.id.as_str());
    node.set(&["message", "model"], ctx.model.as_str());
    node.set(&["message", "content", "0"], block.to_node());
    node.set(&["message", "usage", "input_tokens"], message.input_tokens);
    node.set(&["request_id"], message.request_id.as_str());
    node
}

/// The `tool_use_result` of a Bash run with no output (also used for tools the fake does not run).
pub fn bash_output() -> Node {
    sample_line(TOOL_TURN, 3)
        .at(&["tool_use_result"])
        .expect("sample has tool_use_result")
        .clone()
}

/// INVENTED shape: the Write tool's `tool_use_result`. `original` is `None` for a new file.
pub fn write_output(path: &str, content: &str, original: Option<&str>) -> Node {
    let mut node = Node::parse(WRITE_RESULT).expect("template is JSON");
    node.set(&["filePath"], path);
    node.set(&["content"], content);
    if let Some(original) = original {
        node.set(&["type"], "update");
        node.set(&["originalFile"], original);
        node.set(
            &["structuredPatch"],
            Node::Arr(vec![whole_file_hunk(original, content)]),
        );
    }
    node
}

/// One hunk replacing the whole file: simple, and the shape the real `structuredPatch` has.
fn whole_file_hunk(old: &str, new: &str) -> Node {
    let removed = old.lines().map(|l| Node::from(format!("-{l}")));
    let added = new.lines().map(|l| Node::from(format!("+{l}")));
    Node::obj([
        ("oldStart", 1u64.into()),
        ("oldLines", (old.lines().count() as u64).into()),
        ("newStart", 1u64.into()),
        ("newLines", (new.lines().count() as u64).into()),
        ("lines", Node::Arr(removed.chain(added).collect())),
    ])
}

/// How a tool call ended, for its result line.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ToolEnd {
    Ok,
    Failed,
    /// Refused by the permission mode rather than run.
    Denied,
}

/// A `user` line carrying a finished tool's result.
pub fn tool_result(
    ctx: &Ctx,
    tool_use_id: &str,
    content: &str,
    end: ToolEnd,
    output: Node,
) -> Node {
    let denied = end == ToolEnd::Denied;
    let mut node = ctx.stamp(sample_line(TOOL_TURN, 3));
    node.set(&["message", "content", "0", "tool_use_id"], tool_use_id);
    node.set(&["message", "content", "0", "content"], content);
    node.set(&["message", "content", "0", "is_error"], end != ToolEnd::Ok);
    node.set(&["tool_use_result"], output);
    node.set(&["tool_result_meta", "0", "id"], tool_use_id);
    let decision = if denied { "deny" } else { "accept" };
    node.set(
        &["tool_result_meta", "0", "permission_decision", "decision"],
        decision,
    );
    node.set(
        &[
            "tool_result_meta",
            "0",
            "permission_decision",
            "reason_type",
        ],
        ctx.reason_type(denied),
    );
    node
}

/// The result of a tool that ran (or was pretended to run) and printed nothing.
pub fn tool_done(ctx: &Ctx, tool_use_id: &str, tool: &str) -> Node {
    let content = format!("({tool} completed with no output)");
    tool_result(ctx, tool_use_id, &content, ToolEnd::Ok, bash_output())
}

/// The text the real CLI gives the model (and prints) when a tool was not allowed.
pub fn denial_message(tool: &str) -> String {
    format!("Claude requested permissions to use {tool}, but you haven't granted it yet.")
}

/// INVENTED shape: the `system`/`permission_denied` line.
pub fn permission_denied(ctx: &Ctx, tool: &str, tool_use_id: &str) -> Node {
    let mut node = ctx.stamp(Node::parse(PERMISSION_DENIED).expect("template is JSON"));
    node.set(&["tool_name"], tool);
    node.set(&["tool_use_id"], tool_use_id);
    node.set(&["message"], denial_message(tool));
    node
}

/// One entry of the result's `permission_denials`.
pub fn denial(tool: &str, tool_use_id: &str, input: &Node) -> Node {
    Node::obj([
        ("tool_name", tool.into()),
        ("tool_use_id", tool_use_id.into()),
        ("tool_input", input.clone()),
    ])
}

/// `[Request interrupted by user]`: SIGINT while waiting on the API.
pub fn interrupted(ctx: &Ctx) -> Node {
    ctx.stamp(sample_line(SIGINT_API, 1))
}

/// SIGINT while a tool runs: the tool's rejection, then the interruption marker.
pub fn tool_rejected(ctx: &Ctx, tool_use_id: &str) -> [Node; 2] {
    let mut rejected = ctx.stamp(sample_line(SIGINT_TOOL, 2));
    rejected.set(&["message", "content", "0", "tool_use_id"], tool_use_id);
    rejected.set(&["tool_result_meta", "0", "id"], tool_use_id);
    [rejected, ctx.stamp(sample_line(SIGINT_TOOL, 3))]
}

/// SIGTERM/SIGHUP while a tool runs: the shell task is stopped and the tool reports exit 137.
pub fn tool_killed(ctx: &Ctx, tool_use_id: &str, description: &str) -> [Node; 3] {
    let task_id = base36(9);
    let run_id = format!("{}-{}", base36(9), &hex(8));
    let mut started = ctx.stamp(sample_line(SIGTERM_TOOL, 2));
    let mut stopped = ctx.stamp(sample_line(SIGTERM_TOOL, 3));
    for node in [&mut started, &mut stopped] {
        node.set(&["task_id"], task_id.as_str());
        node.set(&["run_id"], run_id.as_str());
        node.set(&["tool_use_id"], tool_use_id);
    }
    started.set(&["description"], description);
    stopped.set(&["summary"], description);
    let mut result = ctx.stamp(sample_line(SIGTERM_TOOL, 4));
    result.set(&["message", "content", "0", "tool_use_id"], tool_use_id);
    result.set(&["tool_result_meta", "0", "id"], tool_use_id);
    result.set(
        &[
            "tool_result_meta",
            "0",
            "permission_decision",
            "reason_type",
        ],
        ctx.reason_type(false),
    );
    [started, stopped, result]
}

/// `error` and `api_error_type` the real API reports for an HTTP status. The 429 and 500 pairs
/// are measured; the others follow the Anthropic API's documented error types.
fn error_names(status: u16) -> (&'static str, &'static str) {
    match status {
        429 => ("rate_limit", "rate_limit_error"),
        529 => ("server_error", "overloaded_error"),
        500..=599 => ("server_error", "api_error"),
        401 => ("authentication_failed", "authentication_error"),
        403 => ("permission_denied", "permission_error"),
        404 => ("invalid_request", "not_found_error"),
        413 => ("invalid_request", "request_too_large"),
        _ => ("invalid_request", "invalid_request_error"),
    }
}

fn api_error_text(status: u16) -> Option<String> {
    match status {
        429 | 500 => None, // the sample's own text
        500..=599 => Some(format!(
            "API Error: {status} fake internal. This is a server-side issue, usually temporary — try again in a moment."
        )),
        _ => Some(format!(
            "API Error: Request rejected ({status}) · fake error"
        )),
    }
}

/// The two `api_retry` lines before an API error. `status` is `None` for a connection failure.
pub fn api_retries(ctx: &Ctx, status: Option<u16>) -> [Node; 2] {
    let file = if status == Some(429) {
        API_429
    } else {
        API_500
    };
    let error = status.map_or("connection_failed", |s| error_names(s).0);
    [1, 2].map(|index| {
        let mut node = ctx.stamp(sample_line(file, index));
        node.set(
            &["error_status"],
            status.map_or(Node::Raw("null".into()), |s| Node::from(u64::from(s))),
        );
        node.set(&["error"], error);
        node
    })
}

/// The synthetic assistant message the CLI adds when the API failed.
pub fn api_error_assistant(ctx: &Ctx, status: u16) -> Node {
    let file = if status == 429 { API_429 } else { API_500 };
    let mut node = ctx.stamp(sample_line(file, 3));
    let (error, error_type) = error_names(status);
    node.set(&["message", "id"], Uuid::new_v4().to_string());
    if let Some(text) = api_error_text(status) {
        node.set(&["message", "content", "0", "text"], text);
    }
    node.set(&["error"], error);
    node.set(&["api_error_status"], u64::from(status));
    node.set(&["api_error_type"], error_type);
    node.set(&["request_id"], format!("req_fake_{}", hex(16)));
    node
}

/// INVENTED from the 429/500 lines: the synthetic assistant message of a connection failure,
/// which has no HTTP status (and, like its result, no `api_error_type`).
pub fn connection_refused_assistant(ctx: &Ctx) -> Node {
    let mut node = api_error_assistant(ctx, 500);
    let result = sample_line(CONNECTION_REFUSED, 0);
    let text = result
        .at(&["result"])
        .expect("sample has a result text")
        .clone();
    node.set(&["message", "content", "0", "text"], text);
    node.set(&["error"], "connection_failed");
    node.set(&["api_error_status"], Node::Raw("null".into()));
    node.remove("api_error_type");
    node
}

/// `--include-partial-messages`: `system`/`status` before each API request.
pub fn status_requesting(ctx: &Ctx) -> Node {
    ctx.stamp(sample_line(PARTIAL, 1))
}

/// The raw stream events of `--include-partial-messages`.
pub enum Event<'a> {
    MessageStart {
        input_tokens: u64,
        ttft_ms: u64,
    },
    BlockStart {
        index: u64,
        block: &'a Block<'a>,
    },
    Delta {
        index: u64,
        block: &'a Block<'a>,
        chunk: &'a str,
    },
    BlockStop {
        index: u64,
    },
    MessageDelta {
        stop_reason: &'a str,
        output_tokens: u64,
    },
    MessageStop,
}

pub fn stream_event(ctx: &Ctx, message: &Message, event: &Event<'_>) -> Node {
    let index = match event {
        Event::MessageStart { .. } => 2,
        Event::BlockStart { .. } => 3,
        Event::Delta { .. } => 4,
        Event::BlockStop { .. } => 7,
        Event::MessageDelta { .. } => 8,
        Event::MessageStop => 9,
    };
    let mut node = ctx.stamp(sample_line(PARTIAL, index));
    node.set(&["api_message_id"], message.id.as_str());
    match event {
        Event::MessageStart {
            input_tokens,
            ttft_ms,
        } => {
            node.set(&["event", "message", "id"], message.id.as_str());
            node.set(&["event", "message", "model"], ctx.model.as_str());
            node.set(
                &["event", "message", "usage", "input_tokens"],
                *input_tokens,
            );
            node.set(&["ttft_ms"], *ttft_ms);
        }
        Event::BlockStart { index, block } => {
            node.set(&["event", "index"], *index);
            // The block as it starts: empty text, or (INVENTED, the Anthropic streaming API's
            // own shape) a tool_use with an empty input that deltas then fill.
            let start = match block {
                Block::Text(_) => Block::Text("").to_node(),
                Block::ToolUse { .. } => {
                    let mut start = block.to_node();
                    start.set(&["input"], Node::Obj(Vec::new()));
                    start
                }
            };
            node.set(&["event", "content_block"], start);
        }
        Event::Delta {
            index,
            block,
            chunk,
        } => {
            node.set(&["event", "index"], *index);
            let delta = match block {
                Block::Text(_) => {
                    Node::obj([("type", "text_delta".into()), ("text", (*chunk).into())])
                }
                Block::ToolUse { .. } => Node::obj([
                    ("type", "input_json_delta".into()),
                    ("partial_json", (*chunk).into()),
                ]),
            };
            node.set(&["event", "delta"], delta);
        }
        Event::BlockStop { index } => node.set(&["event", "index"], *index),
        Event::MessageDelta {
            stop_reason,
            output_tokens,
        } => {
            node.set(&["event", "delta", "stop_reason"], *stop_reason);
            node.set(&["event", "usage", "output_tokens"], *output_tokens);
        }
        Event::MessageStop => {}
    }
    node
}

/// How a run ended, for its `result` line.
pub enum Outcome<'a> {
    Success(&'a str),
    ApiError(u16),
    ConnectionRefused,
    MaxTurns(u64),
    /// SIGINT while a tool ran.
    AbortedTools,
    UnknownResume,
}

/// The numbers a result reports.
pub struct Stats<'a> {
    pub duration_ms: u64,
    pub duration_api_ms: u64,
    pub ttft_ms: Option<u64>,
    pub num_turns: u64,
    /// This run.
    pub run: ModelTotals,
    /// This run's model.
    pub model: &'a str,
    /// The whole session including this run, per model.
    pub session_models: &'a [(String, ModelTotals)],
    pub total_cost_micro_usd: u64,
    pub permission_denials: &'a [Node],
    pub message_ids: &'a [String],
}

/// The `result` line (stream-json), or the object `--output-format json` prints.
pub fn result(
    ctx: &Ctx,
    outcome: &Outcome<'_>,
    stats: &Stats<'_>,
    format: Format,
    partial: bool,
) -> Node {
    let template = match outcome {
        Outcome::Success(_) if format == Format::Json => sample_line(RESUME_RESULT, 0),
        Outcome::Success(_) if partial => sample_line(PARTIAL, 10),
        Outcome::Success(_) => sample_line(TOOL_TURN, 5),
        Outcome::ApiError(429) => sample_line(API_429, 4),
        Outcome::ApiError(_) => sample_line(API_500, 4),
        Outcome::ConnectionRefused => sample_line(CONNECTION_REFUSED, 0),
        Outcome::MaxTurns(_) => sample_line(MAX_TURNS, 4),
        Outcome::AbortedTools => sample_line(SIGINT_TOOL, 4),
        Outcome::UnknownResume => sample_line(RESUME_UNKNOWN, 0),
    };
    let mut node = ctx.stamp(template);
    match outcome {
        Outcome::Success(text) => node.set(&["result"], *text),
        Outcome::ApiError(status) => {
            let (_, error_type) = error_names(*status);
            node.set(&["api_error_status"], u64::from(*status));
            node.set(&["api_error_type"], error_type);
            if let Some(text) = api_error_text(*status) {
                node.set(&["result"], text);
            }
        }
        Outcome::MaxTurns(limit) => node.set(
            &["errors", "0"],
            format!("Reached maximum number of turns ({limit})"),
        ),
        Outcome::UnknownResume => {
            let error = format!("No conversation found with session ID: {}", ctx.session_id);
            node.set(&["errors", "0"], error);
            return node;
        }
        Outcome::ConnectionRefused | Outcome::AbortedTools => {}
    }
    node.set(&["duration_ms"], stats.duration_ms);
    node.set(&["duration_api_ms"], stats.duration_api_ms);
    node.set(&["num_turns"], stats.num_turns);
    node.set(&["total_cost_usd"], usd(stats.total_cost_micro_usd));
    node.set(&["usage", "input_tokens"], stats.run.input_tokens);
    node.set(&["usage", "output_tokens"], stats.run.output_tokens);
    node.set(
        &["permission_denials"],
        Node::Arr(stats.permission_denials.to_vec()),
    );
    if let Some(ttft) = stats.ttft_ms {
        for (key, value) in [
            ("ttft_ms", ttft),
            ("ttft_stream_ms", ttft.saturating_sub(2)),
            ("time_to_request_ms", ttft.saturating_sub(20)),
            ("first_content_frame_ms", ttft.saturating_sub(2)),
        ] {
            if node.has(key) {
                node.set(&[key], value);
            }
        }
    }
    if node.has("begun_message_ids") {
        let ids = stats
            .message_ids
            .iter()
            .map(|id| Node::from(id.as_str()))
            .collect();
        node.set(&["begun_message_ids"], Node::Arr(ids));
    }
    let proto = model_usage_proto(&node);
    node.set(&["modelUsage"], model_usage(&proto, stats.session_models));
    if node.has("model_usage_since_last_result") {
        let run = [(stats.model.to_owned(), stats.run.clone())];
        let run: &[(String, ModelTotals)] = if stats.run == ModelTotals::default() {
            &[]
        } else {
            &run
        };
        node.set(&["model_usage_since_last_result"], model_usage(&proto, run));
        if format == Format::Json {
            // `--output-format json` prints the result without it (resume-turn.result.json).
            node.remove("model_usage_since_last_result");
        }
    }
    node
}

/// One `modelUsage` entry as the template writes it (key order differs between formats).
fn model_usage_proto(template: &Node) -> Node {
    if let Some(Node::Obj(models)) = template.at(&["modelUsage"])
        && let Some((_, entry)) = models.first()
    {
        return entry.clone();
    }
    let tool_turn = sample_line(TOOL_TURN, 5);
    match tool_turn.at(&["modelUsage"]) {
        Some(Node::Obj(models)) => models[0].1.clone(),
        _ => unreachable!("tool-turn result has a modelUsage entry"),
    }
}

fn model_usage(proto: &Node, models: &[(String, ModelTotals)]) -> Node {
    Node::Obj(
        models
            .iter()
            .map(|(model, totals)| {
                let mut entry = proto.clone();
                entry.set(&["inputTokens"], totals.input_tokens);
                entry.set(&["outputTokens"], totals.output_tokens);
                entry.set(&["costUSD"], usd(totals.cost_micro_usd));
                entry.set(&["canonicalModel"], model.as_str());
                (model.clone(), entry)
            })
            .collect(),
    )
}

fn usd(micro: u64) -> Node {
    if micro == 0 {
        Node::Raw("0".into())
    } else {
        Node::from(micro as f64 / 1e6)
    }
}

/// `2026-11-22T13:21:08.070Z`, as the CLI writes timestamps.
pub fn timestamp() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// `len` random lowercase hex digits (at most 32).
pub fn hex(len: usize) -> String {
    Uuid::new_v4().simple().to_string()[..len].to_owned()
}

fn base36(len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    Uuid::new_v4().as_bytes()[..len]
        .iter()
        .map(|b| DIGITS[usize::from(*b) % 36] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_line_parses() {
        for file in [
            TOOL_TURN,
            PARTIAL,
            MAX_TURNS,
            API_429,
            API_500,
            CONNECTION_REFUSED,
            RESUME_RESULT,
            RESUME_UNKNOWN,
            SIGINT_API,
            SIGINT_TOOL,
            SIGTERM_TOOL,
        ] {
            for (n, line) in file.lines().enumerate() {
                assert_eq!(Node::parse(line).unwrap().to_json(), line, "line {n}");
            }
        }
    }

    #[test]
    fn timestamp_has_the_cli_format() {
        let ts = timestamp();
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(
            ts.starts_with("20") && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
            "{ts}"
        );
    }
}
