//! Storing what the gateway delivers: find out where a message was sent, translate it, keep
//! thread messages only for threads that are sessions, store once (DESIGN invariant 1). The
//! gateway counts a dispatch as handled only after this returned `Ok`; on an error it
//! reconnects and resumes from the last handled one, so Discord delivers the rest again.
//!
//! A slash command is stored first and acknowledged after (a deferred response, within
//! Discord's three seconds): the acknowledgement is the first call made for it.

use std::sync::Arc;

use anyhow::Result;

use super::client::{Deferral, DiscordClient};
use super::payload::{Interaction, Message, is_thread};
use super::shared::{ChannelKind, Shared};
use super::translate::{
    Addressed, DiscordMe, Place, message_key, thread_name, translate_interaction,
    translate_message, translate_press, worth_reading,
};
use crate::core::Core;
use crate::domain::inbound::Inbound;
use crate::domain::thread::ThreadRef;

/// What the intake works with.
#[derive(Clone)]
pub struct Intake {
    pub core: Arc<Core>,
    pub client: Arc<DiscordClient>,
    pub me: DiscordMe,
    pub shared: Arc<Shared>,
}

impl Intake {
    /// Stores a message if it is for the bot. Returns whether something new was stored.
    pub async fn message(&self, message: &Message) -> Result<bool> {
        if !worth_reading(message, &self.me) {
            return Ok(false);
        }
        let place = self.place(message).await?;
        let inbound = match translate_message(message, &place, &self.me) {
            None => return Ok(false),
            Some(Addressed::Directly(inbound)) => inbound,
            Some(Addressed::IfSession(inbound)) => {
                if !self.is_session(&inbound.thread).await? {
                    return Ok(false);
                }
                inbound
            }
        };
        if place == Place::Channel
            && let Some(topic) = &inbound.thread.topic
        {
            self.shared.name_thread(topic, thread_name(&inbound));
        }
        self.store(&inbound).await
    }

    /// Stores a slash command or a press of one of the bot's buttons, then acknowledges it
    /// (deferred) in the background. Returns whether something new was stored.
    pub async fn interaction(&self, interaction: &Interaction) -> Result<bool> {
        let read = translate_interaction(interaction)
            .map(|inbound| (inbound, Deferral::Thinking))
            .or_else(|| translate_press(interaction, &self.me).map(|p| (p, Deferral::Update)));
        let Some((inbound, deferral)) = read else {
            return Ok(false);
        };
        if let Some(channel) = &interaction.channel {
            self.shared.learn(channel);
        }
        self.shared.ack_pending(&interaction.id);
        let stored = match self.store(&inbound).await {
            Ok(stored) => stored,
            Err(e) => {
                self.shared.ack_done(&interaction.id);
                return Err(e);
            }
        };
        if !stored {
            // A redelivery: acknowledged (or expired) the first time.
            self.shared.ack_done(&interaction.id);
            return Ok(false);
        }
        let (client, shared) = (self.client.clone(), self.shared.clone());
        let (id, token) = (interaction.id.clone(), interaction.token.clone());
        tokio::spawn(async move {
            acknowledge(&client, &id, &token, deferral).await;
            shared.ack_done(&id);
        });
        Ok(true)
    }

    /// Where a message was sent: the gateway says the channel's type; a thread's parent comes
    /// from what the gateway told about the channel, or from `GET /channels/{id}`.
    async fn place(&self, message: &Message) -> Result<Place> {
        if message.guild_id.is_none() {
            return Ok(Place::Dm);
        }
        match self.shared.channel(&message.channel_id) {
            Some(ChannelKind::Thread { parent }) => return Ok(Place::Thread { parent }),
            Some(ChannelKind::TopLevel) => return Ok(Place::Channel),
            None => {}
        }
        if message.channel_type.is_some_and(|t| !is_thread(t)) {
            return Ok(Place::Channel);
        }
        match self.client.channel(&message.channel_id).await {
            Ok(channel) => {
                self.shared.learn(&channel);
                Ok(match channel.parent_id {
                    Some(parent) if is_thread(channel.kind) => Place::Thread { parent },
                    _ => Place::Channel,
                })
            }
            // The bot cannot see the channel: it cannot answer there either.
            Err(e) if !e.is_transient() => {
                tracing::warn!(channel = message.channel_id, "looking up a channel: {e}");
                Ok(Place::Channel)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a thread is a session (its starting message is the thread's id).
    async fn is_session(&self, thread: &ThreadRef) -> Result<bool> {
        let Some(topic) = &thread.topic else {
            return Ok(false);
        };
        self.core
            .is_session_thread(thread, &message_key(topic))
            .await
    }

    async fn store(&self, inbound: &Inbound) -> Result<bool> {
        self.core.accept(inbound).await
    }
}

/// Sends the deferred response ("thinking…"); the answer fills it later. One retry after a
/// rate limit, if it still fits in Discord's three seconds.
async fn acknowledge(client: &DiscordClient, id: &str, token: &str, deferral: Deferral) {
    for _ in 0..2 {
        match client.defer_interaction(id, token, deferral).await {
            Ok(()) => return,
            Err(super::client::DiscordError::RateLimited { retry_after, .. })
                if retry_after < std::time::Duration::from_secs(2) =>
            {
                tokio::time::sleep(retry_after).await;
            }
            Err(e) => {
                tracing::warn!(interaction = id, "acknowledging an interaction: {e}");
                return;
            }
        }
    }
}
