//! The `Tester`: the real `switchboard` binary, run as its users run it, against a fake
//! Telegram, a real sshd host running the fake agent, and a fresh database.
//!
//! The bot runs as a child process so tests can do to it what happens in production —
//! SIGKILL it mid-turn, restart it — and so nothing in the bot knows it is under test. Tests
//! talk to it only through the fake Telegram (as a user would) and read the fake agent's
//! recordings on the host (what reached the agent, byte for byte).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use super::db::{Db, TestDb};
use super::discord_world::{DiscordSetup, DiscordWorld};
use super::fake_github::{FakeGitHub, FakeGitHubConfig};
use super::fake_telegram::{
    BotMessage, FakeChat, FakeTelegram, FakeTelegramConfig, FakeUser, Sent,
};
use super::slack_world::{SlackSetup, SlackWorld};
use super::sshd::Sshd;
use super::waiting;

/// The default wait for anything the bot should do.
pub const WAIT: Duration = Duration::from_secs(30);

/// The web console admin's token in tests (`Options::web_token`).
pub const WEB_ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// The fake agent, built alongside the bot when the `fake-agent` feature is on. A plain build
/// leaves it out of the product, so the tests and benchmarks refuse to compile without it rather
/// than run without their agent.
#[cfg(feature = "fake-agent")]
pub const FAKE_CLAUDE: &str = env!("CARGO_BIN_EXE_fake-claude");
/// The fake Codex, built with fake-claude (src/bin/fake-codex).
#[cfg(feature = "fake-agent")]
pub const FAKE_CODEX: &str = env!("CARGO_BIN_EXE_fake-codex");
/// The fake OpenCode, built with the others (src/bin/fake-opencode).
#[cfg(feature = "fake-agent")]
pub const FAKE_OPENCODE: &str = env!("CARGO_BIN_EXE_fake-opencode");
#[cfg(not(feature = "fake-agent"))]
compile_error!(
    "the tests and benchmarks need the fake agent (src/bin/fake-claude), which is built only with \
     the `fake-agent` feature: run `scripts/test` (the README's test command), or \
     `cargo nextest run --features fake-agent`, `cargo test --features fake-agent`, \
     `cargo bench --features fake-agent --bench NAME`"
);
pub const SWITCHBOARD: &str = env!("CARGO_BIN_EXE_switchboard");

/// Which fake agent new sessions run (`defaults.agent`): all are installed on the remote host,
/// so a test about what every agent guarantees runs once per agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeAgent {
    Claude,
    Codex,
    OpenCode,
}

impl FakeAgent {
    /// As the configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            FakeAgent::Claude => "claude",
            FakeAgent::Codex => "codex",
            FakeAgent::OpenCode => "opencode",
        }
    }

    /// Its fake's binary.
    fn fake(self) -> &'static str {
        match self {
            FakeAgent::Claude => FAKE_CLAUDE,
            FakeAgent::Codex => FAKE_CODEX,
            FakeAgent::OpenCode => FAKE_OPENCODE,
        }
    }

    /// Its process name on the host (`/proc/PID/comm`).
    pub fn comm(self) -> &'static str {
        match self {
            FakeAgent::Claude => "fake-claude",
            FakeAgent::Codex => "fake-codex",
            FakeAgent::OpenCode => "fake-opencode",
        }
    }

    /// Where the fake keeps its sessions, under the host directory.
    fn home(self) -> &'static str {
        match self {
            FakeAgent::Claude => "claude",
            FakeAgent::Codex => "codex",
            FakeAgent::OpenCode => "opencode",
        }
    }
}

