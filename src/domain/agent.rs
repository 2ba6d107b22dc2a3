//! Which coding agent a session talks to, and the model it asks for.
//!
//! The set of agents is fixed by the adapters in `src/agents/` (one per CLI); everything above
//! them carries an [`AgentKind`] and never branches on it. Its spelling is the configuration's
//! (`[agents.NAME]`, `defaults.agent`, `/agent NAME`) and the store's (`sessions.agent`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A coding agent CLI Switchboard can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum AgentKind {
    /// Claude Code (`claude -p`).
    Claude,
    /// OpenAI's Codex CLI (`codex exec --json`).
    Codex,
    /// OpenCode (`opencode run --format json`).
    OpenCode,
}

impl AgentKind {
    /// Every agent, in the order lists show them.
    pub const ALL: [AgentKind; 3] = [AgentKind::Claude, AgentKind::Codex, AgentKind::OpenCode];

    /// As the configuration and commands spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::OpenCode => "opencode",
        }
    }

    /// The names of every agent, for error messages and help: `claude, codex, opencode`.
    pub fn names() -> String {
        AgentKind::ALL.map(AgentKind::as_str).join(", ")
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an agent's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAgent(pub String);

impl fmt::Display for UnknownAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an agent; the agents are {}",
            self.0,
            AgentKind::names()
        )
    }
}

impl std::error::Error for UnknownAgent {}

impl FromStr for AgentKind {
    type Err = UnknownAgent;

    fn from_str(name: &str) -> Result<AgentKind, UnknownAgent> {
        AgentKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UnknownAgent(name.to_owned()))
    }
}

impl From<AgentKind> for String {
    fn from(kind: AgentKind) -> String {
        kind.as_str().to_owned()
    }
}

impl TryFrom<String> for AgentKind {
    type Error = UnknownAgent;

    fn try_from(name: String) -> Result<AgentKind, UnknownAgent> {
        name.parse()
    }
}

/// What the agent may do without asking, in Claude Code's words (`--permission-mode`); the other
/// agents map each mode onto their own sandbox and approval flags. Headless, there is nobody to
/// ask, so whatever a mode leaves to approval is denied (the turn still succeeds and says what
/// was denied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// What an agent's model costs per million tokens, for agents whose CLI reports tokens but no
/// cost (Codex): budgets then count their turns too.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPrices {
    /// US dollars per million input tokens.
    pub input_per_mtok: f64,
    /// US dollars per million output tokens.
    pub output_per_mtok: f64,
}

impl TokenPrices {
    /// The cost of a run that used these many tokens (a missing figure counts as none).
    pub fn cost(&self, input_tokens: Option<i64>, output_tokens: Option<i64>) -> f64 {
        let per = |tokens: Option<i64>, price: f64| tokens.unwrap_or(0).max(0) as f64 * price;
        (per(input_tokens, self.input_per_mtok) + per(output_tokens, self.output_per_mtok))
            / 1_000_000.0
    }

    /// Whether both prices are usable figures.
    pub fn is_valid(&self) -> bool {
        [self.input_per_mtok, self.output_per_mtok]
            .iter()
            .all(|p| p.is_finite() && *p >= 0.0)
    }
}

/// What a session asks its agent for, besides the prompt: which agent, which model (`None`: the
/// agent's configured or built-in default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentChoice {
    pub agent: AgentKind,
    pub model: Option<String>,
}

/// The word `/model` takes to go back to the agent's default model (so no model is named
/// `default`).
pub const MODEL_RESET: &str = "default";

/// What `/model WORD` asks of a session's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelRequest {
    /// [`MODEL_RESET`]: the agent's configured or built-in default.
    AgentDefault,
    /// This model, by the name its agent's CLI takes.
    Named(String),
}

impl ModelRequest {
    /// Reads `/model`'s word: [`MODEL_RESET`], or a model name — ASCII letters, digits and
    /// `. _ - : / @ [ ]` (Claude's `sonnet[1m]`, OpenCode's `provider/model`), at most 100,
    /// not starting with `-` (it lands on the agent's command line after `--model`, where a
    /// leading `-` would read as an option). `None`: not a model name.
    pub fn parse(word: &str) -> Option<ModelRequest> {
        if word.eq_ignore_ascii_case(MODEL_RESET) {
            return Some(ModelRequest::AgentDefault);
        }
        let fits = !word.is_empty()
            && word.len() <= 100
            && !word.starts_with('-')
            && word.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '.' | '_' | '-' | ':' | '/' | '@' | '[' | ']')
            });
        fits.then(|| ModelRequest::Named(word.to_owned()))
    }

    /// The model a session stores for it (`None`: the agent's default).
    pub fn model(&self) -> Option<&str> {
        match self {
            ModelRequest::AgentDefault => None,
            ModelRequest::Named(name) => Some(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_unknown_names_list_the_agents_and_tokens_are_priced() {
        for kind in AgentKind::ALL {
            assert_eq!(kind.as_str().parse::<AgentKind>(), Ok(kind));
            assert_eq!(
                kind.to_string().to_uppercase().parse::<AgentKind>(),
                Ok(kind)
            );
        }
        let err = "gemini".parse::<AgentKind>().unwrap_err().to_string();
        assert_eq!(
            err,
            "\"gemini\" is not an agent; the agents are claude, codex, opencode"
        );
        let prices = TokenPrices {
            input_per_mtok: 2.0,
            output_per_mtok: 10.0,
        };
        assert_eq!(prices.cost(Some(500_000), Some(100_000)), 2.0);
        assert_eq!(prices.cost(None, Some(-5)), 0.0);
        assert!(prices.is_valid());
        assert!(
            !TokenPrices {
                input_per_mtok: -1.0,
                ..prices
            }
            .is_valid()
        );
        let json = serde_json::to_string(&AgentKind::OpenCode).unwrap();
        assert_eq!(json, "\"opencode\"");
        assert!(serde_json::from_str::<AgentKind>("\"x\"").is_err());
    }

    #[test]
    fn model_words_are_names_a_command_line_reads_as_one_value() {
        assert_eq!(
            ModelRequest::parse("Default"),
            Some(ModelRequest::AgentDefault)
        );
        for ok in [
            "sonnet",
            "claude-sonnet-4-5",
            "sonnet[1m]",
            "anthropic/claude-4",
            "gpt-5.1",
        ] {
            assert_eq!(
                ModelRequest::parse(ok),
                Some(ModelRequest::Named(ok.into())),
                "{ok}"
            );
        }
        for bad in [
            "",
            "-x",
            "--help",
            "a b",
            "a;b",
            "$(x)",
            "é",
            &"m".repeat(101),
        ] {
            assert_eq!(ModelRequest::parse(bad), None, "{bad:?}");
        }
        assert_eq!(ModelRequest::AgentDefault.model(), None);
        assert_eq!(ModelRequest::Named("o3".into()).model(), Some("o3"));
    }
}
