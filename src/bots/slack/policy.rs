//! Slack's decisions: allowlists of users and workspaces decide who may ask; prompts go to the
//! agent as typed, shared files fetched with the bot token for its inbox; a request gets 👀 when it is queued and ✅ or ❌ when its turn ends, around
//! the usual status message and answer in the thread.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Result;

use super::client::SlackClient;
use crate::core::access::Access;
use crate::core::policy::{Ending, Policy, reacting_acknowledgement, reacting_ending};
use crate::domain::admission::Admission;
use crate::domain::ids::TurnId;
use crate::domain::inbound::{Inbound, IncomingFile};
use crate::domain::outbound::Outbound;
use crate::domain::thread::Platform;
use futures_util::future::BoxFuture;

pub struct SlackPolicy {
    users: Access,
    teams: HashSet<String>,
    client: Arc<SlackClient>,
}

impl SlackPolicy {
    pub fn new(users: &[String], teams: &[String], client: Arc<SlackClient>) -> SlackPolicy {
        SlackPolicy {
            users: Access::new(users, std::iter::empty::<String>()),
            teams: teams.iter().cloned().collect(),
            client,
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

impl Policy for SlackPolicy {
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

    fn fetch<'a>(
        &'a self,
        file: &'a IncomingFile,
        max: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        Box::pin(self.client.download(&file.source, max))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Secret;
    use crate::domain::admission::Refusal;
    use crate::domain::inbound::InboundBody;
    use crate::domain::thread::{Author, ThreadRef};

    fn event(user: &str, team: &str) -> Inbound {
        Inbound {
            external_id: "msg:C1:1.1".into(),
            thread: ThreadRef {
                platform: Platform::Slack,
                chat: "C1".into(),
                topic: Some("1.1".into()),
            },
            author: Author {
                id: user.into(),
                display: format!("<@{user}>"),
            },
            message_id: Some("1.1".into()),
            body: InboundBody::Prompt { text: "hi".into() },
            files: Vec::new(),
            context: Some(json!({ "team": team })),
        }
    }

    /// A policy whose client is never called (admission needs no I/O).
    fn slack(users: &[String], teams: &[String]) -> SlackPolicy {
        let client =
            SlackClient::new("http://127.0.0.1:9/api/", Secret::new("xoxb-unused")).unwrap();
        SlackPolicy::new(users, teams, Arc::new(client))
    }

    async fn admitted(policy: &SlackPolicy, user: &str, team: &str) -> Admission {
        policy.admit(&event(user, team)).await.unwrap()
    }

    #[tokio::test]
    async fn listed_users_and_everyone_in_listed_workspaces_nobody_else() {
        let policy = slack(&["U1".into()], &["T9".into()]);
        assert_eq!(admitted(&policy, "U1", "T1").await, Admission::Allowed);
        assert_eq!(admitted(&policy, "U2", "T9").await, Admission::Allowed);
        assert_eq!(
            admitted(&policy, "U2", "T1").await,
            Admission::Refused(Refusal::NotAllowed {
                user_id: "U2".into()
            })
        );
        let nobody = slack(&[], &[]);
        assert_ne!(admitted(&nobody, "U1", "T9").await, Admission::Allowed);
    }
}
