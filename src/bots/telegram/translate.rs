//! Telegram updates → core inbound events.
//!
//! Private chats: every text is for the bot. Groups: commands (`/cmd`, or `/cmd@ThisBot` — one
//! addressed to another bot is ignored) and text that mentions the bot or replies to one of its
//! messages; other chatter is not the bot's business and is not stored. Forum topics are their
//! own threads. Messages from bots are ignored (no bot loops).
//!
//! The prompt is the text as typed, byte for byte: only a leading `@ThisBot` (the mention that
//! addresses the bot) is removed, with the blank between it and the request. Pasted code keeps
//! its indentation, and a mention of the bot anywhere else stays where it was written.
//!
//! Entities are read with bounds checks: their offsets count UTF-16 code units, and an entity
//! that runs past its text or splits a character makes the update malformed ([`BadEntity`])
//! rather than slicing the text blindly (teloxide's `parse_entities` panics on it).

use std::fmt;
use std::ops::Range;

use teloxide::types::{
    CallbackQuery, FileMeta, Message, MessageEntity, MessageEntityKind, Update, UpdateKind, User,
};

use crate::domain::command::{self, CommandError};
use crate::domain::controls::ButtonAction;
use crate::domain::inbound::{
    FileKind, Inbound, InboundBody, IncomingFile, Invalid, after_addressing,
};
use crate::domain::thread::{Author, Platform, ThreadRef};

/// Who the bot is (from getMe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub id: u64,
    pub username: String,
}

/// An entity whose UTF-16 range does not fit its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntity {
    pub offset: usize,
    pub length: usize,
    /// The text's length in UTF-16 code units.
    pub text_units: usize,
}

impl fmt::Display for BadEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an entity at UTF-16 offset {} of length {} does not fit its text of {} code units",
            self.offset, self.length, self.text_units
        )
    }
}

/// The core event for an update, `None` when the update is not for the bot, or why the update
/// is malformed.
pub fn translate(update: &Update, me: &BotIdentity) -> Result<Option<Inbound>, BadEntity> {
    if let UpdateKind::CallbackQuery(query) = &update.kind {
        return Ok(press(query, me));
    }
    let UpdateKind::Message(msg) = &update.kind else {
        return Ok(None);
    };
    let Some(from) = msg.from.as_ref() else {
        return Ok(None);
    };
    if from.is_bot {
        return Ok(None);
    }
    let mentioned = mentions(msg, me)?;
    let private = msg.chat.is_private();
    let files = files(msg);
    let body = match msg.text().or(msg.caption()) {
        Some(text) if text.starts_with('/') && files.is_empty() => {
            match command_body(text, me, private) {
                Some(body) => body,
                None => return Ok(None),
            }
        }
        Some(text) => {
            if !private && !mentioned && !replies_to_bot(msg, me) {
                return Ok(None);
            }
            let prompt = without_leading_mention(text, &me.username);
            if prompt.trim().is_empty() && files.is_empty() {
                InboundBody::Invalid(Invalid::EmptyMention)
            } else {
                InboundBody::Prompt {
                    text: prompt.to_owned(),
                }
            }
        }
        None if !files.is_empty() && (private || replies_to_bot(msg, me)) => InboundBody::Prompt {
            text: String::new(),
        },
        None if private || replies_to_bot(msg, me) => InboundBody::Invalid(Invalid::NotText),
        None => return Ok(None),
    };
    Ok(Some(Inbound {
        external_id: update.id.0.to_string(),
        thread: thread_of(msg),
        author: author(from),
        message_id: Some(msg.id.0.to_string()),
        body,
        files,
        context: None,
    }))
}

/// The thread a message is in: its chat, and its forum topic.
fn thread_of(msg: &Message) -> ThreadRef {
    let topic = msg
        .is_topic_message
        .then(|| msg.thread_id.map(|t| t.0.0.to_string()))
        .flatten();
    ThreadRef {
        platform: Platform::Telegram,
        chat: msg.chat.id.0.to_string(),
        topic,
    }
}

