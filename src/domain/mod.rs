//! The ground floor: the words every other floor shares, and nothing else.
//!
//! Ids, threads and platforms, inbound events, the command enum, outbound intents with their
//! attachments and outbox keys, how a turn ended, what an agent reported, turn states,
//! workspaces and their credentials, configured projects, change figures, CI checks, dependency changes
//! and review plans, who is admitted, and the decisions the audit trail records. No I/O, no
//! database, no runtime: `store`, `runner`, `agents`, `reviews`, `core`, `bots` and `web` all
//! build on these types, and this module imports none of them (`tests/layering.rs` keeps it so).

pub mod admission;
pub mod agent;
pub mod agent_event;
pub mod audit;
pub mod changes;
pub mod checks;
pub mod command;
pub mod controls;
pub mod cron;
pub mod ids;
pub mod inbound;
pub mod invocation;
pub mod outbound;
pub mod outbox_key;
pub mod outcome;
pub mod project;
pub mod review;
pub mod thread;
pub mod trigger;
pub mod turn;
pub mod workspace;

/// Serde for a type stored as text (an outbox key, a credential's name): it is written and read
/// through its `Display` and `FromStr` (with `#[serde(into = "String", try_from = "String")]`
/// on the type), so the stored text stays what it was when it was a plain string.
macro_rules! stored_as_text {
    ($type:ty) => {
        impl From<$type> for String {
            fn from(value: $type) -> String {
                value.to_string()
            }
        }

        impl TryFrom<String> for $type {
            type Error = String;

            fn try_from(text: String) -> Result<$type, String> {
                text.parse()
            }
        }
    };
}
use stored_as_text;
