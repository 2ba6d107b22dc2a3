//! Configuration: structure from TOML, secrets from the environment or files.
//!
//! `switchboard serve` must work with no file at all (`TELEGRAM_BOT_TOKEN=… switchboard serve`):
//! every field has a default, the `local` host always exists, and the store defaults to
//! `./switchboard.db`. A file given with `--config` adds hosts and overrides defaults. Unknown
//! keys are errors (`deny_unknown_fields`) so a typo never silently falls back to a default.
//!
//! Secrets never live in the TOML: the Telegram token and webhook secret come from the
//! environment or from a file named in the config, and are held in [`Secret`], whose `Debug`
//! prints `[redacted]`. The environment is read once, here, into [`Env`]; nothing deeper in the
//! program reads environment variables.
//!
//! `config.example.toml` documents every key and is parsed by a unit test, so it cannot drift.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

mod budgets;
mod discord;
mod duration;
mod slack;
mod web;
pub use budgets::Budgets;
pub use discord::{DiscordConfig, DiscordSecrets};
pub use slack::{SlackConfig, SlackMode, SlackSecrets};
pub use web::{ADMIN, WebConfig, WebUser};

/// Name of the host that always exists and runs agents on this machine.
pub const LOCAL_HOST: &str = "local";
/// The only agent so far.
pub const CLAUDE: &str = "claude";

/// A secret value: never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call sites are few and obvious on purpose.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The process environment, captured once at start-up (tests pass their own).
#[derive(Debug, Default, Clone)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env(pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect())
    }

    /// A non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A comma-separated variable's items, trimmed, empty ones left out.
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.get(key)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub telegram: TelegramConfig,
    /// The GitHub App; enabled when `app_id` is set.
    #[serde(default)]
    pub github: GitHubConfig,
    /// Slack; enabled when a bot token is given.
    #[serde(default)]
    pub slack: SlackConfig,
    /// Discord; enabled when a bot token is given.
    #[serde(default)]
    pub discord: DiscordConfig,
    /// The web console; on by default.
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub defaults: Defaults,
    /// Spending limits; none by default.
    #[serde(default)]
    pub budgets: Budgets,
    /// Workspace hosts by name. `local` exists even when not listed.
    #[serde(default)]
    pub hosts: BTreeMap<String, HostConfig>,
    #[serde(default)]
    pub agents: AgentsConfig,
    /// True when `local` was not in the file (it is added with its defaults).
    #[serde(skip)]
    pub local_is_implicit: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`. Default `sqlite://switchboard.db` (in the working
    /// directory). The environment variable `SWITCHBOARD_DATABASE_URL` overrides it, so a
    /// password never has to be written into the file.
    #[serde(default = "default_database_url")]
    pub url: String,
    /// Pool size. Default 8.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: default_database_url(),
            max_connections: default_max_connections(),
        }
    }
}

fn default_database_url() -> String {
    "sqlite://switchboard.db".to_owned()
}

fn default_max_connections() -> u32 {
    8
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Where the HTTP server listens (Telegram webhook mode). Default `127.0.0.1:8080`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Reverse proxies whose `X-Forwarded-For` names the client (refusals are counted and
    /// throttled per client). Default: none, the peer address is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            trusted_proxies: Vec::new(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Long polling with getUpdates (no public URL needed). The default.
    #[default]
    Polling,
    /// Telegram POSTs updates to `webhook_url`; needs `http.listen` reachable through it.
    Webhook,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Bot API base URL. Default `https://api.telegram.org`; point it at a self-hosted Bot API
    /// server if you run one.
    #[serde(default = "default_telegram_api_url")]
    pub api_url: String,
    /// File holding the bot token. Default: none; the token comes from `TELEGRAM_BOT_TOKEN`.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// `polling` (default) or `webhook`.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Public HTTPS URL Telegram posts updates to (webhook mode only), e.g.
    /// `https://bot.example.com/telegram/webhook`. Its path is served on `http.listen`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// File holding the webhook secret token. Default: none; `TELEGRAM_WEBHOOK_SECRET` is used.
    #[serde(default)]
    pub webhook_secret_file: Option<PathBuf>,
    /// Telegram user ids allowed to use the bot in any chat. Default: none.
    /// `TELEGRAM_ALLOWED_USERS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_users: Vec<i64>,
    /// Chat ids in which everyone may use the bot. Default: none.
    /// `TELEGRAM_ALLOWED_CHATS` (comma-separated) adds to the list.
    #[serde(default)]
    pub allowed_chats: Vec<i64>,
    /// Long-polling timeout of one getUpdates call. Default `30s`.
    #[serde(default = "default_poll_timeout", with = "duration")]
    pub poll_timeout: Duration,
    #[serde(default)]
    pub limits: TelegramLimits,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            api_url: default_telegram_api_url(),
            token_file: None,
            mode: TelegramMode::Polling,
            webhook_url: None,
            webhook_secret_file: None,
            allowed_users: Vec::new(),
            allowed_chats: Vec::new(),
            poll_timeout: default_poll_timeout(),
            limits: TelegramLimits::default(),
        }
    }
}

