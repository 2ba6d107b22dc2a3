//! End-to-end tests of `fake-opencode`, the test double of `opencode run --format json`.
//!
//! Like fake-claude's and fake-codex's (tests/e2e/fake_agent.rs, whose sandbox, runner and shape
//! comparison these reuse), they pin the fake to the real captures in
//! `tests/fixtures/agent-cli/opencode/`: every line has the sample line's keys and value kinds, in
//! the sample's order. The measured behaviours are checked on the binary: prompt on stdin,
//! sessions resumed with `--session`, the coloured `Session not found`, the missing-prompt error,
//! and death by SIGINT and SIGTERM with nothing more printed (measured on the real 1.18.33 while it
//! waited on a model API that never answered). The adapter reads the fake's lines the way it
//! reads the captures (src/agents/opencode.rs).

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use switchboard::agents::opencode;
use switchboard::domain::agent_event::AgentEvent;
use switchboard::domain::outcome::Outcome;

use crate::fake_agent::{Output, Sandbox, assert_shapes, sleepers};
use crate::support::harness::FAKE_OPENCODE;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/agent-cli/opencode"
);
const RUN: &[&str] = &["run", "--format", "json"];
/// What a tool call's input holds is the script's: only its presence is compared.
const FREE: &[&str] = &["part.state.input"];

fn sample(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(SAMPLES).join(name)).expect("sample exists");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("sample line is JSON"))
        .collect()
}

