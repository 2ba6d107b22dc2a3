//! Rate-limit pauses kept across restarts: a `retry_after` is a promise not to call a chat (or
//! the whole platform) before a deadline, and a restart must not break it (DESIGN invariant 8).
//! A pause is stored with its end on the wall clock; a longer pause is never shortened, and
//! pauses already over are dropped when the outlet loads them.

use anyhow::{Context, Result};

use super::{Store, col};
use crate::domain::ids::now_ms;
use crate::domain::thread::Platform;

/// What a pause holds back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseScope {
    /// One chat.
    Chat(String),
    /// Every chat of the platform.
    Platform,
}

impl PauseScope {
    /// The `chat` column: '' for the whole platform (no chat id is empty).
    fn column(&self) -> &str {
        match self {
            PauseScope::Chat(chat) => chat,
            PauseScope::Platform => "",
        }
    }
}

/// A stored pause: no call in `scope` before `until_ms` (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPause {
    pub scope: PauseScope,
    pub until_ms: i64,
}

impl Store {
    /// Stores a pause, keeping a later end already stored.
    pub async fn save_pause(&self, platform: Platform, pause: &RetryPause) -> Result<()> {
        sqlx::query(
            "INSERT INTO retry_pauses (platform, chat, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (platform, chat) DO UPDATE SET until_ms = CASE \
             WHEN excluded.until_ms > retry_pauses.until_ms THEN excluded.until_ms \
             ELSE retry_pauses.until_ms END",
        )
        .bind(platform.as_str())
        .bind(pause.scope.column())
        .bind(pause.until_ms)
        .execute(&self.pool)
        .await
        .context("storing a rate-limit pause")?;
        Ok(())
    }

    /// The platform's pauses that are not over yet; those that are over are forgotten.
    pub async fn pending_pauses(&self, platform: Platform) -> Result<Vec<RetryPause>> {
        let now = now_ms();
        sqlx::query("DELETE FROM retry_pauses WHERE platform = $1 AND until_ms <= $2")
            .bind(platform.as_str())
            .bind(now)
            .execute(&self.pool)
            .await
            .context("forgetting rate-limit pauses that are over")?;
        let rows = sqlx::query(
            "SELECT chat, until_ms FROM retry_pauses WHERE platform = $1 AND until_ms > $2 \
             ORDER BY chat",
        )
        .bind(platform.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("reading rate-limit pauses")?;
        rows.iter()
            .map(|row| {
                let chat: String = col(row, "chat")?;
                Ok(RetryPause {
                    scope: match chat.is_empty() {
                        true => PauseScope::Platform,
                        false => PauseScope::Chat(chat),
                    },
                    until_ms: col(row, "until_ms")?,
                })
            })
            .collect()
    }
}
