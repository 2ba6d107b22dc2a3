//! Slash-command interactions: a test invokes a registered command (the
//! bot gets INTERACTION_CREATE), the bot answers once within the deadline
//! (`POST /interactions/{id}/{token}/callback`, type 4 message or type 5
//! deferred "thinking"), then edits the original and sends follow-ups with
//! the interaction token (`/webhooks/{app}/{token}…`, no bot token, valid
//! 15 minutes). A late first answer is refused with 10062 and recorded as
//! a violation; a second one is refused with 40060.

use std::time::Duration;

use serde_json::{Value, json};

use super::clock::iso8601;
use super::handlers::{Ctx, content_of, has_other_parts, snowflake};
use super::intents::Place;
use super::json;
use super::messages::{self, NewMessage, Now};
use super::reply::Reply;
use super::sessions::Event;
use super::state::{CallbackRec, InteractionRec, State};
use super::types::{InteractionHandle, Violation, ViolationKind};

/// DEFERRED's "thinking" message flag (LOADING) and EPHEMERAL.
const LOADING: u64 = 1 << 7;
const EPHEMERAL: u64 = 1 << 6;
/// Flags a response may set: SUPPRESS_EMBEDS, EPHEMERAL,
/// SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
const RESPONSE_FLAGS: u64 = (1 << 2) | EPHEMERAL | (1 << 12) | (1 << 15);

/// A test invokes `/name` as `user` in `channel`; dispatches
/// INTERACTION_CREATE. Panics when no such command is registered for the
/// channel's guild or globally (Discord offers only registered commands).
pub(super) fn invoke(
    st: &mut State,
    name: &str,
    options: &Value,
    user: u64,
    channel: u64,
    now: Now,
    window: Duration,
) -> InteractionHandle {
    let guild = st.guild_of(channel);
    let command = st
        .commands
        .iter()
        .filter(|c| c.name == name && c.kind == 1)
        .find(|c| c.guild_id.is_none() || c.guild_id == guild)
        .unwrap_or_else(|| {
            panic!("no command /{name} is registered for channel {channel} (guild {guild:?})")
        })
        .id;
    let id = st.next_id(now.1);
    let token = format!(
        "aW50ZXJhY3Rpb246{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let rec = InteractionRec {
        id,
        token: token.clone(),
        channel_id: channel,
        guild_id: guild,
        user_id: user,
        command_name: name.to_string(),
        created: now.0,
        callback: None,
        original: None,
        followups: vec![],
        expired: false,
        component: None,
    };
    let data = json::interaction(st, &rec, command, options);
    st.interactions.insert(id, rec);
    st.gateway.dispatch(
        &Event {
            name: "INTERACTION_CREATE",
            data,
            place: Place::Anywhere,
            content_exempt: None,
        },
        now.0,
        window,
    );
    InteractionHandle {
        id: id.to_string(),
        token,
        application_id: st.bot_id.to_string(),
        channel_id: channel.to_string(),
        guild_id: guild.map(|g| g.to_string()),
        command: name.to_string(),
    }
}

/// A test presses the button labelled `label` under the bot's message `message` as `user`:
/// INTERACTION_CREATE of type 3, as Discord sends it. Panics when the message has no such
/// button now.
pub(super) fn press(
    st: &mut State,
    user: u64,
    message: u64,
    label: &str,
    now: Now,
    window: Duration,
) -> InteractionHandle {
    let m = &st.messages[&message];
    assert_eq!(
        m.author_id, st.bot_id,
        "only the bot's messages have buttons"
    );
    let Some(button) = m.buttons.iter().find(|b| b.label == label) else {
        panic!("message {message} has no button {label:?} now");
    };
    let (channel, custom_id) = (m.channel_id, button.custom_id.clone());
    let guild = st.guild_of(channel);
    let id = st.next_id(now.1);
    let token = format!("aW50ZXJhY3Rpb246{}", uuid::Uuid::new_v4().simple());
    let mut rec = InteractionRec {
        id,
        token: token.clone(),
        channel_id: channel,
        guild_id: guild,
        user_id: user,
        command_name: String::new(),
        created: now.0,
        callback: None,
        original: None,
        followups: vec![],
        expired: false,
        component: None,
    };
    let mut data = json::interaction(st, &rec, 0, &json!([]));
    data["type"] = json!(3);
    data["data"] = json!({ "custom_id": custom_id, "component_type": 2 });
    data["message"] = json::message(st, &st.messages[&message], false);
    rec.component = Some(data);
    st.interactions.insert(id, rec);
    dispatch_press(st, id, now, window);
    InteractionHandle {
        id: id.to_string(),
        token,
        application_id: st.bot_id.to_string(),
        channel_id: channel.to_string(),
        guild_id: guild.map(|g| g.to_string()),
        command: String::new(),
    }
}