/// How a test wants the world set up.
pub struct Options {
    pub db: Db,
    pub fake: FakeTelegramConfig,
    pub turn_timeout: &'static str,
    pub max_queue: u32,
    /// `max_concurrent_turns` of the remote host.
    pub host_slots: u32,
    /// Extra TOML appended to the generated config (more hosts, say).
    pub extra_config: String,
    /// More keys for the remote host's table (`display = ":5"`, say).
    pub host_toml: String,
    /// More keys for the `[defaults]` table.
    pub defaults_toml: String,
    /// More keys for the `[http]` table (`trusted_proxies`, say).
    pub http_toml: String,
    /// The web console's admin token (`SWITCHBOARD_WEB_TOKEN`); `None`: generated and printed.
    pub web_token: Option<&'static str>,
    /// The command of `agent` on the remote host (a real CLI, a missing one); `None`: its fake.
    /// The other agents always run their fakes.
    pub agent_command: Option<String>,
    /// The agent of new sessions. Default Claude.
    pub agent: FakeAgent,
    /// Pin this key instead of the sshd's real one.
    pub pinned_host_key: Option<String>,
    /// Webhook mode with this secret token (long polling when `None`).
    pub webhook_secret: Option<String>,
    /// More TOML for the `[telegram]` table (its sub-tables, such as `[telegram.limits]`).
    pub telegram_toml: String,
    /// `telegram.poll_timeout`. Default `5s`.
    pub poll_timeout: &'static str,
    /// Telegram users allowed besides Alice.
    pub more_allowed_users: Vec<i64>,
    /// Run the GitHub App too, against a fake GitHub.
    pub github: Option<GitHubSetup>,
    /// A session's scratch directory is made a git repository, as an agent's workspace usually
    /// is (default, `workspaces.scratch_git`); otherwise a plain directory.
    pub git_workspace: bool,
    /// Run the Slack bot too, against a fake Slack.
    pub slack: Option<SlackSetup>,
    /// Run the Discord bot too, against a fake Discord.
    pub discord: Option<DiscordSetup>,
    /// The host's sshd keeps every command it runs (`Sshd::commands`).
    pub record_commands: bool,
}

/// How the GitHub App is configured in a test.
#[derive(Debug, Clone, Default)]
pub struct GitHubSetup {
    pub allow_push: bool,
    /// `github.issue_label` (default: none).
    pub issue_label: Option<String>,
    /// `github.host` (default: none, so `defaults.host`).
    pub host: Option<String>,
    pub fake: FakeGitHubConfig,
}

impl Options {
    pub fn new(db: Db) -> Options {
        Options {
            db,
            fake: FakeTelegramConfig::default(),
            turn_timeout: "10m",
            max_queue: 20,
            host_slots: 4,
            extra_config: String::new(),
            host_toml: String::new(),
            defaults_toml: String::new(),
            http_toml: String::new(),
            web_token: Some(WEB_ADMIN_TOKEN),
            agent_command: None,
            agent: FakeAgent::Claude,
            pinned_host_key: None,
            webhook_secret: None,
            telegram_toml: String::new(),
            poll_timeout: "5s",
            more_allowed_users: Vec::new(),
            github: None,
            git_workspace: true,
            slack: None,
            discord: None,
            record_commands: false,
        }
    }
}

/// One fake-agent run, as recorded on the host.
#[derive(Debug, Clone)]
pub struct AgentRun {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub session_id: String,
    pub resumed: bool,
    pub started_at_ns: u128,
    pub prompt: Vec<u8>,
}

impl AgentRun {
    /// The conversation the run continued: the value after Claude's `--resume`, Codex's
    /// `resume` or OpenCode's `--session`, if any.
    pub fn resume_id(&self) -> Option<&str> {
        let at = self
            .argv
            .iter()
            .position(|a| a == "--resume" || a == "resume" || a == "--session")?;
        self.argv.get(at + 1).map(String::as_str)
    }
}

pub struct Harness {
    pub tg: FakeTelegram,
    /// The fake GitHub, when the test runs the GitHub App.
    pub gh: Option<FakeGitHub>,
    /// The fake Slack workspace, when the test runs the Slack bot.
    pub slack: Option<SlackWorld>,
    /// The fake Discord, when the test runs the Discord bot.
    pub discord: Option<DiscordWorld>,
    pub sshd: Sshd,
    pub db: TestDb,
    pub alice: FakeUser,
    pub chat: FakeChat,
    /// Host-side directory (owned by the SSH login user): work/, state/, claude/, codex/,
    /// opencode/, records/.
    pub host_dir: tempfile::TempDir,
    /// The agent of new sessions.
    pub agent: FakeAgent,
    /// Bot-side directory: config.toml and bot.log.
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    /// Where the bot's HTTP server listens (webhook mode).
    pub http_port: u16,
    webhook_secret: Option<String>,
    web_token: Option<&'static str>,
    /// More environment for the bot and its commands (`SWITCHBOARD_DATABASE_URL`, say).
    pub bot_env: Vec<(String, String)>,
    bot: Option<Child>,
}

impl Harness {
    /// Everything set up and the bot running and polling.
    pub async fn start(db: Db) -> Harness {
        Harness::start_with(Options::new(db)).await
    }

