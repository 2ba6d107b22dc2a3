//! `chat.postMessage`, `chat.update`, `chat.postEphemeral`.
//!
//! What Slack does that the fake does too:
//! * `text` longer than 40,000 characters is truncated to 40,000, not
//!   refused: the method's reference says Slack "will truncate messages
//!   containing more than 40,000 characters" (changelog 2018-04, "truncating
//!   really long messages"). The fake truncates silently too and tests read
//!   the stored text; `msg_too_long`, still in the error list, is never
//!   answered.
//! * no `text` and no `blocks` is `no_text`;
//! * a malformed `thread_ts` is `invalid_thread_ts`; a well-formed one that
//!   names no message is accepted and the reply lands in a thread nobody can
//!   see from the channel (python-slack-sdk#840 shows Slack answering `ok`
//!   and the replies "nowhere to be seen"); `reply_broadcast` also shows a
//!   reply in the channel (subtype `thread_broadcast`);
//! * only the bot's own messages can be updated (`cant_update_message`);
//!   unknown or deleted ones are `message_not_found`; every text a message
//!   showed is kept, so tests can see progress before the answer.

use serde_json::json;

use super::events;
use super::json;
use super::methods::Ctx;
use super::reply::{ApiError, Reply, fields};
use super::state::{MessageRec, unix_secs};
use super::types::{Ephemeral, TextVersion};

/// Texts and blocks of a post or update; `no_text` when both are absent.
fn content(cx: &Ctx<'_>) -> Result<(Option<String>, Option<serde_json::Value>), ApiError> {
    let text = cx.text();
    let blocks = cx.blocks()?;
    let has_attachments = cx.p.json("attachments").ok().flatten().is_some();
    if text.is_none() && blocks.is_none() && !has_attachments {
        return Err(ApiError::new("no_text"));
    }
    Ok((text, blocks))
}

/// `metadata`: an object with a string `event_type` and an object `event_payload` (JSON, or
/// JSON text in a form), else `invalid_metadata_format`.
fn metadata(cx: &Ctx<'_>) -> Result<Option<serde_json::Value>, ApiError> {
    let invalid = || ApiError::new("invalid_metadata_format");
    let Some(m) = cx.p.json("metadata").map_err(|()| invalid())? else {
        return Ok(None);
    };
    let well_formed =
        m["event_type"].as_str().is_some_and(|t| !t.is_empty()) && m["event_payload"].is_object();
    match well_formed {
        true => Ok(Some(json!({
            "event_type": m["event_type"],
            "event_payload": m["event_payload"],
        }))),
        false => Err(invalid()),
    }
}

pub(super) fn post_message(cx: &mut Ctx<'_>) -> Reply {
    let channel = cx.channel("channel", true)?;
    let (text, blocks) = content(cx)?;
    let metadata = metadata(cx)?;
    let thread_ts = cx.thread_ts()?;
    let broadcast = thread_ts.is_some() && cx.p.bool("reply_broadcast").unwrap_or(false);
    let ts = cx.st.next_ts(cx.now);
    let bot = cx.bot();
    let mut rec = MessageRec::new(ts.clone(), Some(bot), text.as_deref().unwrap_or(""), cx.now);
    rec.bot_id = Some(cx.sh.config.bot_id.clone());
    rec.app_id = Some(cx.sh.config.app_id.clone());
    rec.blocks = blocks;
    rec.thread_ts = thread_ts;
    rec.broadcast = broadcast;
    rec.metadata = metadata.clone();
    if broadcast {
        rec.subtype = Some("thread_broadcast".into());
    }
    cx.st.insert_message(&channel, rec);
    let items = events::for_new_message(cx.sh, cx.st, &channel, &ts);
    cx.deliver(items);
    let m = cx.st.message(&channel, &ts).expect("just stored");
    let mut message = json::message(&cx.sh.config, cx.st, &channel, m);
    if let Some(metadata) = metadata {
        message["metadata"] = metadata;
    }
    Ok(fields(
        json!({ "channel": channel, "ts": ts, "message": message }),
    ))
}

pub(super) fn update(cx: &mut Ctx<'_>) -> Reply {
    let channel = cx.channel("channel", false)?;
    let ts =
        cx.p.string("ts")
            .ok_or_else(|| ApiError::new("message_not_found"))?;
    let (text, blocks) = content(cx)?;
    let bot = cx.bot();
    let before = match cx.st.message(&channel, &ts) {
        Some(m) if !m.deleted => m.clone(),
        _ => return Err(ApiError::new("message_not_found")),
    };
    if before.user.as_deref() != Some(bot.as_str()) {
        return Err(ApiError::new("cant_update_message"));
    }
    let event_ts = cx.st.next_ts(cx.now);
    let edited_ts = format!("{}.000000", unix_secs(cx.now));
    let now = cx.now;
    let m = cx.st.message_mut(&channel, &ts).expect("checked above");
    let new_text = text.unwrap_or_else(|| m.text().to_string());
    m.versions.push(TextVersion {
        text: new_text.clone(),
        at: now,
    });
    if blocks.is_some() {
        m.blocks = blocks;
    }
    m.edited = Some((bot, edited_ts));
    let ts = m.ts.clone();
    if cx.sh.config.echo_bot_messages {
        let items = events::changed(cx.sh, cx.st, &channel, &before, &event_ts);
        cx.deliver(items);
    }
    let m = cx.st.message(&channel, &ts).expect("still there");
    let message = json::message(&cx.sh.config, cx.st, &channel, m);
    Ok(fields(json!({
        "channel": channel,
        "ts": ts,
        "text": new_text,
        "message": message,
    })))
}

pub(super) fn post_ephemeral(cx: &mut Ctx<'_>) -> Reply {
    let channel = cx.channel("channel", true)?;
    let user =
        cx.p.string("user")
            .ok_or_else(|| ApiError::new("user_not_found"))?;
    if !cx.st.users.contains_key(&user) {
        return Err(ApiError::new("user_not_found"));
    }
    if !cx.st.is_member(&channel, &user) {
        return Err(ApiError::new("user_not_in_channel"));
    }
    let (text, blocks) = content(cx)?;
    let thread_ts = cx.thread_ts()?;
    let message_ts = cx.st.next_ts(cx.now);
    cx.st.ephemerals.push(Ephemeral {
        channel,
        user,
        text: text.unwrap_or_default(),
        thread_ts,
        blocks,
        message_ts: message_ts.clone(),
    });
    Ok(fields(json!({ "message_ts": message_ts })))
}
