//! End-to-end tests of `fake-claude`, the test double of the `claude` CLI.
//!
//! Every other end-to-end test trusts the fake to behave like the real CLI, so these tests pin
//! it to the real captures in `tests/fixtures/agent-cli/claude/`: for each scenario every output
//! line is compared with the corresponding sample line (same `type`/`subtype`, same keys
//! recursively, same JSON value kinds, same line order). The measured behaviours (exit codes,
//! stderr texts, signals, resume, cumulative cost, recording) are checked on the real binary,
//! run in temporary directories with its own `HOME`/`CLAUDE_CONFIG_DIR`.
//!
//! Signals are sent when the line that marks the situation has been read (the init line for
//! "waiting on the API", the tool_use line for "during a tool"), never after a fixed sleep. A
//! watchdog kills a child that outlives its deadline, so a regression fails instead of hanging.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIN: &str = crate::support::harness::FAKE_CLAUDE;
const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/agent-cli/claude"
);
const DEADLINE: Duration = Duration::from_secs(60);
const STREAM: &[&str] = &["-p", "--output-format", "stream-json", "--verbose"];
const TOOL_TURN_SCRIPT: &str = "@fake text Running a command.\n\
     @fake tool Bash {\"command\":\"echo hi > file.txt\",\"description\":\"Write file.txt\"}\n\
     @fake answer Created file.txt with bash.\n";

