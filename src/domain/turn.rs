//! Where a turn is in its life: `queued` until a worker takes it, `starting` once its files are
//! named (before the launch), `running` once launched, then `done` (with an outcome) or
//! `dropped` (taken off the queue). The store keeps the name; the turn driver moves it on.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnState {
    Queued,
    Starting,
    Running,
    Done,
    Dropped,
}

impl TurnState {
    pub fn as_str(self) -> &'static str {
        match self {
            TurnState::Queued => "queued",
            TurnState::Starting => "starting",
            TurnState::Running => "running",
            TurnState::Done => "done",
            TurnState::Dropped => "dropped",
        }
    }

    /// The state a stored name stands for.
    pub fn parse(s: &str) -> Result<TurnState, UnknownTurnState> {
        Ok(match s {
            "queued" => TurnState::Queued,
            "starting" => TurnState::Starting,
            "running" => TurnState::Running,
            "done" => TurnState::Done,
            "dropped" => TurnState::Dropped,
            other => return Err(UnknownTurnState(other.to_owned())),
        })
    }
}

/// A stored turn state that is none of the known names.
#[derive(Debug, thiserror::Error)]
#[error("unknown turn state {0:?}")]
pub struct UnknownTurnState(pub String);
