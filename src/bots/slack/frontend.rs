//! Slack's decisions: allowlists of users and workspaces decide who may ask; prompts go to the
//! agent as typed; a request gets 👀 when it is queued and ✅ or ❌ when its turn ends, around
//! the usual status message and answer in the thread.

use std::collections::HashSet;

use anyhow::Result;

use crate::core::access::Access;
use crate::core::frontend::{
    Admission, Ending, Frontend, Refusal, chat_acknowledgement, chat_ending,
};
use crate::core::ids::TurnId;
use crate::core::inbound::Inbound;
use crate::core::outbox::{Outbound, OutboundOp, Reaction, keys};
use crate::core::outcome::Outcome;
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

fn react(
    event_thread: &crate::core::thread::ThreadRef,
    key: String,
    message: &str,
    reaction: Reaction,
) -> Outbound {
    Outbound {
        key,
        thread: event_thread.clone(),
        op: OutboundOp::React {
            message_id: message.to_owned(),
            reaction,
        },
    }
}

impl Frontend for SlackFrontend {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let admission =
            if self.users.allows(&event.thread, &event.author) || self.team_allowed(event) {
                Admission::Allowed
            } else {
                Admission::Refused(Refusal::NotAllowed {
                    user_id: event.author.id.clone(),
                })
            };
        Box::pin(async move { Ok(admission) })
    }

    fn acknowledge(&self, event: &Inbound, turn: &TurnId, ahead: i64) -> Vec<Outbound> {
        let mut out = Vec::new();
        if let Some(message) = &event.message_id {
            out.push(react(
                &event.thread,
                keys::reaction(turn),
                message,
                Reaction::Eyes,
            ));
        }
        out.extend(chat_acknowledgement(event, turn, ahead));
        out
    }

    fn present(&self, ending: &Ending<'_>) -> Vec<Outbound> {
        let mut out = chat_ending(ending);
        if let Some(message) = &ending.turn.reply_to {
            let reaction = match ending.outcome {
                Outcome::Success { .. } => Reaction::Done,
                _ => Reaction::Failed,
            };
            out.push(react(
                ending.thread,
                keys::ending_reaction(&ending.turn.id),
                message,
                reaction,
            ));
        }
        out
    }
}
