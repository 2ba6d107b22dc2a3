//! OpenCode in headless mode: `opencode run --format json`, prompt on stdin.
//!
//! The facts this relies on were measured on the real CLI (1.18.33, tests/fixtures/agent-cli/README.md
//! and the captures in tests/fixtures/agent-cli/opencode):
//!
//! - Piped stdin is the prompt; a prompt argument as well would be joined to it, so there is none.
//! - Every output line carries the conversation's `sessionID` (`ses_…`), the id `--session`
//!   resumes. One model request is a step: `step_start`, then `text` (the step's whole text) and
//!   `tool_use` (one line per finished tool call, with its status), then `step_finish` with the
//!   step's `reason`, tokens and cost.
//! - There is no final report: a completed run ends with a `step_finish` whose reason is `stop`,
//!   so that step gives the [`AgentEvent::Finished`] the turn driver waits for (its answer is the
//!   last text, which the driver fills in). Tokens and cost come per step and are reported as
//!   [`AgentEvent::Usage`] for the driver to add up.
//! - A model API failure, after OpenCode's own retries, is one `error` line (`APIError` with the
//!   HTTP status) and exit 1; `--session` naming an unknown conversation prints nothing on stdout
//!   and `Error: Session not found` in colour on stderr, exit 1. SIGINT and SIGTERM kill it
//!   without a word.
//! - A new session's title costs a model request unless `--title` gives one.
//!
//! Permissions: OpenCode runs with its configured rules (`permission` in `opencode.json`) plus
//! `OPENCODE_PERMISSION` (JSON merged over them; for one tool the last matching pattern wins).
//! Measured on 1.18.33: a `deny` rule fails the call and the agent carries on; an `ask` rule is
//! rejected by `run` (nobody to ask), which then ends the run after that step without an answer,
//! unless `--auto` approves it; the `plan` agent alone still runs shell commands. So each
//! [`PermissionMode`] is a rule set that denies rather than asks ([`permission_rules`]), in the
//! environment, so it never shows on a command line.

use serde_json::{Value, json};

use super::json::{self, str_field};
use super::{Agent, TurnArgs, merged_env, without_report};
use crate::config::{HostAgentConfig, OpenCodeConfig, PermissionMode};
use crate::domain::agent::AgentKind;
use crate::domain::agent_event::{AgentEvent, AgentResult};
use crate::domain::invocation::Invocation;
use crate::domain::outcome::Outcome;

/// What the CLI prints on stderr (after `Error: `) when `--session` names an unknown conversation.
const NO_SESSION: &str = "Session not found";

/// The variable OpenCode merges over its configured permission rules.
const PERMISSION_VAR: &str = "OPENCODE_PERMISSION";

/// The shell commands `acceptEdits` allows besides edits: the filesystem ones Claude Code's mode
/// of that name allows.
const FILESYSTEM_COMMANDS: [&str; 4] = ["mkdir *", "touch *", "mv *", "cp *"];

/// The OpenCode adapter, configured for all hosts.
#[derive(Debug, Clone)]
pub struct OpenCode {
    config: OpenCodeConfig,
}

impl OpenCode {
    pub fn new(config: OpenCodeConfig) -> OpenCode {
        OpenCode { config }
    }
}

/// The permission rules of a mode, as `OPENCODE_PERMISSION` takes them (later rules of a tool
/// win, so `*` comes first); `None` for bypass, which approves everything with `--auto` instead.
/// `edit` covers OpenCode's `edit`, `write` and `patch` tools; a denied call fails that tool call
/// and the agent carries on.
pub fn permission_rules(mode: PermissionMode) -> Option<Value> {
    match mode {
        PermissionMode::Default | PermissionMode::Plan => {
            Some(json!({ "edit": "deny", "bash": "deny" }))
        }
        PermissionMode::AcceptEdits => {
            let mut bash = serde_json::Map::new();
            bash.insert("*".to_owned(), json!("deny"));
            for command in FILESYSTEM_COMMANDS {
                bash.insert(command.to_owned(), json!("allow"));
            }
            Some(json!({ "edit": "allow", "bash": bash }))
        }
        PermissionMode::BypassPermissions => None,
    }
}

impl Agent for OpenCode {
    fn kind(&self) -> AgentKind {
        AgentKind::OpenCode
    }

