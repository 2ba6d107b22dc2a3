//! OpenAI's Codex CLI in headless mode: `codex exec --json … -`, prompt on stdin.
//!
//! The facts this relies on were measured on the real CLI (0.169.0 in
//! ../shared/agent-cli/README.md and the samples in tests/fixtures/agent-cli/codex; 0.171.0 for
//! the argument order and signals):
//!
//! - `-` as the prompt reads it from stdin; resuming is the `resume THREAD_ID` subcommand, and
//!   `exec`'s own options given before it (`--sandbox`, `-m`, `-c`) apply to the resumed run.
//! - Output is JSONL: `thread.started{thread_id}` first (the id to resume, kept on resume),
//!   `item.started`/`item.completed` for commands, file changes, MCP tool calls, web searches
//!   and messages, then `turn.completed{usage}` or `error` + `turn.failed{error}`. A warning
//!   comes as an `error` *item* and changes nothing.
//! - The final report carries no text: the answer is the last `agent_message` (the turn driver
//!   fills it in), and no cost (Codex reports none).
//! - A resume of an unknown id: exit 1 and stderr `… no rollout found for thread id ID (code …)`.
//! - SIGINT while waiting on the API: exit 1; SIGTERM 143; SIGHUP 129; none prints a report.
//!
//! Parsing is lenient like Claude's: unknown event and item types are ignored.

use serde_json::Value;

use super::json::{self, str_field};
use super::{Agent, TurnArgs, merged_env, priced, without_report};
use crate::config::{CodexConfig, HostAgentConfig, PermissionMode};
use crate::domain::agent::AgentKind;
use crate::domain::agent_event::{AgentEvent, AgentResult};
use crate::domain::invocation::Invocation;
use crate::domain::outcome::Outcome;

/// What the CLI prints on stderr when `resume` names an unknown thread.
const NO_ROLLOUT: &str = "no rollout found for thread id";

/// The final report of a failed turn (`turn.failed`), as [`AgentResult::subtype`].
const TURN_FAILED: &str = "turn.failed";

/// How a stream error that Codex retries begins (`error` events before it gives up).
const RECONNECTING: &str = "Reconnecting";

/// The Codex adapter, configured for all hosts.
#[derive(Debug, Clone)]
pub struct Codex {
    config: CodexConfig,
}

impl Codex {
    pub fn new(config: CodexConfig) -> Codex {
        Codex { config }
    }
}

/// The sandbox and approval flags of a permission mode. Headless, nobody can approve: every
/// mode but bypass says `approval_policy="never"`, so what the sandbox refuses fails the command
/// and the agent carries on.
fn permission_flags(mode: PermissionMode) -> Vec<String> {
    let sandbox = match mode {
        PermissionMode::Default | PermissionMode::Plan => "read-only",
        PermissionMode::AcceptEdits => "workspace-write",
        PermissionMode::BypassPermissions => {
            return vec!["--dangerously-bypass-approvals-and-sandbox".to_owned()];
        }
    };
    ["--sandbox", sandbox, "-c", "approval_policy=\"never\""]
        .map(str::to_owned)
        .to_vec()
}

impl Agent for Codex {
    fn kind(&self) -> AgentKind {
        AgentKind::Codex
    }

    fn command<'a>(&'a self, host: Option<&'a HostAgentConfig>) -> &'a str {
        host.and_then(|h| h.command.as_deref())
            .unwrap_or(&self.config.command)
    }

    fn invocation(&self, turn: &TurnArgs<'_>) -> Invocation {
        let c = &self.config;
        let mut argv: Vec<String> = [self.command(turn.host), "exec", "--json"]
            .map(str::to_owned)
            .to_vec();
        // Workspaces are usually Git checkouts, but a scratch one need not be.
        argv.push("--skip-git-repo-check".to_owned());
        argv.extend(permission_flags(
            turn.permission_mode.unwrap_or(c.permission_mode),
        ));
        if let Some(model) = turn.model.or(c.model.as_deref()) {
            argv.extend(["-m".to_owned(), model.to_owned()]);
        }
        for (key, value) in c.overrides() {
            argv.extend(["-c".to_owned(), format!("{key}={value}")]);
        }
        argv.extend(c.extra_args.iter().cloned());
        if let Some(id) = turn.resume {
            argv.extend(["resume".to_owned(), id.to_owned()]);
        }
        argv.push("-".to_owned());
        Invocation {
            argv,
            env: merged_env(&c.env, turn),
        }
    }