fn sample(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(SAMPLES).join(name)).expect("sample exists");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("sample line is JSON"))
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys recursively and same value kinds. Paths in `free` (e.g. a tool's input) only have
/// to exist; array elements are compared with the sample's element at the same index, or its
/// last one; an empty sample array must stay empty.
fn shape_diff(actual: &Value, sample: &Value, path: &str, free: &[&str]) -> Vec<String> {
    if free.contains(&path) {
        return vec![];
    }
    if kind(actual) != kind(sample) {
        return vec![format!(
            "{path}: {} where the sample has {}",
            kind(actual),
            kind(sample)
        )];
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (actual, sample) {
        (Value::Object(a), Value::Object(s)) => {
            let mut diffs: Vec<String> = a
                .keys()
                .filter(|k| !s.contains_key(*k))
                .map(|k| format!("{}: not in the sample", join(k)))
                .chain(
                    s.keys()
                        .filter(|k| !a.contains_key(*k))
                        .map(|k| format!("{}: missing", join(k))),
                )
                .collect();
            for (key, value) in a {
                if let Some(expected) = s.get(key) {
                    diffs.extend(shape_diff(value, expected, &join(key), free));
                }
            }
            diffs
        }
        (Value::Array(a), Value::Array(s)) => {
            if s.is_empty() || a.is_empty() {
                return if s.is_empty() == a.is_empty() {
                    vec![]
                } else {
                    vec![format!(
                        "{path}: {} items where the sample has {}",
                        a.len(),
                        s.len()
                    )]
                };
            }
            a.iter()
                .enumerate()
                .flat_map(|(i, item)| {
                    shape_diff(item, &s[i.min(s.len() - 1)], &join(&i.to_string()), free)
                })
                .collect()
        }
        _ => vec![],
    }
}

pub(crate) fn assert_shapes(actual: &[Value], expected: &[Value], free: &[&str]) {
    let label = |v: &Value| format!("{}/{}", v["type"], v["subtype"]);
    let actual_labels: Vec<String> = actual.iter().map(label).collect();
    let expected_labels: Vec<String> = expected.iter().map(label).collect();
    assert_eq!(
        actual_labels, expected_labels,
        "line types differ\nactual: {actual:#?}"
    );
    for (n, (a, e)) in actual.iter().zip(expected).enumerate() {
        let diffs = shape_diff(a, e, "", free);
        assert!(
            diffs.is_empty(),
            "line {n} ({}) differs from the sample:\n{}\n{a}",
            label(a),
            diffs.join("\n")
        );
    }
}

/// The sample lines at these indexes.
fn pick(lines: &[Value], indexes: &[usize]) -> Vec<Value> {
    indexes.iter().map(|&i| lines[i].clone()).collect()
}

pub(crate) struct Output {
    pid: u32,
    pub(crate) status: ExitStatus,
    pub(crate) lines: Vec<Value>,
    stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    fn result(&self) -> &Value {
        let last = self.lines.last().expect("some output");
        assert_eq!(last["type"], "result", "last line is not a result: {last}");
        last
    }

    fn session_id(&self) -> String {
        self.lines[0]["session_id"]
            .as_str()
            .expect("a session id")
            .to_owned()
    }
}

/// A temporary home, config dir, project dir and record dir.
pub(crate) struct Sandbox {
    _tmp: tempfile::TempDir,
    pub(crate) home: PathBuf,
    config: PathBuf,
    pub(crate) cwd: PathBuf,
}

impl Sandbox {
    pub(crate) fn new() -> Sandbox {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = tmp.path().join("home");
        let config = tmp.path().join("config");
        let cwd = tmp.path().join("work space/proj.1");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        Sandbox {
            _tmp: tmp,
            home,
            config,
            cwd,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(&self.cwd)
            .env("HOME", &self.home)
            .env("CLAUDE_CONFIG_DIR", &self.config)
            .env_remove("IS_SANDBOX")
            .env_remove("FAKE_CLAUDE_RECORD_DIR")
            .env_remove("FAKE_CLAUDE_LINE_DELAY_MS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub(crate) fn spawn(&self, mut cmd: Command, stdin: &[u8]) -> Running {
        let mut child = cmd.spawn().expect("the fake agent starts");
        let mut input = child.stdin.take().expect("piped stdin");
        let stdin = stdin.to_vec();
        std::thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });
        let (done, deadline) = mpsc::channel::<()>();
        let pid = child.id();
        std::thread::spawn(move || {
            if deadline.recv_timeout(DEADLINE) == Err(mpsc::RecvTimeoutError::Timeout) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        });
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Running {
            child,
            stdout,
            lines: Vec::new(),
            raw: String::new(),
            _done: done,
        }
    }

    pub(crate) fn run_with(&self, cmd: Command, stdin: &[u8]) -> Output {
        self.spawn(cmd, stdin).finish()
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(self.command(args), stdin.as_bytes())
    }

    fn stream(&self, stdin: &str) -> Output {
        self.run(STREAM, stdin)
    }

    fn transcripts(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in std::fs::read_dir(self.config.join("projects"))
            .into_iter()
            .flatten()
            .flatten()
        {
            files.extend(
                std::fs::read_dir(dir.path())
                    .unwrap()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
        files.sort();
        files
    }
}

pub(crate) struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    lines: Vec<Value>,
    raw: String,
    /// Dropping it stops the watchdog.
    _done: mpsc::Sender<()>,
}

impl Running {
    /// Reads lines until one matches; panics at EOF.
    pub(crate) fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("read stdout");
            assert!(n > 0, "EOF before {what}; got {:#?}", self.lines);
            self.raw.push_str(&line);
            let value: Value = serde_json::from_str(&line).expect("every line is JSON");
            self.lines.push(value.clone());
            if matches(&value) {
                return value;
            }
        }
    }

    fn wait_for_tool_use(&mut self) -> Value {
        self.wait_for("the tool_use line", |v| {
            v["message"]["content"][0]["type"] == "tool_use"
        })
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status();
        assert!(status.expect("kill runs").success());
    }

    pub(crate) fn finish(mut self) -> Output {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).expect("read stdout");
        self.raw.push_str(&rest);
        for line in rest.lines() {
            self.lines
                .push(serde_json::from_str(line).unwrap_or(Value::String(line.to_owned())));
        }
        let mut stderr = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        let status = self.child.wait().expect("wait");
        Output {
            pid: self.child.id(),
            status,
            lines: self.lines,
            stdout: self.raw,
            stderr,
        }
    }
}

fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

// ---- shapes -------------------------------------------------------------------------------

#[test]
fn default_answer_has_the_shape_of_a_text_turn() {
    let sb = Sandbox::new();
    let out = sb.stream("hello there\nsecond line\n");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_shapes(
        &out.lines,
        &pick(&sample("tool-turn.stream.jsonl"), &[0, 4, 5]),
        &[],
    );
    assert_eq!(out.result()["result"], "Echo #1: hello there");
    assert_eq!(
        out.lines[1]["message"]["content"][0]["text"],
        "Echo #1: hello there"
    );
    assert_eq!(
        out.lines[0]["cwd"],
        sb.cwd.canonicalize().unwrap().to_str().unwrap()
    );
    let id = out.session_id();
    assert!(out.lines.iter().all(|l| l["session_id"] == id.as_str()));
    assert_eq!(out.lines[0]["model"], "claude-opus-5-5");
    assert_eq!(out.lines[0]["permissionMode"], "default");
}

