//! Identifiers and time.
//!
//! Every row id is a UUIDv7 rendered as text: time-ordered (so "oldest first" is `ORDER BY id`,
//! which is what the durable FIFOs rely on), generated in-process (no database sequence, so one
//! portable schema serves SQLite and Postgres), and unguessable enough to show to users.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                $name(new_id())
            }

            /// Wraps an id read back from the store or typed by an operator.
            pub fn from_string(id: String) -> Self {
                $name(id)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The first 8 characters: enough to tell sessions apart in a chat.
            pub fn short(&self) -> &str {
                &self.0[..self.0.len().min(8)]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A conversation bound to a chat thread: one agent, one host, one agent session id.
    SessionId
);
id_type!(
    /// One prompt and its run of the agent.
    TurnId
);
id_type!(
    /// A scheduled prompt: a `[[schedules]]` entry's name, or `s-` and hex for one made in chat.
    ScheduleId
);
id_type!(
    /// One stored inbound event (message or command) from a platform.
    InboundId
);

impl SessionId {
    /// A short name of the session that differs from every other's: the last 12 hex digits of
    /// its UUIDv7, which are random (its first digits are its creation time, so `short()`
    /// repeats for sessions made within a minute). Names its branch.
    pub fn tag(&self) -> &str {
        let id = self.as_str();
        &id[id.rfind('-').map_or(0, |dash| dash + 1)..]
    }
}

/// A fresh UUIDv7 as text, for rows that need no typed id (audit records, outbox rows).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A reference for an internal error, for the user to quote and the operator to find in the log:
/// 12 hex digits drawn at random for each error. Not a row id's prefix, which is its creation
/// time: two errors in one millisecond would share it.
pub fn error_reference() -> String {
    let mut reference = uuid::Uuid::new_v4().simple().to_string();
    // A v4 UUID's first 12 digits are all random (its version digit is the 13th).
    reference.truncate(12);
    reference
}

/// Milliseconds since the Unix epoch: how every time is stored (portable across databases).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<TurnId> = (0..1000).map(|_| TurnId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids[0].short().len(), 8);
    }

    #[test]
    fn sessions_made_together_have_tags_of_their_own() {
        let tags: std::collections::HashSet<String> = (0..10_000)
            .map(|_| SessionId::generate().tag().to_owned())
            .collect();
        assert_eq!(tags.len(), 10_000);
        assert!(tags.iter().all(|t| t.len() == 12));
    }

    /// Errors reported back to back (thousands within a few milliseconds) get references of
    /// their own.
    #[test]
    fn error_references_made_in_the_same_millisecond_differ() {
        let references: Vec<String> = (0..10_000).map(|_| error_reference()).collect();
        let distinct: std::collections::HashSet<&String> = references.iter().collect();
        assert_eq!(distinct.len(), references.len());
        assert!(
            references
                .iter()
                .all(|r| r.len() == 12 && r.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }
}