fn default_telegram_api_url() -> String {
    "https://api.telegram.org".to_owned()
}

fn default_poll_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Telegram's published flood limits; the outbound scheduler never exceeds them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramLimits {
    /// Minimum spacing of messages (sends and edits) in one chat. Default `1s`.
    #[serde(default = "default_per_chat_interval", with = "duration")]
    pub per_chat_interval: Duration,
    /// Messages per rolling minute in one group. Default 20.
    #[serde(default = "default_per_group_per_minute")]
    pub per_group_per_minute: u32,
    /// Messages per rolling second over all chats. Default 30.
    #[serde(default = "default_global_per_second")]
    pub global_per_second: u32,
}

impl Default for TelegramLimits {
    fn default() -> Self {
        TelegramLimits {
            per_chat_interval: default_per_chat_interval(),
            per_group_per_minute: default_per_group_per_minute(),
            global_per_second: default_global_per_second(),
        }
    }
}

fn default_per_chat_interval() -> Duration {
    Duration::from_secs(1)
}

fn default_per_group_per_minute() -> u32 {
    20
}

fn default_global_per_second() -> u32 {
    30
}

/// The GitHub App: mentions on issues and pull requests, dependency reviews.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubConfig {
    /// The App's id (its settings page shows it). Default: none, GitHub is off.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// The App's private key (PEM). Default: none; `GITHUB_APP_PRIVATE_KEY` holds the PEM text.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// File with the webhook secret(s), one per line (several while rotating). Default: none;
    /// `GITHUB_WEBHOOK_SECRET` (comma-separated) is used.
    #[serde(default)]
    pub webhook_secret_file: Option<PathBuf>,
    /// REST API base URL. Default `https://api.github.com`; GitHub Enterprise Server uses
    /// `https://HOST/api/v3`.
    #[serde(default = "default_github_api_url")]
    pub api_url: String,
    /// The mention that calls the bot, without `@`. Default `switchboard`.
    #[serde(default = "default_github_handle")]
    pub handle: String,
    /// Push the agent's commits to the pull request's branch. Default false.
    #[serde(default)]
    pub allow_push: bool,
    /// Accounts whose pull requests get a dependency review (exact logins of Bot accounts).
    /// Default `["dependabot[bot]", "renovate[bot]"]`.
    #[serde(default = "default_dependency_bots")]
    pub dependency_bots: Vec<String>,
    /// Host the repositories are checked out on. Default: `defaults.host`.
    #[serde(default)]
    pub host: Option<String>,
    /// The pull request diff given to the agent is cut after this many bytes. Default 60000.
    #[serde(default = "default_diff_max_bytes")]
    pub diff_max_bytes: usize,
    /// Earlier comments of the thread given to the agent. Default 20.
    #[serde(default = "default_context_comments")]
    pub context_comments: usize,
    /// Time limit of a dependency review's test run. Default `10m`.
    #[serde(default = "default_test_timeout", with = "duration")]
    pub test_timeout: Duration,
    /// A delivery whose event (a comment's or review's time, a pull request's `updated_at`) is
    /// older than this is refused: a captured signed delivery cannot be replayed later.
    /// Default `1h`.
    #[serde(default = "default_max_event_age", with = "duration")]
    pub max_event_age: Duration,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            app_id: None,
            private_key_file: None,
            webhook_secret_file: None,
            api_url: default_github_api_url(),
            handle: default_github_handle(),
            allow_push: false,
            dependency_bots: default_dependency_bots(),
            host: None,
            diff_max_bytes: default_diff_max_bytes(),
            context_comments: default_context_comments(),
            test_timeout: default_test_timeout(),
            max_event_age: default_max_event_age(),
        }
    }
}