#[test]
fn tool_turn_matches_the_sample_line_for_line() {
    let sb = Sandbox::new();
    let out = sb.stream(TOOL_TURN_SCRIPT);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let expected = sample("tool-turn.stream.jsonl");
    assert_shapes(&out.lines, &expected, &[]);
    // Text and tool_use of one API message share its id; the answer is a new message.
    assert_eq!(out.lines[1]["message"]["id"], out.lines[2]["message"]["id"]);
    assert_ne!(out.lines[2]["message"]["id"], out.lines[4]["message"]["id"]);
    assert_eq!(
        out.lines[2]["message"]["content"][0]["input"],
        expected[2]["message"]["content"][0]["input"]
    );
    let tool_id = &out.lines[2]["message"]["content"][0]["id"];
    assert_eq!(
        &out.lines[3]["message"]["content"][0]["tool_use_id"],
        tool_id
    );
    assert_eq!(out.result()["result"], "Created file.txt with bash.");
    assert_eq!(out.result()["num_turns"], 2);
    assert!(
        !sb.cwd.join("file.txt").exists(),
        "`@fake tool` runs nothing"
    );
}

#[test]
fn include_partial_messages_matches_the_sample() {
    let sb = Sandbox::new();
    let answer = "Hi from the fake API, long enough that the text arrives in two deltas of text.";
    let mut args = STREAM.to_vec();
    args.push("--include-partial-messages");
    let out = sb.run(&args, &format!("@fake answer {answer}"));
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_shapes(
        &out.lines,
        &sample("include-partial-messages.stream.jsonl"),
        &[],
    );
    let deltas: String = out
        .lines
        .iter()
        .filter_map(|l| l["event"]["delta"]["text"].as_str())
        .collect();
    assert_eq!(deltas, answer);
    assert_eq!(
        out.result()["begun_message_ids"][0],
        out.lines[2]["event"]["message"]["id"]
    );
}

#[test]
fn write_really_writes_and_reports_create_then_update() {
    let sb = Sandbox::new();
    let tool_turn = sample("tool-turn.stream.jsonl");
    let expected = pick(&tool_turn, &[0, 2, 3, 4, 5]);
    // The Write tool's input and result have no sample (the Bash ones differ by design).
    let free = ["message.content.0.input", "tool_use_result"];
    let out = sb.stream("@fake write sub/dir/out.txt line one\\nline two\n");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_shapes(&out.lines, &expected, &free);
    assert_eq!(
        std::fs::read_to_string(sb.cwd.join("sub/dir/out.txt")).unwrap(),
        "line one\nline two"
    );
    let input = &out.lines[1]["message"]["content"][0]["input"];
    assert_eq!(
        input,
        &serde_json::json!({"file_path": "sub/dir/out.txt", "content": "line one\nline two"})
    );
    let result = &out.lines[2]["tool_use_result"];
    let keys: Vec<&str> = result
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 6, "{result}");
    for key in [
        "type",
        "filePath",
        "content",
        "structuredPatch",
        "originalFile",
        "userModified",
    ] {
        assert!(keys.contains(&key), "{key} missing in {result}");
    }
    assert_eq!(result["type"], "create");
    assert_eq!(result["structuredPatch"], serde_json::json!([]));
    assert_eq!(
        out.lines[2]["message"]["content"][0]["content"],
        "File created successfully at: sub/dir/out.txt"
    );

    let again = sb.stream("@fake write sub/dir/out.txt new\n");
    let result = &again.lines[2]["tool_use_result"];
    assert_eq!(result["type"], "update");
    assert_eq!(result["originalFile"], "line one\nline two");
    assert_eq!(
        result["structuredPatch"][0]["lines"],
        serde_json::json!(["-line one", "-line two", "+new"])
    );
    assert_eq!(
        std::fs::read_to_string(sb.cwd.join("sub/dir/out.txt")).unwrap(),
        "new"
    );
}

