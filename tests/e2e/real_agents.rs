//! The real agent CLIs driven through Switchboard: a chat thread, the bot, a real sshd host, and
//! the CLI as pinned by `scripts/test-setup.sh`, answering from the fake model API.
//!
//! `real_clis` proves the fake model API drives each CLI; these prove Switchboard drives each CLI:
//! its command line, the prompt on stdin, the environment that reaches the agent, the stream
//! parser, resume of the agent's own conversation, the classification of an API error, and cancel
//! by process group — all against the real program rather than the fakes that copy its output.
//! One thread per agent goes through: a prompt whose model answer calls the CLI's own file-editing
//! tool (the file really changes on the host), a follow-up whose request re-sends the first
//! conversation, an API error, and `/stop` while the CLI waits on the API.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;
use tempfile::TempDir;

use crate::support::agent_clis::AgentCli;
use crate::support::db::Db;
use crate::support::fake_model_api::{FakeModelApi, RecordedRequest, Reply};
use crate::support::harness::{FakeAgent, Harness, Options, WAIT};
use crate::support::procs;

const PROMPT: &str = "change hello world to hello fake in notes.txt";
const ANSWER: &str = "I changed notes.txt.";
const FOLLOW_UP: &str = "what did you change?";
const FOLLOW_UP_ANSWER: &str = "Earlier I changed hello world to hello fake.";

/// A thread on a host whose agent is the real `cli`, configured as an operator would, with the
/// model API's address and a placeholder key in the agent's environment. `files` holds what the
/// CLI needs besides (OpenCode's configuration file and its own directories).
async fn start(cli: AgentCli, api: &FakeModelApi, files: &TempDir) -> Harness {
    let mut options = Options::new(Db::Sqlite);
    options.agent_command = Some(cli.path().display().to_string());
    options.extra_config = match cli {
        AgentCli::Claude => format!(
            "[agents.claude]\nenv = {{ ANTHROPIC_BASE_URL = \"{}\", ANTHROPIC_API_KEY = \
             \"sk-ant-fake\", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = \"1\", \
             CLAUDE_CODE_MAX_RETRIES = \"0\", DISABLE_AUTOUPDATER = \"1\" }}\n",
            api.base_url()
        ),
        AgentCli::OpenCode => {
            options.agent = FakeAgent::OpenCode;
            opencode_config(api, files)
        }
        AgentCli::Codex => {
            options.agent = FakeAgent::Codex;
            // The provider through Switchboard's own `-c` overrides; its key through `env`.
            format!(
                "[agents.codex]\nmodel = \"gpt-5.5\"\nenv = {{ FAKE_MODEL_API_KEY = \"sk-fake\" }}\n\
                 [agents.codex.config]\nmodel_provider = \"fake\"\n\
                 [agents.codex.config.model_providers.fake]\nname = \"Fake model API\"\n\
                 base_url = \"{}\"\nenv_key = \"FAKE_MODEL_API_KEY\"\nwire_api = \"responses\"\n\
                 request_max_retries = 0\nstream_max_retries = 0\n",
                api.openai_base_url()
            )
        }
    };
    Harness::start_with(options).await
}

