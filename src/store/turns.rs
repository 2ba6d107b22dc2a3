//! Turns: the per-session durable FIFO and each turn's progress through its states.
//!
//! `queued → starting → running → done`, or `queued → dropped` (`/stop all`). A session's queue
//! is its `queued` turns in id order (ids are time-ordered). `starting` is written *before* the
//! turn is launched on the host, with the path of its files, so a bot that dies mid-launch finds
//! the turn again and relaunches it idempotently instead of losing or doubling it.
//! `read_offset` is how far the agent's output file has been consumed; it moves in the same
//! transaction as the events read, so a restart resumes exactly where it stopped.

use anyhow::{Context, Result};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{Store, bool_col, col};
use crate::domain::agent::AgentChoice;
use crate::domain::agent_event::AgentEvent;
use crate::domain::changes::{Baseline, ChangeStats};
use crate::domain::ids::{InboundId, SessionId, TurnId, now_ms};
use crate::domain::outcome::Outcome;
use crate::domain::review::ReviewPlan;
use crate::domain::thread::Platform;
use crate::domain::turn::TurnState;
use crate::domain::workspace::Workspace;

#[derive(Debug, Clone, PartialEq)]
pub struct TurnRow {
    pub id: TurnId,
    pub session_id: SessionId,
    pub prompt: String,
    pub author_id: String,
    pub author_name: String,
    pub reply_to: Option<String>,
    pub state: TurnState,
    pub host: String,
    pub remote_files: Option<String>,
    pub read_offset: i64,
    pub cancel_reason: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub outcome: Option<Outcome>,
    pub cost_usd: Option<f64>,
    pub duration_ms: Option<i64>,
    pub num_turns: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub activity: Option<String>,
    /// Where the turn works, when it has a workspace of its own.
    pub workspace: Option<Workspace>,
    /// The commit its Git checkout was at when the agent started.
    pub workspace_head: Option<String>,
    /// What the policy wants back when presenting the turn's end: a dependency review's
    /// findings, written by its review phase.
    pub memo: Option<serde_json::Value>,
    /// A dependency review's plan: the turn runs its review phase before the agent.
    pub review: Option<ReviewPlan>,
    /// No status message: progress is not shown.
    pub quiet: bool,
    /// The workspace when the agent started, to measure the turn's changes against.
    pub changes_base: Option<Baseline>,
    /// What the turn changed, in figures.
    pub changes: Option<ChangeStats>,
    /// The agent and model it was started with (recorded when it starts; `None` for turns not
    /// started yet, and for turns from before agents could be chosen: those ran Claude).
    pub agent: Option<AgentChoice>,
}

/// A session's turns so far, in figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionTotals {
    /// Finished turns.
    pub turns: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

/// One stored agent event of a turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnEventRow {
    /// The byte offset of the output line it came from, and its place within that line:
    /// together unique and ordered within the turn.
    pub seq: i64,
    pub idx: i64,
    pub at: i64,
    pub event: AgentEvent,
}

/// What a new turn needs.
#[derive(Debug, Clone)]
pub struct NewTurn<'a> {
    pub id: &'a TurnId,
    pub session_id: &'a SessionId,
    pub inbound_id: Option<&'a InboundId>,
    pub prompt: &'a str,
    pub author_id: &'a str,
    pub author_name: &'a str,
    pub reply_to: Option<&'a str>,
    pub host: &'a str,
    pub workspace: Option<&'a Workspace>,
    pub review: Option<&'a ReviewPlan>,
    pub quiet: bool,
}

/// Final figures of a finished turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnStats {
    pub cost_usd: Option<f64>,
    pub duration_ms: Option<i64>,
    pub num_turns: Option<i64>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
}

const COLUMNS: &str = "id, session_id, prompt, author_id, author_name, reply_to, state, host, \
    remote_files, read_offset, cancel_reason, created_at, started_at, finished_at, outcome, \
    cost_usd, duration_ms, num_turns, input_tokens, output_tokens, activity, workspace, \
    workspace_head, memo, review, quiet, changes_base, changes, agent, model";