#[test]
fn api_error_429_matches_the_sample() {
    let sb = Sandbox::new();
    let out = sb.stream("@fake api-error 429\n");
    assert_eq!(out.status.code(), Some(1));
    let expected = sample("api-error-429.stream.jsonl");
    assert_shapes(&out.lines, &expected, &[]);
    let result = out.result();
    assert_eq!(
        (result["is_error"].clone(), result["subtype"].clone()),
        (true.into(), "success".into())
    );
    assert_eq!(result["terminal_reason"], "api_error");
    assert_eq!(result["api_error_status"], 429);
    assert_eq!(result["result"], expected[4]["result"]);
}

#[test]
fn api_error_500_and_other_statuses_match_the_retries2_sample() {
    let sb = Sandbox::new();
    for status in [500, 503, 401] {
        let out = sb.stream(&format!("@fake api-error {status}\n"));
        assert_eq!(out.status.code(), Some(1));
        assert_shapes(
            &out.lines,
            &sample("api-error-500-retries2.stream.jsonl"),
            &[],
        );
        assert_eq!(out.result()["api_error_status"], status);
        assert_eq!(out.lines[1]["error_status"], status);
        assert_eq!(out.lines[3]["api_error_status"], status);
        assert_eq!(out.result()["terminal_reason"], "api_error");
        assert_eq!(out.result()["total_cost_usd"], 0);
    }
}

#[test]
fn connection_refused_matches_its_result_sample() {
    let sb = Sandbox::new();
    let out = sb.stream("@fake connection-refused\n");
    assert_eq!(out.status.code(), Some(1));
    // No capture has the stream of a connection failure: the retry and synthetic assistant
    // lines are the HTTP ones without a status.
    let mut expected = pick(
        &sample("api-error-500-retries2.stream.jsonl"),
        &[0, 1, 2, 3],
    );
    expected[1]["error_status"] = Value::Null;
    expected[2]["error_status"] = Value::Null;
    expected[3]["api_error_status"] = Value::Null;
    expected[3]
        .as_object_mut()
        .unwrap()
        .remove("api_error_type");
    expected.extend(sample("connection-refused.result.json"));
    assert_shapes(&out.lines, &expected, &[]);
    assert_eq!(out.result()["api_error_status"], Value::Null);
    assert_eq!(out.result()["is_error"], true);
}

#[test]
fn max_turns_directive_matches_the_sample() {
    let sb = Sandbox::new();
    let out = sb.stream("@fake max-turns\n");
    assert_eq!(out.status.code(), Some(1));
    assert_shapes(&out.lines, &sample("max-turns-1.stream.jsonl"), &[]);
    assert_eq!(
        out.result()["errors"][0],
        "Reached maximum number of turns (1)"
    );
    assert_eq!(out.result()["terminal_reason"], "max_turns");
}

#[test]
fn max_turns_flag_stops_after_n_tools_like_the_sample() {
    let sb = Sandbox::new();
    let script = "@fake text Running a command.\n\
                  @fake tool Bash {\"command\":\"true\",\"description\":\"t\"}\n\
                  @fake tool Bash {\"command\":\"second-tool\",\"description\":\"f\"}\n\
                  @fake answer never printed\n";
    let mut args = STREAM.to_vec();
    args.extend(["--max-turns", "1"]);
    let out = sb.run(&args, script);
    assert_eq!(out.status.code(), Some(1));
    assert_shapes(&out.lines, &sample("max-turns-1.stream.jsonl"), &[]);
    assert!(!out.stdout.contains("never printed") && !out.stdout.contains("second-tool"));

    let mut args = STREAM.to_vec();
    args.extend(["--max-turns", "3"]);
    let out = sb.run(&args, script);
    assert_eq!(
        out.status.code(),
        Some(0),
        "under the limit the run completes"
    );
    assert_eq!(out.result()["result"], "never printed");
}

