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
    /// One model request's usage, from an agent that reports it per request rather than in its
    /// final report (OpenCode's steps): the turn driver adds them up ([`StepUsage`]).
    Usage {
        cost_usd: Option<f64>,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
    },
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

/// The [`AgentEvent::Usage`] of one run, added up: what an agent that reports usage per model
/// request spent in all, to complete a final report that carries no figures of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepUsage {
    /// Model requests counted.
    pub steps: i64,
    pub cost_usd: Option<f64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
}

impl StepUsage {
    /// Counts one event (events other than [`AgentEvent::Usage`] change nothing).
    pub fn add(&mut self, event: &AgentEvent) {
        if let AgentEvent::Usage {
            cost_usd,
            input_tokens,
            output_tokens,
        } = event
        {
            self.steps += 1;
            self.cost_usd = sum(self.cost_usd, *cost_usd);
            self.input_tokens = sum(self.input_tokens, *input_tokens);
            self.output_tokens = sum(self.output_tokens, *output_tokens);
        }
    }

    /// Fills in the figures a final report leaves out; a report's own figures stand.
    pub fn complete(&self, result: &mut AgentResult) {
        if self.steps == 0 {
            return;
        }
        if result.total_cost_usd.is_none() {
            result.run_cost_usd = result.run_cost_usd.or(self.cost_usd);
        }
        result.num_turns = result.num_turns.or(Some(self.steps));
        result.input_tokens = result.input_tokens.or(self.input_tokens);
        result.output_tokens = result.output_tokens.or(self.output_tokens);
    }
}

fn sum<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(cost: Option<f64>, input: i64, output: i64) -> AgentEvent {
        AgentEvent::Usage {
            cost_usd: cost,
            input_tokens: Some(input),
            output_tokens: Some(output),
        }
    }

    /// Per-request figures add up into a report that has none; a report's own stay.
    #[test]
    fn step_usage_completes_a_report_without_figures() {
        let mut total = StepUsage::default();
        let mut bare = AgentResult::default();
        total.complete(&mut bare);
        assert_eq!(bare, AgentResult::default(), "no steps: nothing to add");

        total.add(&usage(Some(0.25), 10, 5));
        total.add(&AgentEvent::Text { text: "x".into() });
        total.add(&usage(None, 20, 7));
        total.complete(&mut bare);
        assert_eq!(bare.run_cost_usd, Some(0.25));
        assert_eq!(bare.num_turns, Some(2));
        assert_eq!(
            (bare.input_tokens, bare.output_tokens),
            (Some(30), Some(12))
        );

        let mut claude = AgentResult {
            total_cost_usd: Some(1.0),
            input_tokens: Some(3),
            ..AgentResult::default()
        };
        total.complete(&mut claude);
        assert_eq!(
            claude.run_cost_usd, None,
            "a cumulative figure is booked instead"
        );
        assert_eq!(claude.input_tokens, Some(3));
    }

    /// Reports stored before `run_cost_usd` existed still read.
    #[test]
    fn older_stored_reports_still_read() {
        let old = r#"{"kind":"finished","is_error":false,"subtype":"success","text":"hi",
            "agent_session_id":null,"total_cost_usd":0.5,"num_turns":1,"terminal_reason":null,
            "api_error_status":null,"errors":[],"permission_denials":0,"input_tokens":1,
            "output_tokens":2}"#;
        let event: AgentEvent = serde_json::from_str(old).unwrap();
        assert!(matches!(event, AgentEvent::Finished(r) if r.run_cost_usd.is_none()));
    }
}