fn default_max_event_age() -> Duration {
    Duration::from_secs(60 * 60)
}

fn default_github_api_url() -> String {
    "https://api.github.com".to_owned()
}

fn default_github_handle() -> String {
    "switchboard".to_owned()
}

fn default_dependency_bots() -> Vec<String> {
    vec!["dependabot[bot]".to_owned(), "renovate[bot]".to_owned()]
}

fn default_diff_max_bytes() -> usize {
    60_000
}

fn default_context_comments() -> usize {
    20
}

fn default_test_timeout() -> Duration {
    Duration::from_secs(600)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Host for new sessions. Default `local`.
    #[serde(default = "default_host")]
    pub host: String,
    /// Agent for new sessions. Default `claude` (the only one so far).
    #[serde(default = "default_agent")]
    pub agent: String,
    /// A turn running longer than this is cancelled and reported as timed out. Default `30m`.
    #[serde(default = "default_turn_timeout", with = "duration")]
    pub turn_timeout: Duration,
    /// Prompts that may wait behind a running turn in one session. Default 20.
    #[serde(default = "default_max_queue")]
    pub max_queue: u32,
    /// How often the progress message is refreshed at most. Default: the platform's own limit
    /// on edits in one chat ([`crate::core::policy::Policy::progress_interval`]).
    #[serde(default, with = "duration::optional")]
    pub progress_interval: Option<Duration>,
    /// The largest file (in MB) a user may send for the agent; larger ones are refused.
    /// Default 20 (Telegram's own limit for bots).
    #[serde(default = "default_max_file_mb")]
    pub max_file_mb: u32,
}

impl Defaults {
    /// [`Defaults::max_file_mb`] in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        u64::from(self.max_file_mb) * 1024 * 1024
    }
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            host: default_host(),
            agent: default_agent(),
            turn_timeout: default_turn_timeout(),
            max_queue: default_max_queue(),
            progress_interval: None,
            max_file_mb: default_max_file_mb(),
        }
    }
}

fn default_host() -> String {
    LOCAL_HOST.to_owned()
}

fn default_agent() -> String {
    CLAUDE.to_owned()
}

fn default_turn_timeout() -> Duration {
    Duration::from_secs(30 * 60)
}

fn default_max_file_mb() -> u32 {
    20
}

fn default_max_queue() -> u32 {
    20
}

/// One workspace host. With `address` it is reached over SSH; without, commands run locally.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// `hostname[:port]` of the SSH server. Default: none (a local host).
    #[serde(default)]
    pub address: Option<String>,
    /// SSH login user. Required for SSH hosts.
    #[serde(default)]
    pub user: Option<String>,
    /// Private key file (OpenSSH format). Required for SSH hosts; `~/` is expanded.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The pinned host public key, as `ssh-keyscan` prints it: `ssh-ed25519 AAAA…`.
    #[serde(default)]
    pub host_key: Option<String>,
    /// The pinned host key's fingerprint, as `ssh-keygen -lf` prints it: `SHA256:…`.
    #[serde(default)]
    pub host_key_fingerprint: Option<String>,
    /// An OpenSSH known_hosts file holding the host's key.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// With `known_hosts`: record an unknown host's key on first connection. Default false.
    #[serde(default)]
    pub trust_on_first_use: bool,
    /// Working directory of the agent on the host. Default `~/switchboard`.
    #[serde(default = "default_workdir")]
    pub workdir: String,
    /// Where turn files live on the host. Default `~/.switchboard`.
    #[serde(default = "default_state_dir")]
    pub state_dir: String,
    /// Turns running at once on this host; more wait their turn. Default 4.
    #[serde(default = "default_max_concurrent_turns")]
    pub max_concurrent_turns: u32,
    /// SSH channels per connection before another connection is opened (OpenSSH allows 10 by
    /// default). Default 8.
    #[serde(default = "default_max_channels")]
    pub max_channels_per_connection: u32,
    /// SSH connect and handshake timeout. Default `10s`.
    #[serde(default = "default_connect_timeout", with = "duration")]
    pub connect_timeout: Duration,
    /// SSH keepalive interval; three missed replies close the connection. Default `15s`.
    #[serde(default = "default_keepalive_interval", with = "duration")]
    pub keepalive_interval: Duration,
    /// The X display `/screenshot` captures (an Xvfb the host runs, e.g. `:99`). Default: none,
    /// and `/screenshot` without a URL says how to set one up.
    #[serde(default)]
    pub display: Option<String>,
    /// The browser `/screenshot URL` runs on the host, as a command and its own arguments.
    /// Default `["chromium"]`.
    #[serde(default = "default_browser")]
    pub browser: Vec<String>,
    /// The longest a screenshot or an SVG rendering may take on this host. Default `45s`.
    #[serde(default = "default_capture_timeout", with = "duration")]
    pub capture_timeout: Duration,
    /// Per-agent overrides on this host (`[hosts.NAME.agents.claude]`).
    #[serde(default)]
    pub agents: BTreeMap<String, HostAgentConfig>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            address: None,
            user: None,
            key_file: None,
            host_key: None,
            host_key_fingerprint: None,
            known_hosts: None,
            trust_on_first_use: false,
            workdir: default_workdir(),
            state_dir: default_state_dir(),
            max_concurrent_turns: default_max_concurrent_turns(),
            max_channels_per_connection: default_max_channels(),
            connect_timeout: default_connect_timeout(),
            keepalive_interval: default_keepalive_interval(),
            display: None,
            browser: default_browser(),
            capture_timeout: default_capture_timeout(),
            agents: BTreeMap::new(),
        }
    }
}

