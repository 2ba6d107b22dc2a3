//! Everything the fake remembers, behind one lock, and what the server, the
//! gateway and the test handle share. Plain records keyed by snowflake
//! (`u64`); the public types in `types` are cloned out of them.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use serde_json::Value;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::clock::{Clock, Snowflakes, snowflake_time};
use super::config::FakeDiscordConfig;
use super::rate_limit::RateLimiter;
use super::sessions::Sessions;
use super::types::{
    Attachment, CallRecord, ChannelKind, ContentVersion, FakeChannel, FakeUser, MessageState,
    ThreadState, Violation,
};

/// What the server, the gateway tasks and the test handle share.
pub(super) struct Shared {
    pub config: FakeDiscordConfig,
    pub clock: Clock,
    /// `http://127.0.0.1:PORT`.
    pub http_base: String,
    /// `ws://127.0.0.1:PORT`.
    pub ws_base: String,
    state: Mutex<State>,
    /// Woken after anything a test may wait for changed.
    pub changed: Notify,
}

impl Shared {
    pub fn new(config: FakeDiscordConfig, port: u16) -> Self {
        let clock = Clock::new();
        let state = State::new(&config, clock.now().1, format!("http://127.0.0.1:{port}"));
        Self {
            config,
            clock,
            http_base: format!("http://127.0.0.1:{port}"),
            ws_base: format!("ws://127.0.0.1:{port}"),
            state: Mutex::new(state),
            changed: Notify::new(),
        }
    }

    /// A panicking test thread must not wedge every later call, so
    /// poisoning is ignored: the state is plain data, consistent per call.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn notify_changed(&self) {
        self.changed.notify_waiters();
    }
}

