//! Public threads: started from a message (by the bot over REST, or by a
//! test acting as a person), with Discord's rules: the thread's id is the
//! message's id, one thread per message (160004), names of 1–100
//! characters, only in text channels; the starter message gets
//! HAS_THREAD and a `thread` field, the thread opens with a
//! THREAD_STARTER_MESSAGE (type 21) pointing back at it, and THREAD_CREATE
//! goes to sessions with the GUILDS intent.

use std::time::Duration;

use serde_json::{Value, json};

use super::handlers::{Ctx, message_in, visible_channel};
use super::intents::Place;
use super::json;
use super::messages::Now;
use super::reply::Reply;
use super::sessions::Event;
use super::state::{ChannelRec, MessageRec, State, ThreadMeta};
use super::types::{ChannelKind, ContentVersion};

/// The message flag HAS_THREAD.
const HAS_THREAD: u64 = 1 << 5;
const ARCHIVE_DURATIONS: [u64; 4] = [60, 1440, 4320, 10080];

/// A new thread's parameters.
pub(super) struct NewThread {
    pub parent: u64,
    pub from_message: Option<u64>,
    pub name: String,
    pub owner: u64,
    pub auto_archive_duration: u32,
    pub by_bot: bool,
}

/// Creates the thread and dispatches THREAD_CREATE; returns its id.
pub(super) fn start(st: &mut State, t: NewThread, now: Now, window: Duration) -> u64 {
    let guild_id = st.channel(t.parent).guild_id;
    let id = match t.from_message {
        Some(m) => m,
        None => st.next_id(now.1),
    };
    st.channels.insert(
        id,
        ChannelRec {
            id,
            kind: ChannelKind::PublicThread,
            guild_id,
            parent_id: Some(t.parent),
            name: Some(t.name),
            position: 0,
            recipient: None,
            thread: Some(ThreadMeta {
                from_message: t.from_message,
                owner_id: t.owner,
                auto_archive_duration: t.auto_archive_duration,
                created_at: now.1,
                by_bot: t.by_bot,
                message_count: 0,
            }),
            last_message_id: None,
            denied: false,
        },
    );
    if let Some(mid) = t.from_message {
        let author = {
            let m = st.messages.get_mut(&mid).expect("a known message");
            m.thread_id = Some(id);
            m.flags |= HAS_THREAD;
            m.author_id
        };
        let starter = st.next_id(now.1);
        st.messages.insert(
            starter,
            MessageRec {
                id: starter,
                channel_id: id,
                guild_id,
                author_id: author,
                versions: vec![ContentVersion {
                    content: String::new(),
                    at: now.1,
                }],
                attachments: vec![],
                edited_at: None,
                kind: 21,
                flags: 0,
                reference: Some(mid),
                mentions: vec![],
                mention_roles: vec![],
                mention_everyone: false,
                nonce: None,
                thread_id: None,
                interaction_id: None,
                webhook_id: None,
                position: Some(0),
                deleted: false,
                buttons: Vec::new(),
            },
        );
        if let Some(c) = st.channels.get_mut(&id) {
            c.last_message_id = Some(starter);
        }
    }
    let mut d = json::channel(st, &st.channels[&id], false);
    d["newly_created"] = Value::Bool(true);
    st.gateway.dispatch(
        &Event {
            name: "THREAD_CREATE",
            data: d,
            place: Place::Guild,
            content_exempt: None,
        },
        now.0,
        window,
    );
    id
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

/// `POST /channels/{channel}/messages/{message}/threads`.
pub(super) fn create(cx: &mut Ctx<'_>, channel: &str, message: &str) -> Reply {
    let c = tri!(visible_channel(cx.st, channel));
    if c.kind != ChannelKind::GuildText {
        return Reply::wrong_channel_type();
    }
    let c = c.id;
    let mid = tri!(message_in(cx.st, c, message));
    let body = cx.body.json();
    let name = match body.get("name") {
        Some(Value::String(n)) => n.clone(),
        _ => return Reply::required(&["name"]),
    };
    if !(1..=100).contains(&name.chars().count()) {
        return Reply::bad_length(&["name"], 1, 100);
    }
    let duration = match body.get("auto_archive_duration") {
        None | Some(Value::Null) => 1440,
        Some(v) => match v.as_u64().filter(|d| ARCHIVE_DURATIONS.contains(d)) {
            Some(d) => d as u32,
            None => {
                return Reply::field(
                    &["auto_archive_duration"],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {60, 1440, 4320, 10080}.",
                );
            }
        },
    };
    if cx.st.messages[&mid].thread_id.is_some() {
        return Reply::thread_exists();
    }
    let t = NewThread {
        parent: c,
        from_message: Some(mid),
        name,
        owner: cx.st.bot_id,
        auto_archive_duration: duration,
        by_bot: true,
    };
    let id = start(cx.st, t, cx.now, cx.sh.config.resume_window);
    let mut v = json::channel(cx.st, &cx.st.channels[&id], false);
    v["member"] = json!({
        "id": id.to_string(),
        "user_id": cx.st.bot_id.to_string(),
        "join_timestamp": super::clock::iso8601(cx.now.1),
        "flags": 1,
        "muted": false,
        "mute_config": null,
    });
    Reply::ok(v)
}
