//! What the web console keeps: its sign-ins, and the posts it shows (read from the outbox, which
//! already holds every answer; its patch and images are read apart, `Store::attachment_bytes`).

use anyhow::{Context, Result};

use super::{Store, col};
use crate::domain::ids::now_ms;
use crate::domain::outbound::{OutboundOp, Post};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::ThreadRef;

/// A post as the outbox keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPost {
    pub key: OutboxKey,
    pub created_at: i64,
    pub post: Post,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLogin {
    pub user: String,
    pub csrf: String,
    pub expires_at: i64,
}

impl Store {
    /// Records a sign-in, keyed by the SHA-256 of its cookie value (and forgets expired ones).
    pub async fn insert_web_login(&self, id_sha256: &str, login: &WebLogin) -> Result<()> {
        sqlx::query("DELETE FROM web_logins WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .context("removing expired sign-ins")?;
        sqlx::query(
            "INSERT INTO web_logins (id_sha256, user_name, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_sha256)
        .bind(&login.user)
        .bind(&login.csrf)
        .bind(now_ms())
        .bind(login.expires_at)
        .execute(&self.pool)
        .await
        .context("recording a sign-in")?;
        Ok(())
    }

    /// The unexpired sign-in of a cookie (by its SHA-256); expired ones are removed.
    pub async fn web_login(&self, id_sha256: &str) -> Result<Option<WebLogin>> {
        sqlx::query("DELETE FROM web_logins WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .context("removing expired sign-ins")?;
        let row =
            sqlx::query("SELECT user_name, csrf, expires_at FROM web_logins WHERE id_sha256 = $1")
                .bind(id_sha256)
                .fetch_optional(&self.pool)
                .await
                .context("reading a sign-in")?;
        row.map(|row| {
            Ok(WebLogin {
                user: col(&row, "user_name")?,
                csrf: col(&row, "csrf")?,
                expires_at: col(&row, "expires_at")?,
            })
        })
        .transpose()
    }

    /// Signs a browser out.
    pub async fn delete_web_login(&self, id_sha256: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_logins WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(&self.pool)
            .await
            .context("signing out")?;
        Ok(())
    }

    /// The post stored under an outbox key (a turn's answer, say) and its thread, if it is one.
    pub async fn outbox_post(&self, key: &OutboxKey) -> Result<Option<(ThreadRef, Post)>> {
        let row = sqlx::query("SELECT thread_ref, op FROM outbox WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .context("reading an outbox post")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let thread: String = col(&row, "thread_ref")?;
        let thread = serde_json::from_str(&thread).context("unreadable outbox thread")?;
        let op: String = col(&row, "op")?;
        match serde_json::from_str(&op).context("unreadable outbox op")? {
            OutboundOp::Post(post) => Ok(Some((thread, post))),
            _ => Ok(None),
        }
    }

    /// The replies to a thread's commands since `since` (ms), oldest first: `/status`,
    /// `/screenshot` and the like, which are not turns.
    pub async fn command_replies(&self, thread: &ThreadRef, since: i64) -> Result<Vec<StoredPost>> {
        let rows = sqlx::query(
            "SELECT key, op, created_at FROM outbox WHERE platform = $1 \
             AND thread_ref = $2 AND key LIKE $3 AND created_at >= $4 \
             ORDER BY created_at, id",
        )
        .bind(thread.platform.as_str())
        .bind(serde_json::to_string(thread)?)
        .bind(OutboxKey::REPLIES_LIKE)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .context("reading a thread's replies")?;
        let mut posts = Vec::new();
        for row in rows {
            let op: String = col(&row, "op")?;
            if let OutboundOp::Post(post) = serde_json::from_str(&op).context("unreadable op")? {
                let key: String = col(&row, "key")?;
                posts.push(StoredPost {
                    key: key.parse().map_err(anyhow::Error::msg)?,
                    created_at: col(&row, "created_at")?,
                    post,
                });
            }
        }
        Ok(posts)
    }
}
