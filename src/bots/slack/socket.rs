//! Socket Mode: the bot opens a WebSocket to Slack and receives events over it, so no public
//! URL is needed.
//!
//! Each envelope is stored first and acknowledged after (`{"envelope_id": …}`): Slack redelivers
//! an envelope that is not acknowledged within three seconds, so a crash between the two costs a
//! duplicate delivery (which the store recognises), never a lost message. Storing takes
//! milliseconds, well inside the deadline. A `disconnect` message (Slack refreshes connections
//! every few hours) or a dropped socket is followed by a fresh `apps.connections.open`;
//! failures back off from 1 s to 30 s.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::client::{SlackClient, SlackError};
use super::intake;
use super::payload::{Callback, Frame, Interaction, SlashCommand};
use super::translate::SlackMe;
use crate::config::Secret;
use crate::core::Core;

/// Slack pings about every 30 s; this long without any frame means the link is dead.
const SILENCE_LIMIT: Duration = Duration::from_secs(90);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Receives events forever.
pub async fn run(
    core: Arc<Core>,
    client: Arc<SlackClient>,
    app_token: Secret,
    me: SlackMe,
) -> Result<()> {
    let mut backoff = BACKOFF_MIN;
    loop {
        match connection(&core, &client, &app_token, &me).await {
            Ok(()) => backoff = BACKOFF_MIN,
            Err(e) => {
                let wait = match e.downcast_ref::<SlackError>() {
                    Some(SlackError::RateLimited(wait)) => *wait,
                    _ => backoff,
                };
                tracing::warn!(
                    "Slack Socket Mode: {e:#}; reconnecting in {}s",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// One connection, until Slack asks for a new one (`Ok`) or it fails.
async fn connection(
    core: &Core,
    client: &SlackClient,
    app_token: &Secret,
    me: &SlackMe,
) -> Result<()> {
    let url = client.open_connection(app_token).await?;
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .context("connecting to Slack's Socket Mode URL")?;
    let (mut sink, mut stream) = socket.split();
    loop {
        let message = match tokio::time::timeout(SILENCE_LIMIT, stream.next()).await {
            Err(_) => bail!("no word from Slack for {}s", SILENCE_LIMIT.as_secs()),
            Ok(None) => bail!("Slack closed the connection"),
            Ok(Some(message)) => message.context("reading from Slack")?,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Ping(data) => {
                sink.send(Message::Pong(data)).await?;
                continue;
            }
            Message::Close(frame) => bail!("Slack closed the connection: {frame:?}"),
            _ => continue,
        };
        let frame: Frame = match serde_json::from_str(text.as_str()) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!("an unreadable Socket Mode frame: {e}");
                continue;
            }
        };
        match frame.kind.as_str() {
            "hello" => tracing::info!("Slack Socket Mode connected"),
            "disconnect" => {
                tracing::info!(reason = ?frame.reason, "Slack asked to reconnect");
                return Ok(());
            }
            _ => {
                let Some(envelope) = frame.envelope_id.clone() else {
                    continue;
                };
                accept(core, me, &frame).await?;
                let ack = json!({ "envelope_id": envelope }).to_string();
                sink.send(Message::text(ack)).await?;
            }
        }
    }
}

/// Stores an envelope's content. An error leaves the envelope unacknowledged (Slack will
/// redeliver it) and restarts the connection.
async fn accept(core: &Core, me: &SlackMe, frame: &Frame) -> Result<()> {
    match frame.kind.as_str() {
        "events_api" => match serde_json::from_value::<Callback>(frame.payload.clone()) {
            Ok(callback) => intake::accept_callback(core, me, &callback).await,
            Err(e) => {
                tracing::warn!("an unreadable Slack event: {e}");
                Ok(())
            }
        },
        "slash_commands" => match serde_json::from_value::<SlashCommand>(frame.payload.clone()) {
            Ok(command) => intake::accept_command(core, me, &command).await,
            Err(e) => {
                tracing::warn!("an unreadable Slack slash command: {e}");
                Ok(())
            }
        },
        "interactive" => match serde_json::from_value::<Interaction>(frame.payload.clone()) {
            Ok(interaction) => intake::accept_interaction(core, me, &interaction).await,
            Err(e) => {
                tracing::warn!("an unreadable Slack interaction: {e}");
                Ok(())
            }
        },
        other => {
            tracing::debug!(kind = other, "ignored a Socket Mode envelope");
            Ok(())
        }
    }
}