fn default_workdir() -> String {
    "~/switchboard".to_owned()
}

fn default_state_dir() -> String {
    "~/.switchboard".to_owned()
}

/// The longest a capture may take by default, from connecting to the last byte.
pub const DEFAULT_CAPTURE_TIMEOUT: Duration = Duration::from_secs(45);

fn default_capture_timeout() -> Duration {
    DEFAULT_CAPTURE_TIMEOUT
}

fn default_browser() -> Vec<String> {
    vec!["chromium".to_owned()]
}

fn default_max_concurrent_turns() -> u32 {
    4
}

fn default_max_channels() -> u32 {
    8
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_keepalive_interval() -> Duration {
    Duration::from_secs(15)
}

/// Host-specific agent settings: non-login SSH shells have a short PATH, so the command path
/// and environment often differ per host.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostAgentConfig {
    /// Command to run instead of `agents.<name>.command`.
    #[serde(default)]
    pub command: Option<String>,
    /// Extra environment for the agent on this host (merged over `agents.<name>.env`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    #[serde(default)]
    pub claude: ClaudeConfig,
}

/// How `claude -p` is invoked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaudeConfig {
    /// Command (name on PATH or absolute path). Default `claude`.
    #[serde(default = "default_claude_command")]
    pub command: String,
    /// `--model`. Default: none (the CLI's default).
    #[serde(default)]
    pub model: Option<String>,
    /// `--max-turns`. Default: none.
    #[serde(default)]
    pub max_turns: Option<u32>,
    /// `--permission-mode`. Default: `acceptEdits`.
    #[serde(default)]
    pub permission_mode: PermissionMode,
    /// `--allowedTools`. Default: none.
    #[serde(default)]
    pub allowed_tools: Vec<String>,
    /// `--disallowedTools`. Default: none.
    #[serde(default)]
    pub disallowed_tools: Vec<String>,
    /// `--append-system-prompt`. Default: none.
    #[serde(default)]
    pub append_system_prompt: Option<String>,
    /// More arguments, appended as given. Default: none.
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// Environment for the agent on every host, e.g. `CLAUDE_CODE_MAX_RETRIES = "3"`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl Default for ClaudeConfig {
    fn default() -> Self {
        ClaudeConfig {
            command: default_claude_command(),
            model: None,
            max_turns: None,
            permission_mode: PermissionMode::default(),
            allowed_tools: Vec::new(),
            disallowed_tools: Vec::new(),
            append_system_prompt: None,
            extra_args: Vec::new(),
            env: BTreeMap::new(),
        }
    }
}

fn default_claude_command() -> String {
    CLAUDE.to_owned()
}

