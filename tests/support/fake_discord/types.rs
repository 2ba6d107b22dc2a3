//! The values tests hold and inspect: people, guilds, channels, messages,
//! what the bot called, and the gateway's history. Plain data cloned out of
//! the fake's state. Ids are snowflakes as strings, exactly as on the wire,
//! so they compare directly with payload fields.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::Value;

use super::routes::RouteKind;

/// A Discord account: a person, another bot, or the fake's own bot user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub username: String,
    pub global_name: Option<String>,
    /// `"bot": true` on the wire.
    pub bot: bool,
}

impl FakeUser {
    /// `<@id>`: how a message mentions this user.
    pub fn mention(&self) -> String {
        format!("<@{}>", self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeGuild {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRole {
    pub id: String,
    pub guild_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// `"type": 0`.
    GuildText,
    /// `"type": 11`.
    PublicThread,
    /// `"type": 1`.
    Dm,
}

impl ChannelKind {
    pub fn code(self) -> u8 {
        match self {
            Self::GuildText => 0,
            Self::Dm => 1,
            Self::PublicThread => 11,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeChannel {
    pub id: String,
    pub kind: ChannelKind,
    /// `None` for DMs.
    pub guild_id: Option<String>,
    /// A thread's text channel.
    pub parent_id: Option<String>,
    pub name: Option<String>,
}

/// One content a message has shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentVersion {
    pub content: String,
    pub at: SystemTime,
}

/// A file sent with a message (multipart `files[n]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// A message as the fake holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub id: String,
    pub channel_id: String,
    pub guild_id: Option<String>,
    pub author: FakeUser,
    /// The current content (the last version).
    pub content: String,
    /// Every content it has shown, oldest first.
    pub versions: Vec<ContentVersion>,
    pub attachments: Vec<Attachment>,
    pub created_at: SystemTime,
    /// `edited_timestamp`.
    pub edited_at: Option<SystemTime>,
    /// `message_reference.message_id` of a reply.
    pub reply_to: Option<String>,
    /// Discord's message type: 0 default, 19 reply, 20 chat-input command
    /// response, 21 thread starter.
    pub kind: u8,
    pub flags: u64,
    /// The thread started from this message.
    pub thread_id: Option<String>,
    /// The interaction this message answers.
    pub interaction_id: Option<String>,
    pub deleted: bool,
    /// The labels of the buttons under it now.
    pub buttons: Vec<String>,
}

impl MessageState {
    pub fn edits(&self) -> usize {
        self.versions.len().saturating_sub(1)
    }
}

/// What `user_says_with` sends: text, optionally as a reply.
#[derive(Debug, Clone, Default)]
pub struct UserMessage {
    pub content: String,
    pub reply_to: Option<String>,
    /// Files sent with it: name and bytes.
    pub files: Vec<(String, Bytes)>,
}

impl UserMessage {
    pub fn new(content: &str) -> Self {
        Self {
            content: content.to_string(),
            reply_to: None,
            files: Vec::new(),
        }
    }

    /// Sends a file with the message.
    pub fn with_file(mut self, name: &str, bytes: impl Into<Bytes>) -> Self {
        self.files.push((name.to_owned(), bytes.into()));
        self
    }

    pub fn replying_to(mut self, message_id: &str) -> Self {
        self.reply_to = Some(message_id.to_string());
        self
    }
}

/// A thread as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadState {
    pub channel: FakeChannel,
    pub name: String,
    /// The message it was started from (its id is the thread's id).
    pub from_message: Option<String>,
    pub owner_id: String,
    pub auto_archive_duration: u32,
    /// Started by the bot (through REST) rather than by a test.
    pub by_bot: bool,
    pub created_at: SystemTime,
}

/// A reaction currently on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionState {
    pub user_id: String,
    /// `👍` for Unicode emoji, `name:id` for custom ones.
    pub emoji: String,
    pub at: SystemTime,
}

/// A slash command a test invoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionHandle {
    pub id: String,
    pub token: String,
    pub application_id: String,
    pub channel_id: String,
    pub guild_id: Option<String>,
    pub command: String,
}

/// The initial response to an interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionCallback {
    /// 4 CHANNEL_MESSAGE_WITH_SOURCE, 5 DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE.
    pub kind: u8,
    pub data: Value,
    pub at: SystemTime,
    /// How long after the INTERACTION_CREATE it came.
    pub after: Duration,
}

/// Everything the bot did with one interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionState {
    pub id: String,
    pub token: String,
    pub callback: Option<InteractionCallback>,
    /// The original response message (after a type 4 or 5 callback).
    pub original: Option<MessageState>,
    pub followups: Vec<MessageState>,
    /// A callback came after the deadline (and was refused).
    pub expired: bool,
}

