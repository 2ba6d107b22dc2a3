//! Webhook mode: Telegram POSTs each update to us with the secret token we registered.
//!
//! The token is compared in constant time before the body is even parsed; a wrong or missing
//! token is answered 401 and audited (through [`Refusals`], so a flood of forgeries writes a
//! bounded number of rows). The update is stored before we answer 200, so Telegram retries
//! anything we failed to keep; an update that cannot be read is stored as rejected
//! ([`intake`]) and answered 200 too, since it will not get better.

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use subtle::ConstantTimeEq;
use teloxide::prelude::*;

use super::intake;
use super::translate::BotIdentity;
use crate::config::Secret;
use crate::core::Core;
use crate::domain::audit::AuditAction;
use crate::domain::thread::Platform;
use crate::edge::client::ClientAddr;
use crate::edge::refusals::Refusals;

/// The header Telegram sends the secret token in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Updates are small; anything bigger is not from Telegram.
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
struct WebhookState {
    core: Arc<Core>,
    me: BotIdentity,
    secret: Secret,
    refusals: Refusals,
}

pub async fn register(bot: &Bot, url: &str, secret: &Secret) -> Result<()> {
    let url = url.parse().context("telegram.webhook_url is not a URL")?;
    bot.set_webhook(url)
        .secret_token(secret.expose())
        .allowed_updates(super::allowed_updates())
        .await
        .context("Telegram setWebhook failed")?;
    Ok(())
}

pub fn routes(core: Arc<Core>, me: BotIdentity, url: &str, secret: Secret) -> Result<Router> {
    let path = url::Url::parse(url)
        .context("telegram.webhook_url is not a URL")?
        .path()
        .to_owned();
    let refusals = Refusals::new(
        core.store.clone(),
        Platform::Telegram,
        AuditAction::WebhookRejected,
    );
    Ok(Router::new()
        .route(&path, post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(WebhookState {
            core,
            me,
            secret,
            refusals,
        }))
}

fn secret_matches(headers: &HeaderMap, secret: &Secret) -> bool {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    given.ct_eq(secret.expose().as_bytes()).into()
}

async fn receive(
    State(state): State<WebhookState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if !secret_matches(&headers, &state.secret) {
        let detail = if headers.contains_key(SECRET_HEADER) {
            "wrong secret token"
        } else {
            "missing secret token"
        };
        state.refusals.refuse(client, detail).await;
        return StatusCode::UNAUTHORIZED;
    }
    match intake::receive(&state.core, &state.me, &body).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            tracing::error!("storing a Telegram update failed: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_must_match_exactly() {
        let secret = Secret::new("s3cret");
        let mut headers = HeaderMap::new();
        assert!(!secret_matches(&headers, &secret));
        headers.insert(SECRET_HEADER, "s3cre".parse().unwrap());
        assert!(!secret_matches(&headers, &secret));
        headers.insert(SECRET_HEADER, "s3cret".parse().unwrap());
        assert!(secret_matches(&headers, &secret));
        headers.insert(SECRET_HEADER, "s3cret!".parse().unwrap());
        assert!(!secret_matches(&headers, &secret));
    }
}