    fn command<'a>(&'a self, host: Option<&'a HostAgentConfig>) -> &'a str {
        host.and_then(|h| h.command.as_deref())
            .unwrap_or(&self.config.command)
    }

    fn invocation(&self, turn: &TurnArgs<'_>) -> Invocation {
        let c = &self.config;
        let mut argv: Vec<String> = [self.command(turn.host), "run", "--format", "json"]
            .map(str::to_owned)
            .to_vec();
        let mut flag = |name: &str, value: &str| {
            argv.push(name.to_owned());
            argv.push(value.to_owned());
        };
        match turn.resume {
            Some(id) => flag("--session", id),
            None => flag("--title", &c.title),
        }
        if let Some(model) = turn.model.or(c.model.as_deref()) {
            flag("-m", model);
        }
        let mode = turn.permission_mode.unwrap_or(c.permission_mode);
        let agent = match mode {
            PermissionMode::Plan => Some("plan"),
            _ => c.agent.as_deref(),
        };
        if let Some(agent) = agent {
            flag("--agent", agent);
        }
        let rules = permission_rules(mode);
        if rules.is_none() {
            argv.push("--auto".to_owned());
        }
        argv.extend(c.extra_args.iter().cloned());
        // The mode's rules first: a variable configured for the agent, host or project wins.
        let mut env: Vec<(String, String)> = rules
            .map(|r| (PERMISSION_VAR.to_owned(), r.to_string()))
            .into_iter()
            .collect();
        for (name, value) in merged_env(&c.env, turn) {
            env.retain(|(n, _)| *n != name);
            env.push((name, value));
        }
        Invocation { argv, env }
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
                "the agent reads and searches; edits and shell commands are denied"
            }
            PermissionMode::Plan => {
                "the agent only plans (its plan agent): edits and shell commands are denied"
            }
            PermissionMode::AcceptEdits => {
                "the agent edits and writes files without asking, and runs mkdir, touch, mv and \
                 cp; other shell commands are denied"
            }
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

/// Parses one output line into events. Lines that are not JSON objects, and types this adapter
/// does not know, give nothing.
pub fn parse_line(line: &[u8]) -> Vec<AgentEvent> {
    let Some(value) = json::parse(line) else {
        return Vec::new();
    };
    let part = value.get("part").unwrap_or(&Value::Null);
    match str_field(&value, "type") {
        // Every step names the conversation; the driver stores it once.
        Some("step_start") => started(&value).into_iter().collect(),
        Some("text") => str_field(part, "text")
            .filter(|t| !t.trim().is_empty())
            .map(|t| AgentEvent::Text { text: t.to_owned() })
            .into_iter()
            .collect(),
        Some("tool_use") => tool_use(part),
        Some("step_finish") => step_finish(part),
        Some("error") => started(&value)
            .into_iter()
            .chain([AgentEvent::Finished(error(&value))])
            .collect(),
        _ => Vec::new(),
    }
}

fn started(value: &Value) -> Option<AgentEvent> {
    str_field(value, "sessionID").map(|id| AgentEvent::Started {
        agent_session_id: id.to_owned(),
        model: None,
        version: None,
    })
}

/// A finished tool call: its use and its result at once (OpenCode prints it when it is done).
fn tool_use(part: &Value) -> Vec<AgentEvent> {
    let name = str_field(part, "tool").unwrap_or("tool").to_owned();
    let id = str_field(part, "callID")
        .or_else(|| str_field(part, "id"))
        .unwrap_or_default()
        .to_owned();
    let state = part.get("state").unwrap_or(&Value::Null);
    let status = str_field(state, "status");
    let mut events = vec![AgentEvent::ToolUse {
        id: id.clone(),
        summary: tool_summary(&name, state),
        name: name.clone(),
    }];
    if !matches!(status, Some("completed" | "error")) {
        return events;
    }
    let is_error = status == Some("error");
    let refusal = is_error
        .then(|| str_field(state, "error").and_then(refusal))
        .flatten();
    if refusal.is_some() {
        events.push(AgentEvent::PermissionDenied { tool: name.clone() });
    }
    events.push(AgentEvent::ToolResult { id, is_error });
    if refusal == Some(Refusal::Rejected) {
        // Measured: the run ends after this step, without an answer.
        events.push(AgentEvent::Finished(failed(
            "permission_rejected",
            &format!(
                "OpenCode stopped: it asked to use {name}, and nobody can approve that in a \
                 headless run. Allow it in OpenCode's permission rules, or choose a permission \
                 mode that does."
            ),
        )));
    }
    events
}

/// How OpenCode refused a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A `deny` rule: the call fails and the agent carries on.
    Denied,
    /// An `ask` rule, which `run` rejects: the run stops after the step.
    Rejected,
}

