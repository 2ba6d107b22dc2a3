//! Messages come and go the same way whoever sends them (a test acting as a
//! person, or the bot through REST): stored, numbered with a snowflake,
//! counted in their thread, and dispatched to the gateway as
//! MESSAGE_CREATE / MESSAGE_UPDATE / MESSAGE_DELETE with Discord's intent
//! and MESSAGE_CONTENT rules.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::time::Instant;

use super::intents::Place;
use super::json;
use super::sessions::Event;
use super::state::{MessageRec, State};
use super::types::{Attachment, ChannelKind, ContentVersion};

/// A message about to be posted.
#[derive(Debug, Clone, Default)]
pub(super) struct NewMessage {
    pub channel: u64,
    pub author: u64,
    pub content: String,
    pub reference: Option<u64>,
    pub attachments: Vec<Attachment>,
    /// 0 default, 19 reply, 20 command response; 19 is chosen
    /// automatically for replies of type 0.
    pub kind: u8,
    pub flags: u64,
    pub nonce: Option<Value>,
    pub interaction: Option<u64>,
    pub webhook: Option<u64>,
    /// The bot's `allowed_mentions`, if it sent one.
    pub allowed_mentions: Option<Value>,
}

/// Now, as the state's clocks need it.
pub(super) type Now = (Instant, SystemTime);

/// Which of the users mentioned in `content` are pinged (and listed in
/// `mentions`) under `allowed_mentions`.
fn allowed(mentioned: Vec<u64>, allowed_mentions: Option<&Value>) -> Vec<u64> {
    let Some(a) = allowed_mentions else {
        return mentioned;
    };
    let parse_users = a["parse"]
        .as_array()
        .is_some_and(|p| p.iter().any(|x| x == "users"));
    if parse_users {
        return mentioned;
    }
    let listed: Vec<u64> = a["users"]
        .as_array()
        .map(|u| u.iter().filter_map(|x| x.as_str()?.parse().ok()).collect())
        .unwrap_or_default();
    mentioned
        .into_iter()
        .filter(|m| listed.contains(m))
        .collect()
}

/// Posts a message and dispatches MESSAGE_CREATE; returns its id.
pub(super) fn post(st: &mut State, new: NewMessage, now: Now, window: Duration) -> u64 {
    let id = st.next_id(now.1);
    let ch = st.channel(new.channel).clone();
    let mut mentions = allowed(
        st.mentioned_users(&new.content),
        new.allowed_mentions.as_ref(),
    );
    // A reply pings the replied-to author unless `replied_user` is false.
    if let Some(r) = new.reference.and_then(|r| st.messages.get(&r)) {
        let ping = new
            .allowed_mentions
            .as_ref()
            .is_none_or(|a| a["replied_user"].as_bool().unwrap_or(false));
        if ping && r.author_id != new.author && !mentions.contains(&r.author_id) {
            mentions.push(r.author_id);
        }
    }
    let everyone = new.allowed_mentions.as_ref().is_none_or(|a| {
        a["parse"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x == "everyone"))
    });
    let position = ch.thread.as_ref().map(|t| t.message_count);
    if let Some(t) = st
        .channels
        .get_mut(&new.channel)
        .and_then(|c| c.thread.as_mut())
    {
        t.message_count += 1;
    }
    let kind = if new.kind == 0 && new.reference.is_some() {
        19
    } else {
        new.kind
    };
    let rec = MessageRec {
        id,
        channel_id: new.channel,
        guild_id: ch.guild_id,
        author_id: new.author,
        versions: vec![ContentVersion {
            content: new.content.clone(),
            at: now.1,
        }],
        attachments: new.attachments,
        edited_at: None,
        kind,
        flags: new.flags,
        reference: new.reference,
        mention_roles: st.mentioned_roles(ch.guild_id, &new.content),
        mention_everyone: everyone
            && (new.content.contains("@everyone") || new.content.contains("@here")),
        mentions,
        nonce: new.nonce,
        thread_id: None,
        interaction_id: new.interaction,
        webhook_id: new.webhook,
        position,
        deleted: false,
        buttons: Vec::new(),
    };
    st.messages.insert(id, rec);
    if let Some(c) = st.channels.get_mut(&new.channel) {
        c.last_message_id = Some(id);
    }
    dispatch_message(st, "MESSAGE_CREATE", id, now.0, window);
    id
}

