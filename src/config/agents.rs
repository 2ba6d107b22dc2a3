//! The `[agents]` section and each host's `[hosts.NAME.agents.…]` overrides: how the agent's
//! command line is built and what environment it gets.
//!
//! Each agent has a table of its own (`[agents.claude]`, `[agents.codex]`,
//! `[agents.opencode]`); a host may name another command for one (non-login SSH shells have a
//! short PATH) and add environment variables. Those variables become `sh` assignments on the
//! host (`runner::agent_env`), so their names are checked here to be plain identifiers before
//! anything runs. Secret values can come from files on the bot's machine (`env_files`), read once
//! at start and then passed exactly like `env`: on stdin, never on a command line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};

pub use crate::domain::agent::PermissionMode;
use crate::domain::agent::{AgentKind, TokenPrices};
use serde::Deserialize;

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
    #[serde(default)]
    pub codex: CodexConfig,
    #[serde(default)]
    pub opencode: OpenCodeConfig,
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
    /// The models a session may pick with `/model`; empty: any name. Default: none.
    #[serde(default)]
    pub models: Vec<String>,
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
    /// `--mcp-config PATH`: the MCP servers' file, a path on the host. Default: none.
    #[serde(default)]
    pub mcp_config: Option<String>,
    /// Environment for the agent on every host, e.g. `CLAUDE_CODE_MAX_RETRIES = "3"`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment read from files on the bot's machine at start (NAME = path), for secrets.
    #[serde(default)]
    pub env_files: BTreeMap<String, PathBuf>,
}

impl Default for ClaudeConfig {
    fn default() -> Self {
        ClaudeConfig {
            command: default_claude_command(),
            model: None,
            models: Vec::new(),
            max_turns: None,
            permission_mode: PermissionMode::default(),
            allowed_tools: Vec::new(),
            disallowed_tools: Vec::new(),
            append_system_prompt: None,
            extra_args: Vec::new(),
            mcp_config: None,
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
        }
    }
}

fn default_claude_command() -> String {
    AgentKind::Claude.as_str().to_owned()
}

/// How `codex exec --json` is invoked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodexConfig {
    /// Command (name on PATH or absolute path). Default `codex`.
    #[serde(default = "default_codex_command")]
    pub command: String,
    /// `-m`. Default: none (the CLI's, or `config.model`).
    #[serde(default)]
    pub model: Option<String>,
    /// The models a session may pick with `/model`; empty: any name. Default: none.
    #[serde(default)]
    pub models: Vec<String>,
    /// Mapped onto `--sandbox` (see `agents::codex`). Default: `acceptEdits`.
    #[serde(default)]
    pub permission_mode: PermissionMode,
    /// Codex configuration overrides, each given as `-c key=value` (nested tables become dotted
    /// keys): the model provider, MCP servers, anything `config.toml` takes. They are on the
    /// command line, so never secrets. Default: none.
    #[serde(default)]
    pub config: toml::Table,
    /// More arguments, appended as given. Default: none.
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// Environment for the agent on every host, e.g. the provider's API key.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment read from files on the bot's machine at start (NAME = path), for secrets.
    #[serde(default)]
    pub env_files: BTreeMap<String, PathBuf>,
    /// What its tokens cost: Codex reports tokens but no cost, so without prices its turns cost
    /// nothing against the budgets. Default: none.
    #[serde(default)]
    pub prices: Option<TokenPrices>,
}

impl Default for CodexConfig {
    fn default() -> Self {
        CodexConfig {
            command: default_codex_command(),
            model: None,
            models: Vec::new(),
            permission_mode: PermissionMode::default(),
            config: toml::Table::new(),
            extra_args: Vec::new(),
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
            prices: None,
        }
    }
}

fn default_codex_command() -> String {
    AgentKind::Codex.as_str().to_owned()
}

impl CodexConfig {
    /// [`CodexConfig::config`] as `(dotted key, value as TOML)` pairs, tables flattened, in key
    /// order: what each `-c key=value` says.
    pub fn overrides(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        flatten_overrides("", &self.config, &mut out);
        out
    }
}

fn flatten_overrides(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (key, value) in table {
        let path = match prefix {
            "" => key.clone(),
            _ => format!("{prefix}.{key}"),
        };
        match value {
            toml::Value::Table(inner) => flatten_overrides(&path, inner, out),
            other => out.push((path, other.to_string())),
        }
    }
}