/// Whether a tool's error is a refusal (measured wording of 1.18.33).
fn refusal(error: &str) -> Option<Refusal> {
    if error.contains("rule which prevents you from using") {
        Some(Refusal::Denied)
    } else if error.contains("rejected permission") {
        Some(Refusal::Rejected)
    } else {
        None
    }
}

/// A short summary of a tool call: the command, the file, the pattern, else OpenCode's own
/// title for it (a path relative to the project).
fn tool_summary(name: &str, state: &Value) -> String {
    let input = state.get("input").unwrap_or(&Value::Null);
    let preferred: &[&str] = match name {
        "bash" => &["command"],
        "read" | "write" | "edit" | "list" => &["filePath", "path"],
        "glob" | "grep" => &["pattern"],
        "webfetch" => &["url"],
        "task" => &["description"],
        _ => &[],
    };
    let from_input = preferred.iter().find_map(|key| str_field(input, key));
    let text = match (name, from_input) {
        // The title is the path relative to the project: shorter than the absolute one.
        ("read" | "write" | "edit", Some(_)) => str_field(state, "title").or(from_input),
        (_, Some(text)) => Some(text),
        (_, None) => str_field(state, "title")
            .or_else(|| input.as_object()?.values().find_map(Value::as_str)),
    };
    json::summary(text.unwrap_or_default())
}

/// A step's end: its usage, and for the step that ends the run, the final report.
fn step_finish(part: &Value) -> Vec<AgentEvent> {
    let tokens = |key: &str| {
        part.pointer(&format!("/tokens/{key}"))
            .and_then(Value::as_i64)
    };
    let usage = AgentEvent::Usage {
        cost_usd: part.get("cost").and_then(Value::as_f64),
        input_tokens: tokens("input"),
        output_tokens: tokens("output"),
    };
    let reason = str_field(part, "reason").unwrap_or_default();
    let end = match reason {
        // The model called tools: another step follows.
        "tool-calls" => None,
        "length" => Some(failed(
            "length",
            "the answer was cut off at the model's output limit",
        )),
        "content-filter" => Some(failed(
            "content-filter",
            "the model's content filter stopped the answer",
        )),
        // `stop`, and whatever else a provider calls the end of an answer.
        _ => Some(AgentResult {
            is_error: false,
            subtype: reason.to_owned(),
            ..AgentResult::default()
        }),
    };
    std::iter::once(usage)
        .chain(end.map(AgentEvent::Finished))
        .collect()
}

fn failed(subtype: &str, message: &str) -> AgentResult {
    AgentResult {
        is_error: true,
        subtype: subtype.to_owned(),
        errors: vec![message.to_owned()],
        ..AgentResult::default()
    }
}

/// An `error` line: OpenCode gave up (`APIError` carries the HTTP status).
fn error(value: &Value) -> AgentResult {
    let error = value.get("error").unwrap_or(&Value::Null);
    let name = str_field(error, "name").unwrap_or("error");
    let data = error.get("data").unwrap_or(&Value::Null);
    let message = str_field(data, "message")
        .or_else(|| str_field(error, "message"))
        .unwrap_or(name);
    let mut result = failed(name, message);
    result.agent_session_id = str_field(value, "sessionID").map(str::to_owned);
    result.api_error_status = data.get("statusCode").and_then(Value::as_i64);
    result
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
        Some(r) if r.subtype == "APIError" || r.api_error_status.is_some() => Outcome::ApiError {
            message: r.errors.join("; "),
            status: r.api_error_status,
        },
        Some(r) => Outcome::AgentError {
            message: r.errors.join("; "),
        },
        None if strip_ansi(stderr).contains(NO_SESSION) => Outcome::SessionNotFound {
            // OpenCode does not repeat the id; the turn driver knows which one it resumed.
            agent_session_id: String::new(),
        },
        None => without_report(exit_code, &strip_ansi(stderr), command),
    }
}

