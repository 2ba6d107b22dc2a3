//! The outbox's idempotency keys: one variant per situation, so no two situations can collide.
//!
//! A key is stored as text — the outbox's and `posted`'s `key` columns, an edit's `target` and a
//! post's `status` inside a stored op, Slack's message metadata, the console's file URLs — in
//! the spellings rows already hold (`turn:<id>:status`). [`Display`](fmt::Display) writes them
//! and [`FromStr`] reads them back, so what reads a key back matches on a variant instead of
//! taking a string apart.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ids::{InboundId, SessionId, TurnId};
use super::thread::Platform;

/// What an outbox row is, and so the key it is queued under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum OutboxKey {
    /// The reply to a command or a bad input: `in:<inbound>:reply`.
    Reply(InboundId),
    /// What was heard in a voice note, echoed before its turn: `in:<inbound>:transcript`.
    Transcript(InboundId),
    /// A turn's acknowledgement, later edited into its progress and final status:
    /// `turn:<turn>:status`.
    Status(TurnId),
    /// The edit row of a turn's status message: `turn:<turn>:status:edit`.
    StatusEdit(TurnId),
    /// The reaction acknowledging a turn's request: `turn:<turn>:reaction`.
    Reaction(TurnId),
    /// The reaction marking how a turn's request ended: `turn:<turn>:reaction:end`.
    EndingReaction(TurnId),
    /// A turn's final answer or failure message: `turn:<turn>:result`.
    Result(TurnId),
    /// The refusal for an unauthorized user, at most one per user, thread and hour:
    /// `refuse:<platform>:<thread>:<user>:<hour>`.
    Refusal {
        platform: Platform,
        /// The thread's [`key`](super::thread::ThreadRef::key).
        thread: String,
        /// The author's id; read back as the text between the last two colons (no platform's
        /// user ids hold one).
        user: String,
        /// Hours since the Unix epoch.
        hour: i64,
    },
    /// What a session's thread is told about the CI checks of a commit it pushed, once per
    /// session and commit: `checks:<session>:<sha>`.
    ChecksReport { session: SessionId, sha: String },
}

/// A turn's key, made from its id.
type TurnKey = fn(TurnId) -> OutboxKey;

/// The last part of a turn's keys, after the turn id: each names one variant.
const TURN_SUFFIXES: [(&str, TurnKey); 5] = [
    (":status", OutboxKey::Status),
    (":status:edit", OutboxKey::StatusEdit),
    (":reaction", OutboxKey::Reaction),
    (":reaction:end", OutboxKey::EndingReaction),
    (":result", OutboxKey::Result),
];

impl OutboxKey {
    /// A SQL `LIKE` pattern matching every [`OutboxKey::Reply`] key.
    pub const REPLIES_LIKE: &'static str = "in:%:reply";
}

impl fmt::Display for OutboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxKey::Reply(inbound) => write!(f, "in:{inbound}:reply"),
            OutboxKey::Transcript(inbound) => write!(f, "in:{inbound}:transcript"),
            OutboxKey::Status(turn) => write!(f, "turn:{turn}:status"),
            OutboxKey::StatusEdit(turn) => write!(f, "turn:{turn}:status:edit"),
            OutboxKey::Reaction(turn) => write!(f, "turn:{turn}:reaction"),
            OutboxKey::EndingReaction(turn) => write!(f, "turn:{turn}:reaction:end"),
            OutboxKey::Result(turn) => write!(f, "turn:{turn}:result"),
            OutboxKey::Refusal {
                platform,
                thread,
                user,
                hour,
            } => write!(f, "refuse:{platform}:{thread}:{user}:{hour}"),
            OutboxKey::ChecksReport { session, sha } => write!(f, "checks:{session}:{sha}"),
        }
    }
}

impl FromStr for OutboxKey {
    type Err = String;

    fn from_str(text: &str) -> Result<OutboxKey, String> {
        parse(text).ok_or_else(|| format!("not an outbox key: {text:?}"))
    }
}

fn parse(text: &str) -> Option<OutboxKey> {
    if let Some(rest) = text.strip_prefix("turn:") {
        // The suffixes end differently (`:status`, `:edit`, `:reaction`, `:end`, `:result`),
        // so at most one matches, whatever the id holds.
        return TURN_SUFFIXES.iter().find_map(|(suffix, variant)| {
            let turn = rest.strip_suffix(suffix)?;
            Some(variant(TurnId::from_string(turn.to_owned())))
        });
    }
    if let Some(rest) = text.strip_prefix("in:") {
        if let Some(inbound) = rest.strip_suffix(":transcript") {
            return Some(OutboxKey::Transcript(InboundId::from_string(
                inbound.to_owned(),
            )));
        }
        let inbound = rest.strip_suffix(":reply")?;
        return Some(OutboxKey::Reply(InboundId::from_string(inbound.to_owned())));
    }
    if let Some(rest) = text.strip_prefix("checks:") {
        // A commit id holds no colon.
        let (session, sha) = rest.rsplit_once(':')?;
        return Some(OutboxKey::ChecksReport {
            session: SessionId::from_string(session.to_owned()),
            sha: sha.to_owned(),
        });
    }
    let rest = text.strip_prefix("refuse:")?;
    let (platform, rest) = rest.split_once(':')?;
    let (rest, hour) = rest.rsplit_once(':')?;
    let (thread, user) = rest.rsplit_once(':')?;
    Some(OutboxKey::Refusal {
        platform: platform.parse().ok()?,
        thread: thread.to_owned(),
        user: user.to_owned(),
        hour: hour.parse().ok()?,
    })
}

