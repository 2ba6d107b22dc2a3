//! Discord's decisions: allowlists of users, roles and guilds decide who may ask; prompts go to
//! the agent as typed, attachments fetched from the CDN for its inbox; a request gets 👀 when it is queued and ✅ or ❌ when its turn ends,
//! around the usual status message and answer in the thread. Slash commands have no message to
//! react to: their answer fills the interaction's deferred response.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Result;

use super::client::DiscordClient;
use super::shared::Shared;
use super::translate::{InteractionRef, PRESS_INTERACTION};
use crate::core::policy::{Ending, Policy, reacting_acknowledgement, reacting_ending};
use crate::domain::admission::Admission;
use crate::domain::ids::TurnId;
use crate::domain::inbound::{Inbound, IncomingFile};
use crate::domain::outbound::Outbound;
use crate::domain::thread::Platform;
use futures_util::future::BoxFuture;

pub struct DiscordPolicy {
    users: HashSet<String>,
    roles: HashSet<String>,
    guilds: HashSet<String>,
    client: Arc<DiscordClient>,
    /// Where presses are answered: the interactions' acknowledgements, and the application.
    presses: Presses,
}

/// What answering a press through its interaction needs.
#[derive(Clone, Default)]
pub struct Presses {
    pub shared: Arc<Shared>,
    pub application_id: String,
}

impl DiscordPolicy {
    pub fn new(
        users: &[String],
        roles: &[String],
        guilds: &[String],
        client: Arc<DiscordClient>,
        presses: Presses,
    ) -> DiscordPolicy {
        let set = |ids: &[String]| ids.iter().cloned().collect();
        DiscordPolicy {
            users: set(users),
            roles: set(roles),
            guilds: set(guilds),
            client,
            presses,
        }
    }

    /// A user on the list anywhere; in a guild, everyone in an allowed guild and everyone
    /// holding an allowed role.
    pub fn allows(&self, event: &Inbound) -> bool {
        if self.users.contains(&event.author.id) {
            return true;
        }
        let Some(context) = &event.context else {
            return false;
        };
        let guild_allowed = context["guild"]
            .as_str()
            .is_some_and(|g| self.guilds.contains(g));
        let role_allowed = context["roles"].as_array().is_some_and(|roles| {
            roles
                .iter()
                .filter_map(|r| r.as_str())
                .any(|r| self.roles.contains(r))
        });
        guild_allowed || role_allowed
    }
}

/// Slash commands have no message to react to.
fn reactable(message: &str) -> bool {
    InteractionRef::parse(message).is_none()
}

impl Policy for DiscordPolicy {
    fn platform(&self) -> Platform {
        Platform::Discord
    }

    /// Told through the press's interaction, once it is acknowledged: an ephemeral follow-up.
    fn answer_press<'a>(&'a self, event: &'a Inbound, text: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let press = event.context.as_ref().map(|c| &c[PRESS_INTERACTION]);
            let (Some(id), Some(token)) = (
                press.and_then(|p| p["id"].as_str()),
                press.and_then(|p| p["token"].as_str()),
            ) else {
                anyhow::bail!("a press without its interaction");
            };
            self.presses.shared.wait_for_ack(id).await;
            let app = &self.presses.application_id;
            self.client
                .ephemeral_followup(app, token, text)
                .await
                .map_err(|e| anyhow::anyhow!("telling who pressed: {e}"))
        })
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        let admission = Admission::by_allowlist(self.allows(event), event);
        Box::pin(async move { Ok(admission) })
    }

    fn acknowledge(&self, event: &Inbound, turn: &TurnId, ahead: i64) -> Vec<Outbound> {
        reacting_acknowledgement(event, turn, ahead, reactable)
    }

    fn present(&self, ending: &Ending<'_>) -> Vec<Outbound> {
        reacting_ending(ending, reactable)
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
    use super::*;
    use crate::domain::inbound::InboundBody;
    use crate::domain::outbound::{OutboundOp, Reaction};
    use crate::domain::thread::Author;
    use crate::domain::thread::ThreadRef;
    use serde_json::json;

    use crate::config::Secret;

    /// A policy whose client is never called (admission needs no I/O).
    fn discord(users: &[String], roles: &[String], guilds: &[String]) -> DiscordPolicy {
        let client =
            DiscordClient::new("http://127.0.0.1:9/api/v10", Secret::new("unused")).unwrap();
        DiscordPolicy::new(users, roles, guilds, Arc::new(client), Presses::default())
    }

    fn event(user: &str, context: serde_json::Value, message_id: &str) -> Inbound {
        Inbound {
            external_id: "msg:1".into(),
            thread: ThreadRef {
                platform: Platform::Discord,
                chat: "20".into(),
                topic: Some("1".into()),
            },
            author: Author {
                id: user.into(),
                display: "x".into(),
            },
            message_id: Some(message_id.into()),
            body: InboundBody::Prompt { text: "hi".into() },
            files: Vec::new(),
            context: Some(context),
        }
    }

    #[test]
    fn users_roles_and_guilds_are_allowlists_and_nobody_is_allowed_by_default() {
        let policy = discord(&["10".into()], &["77".into()], &["5".into()]);
        let in_guild = |roles: serde_json::Value| json!({"guild": "1", "roles": roles});
        assert!(policy.allows(&event("10", json!({"guild": null, "roles": []}), "1")));
        assert!(policy.allows(&event("11", in_guild(json!(["76", "77"])), "1")));
        assert!(!policy.allows(&event("11", in_guild(json!(["76"])), "1")));
        assert!(policy.allows(&event("11", json!({"guild": "5", "roles": []}), "1")));
        assert!(!policy.allows(&event("11", json!({"guild": null, "roles": []}), "1")));
        let nobody = discord(&[], &[], &[]);
        assert!(!nobody.allows(&event("10", in_guild(json!(["77"])), "1")));
    }

    #[test]
    fn requests_get_eyes_but_slash_commands_no_reaction() {
        let policy = discord(&["10".into()], &[], &[]);
        let turn = TurnId::generate();
        let message = event("10", json!({}), "1");
        let acks = policy.acknowledge(&message, &turn, 0);
        assert!(matches!(
            acks[0].op,
            OutboundOp::React {
                reaction: Reaction::Eyes,
                ..
            }
        ));
        assert_eq!(acks.len(), 2);
        let interaction = event("10", json!({}), &InteractionRef::encode("42", "tok"));
        let acks = policy.acknowledge(&interaction, &turn, 0);
        assert_eq!(acks.len(), 1, "{acks:#?}");
        assert!(matches!(acks[0].op, OutboundOp::Post(_)));
    }
}
