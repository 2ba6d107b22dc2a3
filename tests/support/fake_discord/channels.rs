//! Channel endpoints: the channel itself, its messages (list, get, create,
//! edit, delete), typing, and the bot's own reactions.

use serde_json::{Value, json};

use super::handlers::{
    Ctx, attachments, content_of, has_other_parts, message_in, snowflake, visible_channel,
};
use super::intents::{self, Place};
use super::json;
use super::messages::{self, NewMessage};
use super::reply::Reply;
use super::sessions::Event;
use super::state::{MessageRec, ReactionRec, State};
use super::types::ChannelKind;

/// Message flags a bot may set on create: SUPPRESS_EMBEDS,
/// SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
const SETTABLE_FLAGS: u64 = (1 << 2) | (1 << 12) | (1 << 15);

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

pub(super) fn get_channel(cx: &mut Ctx<'_>, channel: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel));
    Reply::ok(json::channel(cx.st, c, false))
}

/// A message as REST shows it; without the application's MESSAGE_CONTENT
/// toggle, content fields are empty except for exempt messages.
fn rest_message(cx: &Ctx<'_>, m: &MessageRec) -> Value {
    let mut v = json::message(cx.st, m, false);
    let dm = cx.st.channels.get(&m.channel_id).map(|c| c.kind) == Some(ChannelKind::Dm);
    let exempt = m.author_id == cx.st.bot_id || dm || m.mentions.contains(&cx.st.bot_id);
    if !cx.sh.config.message_content_enabled && !exempt {
        intents::strip_content(&mut v);
    }
    v
}

fn query_id(cx: &Ctx<'_>, key: &str) -> Result<Option<u64>, Reply> {
    cx.query(key).map(|v| snowflake(key, v)).transpose()
}

pub(super) fn list_messages(cx: &mut Ctx<'_>, channel: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel)).id;
    let limit = match cx.query("limit") {
        None => 50,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n > 100 => {
                return Reply::field(
                    &["limit"],
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 100.",
                );
            }
            Ok(n) if n < 1 => {
                return Reply::field(
                    &["limit"],
                    "NUMBER_TYPE_MIN",
                    "int value should be greater than or equal to 1.",
                );
            }
            Ok(n) => n as usize,
            Err(_) => {
                return Reply::field(
                    &["limit"],
                    "NUMBER_TYPE_COERCE",
                    &format!("Value \"{l}\" is not int."),
                );
            }
        },
    };
    let after = tri!(query_id(cx, "after"));
    let before = tri!(query_id(cx, "before"));
    let around = tri!(query_id(cx, "around"));
    let ids: Vec<u64> = cx.st.messages_in(c).map(|m| m.id).collect();
    let page = messages::page(&ids, after, before, around, limit);
    let out: Vec<Value> = page
        .iter()
        .map(|id| rest_message(cx, &cx.st.messages[id]))
        .collect();
    Reply::ok(Value::Array(out))
}

pub(super) fn get_message(cx: &mut Ctx<'_>, channel: &str, message: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel)).id;
    let id = tri!(message_in(cx.st, c, message));
    Reply::ok(rest_message(cx, &cx.st.messages[&id]))
}

/// `message_reference` of a create: the replied-to message, `None` when
/// absent or missing with `fail_if_not_exists: false`.
fn reference(st: &State, channel: u64, body: &Value) -> Result<Option<u64>, Reply> {
    let r = &body["message_reference"];
    let id: Option<u64> = match &r["message_id"] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => return Ok(None),
    };
    let target_channel = r["channel_id"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(channel);
    let found = id
        .and_then(|id| st.messages.get(&id))
        .filter(|m| !m.deleted && m.channel_id == target_channel)
        .map(|m| m.id);
    match found {
        Some(id) => Ok(Some(id)),
        None if r["fail_if_not_exists"] == Value::Bool(false) => Ok(None),
        None => Err(Reply::field(
            &["message_reference"],
            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            "Unknown message",
        )),
    }
}

/// Longest string `nonce` Discord takes.
const MAX_NONCE: usize = 25;

