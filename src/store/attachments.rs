//! The files of outbox posts (a turn's patch, up to 4 MiB; images, up to 8 MiB each), kept
//! apart from their rows in `outbox_attachments`, by the row's key and the file's place.
//!
//! The outlet reads a lane's next pending row on every pass (every 500 ms when idle, and on
//! every wake-up); with the files inline, as base64 in the row's JSON, each pass read them all.
//! Now the row names each file ([`AttachmentData::Stored`]) and a file is read only by the part
//! that sends it, when it goes out, and by the web console when it shows one.
//!
//! The files are written in the row's own transaction, and only when the row is (a post queued
//! again under its key writes nothing: invariant 4), so a row never names a file that is not
//! there; they go with the row (`ON DELETE CASCADE`). A row queued before files were kept apart
//! holds them inline ([`AttachmentData::Bytes`]); [`Store::attachment_bytes`] reads both.

use anyhow::{Context, Result, bail};
use sqlx::AnyConnection;

use super::{Store, col};
use crate::domain::outbound::{Attachment, AttachmentData, Post};
use crate::domain::outbox_key::OutboxKey;

/// A post as its outbox row keeps it, each file replaced by its place in `outbox_attachments`,
/// and the files' bytes in that order.
pub(super) fn set_apart(post: &Post) -> Result<(Post, Vec<&[u8]>)> {
    let mut files = Vec::with_capacity(post.attachments.len());
    let mut named = Vec::with_capacity(post.attachments.len());
    for (index, file) in post.attachments.iter().enumerate() {
        let Some(bytes) = file.bytes() else {
            bail!("{} is queued without its bytes", file.name);
        };
        files.push(bytes);
        named.push(Attachment {
            name: file.name.clone(),
            data: AttachmentData::Stored { index },
            caption: file.caption.clone(),
            image: file.image,
        });
    }
    let kept = Post {
        markdown: post.markdown.clone(),
        reply_to: post.reply_to.clone(),
        silent: post.silent,
        document_name: post.document_name.clone(),
        attachments: named,
        status: post.status.clone(),
        buttons: post.buttons.clone(),
    };
    Ok((kept, files))
}

/// Stores the files of the post just queued under `key`, in the caller's transaction.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    key: &OutboxKey,
    files: &[&[u8]],
) -> Result<()> {
    let key = key.to_string();
    for (index, bytes) in files.iter().enumerate() {
        sqlx::query("INSERT INTO outbox_attachments (key, idx, data) VALUES ($1, $2, $3)")
            .bind(&key)
            .bind(index as i64)
            .bind(*bytes)
            .execute(&mut *conn)
            .await
            .with_context(|| format!("storing file {index} of {key}"))?;
    }
    Ok(())
}

impl Store {
    /// The bytes of a file of the post queued under `key`: read from `outbox_attachments`, or
    /// from the file itself when it holds them. `None` when the store has no such file.
    pub async fn attachment_bytes(
        &self,
        key: &OutboxKey,
        file: &Attachment,
    ) -> Result<Option<Vec<u8>>> {
        let index = match &file.data {
            AttachmentData::Bytes(bytes) => return Ok(Some(bytes.clone())),
            AttachmentData::Stored { index } => *index,
        };
        let row = sqlx::query("SELECT data FROM outbox_attachments WHERE key = $1 AND idx = $2")
            .bind(key.to_string())
            .bind(index as i64)
            .fetch_optional(&self.pool)
            .await
            .with_context(|| format!("reading file {index} of {key}"))?;
        row.map(|row| col(&row, "data")).transpose()
    }
}