/// Text without its ANSI escape sequences (OpenCode colours its errors even into a file).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters… final byte (@ to ~); any other escape drops one character.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/agent-cli/opencode/"
    );

    fn read(name: &str) -> String {
        std::fs::read_to_string(format!("{SAMPLES}{name}")).unwrap()
    }

    fn sample(name: &str) -> Vec<AgentEvent> {
        read(name)
            .lines()
            .flat_map(|l| parse_line(l.as_bytes()))
            .collect()
    }

    fn result_of(events: &[AgentEvent]) -> Option<&AgentResult> {
        events.iter().rev().find_map(|e| match e {
            AgentEvent::Finished(r) => Some(r),
            _ => None,
        })
    }

    fn started(id: &str) -> AgentEvent {
        AgentEvent::Started {
            agent_session_id: id.into(),
            model: None,
            version: None,
        }
    }

    fn usage() -> AgentEvent {
        AgentEvent::Usage {
            cost_usd: Some(0.0),
            input_tokens: Some(10),
            output_tokens: Some(5),
        }
    }

    fn success(reason: &str) -> AgentEvent {
        AgentEvent::Finished(AgentResult {
            is_error: false,
            subtype: reason.into(),
            ..AgentResult::default()
        })
    }

    #[test]
    fn a_plain_answer_is_one_step_that_ends_the_run() {
        let id = "ses_db8bfcf40ffeK2gc9zZ0MNDOG1";
        assert_eq!(
            sample("plain-answer.jsonl"),
            [
                started(id),
                AgentEvent::Text {
                    text: "Hello! How can I help?".into()
                },
                usage(),
                success("stop"),
            ]
        );
    }

    #[test]
    fn a_tool_turn_reports_the_edit_and_ends_with_the_second_step() {
        let id = "ses_db8bfc5afffe20KSgEkbcmmMt7";
        let events = sample("tool-turn-edit.jsonl");
        assert_eq!(
            events,
            [
                started(id),
                AgentEvent::ToolUse {
                    id: "call_fake_9".into(),
                    name: "edit".into(),
                    summary: "tmp/explore/capture/work/notes.txt".into(),
                },
                AgentEvent::ToolResult {
                    id: "call_fake_9".into(),
                    is_error: false
                },
                usage(),
                started(id),
                AgentEvent::Text {
                    text: "I changed notes.txt.".into()
                },
                usage(),
                success("stop"),
            ]
        );
        // The driver fills the answer in from the last text; the report itself is a success.
        assert!(matches!(
            classify(result_of(&events), Some(0), "", "opencode"),
            Outcome::Success { .. }
        ));
    }

    #[test]
    fn a_resumed_turn_keeps_its_session() {
        let events = sample("resume-session.jsonl");
        assert_eq!(events[0], started("ses_db8bfc5afffe20KSgEkbcmmMt7"));
        assert_eq!(
            result_of(&events),
            Some(&AgentResult {
                subtype: "stop".into(),
                ..AgentResult::default()
            })
        );
    }

    #[test]
    fn api_errors_carry_their_status_and_message() {
        for (name, status, message) in [
            ("api-error-400.jsonl", 400, "fake bad request"),
            ("api-error-429.jsonl", 429, "fake rate limit"),
            ("api-error-500.jsonl", 500, "fake internal error"),
        ] {
            let events = sample(name);
            assert!(matches!(&events[0], AgentEvent::Started { .. }), "{name}");
            let result = result_of(&events).expect(name);
            assert!(
                result
                    .agent_session_id
                    .as_deref()
                    .unwrap()
                    .starts_with("ses_")
            );
            assert_eq!(
                classify(Some(result), Some(1), "", "opencode"),
                Outcome::ApiError {
                    message: message.into(),
                    status: Some(status)
                },
                "{name}"
            );
        }
    }

    /// `Session not found` comes in colour on stderr; the id is the driver's to name.
    #[test]
    fn an_unknown_session_is_a_lost_conversation() {
        assert!(sample("resume-unknown-session.jsonl").is_empty());
        let stderr = read("resume-unknown-session.stderr");
        assert!(stderr.contains('\u{1b}'), "the capture is coloured");
        assert_eq!(
            classify(None, Some(1), &stderr, "opencode"),
            Outcome::SessionNotFound {
                agent_session_id: String::new()
            }
        );
    }

    #[test]
    fn runs_without_a_report_crashed_with_their_stderr_plain() {
        let stderr = read("empty-stdin.stderr");
        assert!(sample("empty-stdin.jsonl").is_empty());
        assert_eq!(
            classify(None, Some(1), &stderr, "opencode"),
            Outcome::Crashed {
                exit_code: Some(1),
                stderr_tail: "Error: You must provide a message or a command".into()
            }
        );
        for signalled in ["sigint-during-api.jsonl", "sigterm-during-api.jsonl"] {
            assert!(sample(signalled).is_empty(), "{signalled}");
        }
        assert!(matches!(
            classify(None, None, "", "opencode"),
            Outcome::Crashed {
                exit_code: None,
                ..
            }
        ));
        assert_eq!(
            classify(None, Some(127), "sh: opencode: not found", "/opt/oc"),
            Outcome::AgentNotInstalled {
                command: "/opt/oc".into()
            }
        );
    }

    #[test]
    fn steps_that_end_badly_are_failures() {
        let line = |reason: &str| {
            format!(
                r#"{{"type":"step_finish","sessionID":"s","part":{{"reason":"{reason}","cost":0.5,"tokens":{{"input":3,"output":4}}}}}}"#
            )
        };
        let events = parse_line(line("tool-calls").as_bytes());
        assert_eq!(
            events,
            [AgentEvent::Usage {
                cost_usd: Some(0.5),
                input_tokens: Some(3),
                output_tokens: Some(4)
            }]
        );
        let cut = parse_line(line("length").as_bytes());
        assert!(matches!(
            classify(result_of(&cut), Some(0), "", "opencode"),
            Outcome::AgentError { message } if message.contains("output limit")
        ));
        let other = parse_line(line("other").as_bytes());
        assert!(!result_of(&other).unwrap().is_error);
    }

    /// A `deny` rule fails the call and the agent answers; an `ask` is rejected and ends the
    /// run after that step, which only this adapter can tell.
    #[test]
    fn refused_tools_are_denials_and_a_rejected_ask_ends_the_turn() {
        let denied = sample("tool-denied-by-rule.jsonl");
        assert_eq!(
            denied[1..4],
            [
                AgentEvent::ToolUse {
                    id: "call_fake_2".into(),
                    name: "bash".into(),
                    summary: "echo hi > x.txt".into()
                },
                AgentEvent::PermissionDenied {
                    tool: "bash".into()
                },
                AgentEvent::ToolResult {
                    id: "call_fake_2".into(),
                    is_error: true
                },
            ]
        );
        assert!(matches!(
            classify(result_of(&denied), Some(0), "", "opencode"),
            Outcome::Success { .. }
        ));

        let rejected = sample("tool-rejected-ask.jsonl");
        assert!(rejected.contains(&AgentEvent::PermissionDenied {
            tool: "bash".into()
        }));
        let stderr = read("tool-rejected-ask.stderr");
        assert!(strip_ansi(&stderr).contains("auto-rejecting"));
        assert!(matches!(
            classify(result_of(&rejected), Some(0), &stderr, "opencode"),
            Outcome::AgentError { message } if message.contains("asked to use bash")
        ));

        let failed = json!({"type": "tool_use", "part": {"tool": "bash", "callID": "c1",
            "state": {"status": "error", "input": {"command": "false\nx"}, "error": "exit 1"}}});
        assert_eq!(
            parse_line(failed.to_string().as_bytes()),
            [
                AgentEvent::ToolUse {
                    id: "c1".into(),
                    name: "bash".into(),
                    summary: "false".into()
                },
                AgentEvent::ToolResult {
                    id: "c1".into(),
                    is_error: true
                },
            ]
        );
    }

    #[test]
    fn parsing_is_lenient() {
        assert!(parse_line(b"not json").is_empty());
        assert!(parse_line(br#"{"type":"brand_new","sessionID":"s"}"#).is_empty());
        assert!(parse_line(br#"{"type":"text","part":{"text":"  "}}"#).is_empty());
        assert!(parse_line(br#"{"type":"step_start"}"#).is_empty());
        // An error line without details is still a failure.
        let events = parse_line(br#"{"type":"error"}"#);
        assert!(matches!(
            classify(result_of(&events), Some(1), "", "opencode"),
            Outcome::AgentError { .. }
        ));
        let mut line = br#"{"type":"text","sessionID":"s","part":{"text":"caf"#.to_vec();
        line.extend_from_slice(&[0xC3, b' ', 0xFF]);
        line.extend_from_slice(br#" done"}}"#);
        assert_eq!(
            parse_line(&line),
            [AgentEvent::Text {
                text: "caf\u{FFFD} \u{FFFD} done".into()
            }]
        );
    }

    #[test]
    fn ansi_codes_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[91m\u{1b}[1mError: \u{1b}[0mx"),
            "Error: x"
        );
        assert_eq!(strip_ansi("plain"), "plain");
        assert_eq!(strip_ansi("cut \u{1b}["), "cut ");
    }

    fn permission_env(inv: &Invocation) -> Option<Value> {
        inv.env
            .iter()
            .find(|(n, _)| n == PERMISSION_VAR)
            .map(|(_, v)| serde_json::from_str(v).unwrap())
    }

    #[test]
    fn a_new_turn_gets_a_title_and_a_resumed_one_its_session() {
        let config = OpenCodeConfig {
            model: Some("fake/fake-model".into()),
            extra_args: vec!["--variant".into(), "high".into()],
            env: [("A".to_string(), "1".to_string())].into(),
            ..OpenCodeConfig::default()
        };
        let host = HostAgentConfig {
            command: Some("/opt/opencode".into()),
            env: [("B".to_string(), "2".to_string())].into(),
        };
        let agent = OpenCode::new(config);
        let new = agent.invocation(&TurnArgs {
            host: Some(&host),
            ..TurnArgs::default()
        });
        assert_eq!(
            new.argv,
            [
                "/opt/opencode",
                "run",
                "--format",
                "json",
                "--title",
                "Switchboard",
                "-m",
                "fake/fake-model",
                "--variant",
                "high"
            ]
        );
        let names: Vec<&str> = new.env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [PERMISSION_VAR, "A", "B"]);
        let resumed = agent.invocation(&TurnArgs {
            resume: Some("ses_1"),
            model: Some("other/model"),
            ..TurnArgs::default()
        });
        assert_eq!(
            resumed.argv[..8],
            [
                "opencode",
                "run",
                "--format",
                "json",
                "--session",
                "ses_1",
                "-m",
                "other/model"
            ]
        );
    }

    /// Each mode is a rule set in the environment; plan also picks the plan agent, bypass
    /// approves with `--auto`; a configured variable wins over the mode's.
    #[test]
    fn permission_modes_become_rules() {
        let agent = OpenCode::new(OpenCodeConfig {
            agent: Some("review".into()),
            ..OpenCodeConfig::default()
        });
        let with = |mode| {
            agent.invocation(&TurnArgs {
                permission_mode: Some(mode),
                ..TurnArgs::default()
            })
        };
        let edits = with(PermissionMode::AcceptEdits);
        assert_eq!(
            permission_env(&edits).unwrap(),
            json!({"edit": "allow", "bash": {"*": "deny", "mkdir *": "allow", "touch *": "allow",
                "mv *": "allow", "cp *": "allow"}})
        );
        assert!(edits.argv.ends_with(&["--agent".into(), "review".into()]));
        let deny = json!({"edit": "deny", "bash": "deny"});
        assert_eq!(
            permission_env(&with(PermissionMode::Default)).unwrap(),
            deny
        );
        let plan = with(PermissionMode::Plan);
        assert_eq!(permission_env(&plan).unwrap(), deny);
        assert!(plan.argv.ends_with(&["--agent".into(), "plan".into()]));
        let bypass = with(PermissionMode::BypassPermissions);
        assert_eq!(permission_env(&bypass), None);
        assert!(bypass.argv.contains(&"--auto".to_owned()));
        // The default mode without configuration: edits allowed.
        let default = OpenCode::new(OpenCodeConfig::default()).invocation(&TurnArgs::default());
        assert_eq!(permission_env(&default).unwrap()["edit"], "allow");

        let own = BTreeMap::from([(PERMISSION_VAR.to_owned(), r#"{"bash":"allow"}"#.to_owned())]);
        let overridden = agent.invocation(&TurnArgs {
            env: Some(&own),
            ..TurnArgs::default()
        });
        assert_eq!(
            overridden.env,
            [(PERMISSION_VAR.to_owned(), r#"{"bash":"allow"}"#.to_owned())]
        );
    }
}