fn author(from: &User) -> Author {
    Author {
        id: from.id.0.to_string(),
        display: from
            .username
            .as_ref()
            .map(|u| format!("@{u}"))
            .unwrap_or_else(|| from.first_name.clone()),
    }
}

/// A press of one of the bot's buttons (a callback query) → the press, deduplicated on the
/// query's id and carrying it (`context`) for `answerCallbackQuery`. `None` for a query about a
/// message the bot cannot see any more, not under one of its own messages, or whose data is no
/// button of ours.
fn press(query: &CallbackQuery, me: &BotIdentity) -> Option<Inbound> {
    let msg = query.message.as_ref()?.regular_message()?;
    let posted_by_bot = msg.from.as_ref().is_some_and(|u| u.id.0 == me.id);
    if query.from.is_bot || !posted_by_bot {
        return None;
    }
    let action = ButtonAction::decode(query.data.as_deref()?)?;
    Some(Inbound {
        external_id: format!("callback:{}", query.id.0),
        thread: thread_of(msg),
        author: author(&query.from),
        message_id: Some(msg.id.0.to_string()),
        body: InboundBody::Press(action),
        context: Some(serde_json::json!({ CALLBACK_QUERY_ID: query.id.0 })),
        files: Vec::new(),
    })
}

/// The key of a press's `context` that holds its callback query's id.
pub const CALLBACK_QUERY_ID: &str = "callback_query_id";