/// `claude -p --permission-mode`: what the agent may do without asking. In `-p` there is nobody
/// to ask, so whatever a mode leaves to approval is denied (the turn still succeeds and says what
/// was denied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PermissionMode {
    /// The CLI's own default: reads and searches; no edits, no shell commands.
    Default,
    /// Also edits and writes files in the workspace, and simple filesystem commands (`mkdir`,
    /// `mv`, `cp`, …). The default: a quick start's agent can change code, and nothing else
    /// runs unasked.
    #[default]
    AcceptEdits,
    /// Plans only: no edits, no commands.
    Plan,
    /// Everything, unasked (refused as root unless the host is a sandbox).
    BypassPermissions,
}

impl PermissionMode {
    /// As the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "acceptEdits",
            PermissionMode::Plan => "plan",
            PermissionMode::BypassPermissions => "bypassPermissions",
        }
    }
}

/// Secrets resolved from the environment and files.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub telegram_token: Option<Secret>,
    pub telegram_webhook_secret: Option<Secret>,
    /// The GitHub App's private key (PEM).
    pub github_private_key: Option<Secret>,
    /// Every accepted GitHub webhook secret (more than one while rotating).
    pub github_webhook_secrets: Vec<Secret>,
    pub slack: SlackSecrets,
    pub discord: DiscordSecrets,
    /// The web console admin's sign-in token, when configured rather than generated.
    pub web_admin_token: Option<Secret>,
}

impl Config {
    /// Reads and validates the file at `path` (or the defaults when `None`), applies the
    /// environment overrides, and resolves the secrets (what `serve` and `check` need).
    pub fn load(path: Option<&Path>, env: &Env) -> Result<(Config, Secrets)> {
        let config = Config::load_settings(path, env)?;
        let secrets = config.resolve_secrets(env)?;
        Ok((config, secrets))
    }

