//! The `[agents]` section and each host's `[hosts.NAME.agents.…]` overrides: how the agent's
//! command line is built and what environment it gets.
//!
//! Each agent has a table of its own (`[agents.claude]`, `[agents.opencode]`); a host may name
//! another command for one (non-login SSH shells have a short PATH) and add environment
//! variables. Those variables become `sh` assignments on the host (`runner::agent_env`), so their
//! names are checked here to be plain identifiers before anything runs.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use crate::domain::agent::AgentKind;
pub use crate::domain::agent::PermissionMode;
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
    /// Environment for the agent on every host, e.g. `CLAUDE_CODE_MAX_RETRIES = "3"`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
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
            env: BTreeMap::new(),
        }
    }
}

fn default_claude_command() -> String {
    AgentKind::Claude.as_str().to_owned()
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
        validate_env("agents.opencode.env", &self.env)?;
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
        validate_env("agents.claude.env", &self.claude.env)?;
        self.opencode.validate()
    }
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
