//! What Slack sends an app subscribed to `app_mention`, `message.channels`,
//! `message.groups` and `message.im`, as event callbacks, and what it sends
//! for a slash command.
//!
//! Rules, from Slack's event docs:
//! * the app hears `message` events only from conversations its bot user is a
//!   member of, with `channel_type` telling which subscription matched;
//! * a message that mentions the bot (`<@U…>`) outside a DM also yields an
//!   `app_mention` (a second callback, its own `event_id`, same channel and
//!   `ts`); DMs never yield `app_mention`; mentions in conversations the bot is
//!   not in yield nothing;
//! * the app's own messages come back as `message` events with `bot_id`;
//! * edits and deletions are `message` events with subtype
//!   `message_changed` / `message_deleted`, `hidden: true`, and their own
//!   `ts`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::json;
use super::state::{Item, MessageRec, Shared, State, unix_secs};
use super::types::{ChannelKind, SlashInvocation};

/// Wraps `event` in an event callback with a fresh `event_id`.
pub(super) fn callback(sh: &Shared, st: &mut State, event: Value, channel: Option<&str>) -> Item {
    let cfg = &sh.config;
    let event_id = st.next_id("Ev");
    let (_, now) = sh.clock.now();
    let et = event["type"].as_str().unwrap_or("message");
    let context = json!({"et": et, "tid": cfg.team_id, "aid": cfg.app_id, "cid": channel});
    let payload = json!({
        "token": cfg.verification_token,
        "team_id": cfg.team_id,
        "context_team_id": cfg.team_id,
        "context_enterprise_id": null,
        "api_app_id": cfg.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": unix_secs(now),
        "authorizations": [{
            "enterprise_id": null,
            "team_id": cfg.team_id,
            "user_id": cfg.bot_user_id,
            "is_bot": true,
            "is_enterprise_install": false
        }],
        "is_ext_shared_channel": false,
        "event_context": format!("4-{}", STANDARD.encode(context.to_string())),
    });
    Item::Event { event_id, payload }
}

fn channel_type(st: &State, channel: &str) -> ChannelKind {
    st.channels
        .get(channel)
        .map_or(ChannelKind::Public, |c| c.channel.kind)
}

/// The `message` event of a stored message.
pub(super) fn message_event(sh: &Shared, st: &State, channel: &str, m: &MessageRec) -> Value {
    let mut event = json::message(&sh.config, st, channel, m);
    event["channel"] = json!(channel);
    event["event_ts"] = json!(m.ts);
    event["channel_type"] = json!(channel_type(st, channel).channel_type());
    event
}

/// The callbacks a new message earns the app, in the order sent.
pub(super) fn for_new_message(sh: &Shared, st: &mut State, channel: &str, ts: &str) -> Vec<Item> {
    let bot = sh.bot_user().to_string();
    if !st.is_member(channel, &bot) {
        return Vec::new();
    }
    let Some(m) = st.message(channel, ts).cloned() else {
        return Vec::new();
    };
    let own = m.user.as_deref() == Some(bot.as_str());
    if own && !sh.config.echo_bot_messages {
        return Vec::new();
    }
    let mut items = vec![];
    let event = message_event(sh, st, channel, &m);
    items.push(callback(sh, st, event.clone(), Some(channel)));
    let mentioned =
        m.text().contains(&format!("<@{bot}>")) || m.text().contains(&format!("<@{bot}|"));
    let plain = matches!(m.subtype.as_deref(), None | Some("file_share"));
    if mentioned && !own && channel_type(st, channel) != ChannelKind::Im && plain {
        let mut mention = event;
        mention["type"] = json!("app_mention");
        if let Some(o) = mention.as_object_mut() {
            o.remove("channel_type");
        }
        items.push(callback(sh, st, mention, Some(channel)));
    }
    items
}

/// `message_changed` for an edit, given the message before it.
pub(super) fn changed(
    sh: &Shared,
    st: &mut State,
    channel: &str,
    before: &MessageRec,
    event_ts: &str,
) -> Vec<Item> {
    let Some(after) = st.message(channel, &before.ts).cloned() else {
        return Vec::new();
    };
    let event = json!({
        "type": "message",
        "subtype": "message_changed",
        "message": json::message(&sh.config, st, channel, &after),
        "previous_message": json::message(&sh.config, st, channel, before),
        "channel": channel,
        "hidden": true,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type(st, channel).channel_type(),
    });
    subscribed(sh, st, channel, event)
}

/// `message_deleted`, given the message as it was.
pub(super) fn deleted(
    sh: &Shared,
    st: &mut State,
    channel: &str,
    before: &MessageRec,
    event_ts: &str,
) -> Vec<Item> {
    let event = json!({
        "type": "message",
        "subtype": "message_deleted",
        "hidden": true,
        "channel": channel,
        "previous_message": json::message(&sh.config, st, channel, before),
        "deleted_ts": before.ts,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type(st, channel).channel_type(),
    });
    subscribed(sh, st, channel, event)
}

fn subscribed(sh: &Shared, st: &mut State, channel: &str, event: Value) -> Vec<Item> {
    if st.is_member(channel, sh.bot_user()) {
        vec![callback(sh, st, event, Some(channel))]
    } else {
        Vec::new()
    }
}

/// A slash command's payload: the form Slack POSTs, field by field (Socket
/// Mode sends the same fields, as JSON strings).
pub(super) fn slash_payload(
    sh: &Shared,
    st: &State,
    inv: &SlashInvocation,
) -> Vec<(String, String)> {
    let cfg = &sh.config;
    let channel_name =
        st.channels
            .get(&inv.channel)
            .map_or("directmessage".to_string(), |c| match c.channel.kind {
                ChannelKind::Im => "directmessage".to_string(),
                _ => c.channel.name.clone(),
            });
    let user_name = st
        .users
        .get(&inv.user)
        .map_or(String::new(), |u| u.name.clone());
    [
        ("token", cfg.verification_token.clone()),
        ("team_id", cfg.team_id.clone()),
        ("team_domain", cfg.team_domain.clone()),
        ("channel_id", inv.channel.clone()),
        ("channel_name", channel_name),
        ("user_id", inv.user.clone()),
        ("user_name", user_name),
        ("command", inv.command.clone()),
        ("text", inv.text.clone()),
        ("api_app_id", cfg.app_id.clone()),
        ("is_enterprise_install", "false".to_string()),
        ("response_url", inv.response_url.clone()),
        ("trigger_id", inv.trigger_id.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
