//! Telegram updates → core inbound events.
//!
//! Private chats: every text is for the bot. Groups: commands (`/cmd`, or `/cmd@ThisBot` — one
//! addressed to another bot is ignored) and text that mentions the bot or replies to one of its
//! messages; other chatter is not the bot's business and is not stored. Forum topics are their
//! own threads. Messages from bots are ignored (no bot loops).

use teloxide::types::{Message, MessageEntityKind, Update, UpdateKind};

use crate::core::command::{self, CommandError};
use crate::core::inbound::{Inbound, InboundBody, IncomingFile, Invalid};
use crate::core::thread::{Author, Platform, ThreadRef};

/// Who the bot is (from getMe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub id: u64,
    pub username: String,
}

/// The core event for an update, or `None` when the update is not for the bot.
pub fn translate(update: &Update, me: &BotIdentity) -> Option<Inbound> {
    let UpdateKind::Message(msg) = &update.kind else {
        return None;
    };
    let from = msg.from.as_ref()?;
    if from.is_bot {
        return None;
    }
    let private = msg.chat.is_private();
    let files = files(msg);
    let body = match msg.text().or(msg.caption()) {
        Some(text) if text.starts_with('/') && files.is_empty() => command_body(text, me, private)?,
        Some(text) => {
            if !private && !mentions(msg, me) && !replies_to_bot(msg, me) {
                return None;
            }
            let prompt = strip_mention(text, &me.username);
            if prompt.is_empty() && files.is_empty() {
                InboundBody::Invalid(Invalid::EmptyMention)
            } else {
                InboundBody::Prompt { text: prompt }
            }
        }
        None if !files.is_empty() && (private || replies_to_bot(msg, me)) => InboundBody::Prompt {
            text: String::new(),
        },
        None if private || replies_to_bot(msg, me) => InboundBody::Invalid(Invalid::NotText),
        None => return None,
    };
    let topic = msg
        .is_topic_message
        .then(|| msg.thread_id.map(|t| t.0.0.to_string()))
        .flatten();
    Some(Inbound {
        external_id: update.id.0.to_string(),
        thread: ThreadRef {
            platform: Platform::Telegram,
            chat: msg.chat.id.0.to_string(),
            topic,
        },
        author: Author {
            id: from.id.0.to_string(),
            display: from
                .username
                .as_ref()
                .map(|u| format!("@{u}"))
                .unwrap_or_else(|| from.first_name.clone()),
        },
        message_id: Some(msg.id.0.to_string()),
        body,
        files,
        context: None,
    })
}

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

/// The photo (its largest size) or document of a message, for the agent's inbox.
fn files(msg: &Message) -> Vec<IncomingFile> {
    if let Some(largest) = msg
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
    {
        return vec![IncomingFile {
            name: "photo.jpg".to_owned(),
            size: Some(u64::from(largest.file.size)),
            source: largest.file.id.0.clone(),
        }];
    }
    if let Some(document) = msg.document() {
        return vec![IncomingFile {
            name: document
                .file_name
                .clone()
                .unwrap_or_else(|| "document".to_owned()),
            size: Some(u64::from(document.file.size)),
            source: document.file.id.0.clone(),
        }];
    }
    Vec::new()
}

/// Whether the text or caption mentions the bot.
fn mentions(msg: &Message, me: &BotIdentity) -> bool {
    let at_name = format!("@{}", me.username);
    msg.parse_entities()
        .into_iter()
        .chain(msg.parse_caption_entities())
        .flatten()
        .any(|entity| match entity.kind() {
            MessageEntityKind::Mention => entity.text().eq_ignore_ascii_case(&at_name),
            MessageEntityKind::TextMention { user } => user.id.0 == me.id,
            _ => false,
        })
}

fn replies_to_bot(msg: &Message, me: &BotIdentity) -> bool {
    msg.reply_to_message()
        .and_then(|reply| reply.from.as_ref())
        .is_some_and(|user| user.id.0 == me.id)
}

/// The text without `@botname` mentions, trimmed.
fn strip_mention(text: &str, username: &str) -> String {
    let needle = format!("@{}", username.to_ascii_lowercase());
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(&needle) {
        let start = search + found;
        let end = start + needle.len();
        let boundary = text[end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary {
            out.push_str(&text[rest..start]);
            rest = end;
        }
        search = end;
    }
    out.push_str(&text[rest..]);
    out.trim().to_owned()
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

    #[test]
    fn private_text_is_a_prompt_and_commands_parse() {
        let ev = translate(&update(private("fix the build")), &me()).unwrap();
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
        let ev = translate(&update(private("/stop all")), &me()).unwrap();
        assert_eq!(
            ev.body,
            InboundBody::Command(command::Command::Stop { all: true })
        );
        let ev = translate(&update(private("/start")), &me()).unwrap();
        assert_eq!(ev.body, InboundBody::Command(command::Command::Help));
        let ev = translate(&update(private("/nope")), &me()).unwrap();
        assert!(matches!(
            ev.body,
            InboundBody::Invalid(Invalid::Command(CommandError::Unknown(_)))
        ));
    }

    #[test]
    fn groups_need_a_mention_a_reply_or_a_command() {
        assert!(translate(&update(group("just chatting", json!([]))), &me()).is_none());
        let mention = group(
            "@switchbot run the tests",
            json!([{"type": "mention", "offset": 0, "length": 10}]),
        );
        let ev = translate(&update(mention), &me()).unwrap();
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
        assert!(translate(&update(reply), &me()).is_some());
        let cmd = group(
            "/status@SwitchBot",
            json!([{"type": "bot_command", "offset": 0, "length": 17}]),
        );
        assert_eq!(
            translate(&update(cmd), &me()).unwrap().body,
            InboundBody::Command(command::Command::Status)
        );
        let other = group(
            "/status@OtherBot",
            json!([{"type": "bot_command", "offset": 0, "length": 16}]),
        );
        assert!(translate(&update(other), &me()).is_none());
        let foreign = group(
            "/deploy",
            json!([{"type": "bot_command", "offset": 0, "length": 7}]),
        );
        assert!(
            translate(&update(foreign), &me()).is_none(),
            "another bot's command"
        );
        let bare = group(
            "@SwitchBot",
            json!([{"type": "mention", "offset": 0, "length": 10}]),
        );
        assert_eq!(
            translate(&update(bare), &me()).unwrap().body,
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
        let ev = translate(&update(msg), &me()).unwrap();
        assert_eq!(ev.thread.topic.as_deref(), Some("77"));
        assert_eq!(ev.thread.key(), "-100/77");
        let mut bot = private("hello");
        bot["from"]["is_bot"] = json!(true);
        assert!(translate(&update(bot), &me()).is_none());
    }

    #[test]
    fn mentions_are_stripped_only_as_whole_names() {
        assert_eq!(strip_mention("@SwitchBot  do it", "SwitchBot"), "do it");
        assert_eq!(strip_mention("ask @switchbot now", "SwitchBot"), "ask  now");
        assert_eq!(
            strip_mention("@SwitchBotter hi", "SwitchBot"),
            "@SwitchBotter hi"
        );
    }
}
