//! Where the real coding-agent CLIs live for the tests that drive them.
//!
//! `scripts/test-setup.sh` installs the pinned versions (Claude Code, Codex, OpenCode) with npm into
//! one prefix every user can read. A test that needs one gets its path from here, and a missing
//! binary is a panic that says how to install it: a real-CLI test never skips silently, because a
//! skipped test proves nothing while looking green.

use std::path::PathBuf;

/// The npm prefix `scripts/test-setup.sh` installs the agent CLIs into.
pub const PREFIX: &str = "/opt/switchboard-agent-clis";

/// One of the real agent CLIs the test setup installs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentCli {
    /// `claude` from `@anthropic-ai/claude-code` (speaks Anthropic Messages).
    Claude,
    /// `codex` from `@openai/codex` (speaks OpenAI Responses).
    Codex,
    /// `opencode` from `opencode-ai` (speaks OpenAI Chat Completions with an openai-compatible provider).
    OpenCode,
}

impl AgentCli {
    /// The command's name in `node_modules/.bin`.
    pub fn command(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::OpenCode => "opencode",
        }
    }

    /// The executable; panics naming the fix when the test setup has not installed it.
    pub fn path(self) -> PathBuf {
        let path = PathBuf::from(PREFIX)
            .join("node_modules/.bin")
            .join(self.command());
        assert!(
            path.exists(),
            "{} is missing: run scripts/test-setup.sh (as root) to install the pinned agent CLIs into {PREFIX}",
            path.display()
        );
        path
    }
}
