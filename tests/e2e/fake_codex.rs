//! End-to-end tests of `fake-codex`, the test double of `codex exec --json`.
//!
//! Like fake-claude's (tests/e2e/fake_agent.rs, whose sandbox, runner and shape comparison
//! these reuse), they pin the fake to the real captures in `tests/fixtures/agent-cli/codex/`:
//! every line has the sample line's keys and value kinds, in the sample's order. The measured
//! behaviours are checked on the binary: prompt on stdin, threads resumed from their rollout
//! under `CODEX_HOME`, the unknown-thread failure, and the exit codes of SIGINT, SIGTERM and
//! SIGHUP (measured on the real 0.171.0 while it waited on a model API that never answered).

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::fake_agent::{Sandbox, assert_shapes, sleepers};
use crate::support::harness::FAKE_CODEX;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/agent-cli/codex"
);
const EXEC: &[&str] = &[
    "exec",
    "--json",
    "--skip-git-repo-check",
    "--sandbox",
    "workspace-write",
];

fn sample(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(SAMPLES).join(name)).expect("sample exists");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("sample line is JSON"))
        .collect()
}

/// The sample without its model-metadata warning: an `error` item the real CLI printed only
/// because the capture's model was unknown to it.
fn without_warning(lines: Vec<Value>) -> Vec<Value> {
    lines
        .into_iter()
        .filter(|l| l["item"]["type"] != "error")
        .collect()
}

fn codex(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = Command::new(FAKE_CODEX);
    cmd.args(args)
        .arg("-")
        .current_dir(&sb.cwd)
        .env("HOME", &sb.home)
        .env("CODEX_HOME", sb.home.join(".codex"))
        .env_remove("FAKE_CODEX_RECORD_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn thread_of(lines: &[Value]) -> String {
    lines[0]["thread_id"]
        .as_str()
        .expect("a thread id")
        .to_owned()
}

#[test]
fn a_tool_turn_matches_the_sample_line_for_line() {
    let sb = Sandbox::new();
    let out = sb.run_with(
        codex(&sb, EXEC),
        b"@fake tool Bash {\"command\":\"echo hi > codex_file.txt\"}\n\
          @fake answer created codex_file.txt",
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_shapes(
        &out.lines,
        &without_warning(sample("exec-tool-turn.jsonl")),
        &[],
    );
    assert_eq!(
        out.lines[2]["item"]["command"],
        "/bin/bash -c 'echo hi > codex_file.txt'"
    );
    assert_eq!(out.lines[4]["item"]["text"], "created codex_file.txt");
}

#[test]
fn resume_continues_the_thread_and_an_unknown_one_fails_as_measured() {
    let sb = Sandbox::new();
    let first = sb.run_with(codex(&sb, EXEC), b"hello");
    let thread = thread_of(&first.lines);
    // sessions/YYYY/MM/DD/rollout-<timestamp>-<thread>.jsonl, as the real CLI keeps it.
    let mut dir = sb.home.join(".codex/sessions");
    for digits in [4, 2, 2] {
        let only: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(only.len(), 1, "{}", dir.display());
        assert_eq!(only[0].file_name().len(), digits);
        dir = only[0].path();
    }
    let file = std::fs::read_dir(&dir).unwrap().flatten().next().unwrap();
    let name = file.file_name().to_string_lossy().into_owned();
    assert!(
        name.starts_with("rollout-") && name.ends_with(&format!("-{thread}.jsonl")),
        "{name}"
    );
    let again = sb.run_with(codex(&sb, &[EXEC, &["resume", &thread]].concat()), b"again");
    assert_eq!(again.status.code(), Some(0), "{}", again.stderr);
    assert_shapes(
        &again.lines,
        &without_warning(sample("exec-resume.jsonl")),
        &[],
    );
    assert_eq!(thread_of(&again.lines), thread, "the thread is kept");
    assert_eq!(again.lines[2]["item"]["text"], "Echo #2: again");

    let id = "11111111-2222-3333-4444-555555555555";
    let lost = sb.run_with(codex(&sb, &[EXEC, &["resume", id]].concat()), b"hi");
    assert_eq!(lost.status.code(), Some(1));
    assert!(lost.lines.is_empty(), "{:?}", lost.lines);
    assert_eq!(
        lost.stderr.trim(),
        format!(
            "Error: thread/resume: thread/resume failed: no rollout found for thread id {id} \
             (code -32600)"
        )
    );
}

#[test]
fn an_api_error_matches_the_http_500_sample() {
    let sb = Sandbox::new();
    let out = sb.run_with(codex(&sb, EXEC), b"@fake api-error 500\nhi");
    assert_eq!(out.status.code(), Some(1));
    assert_shapes(
        &out.lines,
        &without_warning(sample("exec-http500.jsonl")),
        &[],
    );
}

#[test]
fn signals_end_the_run_with_the_measured_codes_and_no_more_lines() {
    let sb = Sandbox::new();
    for (signal, script, code) in [
        ("INT", "@fake sleep 30", 1),
        ("TERM", "@fake sleep 30", 143),
        ("HUP", "@fake sleep 30", 129),
        ("TERM", "@fake tool-sleep 29.737", 143),
    ] {
        let mut run = sb.spawn(codex(&sb, EXEC), script.as_bytes());
        run.wait_for("turn.started", |v| v["type"] == "turn.started");
        if script.contains("tool") {
            run.wait_for("the command", |v| v["type"] == "item.started");
            let started = std::time::Instant::now();
            while sleepers("29.737") == 0 {
                assert!(started.elapsed().as_secs() < 10, "the tool never started");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        run.signal(signal);
        let out = run.finish();
        assert_eq!(out.status.code(), Some(code), "{signal} during {script}");
        let last = out.lines.last().expect("some lines");
        assert!(
            last["type"] == "turn.started" || last["type"] == "item.started",
            "{signal}: {:#?}",
            out.lines
        );
    }
    assert_eq!(sleepers("29.737"), 0, "the running tool was killed");
}

#[test]
fn the_prompt_must_come_and_other_command_lines_fail_like_clap() {
    let sb = Sandbox::new();
    let empty = sb.run_with(codex(&sb, EXEC), b"");
    assert_eq!(empty.status.code(), Some(1));
    assert_eq!(empty.stderr.trim(), "No prompt provided via stdin.");
    let unknown = sb.run_with(codex(&sb, &["exec", "--json", "--bogus"]), b"hi");
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        unknown.stderr.trim(),
        "error: unexpected argument '--bogus' found"
    );
}
