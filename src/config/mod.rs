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
//!
//! Each platform, the hosts, the agents, the projects, the web console and the budgets have a
//! file of their own here with their section's types, defaults, rules and secrets; this file holds the whole
//! [`Config`], the small sections (`database`, `http`, `defaults`), loading, and the rules that
//! span sections (a host named in `defaults`, `github` or a project must exist).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::domain::agent::AgentKind;
use crate::domain::project::Project;

mod agents;
mod budgets;
mod discord;
mod duration;
mod github;
mod hooks;
mod hosts;
mod projects;
mod schedules;
mod slack;
mod telegram;
mod transcription;
mod web;
mod workspaces;
pub use agents::{
    AgentsConfig, ClaudeConfig, CodexConfig, HostAgentConfig, OpenCodeConfig, PermissionMode,
};
pub use budgets::Budgets;
pub use discord::{DiscordConfig, DiscordSecrets};
pub use github::GitHubConfig;
pub use hooks::HookConfig;
pub use hosts::{DEFAULT_CAPTURE_TIMEOUT, HostConfig, LOCAL_HOST};
pub use projects::ProjectConfig;
pub use schedules::{BadZone, CHAT_ID_PREFIX, ScheduleConfig, Scheduling, time_zone};
pub use slack::{SlackConfig, SlackMode, SlackSecrets};
pub use telegram::{TelegramConfig, TelegramLimits, TelegramMode};
pub use transcription::TranscriptionConfig;
pub use web::{ADMIN, WebConfig, WebUser};
pub use workspaces::Workspaces;

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
    /// Projects by name: the repositories sessions work on. Default: none.
    #[serde(default)]
    pub projects: BTreeMap<String, ProjectConfig>,
    /// How sessions' own directories are named, made and kept.
    #[serde(default)]
    pub workspaces: Workspaces,
    /// Speech to text for voice notes and audio files; off without the section.
    #[serde(default)]
    pub transcription: Option<TranscriptionConfig>,
    /// How schedules tell time (`[scheduling]`).
    #[serde(default)]
    pub scheduling: Scheduling,
    /// Prompts queued at cron times (`[[schedules]]`). Default: none.
    #[serde(default)]
    pub schedules: Vec<ScheduleConfig>,
    /// Inbound webhook triggers by name (`[hooks.NAME]`). Default: none.
    #[serde(default)]
    pub hooks: BTreeMap<String, HookConfig>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Host for new sessions. Default `local`.
    #[serde(default = "default_host")]
    pub host: String,
    /// Agent for new sessions (`claude`, `codex` or `opencode`), unless their project or host
    /// names one. Default `claude`.
    #[serde(default = "default_agent")]
    pub agent: AgentKind,
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

fn default_agent() -> AgentKind {
    AgentKind::Claude
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
    /// The speech-to-text service's API key, if it takes one.
    pub transcription_key: Option<Secret>,
    /// Each `[hooks.NAME]`'s secret, by name.
    pub hooks: BTreeMap<String, Secret>,
}

impl Config {
    /// Reads and validates the file at `path` (or the defaults when `None`), applies the
    /// environment overrides, and resolves the secrets, the agents' `env_files` among them (what
    /// `serve` and `check` need).
    pub fn load(path: Option<&Path>, env: &Env) -> Result<(Config, Secrets)> {
        let mut config = Config::load_settings(path, env)?;
        config.agents.read_env_files()?;
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
        self.telegram.apply_env(env)?;
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
        if self.defaults.turn_timeout.is_zero() {
            bail!("defaults.turn_timeout must be longer than zero");
        }
        // `/new WORD` reads an agent's name as the agent: a host or project of that name could
        // never be chosen.
        let sections = self.hosts.keys().map(|n| ("hosts", n));
        for (section, name) in sections.chain(self.projects.keys().map(|n| ("projects", n))) {
            if name.parse::<AgentKind>().is_ok() {
                bail!(
                    "{section}.{name}: {name:?} is an agent's name, which /new reads as the agent; \
                     name it otherwise"
                );
            }
        }
        for (name, host) in &self.hosts {
            host.validate(name)?;
        }
        self.agents.validate()?;
        self.telegram.validate()?;
        if let Some(host) = &self.github.host
            && !self.hosts.contains_key(host)
        {
            bail!("github.host is {host:?}, but there is no [hosts.{host}] section");
        }
        self.github.validate()?;
        // A dependency review's tests run inside its turn, which turn_timeout bounds whole: the
        // agent must have time left after them.
        if self.github.app_id.is_some() && self.github.test_timeout >= self.defaults.turn_timeout {
            bail!(
                "github.test_timeout ({}) must be shorter than defaults.turn_timeout ({}): a \
                 dependency review's tests run inside its turn, and the agent needs time after them",
                humantime::format_duration(self.github.test_timeout),
                humantime::format_duration(self.defaults.turn_timeout)
            );
        }
        let hosts = self.host_names();
        for (name, project) in &self.projects {
            project.validate(name, &hosts, self.github.app_id.is_some())?;
        }
        projects::validate_claims(&self.projects)?;
        self.slack.validate()?;
        self.budgets.validate()?;
        self.workspaces.validate()?;
        schedules::validate(&self.scheduling, &self.schedules)?;
        hooks::validate(&self.hooks)?;
        self.web.validate()?;
        if let Some(transcription) = &self.transcription {
            transcription.validate()?;
        }
        self.discord.validate()
    }