#[derive(Debug, Clone)]
pub(super) struct RoleRec {
    pub id: u64,
    pub name: String,
    pub position: u32,
    pub permissions: String,
    /// The bot's own managed role.
    pub bot_id: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct MemberRec {
    pub roles: Vec<u64>,
    pub joined_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(super) struct GuildRec {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    /// `@everyone` (id = the guild's id) first.
    pub roles: Vec<RoleRec>,
    pub members: BTreeMap<u64, MemberRec>,
    pub joined_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(super) struct ThreadMeta {
    pub from_message: Option<u64>,
    pub owner_id: u64,
    pub auto_archive_duration: u32,
    pub created_at: SystemTime,
    pub by_bot: bool,
    /// Messages sent in it (its `position` counter).
    pub message_count: u32,
}

#[derive(Debug, Clone)]
pub(super) struct ChannelRec {
    pub id: u64,
    pub kind: ChannelKind,
    pub guild_id: Option<u64>,
    pub parent_id: Option<u64>,
    pub name: Option<String>,
    pub position: u32,
    /// The other person of a DM.
    pub recipient: Option<u64>,
    pub thread: Option<ThreadMeta>,
    pub last_message_id: Option<u64>,
    /// Set by a test: the bot may not see or post here (50001).
    pub denied: bool,
}

impl ChannelRec {
    pub fn to_public(&self) -> FakeChannel {
        FakeChannel {
            id: self.id.to_string(),
            kind: self.kind,
            guild_id: self.guild_id.map(|g| g.to_string()),
            parent_id: self.parent_id.map(|p| p.to_string()),
            name: self.name.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct MessageRec {
    pub id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub author_id: u64,
    pub versions: Vec<ContentVersion>,
    pub attachments: Vec<Attachment>,
    pub edited_at: Option<SystemTime>,
    pub kind: u8,
    pub flags: u64,
    /// `message_reference.message_id` (reply, thread starter).
    pub reference: Option<u64>,
    pub mentions: Vec<u64>,
    pub mention_roles: Vec<u64>,
    pub mention_everyone: bool,
    pub nonce: Option<Value>,
    pub thread_id: Option<u64>,
    pub interaction_id: Option<u64>,
    /// Application id for interaction responses (`webhook_id`).
    pub webhook_id: Option<u64>,
    /// Position in a thread.
    pub position: Option<u32>,
    pub deleted: bool,
    /// The buttons under it.
    pub buttons: Vec<super::components::Button>,
}

impl MessageRec {
    pub fn content(&self) -> &str {
        &self.versions.last().expect("a message has content").content
    }

    pub fn created_at(&self) -> SystemTime {
        snowflake_time(self.id)
    }
}

#[derive(Debug, Clone)]
pub(super) struct ReactionRec {
    pub channel_id: u64,
    pub message_id: u64,
    pub user_id: u64,
    pub emoji: String,
    pub at: SystemTime,
}

#[derive(Debug, Clone)]
pub(super) struct CommandRec {
    pub id: u64,
    pub guild_id: Option<u64>,
    pub name: String,
    pub kind: u8,
    pub version: u64,
    /// What the bot sent, normalized: name, description, options, …
    pub body: Value,
}

#[derive(Debug, Clone)]
pub(super) struct CallbackRec {
    pub kind: u8,
    pub data: Value,
    pub at: SystemTime,
    pub instant: Instant,
}

#[derive(Debug, Clone)]
pub(super) struct InteractionRec {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub user_id: u64,
    pub command_name: String,
    pub created: Instant,
    pub callback: Option<CallbackRec>,
    pub original: Option<u64>,
    pub followups: Vec<u64>,
    pub expired: bool,
    /// A button press (MESSAGE_COMPONENT): its INTERACTION_CREATE payload.
    pub component: Option<Value>,
}

pub(super) struct State {
    ids: Snowflakes,
    pub bot_id: u64,
    pub users: BTreeMap<u64, FakeUser>,
    pub guilds: BTreeMap<u64, GuildRec>,
    pub channels: BTreeMap<u64, ChannelRec>,
    pub messages: BTreeMap<u64, MessageRec>,
    pub reactions: Vec<ReactionRec>,
    pub typing: Vec<(u64, SystemTime)>,
    pub commands: Vec<CommandRec>,
    pub interactions: BTreeMap<u64, InteractionRec>,
    pub calls: Vec<CallRecord>,
    pub violations: Vec<Violation>,
    pub limiter: RateLimiter,
    pub gateway: Sessions,
    /// Where attachments are served: the fake's own origin, standing in for
    /// `https://cdn.discordapp.com`.
    pub cdn_base: String,
    /// For the next message creations (`POST /channels/{id}/messages`), in
    /// order: `true` creates the message, then answers HTTP 500 as if the
    /// answer were lost (Discord accepted it).
    pub fail_after_creating: std::collections::VecDeque<bool>,
}

impl State {
    fn new(config: &FakeDiscordConfig, now: SystemTime, cdn_base: String) -> Self {
        let mut ids = Snowflakes::default();
        // The application (and its bot user) predate everything else.
        let bot_id = ids.next(now - std::time::Duration::from_secs(86_400));
        let mut users = BTreeMap::new();
        users.insert(
            bot_id,
            FakeUser {
                id: bot_id.to_string(),
                username: config.application_name.clone(),
                global_name: None,
                bot: true,
            },
        );
        Self {
            cdn_base,
            ids,
            bot_id,
            users,
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            messages: BTreeMap::new(),
            reactions: Vec::new(),
            typing: Vec::new(),
            commands: Vec::new(),
            interactions: BTreeMap::new(),
            calls: Vec::new(),
            violations: Vec::new(),
            limiter: RateLimiter::new(config.global_per_second, config.tolerance),
            gateway: Sessions::new(config.session_start_limit),
            fail_after_creating: Default::default(),
        }
    }

    pub fn next_id(&mut self, at: SystemTime) -> u64 {
        self.ids.next(at)
    }

    pub fn bot(&self) -> &FakeUser {
        &self.users[&self.bot_id]
    }

    pub fn user(&self, id: u64) -> &FakeUser {
        self.users
            .get(&id)
            .unwrap_or_else(|| panic!("user {id} is not known to the fake"))
    }

    pub fn channel(&self, id: u64) -> &ChannelRec {
        self.channels
            .get(&id)
            .unwrap_or_else(|| panic!("channel {id} is not known to the fake"))
    }

    /// The guild a channel (or its thread parent) belongs to.
    pub fn guild_of(&self, channel: u64) -> Option<u64> {
        self.channels.get(&channel).and_then(|c| c.guild_id)
    }

    /// Live messages of a channel, oldest first.
    pub fn messages_in(&self, channel: u64) -> impl Iterator<Item = &MessageRec> {
        self.messages
            .values()
            .filter(move |m| m.channel_id == channel && !m.deleted)
    }

    pub fn message_state(&self, m: &MessageRec) -> MessageState {
        MessageState {
            id: m.id.to_string(),
            channel_id: m.channel_id.to_string(),
            guild_id: m.guild_id.map(|g| g.to_string()),
            author: self.user(m.author_id).clone(),
            content: m.content().to_string(),
            versions: m.versions.clone(),
            attachments: m.attachments.clone(),
            created_at: m.created_at(),
            edited_at: m.edited_at,
            reply_to: m.reference.map(|r| r.to_string()),
            kind: m.kind,
            flags: m.flags,
            thread_id: m.thread_id.map(|t| t.to_string()),
            interaction_id: m.interaction_id.map(|i| i.to_string()),
            deleted: m.deleted,
            buttons: m.buttons.iter().map(|b| b.label.clone()).collect(),
        }
    }

    pub fn thread_state(&self, c: &ChannelRec) -> Option<ThreadState> {
        let t = c.thread.as_ref()?;
        Some(ThreadState {
            channel: c.to_public(),
            name: c.name.clone().unwrap_or_default(),
            from_message: t.from_message.map(|m| m.to_string()),
            owner_id: t.owner_id.to_string(),
            auto_archive_duration: t.auto_archive_duration,
            by_bot: t.by_bot,
            created_at: t.created_at,
        })
    }

    /// User ids mentioned as `<@id>` or `<@!id>` in `content`, known to the
    /// fake, in order of first appearance.
    pub fn mentioned_users(&self, content: &str) -> Vec<u64> {
        let mut out = Vec::new();
        let mut rest = content;
        while let Some(i) = rest.find("<@") {
            rest = &rest[i + 2..];
            let digits = rest.strip_prefix('!').unwrap_or(rest);
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            if digits[end..].starts_with('>')
                && let Ok(id) = digits[..end].parse::<u64>()
                && self.users.contains_key(&id)
                && !out.contains(&id)
            {
                out.push(id);
            }
        }
        out
    }

    /// Role ids mentioned as `<@&id>` in a guild.
    pub fn mentioned_roles(&self, guild: Option<u64>, content: &str) -> Vec<u64> {
        let Some(g) = guild.and_then(|g| self.guilds.get(&g)) else {
            return Vec::new();
        };
        g.roles
            .iter()
            .filter(|r| content.contains(&format!("<@&{}>", r.id)))
            .map(|r| r.id)
            .collect()
    }
}
