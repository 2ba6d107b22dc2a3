//! Claude Code in headless mode: `claude -p --output-format stream-json --verbose`.
//!
//! The facts this relies on were measured on the real CLI (../shared/agent-cli/README.md and the
//! captured samples in tests/fixtures/agent-cli/claude): the prompt goes on stdin; every run
//! starts with a `system`/`init` line carrying the `session_id` to `--resume` later; assistant
//! output comes one content block per line; a completed run ends with one `result` line.
//!
//! Parsing is lenient on purpose — the CLI changes often — so unknown types, subtypes and fields
//! are ignored, never fatal. Classification follows the measured rules: a run with no `result`
//! line failed whatever its exit code, and `is_error` (not `subtype`, which says `success` for API
//! errors) decides between an answer and a failure.

use serde_json::Value;

use super::json::{self, str_field};
use super::{Agent, TurnArgs, merged_env, without_report};
use crate::config::{ClaudeConfig, HostAgentConfig, PermissionMode};
use crate::domain::agent::AgentKind;
use crate::domain::agent_event::{AgentEvent, AgentResult};
use crate::domain::invocation::Invocation;
use crate::domain::outcome::Outcome;

/// What the CLI prints on stderr when `--resume` names an unknown conversation.
const NO_CONVERSATION: &str = "No conversation found with session ID";

/// The Claude adapter, configured for all hosts.
#[derive(Debug, Clone)]
pub struct Claude {
    config: ClaudeConfig,
}

impl Claude {
    pub fn new(config: ClaudeConfig) -> Claude {
        Claude { config }
    }
}

impl Agent for Claude {
    fn kind(&self) -> AgentKind {
        AgentKind::Claude
    }

    fn command<'a>(&'a self, host: Option<&'a HostAgentConfig>) -> &'a str {
        host.and_then(|h| h.command.as_deref())
            .unwrap_or(&self.config.command)
    }

