//! The audit trail: refusals, signature failures and other decisions worth proving later.

use anyhow::Result;
use serde::Serialize;

use super::{Store, col};
use crate::domain::audit::AuditAction;
use crate::domain::ids::{new_id, now_ms};
use crate::domain::thread::Platform;

/// One audit record, as stored: rows written by any version read back, whatever they name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub at: i64,
    pub platform: String,
    pub actor: String,
    pub chat: String,
    pub action: String,
    pub detail: String,
    /// How many events the row stands for: 1, or a flood's count ([`Store::count_refusals`]).
    pub times: i64,
}

impl Store {
    pub async fn audit(
        &self,
        platform: Platform,
        actor: &str,
        chat: &str,
        action: AuditAction,
        detail: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (id, at, platform, actor, chat, action, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(now_ms())
        .bind(platform.as_str())
        .bind(actor)
        .bind(chat)
        .bind(action.as_str())
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Adds `times` to the row `id` that counts refusals, creating it (at `at`) the first time:
    /// how a flood of refusals from one source becomes one row instead of one per request.
    #[allow(clippy::too_many_arguments)]
    pub async fn count_refusals(
        &self,
        id: &str,
        at: i64,
        platform: Platform,
        actor: &str,
        action: AuditAction,
        detail: &str,
        times: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (id, at, platform, actor, chat, action, detail, times) \
             VALUES ($1, $2, $3, $4, '', $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET times = audit.times + excluded.times",
        )
        .bind(id)
        .bind(at)
        .bind(platform.as_str())
        .bind(actor)
        .bind(action.as_str())
        .bind(detail)
        .bind(times)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Audit records from `since_ms` on, oldest first; only `actor`'s when given.
    pub async fn audit_since(&self, since_ms: i64, actor: Option<&str>) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT at, platform, actor, chat, action, detail, times FROM audit \
             WHERE at >= $1 AND ($2 = '' OR actor = $2) ORDER BY at, id",
        )
        .bind(since_ms)
        .bind(actor.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_row).collect()
    }

    /// Audit records, oldest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT at, platform, actor, chat, action, detail, times FROM audit ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_row).collect()
    }
}

fn audit_row(row: &sqlx::any::AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        at: col(row, "at")?,
        platform: col(row, "platform")?,
        actor: col(row, "actor")?,
        chat: col(row, "chat")?,
        action: col(row, "action")?,
        detail: col(row, "detail")?,
        times: col(row, "times")?,
    })
}
