//! Inbound webhook triggers: `POST /hooks/NAME` queues `[hooks.NAME]`'s prompt into its thread
//! (a CI failure, a monitoring alert), filled from the JSON body
//! ([`fill_template`](crate::domain::trigger::fill_template)).
//!
//! The sender signs the raw body like GitHub does (`X-Hub-Signature-256: sha256=<hex>`,
//! HMAC-SHA256 under the hook's secret), checked in constant time ([`verify_sha256_hex`], the
//! GitHub and Slack webhooks' check) before the body is read. A signature proves who sent a
//! body, not that it is new, so the event is stored under the SHA-256 of the body, what the
//! signature covers: the same body again is a replay and refused, whatever headers come with
//! it (a sender that means to send the same alert twice puts a delivery id or time in it).
//! Every refusal — no or a wrong signature (401), a replay or a body that is not a JSON object
//! (403) — is audited through [`Refusals`]; nothing in a body can make the handler panic
//! (it is only parsed as JSON and read as text).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ring::digest;

use crate::bots::signature::verify_sha256_hex;
use crate::config::{HookConfig, Secret};
use crate::core::Core;
use crate::domain::audit::AuditAction;
use crate::domain::inbound::{Inbound, InboundBody};
use crate::domain::thread::{Author, ThreadRef};
use crate::domain::trigger::{Trigger, fill_template};
use crate::edge::client::ClientAddr;
use crate::edge::refusals::Refusals;

/// The largest body a hook takes.
const BODY_LIMIT: usize = 1024 * 1024;

/// One configured hook.
struct Hook {
    thread: ThreadRef,
    template: String,
    secret: Secret,
    refusals: Refusals,
}

#[derive(Clone)]
struct HooksState {
    core: Arc<Core>,
    hooks: Arc<HashMap<String, Hook>>,
}

/// The `/hooks/{name}` route of every configured hook, with its secret.
pub fn routes(
    core: Arc<Core>,
    hooks: &std::collections::BTreeMap<String, HookConfig>,
    secrets: &std::collections::BTreeMap<String, Secret>,
) -> Router {
    let hooks = hooks
        .iter()
        .filter_map(|(name, hook)| {
            let secret = secrets.get(name)?.clone();
            let refusals = Refusals::new(
                core.store.clone(),
                hook.platform,
                AuditAction::WebhookRejected,
            );
            let hook = Hook {
                thread: hook.thread(),
                template: hook.prompt.clone(),
                secret,
                refusals,
            };
            Some((name.clone(), hook))
        })
        .collect();
    Router::new()
        .route("/hooks/{name}", post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(HooksState {
            core,
            hooks: Arc::new(hooks),
        })
}

async fn receive(
    State(state): State<HooksState>,
    Path(name): Path<String>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(hook) = state.hooks.get(&name) else {
        return (StatusCode::NOT_FOUND, "no such hook\n");
    };
    let tag = headers
        .get("x-hub-signature-256")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("sha256="));
    let signed = tag.is_some_and(|tag| verify_sha256_hex([hook.secret.expose()], &body, tag));
    if !signed {
        let problem = match tag {
            None => "no or a malformed X-Hub-Signature-256 header",
            Some(_) => "a signature that does not match the hook's secret",
        };
        hook.refusals
            .refuse(client, &format!("hook {name}: {problem}"))
            .await;
        return (StatusCode::UNAUTHORIZED, "bad signature\n");
    }
    let fields = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(fields @ serde_json::Value::Object(_)) => fields,
        _ => {
            let detail = format!("hook {name}: a body that is not a JSON object");
            hook.refusals.refuse(client, &detail).await;
            return (StatusCode::FORBIDDEN, "the body must be a JSON object\n");
        }
    };
    let trigger = Trigger::Hook(name.clone());
    let actor = trigger.actor();
    let event = Inbound {
        external_id: format!("{actor}:{}", body_hash(&body)),
        thread: hook.thread.clone(),
        author: Author {
            id: actor.clone(),
            display: format!("hook {name}"),
        },
        message_id: None,
        body: InboundBody::Triggered {
            trigger,
            text: fill_template(&hook.template, &fields),
        },
        context: None,
        files: Vec::new(),
    };
    let core = &state.core;
    match core.store.insert_inbound(&event).await {
        Ok(Some(_)) => {
            core.inbound_stored();
            let audited = core
                .store
                .audit(
                    hook.thread.platform,
                    &actor,
                    &hook.thread.key(),
                    AuditAction::HookFired,
                    &event.external_id,
                )
                .await;
            if let Err(e) = audited {
                tracing::warn!(hook = %name, "auditing a hook's prompt failed: {e:#}");
            }
            (StatusCode::ACCEPTED, "queued\n")
        }
        Ok(None) => {
            let detail = format!("hook {name}: a replay (this body was accepted before)");
            hook.refusals.refuse(client, &detail).await;
            (
                StatusCode::FORBIDDEN,
                "replayed: this body was accepted before\n",
            )
        }
        Err(e) => {
            tracing::error!(hook = %name, "storing a hook's prompt failed: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again\n")
        }
    }
}

/// The body's SHA-256 in hex.
fn body_hash(body: &[u8]) -> String {
    digest::digest(&digest::SHA256, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
