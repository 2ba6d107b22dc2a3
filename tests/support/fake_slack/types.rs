//! The values tests hold and inspect: people, channels, messages, what the
//! bot called, and how events travelled. Plain data, cloned out of the fake's
//! state; a handle (`FakeUser`, `FakeChannel`) names a thing in the fake, its
//! current state is asked from the fake.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKind {
    Human,
    /// Another app's bot user (or this app's own, for [`FakeSlack::bot_user`]).
    Bot {
        bot_id: String,
        app_id: String,
    },
}

/// An account in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    /// `U…`.
    pub id: String,
    pub name: String,
    pub kind: UserKind,
}

impl FakeUser {
    /// `<@U…>`: how a message mentions this user.
    pub fn mention(&self) -> String {
        format!("<@{}>", self.id)
    }

    pub fn bot_id(&self) -> Option<&str> {
        match &self.kind {
            UserKind::Bot { bot_id, .. } => Some(bot_id),
            UserKind::Human => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// `C…`, `channel_type` `channel`.
    Public,
    /// `C…` (or `G…` for old ones), `channel_type` `group`.
    Private,
    /// `D…`: a direct message with the bot, `channel_type` `im`.
    Im,
}

impl ChannelKind {
    /// The `channel_type` of events in such a conversation.
    pub fn channel_type(self) -> &'static str {
        match self {
            Self::Public => "channel",
            Self::Private => "group",
            Self::Im => "im",
        }
    }
}

/// A conversation: channel, private channel or DM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeChannel {
    pub id: String,
    pub name: String,
    pub kind: ChannelKind,
}

/// One text a message has shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextVersion {
    pub text: String,
    pub at: SystemTime,
}

/// A message as the fake holds it now (people's and bots' alike).
#[derive(Debug, Clone, PartialEq)]
pub struct SlackMessage {
    pub channel: String,
    pub ts: String,
    /// The thread it is in (the parent's `ts`); `None` at top level. A thread
    /// parent has `thread_ts == Some(ts)` once it has replies.
    pub thread_ts: Option<String>,
    /// `U…` of the author (bots have one too), `None` for legacy integrations.
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub subtype: Option<String>,
    /// The current text.
    pub text: String,
    /// Every text it has shown, oldest first; the last is current.
    pub versions: Vec<TextVersion>,
    pub blocks: Option<Value>,
    /// Ids of the files shared with it.
    pub files: Vec<String>,
    /// `(emoji name, users)` in the order first added.
    pub reactions: Vec<(String, Vec<String>)>,
    pub deleted: bool,
    /// Posted with `reply_broadcast` (also shown in the channel).
    pub broadcast: bool,
    /// The message metadata it was posted with.
    pub metadata: Option<Value>,
}

impl SlackMessage {
    /// The labels of the buttons under it now (its actions blocks').
    pub fn buttons(&self) -> Vec<String> {
        let Some(blocks) = self.blocks.as_ref().and_then(Value::as_array) else {
            return Vec::new();
        };
        blocks
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["text"]["text"].as_str().map(str::to_owned))
            .collect()
    }
}

impl SlackMessage {
    pub fn edits(&self) -> usize {
        self.versions.len().saturating_sub(1)
    }

    pub fn is_reply(&self) -> bool {
        self.thread_ts.as_deref().is_some_and(|t| t != self.ts)
    }
}

/// A file uploaded through `files.getUploadURLExternal` + upload + complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFile {
    pub id: String,
    pub filename: String,
    pub title: Option<String>,
    /// `length` declared when the upload URL was asked for.
    pub declared_length: u64,
    /// What arrived at the upload URL (`None` until then).
    pub bytes: Option<Bytes>,
    pub alt_txt: Option<String>,
    pub snippet_type: Option<String>,
    /// Where `files.completeUploadExternal` shared it.
    pub channel: Option<String>,
    pub thread_ts: Option<String>,
    pub initial_comment: Option<String>,
    /// The message that carries it.
    pub message_ts: Option<String>,
    pub completed: bool,
}

