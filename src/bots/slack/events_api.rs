//! The Events API over HTTP: `POST /slack/events` and `POST /slack/commands`.
//!
//! Every request is checked before its body is read as anything: `X-Slack-Signature` must be
//! `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}` under the signing secret (compared in
//! constant time), and `X-Slack-Request-Timestamp` within five minutes of now, so a captured
//! request cannot be replayed later. A failed check is answered 401 and audited (through
//! [`Refusals`], so a flood of forgeries writes a bounded number of rows). Slack retries a
//! delivery it got no quick 2xx for (`X-Slack-Retry-Num`), signed anew; the retry lands on the
//! same stored event, since events are keyed by the message they carry. The very same signed
//! request twice is a replay, refused like a forgery ([`Replays`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::intake;
use super::payload::{Callback, Interaction, SlashCommand};
use super::translate::SlackMe;
use crate::bots::signature::verify_sha256_hex;
use crate::config::Secret;
use crate::core::Core;
use crate::domain::audit::AuditAction;
use crate::domain::thread::Platform;
use crate::edge::client::ClientAddr;
use crate::edge::refusals::Refusals;

pub const EVENTS_PATH: &str = "/slack/events";
pub const COMMANDS_PATH: &str = "/slack/commands";
/// The interactivity Request URL: button presses.
pub const INTERACTIVITY_PATH: &str = "/slack/interactivity";
/// How far a request's timestamp may be from now.
const MAX_AGE: Duration = Duration::from_secs(5 * 60);

#[derive(Clone)]
struct EventsState {
    core: Arc<Core>,
    me: Arc<SlackMe>,
    secret: Arc<Secret>,
    replays: Arc<Mutex<Replays>>,
    refusals: Refusals,
}

/// The signatures of the requests accepted in the last [`MAX_AGE`]: Slack signs every attempt
/// anew, so a signature seen twice is someone replaying a captured request. Older requests are
/// refused by their timestamp, so nothing older needs remembering; after a restart the store's
/// deduplication still keeps a replay from running anything twice.
#[derive(Default)]
struct Replays {
    seen: HashMap<String, u64>,
}

impl Replays {
    /// Records a signature first seen at `now` (unix seconds); false if it was seen before.
    fn first_time(&mut self, signature: &str, now: u64) -> bool {
        self.seen
            .retain(|_, at| now.saturating_sub(*at) <= MAX_AGE.as_secs());
        self.seen.insert(signature.to_owned(), now).is_none()
    }
}

pub fn routes(core: Arc<Core>, me: SlackMe, signing_secret: Secret) -> Router {
    let refusals = Refusals::new(
        core.store.clone(),
        Platform::Slack,
        AuditAction::WebhookRejected,
    );
    Router::new()
        .route(EVENTS_PATH, post(events))
        .route(COMMANDS_PATH, post(commands))
        .route(INTERACTIVITY_PATH, post(interactivity))
        .with_state(EventsState {
            core,
            me: Arc::new(me),
            secret: Arc::new(signing_secret),
            replays: Arc::default(),
            refusals,
        })
}

/// Why a request's signature was not accepted, at `now`.
fn signature_problem(
    headers: &HeaderMap,
    body: &[u8],
    secret: &Secret,
    now: SystemTime,
) -> Option<&'static str> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(timestamp) = header("x-slack-request-timestamp") else {
        return Some("no X-Slack-Request-Timestamp header");
    };
    let Ok(seconds) = timestamp.parse::<u64>() else {
        return Some("a malformed X-Slack-Request-Timestamp header");
    };
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    if now.abs_diff(seconds) > MAX_AGE.as_secs() {
        return Some("a timestamp more than five minutes from now (a replay?)");
    }
    let Some(tag) = header("x-slack-signature").and_then(|s| s.strip_prefix("v0=")) else {
        return Some("no v0 X-Slack-Signature header");
    };
    let mut message = format!("v0:{timestamp}:").into_bytes();
    message.extend_from_slice(body);
    let valid = verify_sha256_hex([secret.expose()], &message, tag);
    (!valid).then_some("a signature that does not match the signing secret")
}

