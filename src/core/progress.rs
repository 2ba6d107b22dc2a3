//! The live picture of a running turn: recent tool calls, notes (API retries, connection
//! trouble), and when the progress message was last refreshed.
//!
//! Refreshes are throttled here (at most one per [`interval`], the platform's limit on edits in
//! a chat) and coalesced again by the outbox (only the latest edit of a message is delivered), so
//! a chatty agent never floods a chat. A change the throttle holds back goes out as soon as the
//! interval since the last refresh has passed ([`Progress::next_check`]), not an interval after
//! the last event: a refresh waits at most one interval.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::Core;
use super::replies;
use crate::domain::agent_event::AgentEvent;
use crate::domain::thread::Platform;

/// Tool calls shown in the progress message.
const RECENT_LINES: usize = 4;

/// How often a turn with nothing new refreshes its message, for the clock in it: each refresh
/// is a write and a platform call, and a busy bot has many quiet turns.
const QUIET_REFRESH: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(super) struct Progress {
    recent: VecDeque<String>,
    note: Option<String>,
    pub tool_calls: usize,
    last_sent: Option<Instant>,
    last_text: Option<String>,
    /// The last refresh's text without its clock: what the turn was doing.
    last_activity: Option<String>,
    /// When the text was last looked at without the throttle holding it back (and sent if it
    /// had changed).
    last_look: Option<Instant>,
}

/// How often a turn's progress may be refreshed on `platform`: `defaults.progress_interval`,
/// else the platform's own limit.
pub(super) fn interval(core: &Core, platform: Platform) -> Duration {
    core.defaults.progress_interval.unwrap_or_else(|| {
        core.policy(platform)
            .map_or(Duration::from_secs(1), |f| f.progress_interval())
    })
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            recent: VecDeque::new(),
            note: None,
            tool_calls: 0,
            last_sent: None,
            last_text: None,
            last_activity: None,
            last_look: None,
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
            | AgentEvent::Usage { .. }
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

    /// The progress text if a refresh is due: the last one is at least `interval` old, and the
    /// turn did something new since, or (for the clock in the text) [`QUIET_REFRESH`] passed.
    pub fn due(&mut self, interval: Duration, elapsed: Duration, host: &str) -> Option<String> {
        let now = Instant::now();
        if let Some(last) = self.last_sent
            && now.duration_since(last) < interval
        {
            return None;
        }
        self.last_look = Some(now);
        let lines: Vec<String> = self.recent.iter().cloned().collect();
        let note = self.note.as_deref();
        let activity = replies::progress(Duration::ZERO, host, &lines, note);
        let news = self.last_activity.as_ref() != Some(&activity);
        let clock_due = self
            .last_sent
            .is_none_or(|last| now.duration_since(last) >= QUIET_REFRESH.max(interval));
        if !news && !clock_due {
            return None;
        }
        let text = replies::progress(elapsed, host, &lines, note);
        if self.last_text.as_ref() == Some(&text) {
            return None;
        }
        self.last_sent = Some(now);
        self.last_activity = Some(activity);
        self.last_text = Some(text.clone());
        Some(text)
    }

    /// When [`Progress::due`] should be asked next if no event comes first: `interval` after
    /// the last refresh (or the last look that found nothing new), however many events the
    /// throttle held back since — not an interval after the latest of them.
    pub fn next_check(&self, interval: Duration) -> Instant {
        self.last_look
            .map_or_else(Instant::now, |look| look + interval)
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

    /// The follower's loop with the real clock paused: events every 300 ms, and the timer it
    /// sleeps on between them.
    #[tokio::test(start_paused = true)]
    async fn a_held_back_change_goes_out_an_interval_after_the_last_refresh() {
        let interval = Duration::from_secs(1);
        let start = Instant::now();
        let mut p = Progress::new();
        let mut refreshed = Vec::new();
        let refresh = |p: &mut Progress, refreshed: &mut Vec<Duration>| {
            if p.due(interval, start.elapsed(), "h").is_some() {
                refreshed.push(start.elapsed());
            }
        };
        let events = [0, 300, 600, 900, 1200, 1500, 1800];
        for (n, at) in events.into_iter().enumerate() {
            let at = start + Duration::from_millis(at);
            // Sleep on the progress timer until the next event is due.
            while Instant::now() < at {
                tokio::time::sleep_until(p.next_check(interval).min(at)).await;
                refresh(&mut p, &mut refreshed);
            }
            p.observe(&tool(&format!("T{n}")));
            refresh(&mut p, &mut refreshed);
        }
        // The last event (at 1.8 s) waits for the refresh at 2 s, not for 1.8 s + 1 s.
        while refreshed.len() < 3 {
            tokio::time::sleep_until(p.next_check(interval)).await;
            refresh(&mut p, &mut refreshed);
        }
        assert_eq!(
            refreshed,
            [0, 1000, 2000].map(Duration::from_millis),
            "one refresh an interval"
        );
        assert!(p.last_text.as_deref().unwrap().contains("`T6`"));

        // Nothing new: only the clock moves, every few seconds.
        let quiet_from = Instant::now();
        while refreshed.len() < 4 {
            tokio::time::sleep_until(p.next_check(interval)).await;
            refresh(&mut p, &mut refreshed);
        }
        assert_eq!(quiet_from.elapsed(), QUIET_REFRESH);
    }
}