fn opencode(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = Command::new(FAKE_OPENCODE);
    cmd.args(RUN)
        .args(args)
        .current_dir(&sb.cwd)
        .env("HOME", &sb.home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("FAKE_OPENCODE_RECORD_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn session_of(out: &Output) -> String {
    out.lines[0]["sessionID"]
        .as_str()
        .expect("a session id")
        .to_owned()
}

/// The events the adapter reads from a run's lines.
fn events(out: &Output) -> Vec<AgentEvent> {
    out.lines
        .iter()
        .flat_map(|l| opencode::parse_line(l.to_string().as_bytes()))
        .collect()
}

#[test]
fn a_bash_turn_matches_the_sample_line_for_line() {
    let sb = Sandbox::new();
    let out = sb.run_with(
        opencode(&sb, &["--title", "t"]),
        b"@fake tool bash {\"command\":\"echo hi > x.txt\",\"description\":\"Write x\"}\n\
          @fake answer Done.",
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_shapes(&out.lines, &sample("tool-turn-bash.jsonl"), FREE);
    assert_eq!(out.lines[1]["part"]["state"]["title"], "echo hi > x.txt");
    assert_eq!(out.lines[4]["part"]["text"], "Done.");
    let events = events(&out);
    assert!(events.iter().any(
        |e| matches!(e, AgentEvent::ToolUse { name, summary, .. } if name == "bash" && summary == "echo hi > x.txt")
    ));
    assert!(
        matches!(events.last(), Some(AgentEvent::Finished(r)) if !r.is_error),
        "{events:?}"
    );
}

#[test]
fn a_write_really_writes_and_matches_the_sample() {
    let sb = Sandbox::new();
    let out = sb.run_with(
        opencode(&sb, &["--title", "t"]),
        b"@fake write new.txt fresh\\n\n@fake answer Done.",
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_shapes(&out.lines, &sample("tool-turn-write.jsonl"), FREE);
    assert_eq!(
        std::fs::read_to_string(sb.cwd.join("new.txt")).unwrap(),
        "fresh\n"
    );
    assert_eq!(
        out.lines[1]["part"]["state"]["input"]["filePath"],
        sb.cwd.join("new.txt").to_string_lossy().as_ref()
    );
}

#[test]
fn resume_continues_the_session_and_an_unknown_one_fails_as_measured() {
    let sb = Sandbox::new();
    let first = sb.run_with(opencode(&sb, &["--title", "t"]), b"hello");
    assert_shapes(&first.lines, &sample("plain-answer.jsonl"), FREE);
    let session = session_of(&first);
    let file = sb
        .home
        .join(format!(".local/share/opencode/sessions/{session}.jsonl"));
    assert!(file.is_file(), "{}", file.display());

    let again = sb.run_with(opencode(&sb, &["--session", &session]), b"again");
    assert_eq!(again.status.code(), Some(0), "{}", again.stderr);
    assert_shapes(&again.lines, &sample("resume-session.jsonl"), FREE);
    assert!(
        again
            .lines
            .iter()
            .all(|l| l["sessionID"] == session.as_str())
    );
    assert_eq!(again.lines[1]["part"]["text"], "Echo #2: again");

    std::fs::remove_file(&file).unwrap();
    let lost = sb.run_with(opencode(&sb, &["--session", &session]), b"hello?");
    assert_eq!(lost.status.code(), Some(1));
    assert!(lost.lines.is_empty(), "{:?}", lost.lines);
    let captured =
        std::fs::read_to_string(Path::new(SAMPLES).join("resume-unknown-session.stderr")).unwrap();
    assert_eq!(lost.stderr, captured);
    assert_eq!(
        opencode::classify(None, Some(1), &lost.stderr, "opencode"),
        Outcome::SessionNotFound {
            agent_session_id: String::new()
        }
    );
}

#[test]
fn api_errors_and_refused_tools_match_their_samples() {
    let sb = Sandbox::new();
    let error = sb.run_with(opencode(&sb, &[]), b"@fake api-error 429\nhi");
    assert_eq!(error.status.code(), Some(1));
    assert_shapes(&error.lines, &sample("api-error-429.jsonl"), &[]);
    let events = events(&error);
    let Some(AgentEvent::Finished(result)) = events.last() else {
        panic!("{events:?}")
    };
    assert!(matches!(
        opencode::classify(Some(result), Some(1), "", "opencode"),
        Outcome::ApiError {
            status: Some(429),
            ..
        }
    ));

    let denied = sb.run_with(
        opencode(&sb, &[]),
        b"@fake permission-denied bash {\"command\":\"echo hi > x.txt\"}\n@fake answer I could not.",
    );
    assert_eq!(denied.status.code(), Some(0), "{}", denied.stderr);
    assert_shapes(&denied.lines, &sample("tool-denied-by-rule.jsonl"), FREE);
    assert!(events_of_kind(&denied, |e| matches!(
        e,
        AgentEvent::PermissionDenied { .. }
    )));
}

fn events_of_kind(out: &Output, matches: impl Fn(&AgentEvent) -> bool) -> bool {
    events(out).iter().any(matches)
}

#[test]
fn signals_kill_it_with_nothing_more_printed() {
    let sb = Sandbox::new();
    for (signal, number, script) in [
        ("INT", libc::SIGINT, "@fake text waiting\n@fake sleep 30"),
        ("TERM", libc::SIGTERM, "@fake text waiting\n@fake sleep 30"),
        ("INT", libc::SIGINT, "@fake tool-sleep 29.739"),
    ] {
        let mut run = sb.spawn(opencode(&sb, &[]), script.as_bytes());
        run.wait_for("the step's start", |v| v["type"] == "step_start");
        if script.contains("tool") {
            let started = std::time::Instant::now();
            while sleepers("29.739") == 0 {
                assert!(started.elapsed().as_secs() < 10, "the tool never started");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        } else {
            run.wait_for("the text", |v| v["type"] == "text");
        }
        run.signal(signal);
        let out = run.finish();
        assert_eq!(
            out.status.signal(),
            Some(number),
            "{signal} during {script}"
        );
        assert!(
            out.lines.iter().all(|l| l["type"] != "step_finish"),
            "{signal}: {:#?}",
            out.lines
        );
    }
}

#[test]
fn the_prompt_must_come_and_unknown_options_fail() {
    let sb = Sandbox::new();
    let empty = sb.run_with(opencode(&sb, &["--title", "x"]), b"");
    assert_eq!(empty.status.code(), Some(1));
    let captured = std::fs::read_to_string(Path::new(SAMPLES).join("empty-stdin.stderr")).unwrap();
    assert_eq!(empty.stderr, captured);
    let unknown = sb.run_with(opencode(&sb, &["--bogus"]), b"hi");
    assert_eq!(unknown.status.code(), Some(2));
}
