//! The real agent CLIs (Claude Code, Codex, OpenCode, as pinned by `scripts/test-setup.sh`) against
//! the fake model API, run directly as local processes.
//!
//! These prove the fake API is faithful enough to drive each CLI through what Switchboard needs: a
//! prompt on stdin, the model calling the CLI's own file-editing tool, the file really changing, the
//! final answer in the CLI's JSON output; a resumed turn that re-sends the first turn's conversation
//! (checked in the recorded request); an API error that ends the run as measured in
//! `tests/fixtures/agent-cli/README.md`; and OpenCode keeps to the permission rules Switchboard
//! writes for it. Each run gets its own temporary `HOME` and config dirs and
//! an environment cleared of everything else, so nothing reaches the network or the user's config.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::support::agent_clis::AgentCli;
use crate::support::fake_model_api::{FakeModelApi, RecordedRequest, Reply};

/// A whole CLI run; real ones take 1–5 s, the margin is for loaded CI machines.
const RUN_DEADLINE: Duration = Duration::from_secs(180);
const PROMPT: &str = "change hello world to hello fake in notes.txt";
const ANSWER: &str = "I changed notes.txt.";
const FOLLOW_UP: &str = "what did you change?";
const FOLLOW_UP_ANSWER: &str = "Earlier I changed hello world to hello fake.";

/// A temporary home and working directory holding `notes.txt` = `hello world`.
struct Sandbox {
    _dir: TempDir,
    home: PathBuf,
    work: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("home");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&home).expect("create home");
        std::fs::create_dir_all(&work).expect("create work");
        std::fs::write(work.join("notes.txt"), "hello world\n").expect("write notes.txt");
        Self {
            _dir: dir,
            home,
            work,
        }
    }

    fn notes(&self) -> PathBuf {
        self.work.join("notes.txt")
    }

    fn notes_text(&self) -> String {
        std::fs::read_to_string(self.notes()).expect("read notes.txt")
    }
}

/// What a finished run printed.
struct Run {
    status: ExitStatus,
    lines: Vec<Value>,
    stderr: String,
}

impl Run {
    fn lines_of_type(&self, kind: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["type"] == kind).collect()
    }

    fn describe(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(Value::to_string).collect();
        format!(
            "{}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            lines.join("\n"),
            self.stderr
        )
    }
}

/// Runs `cli ARGS` with the first turn's prompt to the end.
async fn run(cli: AgentCli, sandbox: &Sandbox, env: &[(&str, String)], args: &[&str]) -> Run {
    run_prompt(cli, sandbox, env, args, PROMPT).await
}

/// Runs `cli ARGS` with `prompt` to the end.
async fn run_prompt(
    cli: AgentCli,
    sandbox: &Sandbox,
    env: &[(&str, String)],
    args: &[&str],
    prompt: &str,
) -> Run {
    finish(cli, start(cli, sandbox, env, args, prompt).await).await
}

/// Starts `cli ARGS` in `sandbox.work` with only `PATH`, `HOME` and `env` set, writes the prompt
/// to its stdin and closes it.
async fn start(
    cli: AgentCli,
    sandbox: &Sandbox,
    env: &[(&str, String)],
    args: &[&str],
    prompt: &str,
) -> Child {
    let mut command = Command::new(cli.path());
    command
        .args(args)
        .current_dir(&sandbox.work)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &sandbox.home)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("spawn the agent CLI");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(prompt.as_bytes())
        .await
        .expect("write the prompt");
    drop(stdin);
    child
}

