//! The values tests hold and inspect: people, chats, what the bot posted, what
//! it called. Plain data, cloned out of the fake's state.

use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::support::telegram_html::Entity;

/// A Telegram user who talks to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// A one-to-one chat; its id is the user's id.
    Private,
    /// A basic group (`"type":"group"`, negative id).
    Group,
    /// A supergroup (`-100…` id); a forum has topics.
    Supergroup { is_forum: bool },
}

/// A chat known to the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeChat {
    pub id: i64,
    pub kind: ChatKind,
    /// Groups' title; `None` for private chats.
    pub title: Option<String>,
}

/// What injecting a user message produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub update_id: i64,
    pub message_id: i32,
}

/// A message a user sends, with the optional topic, reply and file.
#[derive(Debug, Clone)]
pub struct UserMessage {
    /// The text, or the file's caption (empty: none).
    pub(super) text: String,
    pub(super) thread_id: Option<i32>,
    pub(super) reply_to: Option<i32>,
    pub(super) file: Option<UserFile>,
    /// Entities as given, instead of the ones a client detects (a broken client's).
    pub(super) entities: Option<Vec<Entity>>,
}

/// A photo or document a user sends.
#[derive(Debug, Clone)]
pub struct UserFile {
    pub(super) name: String,
    pub(super) bytes: Bytes,
    pub(super) kind: UserFileKind,
}

/// How a user's file is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UserFileKind {
    Photo,
    Document,
    /// A voice note (OGG/Opus, recorded in the app).
    Voice,
}

impl UserMessage {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            thread_id: None,
            reply_to: None,
            file: None,
            entities: None,
        }
    }

    /// Sends `entities` as they are, even ones that do not fit the text, instead of the
    /// entities Telegram detects: what a broken or hostile client gets through.
    pub fn with_entities(mut self, entities: Vec<Entity>) -> Self {
        self.entities = Some(entities);
        self
    }

    /// Sends a photo (a PNG or JPEG), with the text as its caption.
    pub fn with_photo(mut self, bytes: impl Into<Bytes>) -> Self {
        self.file = Some(UserFile {
            name: "photo.jpg".to_owned(),
            bytes: bytes.into(),
            kind: UserFileKind::Photo,
        });
        self
    }

    /// Sends a document named `name`, with the text as its caption.
    pub fn with_document(mut self, name: &str, bytes: impl Into<Bytes>) -> Self {
        self.file = Some(UserFile {
            name: name.to_owned(),
            bytes: bytes.into(),
            kind: UserFileKind::Document,
        });
        self
    }

    /// Sends a voice note recorded as `bytes`, with the text as its caption.
    pub fn with_voice(mut self, bytes: impl Into<Bytes>) -> Self {
        self.file = Some(UserFile {
            name: "voice.ogg".to_owned(),
            bytes: bytes.into(),
            kind: UserFileKind::Voice,
        });
        self
    }

    /// Sends into a forum topic (its thread id, from `create_topic`).
    pub fn in_thread(mut self, thread_id: i32) -> Self {
        self.thread_id = Some(thread_id);
        self
    }

    /// Replies to a message of the same chat (the user's, another user's or
    /// the bot's). In a forum the reply lands in the replied message's topic
    /// unless `in_thread` says otherwise.
    pub fn reply_to(mut self, message_id: i32) -> Self {
        self.reply_to = Some(message_id);
        self
    }
}

/// A file the bot uploaded with `sendDocument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotDocument {
    pub file_name: String,
    pub mime_type: String,
    pub file_id: String,
    pub bytes: Bytes,
}

/// An image the bot uploaded with `sendPhoto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotPhoto {
    pub width: u32,
    pub height: u32,
    pub file_id: String,
    pub bytes: Bytes,
}

/// One state of a message's text (or caption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextVersion {
    /// Visible text, after HTML parsing and Telegram's trimming.
    pub text: String,
    /// The source the bot sent when it used `parse_mode: "HTML"`.
    pub html: Option<String>,
    pub entities: Vec<Entity>,
    pub at: SystemTime,
}

/// A message the bot posted, as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotMessage {
    pub chat_id: i64,
    pub message_id: i32,
    /// Forum topic; `None` outside topics (and in a forum's General topic).
    pub thread_id: Option<i32>,
    /// Visible text (the caption for documents and photos).
    pub text: String,
    pub html: Option<String>,
    pub entities: Vec<Entity>,
    /// The message the bot explicitly replied to (not the topic root).
    pub reply_to: Option<i32>,
    pub document: Option<BotDocument>,
    pub photo: Option<BotPhoto>,
    /// Every text this message has shown, oldest first; the last is current.
    pub versions: Vec<TextVersion>,
    pub deleted: bool,
    pub sent_at: SystemTime,
    /// The labels of the buttons under it now.
    pub buttons: Vec<String>,
}

impl BotMessage {
    /// How many times the bot edited this message.
    pub fn edit_count(&self) -> usize {
        self.versions.len().saturating_sub(1)
    }
}

/// One HTTP call the bot made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Canonical camelCase name (`sendMessage`); unknown methods as sent.
    pub method: String,
    /// The `chat_id` parameter, when there was a numeric one.
    pub chat_id: Option<i64>,
    pub at: SystemTime,
    /// HTTP status returned (200, 400, 401, 404, 409, 429).
    pub status: u16,
    /// The error description, for failed calls.
    pub description: Option<String>,
    /// For 429 answers.
    pub retry_after: Option<u32>,
    /// The serial number of the TCP connection the call came on (in accept order): a
    /// connection belongs to one bot process.
    pub connection: u64,
    /// The message a post made (also when its answer was then lost).
    pub message_id: Option<i32>,
}

/// A counted call that arrived while its chat was inside a `retry_after`
/// window: the bot ignored a 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub method: String,
    pub chat_id: i64,
    pub at: SystemTime,
    pub window_end: SystemTime,
}

impl Violation {
    /// How early the call came.
    pub fn early_by(&self) -> Duration {
        self.window_end
            .duration_since(self.at)
            .unwrap_or(Duration::ZERO)
    }
}

/// The webhook as set by the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookInfo {
    pub url: String,
    pub secret_token: Option<String>,
    pub allowed_updates: Option<Vec<String>>,
    pub max_connections: u32,
    pub pending_update_count: usize,
    pub last_error_message: Option<String>,
}
