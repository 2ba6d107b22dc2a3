//! `conversations.history` and `conversations.replies`: the reads a bot
//! makes to catch up after a restart.
//!
//! * history lists a conversation's top-level messages (and replies
//!   broadcast to it), newest first; replies lists a thread's parent and
//!   replies, oldest first. `ts` may name the parent or any reply.
//! * `oldest`/`latest` bound the range, exclusive unless `inclusive`;
//!   `limit` defaults to 100 (history) and 1000 (replies), capped at 999 and
//!   1000. Pages continue with `cursor` = the previous answer's
//!   `response_metadata.next_cursor` (Slack's own `next_ts:` cursor), with
//!   `has_more` telling whether there is one.
//! * message metadata is shown only with `include_all_metadata`;
//! * deleted messages are gone; a bot not in a public channel gets
//!   `not_in_channel`, in a private one `channel_not_found`; an unknown
//!   thread is `thread_not_found`; bad bounds are `invalid_ts_oldest` /
//!   `invalid_ts_latest`, a foreign cursor `invalid_cursor`.
//!
//! The 2025 limits for new non-Marketplace apps (one call a minute, 15
//! messages a page) do not apply to internal apps like Switchboard and are not
//! modelled.

use serde_json::{Value, json};

use super::ids::{cursor_for, parse_cursor, parse_ts};
use super::json;
use super::methods::Ctx;
use super::reply::{ApiError, Reply, fields};
use super::state::MessageRec;

struct Range {
    oldest: Option<u64>,
    latest: Option<u64>,
    inclusive: bool,
}

impl Range {
    fn from(cx: &Ctx<'_>) -> Result<Self, ApiError> {
        let bound = |key: &str, error: &str| match cx.p.string(key) {
            None => Ok(None),
            Some(t) => parse_ts(&t).map(Some).ok_or_else(|| ApiError::new(error)),
        };
        Ok(Self {
            oldest: bound("oldest", "invalid_ts_oldest")?,
            latest: bound("latest", "invalid_ts_latest")?,
            inclusive: cx.p.bool("inclusive").unwrap_or(false),
        })
    }

    fn contains(&self, ts: u64) -> bool {
        let above = self
            .oldest
            .is_none_or(|o| ts > o || (self.inclusive && ts == o));
        let below = self
            .latest
            .is_none_or(|l| ts < l || (self.inclusive && ts == l));
        above && below
    }
}

fn limit(cx: &Ctx<'_>, default: usize, max: usize) -> usize {
    cx.p.u64("limit")
        .map_or(default, |n| (n as usize).clamp(1, max))
}

fn cursor(cx: &Ctx<'_>) -> Result<Option<u64>, ApiError> {
    match cx.p.string("cursor") {
        None => Ok(None),
        Some(c) => parse_cursor(&c)
            .map(Some)
            .ok_or_else(|| ApiError::new("invalid_cursor")),
    }
}

/// One page of `(ts, message)` in the order given, starting at the cursor.
fn page(
    cx: &Ctx<'_>,
    channel: &str,
    listed: Vec<(u64, &MessageRec)>,
    start: Option<u64>,
    newest_first: bool,
    limit: usize,
) -> (Vec<Value>, Option<String>) {
    let from = listed
        .iter()
        .position(|(ts, _)| match start {
            None => true,
            Some(c) if newest_first => *ts <= c,
            Some(c) => *ts >= c,
        })
        .unwrap_or(listed.len());
    let rest = &listed[from..];
    let with_metadata = cx.p.bool("include_all_metadata").unwrap_or(false);
    let shown: Vec<Value> = rest
        .iter()
        .take(limit)
        .map(|(_, m)| {
            let mut v = json::message(&cx.sh.config, cx.st, channel, m);
            if let Some(metadata) = m.metadata.as_ref().filter(|_| with_metadata) {
                v["metadata"] = metadata.clone();
            }
            v
        })
        .collect();
    let next = rest.get(limit).map(|(_, m)| cursor_for(&m.ts));
    (shown, next)
}

pub(super) fn history(cx: &mut Ctx<'_>) -> Reply {
    let channel = cx.channel("channel", true)?;
    let range = Range::from(cx)?;
    let start = cursor(cx)?;
    let limit = limit(cx, 100, 999);
    let mut listed: Vec<(u64, &MessageRec)> = cx
        .st
        .messages
        .get(&channel)
        .map(|m| {
            m.iter()
                .filter(|(ts, r)| {
                    !r.deleted && (!r.is_reply() || r.broadcast) && range.contains(**ts)
                })
                .map(|(ts, r)| (*ts, r))
                .collect()
        })
        .unwrap_or_default();
    listed.reverse();
    let (messages, next) = page(cx, &channel, listed, start, true, limit);
    Ok(fields(json!({
        "messages": messages,
        "has_more": next.is_some(),
        "pin_count": 0,
        "channel_actions_ts": null,
        "channel_actions_count": 0,
        "response_metadata": { "next_cursor": next.unwrap_or_default() },
    })))
}

pub(super) fn replies(cx: &mut Ctx<'_>) -> Reply {
    let channel = cx.channel("channel", true)?;
    let asked =
        cx.p.string("ts")
            .ok_or_else(|| ApiError::new("thread_not_found"))?;
    let range = Range::from(cx)?;
    let start = cursor(cx)?;
    let limit = limit(cx, 1000, 1000);
    let parent_ts = match cx.st.message(&channel, &asked) {
        Some(m) if !m.deleted => m.thread_ts.clone().unwrap_or_else(|| m.ts.clone()),
        _ => return Err(ApiError::new("thread_not_found")),
    };
    let Some(parent) = cx.st.message(&channel, &parent_ts).filter(|p| !p.deleted) else {
        return Err(ApiError::new("thread_not_found"));
    };
    let mut listed = vec![(parse_ts(&parent.ts).unwrap_or_default(), parent)];
    for r in cx.st.replies(&channel, &parent_ts) {
        listed.push((parse_ts(&r.ts).unwrap_or_default(), r));
    }
    listed.retain(|(ts, _)| range.contains(*ts));
    let (messages, next) = page(cx, &channel, listed, start, false, limit);
    Ok(fields(json!({
        "messages": messages,
        "has_more": next.is_some(),
        "response_metadata": { "next_cursor": next.unwrap_or_default() },
    })))
}
