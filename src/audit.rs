//! The audit trail as people read it: `switchboard audit` prints or exports every finished turn
//! — who asked, where, on which host with which agent and model, the prompt, each tool call, the
//! files changed, cost, duration, outcome — and every recorded decision (refusals, rejected
//! webhook signatures), in time order.
//!
//! Everything comes from what the bot already stores for its own work (turns, their agent
//! events, the audit table), so the trail cannot drift from what happened.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::domain::agent_event::AgentEvent;
use crate::domain::ids::SessionId;
use crate::store::{SessionRow, Store, TurnRow};

/// One line of the trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditEntry {
    Turn(Box<TurnRecord>),
    /// A refusal, a rejected signature, another decision.
    Decision {
        at: String,
        platform: String,
        actor: String,
        chat: String,
        action: String,
        detail: String,
        /// How many events the line stands for (a flood of refusals is counted on one line).
        times: i64,
    },
}

/// A finished turn, whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnRecord {
    pub turn: String,
    /// When it finished (RFC 3339, UTC).
    pub at: String,
    pub platform: String,
    pub user_id: String,
    pub user_name: String,
    /// The thread (`chat` or `chat/topic`).
    pub thread: String,
    pub session: String,
    pub host: String,
    pub agent: String,
    pub model: Option<String>,
    pub prompt: String,
    pub tool_calls: Vec<ToolCall>,
    pub files_changed: Vec<String>,
    pub cost_usd: Option<f64>,
    pub duration_ms: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCall {
    pub name: String,
    pub summary: String,
}

impl AuditEntry {
    fn at(&self) -> &str {
        match self {
            AuditEntry::Turn(t) => &t.at,
            AuditEntry::Decision { at, .. } => at,
        }
    }
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time, as Unix milliseconds.
pub fn parse_since(text: &str) -> Result<i64> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let at = humantime::parse_rfc3339_weak(full.trim_end_matches('Z'))
        .with_context(|| format!("--since {text:?}: expected YYYY-MM-DD or an RFC 3339 time"))?;
    let ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .context("--since is before 1970")?
        .as_millis();
    i64::try_from(ms).or_else(|_| bail!("--since {text:?} is too far away"))
}

fn rfc3339(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

/// The trail from `since_ms` on, oldest first; only `user`'s (a platform user id) when given.
pub async fn collect(store: &Store, since_ms: i64, user: Option<&str>) -> Result<Vec<AuditEntry>> {
    let mut sessions: HashMap<SessionId, SessionRow> = HashMap::new();
    let mut entries = Vec::new();
    for turn in store.finished_turns_since(since_ms, user).await? {
        if !sessions.contains_key(&turn.session_id) {
            let session = store
                .session(&turn.session_id)
                .await?
                .context("a turn without its session")?;
            sessions.insert(turn.session_id.clone(), session);
        }
        let session = &sessions[&turn.session_id];
        let events = store.turn_events(&turn.id).await?;
        entries.push(AuditEntry::Turn(Box::new(turn_record(
            &turn,
            session,
            events.iter().map(|e| &e.event),
        ))));
    }
    for row in store.audit_since(since_ms, user).await? {
        entries.push(AuditEntry::Decision {
            at: rfc3339(row.at),
            platform: row.platform,
            actor: row.actor,
            chat: row.chat,
            action: row.action,
            detail: row.detail,
            times: row.times,
        });
    }
    // RFC 3339 in UTC with fixed precision sorts as text.
    entries.sort_by(|a, b| a.at().cmp(b.at()));
    Ok(entries)
}

fn turn_record<'a>(
    turn: &TurnRow,
    session: &SessionRow,
    events: impl Iterator<Item = &'a AgentEvent>,
) -> TurnRecord {
    let mut model = None;
    let mut tool_calls = Vec::new();
    for event in events {
        match event {
            AgentEvent::Started { model: m, .. } if m.is_some() => model = m.clone(),
            AgentEvent::ToolUse { name, summary, .. } => tool_calls.push(ToolCall {
                name: name.clone(),
                summary: summary.clone(),
            }),
            _ => {}
        }
    }
    TurnRecord {
        turn: turn.id.to_string(),
        at: rfc3339(turn.finished_at.unwrap_or(turn.created_at)),
        platform: session.thread.platform.to_string(),
        user_id: turn.author_id.clone(),
        user_name: turn.author_name.clone(),
        thread: session.thread.key(),
        session: session.id.to_string(),
        host: turn.host.clone(),
        // The agent the turn ran (its session may have switched since); the model it reported,
        // else the one it was asked for.
        agent: turn
            .agent
            .as_ref()
            .map_or(session.agent, |choice| choice.agent)
            .to_string(),
        model: model.or_else(|| turn.agent.as_ref().and_then(|c| c.model.clone())),
        prompt: turn.prompt.clone(),
        tool_calls,
        files_changed: turn
            .changes
            .as_ref()
            .map(|c| c.paths.clone())
            .unwrap_or_default(),
        cost_usd: turn.cost_usd,
        duration_ms: turn.duration_ms,
        input_tokens: turn.input_tokens,
        output_tokens: turn.output_tokens,
        outcome: turn
            .outcome
            .as_ref()
            .map_or("unknown", |o| o.name())
            .to_owned(),
    }
}

