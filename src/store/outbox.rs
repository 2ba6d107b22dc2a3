//! The outbox: what the core wants posted, under idempotency keys, and what has been posted.
//!
//! Posts are inserted once per key (`ON CONFLICT DO NOTHING`): re-running the code that asked
//! for a post — after a crash, say — cannot post it twice. Edits upsert one row per target and
//! bump `version`, so the scheduler always sends the latest text and a stale send cannot mark a
//! newer text as delivered. New posts go before edits, and a new text takes a new id (queueing
//! behind other messages' edits), so progress refreshed as fast as the chat's pacing allows
//! can starve neither new posts nor other progress messages. `posted` records every message a
//! key produced, part by part, so a long answer interrupted half-way resumes at the next part.
//!
//! Messages are delivered one at a time per *lane* (the `chat` column, see [`lane`]): a
//! platform's chat, whose limits the pacer counts, or for the web console (no limits) one
//! session. The next message of a lane is found with two `LIMIT 1` queries that walk an index
//! in order ([`NEXT_POST`], [`NEXT_EDIT`]), so a lane with many pending rows is never sorted.

use anyhow::{Context, Result};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{Store, attachments, col};
use crate::domain::ids::{new_id, now_ms};
use crate::domain::outbound::{Outbound, OutboundOp};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};

/// A pending outbox entry.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub key: OutboxKey,
    /// The lane it is delivered in ([`lane`]).
    pub chat: String,
    pub thread: ThreadRef,
    pub op: OutboundOp,
    pub version: i64,
    pub attempts: i64,
    /// Not to be sent before this time (ms): a retry after a transient failure.
    pub not_before: i64,
    /// The part an earlier pass started sending and did not see accepted.
    pub sending: Option<SendingPart>,
}

/// A part whose send was started: which, and when it was first tried (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendingPart {
    pub part: i64,
    pub since_ms: i64,
}

fn outbox_from_row(row: &AnyRow) -> Result<OutboxRow> {
    let thread: String = col(row, "thread_ref")?;
    let op: String = col(row, "op")?;
    let key: String = col(row, "key")?;
    Ok(OutboxRow {
        id: col(row, "id")?,
        key: key.parse().map_err(anyhow::Error::msg)?,
        chat: col(row, "chat")?,
        thread: serde_json::from_str(&thread).context("unreadable outbox thread")?,
        op: serde_json::from_str(&op).context("unreadable outbox op")?,
        version: col(row, "version")?,
        attempts: col(row, "attempts")?,
        not_before: col(row, "not_before")?,
        sending: match (
            col::<Option<i64>>(row, "sending_part")?,
            col::<Option<i64>>(row, "sending_since")?,
        ) {
            (Some(part), Some(since_ms)) => Some(SendingPart { part, since_ms }),
            _ => None,
        },
    })
}

/// The lane a message to `thread` is delivered in: messages in one lane go out one at a time, in
/// order. On a platform that is the chat, which its per-chat limits are counted on; the web
/// console has no limits and each of its sessions is read on its own, so there it is the
/// session's thread.
pub fn lane(thread: &ThreadRef) -> String {
    match thread.platform {
        Platform::Web => thread.key(),
        Platform::Telegram | Platform::GitHub | Platform::Slack | Platform::Discord => {
            thread.chat.clone()
        }
    }
}

/// The columns of an [`OutboxRow`], for `concat!`.
macro_rules! row_columns {
    () => {
        "id, key, chat, thread_ref, op, version, attempts, not_before, sending_part, \
         sending_since"
    };
}

/// A lane's first pending post or reaction (`$1` platform, `$2` lane): the first entry of the
/// lane in the `outbox_pending_posts` index, which holds pending posts only.
pub const NEXT_POST: &str = concat!(
    "SELECT ",
    row_columns!(),
    " FROM outbox WHERE platform = $1 AND state = 'pending' AND chat = $2 \
     AND target_key IS NULL ORDER BY id LIMIT 1"
);

/// A lane's first pending edit whose message is posted (`$1` platform, `$2` lane), asked only
/// when the lane has no pending post, so every pending row is an edit (at most one per message):
/// the `outbox_pending` index walked in `id` order, stopping at the first edit that can go.
pub const NEXT_EDIT: &str = concat!(
    "SELECT ",
    row_columns!(),
    " FROM outbox WHERE platform = $1 AND state = 'pending' AND chat = $2 \
     AND target_key IS NOT NULL \
     AND EXISTS (SELECT 1 FROM posted WHERE posted.key = outbox.target_key) \
     ORDER BY id LIMIT 1"
);

/// The message pending under a key (`$1`).
const PENDING_BY_KEY: &str = concat!(
    "SELECT ",
    row_columns!(),
    " FROM outbox WHERE key = $1 AND state = 'pending'"
);