fn turn_from_row(row: &AnyRow) -> Result<TurnRow> {
    let state: String = col(row, "state")?;
    let outcome: Option<String> = col(row, "outcome")?;
    let workspace: Option<String> = col(row, "workspace")?;
    let memo: Option<String> = col(row, "memo")?;
    let review: Option<String> = col(row, "review")?;
    let changes_base: Option<String> = col(row, "changes_base")?;
    let changes: Option<String> = col(row, "changes")?;
    Ok(TurnRow {
        id: TurnId::from_string(col(row, "id")?),
        session_id: SessionId::from_string(col(row, "session_id")?),
        prompt: col(row, "prompt")?,
        author_id: col(row, "author_id")?,
        author_name: col(row, "author_name")?,
        reply_to: col(row, "reply_to")?,
        state: TurnState::parse(&state)?,
        host: col(row, "host")?,
        remote_files: col(row, "remote_files")?,
        read_offset: col(row, "read_offset")?,
        cancel_reason: col(row, "cancel_reason")?,
        created_at: col(row, "created_at")?,
        started_at: col(row, "started_at")?,
        finished_at: col(row, "finished_at")?,
        outcome: outcome
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .context("unreadable outcome")?,
        cost_usd: col(row, "cost_usd")?,
        duration_ms: col(row, "duration_ms")?,
        num_turns: col(row, "num_turns")?,
        input_tokens: col(row, "input_tokens")?,
        output_tokens: col(row, "output_tokens")?,
        activity: col(row, "activity")?,
        workspace: workspace
            .map(|w| serde_json::from_str(&w))
            .transpose()
            .context("unreadable workspace")?,
        workspace_head: col(row, "workspace_head")?,
        memo: memo
            .map(|m| serde_json::from_str(&m))
            .transpose()
            .context("unreadable memo")?,
        review: review
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .context("unreadable review plan")?,
        quiet: bool_col(row, "quiet")?,
        changes_base: changes_base
            .map(|b| serde_json::from_str(&b))
            .transpose()
            .context("unreadable changes base")?,
        changes: changes
            .map(|c| serde_json::from_str(&c))
            .transpose()
            .context("unreadable changes")?,
        agent: col::<Option<String>>(row, "agent")?
            .map(|agent| -> Result<AgentChoice> {
                Ok(AgentChoice {
                    agent: agent.parse()?,
                    model: col(row, "model")?,
                })
            })
            .transpose()
            .context("unreadable turn agent")?,
    })
}

