//! Sessions: a chat thread bound to an agent conversation on a host.
//!
//! A thread has at most one active session (a partial unique index enforces it); `/new` retires
//! it and starts another. Retired sessions keep their history for `/sessions` and the CLI.

use anyhow::{Context, Result};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{Store, bool_col, col};
use crate::domain::agent::AgentKind;
use crate::domain::ids::{SessionId, now_ms};
use crate::domain::thread::ThreadRef;
use crate::domain::workspace::SessionWorkspace;

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: SessionId,
    pub thread: ThreadRef,
    pub host: String,
    pub agent: AgentKind,
    /// The model chosen for it (`/model`, its project's); `None`: the agent's default.
    pub model: Option<String>,
    /// The directory the agent works in (the workspace's, or the host's workdir for sessions
    /// made before workspaces).
    pub workdir: String,
    /// The workspace the session owns; `None`: it owns none (the host's workdir, a GitHub
    /// thread's checkout).
    pub workspace: Option<SessionWorkspace>,
    /// What became of the workspace: pushed, its pull request, removed.
    pub delivery: Delivery,
    pub agent_session_id: Option<String>,
    pub active: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub total_cost_usd: f64,
}

/// What became of a session's workspace (all `None` until it happens).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// When its branch was last pushed (ms).
    pub pushed_at: Option<i64>,
    /// The pull request `/pr` opened for its branch.
    pub pr_number: Option<i64>,
    pub pr_url: Option<String>,
    /// When the workspace was removed from its host (ms).
    pub workspace_removed_at: Option<i64>,
}

/// A session with its turn counts, for listings.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub session: SessionRow,
    pub turns: i64,
    pub queued: i64,
    pub running: i64,
    /// When something last happened: its newest turn's last change, or its creation (ms).
    pub last_activity: i64,
    /// The start of its first prompt (200 characters at most), if it has one.
    pub first_prompt: Option<String>,
}

pub(super) const COLUMNS: &str = "s.id, s.thread_ref, s.host, s.agent, s.model, s.workdir, s.workspace, \
                       s.pushed_at, s.pr_number, s.pr_url, s.workspace_removed_at, \
                       s.agent_session_id, s.active, s.created_by, s.created_at, s.updated_at, s.total_cost_usd";

const COUNTS: &str = "(SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turns, \
     (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id AND t.state = 'queued') AS queued, \
     (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id \
        AND t.state IN ('starting', 'running')) AS running, \
     COALESCE((SELECT MAX(COALESCE(t.finished_at, t.started_at, t.created_at)) FROM turns t \
        WHERE t.session_id = s.id), s.created_at) AS last_activity, \
     (SELECT SUBSTR(t.prompt, 1, 200) FROM turns t WHERE t.session_id = s.id \
        ORDER BY t.id LIMIT 1) AS first_prompt";

pub(super) fn session_from_row(row: &AnyRow) -> Result<SessionRow> {
    let thread: String = col(row, "thread_ref")?;
    Ok(SessionRow {
        id: SessionId::from_string(col(row, "id")?),
        thread: serde_json::from_str(&thread).context("unreadable thread_ref")?,
        host: col(row, "host")?,
        agent: col::<String>(row, "agent")?
            .parse()
            .context("unreadable session agent")?,
        model: col(row, "model")?,
        workdir: col(row, "workdir")?,
        workspace: col::<Option<String>>(row, "workspace")?
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .context("unreadable session workspace")?,
        delivery: Delivery {
            pushed_at: col(row, "pushed_at")?,
            pr_number: col(row, "pr_number")?,
            pr_url: col(row, "pr_url")?,
            workspace_removed_at: col(row, "workspace_removed_at")?,
        },
        agent_session_id: col(row, "agent_session_id")?,
        active: bool_col(row, "active")?,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        total_cost_usd: col(row, "total_cost_usd")?,
    })
}

fn summary_from_row(row: &AnyRow) -> Result<SessionSummary> {
    Ok(SessionSummary {
        session: session_from_row(row)?,
        turns: col(row, "turns")?,
        queued: col(row, "queued")?,
        running: col(row, "running")?,
        last_activity: col(row, "last_activity")?,
        first_prompt: col(row, "first_prompt")?,
    })
}

/// What a new session needs.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Made by the caller, which names the session's directory after it.
    pub id: SessionId,
    pub thread: &'a ThreadRef,
    pub host: &'a str,
    pub agent: AgentKind,
    pub model: Option<&'a str>,
    pub workdir: &'a str,
    pub workspace: Option<&'a SessionWorkspace>,
    pub created_by: &'a str,
}

impl Store {
    pub async fn session(&self, id: &SessionId) -> Result<Option<SessionRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions s WHERE s.id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// The thread's active session, if it has one.
    pub async fn active_session(&self, thread: &ThreadRef) -> Result<Option<SessionRow>> {
        let mut conn = self.pool.acquire().await?;
        active_session(&mut conn, thread).await
    }

