//! Inbound events, stored idempotently on the platform's own id before anything else happens.

use anyhow::{Context, Result};
use sqlx::AnyConnection;

use super::{Store, col};
use crate::domain::ids::{InboundId, now_ms};
use crate::domain::inbound::Inbound;
use crate::domain::thread::Platform;

impl Store {
    /// Stores an inbound event unless one with the same platform id exists.
    /// Returns the new row's id, or `None` for a duplicate (a redelivery).
    pub async fn insert_inbound(&self, event: &Inbound) -> Result<Option<InboundId>> {
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, event).await
    }

    /// Unprocessed events, oldest first.
    pub async fn unprocessed_inbound(&self, limit: i64) -> Result<Vec<(InboundId, Inbound)>> {
        let rows = sqlx::query(
            "SELECT id, event FROM inbound WHERE processed_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id = InboundId::from_string(col(row, "id")?);
                let event: String = col(row, "event")?;
                let event = serde_json::from_str(&event)
                    .with_context(|| format!("inbound {id} has an unreadable event"))?;
                Ok((id, event))
            })
            .collect()
    }

    /// Whether an event with this platform id has been stored.
    pub async fn inbound_known(&self, platform: Platform, external_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM inbound WHERE platform = $1 AND external_id = $2")
            .bind(platform.as_str())
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Whether an event has been handled.
    pub async fn inbound_processed(&self, id: &InboundId) -> Result<bool> {
        let row = sqlx::query("SELECT processed_at FROM inbound WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(col::<Option<i64>>(&row, "processed_at")?.is_some())
    }

    /// Marks an event handled when it needed no other write.
    pub async fn mark_inbound_processed(&self, id: &InboundId) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        mark_processed(&mut conn, id).await
    }
}

/// Stores an event unless one with its external id is stored already (then `None`).
pub async fn insert(conn: &mut AnyConnection, event: &Inbound) -> Result<Option<InboundId>> {
    let id = InboundId::generate();
    let json = serde_json::to_string(event)?;
    let result = sqlx::query(
        "INSERT INTO inbound (id, platform, external_id, received_at, event) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, external_id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(event.platform().as_str())
    .bind(&event.external_id)
    .bind(now_ms())
    .bind(json)
    .execute(conn)
    .await
    .context("storing an inbound event")?;
    Ok((result.rows_affected() == 1).then_some(id))
}

/// Marks an event handled, inside the transaction that recorded its effects.
pub async fn mark_processed(conn: &mut AnyConnection, id: &InboundId) -> Result<()> {
    sqlx::query("UPDATE inbound SET processed_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