#[test]
fn unknown_resume_matches_the_sample() {
    let sb = Sandbox::new();
    let id = "11111111-2222-3333-4444-555555555555";
    let mut args = STREAM.to_vec();
    args.extend(["--resume", id]);
    let out = sb.run(&args, "hello");
    assert_eq!(out.status.code(), Some(1));
    let expected = sample("resume-unknown-id.stream.jsonl");
    assert_shapes(&out.lines, &expected, &[]);
    assert_eq!(out.lines[0], {
        let mut e = expected[0].clone();
        e["uuid"] = out.lines[0]["uuid"].clone();
        e
    });
    assert_eq!(
        out.stderr.trim_end(),
        format!("No conversation found with session ID: {id}")
    );
    assert!(sb.transcripts().is_empty(), "no session is created");

    let out = sb.run(&["-p", "--output-format", "json", "--resume", id], "hello");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.lines[0]["errors"][0],
        format!("No conversation found with session ID: {id}")
    );
}

#[test]
fn sigint_while_waiting_on_the_api_prints_no_result() {
    let sb = Sandbox::new();
    let mut run = sb.spawn(sb.command(STREAM), b"@fake sleep 30\nhello");
    run.wait_for("init", |v| v["subtype"] == "init");
    run.signal("INT");
    let out = run.finish();
    assert_eq!(out.status.code(), Some(0));
    assert_shapes(&out.lines, &sample("sigint-during-api.stream.jsonl"), &[]);
    assert_eq!(
        out.lines[1]["message"]["content"][0]["text"],
        "[Request interrupted by user]"
    );
}

#[test]
fn sigint_during_a_tool_aborts_it_with_a_result() {
    let sb = Sandbox::new();
    let mut run = sb.spawn(
        sb.command(STREAM),
        b"@fake tool-sleep 30\n@fake answer never",
    );
    let tool_use = run.wait_for_tool_use();
    assert_eq!(
        tool_use["message"]["content"][0]["input"]["command"],
        "sleep 30"
    );
    run.signal("INT");
    let out = run.finish();
    assert_eq!(out.status.code(), Some(0));
    assert_shapes(&out.lines, &sample("sigint-during-tool.stream.jsonl"), &[]);
    let result = out.result();
    assert_eq!(result["subtype"], "error_during_execution");
    assert_eq!(result["terminal_reason"], "aborted_tools");
    assert_eq!(result["is_error"], true);
    assert_eq!(
        out.lines[3]["message"]["content"][0]["text"],
        "[Request interrupted by user for tool use]"
    );
}

/// Live `sleep ARG` processes, i.e. running `@fake tool-sleep ARG` tools.
pub(crate) fn sleepers(arg: &str) -> usize {
    let wanted = format!("sleep\0{arg}\0").into_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == wanted))
        .count()
}

#[test]
fn sigterm_during_a_tool_kills_it_without_a_result() {
    let sb = Sandbox::new();
    let secs = "29.731"; // unique, to find this test's tool among the processes
    let mut run = sb.spawn(
        sb.command(STREAM),
        format!("@fake tool-sleep {secs}").as_bytes(),
    );
    run.wait_for_tool_use();
    // The tool is a real process, started right after its tool_use line.
    let started = std::time::Instant::now();
    while sleepers(secs) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the tool never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    run.signal("TERM");
    let out = run.finish();
    assert_eq!(out.status.code(), Some(143));
    assert_shapes(&out.lines, &sample("sigterm-during-tool.stream.jsonl"), &[]);
    assert_eq!(
        out.lines[4]["message"]["content"][0]["content"],
        "Exit code 137"
    );
    assert_eq!(sleepers(secs), 0, "the running tool was killed");
}

#[test]
fn sighup_and_sigterm_outside_a_tool_exit_without_a_result() {
    let sb = Sandbox::new();
    for (signal, script, code) in [
        ("HUP", "@fake tool-sleep 30", 129),
        ("TERM", "@fake sleep 30", 143),
        ("HUP", "@fake sleep 30", 129),
    ] {
        let mut run = sb.spawn(sb.command(STREAM), script.as_bytes());
        run.wait_for("init", |v| v["subtype"] == "init");
        if script.contains("tool") {
            run.wait_for_tool_use();
        }
        run.signal(signal);
        let out = run.finish();
        assert_eq!(out.status.code(), Some(code), "{signal} during {script}");
        assert!(
            out.lines.iter().all(|l| l["type"] != "result"),
            "{signal}: {:#?}",
            out.lines
        );
    }
}

// ---- sessions -----------------------------------------------------------------------------