    pub async fn start_with(options: Options) -> Harness {
        let mut harness = Harness::prepare(options).await;
        harness.start_bot().await;
        harness
    }

    /// Everything set up, the bot not started yet.
    pub async fn prepare(options: Options) -> Harness {
        let tg = FakeTelegram::start(options.fake.clone()).await;
        let gh = match &options.github {
            Some(setup) => Some(FakeGitHub::start(setup.fake.clone()).await),
            None => None,
        };
        let slack = match &options.slack {
            Some(setup) => Some(SlackWorld::start(setup).await),
            None => None,
        };
        let discord = match &options.discord {
            Some(setup) => Some(DiscordWorld::start(setup).await),
            None => None,
        };
        let sshd = match options.record_commands {
            true => Sshd::start_recording(),
            false => Sshd::start(),
        };
        let db = TestDb::create(options.db).await;
        let host_dir = sshd.workspace();
        for sub in ["work", "state", "claude", "codex", "opencode", "records"] {
            let path = host_dir.path().join(sub);
            std::fs::create_dir(&path).expect("host dir");
            chown_like(&path, host_dir.path());
        }
        let dir = tempfile::tempdir().expect("bot dir");
        let alice = tg.user(1001, "Alice", Some("alice"));
        let chat = tg.private_chat(&alice);
        let config_path = dir.path().join("config.toml");
        let harness = Harness {
            tg,
            gh,
            slack,
            discord,
            sshd,
            db,
            alice,
            chat,
            host_dir,
            agent: options.agent,
            dir,
            config_path,
            http_port: free_port(),
            webhook_secret: options.webhook_secret.clone(),
            web_token: options.web_token,
            bot_env: Vec::new(),
            bot: None,
        };
        if let Some(gh) = &harness.gh {
            std::fs::write(
                harness.dir.path().join("github-app.pem"),
                gh.app_private_key_pem(),
            )
            .expect("write the App key");
        }
        std::fs::write(&harness.config_path, harness.config(&options)).expect("write config");
        harness
    }

    fn config(&self, o: &Options) -> String {
        let host = self.host_dir.path();
        let mode = match o.webhook_secret {
            Some(_) => format!(
                "mode = \"webhook\"\nwebhook_url = \"http://127.0.0.1:{}/telegram/webhook\"",
                self.http_port
            ),
            None => String::new(),
        };
        let github = match (&self.gh, &o.github) {
            (Some(gh), Some(setup)) => format!(
                "[github]\napp_id = {id}\napi_url = \"{api}\"\nprivate_key_file = \"{key}\"\n\
                 allow_push = {push}\ntest_timeout = \"60s\"\n{label}{host}",
                id = gh.app_id(),
                api = gh.api_url(),
                key = self.dir.path().join("github-app.pem").display(),
                push = setup.allow_push,
                label = setup
                    .issue_label
                    .as_ref()
                    .map(|l| format!("issue_label = {l:?}\n"))
                    .unwrap_or_default(),
                host = setup
                    .host
                    .as_ref()
                    .map(|h| format!("host = \"{h}\"\n"))
                    .unwrap_or_default(),
            ),
            _ => String::new(),
        };
        let platforms: String = [
            self.slack.as_ref().map(SlackWorld::config_toml),
            self.discord.as_ref().map(DiscordWorld::config_toml),
        ]
        .into_iter()
        .flatten()
        .collect();
        let command = |agent: FakeAgent| match &o.agent_command {
            Some(command) if o.agent == agent => command.clone(),
            _ => agent.fake().to_owned(),
        };
        format!(
            r#"[database]
url = "{db}"

[http]
listen = "127.0.0.1:{http_port}"
{http_toml}

[telegram]
api_url = "{api}"
allowed_users = [{allowed}]
poll_timeout = "{poll_timeout}"
{mode}
{telegram_toml}

{github}
{platforms}

[defaults]
host = "remote"
turn_timeout = "{timeout}"
max_queue = {max_queue}
progress_interval = "1s"
agent = "{default_agent}"
{defaults_toml}

[hosts.remote]
address = "{address}"
user = "{user}"
key_file = "{key}"
host_key = "{host_key}"
workdir = "{host}/work"
state_dir = "{host}/state"
connect_timeout = "5s"
max_concurrent_turns = {slots}
{host_toml}

[hosts.remote.agents.claude]
command = "{claude}"
env = {{ CLAUDE_CONFIG_DIR = "{host}/claude", FAKE_CLAUDE_RECORD_DIR = "{host}/records" }}

[hosts.remote.agents.codex]
command = "{codex}"
env = {{ CODEX_HOME = "{host}/codex", FAKE_CODEX_RECORD_DIR = "{host}/records" }}

[hosts.remote.agents.opencode]
command = "{opencode}"
env = {{ XDG_DATA_HOME = "{host}/opencode", FAKE_OPENCODE_RECORD_DIR = "{host}/records" }}
{workspaces}
{extra}"#,
            db = self.db.url,
            http_port = self.http_port,
            http_toml = o.http_toml,
            telegram_toml = o.telegram_toml,
            poll_timeout = o.poll_timeout,
            api = self.tg.api_url(),
            allowed = std::iter::once(&self.alice.id)
                .chain(&o.more_allowed_users)
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            timeout = o.turn_timeout,
            max_queue = o.max_queue,
            slots = o.host_slots,
            address = self.sshd.address(),
            user = self.sshd.user(),
            key = self.sshd.client_key_path().display(),
            host_key = o
                .pinned_host_key
                .clone()
                .unwrap_or_else(|| self.sshd.host_public_key()),
            host = host.display(),
            claude = command(FakeAgent::Claude),
            codex = command(FakeAgent::Codex),
            opencode = command(FakeAgent::OpenCode),
            default_agent = o.agent.name(),
            extra = o.extra_config,
            workspaces = if o.git_workspace {
                ""
            } else {
                "\n[workspaces]\nscratch_git = false"
            },
            host_toml = o.host_toml,
            defaults_toml = o.defaults_toml,
        )
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("bot.log")
    }

