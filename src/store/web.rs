//! What the web console keeps: its sign-ins, and the posts it shows (read from the outbox, which
//! already holds every answer with its patch and images).

use anyhow::{Context, Result};

use super::{Store, col};
use crate::core::ids::now_ms;
use crate::core::outbox::{OutboundOp, Post};

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLogin {
    pub user: String,
    pub csrf: String,
    pub expires_at: i64,
}

impl Store {
    /// Records a sign-in, keyed by the SHA-256 of its cookie value.
    pub async fn insert_web_login(&self, id_sha256: &str, login: &WebLogin) -> Result<()> {
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

    /// The post stored under an outbox key (a turn's answer, say), if it is one.
    pub async fn outbox_post(&self, key: &str) -> Result<Option<Post>> {
        let row = sqlx::query("SELECT op FROM outbox WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .context("reading an outbox post")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let op: String = col(&row, "op")?;
        match serde_json::from_str(&op).context("unreadable outbox op")? {
            OutboundOp::Post(post) => Ok(Some(post)),
            _ => Ok(None),
        }
    }
}