    fn invocation(&self, turn: &TurnArgs<'_>) -> Invocation {
        let c = &self.config;
        let mut argv: Vec<String> = [
            self.command(turn.host),
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut flag = |name: &str, value: &str| {
            argv.push(name.to_owned());
            argv.push(value.to_owned());
        };
        if let Some(id) = turn.resume {
            flag("--resume", id);
        }
        if let Some(model) = turn.model.or(c.model.as_deref()) {
            flag("--model", model);
        }
        if let Some(max_turns) = c.max_turns {
            flag("--max-turns", &max_turns.to_string());
        }
        let mode = turn.permission_mode.unwrap_or(c.permission_mode);
        flag("--permission-mode", mode.as_str());
        if !c.allowed_tools.is_empty() {
            flag("--allowedTools", &c.allowed_tools.join(" "));
        }
        if !c.disallowed_tools.is_empty() {
            flag("--disallowedTools", &c.disallowed_tools.join(" "));
        }
        if let Some(prompt) = &c.append_system_prompt {
            flag("--append-system-prompt", prompt);
        }
        if let Some(path) = &c.mcp_config {
            flag("--mcp-config", path);
        }
        argv.extend(c.extra_args.iter().cloned());
        Invocation {
            argv,
            env: merged_env(&c.env, turn),
        }
    }

    fn parse_line(&self, line: &[u8]) -> Vec<AgentEvent> {
        parse_line(line)
    }

    fn classify(
        &self,
        result: Option<&AgentResult>,
        exit: Option<i64>,
        stderr: &str,
        command: &str,
    ) -> Outcome {
        classify(result, exit, stderr, command)
    }

    fn permissions(&self) -> (PermissionMode, &'static str) {
        let mode = self.config.permission_mode;
        let allows = match mode {
            PermissionMode::Default => {
                "the agent reads and searches; file edits and shell commands are denied"
            }
            PermissionMode::AcceptEdits => {
                "the agent edits and writes files without asking, and runs simple filesystem \
                 commands (mkdir, mv, cp, …); other shell commands are denied"
            }
            PermissionMode::Plan => "the agent only plans: no edits, no commands",
            PermissionMode::BypassPermissions => {
                "the agent runs any tool and command without asking"
            }
        };
        (mode, allows)
    }

    fn models(&self) -> &[String] {
        &self.config.models
    }

    fn default_model(&self) -> Option<&str> {
        self.config.model.as_deref()
    }
}

/// Parses one output line into events. Lines that are not JSON objects, and types this
/// adapter does not know, give nothing.
pub fn parse_line(line: &[u8]) -> Vec<AgentEvent> {
    let Some(value) = json::parse(line) else {
        return Vec::new();
    };
    let kind = str_field(&value, "type");
    let subtype = str_field(&value, "subtype");
    match (kind, subtype) {
        (Some("system"), Some("init")) => str_field(&value, "session_id")
            .map(|id| AgentEvent::Started {
                agent_session_id: id.to_owned(),
                model: str_field(&value, "model").map(str::to_owned),
                version: str_field(&value, "claude_code_version").map(str::to_owned),
            })
            .into_iter()
            .collect(),
        (Some("system"), Some("api_retry")) => vec![AgentEvent::ApiRetry {
            attempt: value.get("attempt").and_then(Value::as_i64).unwrap_or(0),
            max_retries: value
                .get("max_retries")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            status: value.get("error_status").and_then(Value::as_i64),
        }],
        (Some("system"), Some("permission_denied")) => vec![AgentEvent::PermissionDenied {
            tool: str_field(&value, "tool_name")
                .unwrap_or("a tool")
                .to_owned(),
        }],
        (Some("assistant"), _) => content_blocks(&value)
            .filter_map(|block| match str_field(block, "type") {
                Some("text") => str_field(block, "text")
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| AgentEvent::Text { text: t.to_owned() }),
                Some("tool_use") => {
                    let name = str_field(block, "name").unwrap_or("tool").to_owned();
                    let summary = tool_summary(&name, block.get("input"));
                    Some(AgentEvent::ToolUse {
                        id: str_field(block, "id").unwrap_or_default().to_owned(),
                        name,
                        summary,
                    })
                }
                _ => None,
            })
            .collect(),
        (Some("user"), _) => content_blocks(&value)
            .filter(|block| str_field(block, "type") == Some("tool_result"))
            .map(|block| AgentEvent::ToolResult {
                id: str_field(block, "tool_use_id")
                    .unwrap_or_default()
                    .to_owned(),
                is_error: block
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
            .collect(),
        (Some("result"), _) => vec![AgentEvent::Finished(parse_result(&value))],
        _ => Vec::new(),
    }
}

fn content_blocks(value: &Value) -> impl Iterator<Item = &Value> {
    value
        .pointer("/message/content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn parse_result(value: &Value) -> AgentResult {
    let usage = value.get("usage");
    let usage_field = |key: &str| usage.and_then(|u| u.get(key)).and_then(Value::as_i64);
    AgentResult {
        is_error: value
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        subtype: str_field(value, "subtype").unwrap_or_default().to_owned(),
        text: str_field(value, "result").map(str::to_owned),
        agent_session_id: str_field(value, "session_id").map(str::to_owned),
        total_cost_usd: value.get("total_cost_usd").and_then(Value::as_f64),
        run_cost_usd: None,
        num_turns: value.get("num_turns").and_then(Value::as_i64),
        terminal_reason: str_field(value, "terminal_reason").map(str::to_owned),
        api_error_status: value.get("api_error_status").and_then(Value::as_i64),
        errors: value
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        permission_denials: value
            .get("permission_denials")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        input_tokens: usage_field("input_tokens"),
        output_tokens: usage_field("output_tokens"),
    }
}

/// A short summary of a tool call's arguments: the command, the path, the pattern.
pub fn tool_summary(name: &str, input: Option<&Value>) -> String {
    let Some(input) = input else {
        return String::new();
    };
    let preferred: &[&str] = match name {
        "Bash" => &["command"],
        "Read" | "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => &["file_path", "notebook_path"],
        "Grep" | "Glob" => &["pattern"],
        "WebFetch" => &["url"],
        "WebSearch" => &["query"],
        "Task" => &["description"],
        _ => &[],
    };
    let text = preferred
        .iter()
        .find_map(|key| str_field(input, key))
        .or_else(|| input.as_object()?.values().find_map(Value::as_str))
        .unwrap_or_default();
    json::summary(text)
}

/// How a run ended, from its result line (if any), exit code and stderr.
/// Cancellation and timeouts are decided by the caller, which knows it asked for them.
pub fn classify(
    result: Option<&AgentResult>,
    exit_code: Option<i64>,
    stderr: &str,
    command: &str,
) -> Outcome {
    match result {
        Some(r) if !r.is_error => Outcome::Success {
            text: r.text.clone().unwrap_or_default(),
        },
        Some(r) => {
            if let Some(id) = r
                .errors
                .iter()
                .find_map(|e| e.strip_prefix(NO_CONVERSATION))
            {
                return Outcome::SessionNotFound {
                    agent_session_id: id.trim_start_matches(':').trim().to_owned(),
                };
            }
            if r.subtype == "error_max_turns" || r.terminal_reason.as_deref() == Some("max_turns") {
                return Outcome::MaxTurns;
            }
            if r.terminal_reason.as_deref() == Some("api_error") || r.api_error_status.is_some() {
                return Outcome::ApiError {
                    message: r.text.clone().unwrap_or_else(|| r.errors.join("; ")),
                    status: r.api_error_status,
                };
            }
            let message = r
                .text
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| r.errors.join("; "));
            Outcome::AgentError { message }
        }
        None => {
            if let Some(line) = stderr.lines().find(|l| l.contains(NO_CONVERSATION)) {
                let id = line.rsplit(':').next().unwrap_or_default().trim();
                return Outcome::SessionNotFound {
                    agent_session_id: id.to_owned(),
                };
            }
            without_report(exit_code, stderr, command)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/agent-cli/claude/"
    );

    fn sample(name: &str) -> Vec<AgentEvent> {
        let text = std::fs::read_to_string(format!("{SAMPLES}{name}")).unwrap();
        text.lines()
            .flat_map(|l| parse_line(l.as_bytes()))
            .collect()
    }

    fn result_of(events: &[AgentEvent]) -> Option<&AgentResult> {
        events.iter().rev().find_map(|e| match e {
            AgentEvent::Finished(r) => Some(r),
            _ => None,
        })
    }

    #[test]
    fn a_tool_turn_parses_into_its_events() {
        let events = sample("tool-turn.stream.jsonl");
        assert_eq!(
            events[0],
            AgentEvent::Started {
                agent_session_id: "8df3bfdc-666b-425e-befa-4fe73898dc99".into(),
                model: Some("claude-opus-5-5".into()),
                version: Some("2.1.330".into()),
            }
        );
        assert_eq!(
            events[1],
            AgentEvent::Text {
                text: "Running a command.".into()
            }
        );
        assert!(
            matches!(&events[2], AgentEvent::ToolUse { name, summary, .. }
            if name == "Bash" && summary == "echo hi > file.txt")
        );
        assert!(matches!(
            &events[3],
            AgentEvent::ToolResult {
                is_error: false,
                ..
            }
        ));
        let result = result_of(&events).unwrap();
        assert!(!result.is_error);
        assert_eq!(result.total_cost_usd, Some(0.037472));
        assert_eq!(result.num_turns, Some(2));
        assert_eq!(
            classify(Some(result), Some(0), "", "claude"),
            Outcome::Success {
                text: "Created file.txt with bash.".into()
            }
        );
    }

    #[test]
    fn every_failure_sample_is_classified_as_measured() {
        let api = |name: &str| {
            let events = sample(name);
            classify(result_of(&events), Some(1), "", "claude")
        };
        assert!(matches!(api("api-error-429.stream.jsonl"),
            Outcome::ApiError { status: Some(429), message } if message.contains("fake rate limit")));
        assert!(matches!(
            api("api-error-500-retries2.stream.jsonl"),
            Outcome::ApiError {
                status: Some(500),
                ..
            }
        ));
        assert!(matches!(
            api("api-error-500-default-retries.stream.jsonl"),
            Outcome::ApiError {
                status: Some(500),
                ..
            }
        ));
        assert_eq!(api("max-turns-1.stream.jsonl"), Outcome::MaxTurns);
        assert_eq!(
            api("resume-unknown-id.stream.jsonl"),
            Outcome::SessionNotFound {
                agent_session_id: "11111111-2222-3333-4444-555555555555".into()
            }
        );
        // SIGINT while waiting on the API: exit 0 and no result line is still a failure.
        let events = sample("sigint-during-api.stream.jsonl");
        assert!(result_of(&events).is_none());
        assert!(matches!(
            classify(None, Some(0), "", "claude"),
            Outcome::Crashed {
                exit_code: Some(0),
                ..
            }
        ));
        // SIGINT during a tool: a result with is_error and terminal_reason aborted_tools.
        let events = sample("sigint-during-tool.stream.jsonl");
        assert!(matches!(
            classify(result_of(&events), Some(0), "", "claude"),
            Outcome::AgentError { .. }
        ));
        let refused =
            std::fs::read_to_string(format!("{SAMPLES}connection-refused.result.json")).unwrap();
        let events = parse_line(refused.trim().as_bytes());
        assert!(
            matches!(classify(result_of(&events), Some(1), "", "claude"),
            Outcome::ApiError { status: None, message } if message.contains("Connection refused"))
        );
    }

    #[test]
    fn no_result_line_is_classified_from_exit_and_stderr() {
        assert_eq!(
            classify(None, Some(127), "sh: 1: claude: not found", "claude"),
            Outcome::AgentNotInstalled {
                command: "claude".into()
            }
        );
        assert_eq!(
            classify(
                None,
                Some(1),
                "No conversation found with session ID: abc",
                "claude"
            ),
            Outcome::SessionNotFound {
                agent_session_id: "abc".into()
            }
        );
        assert_eq!(
            classify(None, Some(143), "a\nb\n", "claude"),
            Outcome::Crashed {
                exit_code: Some(143),
                stderr_tail: "a\nb".into()
            }
        );
    }

    #[test]
    fn parsing_is_lenient() {
        assert!(parse_line(b"not json").is_empty());
        assert!(parse_line(b"{\"type\":\"brand_new\",\"x\":1}").is_empty());
        assert!(parse_line(b"{\"type\":\"system\",\"subtype\":\"task_started\"}").is_empty());
        assert!(
            sample("include-partial-messages.stream.jsonl")
                .iter()
                .any(|e| matches!(e, AgentEvent::Finished(_)))
        );
        // A result without is_error is not trusted as a success.
        let events = parse_line(br#"{"type":"result","result":"hm"}"#);
        assert!(!matches!(
            classify(result_of(&events), Some(0), "", "c"),
            Outcome::Success { .. }
        ));
    }

    /// Invalid UTF-8 inside a result line (a tool's raw bytes, a character cut in two) costs
    /// only those bytes, not the answer.
    #[test]
    fn invalid_utf8_in_a_result_keeps_the_answer() {
        let mut line =
            br#"{"type":"result","subtype":"success","is_error":false,"result":"caf"#.to_vec();
        line.extend_from_slice(&[0xC3, b' ', 0xFF]);
        line.extend_from_slice(br#" done","session_id":"s1"}"#);
        let events = parse_line(&line);
        let result = result_of(&events).expect("the result survives");
        assert_eq!(result.text.as_deref(), Some("caf\u{FFFD} \u{FFFD} done"));
        assert_eq!(
            classify(Some(result), Some(0), "", "c"),
            Outcome::Success {
                text: "caf\u{FFFD} \u{FFFD} done".into()
            }
        );
    }

    /// Without configuration the agent may edit files (the CLI's own default would deny it).
    #[test]
    fn the_default_permission_mode_accepts_edits() {
        let inv = Claude::new(ClaudeConfig::default()).invocation(&TurnArgs::default());
        let at = inv
            .argv
            .iter()
            .position(|a| a == "--permission-mode")
            .expect("a permission mode is always passed");
        assert_eq!(inv.argv[at + 1], "acceptEdits");
    }

    #[test]
    fn the_command_line_carries_every_configured_flag() {
        let config = ClaudeConfig {
            model: Some("opus".into()),
            max_turns: Some(3),
            permission_mode: PermissionMode::Plan,
            allowed_tools: vec!["Bash".into(), "Edit".into()],
            mcp_config: Some("/etc/mcp.json".into()),
            env: [("A".to_string(), "1".to_string())].into(),
            ..ClaudeConfig::default()
        };
        let host = HostAgentConfig {
            command: Some("/opt/claude".into()),
            env: [("B".to_string(), "2".to_string())].into(),
        };
        let inv = Claude::new(config).invocation(&TurnArgs {
            host: Some(&host),
            resume: Some("sid"),
            ..TurnArgs::default()
        });
        assert_eq!(
            inv.argv,
            [
                "/opt/claude",
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--resume",
                "sid",
                "--model",
                "opus",
                "--max-turns",
                "3",
                "--permission-mode",
                "plan",
                "--allowedTools",
                "Bash Edit",
                "--mcp-config",
                "/etc/mcp.json"
            ]
        );
        assert_eq!(
            inv.env,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn tool_summaries_are_short_and_single_line() {
        let input = serde_json::json!({"command": "cargo test\n--all", "description": "x"});
        assert_eq!(tool_summary("Bash", Some(&input)), "cargo test");
        let long = serde_json::json!({"file_path": "a/".repeat(50)});
        let summary = tool_summary("Write", Some(&long));
        assert_eq!(summary.chars().count(), json::SUMMARY_CHARS);
        assert!(summary.ends_with('…'));
        assert_eq!(
            tool_summary("Mystery", Some(&serde_json::json!({"n": 1, "s": "v"}))),
            "v"
        );
    }
}
