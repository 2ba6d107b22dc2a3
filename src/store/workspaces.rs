//! Sessions' workspaces on their hosts: which are due for the clean-up, and what became of them.
//!
//! A session's workspace is its own directory or, for a session that owns none (a GitHub
//! thread's), the checkouts its turns used (`turns.workspace`). It is due when it has been idle
//! for `workspaces.keep_for`: no turn queued, starting or running, and nothing happened since
//! the cut-off (the newest turn's last change, or the session's creation — what listings call
//! its last activity). A checkout is its thread's (`pr-7` is `pr/7`'s, `pr-7-deps` is
//! `pr/7/deps`'s), and a thread's next session works in the same one, so for checkouts that
//! idleness is the whole thread's: every session of it. Being due is read, not claimed: the
//! core removes a workspace from inside the session's worker, holding its thread, where no turn
//! can start in it meanwhile, and re-checks it there ([`Store::workspace_due`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use anyhow::{Context, Result};
use sqlx::AssertSqlSafe;

use super::sessions::{COLUMNS, SessionRow, session_from_row};
use super::{Store, col};
use crate::domain::ids::{SessionId, now_ms};
use crate::domain::workspace::{GitCheckout, Workspace};

/// The condition on `s` (a session) for its workspace to be due, idle since before `$1`: its
/// own, when it has one; the checkouts of its turns, when its whole thread is idle.
static DUE: LazyLock<String> = LazyLock::new(|| {
    let own = "t.session_id = s.id";
    let thread = "t.session_id IN (SELECT o.id FROM sessions o WHERE o.platform = s.platform \
         AND o.chat = s.chat AND o.thread = s.thread)";
    format!(
        "s.workspace_removed_at IS NULL AND (\
         (s.workspace IS NOT NULL AND {own_idle}) \
         OR (s.workspace IS NULL AND EXISTS (SELECT 1 FROM turns t WHERE {own} \
            AND t.workspace IS NOT NULL) AND {thread_idle}))",
        own_idle = idle(own),
        thread_idle = idle(thread),
    )
});

/// The condition that the turns `t` matching `turns` (of `s`, or of its thread) are idle since
/// before `$1`: none queued, starting or running, and none changed since (`s` created before,
/// when there are none).
fn idle(turns: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM turns t WHERE {turns} \
            AND t.state IN ('queued', 'starting', 'running')) \
         AND COALESCE((SELECT MAX(COALESCE(t.finished_at, t.started_at, t.created_at)) \
            FROM turns t WHERE {turns}), s.created_at) < $1"
    )
}

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
            "SELECT {COLUMNS} FROM sessions s WHERE {due} AND s.host = $2 ORDER BY s.id LIMIT $3",
            due = *DUE
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
            "SELECT {COLUMNS} FROM sessions s WHERE s.id = $2 AND {due}",
            due = *DUE
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

    /// The checkouts the session's turns used, one per directory (the newest turn's, which
    /// names the same directory, repository and clone as any older one).
    pub async fn session_checkouts(&self, id: &SessionId) -> Result<Vec<GitCheckout>> {
        let rows = sqlx::query(
            "SELECT workspace FROM turns WHERE session_id = $1 AND workspace IS NOT NULL \
             ORDER BY id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut by_dir = BTreeMap::new();
        for row in &rows {
            let json: String = col(row, "workspace")?;
            let Workspace::Git(checkout) =
                serde_json::from_str(&json).context("unreadable turn workspace")?;
            by_dir.insert(checkout.dir.clone(), checkout);
        }
        Ok(by_dir.into_values().collect())
    }
}