    /// [`Config::load`] without the platform secrets: what commands that only read the database
    /// need (`audit`, `sessions`, `migrate`), so they run where no token is at hand.
    pub fn load_settings(path: Option<&Path>, env: &Env) -> Result<Config> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                Config::parse(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text (no environment, no validation).
    pub fn parse(text: &str) -> Result<Config> {
        Ok(toml::from_str(text)?)
    }

    fn apply_env(&mut self, env: &Env) -> Result<()> {
        if let Some(url) = env.get("SWITCHBOARD_DATABASE_URL") {
            self.database.url = url.to_owned();
        }
        self.telegram
            .allowed_users
            .extend(parse_id_list(env, "TELEGRAM_ALLOWED_USERS")?);
        self.telegram
            .allowed_chats
            .extend(parse_id_list(env, "TELEGRAM_ALLOWED_CHATS")?);
        self.slack.apply_env(env);
        self.discord.apply_env(env);
        self.local_is_implicit = !self.hosts.contains_key(LOCAL_HOST);
        self.hosts.entry(LOCAL_HOST.to_owned()).or_default();
        Ok(())
    }

    /// Cross-field rules, each failing with a message that says what to change.
    pub fn validate(&self) -> Result<()> {
        let db = &self.database.url;
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres:")
            || db.starts_with("postgresql:"))
        {
            bail!("database.url must start with sqlite:// or postgres:// (got {db:?})");
        }
        if !self.hosts.contains_key(&self.defaults.host) {
            bail!(
                "defaults.host is {:?}, but there is no [hosts.{}] section; add it or set \
                 defaults.host to one of: {}",
                self.defaults.host,
                self.defaults.host,
                self.host_names().join(", ")
            );
        }
        if self.defaults.agent != CLAUDE {
            bail!(
                "defaults.agent is {:?}; the only agent available is \"claude\"",
                self.defaults.agent
            );
        }
        if self.defaults.turn_timeout.is_zero() {
            bail!("defaults.turn_timeout must be longer than zero");
        }
        for (name, host) in &self.hosts {
            validate_host(name, host)?;
        }
        validate_env("agents.claude.env", &self.agents.claude.env)?;
        if self.telegram.mode == TelegramMode::Webhook {
            let Some(url) = &self.telegram.webhook_url else {
                bail!("telegram.mode is \"webhook\" but telegram.webhook_url is not set");
            };
            if !url.starts_with("https://") && !url.starts_with("http://") {
                bail!("telegram.webhook_url must be an http(s) URL (got {url:?})");
            }
        }
        if let Some(host) = &self.github.host
            && !self.hosts.contains_key(host)
        {
            bail!("github.host is {host:?}, but there is no [hosts.{host}] section");
        }
        let handle = &self.github.handle;
        if handle.is_empty()
            || !handle
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!(
                "github.handle {handle:?} must be a GitHub login (letters, digits, '-'), without '@'"
            );
        }
        let limits = &self.telegram.limits;
        if limits.per_group_per_minute == 0 || limits.global_per_second == 0 {
            bail!("telegram.limits.* must be greater than zero");
        }
        self.slack.validate()?;
        self.budgets.validate()?;
        self.web.validate()?;
        self.discord.validate()
    }

    fn resolve_secrets(&self, env: &Env) -> Result<Secrets> {
        let telegram_token = match &self.telegram.token_file {
            Some(path) => Some(read_secret_file(path, "telegram.token_file")?),
            None => env.get("TELEGRAM_BOT_TOKEN").map(Secret::new),
        };
        let telegram_webhook_secret = match &self.telegram.webhook_secret_file {
            Some(path) => Some(read_secret_file(path, "telegram.webhook_secret_file")?),
            None => env.get("TELEGRAM_WEBHOOK_SECRET").map(Secret::new),
        };
        if self.telegram.mode == TelegramMode::Webhook && telegram_token.is_some() {
            match &telegram_webhook_secret {
                None => bail!(
                    "telegram.mode is \"webhook\": set TELEGRAM_WEBHOOK_SECRET or \
                     telegram.webhook_secret_file (1-256 characters of A-Z a-z 0-9 _ -)"
                ),
                Some(secret) if !valid_webhook_secret(secret.expose()) => {
                    bail!("the Telegram webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -")
                }
                Some(_) => {}
            }
        }
        let github_private_key = match &self.github.private_key_file {
            Some(path) => Some(read_secret_file(path, "github.private_key_file")?),
            None => env.get("GITHUB_APP_PRIVATE_KEY").map(Secret::new),
        };
        let github_webhook_secrets: Vec<Secret> = match &self.github.webhook_secret_file {
            Some(path) => read_secret_file(path, "github.webhook_secret_file")?
                .expose()
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .collect(),
            None => env
                .list("GITHUB_WEBHOOK_SECRET")
                .into_iter()
                .map(Secret::new)
                .collect(),
        };
        if self.github.app_id.is_some() {
            if github_private_key.is_none() {
                bail!(
                    "github.app_id is set: give the App's private key in github.private_key_file \
                     or GITHUB_APP_PRIVATE_KEY"
                );
            }
            if github_webhook_secrets.is_empty() {
                bail!(
                    "github.app_id is set: give the webhook secret in GITHUB_WEBHOOK_SECRET or \
                     github.webhook_secret_file"
                );
            }
        }
        Ok(Secrets {
            telegram_token,
            telegram_webhook_secret,
            github_private_key,
            github_webhook_secrets,
            slack: self.slack.resolve_secrets(env)?,
            discord: self.discord.resolve_secrets(env)?,
            web_admin_token: self.web.resolve_admin_token(env)?,
        })
    }

    /// Host names, sorted.
    pub fn host_names(&self) -> Vec<String> {
        self.hosts.keys().cloned().collect()
    }
}