/// What the trail was asked for (`--since`, `--user`), to say so when nothing matched.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    pub since: Option<&'a str>,
    pub user: Option<&'a str>,
}

impl Asked<'_> {
    /// The line that stands for an empty trail.
    fn nothing(&self) -> String {
        match (self.since, self.user) {
            (None, None) => "nothing recorded yet".to_owned(),
            (Some(since), None) => format!("nothing recorded since {since}"),
            (None, Some(user)) => format!("nothing recorded for user {user}"),
            (Some(since), Some(user)) => format!("nothing recorded for user {user} since {since}"),
        }
    }
}

/// The trail for a terminal: one block per turn, one line per decision.
pub fn render_text(entries: &[AuditEntry], asked: &Asked<'_>) -> String {
    let mut out = String::new();
    for entry in entries {
        match entry {
            AuditEntry::Turn(t) => {
                out.push_str(&format!(
                    "{} turn {} {} by {} ({}) in {} on {} with {}{}: {}",
                    t.at,
                    t.turn,
                    t.platform,
                    t.user_name,
                    t.user_id,
                    t.thread,
                    t.host,
                    t.agent,
                    t.model
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default(),
                    t.outcome,
                ));
                if let Some(cost) = t.cost_usd {
                    out.push_str(&format!(", {}", crate::core::replies::cost(cost)));
                }
                if let Some(ms) = t.duration_ms {
                    out.push_str(&format!(", {ms} ms"));
                }
                out.push('\n');
                for line in t.prompt.lines() {
                    out.push_str(&format!("  > {line}\n"));
                }
                for call in &t.tool_calls {
                    out.push_str(&format!("  tool {}: {}\n", call.name, call.summary));
                }
                if !t.files_changed.is_empty() {
                    out.push_str(&format!("  changed {}\n", t.files_changed.join(", ")));
                }
            }
            AuditEntry::Decision {
                at,
                platform,
                actor,
                chat,
                action,
                detail,
                times,
            } => {
                out.push_str(&format!(
                    "{at} {action} {platform} {actor} in {chat}: {detail}"
                ));
                if *times > 1 {
                    out.push_str(&format!(" ({times} times)"));
                }
                out.push('\n');
            }
        }
    }
    if out.is_empty() {
        out.push_str(&asked.nothing());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_day_or_a_time() {
        assert_eq!(parse_since("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(parse_since("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("2026-13-01").is_err());
    }

    #[test]
    fn an_empty_trail_says_what_was_asked_for() {
        let text = |since, user| render_text(&[], &Asked { since, user });
        assert_eq!(text(None, None), "nothing recorded yet\n");
        assert_eq!(
            text(Some("2026-01-02"), None),
            "nothing recorded since 2026-01-02\n"
        );
        assert_eq!(text(None, Some("42")), "nothing recorded for user 42\n");
        assert_eq!(
            text(Some("2026-01-02"), Some("42")),
            "nothing recorded for user 42 since 2026-01-02\n"
        );
    }

    #[test]
    fn times_sort_as_text() {
        let (a, b) = (rfc3339(999), rfc3339(86_400_000));
        assert_eq!(a, "1970-01-01T00:00:00.999Z");
        assert!(a < b);
    }
}