    /// The bot's log so far (for assertions and failure reports).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A `switchboard` command with this test's config and environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(SWITCHBOARD);
        cmd.arg("--config")
            .arg(&self.config_path)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("TELEGRAM_BOT_TOKEN", self.tg.token())
            .env("RUST_LOG", "info,switchboard=debug,sqlx=warn");
        if let Some(secret) = &self.webhook_secret {
            cmd.env("TELEGRAM_WEBHOOK_SECRET", secret);
        }
        if let Some(token) = self.web_token {
            cmd.env("SWITCHBOARD_WEB_TOKEN", token);
        }
        if let Some(gh) = &self.gh {
            cmd.env("GITHUB_WEBHOOK_SECRET", gh.webhook_secret());
        }
        if let Some(slack) = &self.slack {
            slack.env(&mut cmd);
        }
        if let Some(discord) = &self.discord {
            discord.env(&mut cmd);
        }
        cmd.envs(self.bot_env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Starts `switchboard serve` and waits until it receives updates (polls, or has set its
    /// webhook).
    pub async fn start_bot(&mut self) {
        assert!(self.bot.is_none(), "the bot is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("bot log");
        if let Some(slack) = &mut self.slack {
            slack.bot_starting();
        }
        if let Some(discord) = &mut self.discord {
            discord.bot_starting();
        }
        let child = self
            .command()
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start switchboard");
        self.bot = Some(child);
        if self.gh.is_some() || self.slack.as_ref().is_some_and(SlackWorld::events_api) {
            self.wait_for_http().await;
        }
        if let Some(slack) = &self.slack {
            slack.bot_started(self.http_port).await;
        }
        if let Some(discord) = &self.discord {
            discord.bot_started().await;
        }
        match self.webhook_secret {
            None => self.tg.wait_until_polling(WAIT).await,
            Some(_) => {
                let deadline = tokio::time::Instant::now() + WAIT;
                while self.tg.webhook().is_none() {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "the bot set no webhook"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// Waits until the bot's HTTP server accepts connections.
    pub async fn wait_for_http(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.http_port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot's HTTP server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The web console's address.
    pub fn web_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// The bot's GitHub webhook endpoint.
    pub fn github_webhook(&self) -> String {
        format!("http://127.0.0.1:{}/github/webhook", self.http_port)
    }

    /// SIGKILLs the bot: no shutdown code runs, as in a crash or an OOM kill.
    pub fn kill_bot(&mut self) {
        let mut child = self.bot.take().expect("the bot is not running");
        child.kill().expect("SIGKILL the bot");
        child.wait().expect("reap the bot");
    }

    /// Alice says something in her private chat with the bot.
    pub fn say(&self, text: &str) -> Sent {
        self.tg.send_text(&self.chat, &self.alice, text)
    }

    /// The next message the bot posts in Alice's chat.
    pub async fn next(&self) -> BotMessage {
        self.tg.next_bot_message(&self.chat, None, WAIT).await
    }

    /// Waits until a bot message in Alice's chat shows text containing `needle`.
    pub async fn wait_text(&self, needle: &str) -> BotMessage {
        self.tg
            .wait_for_text(&self.chat, |t| t.contains(needle), WAIT)
            .await
    }

    /// Waits until the bot's message `message` (a turn's status, say) shows text starting with
    /// `prefix`, and returns it in that state.
    pub async fn wait_status(&self, message: &BotMessage, prefix: &str) -> BotMessage {
        let id = message.message_id;
        self.tg
            .wait_for_message(
                &self.chat,
                |m| m.message_id == id && m.text.starts_with(prefix),
                WAIT,
            )
            .await
    }

    /// The fake agent's runs on the host, oldest first.
    pub fn agent_runs(&self) -> Vec<AgentRun> {
        let dir = self.host_dir.path().join("records");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("records dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(path).expect("record")).expect("json");
                let prompt_file = dir.join(v["prompt_file"].as_str().expect("prompt_file"));
                AgentRun {
                    cwd: PathBuf::from(v["cwd"].as_str().expect("cwd")),
                    argv: v["argv"]
                        .as_array()
                        .expect("argv")
                        .iter()
                        .map(|a| a.as_str().expect("arg").to_owned())
                        .collect(),
                    session_id: v["session_id"].as_str().unwrap_or_default().to_owned(),
                    resumed: v["resumed"].as_bool().unwrap_or(false),
                    started_at_ns: v["started_at_ns"].as_u64().unwrap_or(0) as u128,
                    prompt: std::fs::read(prompt_file).expect("prompt bytes"),
                }
            })
            .collect()
    }

    /// The session file the fake agent keeps for `session_id` on the host (Claude's transcript,
    /// Codex's rollout, OpenCode's session), if there is one.
    pub fn session_file(&self, session_id: &str) -> Option<PathBuf> {
        let home = self.host_dir.path().join(self.agent.home());
        let name = match self.agent {
            FakeAgent::Claude | FakeAgent::OpenCode => format!("/{session_id}.jsonl"),
            FakeAgent::Codex => format!("-{session_id}.jsonl"),
        };
        files_under(&home)
            .into_iter()
            .find(|p| p.to_string_lossy().ends_with(&name))
    }

    /// The answers the agent's runs in `session_id` finished with, as its session file keeps
    /// them: Claude's successful `result` lines; for Codex the last message before each
    /// `turn.completed`, for OpenCode the last text before each step that ends with `stop`.
    pub fn finished_answers(&self, session_id: &str) -> Vec<String> {
        let path = self
            .session_file(session_id)
            .unwrap_or_else(|| panic!("no session file of {session_id} on the host"));
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(path)
            .expect("read the session file")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let mut answers = Vec::new();
        let mut last_message = String::new();
        for line in &lines {
            match (self.agent, line["type"].as_str()) {
                (FakeAgent::Claude, Some("result")) if line["is_error"] == false => {
                    answers.push(text(&line["result"]))
                }
                (FakeAgent::Codex, Some("item.completed"))
                    if line["item"]["type"] == "agent_message" =>
                {
                    last_message = text(&line["item"]["text"])
                }
                (FakeAgent::Codex, Some("turn.completed")) => answers.push(last_message.clone()),
                (FakeAgent::OpenCode, Some("text")) => last_message = text(&line["part"]["text"]),
                (FakeAgent::OpenCode, Some("step_finish")) if line["part"]["reason"] == "stop" => {
                    answers.push(last_message.clone())
                }
                _ => {}
            }
        }
        answers
    }

    /// Waits until the fake agent has been started `n` times in all.
    pub async fn wait_agent_runs(&self, n: usize) -> Vec<AgentRun> {
        self.wait_agent_runs_within(n, WAIT).await
    }

    /// [`Self::wait_agent_runs`] with a deadline of its own.
    pub async fn wait_agent_runs_within(&self, n: usize, timeout: Duration) -> Vec<AgentRun> {
        waiting::poll(timeout, async || {
            let runs = self.agent_runs();
            match runs.len() >= n {
                true => Ok(runs),
                false => Err(format!("the agent ran {} times, expected {n}", runs.len())),
            }
        })
        .await
    }

    /// Waits until the audit trail satisfies `check`; returns it.
    pub async fn wait_audit(
        &self,
        mut check: impl FnMut(&[switchboard::store::AuditRow]) -> bool,
    ) -> Vec<switchboard::store::AuditRow> {
        let store = self.store().await;
        let audit = waiting::poll(WAIT, async || {
            let audit = store.audit_log(10_000).await.expect("the audit trail");
            match check(&audit) {
                true => Ok(audit),
                false => Err(format!("the audit trail never showed it: {audit:#?}")),
            }
        })
        .await;
        store.close().await;
        audit
    }

    /// The one running turn on the host: its id and the pid of its wrapper, the leader of its
    /// process group (from the turn's `.pid` file under the state dir).
    pub fn running_turn(&self) -> (String, u32) {
        running_turn_in(&self.host_dir.path().join("state"))
    }

    /// The running bot's process id.
    pub fn bot_pid(&self) -> u32 {
        self.bot.as_ref().expect("the bot is not running").id()
    }

    /// Runs `switchboard ARGS…` to completion (the CLI, with this test's config).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().expect("run switchboard")
    }

    /// Starts a session in the test's chat with `/new` and makes its directory on the host
    /// (owned by the SSH login user, like everything under `work/`), for the test to put files
    /// in before the first turn; returns the directory.
    pub async fn open_session(&self) -> PathBuf {
        self.say("/new");
        let reply = self.next().await;
        assert!(reply.text.contains("New session"), "{}", reply.text);
        let thread = switchboard::domain::thread::ThreadRef {
            platform: switchboard::domain::thread::Platform::Telegram,
            chat: self.chat.id.to_string(),
            topic: None,
        };
        let session = self
            .store()
            .await
            .active_session(&thread)
            .await
            .expect("read the session")
            .expect("a session after /new");
        let dir = PathBuf::from(&session.workdir);
        std::fs::create_dir_all(&dir).expect("the session's directory");
        let work = self.host_dir.path().join("work");
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("--reference={}", self.host_dir.path().display()))
            .arg(&work)
            .status()
            .expect("chown");
        assert!(status.success(), "chown the workspaces");
        dir
    }

    /// Gives a path on the host back to the SSH login user after the test wrote into it as
    /// itself (everything under the host's directory is the login user's).
    pub fn hand_over(&self, path: &Path) {
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("--reference={}", self.host_dir.path().display()))
            .arg(path)
            .status()
            .expect("chown");
        assert!(status.success(), "chown {}", path.display());
    }

    /// Opens the bot's database (to check what it recorded).
    pub async fn store(&self) -> switchboard::store::Store {
        switchboard::store::Store::connect(&self.db.url, 2)
            .await
            .expect("open the bot's database")
    }

    /// Fails if the fake recorded a call inside a retry_after window.
    pub fn assert_no_violations(&self) {
        let violations = self.tg.violations();
        assert!(
            violations.is_empty(),
            "rate-limit violations: {violations:#?}"
        );
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(mut child) = self.bot.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("----- bot log -----\n{}\n-------------------", self.log());
        }
    }
}

/// The one running turn under a host's state dir: its id and the pid of its wrapper.
pub fn running_turn_in(state_dir: &Path) -> (String, u32) {
    let turns = state_dir.join("turns");
    let pids: Vec<PathBuf> = std::fs::read_dir(&turns)
        .expect("the host's turn files")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pid"))
        .collect();
    assert_eq!(pids.len(), 1, "one turn on the host: {pids:?}");
    let id = pids[0]
        .file_stem()
        .expect("a turn id")
        .to_string_lossy()
        .into_owned();
    let pid = std::fs::read_to_string(&pids[0])
        .expect("the turn's pid file")
        .trim()
        .parse()
        .expect("a pid");
    (id, pid)
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for path in entries.map(|e| e.expect("entry").path()) {
        match path.is_dir() {
            true => files.extend(files_under(&path)),
            false => files.push(path),
        }
    }
    files
}

/// Gives `path` the owner of `like` (the SSH login user's workspace).
fn chown_like(path: &Path, like: &Path) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(like).expect("stat workspace");
    std::os::unix::fs::chown(path, Some(meta.uid()), Some(meta.gid())).expect("chown");
}

/// Nanoseconds since the epoch, as the fake agent records its start.
pub fn epoch_ns(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .expect("time")
        .as_nanos()
}

/// A loopback port for a child process to listen on (see `ports`: no parallel test takes it).
pub fn free_port() -> u16 {
    super::ports::reserve()
}
