//! Everything the fake remembers, behind one mutex.
//!
//! One lock is deliberate here (unlike in the bot): a rate-limit decision, the
//! message it lets through and the call record must change together, so that
//! a test that sees a message also sees its call, and two concurrent sends to
//! one chat cannot both pass the limiter. The lock is never held across an
//! `.await`; waiters sleep on the `watch` channels in [`Shared`] instead.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use super::buttons::{InlineButton, Query};
use super::config::FakeTelegramConfig;
use super::faults::Faults;
use super::rate_limit::{Limits, RateLimiter};
use super::types::{
    BotDocument, BotMessage, BotPhoto, CallRecord, ChatKind, FakeChat, FakeUser, TextVersion,
    Violation,
};
use crate::support::telegram_html::Entity;

/// The bot's own identity, from the config.
#[derive(Debug, Clone)]
pub(super) struct BotIdentity {
    pub id: i64,
    pub username: String,
    pub first_name: String,
}

/// One monotonic clock for limits, records and message dates, so that they
/// agree with each other (and with tokio's clock if a test pauses it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    start: Instant,
    start_system: SystemTime,
}

impl Clock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            start_system: SystemTime::now(),
        }
    }

    pub fn now(&self) -> (Instant, SystemTime) {
        let now = Instant::now();
        (now, self.system_at(now))
    }

    pub fn system_at(&self, at: Instant) -> SystemTime {
        self.start_system + at.saturating_duration_since(self.start)
    }
}

