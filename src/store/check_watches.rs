//! Pushed commits whose CI checks a session's thread waits to hear about (`core::ci_watch`).
//!
//! A watch is stored when `/pr` pushes, so a restart forgets none; the loop reads the due ones,
//! and either moves a watch's next read later (its checks still run) or ends it in the same
//! transaction as the message that tells the thread ([`finish`]), so the thread hears once. A
//! webhook saying the commit's checks moved makes its watch due now ([`Store::nudge_check_watches`]).

use anyhow::{Context, Result};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{Store, col};
use crate::domain::ids::SessionId;

/// A watched commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckWatch {
    pub session_id: SessionId,
    /// `owner/repo`.
    pub repo: String,
    pub sha: String,
    pub created_at: i64,
    pub next_check_at: i64,
    /// How often its checks were read so far.
    pub attempts: i64,
    /// When it ended; `None`: still watched.
    pub done_at: Option<i64>,
}

const COLUMNS: &str = "session_id, repo, sha, created_at, next_check_at, attempts, done_at";

fn watch_from_row(row: &AnyRow) -> Result<CheckWatch> {
    Ok(CheckWatch {
        session_id: SessionId::from_string(col(row, "session_id")?),
        repo: col(row, "repo")?,
        sha: col(row, "sha")?,
        created_at: col(row, "created_at")?,
        next_check_at: col(row, "next_check_at")?,
        attempts: col(row, "attempts")?,
        done_at: col(row, "done_at")?,
    })
}

impl Store {
    /// Watches `sha` of `repo`, pushed by the session at `now`, first read at `first_check_at`.
    /// The session's earlier watches end (its thread hears about the newest push only); a watch
    /// of the same commit already stored is kept as it is.
    pub async fn watch_checks(
        &self,
        session: &SessionId,
        repo: &str,
        sha: &str,
        now: i64,
        first_check_at: i64,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE check_watches SET done_at = $1 \
             WHERE session_id = $2 AND sha <> $3 AND done_at IS NULL",
        )
        .bind(now)
        .bind(session.as_str())
        .bind(sha)
        .execute(&mut *tx)
        .await
        .context("ending a session's earlier check watches")?;
        sqlx::query(
            "INSERT INTO check_watches (session_id, repo, sha, created_at, next_check_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, sha) DO NOTHING",
        )
        .bind(session.as_str())
        .bind(repo)
        .bind(sha)
        .bind(now)
        .bind(first_check_at)
        .execute(&mut *tx)
        .await
        .context("storing a check watch")?;
        tx.commit().await?;
        Ok(())
    }

    /// Watches due at `now`, the most overdue first.
    pub async fn due_check_watches(&self, now: i64, limit: i64) -> Result<Vec<CheckWatch>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM check_watches \
             WHERE done_at IS NULL AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("reading due check watches")?;
        rows.iter().map(watch_from_row).collect()
    }

    /// When the next watch is due, if any is still watched.
    pub async fn next_check_watch_at(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(next_check_at) AS next FROM check_watches WHERE done_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .context("reading when a check watch is due")?;
        col(&row, "next")
    }

    /// A watch whose checks still run: read again at `next_check_at`, `attempts` reads so far.
    pub async fn postpone_check_watch(
        &self,
        watch: &CheckWatch,
        next_check_at: i64,
        attempts: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE check_watches SET next_check_at = $1, attempts = $2 \
             WHERE session_id = $3 AND sha = $4 AND done_at IS NULL",
        )
        .bind(next_check_at)
        .bind(attempts)
        .bind(watch.session_id.as_str())
        .bind(&watch.sha)
        .execute(&self.pool)
        .await
        .context("postponing a check watch")?;
        Ok(())
    }

    /// Makes the open watches of `sha` in `repo` (GitHub spells a repository in any case) due at
    /// `now`; returns how many.
    pub async fn nudge_check_watches(&self, repo: &str, sha: &str, now: i64) -> Result<u64> {
        let nudged = sqlx::query(
            "UPDATE check_watches SET next_check_at = $1 \
             WHERE sha = $2 AND LOWER(repo) = LOWER($3) AND done_at IS NULL \
             AND next_check_at > $1",
        )
        .bind(now)
        .bind(sha)
        .bind(repo)
        .execute(&self.pool)
        .await
        .context("nudging check watches")?;
        Ok(nudged.rows_affected())
    }

    /// The session's newest watch (its last pushed commit), ended or not.
    pub async fn latest_check_watch(&self, session: &SessionId) -> Result<Option<CheckWatch>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM check_watches WHERE session_id = $1 \
             ORDER BY created_at DESC, next_check_at DESC LIMIT 1"
        )))
        .bind(session.as_str())
        .fetch_optional(&self.pool)
        .await
        .context("reading a session's check watch")?;
        row.as_ref().map(watch_from_row).transpose()
    }
}

/// Ends a watch at `now`, in the transaction that queues what the thread is told.
pub async fn finish(conn: &mut AnyConnection, watch: &CheckWatch, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE check_watches SET done_at = $1, attempts = attempts + 1 \
         WHERE session_id = $2 AND sha = $3 AND done_at IS NULL",
    )
    .bind(now)
    .bind(watch.session_id.as_str())
    .bind(&watch.sha)
    .execute(&mut *conn)
    .await
    .context("ending a check watch")?;
    Ok(())
}
