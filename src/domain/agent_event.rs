//! What an agent reports while it works, independent of which agent it is.
//!
//! Adapters (src/agents/) parse their CLI's output lines into these; the turn driver stores them
//! as the turn's events and shows the latest activity in the progress message.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The run started; `agent_session_id` is the conversation to `--resume` next time.
    Started {
        agent_session_id: String,
        model: Option<String>,
        version: Option<String>,
    },
    /// Text the agent wrote (intermediate or final).
    Text { text: String },
    /// The agent called a tool; `summary` is a short argument summary (a command, a path).
    ToolUse {
        id: String,
        name: String,
        summary: String,
    },
    /// A tool call finished.
    ToolResult { id: String, is_error: bool },
    /// The agent is retrying the model API.
    ApiRetry {
        attempt: i64,
        max_retries: i64,
        status: Option<i64>,
    },
    /// The agent was not allowed to use a tool.
    PermissionDenied { tool: String },
    /// An output line longer than Switchboard reads was skipped (not the agent's own report:
    /// the reader's, kept with the turn's events so a restart knows it too).
    LineTooLong { bytes: u64 },
    /// The run's final report.
    Finished(AgentResult),
}

/// The agent's final report (Claude's `result` line).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentResult {
    pub is_error: bool,
    pub subtype: String,
    pub text: Option<String>,
    pub agent_session_id: Option<String>,
    /// Cumulative over the agent session (Claude reports it that way).
    pub total_cost_usd: Option<f64>,
    /// This run's own cost, for agents that report (or are priced) per run rather than
    /// cumulatively; used when `total_cost_usd` is `None`.
    #[serde(default)]
    pub run_cost_usd: Option<f64>,
    pub num_turns: Option<i64>,
    pub terminal_reason: Option<String>,
    pub api_error_status: Option<i64>,
    pub errors: Vec<String>,
    pub permission_denials: usize,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
}
