//! The Web API methods the fake implements: their names, token types and
//! rate-limit tiers, the per-call context, and the checks several methods
//! share (which conversation, which text). What each method does lives in
//! `chat`, `reactions`, `files` and `history`.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;

use super::config::Tier;
use super::dispatch;
use super::ids::{format_ts, parse_ts};
use super::params::Params;
use super::reply::{ApiError, Reply, fields};
use super::state::{Item, Shared, State};
use super::types::ChannelKind;
use super::{chat, files, history, reactions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    AuthTest,
    ConnectionsOpen,
    PostMessage,
    Update,
    PostEphemeral,
    ReactionsAdd,
    ReactionsRemove,
    GetUploadUrl,
    CompleteUpload,
    History,
    Replies,
}

const ALL: [Method; 11] = [
    Method::AuthTest,
    Method::ConnectionsOpen,
    Method::PostMessage,
    Method::Update,
    Method::PostEphemeral,
    Method::ReactionsAdd,
    Method::ReactionsRemove,
    Method::GetUploadUrl,
    Method::CompleteUpload,
    Method::History,
    Method::Replies,
];

impl Method {
    /// Slack's method names are case-sensitive.
    pub fn parse(name: &str) -> Option<Self> {
        ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AuthTest => "auth.test",
            Self::ConnectionsOpen => "apps.connections.open",
            Self::PostMessage => "chat.postMessage",
            Self::Update => "chat.update",
            Self::PostEphemeral => "chat.postEphemeral",
            Self::ReactionsAdd => "reactions.add",
            Self::ReactionsRemove => "reactions.remove",
            Self::GetUploadUrl => "files.getUploadURLExternal",
            Self::CompleteUpload => "files.completeUploadExternal",
            Self::History => "conversations.history",
            Self::Replies => "conversations.replies",
        }
    }

    /// The tier each method's reference page states.
    pub fn tier(self) -> Tier {
        match self {
            Self::ConnectionsOpen => Tier::One,
            Self::ReactionsRemove => Tier::Two,
            Self::Update | Self::ReactionsAdd | Self::History | Self::Replies => Tier::Three,
            Self::PostEphemeral | Self::GetUploadUrl | Self::CompleteUpload => Tier::Four,
            Self::AuthTest => Tier::AuthTest,
            Self::PostMessage => Tier::PostMessage,
        }
    }

    /// `apps.connections.open` takes the app-level token, everything else
    /// the bot token.
    pub fn wants_app_token(self) -> bool {
        self == Self::ConnectionsOpen
    }
}

/// One call, with the state locked.
pub(super) struct Ctx<'a> {
    pub sh: &'a Arc<Shared>,
    pub st: &'a mut State,
    pub p: &'a Params,
    pub now: SystemTime,
}

