//! What Discord sends: gateway frames, and the few objects inside them Switchboard reads —
//! messages, interactions, channels — only the fields it uses, leniently. Real payloads carry
//! many more fields (`_trace`, `avatar_decoration`, …) and older ones lack newer fields
//! (`global_name`, `channel_type`, `flags`), so everything optional defaults.

use serde::Deserialize;
use serde_json::Value;

/// One gateway frame: `{"op", "d", "s", "t"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Frame {
    pub op: u8,
    #[serde(default)]
    pub d: Value,
    /// The sequence number of a dispatch (op 0).
    #[serde(default)]
    pub s: Option<u64>,
    /// The event name of a dispatch (op 0).
    #[serde(default)]
    pub t: Option<String>,
}

/// Gateway opcodes the bot sends or reads.
pub mod op {
    pub const DISPATCH: u8 = 0;
    pub const HEARTBEAT: u8 = 1;
    pub const IDENTIFY: u8 = 2;
    pub const RESUME: u8 = 6;
    pub const RECONNECT: u8 = 7;
    pub const INVALID_SESSION: u8 = 9;
    pub const HELLO: u8 = 10;
    pub const HEARTBEAT_ACK: u8 = 11;
}

/// HELLO's `d`.
#[derive(Debug, Clone, Deserialize)]
pub struct Hello {
    /// Milliseconds.
    pub heartbeat_interval: u64,
}

/// READY's `d`, the parts that matter for resuming.
#[derive(Debug, Clone, Deserialize)]
pub struct Ready {
    pub session_id: String,
    pub resume_gateway_url: String,
    pub user: User,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub global_name: Option<String>,
    #[serde(default)]
    pub bot: bool,
}

impl User {
    /// The name people see.
    pub fn display(&self) -> String {
        self.global_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.username.clone())
    }
}

/// A guild member as messages and interactions carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Member {
    #[serde(default)]
    pub roles: Vec<String>,
    /// Interactions carry the user inside the member.
    #[serde(default)]
    pub user: Option<User>,
}

/// A message (MESSAGE_CREATE's `d`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Message {
    pub id: String,
    pub channel_id: String,
    #[serde(default)]
    pub guild_id: Option<String>,
    pub author: User,
    #[serde(default)]
    pub member: Option<Member>,
    #[serde(default)]
    pub content: String,
    /// 0 default, 19 reply, 21 thread starter, 20 command response, 7 member join, …
    #[serde(rename = "type", default)]
    pub kind: u8,
    #[serde(default)]
    pub mentions: Vec<User>,
    /// The channel's type (the gateway sends it; 10–12 are threads).
    #[serde(default)]
    pub channel_type: Option<u8>,
    /// Set on messages posted by webhooks (and interaction responses).
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// Files sent with the message.
    #[serde(default)]
    pub attachments: Vec<MessageAttachment>,
    /// Message flags; [`Message::IS_VOICE_MESSAGE`] marks a voice message.
    #[serde(default)]
    pub flags: u64,
}

impl Message {
    /// The flag of a voice message (its one attachment is the recording).
    pub const IS_VOICE_MESSAGE: u64 = 1 << 13;
}

/// A file sent with a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MessageAttachment {
    pub filename: String,
    #[serde(default)]
    pub size: Option<u64>,
    /// Where the CDN serves it.
    pub url: String,
    /// Its media type (`audio/ogg` for a voice message).
    #[serde(default)]
    pub content_type: Option<String>,
}

/// A channel, as GUILD_CREATE, THREAD_CREATE and `GET /channels/{id}` carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Channel {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: u8,
    #[serde(default)]
    pub guild_id: Option<String>,
    /// A thread's text channel.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// Thread channel types: announcement, public and private threads.
pub fn is_thread(kind: u8) -> bool {
    matches!(kind, 10..=12)
}

/// The channels of a guild (GUILD_CREATE's `d`, the parts used).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GuildCreate {
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub threads: Vec<Channel>,
}

/// An interaction (INTERACTION_CREATE's `d`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Interaction {
    pub id: String,
    /// 1 ping, 2 application command, 3 component, 4 autocomplete, 5 modal.
    #[serde(rename = "type")]
    pub kind: u8,
    pub token: String,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub guild_id: Option<String>,
    #[serde(default)]
    pub channel_id: Option<String>,
    /// The partial channel (with `type` and a thread's `parent_id`).
    #[serde(default)]
    pub channel: Option<Channel>,
    /// In guilds.
    #[serde(default)]
    pub member: Option<Member>,
    /// In DMs.
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub data: Option<CommandData>,
    /// A component's message (the one whose button was pressed).
    #[serde(default)]
    pub message: Option<InteractionMessage>,
}

/// The message a pressed button is under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct InteractionMessage {
    pub id: String,
    #[serde(default)]
    pub author: Option<User>,
}

impl Interaction {
    pub fn author(&self) -> Option<&User> {
        self.member
            .as_ref()
            .and_then(|m| m.user.as_ref())
            .or(self.user.as_ref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CommandData {
    /// A slash command's name (none for a component).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub options: Vec<CommandOption>,
    /// A pressed button's `custom_id`.
    #[serde(default)]
    pub custom_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CommandOption {
    pub name: String,
    #[serde(default)]
    pub value: Value,
}