#[test]
fn resume_continues_the_session_from_any_cwd_with_cumulative_cost() {
    let sb = Sandbox::new();
    let first = sb.stream("hello");
    let id = first.session_id();
    assert_eq!(first.result()["result"], "Echo #1: hello");
    let transcripts = sb.transcripts();
    let dir_name = sb
        .cwd
        .canonicalize()
        .unwrap()
        .to_str()
        .unwrap()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    assert_eq!(
        transcripts,
        [sb.config
            .join("projects")
            .join(dir_name)
            .join(format!("{id}.jsonl"))]
    );

    let elsewhere = sb.home.join("other");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let mut args = STREAM.to_vec();
    args.extend(["--resume", &id]);
    let mut cmd = sb.command(&args);
    cmd.current_dir(&elsewhere);
    let second = sb.run_with(cmd, b"@fake tool Read {\"file_path\":\"x\"}\nand again");
    assert_eq!(second.status.code(), Some(0), "{}", second.stderr);
    assert_eq!(second.session_id(), id);
    assert_eq!(second.result()["result"], "Echo #2: and again");
    assert_eq!(
        sb.transcripts(),
        transcripts,
        "resume appends to the same file"
    );

    let third = sb.run(&args, "@fake answer third");
    let costs: Vec<f64> = [&first, &second, &third]
        .iter()
        .map(|o| o.result()["total_cost_usd"].as_f64().unwrap())
        .collect();
    assert!(
        costs[0] > 0.0 && costs[0] < costs[1] && costs[1] < costs[2],
        "{costs:?}"
    );
    // modelUsage is the session's, `usage` and model_usage_since_last_result this run's.
    let model = |o: &Output, key: &str| {
        o.result()[key]["claude-opus-5-5"]["inputTokens"]
            .as_u64()
            .unwrap()
    };
    let run_input = |o: &Output| o.result()["usage"]["input_tokens"].as_u64().unwrap();
    assert_eq!(
        model(&third, "modelUsage"),
        run_input(&first) + run_input(&second) + run_input(&third)
    );
    assert_eq!(
        model(&third, "model_usage_since_last_result"),
        run_input(&third)
    );
    let cost_in_usage = third.result()["modelUsage"]["claude-opus-5-5"]["costUSD"]
        .as_f64()
        .unwrap();
    assert!((cost_in_usage - costs[2]).abs() < 1e-9);

    // A failed turn still counts as a turn and keeps the total.
    let failed = sb.run(&args, "@fake api-error 500");
    assert_eq!(
        failed.result()["total_cost_usd"].as_f64().unwrap(),
        costs[2]
    );
    assert_eq!(sb.run(&args, "x").result()["result"], "Echo #5: x");
}

#[test]
fn session_id_flag_creates_and_then_refuses_reuse() {
    let sb = Sandbox::new();
    let id = "0b7c2f0e-8d8e-4c7a-9c39-6f0f2d0e0a11";
    let mut args = STREAM.to_vec();
    args.extend(["--session-id", id]);
    let out = sb.run(&args, "hi");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.session_id(), id);
    let again = sb.run(&args, "hi");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        again.stderr.trim_end(),
        format!("Error: Session ID {id} is already in use.")
    );
    assert!(again.stdout.is_empty());
}

#[test]
fn json_and_text_formats_print_only_the_result() {
    let sb = Sandbox::new();
    let script = "@fake answer Hi from the fake API.";
    let json = sb.run(&["-p", "--output-format", "json"], script);
    assert_eq!(json.status.code(), Some(0));
    assert_shapes(&json.lines, &sample("resume-turn.result.json"), &[]);
    assert_eq!(json.lines[0]["result"], "Hi from the fake API.");

    let text = sb.run(&["-p", "--output-format", "text"], script);
    let expected =
        std::fs::read_to_string(Path::new(SAMPLES).join("resume-turn.text-format.txt")).unwrap();
    assert_eq!(text.stdout, expected);
    assert_eq!(
        sb.run(&["-p"], script).stdout,
        expected,
        "text is the default"
    );

    let failed = sb.run(&["-p", "--output-format", "json"], "@fake api-error 429");
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(failed.lines.len(), 1);
    assert_eq!(failed.lines[0]["api_error_status"], 429);
    assert!(
        failed.lines[0]
            .get("model_usage_since_last_result")
            .is_none()
    );
}

