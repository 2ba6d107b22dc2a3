//! What people do in the fake's chats, turned into stored messages and
//! queued `Update`s: a message (with Telegram-detected entities, optional
//! topic and reply), an edit, a new forum topic.
//!
//! Updates are rendered when they are queued, so each is a snapshot of the
//! moment it happened, like Telegram's; they leave in `update_id` order.

use std::time::SystemTime;

use serde_json::Value;

use super::client_entities;
use super::json;
use super::messages;
use super::state::{Attachment, BotIdentity, Formatted, Sender, State, StoredMessage};
use super::types::{UserFileKind, UserMessage};

/// Builds a user's message (a text, or a file with the text as its caption) and its update;
/// `thread` is the topic it lands in.
pub(super) fn user_message(
    state: &mut State,
    bot: &BotIdentity,
    (chat_id, user_id): (i64, i64),
    message: &UserMessage,
    thread: Option<i32>,
    at: SystemTime,
) -> (i64, i32) {
    let text = &message.text;
    let attachment = message.file.as_ref().map(|file| {
        let photo = file.kind == UserFileKind::Photo;
        let dimensions = photo
            .then(|| messages::image_size(&file.bytes).expect("a user's photo is a PNG or JPEG"));
        let mime = match file.kind {
            UserFileKind::Voice => "audio/ogg".to_owned(),
            _ => messages::mime_for(&file.name, None),
        };
        let stored = state.new_file(file.name.clone(), mime, file.bytes.clone(), dimensions);
        match file.kind {
            UserFileKind::Photo => Attachment::Photo(stored),
            UserFileKind::Document => Attachment::Document(stored),
            UserFileKind::Voice => Attachment::Voice(stored),
        }
    });
    let chat = state.chat_mut(chat_id);
    let id = chat.allocate_message_id();
    let mut msg = StoredMessage::new(id, Sender::User(user_id), at);
    msg.thread_id = thread;
    msg.reply_to = message.reply_to;
    msg.text = (attachment.is_none() || !text.is_empty()).then(|| Formatted {
        text: text.to_string(),
        entities: message
            .entities
            .clone()
            .unwrap_or_else(|| client_entities::detect(text)),
        html: None,
    });
    msg.attachment = attachment;
    chat.messages.insert(id, msg);
    let chat = &state.chats[&chat_id];
    let payload = json::message(state, bot, chat, &chat.messages[&id]);
    (state.queue_update("message", payload), id)
}

/// Queues an update of `kind` whose payload is `payload` as given, however malformed: what
/// a broken Telegram (or a hostile server in the middle) could send.
pub(super) fn raw(state: &mut State, kind: &'static str, payload: Value) -> i64 {
    state.queue_update(kind, payload)
}

/// Edits a user's message and queues the `edited_message` update.
pub(super) fn user_edit(
    state: &mut State,
    bot: &BotIdentity,
    chat_id: i64,
    message_id: i32,
    text: &str,
    at: SystemTime,
) -> i64 {
    let chat = state.chat_mut(chat_id);
    let msg = chat
        .messages
        .get_mut(&message_id)
        .expect("checked by the caller");
    msg.edit(
        Formatted {
            text: text.to_string(),
            entities: client_entities::detect(text),
            html: None,
        },
        at,
    );
    let chat = &state.chats[&chat_id];
    let payload = json::message(state, bot, chat, &chat.messages[&message_id]);
    state.queue_update("edited_message", payload)
}

/// Creates a forum topic: its creation service message's id is its thread id.
pub(super) fn create_topic(
    state: &mut State,
    bot: &BotIdentity,
    chat_id: i64,
    creator: i64,
    name: &str,
    at: SystemTime,
) -> i32 {
    let chat = state.chat_mut(chat_id);
    let id = chat.allocate_message_id();
    let mut msg = StoredMessage::new(id, Sender::User(creator), at);
    msg.thread_id = Some(id);
    msg.topic_created = Some(name.to_string());
    chat.messages.insert(id, msg);
    chat.topics.insert(id, name.to_string());
    let chat = &state.chats[&chat_id];
    let payload = json::message(state, bot, chat, &chat.messages[&id]);
    state.queue_update("message", payload);
    id
}