fn validate_host(name: &str, host: &HostConfig) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        bail!("host name {name:?} may only use letters, digits, '-', '_' and '.'");
    }
    if host.max_concurrent_turns == 0 {
        bail!("hosts.{name}.max_concurrent_turns must be at least 1");
    }
    if host.max_channels_per_connection == 0 {
        bail!("hosts.{name}.max_channels_per_connection must be at least 1");
    }
    if host.workdir.trim().is_empty() || host.state_dir.trim().is_empty() {
        bail!("hosts.{name}.workdir and state_dir must not be empty");
    }
    if host.browser.first().is_none_or(|b| b.trim().is_empty()) {
        bail!("hosts.{name}.browser must name a command, e.g. [\"chromium\"]");
    }
    if let Some(display) = &host.display
        && !display.contains(':')
    {
        bail!("hosts.{name}.display {display:?} is not an X display name such as \":99\"");
    }
    for (agent, settings) in &host.agents {
        if agent != CLAUDE {
            bail!("hosts.{name}.agents.{agent}: unknown agent; the only agent is \"claude\"");
        }
        validate_env(&format!("hosts.{name}.agents.{agent}.env"), &settings.env)?;
    }
    let Some(address) = &host.address else {
        let ssh_only = [
            ("user", host.user.is_some()),
            ("key_file", host.key_file.is_some()),
            ("host_key", host.host_key.is_some()),
            ("host_key_fingerprint", host.host_key_fingerprint.is_some()),
            ("known_hosts", host.known_hosts.is_some()),
        ];
        if let Some((key, _)) = ssh_only.iter().find(|(_, set)| *set) {
            bail!(
                "hosts.{name}.{key} is set but hosts.{name}.address is not; set the address for an SSH host"
            );
        }
        return Ok(());
    };
    if address.trim().is_empty() {
        bail!("hosts.{name}.address must not be empty");
    }
    if host.user.is_none() {
        bail!("hosts.{name}.user is required for an SSH host");
    }
    if host.key_file.is_none() {
        bail!(
            "hosts.{name}.key_file is required for an SSH host (a private key in OpenSSH format)"
        );
    }
    let pins = [
        host.host_key.is_some(),
        host.host_key_fingerprint.is_some(),
        host.known_hosts.is_some(),
    ]
    .iter()
    .filter(|set| **set)
    .count();
    if pins == 0 {
        bail!(
            "hosts.{name}: pin the host key with host_key = \"ssh-ed25519 AAAA…\" (from \
             `ssh-keyscan -t ed25519 HOST`), host_key_fingerprint = \"SHA256:…\", or known_hosts = \
             \"~/.ssh/known_hosts\""
        );
    }
    if pins > 1 {
        bail!("hosts.{name}: set only one of host_key, host_key_fingerprint, known_hosts");
    }
    if host.trust_on_first_use && host.known_hosts.is_none() {
        bail!("hosts.{name}.trust_on_first_use needs known_hosts (where the learned key is kept)");
    }
    if let Some(fp) = &host.host_key_fingerprint
        && !fp.starts_with("SHA256:")
    {
        bail!("hosts.{name}.host_key_fingerprint must look like \"SHA256:…\" (ssh-keygen -lf)");
    }
    Ok(())
}

/// Environment variable names must be plain identifiers: they become `sh` assignments on the
/// host (`runner::agent_env`).
fn validate_env(key: &str, env: &BTreeMap<String, String>) -> Result<()> {
    for name in env.keys() {
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            bail!("{key}: {name:?} is not a valid environment variable name");
        }
    }
    Ok(())
}

fn parse_id_list(env: &Env, key: &str) -> Result<Vec<i64>> {
    env.list(key)
        .into_iter()
        .map(|s| {
            s.parse::<i64>()
                .with_context(|| format!("{key}: {s:?} is not a numeric Telegram id"))
        })
        .collect()
}

fn read_secret_file(path: &Path, key: &str) -> Result<Secret> {
    let path = expand_home(path);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{key}: cannot read {}", path.display()))?;
    let value = text.trim();
    if value.is_empty() {
        bail!("{key}: {} is empty", path.display());
    }
    Ok(Secret::new(value))
}

