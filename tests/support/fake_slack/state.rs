//! Everything the fake remembers, behind one lock, and its clocks.
//!
//! The lock is a `std` mutex held only for plain-data work (never across an
//! `.await`); sending on a Socket Mode connection is an unbounded channel
//! push and spawning a timer is synchronous, so both happen under it, which
//! keeps "record, decide, send" atomic. Every change that a test may wait
//! for ends with [`Shared::notify_changed`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::config::{Delivery, FakeSlackConfig};
use super::ids::{format_ts, parse_ts, slack_id};
use super::rate_limit::Limiter;
use super::types::{
    AckRecord, CallRecord, ChannelKind, Connection, Envelope, Ephemeral, FakeChannel, FakeUser,
    HttpDelivery, SharedFile, SlackMessage, SlashInvocation, SlashResponse, TextVersion, UserKind,
    Violation,
};

/// Real time, mapped from tokio's clock (so timers and rate-limit windows
/// follow a paused tokio clock in unit tests).
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

pub(super) fn unix_secs(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// What a Socket Mode connection task is told to do.
#[derive(Debug)]
pub(super) enum Outbound {
    Text(String),
    /// Send a close frame and end.
    Close,
    /// End without a close frame: the TCP connection just goes away.
    Drop,
}

pub(super) struct ConnRec {
    pub record: Connection,
    /// `None` once the connection task ended.
    pub tx: Option<mpsc::UnboundedSender<Outbound>>,
}

impl ConnRec {
    /// Open and not asked to go away: may carry new envelopes.
    pub fn routable(&self) -> bool {
        self.tx.is_some() && self.record.disconnect_sent.is_none()
    }
}

pub(super) struct ChannelRec {
    pub channel: FakeChannel,
    pub members: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub(super) struct MessageRec {
    pub ts: String,
    pub thread_ts: Option<String>,
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub app_id: Option<String>,
    /// Legacy integrations' display name.
    pub username: Option<String>,
    pub subtype: Option<String>,
    pub versions: Vec<TextVersion>,
    /// `(user, ts)` of the last edit.
    pub edited: Option<(String, String)>,
    pub blocks: Option<Value>,
    pub files: Vec<String>,
    pub reactions: Vec<(String, Vec<String>)>,
    pub deleted: bool,
    pub client_msg_id: Option<String>,
    pub broadcast: bool,
    /// Further fields of the message object (`inviter` of a `channel_join`).
    pub extra: Vec<(String, Value)>,
    /// The `metadata` it was posted with (`event_type`, `event_payload`).
    pub metadata: Option<Value>,
}

impl MessageRec {
    pub fn new(ts: String, user: Option<String>, text: &str, at: SystemTime) -> Self {
        Self {
            ts,
            thread_ts: None,
            user,
            bot_id: None,
            app_id: None,
            username: None,
            subtype: None,
            versions: vec![TextVersion {
                text: text.to_string(),
                at,
            }],
            edited: None,
            blocks: None,
            files: Vec::new(),
            reactions: Vec::new(),
            deleted: false,
            client_msg_id: None,
            broadcast: false,
            extra: Vec::new(),
            metadata: None,
        }
    }

    pub fn text(&self) -> &str {
        &self.versions.last().expect("a message has a text").text
    }

    pub fn is_reply(&self) -> bool {
        self.thread_ts.as_deref().is_some_and(|t| t != self.ts)
    }

    pub fn view(&self, channel: &str) -> SlackMessage {
        SlackMessage {
            channel: channel.to_string(),
            ts: self.ts.clone(),
            thread_ts: self.thread_ts.clone(),
            user: self.user.clone(),
            bot_id: self.bot_id.clone(),
            subtype: self.subtype.clone(),
            text: self.text().to_string(),
            versions: self.versions.clone(),
            blocks: self.blocks.clone(),
            files: self.files.clone(),
            reactions: self.reactions.clone(),
            deleted: self.deleted,
            broadcast: self.broadcast,
            metadata: self.metadata.clone(),
        }
    }
}

/// The kind of thing waiting to reach the app.
#[derive(Debug, Clone)]
pub(super) enum Item {
    /// An event callback (`events_api`).
    Event { event_id: String, payload: Value },
    /// A slash command (`slash_commands`); the payload's values are strings.
    Command {
        trigger_id: String,
        payload: Vec<(String, String)>,
    },
    /// A press of a button (`interactive`, `block_actions`).
    Interaction { payload: Value },
}

pub(super) struct EnvelopeRec {
    pub envelope: Envelope,
    pub trigger_id: Option<String>,
}

#[derive(Default)]
pub(super) struct State {
    pub users: BTreeMap<String, FakeUser>,
    pub channels: BTreeMap<String, ChannelRec>,
    /// Per channel, by `ts` in microseconds.
    pub messages: HashMap<String, BTreeMap<u64, MessageRec>>,
    pub ephemerals: Vec<Ephemeral>,
    pub files: BTreeMap<String, SharedFile>,
    pub calls: Vec<CallRecord>,
    pub violations: Vec<Violation>,
    pub limiter: Limiter,
    counters: HashMap<&'static str, u64>,
    last_ts: u64,

    pub delivery: Delivery,
    /// Unused `apps.connections.open` tickets.
    pub tickets: BTreeSet<String>,
    pub connections: BTreeMap<u64, ConnRec>,
    /// Round-robin position among routable connections.
    pub next_route: usize,
    /// Envelope ids waiting for a connection, oldest first.
    pub queue: VecDeque<String>,
    pub envelopes: Vec<EnvelopeRec>,
    pub acks: Vec<AckRecord>,
    pub http_deliveries: Vec<HttpDelivery>,
    pub slash_invocations: Vec<SlashInvocation>,
    pub slash_responses: Vec<SlashResponse>,
    /// Where files are served (`url_private`): the fake's own origin, standing in for
    /// `https://files.slack.com`.
    pub files_url: String,
    /// For the next `chat.postMessage` calls, in order: `true` posts the message and then
    /// answers HTTP 500 (Slack accepted it, the answer was lost).
    pub fail_after_posting: VecDeque<bool>,
    /// The interactivity Request URL, for presses delivered over HTTP.
    pub interactivity_url: Option<String>,
    /// Every press's `block_actions` payload, by `trigger_id`.
    pub presses: HashMap<String, Value>,
}

impl State {
    /// The next id of a kind (`U`, `C`, `F`, `Ev`, …).
    pub fn next_id(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        slack_id(prefix, *n)
    }

    /// A fresh message `ts`: wall-clock microseconds, strictly greater than
    /// every earlier one (so it grows per channel, and across channels too).
    pub fn next_ts(&mut self, at: SystemTime) -> String {
        let now = at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or_default();
        self.last_ts = now.max(self.last_ts + 1);
        format_ts(self.last_ts)
    }

    pub fn add_user(&mut self, name: &str, kind: UserKind, id: Option<String>) -> FakeUser {
        let id = id.unwrap_or_else(|| self.next_id("U"));
        let user = FakeUser {
            id: id.clone(),
            name: name.to_string(),
            kind,
        };
        self.users.insert(id, user.clone());
        user
    }

    pub fn user_or_panic(&self, id: &str) -> &FakeUser {
        self.users
            .get(id)
            .unwrap_or_else(|| panic!("user {id} is not known to the fake"))
    }

    pub fn add_channel(&mut self, name: &str, kind: ChannelKind, id: String) -> FakeChannel {
        let channel = FakeChannel {
            id: id.clone(),
            name: name.to_string(),
            kind,
        };
        self.channels.insert(
            id,
            ChannelRec {
                channel: channel.clone(),
                members: BTreeSet::new(),
            },
        );
        channel
    }

    pub fn channel_or_panic(&mut self, id: &str) -> &mut ChannelRec {
        self.channels
            .get_mut(id)
            .unwrap_or_else(|| panic!("channel {id} is not known to the fake"))
    }

    pub fn is_member(&self, channel: &str, user: &str) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|c| c.members.contains(user))
    }

    pub fn insert_message(&mut self, channel: &str, rec: MessageRec) {
        let key = parse_ts(&rec.ts).expect("the fake's own ts parse");
        self.messages
            .entry(channel.to_string())
            .or_default()
            .insert(key, rec);
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<&MessageRec> {
        let key = parse_ts(ts)?;
        self.messages.get(channel)?.get(&key)
    }

    pub fn message_mut(&mut self, channel: &str, ts: &str) -> Option<&mut MessageRec> {
        let key = parse_ts(ts)?;
        self.messages.get_mut(channel)?.get_mut(&key)
    }

    /// Live replies of the thread rooted at `thread_ts`, oldest first.
    pub fn replies(&self, channel: &str, thread_ts: &str) -> Vec<&MessageRec> {
        self.messages
            .get(channel)
            .map(|m| {
                m.values()
                    .filter(|r| !r.deleted && r.is_reply())
                    .filter(|r| r.thread_ts.as_deref() == Some(thread_ts))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn views(&self, channel: &str) -> Vec<SlackMessage> {
        self.messages
            .get(channel)
            .map(|m| m.values().map(|r| r.view(channel)).collect())
            .unwrap_or_default()
    }
}

/// What the server, the connection tasks, the timers and the test handle
/// share.
pub(super) struct Shared {
    pub config: FakeSlackConfig,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub clock: Clock,
    state: Mutex<State>,
    /// Woken after anything a test may wait for changed.
    pub changed: Notify,
    /// Flips to `true` when the fake is dropped: connection tasks end.
    pub shutdown: watch::Sender<bool>,
    pub http: reqwest::Client,
}

impl Shared {
    pub fn new(config: FakeSlackConfig, base_url: String) -> Self {
        let limiter = Limiter::new(
            config.tolerance,
            config.post_burst,
            config.post_refill,
            config.post_workspace_per_minute,
        );
        let mut state = State {
            limiter,
            delivery: config.delivery.clone(),
            files_url: format!("{base_url}/files-pri"),
            ..State::default()
        };
        state.add_user(
            &config.bot_name,
            UserKind::Bot {
                bot_id: config.bot_id.clone(),
                app_id: config.app_id.clone(),
            },
            Some(config.bot_user_id.clone()),
        );
        Self {
            config,
            base_url,
            clock: Clock::new(),
            state: Mutex::new(state),
            changed: Notify::new(),
            shutdown: watch::channel(false).0,
            http: reqwest::Client::new(),
        }
    }

    /// A panicking test thread must not wedge every later call, so poisoning
    /// is ignored: the state is plain data and stays consistent per call.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn notify_changed(&self) {
        self.changed.notify_waiters();
    }

    pub fn bot_user(&self) -> &str {
        &self.config.bot_user_id
    }
}