/// Queues an outbound message inside the caller's transaction. A post's files are stored
/// apart, with the row and only when the row is new ([`super::attachments`]).
pub async fn enqueue(conn: &mut AnyConnection, out: &Outbound) -> Result<()> {
    let now = now_ms();
    let sql = match out.op {
        OutboundOp::Post(_) | OutboundOp::React { .. } => {
            "INSERT INTO outbox (id, key, platform, chat, thread_ref, op, target_key, state, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) \
             ON CONFLICT (key) DO NOTHING"
        }
        OutboundOp::Edit { .. } => {
            "INSERT INTO outbox (id, key, platform, chat, thread_ref, op, target_key, state, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) \
             ON CONFLICT (key) DO UPDATE SET id = excluded.id, op = excluded.op, \
             state = 'pending', version = outbox.version + 1, not_before = 0, \
             updated_at = excluded.updated_at"
        }
    };
    let (op, files) = match &out.op {
        OutboundOp::Post(post) => {
            let (kept, files) = attachments::set_apart(post)?;
            (serde_json::to_string(&OutboundOp::Post(kept))?, files)
        }
        op @ (OutboundOp::Edit { .. } | OutboundOp::React { .. }) => {
            (serde_json::to_string(op)?, Vec::new())
        }
    };
    let queued = sqlx::query(sql)
        .bind(new_id())
        .bind(out.key.to_string())
        .bind(out.thread.platform.as_str())
        .bind(lane(&out.thread))
        .bind(serde_json::to_string(&out.thread)?)
        .bind(op)
        .bind(out.op.target().map(OutboxKey::to_string))
        .bind(now)
        .execute(&mut *conn)
        .await
        .context("queueing an outbound message")?;
    if queued.rows_affected() == 1 {
        attachments::insert(conn, &out.key, &files).await?;
    }
    Ok(())
}

impl Store {
    /// Queues one outbound message on its own.
    pub async fn enqueue_outbound(&self, out: &Outbound) -> Result<()> {
        let mut tx = self.write_tx().await?;
        enqueue(&mut tx, out).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lanes ([`lane`]) of a platform with pending messages.
    pub async fn outbox_chats(&self, platform: Platform) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT chat FROM outbox WHERE platform = $1 AND state = 'pending'",
        )
        .bind(platform.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| col(row, "chat")).collect()
    }

    /// The lane's next pending message: new posts in order first, then edits (only once their
    /// target is posted), so progress edits never hold up a new message. It may not be due yet
    /// (`not_before`): messages to a lane go out in order, so a deferred one holds back those
    /// after it.
    pub async fn next_outbound(&self, platform: Platform, lane: &str) -> Result<Option<OutboxRow>> {
        for sql in [NEXT_POST, NEXT_EDIT] {
            let row = sqlx::query(sql)
                .bind(platform.as_str())
                .bind(lane)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                return outbox_from_row(&row).map(Some);
            }
        }
        Ok(None)
    }

    /// The message pending under `key` now: an edit waiting for its turn may have been replaced
    /// by a newer text meanwhile, and only the latest is worth a call; a status edit that goes
    /// with its answer ([`crate::domain::outbound::StatusWith`]) is looked up here too.
    pub async fn pending_outbound(&self, key: &OutboxKey) -> Result<Option<OutboxRow>> {
        let row = sqlx::query(PENDING_BY_KEY)
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(outbox_from_row).transpose()
    }

    /// Message ids already posted for a key, by part.
    pub async fn posted_parts(&self, key: &OutboxKey) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT message_id FROM posted WHERE key = $1 ORDER BY part")
            .bind(key.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| col(row, "message_id")).collect()
    }

    /// Notes that sending `part` of the row's post starts now, unless it was started before
    /// (then its first start is kept: the platform may have the part since then).
    pub async fn mark_sending(&self, row: &OutboxRow, part: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET sending_part = $1, sending_since = $2 \
             WHERE id = $3 AND (sending_part IS NULL OR sending_part <> $1)",
        )
        .bind(part)
        .bind(now_ms())
        .bind(&row.id)
        .execute(&self.pool)
        .await
        .context("noting a part being sent")?;
        Ok(())
    }

    /// Records one posted part. Called right after the platform accepted it.
    pub async fn record_posted(&self, key: &OutboxKey, part: i64, message_id: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO posted (key, part, message_id, posted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key, part) DO NOTHING",
        )
        .bind(key.to_string())
        .bind(part)
        .bind(message_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a message delivered, unless it was replaced by a newer edit meanwhile.
    pub async fn outbox_done(&self, row: &OutboxRow) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'done', updated_at = $1 WHERE id = $2 AND version = $3",
        )
        .bind(now_ms())
        .bind(&row.id)
        .bind(row.version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up on a message (the platform refused it for good), and on edits of it.
    pub async fn outbox_failed(&self, row: &OutboxRow, error: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'failed', last_error = $1, updated_at = $2 \
             WHERE (id = $3 AND version = $4) OR (target_key = $5 AND state = 'pending')",
        )
        .bind(error)
        .bind(now_ms())
        .bind(&row.id)
        .bind(row.version)
        .bind(row.key.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Retries a message later (a transient failure).
    pub async fn outbox_defer(&self, row: &OutboxRow, not_before: i64, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET not_before = $1, attempts = attempts + 1, last_error = $2, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(not_before)
        .bind(error)
        .bind(now_ms())
        .bind(&row.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
