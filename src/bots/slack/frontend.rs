//! Slack's decisions: allowlists of users and workspaces decide who may ask; prompts go to the
//! agent as typed; a request gets 👀 when it is queued and ✅ or ❌ when its turn ends, around
//! the usual status message and answer in the thread.

use std::collections::HashSet;

use anyhow::Result;

use crate::core::access::Access;
use crate::core::frontend::{
    Admission, Ending, Frontend, reacting_acknowledgement, reacting_ending,
};
use crate::core::ids::TurnId;
use crate::core::inbound::Inbound;
use crate::core::outbox::Outbound;
use crate::core::thread::Platform;
use crate::runner::transport::BoxFuture;

pub struct SlackFrontend {
    users: Access,
    teams: HashSet<String>,
}

impl SlackFrontend {
    pub fn new(users: &[String], teams: &[String]) -> SlackFrontend {
        SlackFrontend {
            users: Access::new(users, std::iter::empty::<String>()),
            teams: teams.iter().cloned().collect(),
        }
    }

    fn team_allowed(&self, event: &Inbound) -> bool {
        event
            .context
            .as_ref()
            .and_then(|c| c["team"].as_str())
            .is_some_and(|team| self.teams.contains(team))
    }
}

impl Frontend for SlackFrontend {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let allowed = self.users.allows(&event.thread, &event.author) || self.team_allowed(event);
        let admission = Admission::by_allowlist(allowed, event);
        Box::pin(async move { Ok(admission) })
    }

    fn acknowledge(&self, event: &Inbound, turn: &TurnId, ahead: i64) -> Vec<Outbound> {
        reacting_acknowledgement(event, turn, ahead, |_| true)
    }

    fn present(&self, ending: &Ending<'_>) -> Vec<Outbound> {
        reacting_ending(ending, |_| true)
    }
}
