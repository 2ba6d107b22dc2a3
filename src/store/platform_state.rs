//! Small pieces of state a platform adapter keeps across restarts, by key (the Discord gateway
//! session that lets a restarted bot resume instead of starting afresh). Values are opaque text
//! to the store.

use anyhow::{Context, Result};

use super::{Store, col};
use crate::domain::ids::now_ms;

impl Store {
    /// The value stored under `key`, if any.
    pub async fn platform_state(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM platform_state WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .context("reading platform state")?;
        row.map(|row| col(&row, "value")).transpose()
    }

    /// Stores `value` under `key`, replacing what was there.
    pub async fn set_platform_state(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO platform_state (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .context("storing platform state")?;
        Ok(())
    }

    /// Forgets `key`.
    pub async fn clear_platform_state(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM platform_state WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .context("clearing platform state")?;
        Ok(())
    }
}
