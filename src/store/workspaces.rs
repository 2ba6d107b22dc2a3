//! Sessions' workspaces on their hosts: which are due for the clean-up, and what became of them.
//!
//! A workspace is due when its session has been idle for `workspaces.keep_for`: no turn queued,
//! starting or running, and nothing happened since the cut-off (its newest turn's last change,
//! or the session's creation — what listings call its last activity). Being due is read, not
//! claimed: the core removes a workspace from inside the session's worker, where no turn of the
//! session can start meanwhile, and re-checks it there ([`Store::workspace_due`]).

use anyhow::Result;
use sqlx::AssertSqlSafe;

use super::Store;
use super::sessions::{COLUMNS, SessionRow, session_from_row};
use crate::domain::ids::{SessionId, now_ms};

/// The condition on `s` (a session) for its workspace to be due, idle since before `$1`.
const DUE: &str = "s.workspace IS NOT NULL AND s.workspace_removed_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.session_id = s.id \
        AND t.state IN ('queued', 'starting', 'running')) \
     AND COALESCE((SELECT MAX(COALESCE(t.finished_at, t.started_at, t.created_at)) FROM turns t \
        WHERE t.session_id = s.id), s.created_at) < $1";

impl Store {
    /// Sessions on `host` whose workspace is due: idle since before `idle_since` (ms), oldest
    /// first. By host, so sessions on a host no longer configured never crowd out the others.
    pub async fn workspaces_due(
        &self,
        host: &str,
        idle_since: i64,
        limit: i64,
    ) -> Result<Vec<SessionRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions s WHERE {DUE} AND s.host = $2 ORDER BY s.id LIMIT $3"
        )))
        .bind(idle_since)
        .bind(host)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// The session `id`, if its workspace is due (idle since before `idle_since`).
    pub async fn workspace_due(
        &self,
        id: &SessionId,
        idle_since: i64,
    ) -> Result<Option<SessionRow>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions s WHERE s.id = $2 AND {DUE}"
        )))
        .bind(idle_since)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Records that the session's workspace was removed at `at` (ms); false when it was
    /// recorded already.
    pub async fn mark_workspace_removed(&self, id: &SessionId, at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET workspace_removed_at = $1, updated_at = $2 \
             WHERE id = $3 AND workspace_removed_at IS NULL",
        )
        .bind(at)
        .bind(now_ms())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a turn made the session's removed workspace again.
    pub async fn mark_workspace_remade(&self, id: &SessionId) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET workspace_removed_at = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