/// Seconds since the epoch, as Telegram's `date` fields.
pub(super) fn unix(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// What the server, the webhook sender and the test handle share.
pub(super) struct Shared {
    pub config: FakeTelegramConfig,
    pub bot: BotIdentity,
    pub clock: Clock,
    state: Mutex<State>,
    /// Bumped after anything a test may wait for: messages, calls.
    pub changed: watch::Sender<()>,
    /// Bumped when updates are queued, confirmed, or the webhook or the
    /// getUpdates generation changes.
    pub updates_changed: watch::Sender<()>,
}

impl Shared {
    pub fn new(config: FakeTelegramConfig) -> Self {
        let bot = BotIdentity {
            id: config.bot_id(),
            username: config.bot_username.clone(),
            first_name: config.bot_first_name.clone(),
        };
        let limits = Limits {
            per_chat_min_interval: config.per_chat_min_interval,
            per_group_per_minute: config.per_group_per_minute,
            global_per_second: config.global_per_second,
            tolerance: config.tolerance,
        };
        let faults = config.faults.map(Faults::new);
        Self {
            config,
            bot,
            clock: Clock::new(),
            state: Mutex::new(State::new(RateLimiter::new(limits), faults)),
            changed: watch::channel(()).0,
            updates_changed: watch::channel(()).0,
        }
    }

    /// A panicking test thread must not wedge every later call, so poisoning
    /// is ignored: the state is plain data and stays consistent per call.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn notify_changed(&self) {
        self.changed.send_modify(|_| {});
    }

    pub fn notify_updates(&self) {
        self.updates_changed.send_modify(|_| {});
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sender {
    Bot,
    User(i64),
}

/// Formatted text of a message or caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Formatted {
    pub text: String,
    pub entities: Vec<Entity>,
    pub html: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct StoredFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Bytes,
    /// Pixel size, for photos.
    pub dimensions: Option<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub(super) enum Attachment {
    Document(StoredFile),
    Photo(StoredFile),
    /// A user's voice note (bots here send none).
    Voice(StoredFile),
}

#[derive(Debug, Clone)]
pub(super) struct StoredMessage {
    pub message_id: i32,
    pub sender: Sender,
    pub date: i64,
    pub thread_id: Option<i32>,
    /// Explicit reply; a topic message without one replies to the topic root.
    pub reply_to: Option<i32>,
    /// Text, or the caption of an attachment. `None` for an uncaptioned file
    /// and for service messages.
    pub text: Option<Formatted>,
    pub attachment: Option<Attachment>,
    /// For the `forum_topic_created` service message: the topic name.
    pub topic_created: Option<String>,
    pub edit_date: Option<i64>,
    /// When the current text took effect.
    pub text_since: SystemTime,
    /// Earlier texts, oldest first.
    pub history: Vec<TextVersion>,
    pub deleted: bool,
    pub sent_at: SystemTime,
    /// The inline keyboard under it.
    pub keyboard: Vec<Vec<InlineButton>>,
}

impl StoredMessage {
    pub fn new(message_id: i32, sender: Sender, at: SystemTime) -> Self {
        Self {
            message_id,
            sender,
            date: unix(at),
            thread_id: None,
            reply_to: None,
            text: None,
            attachment: None,
            topic_created: None,
            edit_date: None,
            text_since: at,
            history: Vec::new(),
            deleted: false,
            sent_at: at,
            keyboard: Vec::new(),
        }
    }

    /// The current text as a version.
    pub fn current_version(&self) -> TextVersion {
        let f = self.text.clone().unwrap_or(Formatted {
            text: String::new(),
            entities: Vec::new(),
            html: None,
        });
        TextVersion {
            text: f.text,
            html: f.html,
            entities: f.entities,
            at: self.text_since,
        }
    }

    /// Replaces the text, keeping the old one in the history.
    pub fn edit(&mut self, formatted: Formatted, at: SystemTime) {
        let old = self.current_version();
        self.history.push(old);
        self.text = Some(formatted);
        self.edit_date = Some(unix(at));
        self.text_since = at;
    }
}

#[derive(Debug)]
pub(super) struct ChatState {
    pub chat: FakeChat,
    next_message_id: i32,
    pub messages: BTreeMap<i32, StoredMessage>,
    /// Forum topics: thread id → name.
    pub topics: BTreeMap<i32, String>,
    /// Ids of the bot's new messages, in the order it posted them.
    pub bot_posts: Vec<i32>,
}

impl ChatState {
    pub fn new(chat: FakeChat) -> Self {
        // In a real forum, thread id 1 is the General topic, so no topic may
        // get it; a supergroup's message 1 is its creation anyway.
        let next_message_id = match chat.kind {
            ChatKind::Supergroup { .. } => 2,
            _ => 1,
        };
        Self {
            chat,
            next_message_id,
            messages: BTreeMap::new(),
            topics: BTreeMap::new(),
            bot_posts: Vec::new(),
        }
    }

    pub fn is_forum(&self) -> bool {
        matches!(self.chat.kind, ChatKind::Supergroup { is_forum: true })
    }

    /// Message ids count up per chat, shared by everyone who posts there.
    pub fn allocate_message_id(&mut self) -> i32 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }

    /// A live (not deleted) message.
    pub fn live(&self, message_id: i32) -> Option<&StoredMessage> {
        self.messages.get(&message_id).filter(|m| !m.deleted)
    }

    /// A message as tests see it, in its current state.
    pub fn bot_message(&self, message_id: i32) -> Option<BotMessage> {
        let m = self.messages.get(&message_id)?;
        let mut versions = m.history.clone();
        versions.push(m.current_version());
        let current = versions.last().expect("just pushed").clone();
        let (document, photo) = match &m.attachment {
            None | Some(Attachment::Voice(_)) => (None, None),
            Some(Attachment::Document(f)) => (
                Some(BotDocument {
                    file_name: f.file_name.clone(),
                    mime_type: f.mime_type.clone(),
                    file_id: f.file_id.clone(),
                    bytes: f.bytes.clone(),
                }),
                None,
            ),
            Some(Attachment::Photo(f)) => {
                let (width, height) = f.dimensions.unwrap_or_default();
                let photo = BotPhoto {
                    width,
                    height,
                    file_id: f.file_id.clone(),
                    bytes: f.bytes.clone(),
                };
                (None, Some(photo))
            }
        };
        Some(BotMessage {
            chat_id: self.chat.id,
            message_id,
            thread_id: m.thread_id,
            text: current.text,
            html: current.html,
            entities: current.entities,
            reply_to: m.reply_to,
            document,
            photo,
            versions,
            deleted: m.deleted,
            sent_at: m.sent_at,
            buttons: m
                .keyboard
                .iter()
                .flatten()
                .map(|b| b.text.clone())
                .collect(),
        })
    }
}

/// An update waiting for getUpdates or the webhook.
#[derive(Debug, Clone)]
pub(super) struct PendingUpdate {
    pub update_id: i64,
    /// `message`, `edited_message`: what `allowed_updates` filters on.
    pub kind: &'static str,
    pub json: Value,
}

#[derive(Debug, Clone)]
pub(super) struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: u32,
}