/// How `opencode run --format json` is invoked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenCodeConfig {
    /// Command (name on PATH or absolute path). Default `opencode`.
    #[serde(default = "default_opencode_command")]
    pub command: String,
    /// `-m provider/model`. Default: none (OpenCode's configured model).
    #[serde(default)]
    pub model: Option<String>,
    /// The models a session may pick with `/model` (`provider/model` each); empty: any name.
    /// Default: none.
    #[serde(default)]
    pub models: Vec<String>,
    /// Mapped onto OpenCode's permissions (see `agents::opencode`). Default: `acceptEdits`.
    #[serde(default)]
    pub permission_mode: PermissionMode,
    /// `--agent`: the OpenCode agent (its prompt, tools and permissions). Default: none
    /// (OpenCode's `build`); permission mode `plan` always runs `plan`.
    #[serde(default)]
    pub agent: Option<String>,
    /// `--title` of every new OpenCode session: giving one saves the model request OpenCode
    /// would otherwise make to invent a title. Default `Switchboard`.
    #[serde(default = "default_opencode_title")]
    pub title: String,
    /// More arguments, appended as given. Default: none.
    #[serde(default)]
    pub extra_args: Vec<String>,
    /// Environment for the agent on every host, e.g. `OPENCODE_CONFIG` or a provider's API key.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment read from files on the bot's machine at start (NAME = path), for secrets.
    #[serde(default)]
    pub env_files: BTreeMap<String, PathBuf>,
}

impl Default for OpenCodeConfig {
    fn default() -> Self {
        OpenCodeConfig {
            command: default_opencode_command(),
            model: None,
            models: Vec::new(),
            permission_mode: PermissionMode::default(),
            agent: None,
            title: default_opencode_title(),
            extra_args: Vec::new(),
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
        }
    }
}

fn default_opencode_command() -> String {
    AgentKind::OpenCode.as_str().to_owned()
}

fn default_opencode_title() -> String {
    "Switchboard".to_owned()
}

impl OpenCodeConfig {
    fn validate(&self) -> Result<()> {
        validate_agent_env("agents.opencode", &self.env, &self.env_files)?;
        let models = self.model.iter().chain(&self.models);
        if let Some(bad) = models.into_iter().find(|m| !is_provider_model(m)) {
            bail!(
                "agents.opencode: model {bad:?} is not in OpenCode's `provider/model` form \
                 (e.g. \"anthropic/claude-sonnet-4-5\")"
            );
        }
        if self.title.trim().is_empty() {
            bail!("agents.opencode.title must not be empty");
        }
        Ok(())
    }
}

/// OpenCode names a model by its provider and the provider's model id: `provider/model`.
fn is_provider_model(name: &str) -> bool {
    name.split_once('/')
        .is_some_and(|(provider, model)| !provider.trim().is_empty() && !model.trim().is_empty())
}

impl AgentsConfig {
    pub(super) fn validate(&self) -> Result<()> {
        let claude = &self.claude;
        validate_agent_env("agents.claude", &claude.env, &claude.env_files)?;
        let codex = &self.codex;
        validate_agent_env("agents.codex", &codex.env, &codex.env_files)?;
        if codex.prices.is_some_and(|p| !p.is_valid()) {
            bail!("agents.codex.prices: prices are dollars per million tokens, zero or more");
        }
        if let Some(key) = unsplittable_key(&codex.config) {
            bail!(
                "agents.codex.config: {key:?} is not a key codex can take (letters, digits, `_` \
                 and `-`; nest tables instead of writing dots)"
            );
        }
        self.opencode.validate()
    }

    /// Reads every agent's `env_files` into its `env` (the bot's start: `serve` and `check`).
    pub(super) fn read_env_files(&mut self) -> Result<()> {
        read_env_files(
            "agents.claude",
            &self.claude.env_files,
            &mut self.claude.env,
        )?;
        read_env_files("agents.codex", &self.codex.env_files, &mut self.codex.env)?;
        read_env_files(
            "agents.opencode",
            &self.opencode.env_files,
            &mut self.opencode.env,
        )
    }
}

/// A key of `table` (at any depth) that a dotted `-c` path would not carry as one part: codex
/// splits the path on dots.
fn unsplittable_key(table: &toml::Table) -> Option<&str> {
    table.iter().find_map(|(key, value)| {
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match value {
            _ if !plain => Some(key.as_str()),
            toml::Value::Table(inner) => unsplittable_key(inner),
            _ => None,
        }
    })
}

/// An agent's `env` and `env_files`: identifiers, and no name in both.
fn validate_agent_env(
    key: &str,
    env: &BTreeMap<String, String>,
    files: &BTreeMap<String, PathBuf>,
) -> Result<()> {
    validate_env(&format!("{key}.env"), env)?;
    let names = files.keys().map(|n| (n.clone(), String::new())).collect();
    validate_env(&format!("{key}.env_files"), &names)?;
    if let Some(name) = files.keys().find(|n| env.contains_key(*n)) {
        bail!("{key}: {name} is in both env and env_files; keep one");
    }
    Ok(())
}

fn read_env_files(
    key: &str,
    files: &BTreeMap<String, PathBuf>,
    env: &mut BTreeMap<String, String>,
) -> Result<()> {
    for (name, path) in files {
        let value = super::read_secret_file(path, &format!("{key}.env_files.{name}"))?;
        env.insert(name.clone(), value.expose().to_owned());
    }
    Ok(())
}

impl HostAgentConfig {
    /// The overrides of `agent` on the host `host` (`[hosts.HOST.agents.AGENT]`).
    pub(super) fn validate(&self, host: &str, agent: AgentKind) -> Result<()> {
        validate_env(&format!("hosts.{host}.agents.{agent}.env"), &self.env)
    }
}