// ---- other directives ---------------------------------------------------------------------

#[test]
fn permission_denied_reports_the_denial_and_succeeds() {
    let sb = Sandbox::new();
    let out = sb.stream(
        "@fake permission-denied Bash {\"command\":\"rm -rf /\"}\n@fake answer I could not.",
    );
    assert_eq!(out.status.code(), Some(0));
    let denied = out
        .lines
        .iter()
        .find(|l| l["subtype"] == "permission_denied")
        .expect("a denial line");
    let tool_id = out.lines[1]["message"]["content"][0]["id"].clone();
    assert_eq!(denied["tool_name"], "Bash");
    assert_eq!(denied["tool_use_id"], tool_id);
    assert!(denied["message"].as_str().unwrap().contains("Bash"));
    let tool_result = &out.lines[3]["message"]["content"][0];
    assert_eq!(tool_result["is_error"], true);
    let result = out.result();
    assert_eq!(result["is_error"], false);
    assert_eq!(result["result"], "I could not.");
    let denial = &result["permission_denials"][0];
    assert_eq!(denial["tool_name"], "Bash");
    assert_eq!(denial["tool_use_id"], tool_id);
    assert_eq!(denial["tool_input"]["command"], "rm -rf /");
}

#[test]
fn answers_stderr_crash_and_line_delay() {
    let sb = Sandbox::new();
    let markdown = "# Title\n\n@fake crash 3\n```rust\nfn main() {}\n```\n- a\n- b";
    let out = sb.stream(&format!("  @fake answer-follows\n{markdown}\n"));
    assert_eq!(out.result()["result"], markdown);

    let out = sb.stream("@fake answer-bytes 5000");
    let answer = out.result()["result"].as_str().unwrap().to_owned();
    assert!((4990..=5000).contains(&answer.len()), "{}", answer.len());
    assert!(answer.contains("```") && answer.contains("## ") && answer.contains("- "));
    assert_eq!(
        sb.stream("@fake answer-bytes 5000").result()["result"],
        answer.as_str(),
        "deterministic"
    );

    let out = sb.stream(
        "@fake text thinking\n@fake stderr warning: something\n@fake crash 7\n@fake answer no",
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(out.stderr, "warning: something\n");
    assert!(out.lines.iter().all(|l| l["type"] != "result"));
    assert_eq!(out.lines.len(), 2);

    let out = sb.stream("@fake sleeep 1");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a mistyped directive fails loudly"
    );
    assert!(out.stderr.contains("unknown directive"), "{}", out.stderr);

    let mut cmd = sb.command(STREAM);
    cmd.env("FAKE_CLAUDE_LINE_DELAY_MS", "150");
    let started = std::time::Instant::now();
    let out = sb.run_with(cmd, b"hi");
    assert_eq!(out.lines.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "two delays between three lines"
    );
}

// ---- recording ----------------------------------------------------------------------------