/// Sends a press's INTERACTION_CREATE (again, for a repeated delivery).
pub(super) fn dispatch_press(st: &mut State, id: u64, now: Now, window: Duration) {
    let data = st.interactions[&id].component.clone().expect("a press");
    st.gateway.dispatch(
        &Event {
            name: "INTERACTION_CREATE",
            data,
            place: Place::Anywhere,
            content_exempt: None,
        },
        now.0,
        window,
    );
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

/// A response message body: content rules as for channel messages.
fn response_message(cx: &mut Ctx<'_>, data: &Value) -> Result<(String, u64), Reply> {
    let content = content_of(data)?.unwrap_or_default();
    if content.is_empty() && cx.body.files().is_empty() && !has_other_parts(data) {
        return Err(Reply::empty_message());
    }
    Ok((
        content,
        data["flags"].as_u64().unwrap_or(0) & RESPONSE_FLAGS,
    ))
}

fn post_response(cx: &mut Ctx<'_>, i: u64, content: String, flags: u64) -> u64 {
    let channel = cx.st.interactions[&i].channel_id;
    let attachments = super::handlers::attachments(cx.st, cx.now, cx.body.files());
    let new = NewMessage {
        channel,
        author: cx.st.bot_id,
        content,
        attachments,
        kind: 20,
        flags,
        interaction: Some(i),
        webhook: Some(cx.st.bot_id),
        ..NewMessage::default()
    };
    messages::post(cx.st, new, cx.now, cx.sh.config.resume_window)
}

pub(super) fn callback(cx: &mut Ctx<'_>, interaction: &str, token: &str) -> Reply {
    let Ok(i) = interaction.parse::<u64>() else {
        return Reply::not_snowflake("interaction_id", interaction);
    };
    let Some(rec) = cx.st.interactions.get(&i).filter(|r| r.token == token) else {
        return Reply::unknown_interaction();
    };
    if rec.callback.is_some() {
        return Reply::already_acknowledged();
    }
    let deadline = rec.created + cx.sh.config.interaction_ack_deadline;
    if cx.now.0 > deadline + cx.sh.config.tolerance {
        let first = !rec.expired;
        let window_end = cx.sh.clock.system_at(deadline);
        if let Some(r) = cx.st.interactions.get_mut(&i) {
            r.expired = true;
        }
        if first {
            cx.st.violations.push(Violation {
                kind: ViolationKind::ExpiredInteraction {
                    interaction_id: i.to_string(),
                },
                method: "POST".into(),
                path: format!("/interactions/{i}/{token}/callback"),
                at: cx.now.1,
                window_end,
            });
        }
        return Reply::unknown_interaction();
    }
    let body = cx.body.json();
    let kind = body["type"].as_u64().unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let message = match kind {
        4 => {
            let (content, flags) = tri!(response_message(cx, &data));
            Some(post_response(cx, i, content, flags))
        }
        5 => {
            let flags = LOADING | (data["flags"].as_u64().unwrap_or(0) & EPHEMERAL);
            Some(post_response(cx, i, String::new(), flags))
        }
        // DEFERRED_UPDATE_MESSAGE: a component's message stays as it is.
        6 if cx.st.interactions[&i].component.is_some() => None,
        _ => {
            return Reply::field(
                &["type"],
                "BASE_TYPE_CHOICES",
                "Value must be one of {4, 5, 6, 7, 9}.",
            );
        }
    };
    let r = cx.st.interactions.get_mut(&i).expect("a known interaction");
    r.callback = Some(CallbackRec {
        kind: kind as u8,
        data,
        at: cx.now.1,
        instant: cx.now.0,
    });
    r.original = message;
    if cx.query("with_response") == Some("true")
        && let Some(message) = message
    {
        let m = &cx.st.messages[&message];
        return Reply::ok(json!({
            "interaction": {
                "id": i.to_string(),
                "type": 2,
                "response_message_id": m.id.to_string(),
                "response_message_loading": kind == 5,
                "response_message_ephemeral": m.flags & EPHEMERAL != 0,
            },
            "resource": {"type": kind, "message": json::message(cx.st, m, false)},
        }));
    }
    Reply::no_content()
}

/// The interaction a webhook route's token belongs to, if it is usable.
fn by_token(cx: &Ctx<'_>, app: &str, token: &str) -> Result<u64, Reply> {
    if snowflake("webhook_id", app)? != cx.st.bot_id {
        return Err(Reply::unknown_webhook());
    }
    let rec = cx
        .st
        .interactions
        .values()
        .find(|r| r.token == token)
        .ok_or_else(Reply::invalid_webhook_token)?;
    if cx.now.0.saturating_duration_since(rec.created) > cx.sh.config.interaction_token_lifetime {
        return Err(Reply::invalid_webhook_token());
    }
    if rec.callback.is_none() {
        return Err(Reply::unknown_webhook());
    }
    Ok(rec.id)
}

/// `@original` or a follow-up id of interaction `i`.
fn target(cx: &Ctx<'_>, i: u64, message: &str) -> Result<u64, Reply> {
    let rec = &cx.st.interactions[&i];
    let id = if message == "@original" {
        rec.original
    } else {
        message
            .parse::<u64>()
            .ok()
            .filter(|m| rec.followups.contains(m) || rec.original == Some(*m))
    };
    id.filter(|m| cx.st.messages.get(m).is_some_and(|m| !m.deleted))
        .ok_or_else(Reply::unknown_message)
}

pub(super) fn followup(cx: &mut Ctx<'_>, app: &str, token: &str) -> Reply {
    let i = tri!(by_token(cx, app, token));
    let body = cx.body.json();
    let (content, flags) = tri!(response_message(cx, &body));
    // After a deferred response, the first follow-up fills the "thinking"
    // message instead (Discord's documented backwards compatibility).
    let loading = cx.st.interactions[&i]
        .original
        .filter(|o| cx.st.messages[o].flags & LOADING != 0);
    let id = match loading {
        Some(o) => {
            edit_response(cx, o, &content);
            o
        }
        None => {
            let id = post_response(cx, i, content, flags);
            if let Some(r) = cx.st.interactions.get_mut(&i) {
                r.followups.push(id);
            }
            id
        }
    };
    Reply::ok(json::message(cx.st, &cx.st.messages[&id], false))
}

fn edit_response(cx: &mut Ctx<'_>, id: u64, content: &str) {
    if let Some(m) = cx.st.messages.get_mut(&id) {
        m.flags &= !LOADING;
    }
    messages::edit(cx.st, id, content, cx.now, cx.sh.config.resume_window);
}

pub(super) fn get_message(cx: &mut Ctx<'_>, app: &str, token: &str, message: &str) -> Reply {
    let i = tri!(by_token(cx, app, token));
    let id = tri!(target(cx, i, message));
    Reply::ok(json::message(cx.st, &cx.st.messages[&id], false))
}

pub(super) fn edit_message(cx: &mut Ctx<'_>, app: &str, token: &str, message: &str) -> Reply {
    let i = tri!(by_token(cx, app, token));
    let id = tri!(target(cx, i, message));
    let body = cx.body.json();
    let content = tri!(content_of(&body));
    let m = &cx.st.messages[&id];
    let text = content.unwrap_or_else(|| m.content().to_string());
    if text.is_empty()
        && m.attachments.is_empty()
        && cx.body.files().is_empty()
        && !has_other_parts(&body)
    {
        return Reply::empty_message();
    }
    let files = super::handlers::attachments(cx.st, cx.now, cx.body.files());
    if let Some(m) = cx.st.messages.get_mut(&id) {
        m.attachments.extend(files);
    }
    edit_response(cx, id, &text);
    Reply::ok(json::message(cx.st, &cx.st.messages[&id], false))
}

pub(super) fn delete_message(cx: &mut Ctx<'_>, app: &str, token: &str, message: &str) -> Reply {
    let i = tri!(by_token(cx, app, token));
    let id = tri!(target(cx, i, message));
    messages::delete(cx.st, id, cx.now, cx.sh.config.resume_window);
    Reply::no_content()
}

/// When the first response came, for the test-facing state.
pub(super) fn callback_after(rec: &InteractionRec) -> Option<Duration> {
    rec.callback
        .as_ref()
        .map(|c| c.instant.saturating_duration_since(rec.created))
}

/// Debug text for timeouts.
pub(super) fn describe(rec: &InteractionRec) -> String {
    format!(
        "interaction {} /{}: callback {:?} at {:?}, original {:?}, {} follow-ups, expired {}",
        rec.id,
        rec.command_name,
        rec.callback.as_ref().map(|c| c.kind),
        rec.callback.as_ref().map(|c| iso8601(c.at)),
        rec.original,
        rec.followups.len(),
        rec.expired
    )
}