/// `/name@bot args` → a command, or `None` when it is addressed to another bot (or, in a group,
/// is not one of ours: other bots in the group may own it).
fn command_body(text: &str, me: &BotIdentity, private: bool) -> Option<InboundBody> {
    let text = &text[1..];
    let (word, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let (name, target) = match word.split_once('@') {
        Some((name, target)) => (name, Some(target)),
        None => (word, None),
    };
    let addressed_to_us = match target {
        Some(target) if !target.eq_ignore_ascii_case(&me.username) => return None,
        Some(_) => true,
        None => private,
    };
    let name = if name.eq_ignore_ascii_case("start") {
        "help"
    } else {
        name
    };
    match command::parse(name, args) {
        Ok(command) => Some(InboundBody::Command(command)),
        Err(CommandError::Unknown(_)) if !addressed_to_us => None,
        Err(error) => Some(InboundBody::Invalid(Invalid::Command(error))),
    }
}

/// The photo (its largest size) or document of a message, for the agent's inbox; its voice
/// note or audio file, for a transcript.
fn files(msg: &Message) -> Vec<IncomingFile> {
    let file = |name: String, meta: &FileMeta, kind: FileKind| {
        vec![IncomingFile {
            name,
            size: Some(u64::from(meta.size)),
            source: meta.id.0.clone(),
            kind,
        }]
    };
    if let Some(largest) = msg
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
    {
        return file("photo.jpg".to_owned(), &largest.file, FileKind::Attachment);
    }
    if let Some(document) = msg.document() {
        let name = document.file_name.clone();
        let name = name.unwrap_or_else(|| "document".to_owned());
        return file(name, &document.file, FileKind::Attachment);
    }
    // Telegram records voice notes as OGG/Opus; the name tells the speech-to-text service so.
    if let Some(voice) = msg.voice() {
        return file("voice.ogg".to_owned(), &voice.file, FileKind::Audio);
    }
    if let Some(audio) = msg.audio() {
        let name = audio.file_name.clone();
        let name = name.unwrap_or_else(|| "audio.mp3".to_owned());
        return file(name, &audio.file, FileKind::Audio);
    }
    Vec::new()
}

/// Whether the text or caption mentions the bot; every entity is checked against its text.
fn mentions(msg: &Message, me: &BotIdentity) -> Result<bool, BadEntity> {
    let at_name = format!("@{}", me.username);
    let mut mentioned = false;
    for (text, entities) in [
        (msg.text(), msg.entities()),
        (msg.caption(), msg.caption_entities()),
    ] {
        let (Some(text), Some(entities)) = (text, entities) else {
            continue;
        };
        for entity in entities {
            let range = utf16_range(text, entity).ok_or(BadEntity {
                offset: entity.offset,
                length: entity.length,
                text_units: text.encode_utf16().count(),
            })?;
            mentioned |= match &entity.kind {
                MessageEntityKind::Mention => text[range].eq_ignore_ascii_case(&at_name),
                MessageEntityKind::TextMention { user } => user.id.0 == me.id,
                _ => false,
            };
        }
    }
    Ok(mentioned)
}

/// The byte range of an entity (whose offset and length count UTF-16 code units), or `None`
/// when it runs past the text or starts or ends inside a character.
fn utf16_range(text: &str, entity: &MessageEntity) -> Option<Range<usize>> {
    let end = entity.offset.checked_add(entity.length)?;
    let mut units = 0;
    let mut start = None;
    let ends = text.char_indices().chain([(text.len(), '\0')]);
    for (byte, c) in ends {
        if units == entity.offset {
            start = Some(byte);
        }
        if units == end {
            return Some(start?..byte);
        }
        if units > end {
            return None;
        }
        units += c.len_utf16();
    }
    None
}

fn replies_to_bot(msg: &Message, me: &BotIdentity) -> bool {
    msg.reply_to_message()
        .and_then(|reply| reply.from.as_ref())
        .is_some_and(|user| user.id.0 == me.id)
}

/// The text without the mention that addresses the bot: a leading `@ThisBot` (any case), the
/// blanks after it and, when it stands alone on its line, that line's end. Anything else is
/// the user's, byte for byte.
fn without_leading_mention<'a>(text: &'a str, username: &str) -> &'a str {
    let Some(rest) = text
        .strip_prefix('@')
        .and_then(|rest| Some((rest.get(..username.len())?, rest.get(username.len()..)?)))
        .filter(|(name, _)| name.eq_ignore_ascii_case(username))
        .map(|(_, rest)| rest)
    else {
        return text;
    };
    if rest
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
    {
        return text; // a longer name: @ThisBotter
    }
    after_addressing(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn me() -> BotIdentity {
        BotIdentity {
            id: 42,
            username: "SwitchBot".into(),
        }
    }

    fn translated(update: Update) -> Option<Inbound> {
        translate(&update, &me()).expect("a well-formed update")
    }

    /// Parsed from text, as updates arrive (teloxide's `Update` does not deserialize from a
    /// `serde_json::Value`).
    fn update(message: serde_json::Value) -> Update {
        let text = json!({"update_id": 7, "message": message}).to_string();
        serde_json::from_str(&text).unwrap()
    }

    fn private(text: &str) -> serde_json::Value {
        json!({
            "message_id": 3, "date": 1700000000, "text": text,
            "chat": {"id": 10, "type": "private", "first_name": "Ann"},
            "from": {"id": 10, "is_bot": false, "first_name": "Ann", "username": "ann"}
        })
    }

    fn group(text: &str, entities: serde_json::Value) -> serde_json::Value {
        json!({
            "message_id": 4, "date": 1700000000, "text": text, "entities": entities,
            "chat": {"id": -100, "type": "supergroup", "title": "T"},
            "from": {"id": 11, "is_bot": false, "first_name": "Bo"}
        })
    }

    /// A voice note and an audio file are audio for a transcript, with their caption as the
    /// prompt's text.
    #[test]
    fn voice_notes_and_audio_files_are_audio() {
        let mut voice = private("");
        let voice_map = voice.as_object_mut().unwrap();
        voice_map.remove("text");
        voice_map.insert(
            "voice".into(),
            json!({"file_id": "V1", "file_unique_id": "u1", "duration": 3, "mime_type": "audio/ogg", "file_size": 900}),
        );
        let ev = translated(update(voice)).unwrap();
        assert_eq!(
            ev.body,
            InboundBody::Prompt {
                text: String::new()
            }
        );
        assert_eq!(
            ev.files,
            [IncomingFile {
                name: "voice.ogg".into(),
                size: Some(900),
                source: "V1".into(),
                kind: FileKind::Audio,
            }]
        );
        let mut audio = private("");
        let audio_map = audio.as_object_mut().unwrap();
        audio_map.remove("text");
        audio_map.insert("caption".into(), json!("from the meeting"));
        audio_map.insert(
            "audio".into(),
            json!({"file_id": "A1", "file_unique_id": "u2", "duration": 60, "file_name": "standup.m4a", "mime_type": "audio/mp4", "file_size": 5000}),
        );
        let ev = translated(update(audio)).unwrap();
        assert_eq!(
            ev.body,
            InboundBody::Prompt {
                text: "from the meeting".into()
            }
        );
        assert_eq!(ev.files[0].name, "standup.m4a");
        assert_eq!(ev.files[0].kind, FileKind::Audio);
    }

    #[test]
    fn private_text_is_a_prompt_and_commands_parse() {
        let ev = translated(update(private("fix the build"))).unwrap();
        assert_eq!(
            ev.body,
            InboundBody::Prompt {
                text: "fix the build".into()
            }
        );
        assert_eq!(ev.external_id, "7");
        assert_eq!(ev.thread.chat, "10");
        assert_eq!(ev.author.display, "@ann");
        assert_eq!(ev.message_id.as_deref(), Some("3"));
        let ev = translated(update(private("/stop all"))).unwrap();
        assert_eq!(
            ev.body,
            InboundBody::Command(command::Command::Stop { all: true })
        );
        let ev = translated(update(private("/start"))).unwrap();
        assert_eq!(ev.body, InboundBody::Command(command::Command::Help));
        let ev = translated(update(private("/nope"))).unwrap();
        assert!(matches!(
            ev.body,
            InboundBody::Invalid(Invalid::Command(CommandError::Unknown(_)))
        ));
    }

    #[test]
    fn groups_need_a_mention_a_reply_or_a_command() {
        assert!(translated(update(group("just chatting", json!([])))).is_none());
        let mention = group(
            "@switchbot run the tests",
            json!([{"type": "mention", "offset": 0, "length": 10}]),
        );
        let ev = translated(update(mention)).unwrap();
        assert_eq!(
            ev.body,
            InboundBody::Prompt {
                text: "run the tests".into()
            }
        );
        let mut reply = group("and again", json!([]));
        reply["reply_to_message"] = json!({
            "message_id": 1, "date": 1700000000, "text": "done",
            "chat": {"id": -100, "type": "supergroup", "title": "T"},
            "from": {"id": 42, "is_bot": true, "first_name": "SB", "username": "SwitchBot"}
        });
        assert!(translated(update(reply)).is_some());
        let cmd = group(
            "/status@SwitchBot",
            json!([{"type": "bot_command", "offset": 0, "length": 17}]),
        );
        assert_eq!(
            translated(update(cmd)).unwrap().body,
            InboundBody::Command(command::Command::Status)
        );
        let other = group(
            "/status@OtherBot",
            json!([{"type": "bot_command", "offset": 0, "length": 16}]),
        );
        assert!(translated(update(other)).is_none());
        let foreign = group(
            "/deploy",
            json!([{"type": "bot_command", "offset": 0, "length": 7}]),
        );
        assert!(
            translated(update(foreign)).is_none(),
            "another bot's command"
        );
        let bare = group(
            "@SwitchBot",
            json!([{"type": "mention", "offset": 0, "length": 10}]),
        );
        assert_eq!(
            translated(update(bare)).unwrap().body,
            InboundBody::Invalid(Invalid::EmptyMention)
        );
    }

    #[test]
    fn forum_topics_are_threads_and_bots_are_ignored() {
        let mut msg = group(
            "@SwitchBot hi",
            json!([{"type": "mention", "offset": 0, "length": 10}]),
        );
        msg["message_thread_id"] = json!(77);
        msg["is_topic_message"] = json!(true);
        let ev = translated(update(msg)).unwrap();
        assert_eq!(ev.thread.topic.as_deref(), Some("77"));
        assert_eq!(ev.thread.key(), "-100/77");
        let mut bot = private("hello");
        bot["from"]["is_bot"] = json!(true);
        assert!(translated(update(bot)).is_none());
    }

    #[test]
    fn only_the_leading_mention_is_removed_and_the_rest_is_kept_byte_exact() {
        let strip = |text| without_leading_mention(text, "SwitchBot");
        assert_eq!(strip("@SwitchBot  do it"), "do it");
        assert_eq!(
            strip("@switchbot\n    fn main() {}\n"),
            "    fn main() {}\n"
        );
        assert_eq!(strip("@SWITCHBOT \t\r\n\tindented"), "\tindented");
        assert_eq!(
            strip("@SwitchBot\n\nsecond paragraph"),
            "\nsecond paragraph"
        );
        assert_eq!(strip("ask @switchbot now "), "ask @switchbot now ");
        assert_eq!(strip("@SwitchBotter hi"), "@SwitchBotter hi");
        assert_eq!(strip("@Switch"), "@Switch");
        assert_eq!(strip("@Swi\u{e9}tchBot"), "@Swi\u{e9}tchBot");
        assert_eq!(strip("  leading blanks stay\t"), "  leading blanks stay\t");

        let private = translated(update(private("  indented\nask @SwitchBot here  "))).unwrap();
        assert_eq!(
            private.body,
            InboundBody::Prompt {
                text: "  indented\nask @SwitchBot here  ".into()
            }
        );
        let code = group(
            "@SwitchBot\n    let x = 1;\n@SwitchBot is named again",
            json!([
                {"type": "mention", "offset": 0, "length": 10},
                {"type": "mention", "offset": 26, "length": 10}
            ]),
        );
        assert_eq!(
            translated(update(code)).unwrap().body,
            InboundBody::Prompt {
                text: "    let x = 1;\n@SwitchBot is named again".into()
            }
        );
        let blank = group(
            "@SwitchBot \n ",
            json!([{"type": "mention", "offset": 0, "length": 10}]),
        );
        assert_eq!(
            translated(update(blank)).unwrap().body,
            InboundBody::Invalid(Invalid::EmptyMention)
        );
    }

    #[test]
    fn entities_are_measured_in_utf16_and_bad_ones_make_the_update_malformed() {
        // "🚀 @SwitchBot": the rocket is two UTF-16 units, so the mention starts at unit 3.
        let rocket = group(
            "🚀 @SwitchBot go",
            json!([{"type": "mention", "offset": 3, "length": 10}]),
        );
        assert!(
            translated(update(rocket)).is_some(),
            "mentioned after an emoji"
        );
        for (offset, length) in [(0, 40), (12, 10), (1, 2), (0, usize::MAX), (usize::MAX, 1)] {
            let broken = group(
                "🚀 @SwitchBot go",
                json!([{"type": "mention", "offset": offset, "length": length}]),
            );
            let error = translate(&update(broken), &me()).expect_err("a malformed update");
            assert_eq!(
                (error.offset, error.length, error.text_units),
                (offset, length, 16)
            );
        }
        // Also in a private chat, where no mention is needed.
        let mut past_the_end = private("hi");
        past_the_end["entities"] = json!([{"type": "bold", "offset": 1, "length": 5}]);
        assert!(translate(&update(past_the_end), &me()).is_err());
    }
}
