//! Bot API object shapes: User, Chat, Message, MessageEntity, the bot's `getMe`.
//!
//! Field names and optionality follow the Bot API reference; optional fields
//! are omitted rather than `null`, as Telegram does. Messages are rendered
//! from the stored state on demand, so a `reply_to_message` shows the replied
//! message as it is now, one level deep (Telegram never nests a reply's reply).

use serde_json::{Map, Value, json};

use super::state::{Attachment, BotIdentity, ChatState, Formatted, Sender, State, StoredMessage};
use super::types::{ChatKind, FakeUser};
use crate::support::telegram_html::Entity;

/// Telegram's default topic icon colour (0x6FB9F0).
const TOPIC_ICON_COLOR: u32 = 7_322_096;

pub(super) fn bot_user(bot: &BotIdentity) -> Value {
    json!({
        "id": bot.id,
        "is_bot": true,
        "first_name": bot.first_name,
        "username": bot.username,
    })
}

/// The `getMe` answer: the bot user plus the bot-only flags.
pub(super) fn me(bot: &BotIdentity) -> Value {
    let mut me = bot_user(bot);
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(false);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

pub(super) fn user(user: &FakeUser) -> Value {
    let mut v = json!({
        "id": user.id,
        "is_bot": false,
        "first_name": user.first_name,
        "language_code": "en",
    });
    if let Some(username) = &user.username {
        v["username"] = json!(username);
    }
    v
}

pub(super) fn chat(state: &State, chat: &ChatState) -> Value {
    let c = &chat.chat;
    match c.kind {
        ChatKind::Private => {
            let mut v = json!({ "id": c.id, "type": "private" });
            if let Some(u) = state.users.get(&c.id) {
                v["first_name"] = json!(u.first_name);
                if let Some(username) = &u.username {
                    v["username"] = json!(username);
                }
            }
            v
        }
        ChatKind::Group => json!({ "id": c.id, "type": "group", "title": c.title }),
        ChatKind::Supergroup { is_forum } => {
            let mut v = json!({ "id": c.id, "type": "supergroup", "title": c.title });
            if is_forum {
                v["is_forum"] = json!(true);
            }
            v
        }
    }
}

pub(super) fn entities(entities: &[Entity]) -> Value {
    Value::Array(entities.iter().map(entity).collect())
}

fn entity(e: &Entity) -> Value {
    let mut v = json!({
        "type": e.kind.as_str(),
        "offset": e.offset_utf16,
        "length": e.length_utf16,
    });
    if let Some(url) = &e.url {
        v["url"] = json!(url);
    }
    if let Some(language) = &e.language {
        v["language"] = json!(language);
    }
    if let Some(id) = &e.custom_emoji_id {
        v["custom_emoji_id"] = json!(id);
    }
    v
}

/// A full Message object for `message_id` in `chat`.
pub(super) fn message(
    state: &State,
    bot: &BotIdentity,
    chat: &ChatState,
    msg: &StoredMessage,
) -> Value {
    render(state, bot, chat, msg, true)
}

fn render(
    state: &State,
    bot: &BotIdentity,
    chat_state: &ChatState,
    msg: &StoredMessage,
    with_reply: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("message_id".into(), json!(msg.message_id));
    if let Some(thread) = msg.thread_id {
        m.insert("message_thread_id".into(), json!(thread));
    }
    let from = match msg.sender {
        Sender::Bot => bot_user(bot),
        Sender::User(id) => state.users.get(&id).map(user).unwrap_or_else(
            || json!({ "id": id, "is_bot": false, "first_name": format!("user{id}") }),
        ),
    };
    m.insert("from".into(), from);
    m.insert("chat".into(), chat(state, chat_state));
    m.insert("date".into(), json!(msg.date));
    if let Some(edit_date) = msg.edit_date {
        m.insert("edit_date".into(), json!(edit_date));
    }
    if msg.thread_id.is_some() {
        m.insert("is_topic_message".into(), json!(true));
    }
    if with_reply {
        // Like Telegram: a topic message that is not an explicit reply
        // replies to the topic's creation message.
        let target = msg
            .reply_to
            .or(msg.thread_id.filter(|t| *t != msg.message_id));
        if let Some(replied) = target.and_then(|id| chat_state.live(id)) {
            m.insert(
                "reply_to_message".into(),
                render(state, bot, chat_state, replied, false),
            );
        }
    }
    if let Some(markup) = super::buttons::markup_json(&msg.keyboard) {
        m.insert("reply_markup".into(), markup);
    }
    if let Some(name) = &msg.topic_created {
        m.insert(
            "forum_topic_created".into(),
            json!({ "name": name, "icon_color": TOPIC_ICON_COLOR }),
        );
    }
    let mut put_text = |key: &str, entities_key: &str, f: &Formatted| {
        m.insert(key.into(), json!(f.text));
        if !f.entities.is_empty() {
            m.insert(entities_key.into(), entities(&f.entities));
        }
    };
    match &msg.attachment {
        None => {
            if let Some(f) = &msg.text {
                put_text("text", "entities", f);
            }
        }
        Some(attachment) => {
            if let Some(f) = &msg.text {
                put_text("caption", "caption_entities", f);
            }
            match attachment {
                Attachment::Document(file) => {
                    m.insert(
                        "document".into(),
                        json!({
                            "file_name": file.file_name,
                            "mime_type": file.mime_type,
                            "file_id": file.file_id,
                            "file_unique_id": file.file_unique_id,
                            "file_size": file.bytes.len(),
                        }),
                    );
                }
                Attachment::Voice(file) => {
                    m.insert(
                        "voice".into(),
                        json!({
                            "file_id": file.file_id,
                            "file_unique_id": file.file_unique_id,
                            "duration": 1 + file.bytes.len() / 2000,
                            "mime_type": file.mime_type,
                            "file_size": file.bytes.len(),
                        }),
                    );
                }
                Attachment::Photo(file) => {
                    let (width, height) = file.dimensions.unwrap_or_default();
                    m.insert(
                        "photo".into(),
                        json!([{
                            "file_id": file.file_id,
                            "file_unique_id": file.file_unique_id,
                            "width": width,
                            "height": height,
                            "file_size": file.bytes.len(),
                        }]),
                    );
                }
            }
        }
    }
    Value::Object(m)
}