    /// Retires the thread's active session (if any) and starts a new one: `/new`.
    pub async fn replace_session(&self, new: NewSession<'_>) -> Result<SessionRow> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sessions SET active = 0, updated_at = $1 \
             WHERE platform = $2 AND thread = $3 AND active = 1",
        )
        .bind(now_ms())
        .bind(new.thread.platform.as_str())
        .bind(new.thread.key())
        .execute(&mut *tx)
        .await?;
        let session = create_session(&mut tx, new).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Records the conversation id of `agent` (from its `init` line), or clears it when the
    /// host lost the conversation so the next prompt starts fresh. A new conversation starts its
    /// cumulative cost from zero. Nothing changes when the session has switched to another
    /// agent since the turn started (`/agent` mid-turn): that turn's conversation is not one
    /// the new agent can resume.
    pub async fn set_agent_session_id(
        &self,
        id: &SessionId,
        agent: AgentKind,
        agent_session: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET agent_session_id = $1, agent_cost_usd = 0, updated_at = $2 \
             WHERE id = $3 AND agent = $4",
        )
        .bind(agent_session)
        .bind(now_ms())
        .bind(id.as_str())
        .bind(agent.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Switches the session to another agent: its next turn starts a new conversation (the
    /// old agent's id means nothing to the new one), with the new agent's default model. The
    /// conversation's cumulative cost stays until the new conversation's id is recorded
    /// ([`Store::set_agent_session_id`] starts it from zero): a turn of the old agent still
    /// running books its own cost against it, not the old conversation's whole.
    pub async fn set_session_agent(&self, id: &SessionId, agent: AgentKind) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET agent = $1, model = NULL, agent_session_id = NULL, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(agent.as_str())
        .bind(now_ms())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets the model of the session's next turns (`None`: the agent's default). The
    /// conversation goes on: agents resume a conversation under another model.
    pub async fn set_session_model(&self, id: &SessionId, model: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE sessions SET model = $1, updated_at = $2 WHERE id = $3")
            .bind(model)
            .bind(now_ms())
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records that the session's branch was pushed at `at`, and its pull request.
    pub async fn record_delivery(
        &self,
        id: &SessionId,
        at: i64,
        pull_request: Option<(i64, &str)>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET pushed_at = $1, pr_number = COALESCE($2, pr_number), \
             pr_url = COALESCE($3, pr_url), updated_at = $1 WHERE id = $4",
        )
        .bind(at)
        .bind(pull_request.map(|(number, _)| number))
        .bind(pull_request.map(|(_, url)| url))
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A chat's sessions, newest first.
    pub async fn chat_sessions(
        &self,
        thread: &ThreadRef,
        limit: i64,
    ) -> Result<Vec<SessionSummary>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {COUNTS} FROM sessions s WHERE s.platform = $1 AND s.chat = $2 \
             ORDER BY s.id DESC LIMIT $3"
        )))
        .bind(thread.platform.as_str())
        .bind(&thread.chat)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// One session with its counts.
    pub async fn session_summary(&self, id: &SessionId) -> Result<Option<SessionSummary>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {COUNTS} FROM sessions s WHERE s.id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(summary_from_row).transpose()
    }

    /// Every session, newest first (the CLI's `sessions list`).
    pub async fn all_sessions(&self, limit: i64) -> Result<Vec<SessionSummary>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {COUNTS} FROM sessions s ORDER BY s.id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Sessions whose id starts with `prefix` (operators type short ids).
    pub async fn sessions_by_prefix(&self, prefix: &str) -> Result<Vec<SessionRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions s WHERE s.id LIKE $1 ORDER BY s.id LIMIT 5"
        )))
        .bind(format!("{}%", prefix.replace(['%', '_'], "")))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }
}

pub async fn active_session(
    conn: &mut AnyConnection,
    thread: &ThreadRef,
) -> Result<Option<SessionRow>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sessions s WHERE s.platform = $1 AND s.thread = $2 AND s.active = 1"
    )))
    .bind(thread.platform.as_str())
    .bind(thread.key())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

pub async fn create_session(conn: &mut AnyConnection, new: NewSession<'_>) -> Result<SessionRow> {
    let now = now_ms();
    let session = SessionRow {
        id: new.id,
        thread: new.thread.clone(),
        host: new.host.to_owned(),
        agent: new.agent,
        model: new.model.map(str::to_owned),
        workdir: new.workdir.to_owned(),
        workspace: new.workspace.cloned(),
        delivery: Delivery::default(),
        agent_session_id: None,
        active: true,
        created_by: new.created_by.to_owned(),
        created_at: now,
        updated_at: now,
        total_cost_usd: 0.0,
    };
    sqlx::query(
        "INSERT INTO sessions (id, platform, chat, thread, thread_ref, host, agent, model, \
         workdir, workspace, active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12)",
    )
    .bind(session.id.as_str())
    .bind(session.thread.platform.as_str())
    .bind(&session.thread.chat)
    .bind(session.thread.key())
    .bind(serde_json::to_string(&session.thread)?)
    .bind(&session.host)
    .bind(session.agent.as_str())
    .bind(&session.model)
    .bind(&session.workdir)
    .bind(
        session
            .workspace
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
    )
    .bind(&session.created_by)
    .bind(now)
    .execute(conn)
    .await
    .context("creating a session")?;
    Ok(session)
}
