//! The ground floor: the words every other floor shares, and nothing else.
//!
//! Ids, threads and platforms, inbound events, the command enum, outbound intents and their
//! attachments, how a turn ended, what an agent reported, turn states, workspaces, change
//! figures, dependency changes and review plans, and who is admitted. No I/O, no database, no
//! runtime: `store`, `runner`, `agents`, `reviews`, `core`, `bots` and `web` all build on these
//! types, and this module imports none of them (`tests/layering.rs` keeps it so).

pub mod admission;
pub mod agent_event;
pub mod changes;
pub mod command;
pub mod ids;
pub mod inbound;
pub mod invocation;
pub mod outbound;
pub mod outcome;
pub mod review;
pub mod thread;
pub mod turn;
pub mod workspace;