fn valid_webhook_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Expands a leading `~/` with this machine's `$HOME` (for local files named in the config).
pub fn expand_home(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => match std::env::home_dir() {
            Some(home) => home.join(rest),
            None => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &Env) -> Result<(Config, Secrets)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), env)
    }

    #[test]
    fn the_example_config_parses_and_validates() {
        let text = include_str!("../../config.example.toml");
        let config = Config::parse(text).expect("config.example.toml parses");
        config.validate().expect("config.example.toml validates");
        assert!(config.hosts.contains_key("devbox"));
        assert_eq!(config.telegram.limits.per_group_per_minute, 20);
    }

    /// Every key the example mentions — also the commented-out ones — is a real key.
    #[test]
    fn the_example_mentions_only_real_keys() {
        let text = include_str!("../../config.example.toml");
        let uncommented: String = text
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.split_once(" = ").is_some_and(|(key, _)| {
                        key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
                {
                    rest
                }
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(uncommented, text, "the example has commented-out keys");
        let config = Config::parse(&uncommented).expect("every documented key parses");
        let devbox = &config.hosts["devbox"];
        assert!(devbox.host_key_fingerprint.is_some() && devbox.known_hosts.is_some());
        assert!(config.telegram.token_file.is_some() && config.agents.claude.model.is_some());
    }

    #[test]
    fn no_file_gives_a_working_default() {
        let env = Env::from_pairs([("TELEGRAM_BOT_TOKEN", "1:abc")]);
        let (config, secrets) = Config::load(None, &env).unwrap();
        assert_eq!(config.database.url, "sqlite://switchboard.db");
        assert_eq!(config.defaults.host, "local");
        assert!(config.hosts["local"].address.is_none());
        assert_eq!(secrets.telegram_token.unwrap().expose(), "1:abc");
    }

    #[test]
    fn env_adds_allowlists_and_overrides_the_database() {
        let env = Env::from_pairs([
            ("TELEGRAM_ALLOWED_USERS", "1, 2"),
            ("SWITCHBOARD_DATABASE_URL", "postgres://x/y"),
        ]);
        let (config, _) = load_text("[telegram]\nallowed_users = [3]\n", &env).unwrap();
        assert_eq!(config.telegram.allowed_users, vec![3, 1, 2]);
        assert_eq!(config.database.url, "postgres://x/y");
        let bad = Env::from_pairs([("TELEGRAM_ALLOWED_USERS", "me")]);
        let err = Config::load(None, &bad).unwrap_err();
        assert!(format!("{err:#}").contains("TELEGRAM_ALLOWED_USERS"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = load_text("[defaults]\nhots = \"x\"\n", &Env::default()).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }

    #[test]
    fn cross_field_rules_say_what_to_change() {
        let cases = [
            ("[defaults]\nhost = \"nope\"\n", "no [hosts.nope] section"),
            (
                "[hosts.a]\naddress = \"a:22\"\nuser = \"u\"\nkey_file = \"/k\"\n",
                "pin the host key",
            ),
            (
                "[hosts.a]\naddress = \"a:22\"\nkey_file = \"/k\"\nhost_key = \"x\"\n",
                "user is required",
            ),
            ("[hosts.a]\nuser = \"u\"\n", "address is not"),
            (
                "[hosts.a]\naddress = \"a\"\nuser = \"u\"\nkey_file = \"/k\"\nhost_key = \"k\"\nknown_hosts = \"/kh\"\n",
                "only one of",
            ),
            ("[telegram]\nmode = \"webhook\"\n", "webhook_url is not set"),
            (
                "[agents.claude]\npermission_mode = \"yolo\"\n",
                "permission_mode",
            ),
            ("[hosts.local]\nmax_concurrent_turns = 0\n", "at least 1"),
            ("[database]\nurl = \"mysql://x\"\n", "database.url"),
        ];
        for (text, expected) in cases {
            let err = load_text(text, &Env::default()).unwrap_err();
            assert!(
                format!("{err:#}").contains(expected),
                "config {text:?}: error {err:#} does not mention {expected:?}"
            );
        }
    }

    #[test]
    fn webhook_mode_needs_a_valid_secret() {
        let text = "[telegram]\nmode = \"webhook\"\nwebhook_url = \"https://x/y\"\n";
        let token = ("TELEGRAM_BOT_TOKEN", "1:a");
        let err = load_text(text, &Env::from_pairs([token])).unwrap_err();
        assert!(format!("{err:#}").contains("TELEGRAM_WEBHOOK_SECRET"));
        let bad = Env::from_pairs([token, ("TELEGRAM_WEBHOOK_SECRET", "has space")]);
        assert!(load_text(text, &bad).is_err());
        let good = Env::from_pairs([token, ("TELEGRAM_WEBHOOK_SECRET", "s3cr3t_-")]);
        let (_, secrets) = load_text(text, &good).unwrap();
        assert_eq!(
            secrets.telegram_webhook_secret.unwrap().expose(),
            "s3cr3t_-"
        );
    }

    #[test]
    fn secrets_come_from_files_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "42:SECRET\n").unwrap();
        let text = format!(
            "[telegram]\ntoken_file = {:?}\n",
            token.display().to_string()
        );
        let (_, secrets) = load_text(&text, &Env::default()).unwrap();
        assert!(!format!("{secrets:?}").contains("SECRET"), "{secrets:?}");
        let secret = secrets.telegram_token.unwrap();
        assert_eq!(secret.expose(), "42:SECRET");
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }
}