super::stored_as_text!(OutboxKey);

#[cfg(test)]
mod tests {
    use super::*;

    fn turn() -> TurnId {
        TurnId::from_string("0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b".into())
    }

    /// Every key is spelled as rows stored before this type hold it, and reads back as itself.
    #[test]
    fn every_key_keeps_its_stored_spelling_and_reads_back() {
        let inbound = InboundId::from_string("0193a5b2-0000-7000-8000-000000000001".into());
        let t = "0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b";
        let keys = [
            (
                OutboxKey::Reply(inbound.clone()),
                "in:0193a5b2-0000-7000-8000-000000000001:reply".to_owned(),
            ),
            (
                OutboxKey::Transcript(inbound),
                "in:0193a5b2-0000-7000-8000-000000000001:transcript".to_owned(),
            ),
            (OutboxKey::Status(turn()), format!("turn:{t}:status")),
            (
                OutboxKey::StatusEdit(turn()),
                format!("turn:{t}:status:edit"),
            ),
            (OutboxKey::Reaction(turn()), format!("turn:{t}:reaction")),
            (
                OutboxKey::EndingReaction(turn()),
                format!("turn:{t}:reaction:end"),
            ),
            (OutboxKey::Result(turn()), format!("turn:{t}:result")),
            (
                OutboxKey::Refusal {
                    platform: Platform::GitHub,
                    thread: "octo/app/pr/7".into(),
                    user: "mallory".into(),
                    hour: 493_000,
                },
                "refuse:github:octo/app/pr/7:mallory:493000".to_owned(),
            ),
            (
                OutboxKey::ChecksReport {
                    session: SessionId::from_string(t.into()),
                    sha: "9fceb02d0ae598e95dc970b74767f19372d61af8".into(),
                },
                format!("checks:{t}:9fceb02d0ae598e95dc970b74767f19372d61af8"),
            ),
        ];
        for (key, text) in keys {
            assert_eq!(key.to_string(), text);
            assert_eq!(text.parse::<OutboxKey>(), Ok(key.clone()), "{text}");
            assert_eq!(serde_json::to_value(&key).unwrap(), serde_json::json!(text));
            assert_eq!(
                serde_json::from_value::<OutboxKey>(text.into()).unwrap(),
                key
            );
        }
    }

    /// A turn id is read whole, whatever it holds: the suffixes tell the variants apart.
    #[test]
    fn a_turn_id_that_looks_like_a_suffix_reads_back_whole() {
        for id in ["a:status", "a:reaction", "a:status:edit", "", "1"] {
            let id = TurnId::from_string(id.into());
            for key in [
                OutboxKey::Status(id.clone()),
                OutboxKey::StatusEdit(id.clone()),
                OutboxKey::Reaction(id.clone()),
                OutboxKey::EndingReaction(id.clone()),
                OutboxKey::Result(id.clone()),
            ] {
                assert_eq!(key.to_string().parse(), Ok(key));
            }
        }
    }

    /// A Telegram forum topic's refusal: the thread key holds a slash, the chat a minus.
    #[test]
    fn a_refusal_reads_back_with_its_thread() {
        let key = OutboxKey::Refusal {
            platform: Platform::Telegram,
            thread: "-100/77".into(),
            user: "2002".into(),
            hour: 1,
        };
        assert_eq!("refuse:telegram:-100/77:2002:1".parse(), Ok(key));
    }

    #[test]
    fn other_text_is_no_key() {
        for text in [
            "",
            "status",
            "turn:1:answer",
            "turn:1",
            "in:1:status",
            "refuse:irc:c:u:1",
            "refuse:github:c:u:h",
            "refuse:github:u:1",
            "checks:abc",
        ] {
            assert!(text.parse::<OutboxKey>().is_err(), "{text}");
        }
    }

    #[test]
    fn the_replies_pattern_matches_replies_only() {
        let like = |text: &str| {
            let (head, tail) = OutboxKey::REPLIES_LIKE.split_once('%').unwrap();
            text.starts_with(head) && text.ends_with(tail)
        };
        let reply = OutboxKey::Reply(InboundId::from_string("1".into()));
        assert!(like(&reply.to_string()));
        assert!(!like(&OutboxKey::Result(turn()).to_string()));
    }
}
