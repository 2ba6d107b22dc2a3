//! The live picture of a running turn: recent tool calls, notes (API retries, connection
//! trouble), and when the progress message was last refreshed.
//!
//! Refreshes are throttled here (at most one per `progress_interval`) and coalesced again by the
//! outbox (only the latest edit of a message is delivered), so a chatty agent never floods a chat.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::agent_event::AgentEvent;
use super::replies;

/// Tool calls shown in the progress message.
const RECENT_LINES: usize = 4;

#[derive(Debug)]
pub(super) struct Progress {
    recent: VecDeque<String>,
    note: Option<String>,
    pub tool_calls: usize,
    last_sent: Option<Instant>,
    last_text: Option<String>,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            recent: VecDeque::new(),
            note: None,
            tool_calls: 0,
            last_sent: None,
            last_text: None,
        }
    }

    /// Takes an agent event into account.
    pub fn observe(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::ToolUse { name, summary, .. } => {
                self.push(replies::tool_activity(name, summary));
                self.tool_calls += 1;
                self.note = None;
            }
            AgentEvent::PermissionDenied { tool } => {
                self.push(format!("🚫 {} denied", replies::tool_activity(tool, "")));
            }
            AgentEvent::ApiRetry {
                attempt,
                max_retries,
                status,
            } => self.set_note(Some(replies::api_retry_note(
                *attempt,
                *max_retries,
                *status,
            ))),
            AgentEvent::LineTooLong { bytes } => self.push(replies::line_too_long_activity(*bytes)),
            AgentEvent::Text { .. } => self.set_note(None),
            AgentEvent::Started { .. }
            | AgentEvent::ToolResult { .. }
            | AgentEvent::Finished(_) => {}
        }
    }

    fn push(&mut self, line: String) {
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// Sets or clears the note under the activity lines.
    pub fn set_note(&mut self, note: Option<String>) {
        self.note = note;
    }

    /// The latest activity line (stored with the turn for `/status`).
    pub fn activity(&self) -> Option<&str> {
        self.recent.back().map(String::as_str)
    }

    /// The progress text if a refresh is due: the last one is at least `interval` old (the
    /// elapsed time in it changes even when nothing else does) and the text differs.
    pub fn due(&mut self, interval: Duration, elapsed: Duration, host: &str) -> Option<String> {
        let now = Instant::now();
        if let Some(last) = self.last_sent
            && now.duration_since(last) < interval
        {
            return None;
        }
        let lines: Vec<String> = self.recent.iter().cloned().collect();
        let text = replies::progress(elapsed, host, &lines, self.note.as_deref());
        if self.last_text.as_ref() == Some(&text) {
            return None;
        }
        self.last_sent = Some(now);
        self.last_text = Some(text.clone());
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str) -> AgentEvent {
        AgentEvent::ToolUse {
            id: "t".into(),
            name: name.into(),
            summary: "x".into(),
        }
    }

    #[test]
    fn keeps_the_latest_tool_calls_and_throttles_refreshes() {
        let mut p = Progress::new();
        for name in ["A", "B", "C", "D", "E"] {
            p.observe(&tool(name));
        }
        assert_eq!(p.tool_calls, 5);
        assert_eq!(p.activity(), Some("`E` x"));
        let text = p
            .due(Duration::from_secs(60), Duration::from_secs(5), "h")
            .unwrap();
        assert!(!text.contains("`A`") && text.contains("`B`") && text.contains("`E`"));
        p.observe(&tool("F"));
        assert!(
            p.due(Duration::from_secs(60), Duration::from_secs(6), "h")
                .is_none()
        );
        assert!(p.due(Duration::ZERO, Duration::from_secs(6), "h").is_some());
    }
}