/// Checks the signature and that the request is not a replay; a refusal is audited.
async fn check(
    state: &EventsState,
    client: ClientAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), StatusCode> {
    let now = SystemTime::now();
    let problem = signature_problem(headers, body, &state.secret, now).or_else(|| {
        let signature = headers
            .get("x-slack-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut replays = state.replays.lock().unwrap_or_else(|e| e.into_inner());
        (!replays.first_time(signature, seconds)).then_some("a request already received (a replay)")
    });
    let Some(problem) = problem else {
        return Ok(());
    };
    state.refusals.refuse(client, problem).await;
    Err(StatusCode::UNAUTHORIZED)
}

async fn events(
    State(state): State<EventsState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Err(status) = check(&state, client, &headers, &body).await {
        return (status, "bad signature\n".into());
    }
    let callback: Callback = match serde_json::from_slice(&body) {
        Ok(callback) => callback,
        Err(e) => {
            tracing::warn!("an unreadable Slack event: {e}");
            return (StatusCode::BAD_REQUEST, "unreadable event\n".into());
        }
    };
    if let Callback::UrlVerification { challenge } = &callback {
        return (StatusCode::OK, challenge.clone());
    }
    match intake::accept_callback(&state.core, &state.me, &callback).await {
        Ok(()) => (StatusCode::OK, String::new()),
        Err(e) => {
            tracing::error!("storing a Slack event failed: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again\n".into())
        }
    }
}

async fn commands(
    State(state): State<EventsState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Err(status) = check(&state, client, &headers, &body).await {
        return (status, "bad signature\n".into());
    }
    let Some(command) = SlashCommand::from_form(&body) else {
        return (StatusCode::BAD_REQUEST, "not a slash command\n".into());
    };
    match intake::accept_command(&state.core, &state.me, &command).await {
        // An empty 200 shows nothing; the answer follows in the channel.
        Ok(()) => (StatusCode::OK, String::new()),
        Err(e) => {
            tracing::error!("storing a Slack command failed: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again\n".into())
        }
    }
}

async fn interactivity(
    State(state): State<EventsState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Err(status) = check(&state, client, &headers, &body).await {
        return (status, "bad signature\n".into());
    }
    let Some(interaction) = Interaction::from_form(&body) else {
        return (StatusCode::BAD_REQUEST, "not an interaction\n".into());
    };
    match intake::accept_interaction(&state.core, &state.me, &interaction).await {
        // An empty 200 acknowledges the press; what it did is told to who pressed.
        Ok(()) => (StatusCode::OK, String::new()),
        Err(e) => {
            tracing::error!("storing a Slack interaction failed: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again\n".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's documented example ("Verifying requests from Slack").
    #[test]
    fn slacks_documented_example_verifies() {
        let secret = Secret::new("8f742231b10e8888abcd99yyyzzz85a5");
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let mut headers = HeaderMap::new();
        headers.insert("x-slack-request-timestamp", "1531420618".parse().unwrap());
        headers.insert(
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
                .parse()
                .unwrap(),
        );
        let at = UNIX_EPOCH + Duration::from_secs(1_531_420_618 + 60);
        assert_eq!(signature_problem(&headers, body, &secret, at), None);
        let later = UNIX_EPOCH + Duration::from_secs(1_531_420_618 + 301);
        assert!(signature_problem(&headers, body, &secret, later).is_some());
        assert!(signature_problem(&headers, b"tampered", &secret, at).is_some());
        let other = Secret::new("another secret");
        assert!(signature_problem(&headers, body, &other, at).is_some());
        assert!(signature_problem(&HeaderMap::new(), body, &secret, at).is_some());
    }

    #[test]
    fn a_signature_counts_once_within_the_window() {
        let mut replays = Replays::default();
        assert!(replays.first_time("v0=a", 1000));
        assert!(replays.first_time("v0=b", 1001));
        assert!(!replays.first_time("v0=a", 1200));
        // Forgotten once its timestamp could no longer pass the window check anyway.
        assert!(replays.first_time("v0=b", 1001 + 301));
    }
}
