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

/// The audit action of a rejected update.
const REJECTED: &str = "update_rejected";

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

/// Takes one update (its bytes: text that is not UTF-8 is as unparsable as any other): stores
/// its event (if it is for the bot) or records why it was rejected.
/// Returns its `update_id` when one could be read. An error means the store failed: nothing
/// was kept, and the caller must not confirm the update.
pub async fn receive(core: &Core, me: &BotIdentity, raw: &[u8]) -> Result<Option<u32>> {
    let update = match serde_json::from_slice::<Update>(raw) {
        Ok(update) => update,
        Err(error) => {
            let id = update_id(raw);
            let rejection = Rejection::Unparsable(error.to_string());
            reject(core, id, None, &rejection).await?;
            return Ok(id);
        }
    };
    let id = Some(update.id.0);
    if let UpdateKind::Error(_) = update.kind {
        reject(core, id, Some(&update), &Rejection::UnreadableMessage).await?;
        return Ok(id);
    }
    let translated = match crate::panics::catch(|| translate(&update, me)) {
        Ok(Ok(translated)) => Ok(translated),
        Ok(Err(bad)) => Err(Rejection::BadEntity(bad)),
        Err(panic) => Err(Rejection::Panicked(panic)),
    };
    match translated {
        Ok(Some(event)) => {
            core.accept(&event).await?;
        }
        Ok(None) => {}
        Err(rejection) => reject(core, id, Some(&update), &rejection).await?,
    }
    Ok(id)
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
            "telegram",
            &actor,
            &chat,
            REJECTED,
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
}