/// Waits for the CLI to exit (a watchdog kills it at the deadline) and parses its JSON lines.
async fn finish(cli: AgentCli, child: Child) -> Run {
    let output = tokio::time::timeout(RUN_DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} ran longer than {RUN_DEADLINE:?}", cli.command()))
        .expect("wait for the agent CLI");
    let stdout = String::from_utf8_lossy(&output.stdout);
    Run {
        status: output.status,
        lines: stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a turn whose model request never gets an answer and sends SIGINT once the request has
/// arrived (the CLI is then waiting on the API, as a user's cancel finds it).
async fn interrupt_while_waiting(
    cli: AgentCli,
    api: &FakeModelApi,
    sandbox: &Sandbox,
    env: &[(&str, String)],
    args: &[&str],
) -> Run {
    api.push_reply(Reply::Stall);
    let child = start(cli, sandbox, env, args, PROMPT).await;
    api.wait_for_turn_requests(1, RUN_DEADLINE).await;
    let pid = child.id().expect("the CLI is running") as libc::pid_t;
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "send SIGINT");
    finish(cli, child).await
}

/// Asserts that a turn request re-sent everything of the first turn.
fn assert_resent(request: &RecordedRequest, earlier: &[&str]) {
    let body = request.body.to_string();
    for text in earlier {
        assert!(
            body.contains(text),
            "the resumed turn's request does not re-send {text:?}: {body}"
        );
    }
    assert!(
        body.contains(FOLLOW_UP),
        "the resumed turn's request lacks the new prompt"
    );
}

/// Asserts that a run printed the same kinds of lines, in the same order, as the capture in
/// `tests/fixtures/agent-cli/NAME` (its README says how it was made), so the captures the adapters
/// are built from stay true for the pinned CLI driven by this fake.
fn assert_shaped_like_capture(run: &Run, capture: &str, shape: fn(&Value) -> Value) {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/agent-cli/").to_string() + capture;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let expected: Vec<Value> = text
        .lines()
        .map(|l| shape(&serde_json::from_str(l).expect("capture line is JSON")))
        .collect();
    let seen: Vec<Value> = run.lines.iter().map(shape).collect();
    assert_eq!(
        seen,
        expected,
        "line kinds differ from {capture}: {}",
        run.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// Claude Code: Anthropic Messages.

fn claude_env(api: &FakeModelApi) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", "sk-ant-fake".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
        ("CLAUDE_CODE_MAX_RETRIES", "0".into()),
        ("DISABLE_AUTOUPDATER", "1".into()),
    ]
}

const CLAUDE_ARGS: &[&str] = &[
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "acceptEdits",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_edits_a_file_with_its_edit_tool_and_a_resumed_turn_resends_the_conversation() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    let env = claude_env(&api);
    api.push_replies([
        Reply::tool_call(
            "Edit",
            json!({ "file_path": sandbox.notes(), "old_string": "hello world", "new_string": "hello fake" }),
        ),
        Reply::text(ANSWER),
    ]);

    let first = run(AgentCli::Claude, &sandbox, &env, CLAUDE_ARGS).await;

    assert!(first.status.success(), "{}", first.describe());
    assert_eq!(sandbox.notes_text(), "hello fake\n", "{}", first.describe());
    let result = first.lines.last().expect("a result line");
    assert_eq!(result["type"], "result", "{}", first.describe());
    assert_eq!(result["is_error"], false);
    assert_eq!(result["result"], ANSWER);
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 2, "tool call, then the answer");
    assert!(turns[0].tool_names().contains(&"Edit".to_string()));
    assert!(turns[0].path.starts_with("/v1/messages"));

    let session = result["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    api.push_reply(Reply::text(FOLLOW_UP_ANSWER));
    let mut args = CLAUDE_ARGS.to_vec();
    args.extend(["--resume", &session]);
    let resumed = run_prompt(AgentCli::Claude, &sandbox, &env, &args, FOLLOW_UP).await;

    assert!(resumed.status.success(), "{}", resumed.describe());
    let result = resumed.lines.last().expect("a result line");
    assert_eq!(result["result"], FOLLOW_UP_ANSWER, "{}", resumed.describe());
    assert_eq!(result["session_id"], session.as_str());
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 3);
    assert_resent(&turns[2], &[PROMPT, "toolu_fake_", "hello fake", ANSWER]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_reports_an_api_error_with_exit_1_and_an_error_result() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    api.push_reply(Reply::error(500));

    let run = run(AgentCli::Claude, &sandbox, &claude_env(&api), CLAUDE_ARGS).await;

    assert_eq!(run.status.code(), Some(1), "{}", run.describe());
    let result = run.lines.last().expect("a result line");
    assert_eq!(result["type"], "result", "{}", run.describe());
    assert_eq!(result["is_error"], true);
    assert_eq!(result["api_error_status"], 500, "{}", run.describe());
    assert_eq!(sandbox.notes_text(), "hello world\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_interrupted_while_waiting_on_the_api_exits_0_with_an_aborted_result() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();

    let run = interrupt_while_waiting(
        AgentCli::Claude,
        &api,
        &sandbox,
        &claude_env(&api),
        CLAUDE_ARGS,
    )
    .await;

    // 2.1.330 printed no result line here; 2.1.332 does.
    assert_eq!(run.status.code(), Some(0), "{}", run.describe());
    let result = run.lines.last().expect("a result line");
    assert_eq!(result["type"], "result", "{}", run.describe());
    assert_eq!(result["subtype"], "error_during_execution");
    assert_eq!(result["terminal_reason"], "aborted_streaming");
    assert_eq!(result["is_error"], true);
}

// ---------------------------------------------------------------------------------------------
// Codex: OpenAI Responses.

/// `CODEX_HOME` with a provider block pointing at the fake; the key comes from the environment.
fn codex_env(api: &FakeModelApi, sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let codex_home = sandbox.home.join("codex");
    std::fs::create_dir_all(&codex_home).expect("create CODEX_HOME");
    let config = format!(
        "model = \"gpt-5.5\"\n\
         model_provider = \"fake\"\n\
         approval_policy = \"never\"\n\
         sandbox_mode = \"workspace-write\"\n\
         [model_providers.fake]\n\
         name = \"Fake model API\"\n\
         base_url = \"{}\"\n\
         env_key = \"FAKE_MODEL_API_KEY\"\n\
         wire_api = \"responses\"\n\
         request_max_retries = 0\n\
         stream_max_retries = 0\n",
        api.openai_base_url()
    );
    std::fs::write(codex_home.join("config.toml"), config).expect("write config.toml");
    vec![
        ("CODEX_HOME", codex_home.display().to_string()),
        ("FAKE_MODEL_API_KEY", "sk-fake".into()),
    ]
}

const CODEX_ARGS: &[&str] = &["exec", "--json", "--skip-git-repo-check"];
const PATCH: &str =
    "*** Begin Patch\n*** Update File: notes.txt\n-hello world\n+hello fake\n*** End Patch\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_edits_a_file_with_apply_patch_and_a_resumed_turn_resends_the_conversation() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    let env = codex_env(&api, &sandbox);
    api.push_replies([
        Reply::custom_tool_call("apply_patch", PATCH),
        Reply::text(ANSWER),
    ]);
    let mut args = CODEX_ARGS.to_vec();
    args.push("-");

    let first = run(AgentCli::Codex, &sandbox, &env, &args).await;

    assert!(first.status.success(), "{}", first.describe());
    assert_eq!(sandbox.notes_text(), "hello fake\n", "{}", first.describe());
    let changes = first.lines_of_type("item.completed");
    assert!(
        changes
            .iter()
            .any(|l| l["item"]["type"] == "file_change" && l["item"]["status"] == "completed"),
        "{}",
        first.describe()
    );
    assert!(
        changes
            .iter()
            .any(|l| l["item"]["type"] == "agent_message" && l["item"]["text"] == ANSWER),
        "{}",
        first.describe()
    );
    assert_shaped_like_capture(
        &first,
        "codex/0.171-exec-tool-turn-apply-patch.jsonl",
        |l| json!([l["type"], l["item"]["type"]]),
    );
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 2, "tool call, then the answer");
    assert!(turns[0].tool_names().contains(&"apply_patch".to_string()));

    let thread = first.lines_of_type("thread.started")[0]["thread_id"]
        .as_str()
        .expect("thread_id")
        .to_string();
    api.push_reply(Reply::text(FOLLOW_UP_ANSWER));
    let mut args = CODEX_ARGS.to_vec();
    args.extend(["resume", &thread, "-"]);
    let resumed = run_prompt(AgentCli::Codex, &sandbox, &env, &args, FOLLOW_UP).await;

    assert!(resumed.status.success(), "{}", resumed.describe());
    assert_eq!(
        resumed.lines_of_type("thread.started")[0]["thread_id"],
        thread.as_str()
    );
    assert!(
        resumed
            .lines_of_type("item.completed")
            .iter()
            .any(|l| l["item"]["text"] == FOLLOW_UP_ANSWER),
        "{}",
        resumed.describe()
    );
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 3);
    assert_resent(
        &turns[2],
        &[PROMPT, "custom_tool_call", "call_fake_", ANSWER],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_reports_an_api_error_with_exit_1_and_turn_failed() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    api.push_reply(Reply::error(500));
    let mut args = CODEX_ARGS.to_vec();
    args.push("-");

    let run = run(AgentCli::Codex, &sandbox, &codex_env(&api, &sandbox), &args).await;

    assert_eq!(run.status.code(), Some(1), "{}", run.describe());
    assert_eq!(
        run.lines.last().unwrap()["type"],
        "turn.failed",
        "{}",
        run.describe()
    );
    assert_eq!(
        api.turn_requests().len(),
        1,
        "no retries when configured so"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_interrupted_while_waiting_on_the_api_exits_1_without_turn_completed() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    let env = codex_env(&api, &sandbox);
    let mut args = CODEX_ARGS.to_vec();
    args.push("-");

    let run = interrupt_while_waiting(AgentCli::Codex, &api, &sandbox, &env, &args).await;

    // 1 through the npm package's Node launcher, which spawns the native binary on Node 20.
    assert_eq!(run.status.code(), Some(1), "{}", run.describe());
    assert_eq!(
        run.lines.last().unwrap()["type"],
        "turn.started",
        "{}",
        run.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// OpenCode: OpenAI Chat Completions through an openai-compatible provider.

/// An `opencode.json` naming the fake as its only provider, and the switches that keep OpenCode
/// off the network (its background plugin install goes to the fake's 404 registry).
fn opencode_env(api: &FakeModelApi, sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let config = json!({
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": false,
        "share": "disabled",
        "model": "fake/fake-model",
        "provider": { "fake": {
            "npm": "@ai-sdk/openai-compatible",
            "name": "Fake model API",
            "options": { "baseURL": api.openai_base_url(), "apiKey": "{env:FAKE_MODEL_API_KEY}" },
            "models": { "fake-model": { "name": "Fake model", "tool_call": true } },
        } },
    });
    let path = sandbox.home.join("opencode.json");
    std::fs::write(&path, config.to_string()).expect("write opencode.json");
    vec![
        ("OPENCODE_CONFIG", path.display().to_string()),
        ("FAKE_MODEL_API_KEY", "sk-fake".into()),
        ("OPENCODE_DISABLE_AUTOUPDATE", "1".into()),
        ("OPENCODE_DISABLE_SHARE", "1".into()),
        ("OPENCODE_DISABLE_MODELS_FETCH", "1".into()),
        ("OPENCODE_DISABLE_DEFAULT_PLUGINS", "1".into()),
        ("OPENCODE_DISABLE_LSP_DOWNLOAD", "1".into()),
        ("npm_config_registry", api.npm_registry_url()),
    ]
}

const OPENCODE_ARGS: &[&str] = &["run", "--format", "json"];

/// The text of a run's last `text` event.
fn opencode_answer(run: &Run) -> String {
    run.lines_of_type("text")
        .last()
        .and_then(|l| l["part"]["text"].as_str())
        .unwrap_or_else(|| panic!("no text event: {}", run.describe()))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencode_edits_a_file_with_its_edit_tool_and_a_resumed_turn_resends_the_conversation() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    let env = opencode_env(&api, &sandbox);
    api.push_replies([
        Reply::tool_call(
            "edit",
            json!({ "filePath": sandbox.notes(), "oldString": "hello world", "newString": "hello fake" }),
        ),
        Reply::text(ANSWER),
    ]);

    // No --title: the session title request (no tools) must be answered aside from the queue.
    let first = run(AgentCli::OpenCode, &sandbox, &env, OPENCODE_ARGS).await;

    assert!(first.status.success(), "{}", first.describe());
    assert_eq!(sandbox.notes_text(), "hello fake\n", "{}", first.describe());
    let edit = first.lines_of_type("tool_use");
    assert_eq!(edit.len(), 1, "{}", first.describe());
    assert_eq!(edit[0]["part"]["tool"], "edit");
    assert_eq!(edit[0]["part"]["state"]["status"], "completed");
    assert_eq!(opencode_answer(&first), ANSWER);
    assert_shaped_like_capture(&first, "opencode/tool-turn-edit.jsonl", |l| {
        json!([
            l["type"],
            l["part"]["type"],
            l["part"]["tool"],
            l["part"]["reason"]
        ])
    });
    let last = first.lines.last().unwrap();
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 2, "tool call, then the answer");
    assert!(turns[0].tool_names().contains(&"edit".to_string()));
    assert!(turns[0].path.ends_with("/chat/completions"));

    let session = last["sessionID"].as_str().expect("sessionID").to_string();
    api.push_reply(Reply::text(FOLLOW_UP_ANSWER));
    let mut args = OPENCODE_ARGS.to_vec();
    args.extend(["--session", &session]);
    let resumed = run_prompt(AgentCli::OpenCode, &sandbox, &env, &args, FOLLOW_UP).await;

    assert!(resumed.status.success(), "{}", resumed.describe());
    assert_eq!(opencode_answer(&resumed), FOLLOW_UP_ANSWER);
    assert!(
        resumed
            .lines
            .iter()
            .all(|l| l["sessionID"] == session.as_str())
    );
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 3);
    assert_resent(
        &turns[2],
        &[PROMPT, "call_fake_", "\"role\":\"tool\"", ANSWER],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencode_reports_an_api_error_after_its_retries_with_exit_1_and_an_error_event() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    // OpenCode makes six attempts at every failing request (measured).
    api.push_replies(std::iter::repeat_n(Reply::error(500), 6));
    let mut args = OPENCODE_ARGS.to_vec();
    args.extend(["--title", "api error"]);

    let run = run(
        AgentCli::OpenCode,
        &sandbox,
        &opencode_env(&api, &sandbox),
        &args,
    )
    .await;

    assert_eq!(run.status.code(), Some(1), "{}", run.describe());
    let errors = run.lines_of_type("error");
    assert_eq!(errors.len(), 1, "{}", run.describe());
    assert_eq!(errors[0]["error"]["data"]["statusCode"], 500);
    assert_eq!(api.turn_requests().len(), 6);
    assert_eq!(api.queued(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencode_interrupted_while_waiting_on_the_api_dies_of_the_signal_with_no_output() {
    let api = FakeModelApi::start().await;
    let sandbox = Sandbox::new();
    let env = opencode_env(&api, &sandbox);
    let mut args = OPENCODE_ARGS.to_vec();
    args.extend(["--title", "interrupted"]);

    let run = interrupt_while_waiting(AgentCli::OpenCode, &api, &sandbox, &env, &args).await;

    assert_eq!(
        run.status.signal(),
        Some(libc::SIGINT),
        "{}",
        run.describe()
    );
    assert!(run.lines.is_empty(), "{}", run.describe());
}

/// The permission rules Switchboard gives OpenCode for `acceptEdits`
/// (`agents::opencode::permission_rules`), on the real CLI: a shell command outside the allowed
/// filesystem ones is refused and the agent carries on to its answer; `mkdir` runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencode_runs_switchboards_accept_edits_rules_as_deny_rules() {
    use switchboard::agents::opencode::permission_rules;
    use switchboard::config::PermissionMode;

    let rules = permission_rules(PermissionMode::AcceptEdits).expect("rules");
    for (command, allowed) in [("echo hi > x.txt", false), ("mkdir newdir", true)] {
        let api = FakeModelApi::start().await;
        let sandbox = Sandbox::new();
        let mut env = opencode_env(&api, &sandbox);
        env.push(("OPENCODE_PERMISSION", rules.to_string()));
        api.push_replies([
            Reply::tool_call("bash", json!({ "command": command, "description": "x" })),
            Reply::text(ANSWER),
        ]);
        let mut args = OPENCODE_ARGS.to_vec();
        args.extend(["--title", "permissions"]);

        let run = run(AgentCli::OpenCode, &sandbox, &env, &args).await;

        assert!(run.status.success(), "{}", run.describe());
        let tool = run.lines_of_type("tool_use");
        assert_eq!(tool.len(), 1, "{}", run.describe());
        let status = &tool[0]["part"]["state"]["status"];
        assert_eq!(
            status,
            if allowed { "completed" } else { "error" },
            "{command}: {}",
            run.describe()
        );
        assert_eq!(opencode_answer(&run), ANSWER, "the agent carried on");
        assert_eq!(sandbox.work.join("newdir").is_dir(), allowed);
        assert!(!sandbox.work.join("x.txt").exists());
    }
}
