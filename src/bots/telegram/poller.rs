//! Long polling with getUpdates.
//!
//! The offset sent to Telegram confirms every update below it, so it only moves past an update
//! once that update is in the store — as an event, or as a rejection (see [`intake`]). If
//! storing fails, the loop retries the same update until it succeeds; the next getUpdates call
//! waits for it.
//!
//! getUpdates is called here over HTTP rather than through teloxide, because teloxide parses
//! the whole answer at once: one update it cannot parse (nested deeper than serde_json's limit)
//! would fail the batch, and the same offset would be asked for forever. The answer's `result`
//! is cut into one text per update ([`json_split`]) and each is parsed on its own.
//!
//! A long poll that ends without updates, or without any answer within its time and a grace
//! (its connection died on the way, as idle ones do), is over, not failed: the next starts at
//! once. Backing off there would hold up the first message after every quiet spell.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use teloxide::prelude::*;

use super::translate::BotIdentity;
use super::{intake, json_split};
use crate::core::Core;

const BACKOFF_MAX: Duration = Duration::from_secs(30);

pub async fn run(core: Arc<Core>, bot: Bot, me: BotIdentity, timeout: Duration) -> Result<()> {
    let mut backoff = Duration::from_millis(500);
    while let Err(e) = bot.delete_webhook().await {
        tracing::warn!("Telegram deleteWebhook failed: {e}; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    let mut offset: i64 = 0;
    backoff = Duration::from_millis(500);
    loop {
        match get_updates(&bot, offset, timeout).await {
            Ok(result) => match json_split::array_elements(&result) {
                Ok(updates) => {
                    backoff = Duration::from_millis(500);
                    for raw in updates {
                        if let Some(id) = receive(&core, &me, raw).await {
                            offset = offset.max(i64::from(id) + 1);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("Telegram getUpdates answered an unreadable result: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            },
            Err(Failure::RetryAfter(wait)) => tokio::time::sleep(wait).await,
            // The poll's own time ran out on the way: no failure, so no pause.
            Err(Failure::Expired) => {
                tracing::info!(
                    "Telegram did not answer getUpdates within {:?}; polling again",
                    super::poll_deadline(timeout)
                );
                backoff = Duration::from_millis(500);
            }
            Err(Failure::Other(e)) => {
                tracing::warn!(
                    "Telegram getUpdates failed: {e:#}; retrying in {:?}",
                    backoff
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Takes one update, retrying until the store accepts it; returns its id when it has one (an
/// update without a readable id cannot be confirmed by itself, only by a later one's).
async fn receive(core: &Core, me: &BotIdentity, raw: &str) -> Option<u32> {
    let mut delay = Duration::from_millis(200);
    loop {
        match intake::receive(core, me, raw.as_bytes()).await {
            Ok(id) => return id,
            Err(e) => {
                tracing::error!("storing a Telegram update failed: {e:#}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Why a getUpdates call brought nothing.
enum Failure {
    /// Telegram asked to wait this long first.
    RetryAfter(Duration),
    /// No answer within the long poll and its grace: the poll is over (the connection may have
    /// died on the way, as idle ones do); the next can start at once.
    Expired,
    Other(anyhow::Error),
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            Failure::Expired
        } else {
            // The URL holds the token: it must not reach the log.
            Failure::Other(error.without_url().into())
        }
    }
}

/// Telegram's answer envelope when it refuses a call.
#[derive(Deserialize)]
struct Refused {
    description: Option<String>,
    error_code: Option<u16>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// One getUpdates call; the `result` array's text, unparsed.
async fn get_updates(bot: &Bot, offset: i64, timeout: Duration) -> Result<String, Failure> {
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| Failure::Other(anyhow!("telegram.api_url cannot take a path")))?
        .push(&format!("bot{}", bot.token()))
        .push("getUpdates");
    let request = serde_json::json!({
        "offset": offset,
        "timeout": timeout.as_secs(),
        "allowed_updates": super::allowed_updates(),
    });
    let response = bot
        .client()
        .post(url)
        .timeout(super::poll_deadline(timeout))
        .json(&request)
        .send()
        .await?;
    let body = response.text().await?;
    let members = json_split::object_members(&body)
        .context("the answer is not a JSON object")
        .map_err(Failure::Other)?;
    let member = |name: &str| {
        members
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    };
    match (member("ok"), member("result")) {
        (Some("true"), Some(result)) => Ok(result.to_owned()),
        _ => Err(refused(&body)),
    }
}

fn refused(body: &str) -> Failure {
    let Ok(refused) = serde_json::from_str::<Refused>(body) else {
        return Failure::Other(anyhow!("an unreadable answer"));
    };
    if let Some(wait) = refused.parameters.and_then(|p| p.retry_after) {
        return Failure::RetryAfter(Duration::from_secs(wait));
    }
    Failure::Other(anyhow!(
        "Telegram answered {}: {}",
        refused.error_code.unwrap_or_default(),
        refused.description.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_with_retry_after_is_a_pause_and_others_are_errors() {
        let flood = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#;
        assert!(matches!(
            refused(flood),
            Failure::RetryAfter(wait) if wait == Duration::from_secs(3)
        ));
        let conflict = r#"{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request"}"#;
        let Failure::Other(error) = refused(conflict) else {
            panic!("a conflict is no pause");
        };
        assert_eq!(
            error.to_string(),
            "Telegram answered 409: Conflict: terminated by other getUpdates request"
        );
        assert!(matches!(
            refused("<html>bad gateway</html>"),
            Failure::Other(_)
        ));
    }
}