    fn parse_line(&self, line: &[u8]) -> Vec<AgentEvent> {
        priced(parse_line(line), self.config.prices.as_ref())
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
            PermissionMode::Default | PermissionMode::Plan => {
                "the agent reads (sandbox read-only): no edits, commands only if they write nothing"
            }
            PermissionMode::AcceptEdits => {
                "the agent edits files and runs commands inside its workspace without asking \
                 (sandbox workspace-write: no writes elsewhere, no network)"
            }
            PermissionMode::BypassPermissions => {
                "the agent runs any command without asking, outside any sandbox"
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

/// Parses one output line into events. Lines that are not JSON objects, and event or item
/// types this adapter does not know, give nothing.
pub fn parse_line(line: &[u8]) -> Vec<AgentEvent> {
    let Some(value) = json::parse(line) else {
        return Vec::new();
    };
    match str_field(&value, "type") {
        Some("thread.started") => str_field(&value, "thread_id")
            .map(|id| AgentEvent::Started {
                agent_session_id: id.to_owned(),
                model: None,
                version: None,
            })
            .into_iter()
            .collect(),
        Some("item.started") => value.get("item").map_or_else(Vec::new, item_started),
        Some("item.completed") => value.get("item").map_or_else(Vec::new, item_completed),
        Some("turn.completed") => vec![AgentEvent::Finished(completed(&value))],
        Some("error") => {
            let message = str_field(&value, "message").unwrap_or_default();
            match message.starts_with(RECONNECTING) {
                true => vec![reconnecting(message)],
                false => vec![AgentEvent::Finished(failed("error", message))],
            }
        }
        Some(TURN_FAILED) => {
            let error = value.get("error");
            let message = error
                .and_then(|e| str_field(e, "message"))
                .unwrap_or("the turn failed");
            let mut result = failed(TURN_FAILED, message);
            result.api_error_status = error.and_then(http_status);
            vec![AgentEvent::Finished(result)]
        }
        _ => Vec::new(),
    }
}

/// A tool call an item stands for: its name as progress shows it and a summary of its
/// arguments. `None`: the item is no tool call (a message, reasoning, a warning).
fn tool_of(item: &Value) -> Option<(String, String)> {
    match str_field(item, "type")? {
        "command_execution" => {
            let command = str_field(item, "command").unwrap_or_default();
            Some(("Bash".to_owned(), json::summary(unwrap_shell(command))))
        }
        "file_change" => {
            let paths: Vec<&str> = item
                .get("changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| str_field(c, "path"))
                .collect();
            Some(("Edit".to_owned(), json::summary(&paths.join(", "))))
        }
        "mcp_tool_call" => {
            let server = str_field(item, "server").unwrap_or("mcp");
            let tool = str_field(item, "tool").unwrap_or("tool");
            Some((format!("{server}.{tool}"), String::new()))
        }
        "web_search" => Some((
            "WebSearch".to_owned(),
            json::summary(str_field(item, "query").unwrap_or_default()),
        )),
        _ => None,
    }
}

/// The command inside Codex's `/bin/bash -c '…'` (or `-lc`) wrapper, as the agent wrote it.
fn unwrap_shell(command: &str) -> &str {
    let inner = ["-lc '", "-c '"]
        .iter()
        .find_map(|flag| command.split_once(flag))
        .filter(|(shell, _)| shell.trim_end().ends_with("sh"))
        .and_then(|(_, rest)| rest.strip_suffix('\''));
    inner.unwrap_or(command)
}

/// Items that report their start: the tool calls that take time.
fn item_started(item: &Value) -> Vec<AgentEvent> {
    match str_field(item, "type") {
        Some("command_execution" | "mcp_tool_call") => tool_of(item)
            .map(|(name, summary)| AgentEvent::ToolUse {
                id: item_id(item),
                name,
                summary,
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn item_completed(item: &Value) -> Vec<AgentEvent> {
    let kind = str_field(item, "type");
    if kind == Some("agent_message") {
        return str_field(item, "text")
            .filter(|t| !t.trim().is_empty())
            .map(|text| AgentEvent::Text {
                text: text.to_owned(),
            })
            .into_iter()
            .collect();
    }
    let Some((name, summary)) = tool_of(item) else {
        return Vec::new();
    };
    let id = item_id(item);
    let status = str_field(item, "status");
    let is_error = matches!(status, Some("failed" | "declined"))
        || item
            .get("exit_code")
            .and_then(Value::as_i64)
            .is_some_and(|code| code != 0)
        || item.get("error").is_some_and(|e| !e.is_null());
    let result = AgentEvent::ToolResult {
        id: id.clone(),
        is_error,
    };
    match kind {
        // Started earlier: the use was reported then.
        Some("command_execution" | "mcp_tool_call") => vec![result],
        _ => vec![AgentEvent::ToolUse { id, name, summary }, result],
    }
}

fn item_id(item: &Value) -> String {
    str_field(item, "id").unwrap_or_default().to_owned()
}

/// `turn.completed`: a success, with its tokens; no text (the last message is the answer).
fn completed(value: &Value) -> AgentResult {
    let usage = |key: &str| {
        value
            .pointer(&format!("/usage/{key}"))
            .and_then(Value::as_i64)
    };
    AgentResult {
        is_error: false,
        subtype: "success".to_owned(),
        input_tokens: usage("input_tokens"),
        output_tokens: usage("output_tokens"),
        ..AgentResult::default()
    }
}

fn failed(subtype: &str, message: &str) -> AgentResult {
    AgentResult {
        is_error: true,
        subtype: subtype.to_owned(),
        errors: vec![message.to_owned()],
        ..AgentResult::default()
    }
}

/// An HTTP status in a failure, when the CLI gives one (`status`, `status_code` or
/// `http_status_code`; 0.171 gives none).
fn http_status(error: &Value) -> Option<i64> {
    ["status", "status_code", "http_status_code"]
        .iter()
        .find_map(|key| error.get(key).and_then(Value::as_i64))
}

/// `Reconnecting... 2/5 (…)`: a retry, with its count when it can be read.
fn reconnecting(message: &str) -> AgentEvent {
    let counts = message
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.split_once('/'))
        .and_then(|(a, m)| Some((a.parse().ok()?, m.parse().ok()?)));
    let (attempt, max_retries) = counts.unwrap_or((0, 0));
    AgentEvent::ApiRetry {
        attempt,
        max_retries,
        status: None,
    }
}

/// How a run ended, from its final report (if any), exit code and stderr. Cancellation and
/// timeouts are decided by the caller, which knows it asked for them.
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
        Some(r) if r.subtype == TURN_FAILED => Outcome::ApiError {
            message: r.errors.join("; "),
            status: r.api_error_status,
        },
        Some(r) => Outcome::AgentError {
            message: r.errors.join("; "),
        },
        None => match stderr.split_once(NO_ROLLOUT) {
            Some((_, rest)) => Outcome::SessionNotFound {
                agent_session_id: rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            },
            None => without_report(exit_code, stderr, command),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agent::TokenPrices;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/agent-cli/codex/"
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
        let events = sample("exec-tool-turn.jsonl");
        assert_eq!(
            events,
            [
                AgentEvent::Started {
                    agent_session_id: "01a20365-f054-7fb1-9c5d-da9d05a6a814".into(),
                    model: None,
                    version: None,
                },
                AgentEvent::ToolUse {
                    id: "item_1".into(),
                    name: "Bash".into(),
                    summary: "echo hi > codex_file.txt".into(),
                },
                AgentEvent::ToolResult {
                    id: "item_1".into(),
                    is_error: false,
                },
                AgentEvent::Text {
                    text: "created codex_file.txt".into()
                },
                AgentEvent::Finished(AgentResult {
                    is_error: false,
                    subtype: "success".into(),
                    input_tokens: Some(200),
                    output_tokens: Some(20),
                    ..AgentResult::default()
                }),
            ]
        );
        // The report has no text and no cost: the turn driver answers with the last message.
        let result = result_of(&events).unwrap();
        assert_eq!(result.total_cost_usd, None);
        assert!(matches!(
            classify(Some(result), Some(0), "", "codex"),
            Outcome::Success { .. }
        ));
    }

    #[test]
    fn a_resumed_turn_keeps_its_thread_and_answers() {
        let events = sample("exec-resume.jsonl");
        assert!(
            matches!(&events[0], AgentEvent::Started { agent_session_id, .. }
            if agent_session_id == "01a20365-f054-7fb1-9c5d-da9d05a6a814")
        );
        assert_eq!(
            events[1],
            AgentEvent::Text {
                text: "Hi from fake openai".into()
            }
        );
        assert_eq!(result_of(&events).unwrap().input_tokens, Some(300));
    }

    #[test]
    fn a_failed_turn_is_an_api_error_with_its_message() {
        let events = sample("exec-http500.jsonl");
        // The model-metadata warning (an `error` item) is not a failure.
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, AgentEvent::Finished(_)))
                .count(),
            2
        );
        assert!(matches!(
            classify(result_of(&events), Some(1), "", "codex"),
            Outcome::ApiError { status: None, message } if message.contains("high demand")
        ));
        let with_status = parse_line(
            br#"{"type":"turn.failed","error":{"message":"unexpected status 500","status":500}}"#,
        );
        assert!(matches!(
            classify(result_of(&with_status), Some(1), "", "codex"),
            Outcome::ApiError {
                status: Some(500),
                ..
            }
        ));
        // A lone `error` event (no turn.failed after it) is the agent's error.
        let lone = parse_line(br#"{"type":"error","message":"boom"}"#);
        assert_eq!(
            classify(result_of(&lone), Some(1), "", "codex"),
            Outcome::AgentError {
                message: "boom".into()
            }
        );
        assert!(matches!(
            parse_line(br#"{"type":"error","message":"Reconnecting... 2/5 (stream closed)"}"#)[..],
            [AgentEvent::ApiRetry {
                attempt: 2,
                max_retries: 5,
                status: None
            }]
        ));
    }

    /// Measured on 0.171.0: the resume of an unknown id fails before any output.
    #[test]
    fn an_unknown_thread_is_a_lost_session() {
        let stderr = "WARNING: proceeding, even though we could not create PATH aliases\n\
             Error: thread/resume: thread/resume failed: no rollout found for thread id \
             11111111-2222-3333-4444-555555555555 (code -32600)\n\nStack backtrace:\n   0: <unknown>\n";
        assert_eq!(
            classify(None, Some(1), stderr, "codex"),
            Outcome::SessionNotFound {
                agent_session_id: "11111111-2222-3333-4444-555555555555".into()
            }
        );
        assert_eq!(
            classify(None, Some(127), "sh: 1: codex: not found", "codex"),
            Outcome::AgentNotInstalled {
                command: "codex".into()
            }
        );
        // SIGINT while waiting on the API: exit 1, no report.
        assert!(matches!(
            classify(None, Some(1), "", "codex"),
            Outcome::Crashed {
                exit_code: Some(1),
                ..
            }
        ));
    }

    #[test]
    fn other_tool_items_are_tool_calls() {
        let change = parse_line(
            br#"{"type":"item.completed","item":{"id":"item_3","type":"file_change","changes":[{"path":"src/a.rs","kind":"update"}],"status":"completed"}}"#,
        );
        assert_eq!(
            change,
            [
                AgentEvent::ToolUse {
                    id: "item_3".into(),
                    name: "Edit".into(),
                    summary: "src/a.rs".into()
                },
                AgentEvent::ToolResult {
                    id: "item_3".into(),
                    is_error: false
                }
            ]
        );
        let mcp = parse_line(
            br#"{"type":"item.started","item":{"id":"item_4","type":"mcp_tool_call","server":"docs","tool":"search","arguments":{},"status":"in_progress"}}"#,
        );
        assert!(matches!(&mcp[..], [AgentEvent::ToolUse { name, .. }] if name == "docs.search"));
        let failed = parse_line(
            br#"{"type":"item.completed","item":{"id":"item_5","type":"command_execution","command":"false","aggregated_output":"","exit_code":1,"status":"failed"}}"#,
        );
        assert!(matches!(
            &failed[..],
            [AgentEvent::ToolResult { is_error: true, .. }]
        ));
        let search = parse_line(
            br#"{"type":"item.completed","item":{"id":"item_6","type":"web_search","query":"rust nextest"}}"#,
        );
        assert!(
            matches!(&search[0], AgentEvent::ToolUse { name, summary, .. }
            if name == "WebSearch" && summary == "rust nextest")
        );
    }

    #[test]
    fn parsing_is_lenient() {
        assert!(parse_line(b"not json").is_empty());
        assert!(parse_line(br#"{"type":"brand.new"}"#).is_empty());
        assert!(
            parse_line(br#"{"type":"item.completed","item":{"type":"reasoning","text":"hm"}}"#)
                .is_empty()
        );
        assert!(parse_line(br#"{"type":"item.completed"}"#).is_empty());
        assert_eq!(unwrap_shell("/bin/bash -lc 'ls -la'"), "ls -la");
        assert_eq!(unwrap_shell("ls -c 'x'"), "ls -c 'x'");
    }

    #[test]
    fn permission_modes_map_to_sandboxes() {
        let argv = |mode| {
            let config = CodexConfig {
                permission_mode: mode,
                ..CodexConfig::default()
            };
            Codex::new(config).invocation(&TurnArgs::default()).argv
        };
        let sandbox = |argv: Vec<String>| {
            let at = argv.iter().position(|a| a == "--sandbox").unwrap();
            argv[at + 1].clone()
        };
        assert_eq!(sandbox(argv(PermissionMode::Default)), "read-only");
        assert_eq!(sandbox(argv(PermissionMode::Plan)), "read-only");
        assert_eq!(
            sandbox(argv(PermissionMode::AcceptEdits)),
            "workspace-write"
        );
        let bypass = argv(PermissionMode::BypassPermissions);
        assert!(bypass.contains(&"--dangerously-bypass-approvals-and-sandbox".to_owned()));
        assert!(
            !bypass
                .iter()
                .any(|a| a == "--sandbox" || a.starts_with("approval"))
        );
    }

    #[test]
    fn a_priced_codex_costs_its_tokens_and_an_unpriced_one_nothing() {
        let line = br#"{"type":"turn.completed","usage":{"input_tokens":300000,"cached_input_tokens":0,"output_tokens":50000}}"#;
        let cost = |codex: &Codex| match codex.parse_line(line).as_slice() {
            [AgentEvent::Finished(result)] => result.run_cost_usd,
            other => panic!("one final report, got {other:?}"),
        };
        assert_eq!(cost(&Codex::new(CodexConfig::default())), None);
        let priced = Codex::new(CodexConfig {
            prices: Some(TokenPrices {
                input_per_mtok: 1.0,
                output_per_mtok: 10.0,
            }),
            ..CodexConfig::default()
        });
        assert_eq!(cost(&priced), Some(0.8));
    }

    #[test]
    fn the_command_line_carries_every_configured_flag_and_resumes_last() {
        let config: CodexConfig = toml::from_str(
            r#"
            model = "gpt-5-codex"
            extra_args = ["--color", "never"]
            env = { A = "1" }
            [config]
            model_provider = "internal"
            [config.mcp_servers.docs]
            command = "npx"
            args = ["-y", "docs-mcp"]
            "#,
        )
        .unwrap();
        let host = HostAgentConfig {
            command: Some("/opt/codex".into()),
            env: [("B".to_string(), "2".to_string())].into(),
        };
        let inv = Codex::new(config).invocation(&TurnArgs {
            host: Some(&host),
            resume: Some("tid"),
            permission_mode: Some(PermissionMode::Plan),
            ..TurnArgs::default()
        });
        assert_eq!(
            inv.argv,
            [
                "/opt/codex",
                "exec",
                "--json",
                "--skip-git-repo-check",
                "--sandbox",
                "read-only",
                "-c",
                "approval_policy=\"never\"",
                "-m",
                "gpt-5-codex",
                "-c",
                "mcp_servers.docs.args=[\"-y\", \"docs-mcp\"]",
                "-c",
                "mcp_servers.docs.command=\"npx\"",
                "-c",
                "model_provider=\"internal\"",
                "--color",
                "never",
                "resume",
                "tid",
                "-"
            ]
        );
        assert_eq!(
            inv.env,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        let fresh = Codex::new(CodexConfig::default()).invocation(&TurnArgs::default());
        assert_eq!(fresh.argv.last().map(String::as_str), Some("-"));
        assert!(!fresh.argv.iter().any(|a| a == "resume"));
    }
}
