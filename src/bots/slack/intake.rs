//! Storing what Slack delivers, the same way for Socket Mode and the Events API: translate,
//! keep thread replies only for threads that are sessions, store once (DESIGN invariant 1).
//! Callers acknowledge the delivery only after this returned `Ok`, so Slack redelivers anything
//! the bot did not store.

use anyhow::Result;

use super::payload::{Callback, Interaction, SlashCommand};
use super::translate::{
    Addressed, SlackMe, message_key, translate_command, translate_event, translate_press,
};
use crate::core::Core;
use crate::domain::inbound::Inbound;

/// Stores an Events API callback's event, if it is for the bot.
pub async fn accept_callback(core: &Core, me: &SlackMe, callback: &Callback) -> Result<()> {
    let Callback::EventCallback { team_id, event, .. } = callback else {
        return Ok(());
    };
    if *team_id != me.team_id {
        tracing::warn!(team_id, "ignored an event from another workspace");
        return Ok(());
    }
    let inbound = match translate_event(team_id, event, me) {
        None => return Ok(()),
        Some(Addressed::Directly(inbound)) => inbound,
        Some(Addressed::IfSession(inbound)) => {
            let Some(root) = &inbound.thread.topic else {
                return Ok(());
            };
            let starter = message_key(&inbound.thread.chat, root);
            if !core.is_session_thread(&inbound.thread, &starter).await? {
                return Ok(());
            }
            inbound
        }
    };
    store(core, &inbound).await
}

/// Stores a slash command.
pub async fn accept_command(core: &Core, me: &SlackMe, command: &SlashCommand) -> Result<()> {
    if command.team_id != me.team_id {
        tracing::warn!(
            team_id = command.team_id,
            "ignored a command from another workspace"
        );
        return Ok(());
    }
    store(core, &translate_command(command)).await
}

/// Stores a press of one of the bot's buttons (other interactions are not the bot's).
pub async fn accept_interaction(
    core: &Core,
    me: &SlackMe,
    interaction: &Interaction,
) -> Result<()> {
    if interaction
        .team
        .as_ref()
        .is_some_and(|t| t.id != me.team_id)
    {
        tracing::warn!("ignored an interaction from another workspace");
        return Ok(());
    }
    match translate_press(interaction, me) {
        Some(press) => store(core, &press).await,
        None => Ok(()),
    }
}

async fn store(core: &Core, inbound: &Inbound) -> Result<()> {
    core.accept(inbound).await.map(drop)
}
