//! Long polling with getUpdates.
//!
//! The offset sent to Telegram confirms every update below it, so it only moves past an update
//! once that update is in the store. If storing fails, the loop retries the same update until it
//! succeeds; the next getUpdates call waits for it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::Update;

use super::translate::{BotIdentity, translate};
use crate::core::Core;

const BACKOFF_MAX: Duration = Duration::from_secs(30);

pub async fn run(core: Arc<Core>, bot: Bot, me: BotIdentity, timeout: Duration) -> Result<()> {
    let mut backoff = Duration::from_millis(500);
    while let Err(e) = bot.delete_webhook().await {
        tracing::warn!("Telegram deleteWebhook failed: {e}; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    let mut offset: i32 = 0;
    backoff = Duration::from_millis(500);
    loop {
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(timeout.as_secs() as u32)
            .allowed_updates(super::allowed_updates());
        match request.await {
            Ok(updates) => {
                backoff = Duration::from_millis(500);
                for update in updates {
                    store(&core, &update, &me).await;
                    offset = offset.max(update.id.0 as i32 + 1);
                }
            }
            Err(RequestError::RetryAfter(wait)) => tokio::time::sleep(wait.duration()).await,
            Err(e) => {
                tracing::warn!("Telegram getUpdates failed: {e}; retrying in {:?}", backoff);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Stores an update (if it is for the bot), retrying until the store accepts it.
async fn store(core: &Core, update: &Update, me: &BotIdentity) {
    let Some(event) = translate(update, me) else {
        return;
    };
    let mut delay = Duration::from_millis(200);
    loop {
        match core.store.insert_inbound(&event).await {
            Ok(_) => break,
            Err(e) => {
                tracing::error!(
                    update = update.id.0,
                    "storing a Telegram update failed: {e:#}"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(BACKOFF_MAX);
            }
        }
    }
    core.inbound_stored();
}