impl Store {
    pub async fn turn(&self, id: &TurnId) -> Result<Option<TurnRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM turns WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(turn_from_row).transpose()
    }

    /// The turn a session worker should work on next: an unfinished started turn (reattach)
    /// before the oldest queued one.
    pub async fn next_turn(&self, session: &SessionId) -> Result<Option<TurnRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM turns WHERE session_id = $1 \
             AND state IN ('queued', 'starting', 'running') \
             ORDER BY CASE WHEN state = 'queued' THEN 1 ELSE 0 END, id LIMIT 1"
        )))
        .bind(session.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(turn_from_row).transpose()
    }

    /// The session's started, unfinished turn.
    pub async fn running_turn(&self, session: &SessionId) -> Result<Option<TurnRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM turns WHERE session_id = $1 \
             AND state IN ('starting', 'running') ORDER BY id LIMIT 1"
        )))
        .bind(session.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(turn_from_row).transpose()
    }

    /// The session's most recent finished turn.
    pub async fn last_finished_turn(&self, session: &SessionId) -> Result<Option<TurnRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM turns WHERE session_id = $1 AND state = 'done' \
             ORDER BY id DESC LIMIT 1"
        )))
        .bind(session.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(turn_from_row).transpose()
    }

    /// What one person's turns finished since `since_ms` cost, over all their sessions on a
    /// platform.
    pub async fn user_spend_since(
        &self,
        platform: Platform,
        author_id: &str,
        since_ms: i64,
    ) -> Result<f64> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(t.cost_usd), 0.0) AS spent FROM turns t \
             JOIN sessions s ON s.id = t.session_id \
             WHERE s.platform = $1 AND t.author_id = $2 AND t.finished_at >= $3",
        )
        .bind(platform.as_str())
        .bind(author_id)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        col(&row, "spent")
    }

    /// How many turns of a session finished, and the tokens they used.
    pub async fn session_totals(&self, session: &SessionId) -> Result<SessionTotals> {
        let row = sqlx::query(
            // Postgres sums BIGINTs as NUMERIC, which the Any driver cannot read.
            "SELECT COUNT(*) AS turns, \
             CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens, \
             CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens \
             FROM turns WHERE session_id = $1 AND state = 'done'",
        )
        .bind(session.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(SessionTotals {
            turns: col(&row, "turns")?,
            input_tokens: col(&row, "input_tokens")?,
            output_tokens: col(&row, "output_tokens")?,
        })
    }

    /// Turns that finished from `since_ms` on, oldest first; only `author`'s when given.
    pub async fn finished_turns_since(
        &self,
        since_ms: i64,
        author: Option<&str>,
    ) -> Result<Vec<TurnRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM turns WHERE state = 'done' AND finished_at >= $1 \
             AND ($2 = '' OR author_id = $2) ORDER BY finished_at, id"
        )))
        .bind(since_ms)
        .bind(author.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(turn_from_row).collect()
    }

    /// A session's turns, oldest first.
    pub async fn session_turns(&self, session: &SessionId) -> Result<Vec<TurnRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM turns WHERE session_id = $1 ORDER BY id"
        )))
        .bind(session.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(turn_from_row).collect()
    }

    /// Sessions that have queued or unfinished turns: the workers to start after a restart.
    pub async fn sessions_with_work(&self) -> Result<Vec<SessionId>> {
        let rows = sqlx::query(
            "SELECT DISTINCT session_id FROM turns \
             WHERE state IN ('queued', 'starting', 'running') ORDER BY session_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(SessionId::from_string(col(row, "session_id")?)))
            .collect()
    }

    /// How many turns are under way (started, not finished) on each host.
    pub async fn started_turns_by_host(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT host, COUNT(*) AS started FROM turns \
             WHERE state IN ('starting', 'running') GROUP BY host ORDER BY host",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((col(row, "host")?, col(row, "started")?)))
            .collect()
    }

    /// Number of queued turns in a session.
    pub async fn queued_count(&self, session: &SessionId) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        let (_, queued) = queue_counts(&mut conn, session).await?;
        Ok(queued)
    }

    pub async fn turn_events(&self, turn: &TurnId) -> Result<Vec<TurnEventRow>> {
        let rows = sqlx::query(
            "SELECT seq, idx, at, detail FROM turn_events WHERE turn_id = $1 ORDER BY seq, idx",
        )
        .bind(turn.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let detail: String = col(row, "detail")?;
                Ok(TurnEventRow {
                    seq: col(row, "seq")?,
                    idx: col(row, "idx")?,
                    at: col(row, "at")?,
                    event: serde_json::from_str(&detail).context("unreadable turn event")?,
                })
            })
            .collect()
    }

    /// Marks a queued turn `starting` with its directory on the host, before launching it.
    /// False when the turn was no longer queued (dropped meanwhile).
    /// Marks a queued turn as starting, with the agent and model it starts with: from then on
    /// the turn is launched, followed and classified by that agent even if its session switches
    /// agents meanwhile. False when the turn was no longer queued.
    pub async fn mark_turn_starting(
        &self,
        turn: &TurnId,
        remote_files: &str,
        at: i64,
        agent: &AgentChoice,
    ) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE turns SET state = 'starting', remote_files = $1, started_at = $2, \
             agent = $3, model = $4 WHERE id = $5 AND state = 'queued'",
        )
        .bind(remote_files)
        .bind(at)
        .bind(agent.agent.as_str())
        .bind(&agent.model)
        .bind(turn.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records the commit a turn's checkout was prepared at.
    /// Records the workspace as the agent found it (once: a relaunch after a restart keeps the
    /// first, taken before anything ran).
    pub async fn set_changes_base(&self, turn: &TurnId, base: &Baseline) -> Result<()> {
        sqlx::query("UPDATE turns SET changes_base = $1 WHERE id = $2 AND changes_base IS NULL")
            .bind(serde_json::to_string(base)?)
            .bind(turn.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_workspace_head(&self, turn: &TurnId, head: &str) -> Result<()> {
        sqlx::query("UPDATE turns SET workspace_head = $1 WHERE id = $2")
            .bind(head)
            .bind(turn.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A review phase's findings (the memo its presentation reads) and the agent's prompt
    /// composed from them, stored together before the agent starts.
    pub async fn set_review_findings(
        &self,
        turn: &TurnId,
        memo: &serde_json::Value,
        prompt: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE turns SET memo = $1, prompt = $2 WHERE id = $3")
            .bind(serde_json::to_string(memo)?)
            .bind(prompt)
            .bind(turn.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The agent is running on the host.
    pub async fn mark_turn_running(&self, turn: &TurnId) -> Result<()> {
        sqlx::query("UPDATE turns SET state = 'running' WHERE id = $1 AND state = 'starting'")
            .bind(turn.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores events read from the agent's output and the new read offset, atomically.
    /// Events carry the offset of their line, so a replay after a crash inserts nothing twice.
    pub async fn record_progress(
        &self,
        turn: &TurnId,
        events: &[(i64, i64, AgentEvent)],
        new_offset: i64,
        activity: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        for (seq, idx, event) in events {
            sqlx::query(
                "INSERT INTO turn_events (turn_id, seq, idx, at, kind, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (turn_id, seq, idx) DO NOTHING",
            )
            .bind(turn.as_str())
            .bind(*seq)
            .bind(*idx)
            .bind(now)
            .bind(event_kind(event))
            .bind(serde_json::to_string(event)?)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE turns SET read_offset = $1, activity = COALESCE($2, activity) WHERE id = $3",
        )
        .bind(new_offset)
        .bind(activity)
        .bind(turn.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks for a turn to be cancelled (`user` or `timeout`). Returns false if it was not
    /// running or a reason was already recorded.
    pub async fn request_cancel(&self, turn: &TurnId, reason: &str) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE turns SET cancel_reason = $1 WHERE id = $2 AND cancel_reason IS NULL \
             AND state IN ('starting', 'running')",
        )
        .bind(reason)
        .bind(turn.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

fn event_kind(event: &AgentEvent) -> &'static str {
    match event {
        AgentEvent::Started { .. } => "started",
        AgentEvent::Text { .. } => "text",
        AgentEvent::ToolUse { .. } => "tool_use",
        AgentEvent::ToolResult { .. } => "tool_result",
        AgentEvent::ApiRetry { .. } => "api_retry",
        AgentEvent::PermissionDenied { .. } => "permission_denied",
        AgentEvent::LineTooLong { .. } => "line_too_long",
        AgentEvent::Usage { .. } => "usage",
        AgentEvent::Finished(_) => "finished",
    }
}

/// Inserts a queued turn.
pub async fn insert_turn(conn: &mut AnyConnection, new: NewTurn<'_>) -> Result<()> {
    let id = new.id;
    sqlx::query(
        "INSERT INTO turns (id, session_id, inbound_id, prompt, author_id, author_name, reply_to, \
         state, host, created_at, workspace, review, quiet) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $10, $11, $12)",
    )
    .bind(id.as_str())
    .bind(new.session_id.as_str())
    .bind(new.inbound_id.map(InboundId::as_str))
    .bind(new.prompt)
    .bind(new.author_id)
    .bind(new.author_name)
    .bind(new.reply_to)
    .bind(new.host)
    .bind(now_ms())
    .bind(new.workspace.map(serde_json::to_string).transpose()?)
    .bind(new.review.map(serde_json::to_string).transpose()?)
    .bind(i64::from(new.quiet))
    .execute(conn)
    .await
    .context("inserting a turn")?;
    Ok(())
}

/// (started unfinished turns, queued turns) of a session.
/// Records what a finished turn changed, in the transaction that finishes it.
pub async fn set_changes(
    conn: &mut AnyConnection,
    turn: &TurnId,
    stats: &ChangeStats,
) -> Result<()> {
    sqlx::query("UPDATE turns SET changes = $1 WHERE id = $2")
        .bind(serde_json::to_string(stats)?)
        .bind(turn.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether a review of the dependency set `fingerprint` is queued or under way in the session.
pub async fn reviewing(
    conn: &mut AnyConnection,
    session: &SessionId,
    fingerprint: &str,
) -> Result<bool> {
    let plans: Vec<(String,)> = sqlx::query_as(
        "SELECT review FROM turns WHERE session_id = $1 AND review IS NOT NULL \
         AND state IN ('queued', 'starting', 'running')",
    )
    .bind(session.as_str())
    .fetch_all(conn)
    .await?;
    Ok(plans.iter().any(|(plan,)| {
        serde_json::from_str::<ReviewPlan>(plan).is_ok_and(|p| p.fingerprint == fingerprint)
    }))
}

pub async fn queue_counts(conn: &mut AnyConnection, session: &SessionId) -> Result<(i64, i64)> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT \
           COALESCE(SUM(CASE WHEN state IN ('starting', 'running') THEN 1 ELSE 0 END), 0) AS active, \
           COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) AS queued \
         FROM turns WHERE session_id = $1",
    )
    .bind(session.as_str())
    .fetch_one(conn)
    .await?;
    Ok((
        row.try_get::<i64, _>("active")?,
        row.try_get::<i64, _>("queued")?,
    ))
}

/// Marks a turn done at `finished_at` (Unix ms) with its outcome and figures.
pub async fn finish_turn(
    conn: &mut AnyConnection,
    turn: &TurnId,
    finished_at: i64,
    outcome: &Outcome,
    result_text: Option<&str>,
    stats: &TurnStats,
) -> Result<()> {
    sqlx::query(
        "UPDATE turns SET state = 'done', finished_at = $1, outcome = $2, result_text = $3, \
         cost_usd = $4, duration_ms = $5, num_turns = $6, input_tokens = $7, output_tokens = $8 \
         WHERE id = $9",
    )
    .bind(finished_at)
    .bind(serde_json::to_string(outcome)?)
    .bind(result_text)
    .bind(stats.cost_usd)
    .bind(stats.duration_ms)
    .bind(stats.num_turns)
    .bind(stats.input_tokens)
    .bind(stats.output_tokens)
    .bind(turn.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Books a finished turn's cost from the agent's cumulative figure; returns the turn's own cost.
pub async fn book_session_cost(
    conn: &mut AnyConnection,
    session: &SessionId,
    agent_cumulative: f64,
) -> Result<f64> {
    let row = sqlx::query("SELECT agent_cost_usd FROM sessions WHERE id = $1")
        .bind(session.as_str())
        .fetch_one(&mut *conn)
        .await?;
    let before: f64 = col(&row, "agent_cost_usd")?;
    let cost = if agent_cumulative >= before {
        agent_cumulative - before
    } else {
        agent_cumulative
    };
    sqlx::query(
        "UPDATE sessions SET total_cost_usd = total_cost_usd + $1, agent_cost_usd = $2, \
         updated_at = $3 WHERE id = $4",
    )
    .bind(cost)
    .bind(agent_cumulative)
    .bind(now_ms())
    .bind(session.as_str())
    .execute(conn)
    .await?;
    Ok(cost)
}

/// Books a finished turn's own cost (an agent that reports per run, not cumulatively).
pub async fn book_run_cost(conn: &mut AnyConnection, session: &SessionId, cost: f64) -> Result<()> {
    sqlx::query(
        "UPDATE sessions SET total_cost_usd = total_cost_usd + $1, updated_at = $2 WHERE id = $3",
    )
    .bind(cost)
    .bind(now_ms())
    .bind(session.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops one queued turn (its Cancel button); false when it is no longer queued.
pub async fn drop_queued_turn(conn: &mut AnyConnection, turn: &TurnId) -> Result<bool> {
    let dropped = sqlx::query(
        "UPDATE turns SET state = 'dropped', finished_at = $1 WHERE id = $2 AND state = 'queued'",
    )
    .bind(now_ms())
    .bind(turn.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(dropped.rows_affected() == 1)
}

/// Drops a session's queued turns (`/stop all`), returning them.
pub async fn drop_queued(conn: &mut AnyConnection, session: &SessionId) -> Result<Vec<TurnRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM turns WHERE session_id = $1 AND state = 'queued' ORDER BY id"
    )))
    .bind(session.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let turns: Vec<TurnRow> = rows.iter().map(turn_from_row).collect::<Result<_>>()?;
    for turn in &turns {
        sqlx::query("UPDATE turns SET state = 'dropped', finished_at = $1 WHERE id = $2 AND state = 'queued'")
            .bind(now_ms())
            .bind(turn.id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(turns)
}