/// Replaces a message's content (a new version) and dispatches
/// MESSAGE_UPDATE.
pub(super) fn edit(st: &mut State, id: u64, content: &str, now: Now, window: Duration) {
    let mentioned = st.mentioned_users(content);
    let m = st.messages.get_mut(&id).expect("a known message");
    m.versions.push(ContentVersion {
        content: content.to_string(),
        at: now.1,
    });
    m.edited_at = Some(now.1);
    for u in mentioned {
        if !m.mentions.contains(&u) {
            m.mentions.push(u);
        }
    }
    dispatch_message(st, "MESSAGE_UPDATE", id, now.0, window);
}

/// Marks a message deleted and dispatches MESSAGE_DELETE.
pub(super) fn delete(st: &mut State, id: u64, now: Now, window: Duration) {
    let m = st.messages.get_mut(&id).expect("a known message");
    m.deleted = true;
    let (channel, guild) = (m.channel_id, m.guild_id);
    let mut d = json!({"id": id.to_string(), "channel_id": channel.to_string()});
    if let Some(g) = guild {
        d["guild_id"] = json!(g.to_string());
    }
    let place = place_of(st, channel);
    st.gateway.dispatch(
        &Event {
            name: "MESSAGE_DELETE",
            data: d,
            place,
            content_exempt: None,
        },
        now.0,
        window,
    );
}

pub(super) fn place_of(st: &State, channel: u64) -> Place {
    match st.channels.get(&channel).map(|c| c.kind) {
        Some(ChannelKind::Dm) => Place::Dm,
        _ => Place::Guild,
    }
}

fn dispatch_message(st: &mut State, name: &'static str, id: u64, now: Instant, window: Duration) {
    let m = &st.messages[&id];
    let place = place_of(st, m.channel_id);
    let exempt = m.author_id == st.bot_id || place == Place::Dm || m.mentions.contains(&st.bot_id);
    let data = json::message(st, m, true);
    st.gateway.dispatch(
        &Event {
            name,
            data,
            place,
            content_exempt: Some(exempt),
        },
        now,
        window,
    );
}

/// Messages of a channel as `GET /channels/{id}/messages` lists them:
/// newest first, at most `limit`, after/before/around an id.
pub(super) fn page(
    ids: &[u64],
    after: Option<u64>,
    before: Option<u64>,
    around: Option<u64>,
    limit: usize,
) -> Vec<u64> {
    let mut ids: Vec<u64> = ids.to_vec();
    ids.sort_unstable();
    let mut out: Vec<u64> = if let Some(a) = around {
        let older: Vec<u64> = ids.iter().copied().filter(|i| *i < a).collect();
        let newer: Vec<u64> = ids.iter().copied().filter(|i| *i >= a).collect();
        let take_newer = limit.div_ceil(2).min(newer.len());
        let take_older = (limit - take_newer).min(older.len());
        older[older.len() - take_older..]
            .iter()
            .chain(&newer[..take_newer])
            .copied()
            .collect()
    } else if let Some(a) = after {
        ids.into_iter().filter(|i| *i > a).take(limit).collect()
    } else {
        let older: Vec<u64> = ids
            .into_iter()
            .filter(|i| before.is_none_or(|b| *i < b))
            .collect();
        older[older.len().saturating_sub(limit)..].to_vec()
    };
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_newest_first_like_discord() {
        let ids: Vec<u64> = (1..=10).collect();
        assert_eq!(page(&ids, None, None, None, 3), vec![10, 9, 8]);
        assert_eq!(page(&ids, Some(4), None, None, 3), vec![7, 6, 5]);
        assert_eq!(page(&ids, None, Some(4), None, 50), vec![3, 2, 1]);
        assert_eq!(page(&ids, Some(9), None, None, 50), vec![10]);
        assert_eq!(page(&ids, None, None, Some(5), 4), vec![6, 5, 4, 3]);
    }

    #[test]
    fn allowed_mentions_filter_pings() {
        assert_eq!(allowed(vec![1, 2], None), vec![1, 2]);
        assert_eq!(
            allowed(vec![1, 2], Some(&json!({"parse": []}))),
            Vec::<u64>::new()
        );
        assert_eq!(
            allowed(vec![1, 2], Some(&json!({"parse": ["users"]}))),
            vec![1, 2]
        );
        assert_eq!(
            allowed(vec![1, 2], Some(&json!({"parse": [], "users": ["2"]}))),
            vec![2]
        );
    }
}