/// An application command as registered.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredCommand {
    pub id: String,
    pub guild_id: Option<String>,
    pub name: String,
    pub description: String,
    /// 1 CHAT_INPUT, 2 USER, 3 MESSAGE.
    pub kind: u8,
    pub options: Value,
    /// The object as Discord returns it.
    pub json: Value,
}

/// One HTTP request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub method: String,
    /// Path below `/api/v10`, without the query.
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// Discord's JSON error code (0 when none).
    pub code: u64,
    pub kind: Option<RouteKind>,
    /// The bucket (its first route kind's name) and the major parameter.
    pub bucket: Option<String>,
    pub at: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationKind {
    /// A request inside a window a 429 had announced.
    RateLimit { bucket: String, global: bool },
    /// An interaction callback after the deadline.
    ExpiredInteraction { interaction_id: String },
}

/// Something the bot did that Discord punishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub method: String,
    pub path: String,
    pub at: SystemTime,
    /// When it would have been allowed (rate limits) or the deadline that
    /// passed (interactions).
    pub window_end: SystemTime,
}

impl Violation {
    /// How early (rate limits) or late (interactions) the request was.
    pub fn off_by(&self) -> Duration {
        match self.window_end.duration_since(self.at) {
            Ok(d) => d,
            Err(e) => e.duration(),
        }
    }
}

/// How an IDENTIFY or RESUME ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeOutcome {
    /// READY (IDENTIFY) or RESUMED after `replayed` dispatches (RESUME).
    Accepted { replayed: usize },
    /// op 9 INVALID_SESSION with `d: false`.
    InvalidSession,
    /// The connection was closed with this code.
    Closed(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyRecord {
    pub connection: u64,
    pub session_id: Option<String>,
    pub intents: u64,
    pub shard: Option<[u64; 2]>,
    pub properties: Value,
    pub outcome: HandshakeOutcome,
    pub at: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRecord {
    pub connection: u64,
    pub session_id: String,
    pub seq: u64,
    pub outcome: HandshakeOutcome,
    pub at: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRecord {
    pub connection: u64,
    /// The `d` the client sent: its last sequence number.
    pub seq: Option<u64>,
    pub at: SystemTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedBy {
    /// The fake closed (or dropped) it: a test control, a protocol error,
    /// a zombie.
    Server,
    /// The client sent a close frame.
    Client,
    /// The TCP connection ended without a close frame from the client.
    Vanished,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRecord {
    pub connection: u64,
    pub by: ClosedBy,
    /// `None`: no close frame (dropped).
    pub code: Option<u16>,
    pub at: SystemTime,
}

/// A gateway session now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub id: String,
    pub intents: u64,
    /// The last `s` handed out.
    pub seq: u64,
    pub connected: bool,
    pub resumable: bool,
}

/// The gateway's history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayFacts {
    /// WebSocket connections accepted.
    pub connections: u64,
    pub identifies: Vec<IdentifyRecord>,
    pub resumes: Vec<ResumeRecord>,
    pub heartbeats: Vec<HeartbeatRecord>,
    pub closes: Vec<CloseRecord>,
    pub sessions: Vec<SessionFacts>,
}