/// `nonce`: an integer, or a string of at most 25 characters.
fn nonce_of(body: &Value) -> Result<Option<Value>, Reply> {
    match body.get("nonce") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_NONCE => {
            Err(Reply::too_long(&["nonce"], MAX_NONCE))
        }
        Some(n @ (Value::String(_) | Value::Number(_))) => Ok(Some(n.clone())),
        Some(_) => Err(Reply::field(
            &["nonce"],
            "BASE_TYPE_REQUIRED",
            "Must be a string or an integer.",
        )),
    }
}

/// A nonce as Discord compares them: `123` and `"123"` are one nonce.
fn nonce_text(nonce: &Value) -> String {
    match nonce {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// With `enforce_nonce`, the message the same author created with the same
/// nonce within the nonce window, if any: Discord returns it instead of
/// creating another.
fn earlier_with_nonce(cx: &Ctx<'_>, author: u64, nonce: &Value) -> Option<u64> {
    let wanted = nonce_text(nonce);
    let window = cx.sh.config.nonce_window;
    cx.st
        .messages
        .values()
        .rev()
        .filter(|m| m.author_id == author && !m.deleted)
        .filter(|m| {
            cx.now
                .1
                .duration_since(m.created_at())
                .is_ok_and(|age| age < window)
        })
        .find(|m| m.nonce.as_ref().map(nonce_text).as_deref() == Some(wanted.as_str()))
        .map(|m| m.id)
}

pub(super) fn create_message(cx: &mut Ctx<'_>, channel: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel)).id;
    let body = cx.body.json();
    let nonce = tri!(nonce_of(&body));
    if body["enforce_nonce"] == Value::Bool(true)
        && let Some(earlier) = nonce
            .as_ref()
            .and_then(|n| earlier_with_nonce(cx, cx.st.bot_id, n))
    {
        return Reply::ok(json::message(cx.st, &cx.st.messages[&earlier], false));
    }
    let content = tri!(content_of(&body)).unwrap_or_default();
    let files = cx.body.files();
    if content.is_empty() && files.is_empty() && !has_other_parts(&body) {
        return Reply::empty_message();
    }
    let reply_to = tri!(reference(cx.st, c, &body));
    let buttons = tri!(super::components::of(&body)).unwrap_or_default();
    let attachments = attachments(cx.st, cx.now, files);
    let new = NewMessage {
        channel: c,
        author: cx.st.bot_id,
        content,
        reference: reply_to,
        attachments,
        flags: body["flags"].as_u64().unwrap_or(0) & SETTABLE_FLAGS,
        nonce,
        allowed_mentions: body.get("allowed_mentions").cloned(),
        ..NewMessage::default()
    };
    let id = messages::post(cx.st, new, cx.now, cx.sh.config.resume_window);
    if let Some(m) = cx.st.messages.get_mut(&id) {
        m.buttons = buttons;
    }
    if cx.st.fail_after_creating.pop_front() == Some(true) {
        return Reply::error(500, 0, "500: Internal Server Error");
    }
    Reply::ok(json::message(cx.st, &cx.st.messages[&id], false))
}

pub(super) fn edit_message(cx: &mut Ctx<'_>, channel: &str, message: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel)).id;
    let id = tri!(message_in(cx.st, c, message));
    if cx.st.messages[&id].author_id != cx.st.bot_id {
        return Reply::cannot_edit_others();
    }
    let body = cx.body.json();
    let content = tri!(content_of(&body));
    let buttons = tri!(super::components::of(&body));
    let new_files = attachments(cx.st, cx.now, cx.body.files());
    let m = &cx.st.messages[&id];
    let empty = content.as_deref() == Some("")
        && m.attachments.is_empty()
        && new_files.is_empty()
        && !has_other_parts(&body);
    if empty {
        return Reply::empty_message();
    }
    if !new_files.is_empty()
        && let Some(m) = cx.st.messages.get_mut(&id)
    {
        m.attachments.extend(new_files);
    }
    let text = content.unwrap_or_else(|| cx.st.messages[&id].content().to_string());
    if let Some(buttons) = buttons
        && let Some(m) = cx.st.messages.get_mut(&id)
    {
        m.buttons = buttons;
    }
    messages::edit(cx.st, id, &text, cx.now, cx.sh.config.resume_window);
    Reply::ok(json::message(cx.st, &cx.st.messages[&id], false))
}

pub(super) fn delete_message(cx: &mut Ctx<'_>, channel: &str, message: &str) -> Reply {
    let ch = tri!(visible_channel(cx.st, channel));
    let (c, dm) = (ch.id, ch.kind == ChannelKind::Dm);
    let id = tri!(message_in(cx.st, c, message));
    if dm && cx.st.messages[&id].author_id != cx.st.bot_id {
        return Reply::error(403, 50003, "Cannot execute action on a DM channel");
    }
    messages::delete(cx.st, id, cx.now, cx.sh.config.resume_window);
    Reply::no_content()
}

pub(super) fn typing(cx: &mut Ctx<'_>, channel: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel)).id;
    cx.st.typing.push((c, cx.now.1));
    Reply::no_content()
}

/// A reaction emoji from the path: a Unicode emoji, or `name:id` for a
/// custom one. Plain words (`thumbsup`) are not emoji.
fn emoji(raw: &str) -> Option<Value> {
    if let Some((name, id)) = raw.split_once(':') {
        let ok = !name.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        return ok.then(|| json!({"id": id, "name": name}));
    }
    let ok = !raw.is_empty()
        && raw.chars().count() <= 16
        && !raw
            .chars()
            .any(|c| c.is_ascii_alphanumeric() || c.is_whitespace());
    ok.then(|| json!({"id": null, "name": raw}))
}

pub(super) fn react(cx: &mut Ctx<'_>, channel: &str, message: &str, raw: &str, add: bool) -> Reply {
    let c = tri!(visible_channel(cx.st, channel)).id;
    let id = tri!(message_in(cx.st, c, message));
    let Some(emoji_json) = emoji(raw) else {
        return Reply::unknown_emoji();
    };
    let bot = cx.st.bot_id;
    let existing = cx
        .st
        .reactions
        .iter()
        .position(|r| r.message_id == id && r.user_id == bot && r.emoji == raw);
    let changed = match (add, existing) {
        (true, None) => {
            cx.st.reactions.push(ReactionRec {
                channel_id: c,
                message_id: id,
                user_id: bot,
                emoji: raw.to_string(),
                at: cx.now.1,
            });
            true
        }
        (false, Some(i)) => {
            cx.st.reactions.remove(i);
            true
        }
        _ => false,
    };
    if changed {
        let m = &cx.st.messages[&id];
        let place = messages::place_of(cx.st, c);
        let mut d = json!({
            "user_id": bot.to_string(),
            "type": 0,
            "message_id": id.to_string(),
            "channel_id": c.to_string(),
            "emoji": emoji_json,
            "burst": false,
        });
        if add {
            d["message_author_id"] = json!(m.author_id.to_string());
            d["burst_colors"] = json!([]);
        }
        if let Some(g) = m.guild_id {
            d["guild_id"] = json!(g.to_string());
            if add && let Some(guild) = cx.st.guilds.get(&g) {
                d["member"] = json::member(cx.st, guild, bot, true);
            }
        }
        let name = if add {
            "MESSAGE_REACTION_ADD"
        } else {
            "MESSAGE_REACTION_REMOVE"
        };
        let ev = Event {
            name,
            data: d,
            place: if place == Place::Dm {
                Place::Dm
            } else {
                Place::Guild
            },
            content_exempt: None,
        };
        cx.st
            .gateway
            .dispatch(&ev, cx.now.0, cx.sh.config.resume_window);
    }
    Reply::no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_emoji_forms() {
        assert_eq!(emoji("👍").unwrap()["name"], "👍");
        assert_eq!(emoji("✅").unwrap()["id"], Value::Null);
        assert_eq!(emoji("blob:123456").unwrap()["id"], "123456");
        assert!(emoji("thumbsup").is_none());
        assert!(emoji("blob:").is_none());
        assert!(emoji("").is_none());
    }
}
