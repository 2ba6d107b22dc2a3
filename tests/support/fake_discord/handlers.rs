//! What each endpoint does to the state: the dispatch from route to
//! handler, and the checks every handler shares (snowflake parameters,
//! channel visibility, message content rules).

use serde_json::{Value, json};

use super::channels;
use super::commands;
use super::input::{Body, Upload};
use super::interactions;
use super::json;
use super::messages::Now;
use super::reply::Reply;
use super::routes::Route;
use super::state::{ChannelRec, Shared, State};
use super::threads;
use super::types::Attachment;

/// Discord's content limit for a message.
pub(super) const MAX_CONTENT: usize = 2000;

pub(super) struct Ctx<'a> {
    pub sh: &'a Shared,
    pub st: &'a mut State,
    pub now: Now,
    pub query: &'a [(String, String)],
    pub body: &'a Body,
}

impl Ctx<'_> {
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub(super) fn execute(cx: &mut Ctx<'_>, route: &Route) -> Reply {
    if let Body::Invalid(r) = cx.body {
        return r.clone();
    }
    match route {
        Route::GetGateway => Reply::ok(json!({ "url": cx.sh.ws_base })),
        Route::GetGatewayBot => {
            let g = &cx.st.gateway;
            Reply::ok(json!({
                "url": cx.sh.ws_base,
                "shards": 1,
                "session_start_limit": {
                    "total": g.starts_total,
                    "remaining": g.starts_left,
                    "reset_after": 86_400_000u64,
                    "max_concurrency": 1,
                },
            }))
        }
        Route::GetCurrentUser => Reply::ok(json::current_user(cx.st.bot())),
        Route::GetApplication => Reply::ok(json::application(
            cx.st,
            cx.sh.config.message_content_enabled,
        )),
        Route::GetChannel { channel } => channels::get_channel(cx, channel),
        Route::ListMessages { channel } => channels::list_messages(cx, channel),
        Route::GetMessage { channel, message } => channels::get_message(cx, channel, message),
        Route::CreateMessage { channel } => channels::create_message(cx, channel),
        Route::EditMessage { channel, message } => channels::edit_message(cx, channel, message),
        Route::DeleteMessage { channel, message } => channels::delete_message(cx, channel, message),
        Route::Typing { channel } => channels::typing(cx, channel),
        Route::AddReaction {
            channel,
            message,
            emoji,
        } => channels::react(cx, channel, message, emoji, true),
        Route::RemoveReaction {
            channel,
            message,
            emoji,
        } => channels::react(cx, channel, message, emoji, false),
        Route::CreateThread { channel, message } => threads::create(cx, channel, message),
        Route::GetCommands { app, guild } => commands::get(cx, app, guild.as_deref()),
        Route::OverwriteCommands { app, guild } => commands::overwrite(cx, app, guild.as_deref()),
        Route::InteractionCallback { interaction, token } => {
            interactions::callback(cx, interaction, token)
        }
        Route::CreateFollowup { app, token } => interactions::followup(cx, app, token),
        Route::GetWebhookMessage {
            app,
            token,
            message,
        } => interactions::get_message(cx, app, token, message),
        Route::EditWebhookMessage {
            app,
            token,
            message,
        } => interactions::edit_message(cx, app, token, message),
        Route::DeleteWebhookMessage {
            app,
            token,
            message,
        } => interactions::delete_message(cx, app, token, message),
    }
}

/// A path parameter that must be a snowflake.
pub(super) fn snowflake(field: &str, value: &str) -> Result<u64, Reply> {
    value
        .parse()
        .map_err(|_| Reply::not_snowflake(field, value))
}

/// A channel the bot can see: 10003 when unknown, 50001 when denied.
pub(super) fn visible_channel<'s>(st: &'s State, id: &str) -> Result<&'s ChannelRec, Reply> {
    let id = snowflake("channel_id", id)?;
    let c = st.channels.get(&id).ok_or_else(Reply::unknown_channel)?;
    let parent_denied = c
        .parent_id
        .and_then(|p| st.channels.get(&p))
        .is_some_and(|p| p.denied);
    if c.denied || parent_denied {
        return Err(Reply::missing_access());
    }
    Ok(c)
}

/// A live message of channel `channel`: 10008 otherwise.
pub(super) fn message_in(st: &State, channel: u64, id: &str) -> Result<u64, Reply> {
    let id = snowflake("message_id", id)?;
    match st.messages.get(&id) {
        Some(m) if m.channel_id == channel && !m.deleted => Ok(id),
        _ => Err(Reply::unknown_message()),
    }
}

/// The `content` of a create or edit: a string of at most 2000 characters.
/// `Ok(None)` when absent.
pub(super) fn content_of(body: &Value) -> Result<Option<String>, Reply> {
    match body.get("content") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_CONTENT => {
            Err(Reply::too_long(&["content"], MAX_CONTENT))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Reply::field(
            &["content"],
            "STRING_TYPE_CONVERT",
            "Could not interpret value as string.",
        )),
    }
}

/// Whether a body carries something other than content that makes a
/// message non-empty (embeds, components, stickers, a poll).
pub(super) fn has_other_parts(body: &Value) -> bool {
    ["embeds", "components", "sticker_ids"]
        .iter()
        .any(|k| body[k].as_array().is_some_and(|a| !a.is_empty()))
        || body.get("poll").is_some_and(|p| !p.is_null())
}

/// Uploaded files as attachments with fresh ids.
pub(super) fn attachments(st: &mut State, now: Now, files: &[Upload]) -> Vec<Attachment> {
    files
        .iter()
        .map(|f| Attachment {
            id: st.next_id(now.1).to_string(),
            filename: f.filename.clone(),
            content_type: f.content_type.clone(),
            bytes: f.bytes.clone(),
        })
        .collect()
}