/// `[agents.opencode]` for the fake model API: an `opencode.json` naming it as the only
/// provider, OpenCode's own directories in `files` (the host user writes them), and the switches
/// that keep it off the network (its background plugin install goes to the fake's 404
/// registry). `SB_MODEL_API` only marks the CLI's processes for the test to find.
fn opencode_config(api: &FakeModelApi, files: &TempDir) -> String {
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
    let dir = files.path();
    let path = dir.join("opencode.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let own = dir.join("xdg");
    std::fs::create_dir(&own).unwrap();
    // The SSH login user reads the file and writes OpenCode's directories.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o777)).unwrap();
    let own = own.display();
    format!(
        "[agents.opencode]\nenv = {{ OPENCODE_CONFIG = \"{config}\", FAKE_MODEL_API_KEY = \
         \"sk-fake\", XDG_CONFIG_HOME = \"{own}/config\", XDG_STATE_HOME = \"{own}/state\", \
         XDG_CACHE_HOME = \"{own}/cache\", OPENCODE_DISABLE_AUTOUPDATE = \"1\", \
         OPENCODE_DISABLE_SHARE = \"1\", OPENCODE_DISABLE_MODELS_FETCH = \"1\", \
         OPENCODE_DISABLE_DEFAULT_PLUGINS = \"1\", OPENCODE_DISABLE_LSP_DOWNLOAD = \"1\", \
         npm_config_registry = \"{npm}\", SB_MODEL_API = \"{api}\" }}\n",
        config = path.display(),
        npm = api.npm_registry_url(),
        api = api.base_url(),
    )
}

/// The model's call of the CLI's own tool that turns `hello world` into `hello fake` in `file`.
fn edit_call(cli: AgentCli, file: &Path) -> Reply {
    match cli {
        AgentCli::Claude => Reply::tool_call(
            "Edit",
            json!({ "file_path": file, "old_string": "hello world", "new_string": "hello fake" }),
        ),
        AgentCli::OpenCode => Reply::tool_call(
            "edit",
            json!({ "filePath": file, "oldString": "hello world", "newString": "hello fake" }),
        ),
        // Codex edits with a patch whose paths are relative to its working directory.
        AgentCli::Codex => Reply::custom_tool_call(
            "apply_patch",
            "*** Begin Patch\n*** Update File: notes.txt\n-hello world\n+hello fake\n*** End Patch\n",
        ),
    }
}

/// How many requests the CLI makes of a failing model API before it gives up, as configured
/// here (Claude: no retries) or measured (OpenCode: six, whatever the status).
fn api_attempts(cli: AgentCli) -> usize {
    match cli {
        AgentCli::OpenCode => 6,
        _ => 1,
    }
}

/// Asserts that a turn request re-sent everything of the first turn, and the new prompt.
fn assert_resent(request: &RecordedRequest, earlier: &[&str]) {
    let body = request.body.to_string();
    for text in earlier.iter().chain([&FOLLOW_UP]) {
        assert!(
            body.contains(text),
            "the resumed turn's request does not carry {text:?}: {body}"
        );
    }
}

/// Prompt → tool → answer → resume → API error → /stop, through the bot, with the real `cli`.
async fn a_thread_drives_the_real_cli(cli: AgentCli) {
    let api = FakeModelApi::start().await;
    let files = tempfile::tempdir().unwrap();
    let t = start(cli, &api, &files).await;
    let dir = t.open_session().await;
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "hello world\n").unwrap();
    t.hand_over(&notes);

    // A prompt whose answer edits a file with the CLI's own tool.
    api.push_replies([edit_call(cli, &notes), Reply::text(ANSWER)]);
    t.say(PROMPT);
    let status = t.next().await;
    let answer = t.next().await;
    assert!(answer.text.starts_with(ANSWER), "{}", answer.text);
    t.wait_status(&status, "✅ Done in").await;
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "hello fake\n");
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 2, "the tool call, then the answer");
    assert!(
        turns[0].body.to_string().contains(PROMPT),
        "the prompt reached the model: {}",
        turns[0].body
    );

    // The follow-up continues the CLI's own conversation.
    api.push_reply(Reply::text(FOLLOW_UP_ANSWER));
    t.say(FOLLOW_UP);
    t.next().await;
    let answer = t.next().await;
    assert_eq!(answer.text, FOLLOW_UP_ANSWER);
    let turns = api.turn_requests();
    assert_eq!(turns.len(), 3);
    assert_resent(&turns[2], &[PROMPT, "hello fake", ANSWER]);

    // An API error is said as one (Codex reports no HTTP status), and the conversation stays.
    api.push_replies(std::iter::repeat_n(Reply::error(500), api_attempts(cli)));
    t.say("and now?");
    t.next().await;
    let answer = t.next().await;
    assert!(
        answer.text.contains("could not reach its model API"),
        "{}",
        answer.text
    );
    if cli != AgentCli::Codex {
        assert!(answer.text.contains("(HTTP 500)"), "{}", answer.text);
    }

    // `/stop` while the CLI waits on the API ends the turn, and the CLI with it.
    let asked = api.turn_requests().len();
    api.push_reply(Reply::Stall);
    t.say("one more");
    let status = t.next().await;
    api.wait_for_turn_requests(asked + 1, WAIT).await;
    t.say("/stop");
    t.wait_text("🛑 Cancelled").await;
    t.wait_status(&status, "🛑").await;
    // This test's CLI is the one whose environment names this test's model API.
    let endpoint = format!("={}", api.base_url());
    let running: Vec<String> = procs::snapshot()
        .into_iter()
        .filter(|p| p.env_entries().iter().any(|e| e.ends_with(&endpoint)))
        .map(|p| p.command())
        .collect();
    assert!(running.is_empty(), "the CLI still runs: {running:?}");
    assert_eq!(api.queued(), 0, "every queued answer was asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thread_drives_the_real_claude() {
    a_thread_drives_the_real_cli(AgentCli::Claude).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thread_drives_the_real_opencode() {
    a_thread_drives_the_real_cli(AgentCli::OpenCode).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thread_drives_the_real_codex() {
    a_thread_drives_the_real_cli(AgentCli::Codex).await;
}
