//! Buttons under the bot's messages (Stop, Cancel, Retry, Open PR), platform-neutral.
//!
//! A button is queued with its post or edit in the outbox, and each platform renders it its own
//! way (a Telegram inline keyboard, Slack Block Kit, Discord components). What a press asks for
//! travels back as the button's id: [`ButtonAction::encode`] writes it compactly enough for the
//! tightest platform (Telegram's `callback_data`, 64 bytes), and [`ButtonAction::decode`] reads
//! it back. A client can send any id it likes, so a decoded action is only a request: the core
//! checks who pressed and that the turn or session belongs to the thread before acting.

use serde::{Deserialize, Serialize};

use super::ids::{SessionId, TurnId};

/// Telegram's limit on `callback_data`, the tightest of the platforms' ids for a button.
pub const ID_LIMIT_BYTES: usize = 64;

/// One button: what it shows and what pressing it asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub action: ButtonAction,
}

/// What pressing a button asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonAction {
    /// Stop the running turn (on its progress message).
    Stop(TurnId),
    /// Drop this one queued prompt (on its acknowledgement).
    Cancel(TurnId),
    /// Queue the turn's prompt again (on its answer).
    Retry(TurnId),
    /// `/pr` for the session (on an answer whose workspace has changes).
    OpenPr(SessionId),
}

impl ButtonAction {
    /// The button that asks for this.
    pub fn button(self) -> Button {
        let label = match &self {
            ButtonAction::Stop(_) => "🛑 Stop",
            ButtonAction::Cancel(_) => "✖️ Cancel",
            ButtonAction::Retry(_) => "🔁 Retry",
            ButtonAction::OpenPr(_) => "🔀 Open PR",
        };
        Button {
            label: label.to_owned(),
            action: self,
        }
    }

    /// The action as a button id: a letter, a colon and the id (`s:0193…`), at most
    /// [`ID_LIMIT_BYTES`].
    pub fn encode(&self) -> String {
        let (tag, id) = match self {
            ButtonAction::Stop(turn) => ('s', turn.as_str()),
            ButtonAction::Cancel(turn) => ('c', turn.as_str()),
            ButtonAction::Retry(turn) => ('r', turn.as_str()),
            ButtonAction::OpenPr(session) => ('p', session.as_str()),
        };
        format!("{tag}:{id}")
    }

    /// Reads a button id written by [`encode`](Self::encode); `None` for anything else.
    pub fn decode(data: &str) -> Option<ButtonAction> {
        let (tag, id) = data.split_once(':')?;
        let valid = !id.is_empty()
            && data.len() <= ID_LIMIT_BYTES
            && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !valid {
            return None;
        }
        let turn = || TurnId::from_string(id.to_owned());
        Some(match tag {
            "s" => ButtonAction::Stop(turn()),
            "c" => ButtonAction::Cancel(turn()),
            "r" => ButtonAction::Retry(turn()),
            "p" => ButtonAction::OpenPr(SessionId::from_string(id.to_owned())),
            _ => return None,
        })
    }

    /// What it is called in the audit trail and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ButtonAction::Stop(_) => "stop",
            ButtonAction::Cancel(_) => "cancel",
            ButtonAction::Retry(_) => "retry",
            ButtonAction::OpenPr(_) => "open_pr",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_id_fits_telegram_and_reads_back_and_nothing_else_does() {
        let turn = TurnId::generate();
        for action in [
            ButtonAction::Stop(turn.clone()),
            ButtonAction::Cancel(turn.clone()),
            ButtonAction::Retry(turn),
            ButtonAction::OpenPr(SessionId::generate()),
        ] {
            let data = action.encode();
            assert!(data.len() <= ID_LIMIT_BYTES, "{data}");
            assert_eq!(ButtonAction::decode(&data), Some(action));
        }
        for bad in [
            "",
            "s:",
            "x:0193",
            "s:0193 OR 1",
            "s",
            &format!("s:{}", "a".repeat(70)),
        ] {
            assert_eq!(ButtonAction::decode(bad), None, "{bad}");
        }
    }
}