pub(super) struct State {
    pub users: HashMap<i64, FakeUser>,
    pub chats: HashMap<i64, ChatState>,
    pub next_group_seq: i64,
    pub pending: VecDeque<PendingUpdate>,
    pub next_update_id: i64,
    pub delivered_at: HashMap<i64, SystemTime>,
    /// Bumped by every getUpdates; an older waiting call that sees a newer
    /// generation answers 409.
    pub poll_generation: u64,
    /// getUpdates calls currently waiting for an update.
    pub polls_waiting: usize,
    /// The next getUpdates calls to leave unanswered (see `FakeTelegram::lose_next_polls`).
    pub polls_to_lose: u32,
    /// getUpdates calls left unanswered so far.
    pub polls_lost: u32,
    /// Shared by getUpdates and setWebhook, as on Telegram.
    pub allowed_updates: Option<Vec<String>>,
    pub webhook: Option<Webhook>,
    pub webhook_last_error: Option<(SystemTime, String)>,
    /// Command lists by scope key (`default`, `all_private_chats`, … plus the
    /// language code).
    pub commands: BTreeMap<String, Vec<(String, String)>>,
    pub calls: Vec<CallRecord>,
    pub violations: Vec<Violation>,
    pub limiter: RateLimiter,
    pub files: HashMap<String, StoredFile>,
    pub next_file_seq: u64,
    /// How many bot messages a test has taken with `next_bot_message`, per
    /// (chat, thread).
    pub read_cursors: HashMap<(i64, Option<i32>), usize>,
    /// Per chat: how many more HTML texts to refuse as unparsable (a test
    /// forcing the bot's plain-text fallback).
    pub markup_rejections: HashMap<i64, u32>,
    /// For the next sendMessage/sendDocument/sendPhoto calls, in order: `true`
    /// posts the message, then answers 500 (Telegram accepted it, the answer
    /// was lost).
    pub fail_after_sending: VecDeque<bool>,
    /// Callback queries sent, by id.
    pub queries: HashMap<String, Query>,
    /// `(chat, message id)` of every message posted but answered 500.
    pub answers_lost: Vec<(i64, i32)>,
    /// Random refusals of posts and edits, when configured.
    pub faults: Option<Faults>,
    /// The serial number the next accepted connection gets.
    pub next_connection: u64,
    /// Connections accepted and not yet closed, by serial number.
    pub open_connections: BTreeMap<u64, SocketAddr>,
}

impl State {
    fn new(limiter: RateLimiter, faults: Option<Faults>) -> Self {
        Self {
            users: HashMap::new(),
            chats: HashMap::new(),
            next_group_seq: 1,
            pending: VecDeque::new(),
            next_update_id: 1,
            delivered_at: HashMap::new(),
            poll_generation: 0,
            polls_waiting: 0,
            polls_to_lose: 0,
            polls_lost: 0,
            allowed_updates: None,
            webhook: None,
            webhook_last_error: None,
            commands: BTreeMap::new(),
            calls: Vec::new(),
            violations: Vec::new(),
            limiter,
            files: HashMap::new(),
            next_file_seq: 1,
            read_cursors: HashMap::new(),
            markup_rejections: HashMap::new(),
            fail_after_sending: VecDeque::new(),
            queries: HashMap::new(),
            answers_lost: Vec::new(),
            faults,
            next_connection: 1,
            open_connections: BTreeMap::new(),
        }
    }

    /// True (and counted down) when the next HTML text to `chat_id` is to be
    /// refused.
    pub fn take_markup_rejection(&mut self, chat_id: i64) -> bool {
        match self.markup_rejections.get_mut(&chat_id) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }

    pub fn queue_update(&mut self, kind: &'static str, payload: Value) -> i64 {
        let update_id = self.next_update_id;
        self.next_update_id += 1;
        let mut json = serde_json::json!({ "update_id": update_id });
        json[kind] = payload;
        self.pending.push_back(PendingUpdate {
            update_id,
            kind,
            json,
        });
        update_id
    }

    pub fn is_allowed(&self, kind: &str) -> bool {
        match &self.allowed_updates {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => true,
        }
    }

    /// Drops queued updates the bot has not subscribed to, up front, so the
    /// head of the queue is always deliverable.
    pub fn drop_unwanted_head(&mut self) {
        while let Some(head) = self.pending.front() {
            if self.is_allowed(head.kind) {
                break;
            }
            self.pending.pop_front();
        }
    }

    /// Bot API `offset`: positive confirms everything before it, negative keeps
    /// only the last `-offset` updates.
    pub fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            self.pending.retain(|u| u.update_id >= offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.pending.len() > keep {
                self.pending.pop_front();
            }
        }
    }

    pub fn mark_delivered(&mut self, update_id: i64, at: SystemTime) {
        self.delivered_at.entry(update_id).or_insert(at);
    }

    pub fn chat_mut(&mut self, chat_id: i64) -> &mut ChatState {
        self.chats
            .get_mut(&chat_id)
            .unwrap_or_else(|| panic!("chat {chat_id} is not known to the fake"))
    }

    pub fn new_file(
        &mut self,
        file_name: String,
        mime_type: String,
        bytes: Bytes,
        dimensions: Option<(u32, u32)>,
    ) -> StoredFile {
        let seq = self.next_file_seq;
        self.next_file_seq += 1;
        let file = StoredFile {
            file_id: format!("BQACAgIAAxkDAAI{seq:08}FakeTelegramFile"),
            file_unique_id: format!("AgAD{seq:06}"),
            file_name,
            mime_type,
            bytes,
            dimensions,
        };
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }
}
