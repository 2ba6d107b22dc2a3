//! Slack's decisions: allowlists of users and workspaces decide who may ask; prompts go to the
//! agent as typed, shared files fetched with the bot token for its inbox; a request gets 👀 when
//! it is queued and ✅ or ❌ when its turn ends, around the usual status message and answer in the
//! thread.
//!
//! A mention that opens a session inside a thread people already wrote in brings the thread's
//! earlier messages (not the bot's own) to the agent as untrusted context (see [`prompt`]). If
//! Slack cannot list them, the prompt goes as typed: a lost prompt would be worse than a prompt
//! without its thread.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Result;

use super::client::{SlackClient, ThreadMessage};
use super::prompt;
use super::translate::{SlackMe, readable};
use crate::core::access::Access;
use crate::core::policy::{Ending, Policy, Prepared, reacting_acknowledgement, reacting_ending};
use crate::domain::admission::Admission;
use crate::domain::ids::TurnId;
use crate::domain::inbound::{Inbound, IncomingFile};
use crate::domain::outbound::Outbound;
use crate::domain::thread::Platform;
use crate::render::untrusted;
use futures_util::future::BoxFuture;

pub struct SlackPolicy {
    users: Access,
    teams: HashSet<String>,
    client: Arc<SlackClient>,
    /// Whose messages in a thread are the bot's own.
    me: SlackMe,
}

impl SlackPolicy {
    pub fn new(
        users: &[String],
        teams: &[String],
        client: Arc<SlackClient>,
        me: SlackMe,
    ) -> SlackPolicy {
        SlackPolicy {
            users: Access::new(users, std::iter::empty::<String>()),
            teams: teams.iter().cloned().collect(),
            client,
            me,
        }
    }

    fn team_allowed(&self, event: &Inbound) -> bool {
        event
            .context
            .as_ref()
            .and_then(|c| c["team"].as_str())
            .is_some_and(|team| self.teams.contains(team))
    }

    /// The prompt for `text`, with the thread's earlier messages when `event` is a reply in a
    /// thread whose session it opens.
    async fn prompt(&self, event: &Inbound, text: &str, opens_session: bool) -> String {
        let (Some(thread), Some(ts)) = (event.thread.topic.as_deref(), event.message_id.as_deref())
        else {
            return text.to_owned();
        };
        // The thread's session has it already, or the mention is the thread's first message.
        if !opens_session || thread == ts {
            return text.to_owned();
        }
        let chat = &event.thread.chat;
        let earlier = match self.client.thread_before(chat, thread, ts).await {
            Ok(earlier) => earlier,
            Err(e) => {
                tracing::warn!(%chat, thread, "the thread's earlier messages are left out: {e}");
                return text.to_owned();
            }
        };
        let people: Vec<ThreadMessage> = earlier
            .into_iter()
            .filter(|m| !self.is_mine(m) && !m.text.trim().is_empty())
            .map(|m| ThreadMessage {
                text: readable(&m.text),
                ..m
            })
            .collect();
        prompt::with_thread(&people, &event.author.id, text, &untrusted::nonce())
    }

    fn is_mine(&self, message: &ThreadMessage) -> bool {
        message.user.as_deref() == Some(self.me.user_id.as_str())
            || message.bot_id.as_deref() == Some(self.me.bot_id.as_str())
    }
}

impl Policy for SlackPolicy {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    /// Told with `chat.postEphemeral`: only who pressed sees it, in the thread.
    fn answer_press<'a>(&'a self, event: &'a Inbound, text: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.client
                .post_ephemeral(
                    &event.thread.chat,
                    event.thread.topic.as_deref(),
                    &event.author.id,
                    text,
                )
                .await
                .map_err(|e| anyhow::anyhow!("telling who pressed: {e}"))
        })
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let allowed = self.users.allows(&event.thread, &event.author) || self.team_allowed(event);
        let admission = Admission::by_allowlist(allowed, event);
        Box::pin(async move { Ok(admission) })
    }

    fn prepare<'a>(
        &'a self,
        event: &'a Inbound,
        text: &'a str,
        opens_session: bool,
    ) -> BoxFuture<'a, Result<Option<Prepared>>> {
        Box::pin(async move {
            Ok(Some(Prepared {
                prompt: self.prompt(event, text, opens_session).await,
                workspace: None,
                review: None,
                host: None,
            }))
        })
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
        let me = SlackMe {
            team_id: "T1".into(),
            user_id: "UBOT".into(),
            bot_id: "BBOT".into(),
            allowed_bots: Vec::new(),
        };
        SlackPolicy::new(users, teams, Arc::new(client), me)
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