#[test]
fn recording_is_byte_exact_for_a_hostile_prompt() {
    let sb = Sandbox::new();
    let record_dir = sb.home.join("records");
    let mut prompt: Vec<u8> = Vec::new();
    prompt.extend_from_slice(
        "first line \"quoted\" 'single' $(rm -rf /) `uname` $HOME \\n \\\\\n".as_bytes(),
    );
    prompt.extend_from_slice(
        "emoji 🚀👩‍👩‍👧 RTL \u{202E}txt.exe\u{202C} \u{200F}שלום\u{200F}\r\n".as_bytes(),
    );
    prompt.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28, 0x00, 0xe2, 0x82, b'\n']);
    while prompt.len() < 100 * 1024 {
        prompt.extend_from_slice(
            "@fakeish not a directive; <b>&amp;</b> ${IFS} %s %n \t\n".as_bytes(),
        );
    }
    let mut cmd = sb.command(&[
        "-p",
        "--output-format=stream-json",
        "--verbose",
        "--model",
        "m-1",
    ]);
    cmd.env("FAKE_CLAUDE_RECORD_DIR", &record_dir);
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let out = sb.run_with(cmd, &prompt);
    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_eq!(out.lines[0]["model"], "m-1");
    let first = out.result()["result"].as_str().unwrap();
    assert!(
        first.starts_with("Echo #1: first line \"quoted\" 'single' $(rm -rf /) `uname`"),
        "{first}"
    );

    let mut records: Vec<PathBuf> = std::fs::read_dir(&record_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    let path = records.pop().unwrap();
    let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let base = path.file_stem().unwrap().to_str().unwrap().to_owned();
    let started_at_ns = record["started_at_ns"].as_u64().unwrap();
    assert!((before..=after).contains(&u128::from(started_at_ns)));
    assert_eq!(base, format!("{started_at_ns}-{}", out.pid));
    assert_eq!(record["prompt_file"], format!("{base}.prompt"));
    assert_eq!(
        std::fs::read(record_dir.join(format!("{base}.prompt"))).unwrap(),
        prompt
    );
    assert_eq!(record["session_id"], out.session_id().as_str());
    assert_eq!(record["resumed"], false);
    assert_eq!(
        record["cwd"],
        sb.cwd.canonicalize().unwrap().to_str().unwrap()
    );
    let argv: Vec<&str> = record["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        argv,
        [
            BIN,
            "-p",
            "--output-format=stream-json",
            "--verbose",
            "--model",
            "m-1"
        ]
    );

    let mut cmd = sb.command(&["-p", "--resume", &out.session_id()]);
    cmd.env("FAKE_CLAUDE_RECORD_DIR", &record_dir);
    sb.run_with(cmd, b"again");
    let resumed: Vec<Value> = std::fs::read_dir(&record_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|e| e == "json"))
        .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
        .filter(|r: &Value| r["resumed"] == true)
        .collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0]["session_id"], out.session_id().as_str());
}

// ---- command line -------------------------------------------------------------------------

#[test]
fn root_check_follows_the_real_cli() {
    let sb = Sandbox::new();
    let refused = "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons";
    for flags in [
        &["--dangerously-skip-permissions"][..],
        &["--permission-mode", "bypassPermissions"],
    ] {
        let mut args = STREAM.to_vec();
        args.extend(flags);
        let out = sb.run(&args, "hi");
        if effective_uid() == 0 {
            assert_eq!(out.status.code(), Some(1), "{flags:?}");
            assert_eq!(out.stderr.trim_end(), refused);
            assert!(out.stdout.is_empty());
        } else {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{flags:?}: not root, so allowed"
            );
        }
        let mut cmd = sb.command(&args);
        cmd.env("IS_SANDBOX", "1");
        let out = sb.run_with(cmd, b"hi");
        assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
        assert_eq!(out.lines[0]["permissionMode"], "bypassPermissions");
    }
    let mut args = STREAM.to_vec();
    args.extend(["--permission-mode", "acceptEdits"]);
    assert_eq!(
        sb.run(&args, "hi").lines[0]["permissionMode"],
        "acceptEdits"
    );
}

#[test]
fn stream_json_requires_verbose() {
    let sb = Sandbox::new();
    let out = sb.run(&["-p", "--output-format", "stream-json"], "hi");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        "Error: When using --print, --output-format=stream-json requires --verbose\n"
    );
    assert!(out.stdout.is_empty());
    assert!(sb.transcripts().is_empty());
}

#[test]
fn version_unknown_options_and_empty_input() {
    let sb = Sandbox::new();
    let out = sb.run(&["--version"], "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, "2.1.330 (Claude Code)\n");

    let out = sb.run(&["-p", "--verbose", "--frobnicate"], "hi");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stderr, "error: unknown option '--frobnicate'\n");

    let out = sb.run(&["-p"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.starts_with("Error: Input must be provided"),
        "{}",
        out.stderr
    );

    let out = sb.run(&["-p", "--output-format", "text", "positional prompt"], "");
    assert_eq!(out.stdout, "Echo #1: positional prompt\n");

    let mut args = STREAM.to_vec();
    args.extend(["--disallowedTools", "Bash", "WebFetch"]);
    let init = &sb.run(&args, "hi").lines[0];
    let tools = init["tools"].as_array().unwrap();
    assert!(
        !tools.contains(&"Bash".into())
            && !tools.contains(&"WebFetch".into())
            && tools.contains(&"Write".into())
    );
}
