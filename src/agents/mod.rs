//! Agent adapters: how to start an agent CLI for one turn and how to read what it prints.
//!
//! An adapter knows its CLI's command line and output format and nothing about hosts or chats:
//! it turns configuration into an [`Invocation`] and output lines into core [`AgentEvent`]s,
//! and classifies how a run ended. The turn driver holds a `&dyn` [`Agent`] picked by the
//! session's [`AgentKind`] from [`Agents`] and never asks which one it is: no agent's name or
//! output format appears above this floor.

pub mod claude;
pub mod codex;
mod json;
pub mod opencode;

use std::collections::BTreeMap;

use crate::config::{AgentsConfig, HostAgentConfig, PermissionMode};
use crate::domain::agent::{AgentKind, TokenPrices};
use crate::domain::agent_event::{AgentEvent, AgentResult};
use crate::domain::invocation::Invocation;
use crate::domain::outcome::Outcome;

/// What one turn asks of its agent besides the prompt (which arrives on stdin).
#[derive(Debug, Clone, Copy, Default)]
pub struct TurnArgs<'a> {
    /// The host's overrides for this agent (`[hosts.NAME.agents.AGENT]`).
    pub host: Option<&'a HostAgentConfig>,
    /// The agent's own conversation to continue; `None` starts a new one.
    pub resume: Option<&'a str>,
    /// The session's model; `None`: the agent's configured default.
    pub model: Option<&'a str>,
    /// The project's permission mode; `None`: the agent's configured one.
    pub permission_mode: Option<PermissionMode>,
    /// The project's environment, merged over the agent's and the host's.
    pub env: Option<&'a BTreeMap<String, String>>,
}

/// One agent CLI, as the turn driver uses it.
pub trait Agent: Send + Sync + std::fmt::Debug {
    /// Which agent this is.
    fn kind(&self) -> AgentKind;

    /// The command to run on a host (its override, or the configured one).
    fn command<'a>(&'a self, host: Option<&'a HostAgentConfig>) -> &'a str;

    /// The command line and environment of one turn.
    fn invocation(&self, turn: &TurnArgs<'_>) -> Invocation;

    /// The command line that prints the CLI's version (for `/status` and `check`).
    fn version_argv(&self, host: Option<&HostAgentConfig>) -> Vec<String> {
        vec![self.command(host).to_owned(), "--version".to_owned()]
    }

    /// Parses one output line into events; lines it does not know give nothing.
    fn parse_line(&self, line: &[u8]) -> Vec<AgentEvent>;

    /// How a run ended, from its final report (if it printed one), its exit status (`None`: it
    /// vanished), the tail of its stderr and the command that ran.
    fn classify(
        &self,
        result: Option<&AgentResult>,
        exit: Option<i64>,
        stderr: &str,
        command: &str,
    ) -> Outcome;

    /// The configured permission mode, and what it lets this agent do unasked (for `check`).
    fn permissions(&self) -> (PermissionMode, &'static str);

    /// The models a session may choose (`agents.NAME.models`); empty: any.
    fn models(&self) -> &[String];

    /// The model used when a session chose none (`agents.NAME.model`).
    fn default_model(&self) -> Option<&str>;
}

/// Every agent, configured. All of them exist whether or not a host has their CLI: a turn on a
/// host without it ends with "not installed", the way a missing `claude` always has.
#[derive(Debug)]
pub struct Agents {
    claude: claude::Claude,
    codex: codex::Codex,
    opencode: opencode::OpenCode,
}

impl Agents {
    pub fn new(config: &AgentsConfig) -> Agents {
        Agents {
            claude: claude::Claude::new(config.claude.clone()),
            codex: codex::Codex::new(config.codex.clone()),
            opencode: opencode::OpenCode::new(config.opencode.clone()),
        }
    }

    /// The adapter of `kind` (every kind has one: a new kind does not compile without it).
    pub fn get(&self, kind: AgentKind) -> &dyn Agent {
        match kind {
            AgentKind::Claude => &self.claude,
            AgentKind::Codex => &self.codex,
            AgentKind::OpenCode => &self.opencode,
        }
    }
}

/// The command line and environment that print the agent's version on a host: how `/status`,
/// `check` and `hosts` probe whether the agent is installed there.
pub fn version_probe(agent: &dyn Agent, host: Option<&HostAgentConfig>) -> Invocation {
    Invocation {
        argv: agent.version_argv(host),
        env: agent
            .invocation(&TurnArgs {
                host,
                ..TurnArgs::default()
            })
            .env,
    }
}

/// A model a session asked for, checked against the agent's list: the error names the choices.
pub fn check_model(agent: &dyn Agent, model: &str) -> Result<(), String> {
    let models = agent.models();
    if models.is_empty() || models.iter().any(|m| m == model) {
        Ok(())
    } else {
        Err(format!(
            "{model:?} is not one of {}'s models: {}",
            agent.kind(),
            models.join(", ")
        ))
    }
}

/// The environment of a turn: the agent's configured variables, then the host's, then the
/// project's, each over the one before.
pub fn merged_env(agent: &BTreeMap<String, String>, turn: &TurnArgs<'_>) -> Vec<(String, String)> {
    let mut env = agent.clone();
    if let Some(host) = turn.host {
        env.extend(host.env.clone());
    }
    if let Some(project) = turn.env {
        env.extend(project.clone());
    }
    env.into_iter().collect()
}

/// How a run that printed no final report ended, as far as any CLI's exit tells: its command
/// missing on the host, or a crash with the tail of its stderr.
pub fn without_report(exit_code: Option<i64>, stderr: &str, command: &str) -> Outcome {
    let not_found = stderr.contains("not found") || stderr.contains("No such file");
    if exit_code == Some(127) || (exit_code == Some(126) && not_found) {
        return Outcome::AgentNotInstalled {
            command: command.to_owned(),
        };
    }
    Outcome::Crashed {
        exit_code,
        stderr_tail: tail(stderr, 5),
    }
}

/// The last `lines` non-blank lines of a text.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Prices a final report that carries tokens but no cost, when the agent's prices are configured.
pub fn priced(mut events: Vec<AgentEvent>, prices: Option<&TokenPrices>) -> Vec<AgentEvent> {
    let Some(prices) = prices else {
        return events;
    };
    for event in &mut events {
        if let AgentEvent::Finished(result) = event
            && result.total_cost_usd.is_none()
            && result.run_cost_usd.is_none()
        {
            result.run_cost_usd = Some(prices.cost(result.input_tokens, result.output_tokens));
        }
    }
    events
}