/// A message only one person can see (`chat.postEphemeral`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub text: String,
    pub thread_ts: Option<String>,
    pub blocks: Option<Value>,
    /// What `message_ts` answered.
    pub message_ts: String,
}

/// A slash command a person ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashInvocation {
    pub command: String,
    pub text: String,
    pub user: String,
    pub channel: String,
    pub trigger_id: String,
    /// Where the app may POST delayed responses.
    pub response_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlashResponseVia {
    /// The `payload` of a Socket Mode ack.
    Ack,
    /// The body of the answer to the signed HTTP POST.
    HttpBody,
    /// A POST to the command's `response_url`.
    ResponseUrl,
}

/// What the app showed in answer to a slash command.
#[derive(Debug, Clone, PartialEq)]
pub struct SlashResponse {
    pub trigger_id: String,
    pub via: SlashResponseVia,
    pub text: String,
    /// `ephemeral` (Slack's default) or `in_channel`.
    pub response_type: String,
    pub body: Value,
}

/// How a Web API call authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    None,
    Bot,
    App,
    /// A token the workspace does not know.
    Unknown,
}

/// One Web API request the fake answered.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// `chat.postMessage`, or the unknown name that was asked for.
    pub method: String,
    /// Parameters as received (form values are strings).
    pub params: Value,
    pub http_status: u16,
    /// The `error` of an `ok: false` answer.
    pub error: Option<String>,
    pub token: TokenKind,
    pub at: SystemTime,
}

/// A call that came inside a `Retry-After` window: the bot ignored a 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub method: String,
    /// For `chat.postMessage`, the channel.
    pub channel: Option<String>,
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

/// One Socket Mode WebSocket connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// 1, 2, … in the order they opened.
    pub id: u64,
    pub opened_at: SystemTime,
    /// The `reason` of a `disconnect` message sent to it.
    pub disconnect_sent: Option<String>,
    pub closed_at: Option<SystemTime>,
    pub close: Option<CloseKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// The client closed it (close frame or end of stream).
    ByClient,
    /// The fake closed it with a close frame after a `disconnect`.
    AfterDisconnect,
    /// The fake dropped the TCP connection without a close frame.
    Dropped,
}

/// One sending of an envelope on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeAttempt {
    pub connection: u64,
    pub retry_attempt: u32,
    pub sent_at: SystemTime,
}

/// An envelope Slack owes the app over Socket Mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub envelope_id: String,
    /// `events_api` or `slash_commands`.
    pub kind: String,
    /// `event_id` of an `events_api` envelope.
    pub event_id: Option<String>,
    pub payload: Value,
    pub attempts: Vec<EnvelopeAttempt>,
    /// When the first ack arrived (on time or late).
    pub acked_at: Option<SystemTime>,
    /// Every deadline passed without an ack and no retry is left.
    pub given_up: bool,
}

impl Envelope {
    pub fn acked(&self) -> bool {
        self.acked_at.is_some()
    }
}

/// An ack frame the app sent.
#[derive(Debug, Clone, PartialEq)]
pub struct AckRecord {
    pub envelope_id: String,
    pub connection: u64,
    pub at: SystemTime,
    /// It came after every attempt's deadline, or after the envelope was
    /// given up.
    pub late: bool,
    /// The envelope id was never sent by the fake.
    pub unknown: bool,
    pub payload: Option<Value>,
}

/// One signed HTTP POST the fake made to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpDelivery {
    pub url: String,
    /// `event`, `command` or `url_verification`.
    pub kind: String,
    pub event_id: Option<String>,
    /// 0 for the first attempt, then `X-Slack-Retry-Num`.
    pub retry_num: u32,
    pub retry_reason: Option<String>,
    /// The exact bytes signed and sent.
    pub body: Bytes,
    pub timestamp: i64,
    pub signature: String,
    /// The app's status; `None` when it did not answer in time or at all.
    pub status: Option<u16>,
    /// Why there is no status (`http_timeout`, `connection_failed`).
    pub failure: Option<String>,
    pub response_body: String,
    pub at: SystemTime,
}

impl HttpDelivery {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}