/// Environment variable names must be plain identifiers: they become `sh` assignments on the
/// host (`runner::agent_env`).
pub(super) fn validate_env(key: &str, env: &BTreeMap<String, String>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(name.to_owned(), "1".to_owned())])
    }

    #[test]
    fn environment_names_are_identifiers() {
        let mut agents = AgentsConfig::default();
        agents.claude.env = env("CLAUDE_CODE_MAX_RETRIES");
        agents.validate().unwrap();
        for name in ["", "1X", "A-B", "A B", "X=Y"] {
            agents.claude.env = env(name);
            let err = agents.validate().unwrap_err().to_string();
            assert!(err.starts_with("agents.claude.env: "), "{name:?}: {err}");
        }
        let on_host = HostAgentConfig {
            command: None,
            env: env("_PATH2"),
        };
        on_host.validate("devbox", AgentKind::Claude).unwrap();
        let bad = HostAgentConfig {
            env: env("A-B"),
            ..on_host
        };
        let err = bad
            .validate("devbox", AgentKind::Claude)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("hosts.devbox.agents.claude.env: "), "{err}");
    }

    /// `env_files` names are checked like `env`'s, may not repeat one, and are read into `env`
    /// at start, trimmed; a missing file names its key.
    #[test]
    fn env_files_are_read_into_env() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "sk-secret\n").unwrap();
        let mut agents = AgentsConfig::default();
        agents.codex.env = env("OTHER");
        agents.codex.env_files = BTreeMap::from([("OPENAI_API_KEY".to_owned(), key.clone())]);
        agents.validate().unwrap();
        agents.read_env_files().unwrap();
        assert_eq!(agents.codex.env["OPENAI_API_KEY"], "sk-secret");
        assert_eq!(agents.codex.env["OTHER"], "1");

        agents.claude.env_files = BTreeMap::from([("A-B".to_owned(), key.clone())]);
        let err = agents.validate().unwrap_err().to_string();
        assert!(err.starts_with("agents.claude.env_files: "), "{err}");
        agents.claude.env = env("K");
        agents.claude.env_files = BTreeMap::from([("K".to_owned(), key)]);
        let err = agents.validate().unwrap_err().to_string();
        assert!(err.contains("K is in both env and env_files"), "{err}");
        agents.claude.env_files = BTreeMap::from([("K2".to_owned(), dir.path().join("gone"))]);
        let err = format!("{:#}", agents.read_env_files().unwrap_err());
        assert!(
            err.starts_with("agents.claude.env_files.K2: cannot read"),
            "{err}"
        );
    }

    /// Codex's overrides become dotted `-c` keys; a key part codex would split is refused.
    #[test]
    fn codex_config_keys_must_survive_the_dotted_path() {
        let ok: AgentsConfig =
            toml::from_str("[codex.config.mcp_servers.my-docs]\ncommand = \"npx\"\n").unwrap();
        ok.validate().unwrap();
        assert_eq!(
            ok.codex.overrides(),
            [(
                "mcp_servers.my-docs.command".to_owned(),
                "\"npx\"".to_owned()
            )]
        );
        let bad: AgentsConfig = toml::from_str("[codex.config]\n\"model.name\" = \"x\"\n").unwrap();
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.starts_with("agents.codex.config: "), "{err}");
    }

    /// OpenCode models are `provider/model`; a bare name is refused before anything runs.
    #[test]
    fn opencode_models_name_their_provider() {
        let ok: AgentsConfig = toml::from_str(
            "[opencode]\nmodel = \"anthropic/claude-x\"\nmodels = [\"openai/gpt-5\"]\n",
        )
        .unwrap();
        ok.validate().unwrap();
        assert_eq!(ok.opencode.command, "opencode");
        assert_eq!(ok.opencode.title, "Switchboard");
        for bad in [
            "model = \"gpt-5\"",
            "models = [\"/x\"]",
            "models = [\"p/\"]",
        ] {
            let agents: AgentsConfig = toml::from_str(&format!("[opencode]\n{bad}\n")).unwrap();
            let err = agents.validate().unwrap_err().to_string();
            assert!(err.contains("provider/model"), "{bad}: {err}");
        }
        let mut env = AgentsConfig::default();
        env.opencode.env = self::env("A-B");
        let err = env.validate().unwrap_err().to_string();
        assert!(err.starts_with("agents.opencode.env: "), "{err}");
    }

    #[test]
    fn permission_modes_are_read_as_the_cli_spells_them() {
        for mode in [
            PermissionMode::Default,
            PermissionMode::AcceptEdits,
            PermissionMode::Plan,
            PermissionMode::BypassPermissions,
        ] {
            let text = format!("permission_mode = {:?}", mode.as_str());
            let claude: ClaudeConfig = toml::from_str(&text).unwrap();
            assert_eq!(claude.permission_mode, mode);
        }
    }
}