    fn resolve_secrets(&self, env: &Env) -> Result<Secrets> {
        let telegram = self.telegram.resolve_secrets(env)?;
        let github = self.github.resolve_secrets(env)?;
        Ok(Secrets {
            telegram_token: telegram.token,
            telegram_webhook_secret: telegram.webhook_secret,
            github_private_key: github.private_key,
            github_webhook_secrets: github.webhook_secrets,
            slack: self.slack.resolve_secrets(env)?,
            discord: self.discord.resolve_secrets(env)?,
            web_admin_token: self.web.resolve_admin_token(env)?,
            transcription_key: match &self.transcription {
                Some(transcription) => transcription.resolve_key(env)?,
                None => None,
            },
            hooks: hooks::resolve_secrets(&self.hooks)?,
        })
    }

    /// Host names, sorted.
    /// The agent of new sessions on a host without a project choosing one: the host's own
    /// default, else `defaults.agent`.
    pub fn host_agent(&self, host: &str) -> AgentKind {
        self.hosts
            .get(host)
            .and_then(|h| h.agent)
            .unwrap_or(self.defaults.agent)
    }

    pub fn host_names(&self) -> Vec<String> {
        self.hosts.keys().cloned().collect()
    }

    /// The configured projects, sorted by name.
    pub fn projects(&self) -> Vec<Project> {
        projects::projects(&self.projects, &self.defaults.host)
    }
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
        let projects = config.projects();
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[1].name, "web");
        assert_eq!(projects[1].hosts, ["devbox"]);
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
        let web = &config.projects["web"];
        assert!(web.setup.is_some() && web.permission_mode.is_some());
        assert!(!web.hosts.is_empty() && !web.discord_channels.is_empty());
    }

    /// A dependency review's tests run inside its turn: they must leave the agent time.
    #[test]
    fn a_reviews_tests_must_end_before_its_turn_does() {
        let config = |tests: &str, turn: &str| {
            Config::parse(&format!(
                "[defaults]\nturn_timeout = \"{turn}\"\n[hosts.local]\n[github]\napp_id = 1\ntest_timeout = \"{tests}\"\n"
            ))
            .expect("parses")
        };
        let err = config("30m", "30m").validate().unwrap_err();
        assert!(
            format!("{err:#}").contains(
                "github.test_timeout (30m) must be shorter than defaults.turn_timeout (30m)"
            ),
            "{err:#}"
        );
        config("10m", "30m")
            .validate()
            .expect("the defaults' proportions");
        let mut no_app = config("30m", "5m");
        no_app.github.app_id = None;
        no_app
            .validate()
            .expect("without GitHub the test time limit does not matter");
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
            (
                "[projects.web]\nrepo = \"https://git.example.com/web.git\"\nhost = \"gpu\"\n",
                "projects.web: host \"gpu\" has no [hosts.gpu] section",
            ),
            (
                "[projects.web]\nrepo = \"acme/web\"\n",
                "github.app_id is not set",
            ),
            (
                "[projects.a]\nrepo = \"https://x/a\"\nslack_channels = [\"C1\"]\n\
                 [projects.b]\nrepo = \"https://x/b\"\nslack_channels = [\"C1\"]\n",
                "projects.b.slack_channels: C1 is already the chat of [projects.a]",
            ),
            ("[projects.web]\nhost = \"local\"\n", "missing field `repo`"),
            (
                "[projects.codex]\nrepo = \"https://x/a\"\n",
                "projects.codex: \"codex\" is an agent's name",
            ),
            (
                "[hosts.opencode]\naddress = \"10.0.0.1\"\n",
                "hosts.opencode: \"opencode\" is an agent's name",
            ),
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
