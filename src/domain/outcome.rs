//! How a turn ended, in terms a user cares about.
//!
//! Produced by the agent adapter's classifier (from the result line, exit code and stderr) or by
//! the turn driver (launch failures, cancellation, timeout), stored with the turn as JSON, and
//! turned into one message by the replies module.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The agent answered.
    Success { text: String },
    /// The model API failed after the agent's retries; `message` is the agent's own text.
    ApiError {
        message: String,
        status: Option<i64>,
    },
    /// `--max-turns` was reached.
    MaxTurns,
    /// `--resume` named a conversation the host no longer has: the context is lost.
    SessionNotFound { agent_session_id: String },
    /// Stopped by `/stop`.
    Cancelled,
    /// Ran longer than the turn timeout and was stopped.
    TimedOut { after_secs: u64 },
    /// The agent command is not on the host.
    AgentNotInstalled { command: String },
    /// The host could not be reached to start the turn.
    HostUnreachable { reason: String },
    /// The host presented a key that is not the pinned one.
    HostKeyMismatch { presented: String },
    /// Starting the turn on the host failed for another reason.
    LaunchFailed { reason: String },
    /// The agent reported an error other than the ones above.
    AgentError { message: String },
    /// The agent ended without a result line.
    Crashed {
        exit_code: Option<i64>,
        stderr_tail: String,
    },
    /// The agent ended without a result Switchboard could read, after writing an output line
    /// longer than it reads (the answer may have been that line).
    OutputTooLong { line_bytes: u64, limit_bytes: u64 },
    /// A spending limit was reached before the turn started: nothing ran.
    OverBudget {
        budget: Budget,
        spent_usd: f64,
        limit_usd: f64,
    },
}

/// Which spending limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// One person's spending today (UTC).
    UserDaily,
    /// One session's cost.
    Session,
}

impl Outcome {
    /// A short stable name for listings and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Success { .. } => "success",
            Outcome::ApiError { .. } => "api_error",
            Outcome::MaxTurns => "max_turns",
            Outcome::SessionNotFound { .. } => "session_not_found",
            Outcome::Cancelled => "cancelled",
            Outcome::TimedOut { .. } => "timed_out",
            Outcome::AgentNotInstalled { .. } => "agent_not_installed",
            Outcome::HostUnreachable { .. } => "host_unreachable",
            Outcome::HostKeyMismatch { .. } => "host_key_mismatch",
            Outcome::LaunchFailed { .. } => "launch_failed",
            Outcome::AgentError { .. } => "agent_error",
            Outcome::Crashed { .. } => "crashed",
            Outcome::OutputTooLong { .. } => "output_too_long",
            Outcome::OverBudget { .. } => "over_budget",
        }
    }
}
