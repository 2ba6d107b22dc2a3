//! One update, as the text Telegram sent, → a stored event, or a stored rejection.
//!
//! The poller and the webhook hand every update here on its own (the poller cuts its batch
//! with [`json_split`](super::json_split), never parsing it whole), so one bad update fails
//! alone. It is parsed, translated with panics caught, and stored. One that cannot be read —
//! not parseable (nested deeper than the parser allows, a field of the wrong type, not JSON),
//! a message teloxide could not read, an entity that does not fit its text, a translation that
//! panicked — is recorded in the audit table (`update_rejected`, naming the update and why,
//! shown by `switchboard audit`) and counts as handled: the offset moves past it and a webhook
//! call is answered 200, so Telegram never sends it again (DESIGN invariant 1: one unparsable
//! item never blocks the rest).
//!
//! Known window: a crash between recording a rejection and confirming the update records it
//! again after the restart.

use std::fmt;

use anyhow::Result;
use teloxide::types::{Update, UpdateKind};

use super::json_split;
use super::translate::{BadEntity, BotIdentity, translate};
use crate::core::Core;
use crate::domain::audit::AuditAction;
use crate::domain::inbound::Inbound;
use crate::domain::thread::Platform;

/// Why an update was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not an update the parser could read.
    Unparsable(String),
    /// The update was read but its message was not (teloxide keeps such updates as errors).
    UnreadableMessage,
    /// An entity that does not fit its text.
    BadEntity(BadEntity),
    /// Translating it panicked: a bug, caught at the boundary.
    Panicked(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Unparsable(error) => write!(f, "unparsable: {error}"),
            Rejection::UnreadableMessage => f.write_str("its message could not be read"),
            Rejection::BadEntity(bad) => write!(f, "malformed: {bad}"),
            Rejection::Panicked(message) => write!(f, "translating it panicked: {message}"),
        }
    }
}

/// What one update's bytes say: its id when one could be read, the update when it parsed, and
/// the event for the bot (`None`: not for the bot) or why it was rejected.
#[derive(Debug)]
pub struct Reading {
    pub id: Option<u32>,
    pub update: Option<Update>,
    pub event: Result<Option<Inbound>, Rejection>,
}

/// Reads one update (its bytes: text that is not UTF-8 is as unparsable as any other) without
/// storing anything: parsed, and translated with panics caught.
pub fn read(raw: &[u8], me: &BotIdentity) -> Reading {
    let update = match serde_json::from_slice::<Update>(raw) {
        Ok(update) => update,
        Err(error) => {
            return Reading {
                id: update_id(raw),
                update: None,
                event: Err(Rejection::Unparsable(error.to_string())),
            };
        }
    };
    let id = Some(update.id.0);
    let event = if let UpdateKind::Error(_) = update.kind {
        Err(Rejection::UnreadableMessage)
    } else {
        match crate::panics::catch(|| translate(&update, me)) {
            Ok(Ok(translated)) => Ok(translated),
            Ok(Err(bad)) => Err(Rejection::BadEntity(bad)),
            Err(panic) => Err(Rejection::Panicked(panic)),
        }
    };
    Reading {
        id,
        update: Some(update),
        event,
    }
}

/// Takes one update: stores its event (if it is for the bot) or records why it was rejected.
/// Returns its `update_id` when one could be read. An error means the store failed: nothing
/// was kept, and the caller must not confirm the update.
pub async fn receive(core: &Core, me: &BotIdentity, raw: &[u8]) -> Result<Option<u32>> {
    let reading = read(raw, me);
    match &reading.event {
        Ok(Some(event)) => {
            core.accept(event).await?;
        }
        Ok(None) => {}
        Err(rejection) => reject(core, reading.id, reading.update.as_ref(), rejection).await?,
    }
    Ok(reading.id)
}

/// Records a rejected update in the audit table, with who sent it when that could be read.
async fn reject(
    core: &Core,
    id: Option<u32>,
    update: Option<&Update>,
    rejection: &Rejection,
) -> Result<()> {
    let id = id.map_or_else(
        || "without a readable update_id".to_owned(),
        |id| id.to_string(),
    );
    let actor = update
        .and_then(Update::from)
        .map_or_else(|| "unknown".to_owned(), |user| user.id.0.to_string());
    let chat = update
        .and_then(Update::chat)
        .map(|chat| chat.id.0.to_string())
        .unwrap_or_default();
    tracing::warn!(update = id, "rejected a Telegram update: {rejection}");
    core.store
        .audit(
            Platform::Telegram,
            &actor,
            &chat,
            AuditAction::UpdateRejected,
            &format!("update {id}: {rejection}"),
        )
        .await
}

/// The top-level `update_id` of an update the parser could not read, found without parsing
/// the rest (which may be nested too deep to parse at all).
fn update_id(raw: &[u8]) -> Option<u32> {
    json_split::object_members(std::str::from_utf8(raw).ok()?)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == "update_id")
        .and_then(|(_, value)| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_id_of_an_unparsable_update_is_still_found() {
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let raw = format!(r#"{{"message": {{"text": {deep}}}, "update_id": 77}}"#);
        assert!(serde_json::from_str::<Update>(&raw).is_err());
        assert_eq!(update_id(raw.as_bytes()), Some(77));
        assert_eq!(update_id(br#"{"update_id": "77"}"#), None);
        assert_eq!(update_id(br#"{"update_id": 1"#), None);
        assert_eq!(update_id(b"[]"), None);
        assert_eq!(update_id(b"{\"update_id\": 9, \"x\": \"\xff\"}"), None);
    }

    #[test]
    fn a_message_of_the_wrong_shape_is_read_as_an_error_update() {
        let raw = r#"{"update_id": 5, "message": {"message_id": "not a number"}}"#;
        let update: Update = serde_json::from_str(raw).expect("teloxide keeps the update");
        assert_eq!(update.id.0, 5);
        assert!(matches!(update.kind, UpdateKind::Error(_)));
    }

    /// Updates in the Bot API's documented shapes (tests/fixtures/telegram/), cut and read as
    /// the poller and the webhook read them.
    #[test]
    fn real_updates_are_read_into_events() {
        use crate::domain::inbound::InboundBody;
        let me = BotIdentity {
            id: 42,
            username: "switchboard_bot".into(),
        };
        let answer = include_str!("../../../tests/fixtures/telegram/get_updates.json");
        let members = json_split::object_members(answer).unwrap();
        let (_, result) = members.iter().find(|(k, _)| k == "result").unwrap();
        let events: Vec<Inbound> = json_split::array_elements(result)
            .unwrap()
            .into_iter()
            .map(|raw| read(raw.as_bytes(), &me))
            .map(|reading| reading.event.expect("readable").expect("for the bot"))
            .collect();
        let prompt = |i: usize| match &events[i].body {
            InboundBody::Prompt { text } => text.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(prompt(0), "    fn main() {}\nfix the build");
        assert_eq!(prompt(1), "run the tests 🚀");
        assert_eq!(events[1].thread.topic.as_deref(), Some("77"));
        assert_eq!(prompt(2), "what is wrong here?");
        assert_eq!(events[2].files[0].source, "AgACAgQAAxkBAAIC");
        assert!(matches!(events[3].body, InboundBody::Command(_)));
        let webhook = include_bytes!("../../../tests/fixtures/telegram/webhook_update.json");
        let reading = read(webhook, &me);
        assert_eq!(reading.id, Some(815602005));
        let event = reading.event.unwrap().expect("a reply to the bot");
        assert_eq!(
            event.body,
            InboundBody::Prompt {
                text: "and the lint too, @Bob says 👍".into()
            }
        );
    }
}