impl Ctx<'_> {
    pub fn bot(&self) -> String {
        self.sh.bot_user().to_string()
    }

    /// Hands events to the app (Socket Mode or HTTP, as configured).
    pub fn deliver(&mut self, items: Vec<Item>) {
        dispatch::enqueue(self.sh, self.st, items);
    }

    /// The conversation a method acts in, as the bot may see it: unknown
    /// ids and private conversations without the bot are
    /// `channel_not_found`; a public channel without the bot is
    /// `not_in_channel` when `need_member`. A user id names the bot's DM with
    /// that user (opened on first use, like Slack's App Home).
    pub fn channel(&mut self, key: &str, need_member: bool) -> Result<String, ApiError> {
        let id = self
            .p
            .string(key)
            .ok_or_else(|| ApiError::new("channel_not_found"))?;
        self.channel_id(id, need_member)
    }

    /// [`Ctx::channel`] for an id already in hand.
    pub fn channel_id(&mut self, id: String, need_member: bool) -> Result<String, ApiError> {
        let id = if id.starts_with('U') || id.starts_with('W') {
            if !self.st.users.contains_key(&id) {
                return Err(ApiError::new("channel_not_found"));
            }
            open_dm(self.sh, self.st, &id)
        } else {
            id
        };
        let bot = self.bot();
        let Some(c) = self.st.channels.get(&id) else {
            return Err(ApiError::new("channel_not_found"));
        };
        let member = c.members.contains(&bot);
        match c.channel.kind {
            _ if member => Ok(id),
            ChannelKind::Public if !need_member => Ok(id),
            ChannelKind::Public => Err(ApiError::new("not_in_channel")),
            ChannelKind::Private | ChannelKind::Im => Err(ApiError::new("channel_not_found")),
        }
    }

    /// `text`, cut to the configured length as Slack truncates.
    pub fn text(&self) -> Option<String> {
        let max = self.sh.config.max_text_chars;
        self.p.string("text").map(|t| {
            if t.chars().count() > max {
                t.chars().take(max).collect()
            } else {
                t
            }
        })
    }

    /// `blocks` as an array of at most 50, or `invalid_blocks`.
    pub fn blocks(&self) -> Result<Option<serde_json::Value>, ApiError> {
        match self.p.json("blocks") {
            Ok(None) => Ok(None),
            Ok(Some(b)) if super::interactivity::check_blocks(&b).is_ok() => Ok(Some(b)),
            _ => Err(ApiError::new("invalid_blocks")),
        }
    }

    /// `thread_ts` in canonical form, or `invalid_thread_ts`.
    pub fn thread_ts(&self) -> Result<Option<String>, ApiError> {
        match self.p.string("thread_ts") {
            None => Ok(None),
            Some(t) => parse_ts(&t)
                .map(|m| Some(format_ts(m)))
                .ok_or_else(|| ApiError::new("invalid_thread_ts")),
        }
    }
}

/// The DM between the bot and `user`, opened if needed.
pub(super) fn open_dm(sh: &Shared, st: &mut State, user: &str) -> String {
    let bot = sh.bot_user();
    if let Some(c) = st.channels.values().find(|c| {
        c.channel.kind == ChannelKind::Im && c.members.contains(user) && c.members.contains(bot)
    }) {
        return c.channel.id.clone();
    }
    let id = st.next_id("D");
    st.add_channel(user, ChannelKind::Im, id.clone());
    let rec = st.channel_or_panic(&id);
    rec.members.insert(user.to_string());
    rec.members.insert(bot.to_string());
    id
}

pub(super) fn execute(cx: &mut Ctx<'_>, method: Method) -> Reply {
    match method {
        Method::AuthTest => auth_test(cx),
        Method::ConnectionsOpen => connections_open(cx),
        Method::PostMessage => chat::post_message(cx),
        Method::Update => chat::update(cx),
        Method::PostEphemeral => chat::post_ephemeral(cx),
        Method::ReactionsAdd => reactions::add(cx),
        Method::ReactionsRemove => reactions::remove(cx),
        Method::GetUploadUrl => files::get_upload_url(cx),
        Method::CompleteUpload => files::complete(cx),
        Method::History => history::history(cx),
        Method::Replies => history::replies(cx),
    }
}

fn auth_test(cx: &mut Ctx<'_>) -> Reply {
    let c = &cx.sh.config;
    Ok(fields(json!({
        "url": format!("https://{}.slack.com/", c.team_domain),
        "team": c.team_name,
        "user": c.bot_name,
        "team_id": c.team_id,
        "user_id": c.bot_user_id,
        "bot_id": c.bot_id,
        "is_enterprise_install": false,
    })))
}

/// A one-time WebSocket URL (Slack's are `wss://wss-primary.slack.com/link/?ticket=…&app_id=…`).
fn connections_open(cx: &mut Ctx<'_>) -> Reply {
    let ticket = uuid::Uuid::new_v4().to_string();
    cx.st.tickets.insert(ticket.clone());
    let ws = cx.sh.base_url.replacen("http://", "ws://", 1);
    Ok(fields(json!({
        "url": format!("{ws}/socket-mode?ticket={ticket}&app_id={}", cx.sh.config.app_id),
    })))
}
