//! Gateway intents as Discord applies them, as pure functions: which
//! IDENTIFYs are refused (4013 invalid, 4014 disallowed privileged intent),
//! which dispatches a session receives, and what the privileged
//! MESSAGE_CONTENT intent hides.

use serde_json::Value;

pub(super) const GUILDS: u64 = 1 << 0;
pub(super) const GUILD_MEMBERS: u64 = 1 << 1;
pub(super) const GUILD_PRESENCES: u64 = 1 << 8;
pub(super) const GUILD_MESSAGES: u64 = 1 << 9;
pub(super) const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
pub(super) const DIRECT_MESSAGES: u64 = 1 << 12;
pub(super) const DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
pub(super) const MESSAGE_CONTENT: u64 = 1 << 15;

/// Every intent Discord defines: bits 0–16, 20, 21, 24, 25.
const DEFINED: u64 = ((1 << 17) - 1) | (1 << 20) | (1 << 21) | (1 << 24) | (1 << 25);

/// Gateway close codes for refused intents.
pub(super) const INVALID_INTENTS: u16 = 4013;
pub(super) const DISALLOWED_INTENTS: u16 = 4014;

/// Checks IDENTIFY's `intents` against the defined bits and the privileged
/// intents enabled for the application (`enabled`, a mask of privileged
/// bits). Returns the intents or the close code.
pub(super) fn check_identify(intents: &Value, enabled: u64) -> Result<u64, u16> {
    let Some(bits) = intents.as_u64() else {
        return Err(INVALID_INTENTS);
    };
    if bits & !DEFINED != 0 {
        return Err(INVALID_INTENTS);
    }
    let privileged = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
    if bits & privileged & !enabled != 0 {
        return Err(DISALLOWED_INTENTS);
    }
    Ok(bits)
}

/// Where a dispatch happens, for intent routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Guild,
    Dm,
    /// Not tied to an intent (READY, INTERACTION_CREATE, …).
    Anywhere,
}

/// The intent a session needs to receive `event` (0: none).
pub(super) fn required(event: &str, place: Place) -> u64 {
    match (event, place) {
        (_, Place::Anywhere) => 0,
        (
            "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE"
            | "CHANNEL_DELETE" | "THREAD_CREATE" | "THREAD_UPDATE" | "THREAD_DELETE",
            _,
        ) => GUILDS,
        ("MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE", Place::Guild) => GUILD_MESSAGES,
        ("MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE", Place::Dm) => DIRECT_MESSAGES,
        ("MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE", Place::Guild) => {
            GUILD_MESSAGE_REACTIONS
        }
        ("MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE", Place::Dm) => DIRECT_MESSAGE_REACTIONS,
        _ => 0,
    }
}

/// Whether a session with `intents` sees the content of a message: always
/// with MESSAGE_CONTENT; without it only the bot's own messages, DMs, and
/// messages that mention the bot (`exempt`).
pub(super) fn content_visible(intents: u64, exempt: bool) -> bool {
    exempt || intents & MESSAGE_CONTENT != 0
}

/// Empties the fields MESSAGE_CONTENT guards, as Discord sends them to an
/// app without the intent: `content`, `embeds`, `attachments`,
/// `components` (and `poll` goes away).
pub(super) fn strip_content(message: &mut Value) {
    if let Some(m) = message.as_object_mut() {
        m.insert("content".into(), Value::String(String::new()));
        m.insert("embeds".into(), Value::Array(vec![]));
        m.insert("attachments".into(), Value::Array(vec![]));
        m.insert("components".into(), Value::Array(vec![]));
        m.remove("poll");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identify_checks_bits_and_privileges() {
        assert_eq!(check_identify(&json!(513), 0), Ok(513));
        assert_eq!(check_identify(&json!(1 << 18), 0), Err(4013));
        assert_eq!(check_identify(&json!("513"), 0), Err(4013));
        assert_eq!(check_identify(&json!(-1), 0), Err(4013));
        assert_eq!(
            check_identify(&json!(GUILDS | MESSAGE_CONTENT), 0),
            Err(4014)
        );
        assert_eq!(
            check_identify(&json!(GUILDS | MESSAGE_CONTENT), MESSAGE_CONTENT),
            Ok(GUILDS | MESSAGE_CONTENT)
        );
        assert_eq!(
            check_identify(&json!(GUILD_MEMBERS), MESSAGE_CONTENT),
            Err(4014)
        );
    }

    #[test]
    fn events_need_their_intents() {
        assert_eq!(required("MESSAGE_CREATE", Place::Guild), GUILD_MESSAGES);
        assert_eq!(required("MESSAGE_CREATE", Place::Dm), DIRECT_MESSAGES);
        assert_eq!(required("THREAD_CREATE", Place::Guild), GUILDS);
        assert_eq!(required("INTERACTION_CREATE", Place::Anywhere), 0);
        assert_eq!(
            required("MESSAGE_REACTION_ADD", Place::Dm),
            DIRECT_MESSAGE_REACTIONS
        );
    }

    #[test]
    fn message_content_hides_fields_except_exempt_messages() {
        assert!(!content_visible(GUILD_MESSAGES, false));
        assert!(content_visible(GUILD_MESSAGES, true));
        assert!(content_visible(GUILD_MESSAGES | MESSAGE_CONTENT, false));
        let mut m = json!({"content": "hi", "embeds": [{}], "attachments": [{}], "components": [{}], "poll": {}, "id": "1"});
        strip_content(&mut m);
        assert_eq!(
            m,
            json!({"content": "", "embeds": [], "attachments": [], "components": [], "id": "1"})
        );
    }
}
