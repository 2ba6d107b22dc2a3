//! Outbound messages as the core asks for them: platform-neutral Markdown under an idempotency
//! key (DESIGN invariant 4).
//!
//! The core never calls a platform. It writes an [`Outbound`] into the store's outbox — in the
//! same transaction as the state change that caused it — and each platform's scheduler delivers
//! it within that platform's limits. A key is posted at most once: a replay after a crash finds
//! the key done (or its parts already posted) and resumes instead of repeating.

use serde::{Deserialize, Serialize};

use super::controls::Button;
use super::outbox_key::OutboxKey;
use super::thread::ThreadRef;

/// One thing to deliver to a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    /// Idempotency key.
    pub key: OutboxKey,
    pub thread: ThreadRef,
    pub op: OutboundOp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OutboundOp {
    /// Post a new message (the platform may split it into several parts).
    Post(Post),
    /// Replace the text of the message posted under the key `target`. Edits of one target are
    /// coalesced: only the latest text is delivered. A `progress` edit may be held back when the
    /// chat's budget is tight; a final one (the turn's outcome) may not. The buttons replace
    /// the message's (none: its buttons are removed).
    Edit {
        target: OutboxKey,
        markdown: String,
        progress: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Button>,
    },
    /// React to a platform message (the user's request) with an emoji.
    React {
        message_id: String,
        reaction: Reaction,
    },
}

/// The reactions the bot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reaction {
    /// Seen; working on it.
    Eyes,
    /// The turn ended with an answer.
    Done,
    /// The turn ended without one (an error, a stop, a timeout).
    Failed,
}

impl OutboundOp {
    /// True for progress refreshes, which yield to everything else in a busy chat.
    pub fn is_progress(&self) -> bool {
        matches!(self, OutboundOp::Edit { progress: true, .. })
    }

    /// The key of the message an edit changes.
    pub fn target(&self) -> Option<&OutboxKey> {
        match self {
            OutboundOp::Post(_) | OutboundOp::React { .. } => None,
            OutboundOp::Edit { target, .. } => Some(target),
        }
    }
}

/// A new message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The text, as CommonMark.
    pub markdown: String,
    /// Platform message id to reply to (the user's prompt).
    pub reply_to: Option<String>,
    /// Deliver without a notification (acknowledgements, progress).
    pub silent: bool,
    /// File name (without extension) for the full text, should the platform have to send a
    /// very long message as a document.
    pub document_name: Option<String>,
    /// Files that go with the text, after it (a turn's patch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The edit of the thread's status message that goes with this post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusWith>,
    /// Buttons under the post's first message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

/// A turn's final status goes with its answer, not behind it: the status edit — queued as its
/// own row under `key`, so it still goes should the post never be delivered — is delivered as
/// soon as `after_parts` of the post's parts are out, before the rest (a chat's answer, then
/// "✅ Done", then the patch), instead of waiting for every part and reaction queued with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusWith {
    /// The outbox key of the status edit.
    pub key: OutboxKey,
    /// How many of the post's parts go before the edit.
    pub after_parts: usize,
}

/// A file sent with a post: a Telegram document or photo, a Slack file, a Discord attachment.
///
/// An attachment is made with its bytes ([`AttachmentData::Bytes`]). Queued, it keeps only what
/// names it: the outbox row holds its name, caption and kind and where its bytes are
/// ([`AttachmentData::Stored`]), and the store keeps the bytes apart, in the row's transaction.
/// So the delivery loop, which reads pending rows on every pass, reads a patch (up to 4 MiB) or an
/// image (up to 8 MiB) only when the part that sends it goes out. Rows queued before files were
/// kept apart hold the bytes inline (base64) and are read as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name, with its extension (`turn-0a1b2c3d.diff`, `chart.png`).
    pub name: String,
    /// The bytes, or where the store keeps them.
    pub data: AttachmentData,
    /// A line shown with it.
    pub caption: String,
    /// An image to show as one (a photo), not a file to download.
    #[serde(default)]
    pub image: bool,
}

/// An attachment's bytes, or where the store keeps them (see [`Attachment`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttachmentData {
    /// The bytes themselves (base64 in JSON): an attachment as it is made, a long answer's text
    /// sent as a file, and an attachment of a row queued before files were kept apart.
    Bytes(#[serde(with = "base64_bytes")] Vec<u8>),
    /// Kept by the store under the outbox row's key and `index`.
    Stored { index: usize },
}

impl Attachment {
    pub fn text(name: String, content: String, caption: String) -> Attachment {
        Attachment {
            name,
            data: AttachmentData::Bytes(content.into_bytes()),
            caption,
            image: false,
        }
    }

    pub fn image(name: String, data: Vec<u8>, caption: String) -> Attachment {
        Attachment {
            name,
            data: AttachmentData::Bytes(data),
            caption,
            image: true,
        }
    }

    /// The bytes, when the attachment holds them (as made; not once queued).
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            AttachmentData::Bytes(bytes) => Some(bytes),
            AttachmentData::Stored { .. } => None,
        }
    }
}

/// Bytes as base64 text in JSON.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

impl Post {
    pub fn text(markdown: impl Into<String>) -> Post {
        Post {
            markdown: markdown.into(),
            reply_to: None,
            silent: false,
            document_name: None,
            attachments: Vec::new(),
            status: None,
            buttons: Vec::new(),
        }
    }

    pub fn replying_to(mut self, message_id: Option<String>) -> Post {
        self.reply_to = message_id;
        self
    }

    pub fn silent(mut self) -> Post {
        self.silent = true;
        self
    }

    pub fn document_name(mut self, name: impl Into<String>) -> Post {
        self.document_name = Some(name.into());
        self
    }

    pub fn attach(mut self, attachments: Vec<Attachment>) -> Post {
        self.attachments = attachments;
        self
    }

    pub fn with_buttons(mut self, buttons: Vec<Button>) -> Post {
        self.buttons = buttons;
        self
    }

    /// Has the status edit queued under `key` delivered once `after_parts` of this post's parts
    /// are out (see [`StatusWith`]).
    pub fn with_status(mut self, key: OutboxKey, after_parts: usize) -> Post {
        self.status = Some(StatusWith { key, after_parts });
        self
    }
}
