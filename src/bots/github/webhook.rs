//! The webhook endpoint: `POST /github/webhook`.
//!
//! The signature (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body) is checked in constant
//! time against every configured secret — more than one while a secret is being rotated —
//! *before* the body is parsed; a missing or wrong signature is answered 401 and audited
//! (through [`Refusals`], so a flood of forgeries writes a bounded number of rows).
//!
//! A valid signature proves the body came from GitHub once, not that it is new: the headers
//! (the delivery id among them) are not signed. So an event is stored under a key taken from
//! the signed body (the comment's or review's id and action, an issue's assignee or label and
//! `updated_at`, a pull request's head sha and action: `translate`), and the same body again under a new delivery id is a duplicate; and
//! an event older than `github.max_event_age` by the times in its body is refused (403) and
//! audited. A captured delivery thus runs at most once inside that window and never after it
//! (GitHub's own "Redeliver" of an older delivery is refused the same way). The answer comes as
//! soon as the event is stored; the work happens in the background. A completed `check_run` or
//! `check_suite` stores nothing: it makes the watch of its commit due now (`core::ci_watch`),
//! which reads the checks from the API — a replay of one only makes the bot read them again.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::client::GitHubClient;
use super::payload::{self, Event};
use super::translate::{Identity, checks_completed, translate};
use crate::bots::signature::verify_sha256_hex;
use crate::config::Secret;
use crate::core::{Core, ci_watch};
use crate::domain::audit::AuditAction;
use crate::domain::thread::Platform;
use crate::edge::client::ClientAddr;
use crate::edge::refusals::Refusals;

/// Where GitHub posts.
pub const PATH: &str = "/github/webhook";
/// GitHub caps payloads at 25 MB.
const BODY_LIMIT: usize = 25 * 1024 * 1024;

#[derive(Clone)]
struct WebhookState {
    core: Arc<Core>,
    client: Arc<GitHubClient>,
    me: Arc<Identity>,
    secrets: Arc<Vec<Secret>>,
    max_event_age: Duration,
    refusals: Refusals,
}

pub fn routes(
    core: Arc<Core>,
    client: Arc<GitHubClient>,
    me: Identity,
    secrets: Vec<Secret>,
    max_event_age: Duration,
) -> Router {
    let refusals = Refusals::new(
        core.store.clone(),
        Platform::GitHub,
        AuditAction::WebhookRejected,
    );
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(WebhookState {
            core,
            client,
            me: Arc::new(me),
            secrets: Arc::new(secrets),
            max_event_age,
            refusals,
        })
}

/// Why a delivery's signature was not accepted.
fn signature_problem(headers: &HeaderMap, body: &[u8], secrets: &[Secret]) -> Option<&'static str> {
    let Some(header) = headers.get("x-hub-signature-256") else {
        return Some("no X-Hub-Signature-256 header");
    };
    let Some(tag) = header.to_str().ok().and_then(|h| h.strip_prefix("sha256=")) else {
        return Some("a malformed X-Hub-Signature-256 header");
    };
    let valid = verify_sha256_hex(secrets.iter().map(Secret::expose), body, tag);
    (!valid).then_some("a signature that matches no configured secret")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why an event is too old to run at `now`, if it is.
fn staleness(event: &Event, max_age: Duration, now: SystemTime) -> Option<String> {
    let Some(time) = event.signed_time() else {
        return Some("an event without a time".to_owned());
    };
    let Ok(at) = humantime::parse_rfc3339(time) else {
        return Some(format!("an event with an unreadable time {time:?}"));
    };
    // A time ahead of our clock is skew, not age.
    let age = now.duration_since(at).unwrap_or_default();
    (age > max_age).then(|| {
        format!(
            "an event from {time}, older than github.max_event_age ({}): a replay, or a \
             redelivery too late",
            humantime::format_duration(max_age)
        )
    })
}

async fn receive(
    State(state): State<WebhookState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let delivery = header(&headers, "x-github-delivery").unwrap_or("");
    let event_name = header(&headers, "x-github-event").unwrap_or("");
    if let Some(problem) = signature_problem(&headers, &body, &state.secrets) {
        let detail = format!("{problem}; delivery {delivery:?}, event {event_name:?}");
        state.refusals.refuse(client, &detail).await;
        return (StatusCode::UNAUTHORIZED, "bad signature\n");
    }
    if event_name.is_empty() {
        return (StatusCode::BAD_REQUEST, "missing X-GitHub-Event\n");
    }
    let event = match payload::parse(event_name, &body) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(
                delivery,
                event = event_name,
                "unreadable GitHub payload: {e}"
            );
            return (StatusCode::BAD_REQUEST, "unreadable payload\n");
        }
    };
    match &event {
        Event::Ping(_) => return (StatusCode::OK, "pong\n"),
        Event::Other { .. } => return (StatusCode::ACCEPTED, "ignored\n"),
        _ => {}
    }
    if let Some((repo, installation)) = installation_of(&event) {
        state.client.remember_installation(repo, installation);
    }
    if let Some((repo, sha)) = checks_completed(&event) {
        return match ci_watch::checks_reported(&state.core, repo, sha).await {
            Ok(()) => (StatusCode::ACCEPTED, "checks noted\n"),
            Err(e) => {
                tracing::error!(delivery, "noting a commit's checks failed: {e:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, "try again\n")
            }
        };
    }
    let Some(inbound) = translate(&event, &state.me) else {
        return (StatusCode::ACCEPTED, "not for the bot\n");
    };
    if let Some(problem) = staleness(&event, state.max_event_age, SystemTime::now()) {
        let detail = format!("{problem}; delivery {delivery:?}, event {event_name:?}");
        state.refusals.refuse(client, &detail).await;
        return (
            StatusCode::FORBIDDEN,
            "the event is older than github.max_event_age: nothing runs\n",
        );
    }
    match state.core.store.insert_inbound(&inbound).await {
        Ok(Some(_)) => {
            state.core.inbound_stored();
            (StatusCode::ACCEPTED, "accepted\n")
        }
        Ok(None) => (StatusCode::OK, "duplicate delivery\n"),
        Err(e) => {
            tracing::error!(delivery, "storing a GitHub delivery failed: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again\n")
        }
    }
}

fn installation_of(event: &Event) -> Option<(&str, u64)> {
    let (repo, installation) = match event {
        Event::IssueComment(e) => (&e.repository, &e.installation),
        Event::Issues(e) => (&e.repository, &e.installation),
        Event::PullRequestReviewComment(e) => (&e.repository, &e.installation),
        Event::PullRequestReview(e) => (&e.repository, &e.installation),
        Event::PullRequest(e) => (&e.repository, &e.installation),
        Event::CheckRun(e) => (&e.repository, &e.installation),
        Event::CheckSuite(e) => (&e.repository, &e.installation),
        Event::Ping(_) | Event::Other { .. } => return None,
    };
    Some((&repo.full_name, installation.as_ref()?.id))
}

#[cfg(test)]
mod tests {
    use ring::hmac;

    use super::*;

    fn signed(secret: &str, body: &[u8]) -> HeaderMap {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let tag = hmac::sign(&key, body);
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hub-signature-256",
            format!("sha256={hex}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn signatures_are_checked_against_every_secret() {
        let body = br#"{"zen":"hi"}"#;
        let secrets = vec![Secret::new("old"), Secret::new("new")];
        assert_eq!(
            signature_problem(&signed("new", body), body, &secrets),
            None
        );
        assert_eq!(
            signature_problem(&signed("old", body), body, &secrets),
            None
        );
        assert!(signature_problem(&signed("other", body), body, &secrets).is_some());
        assert!(signature_problem(&signed("new", b"tampered"), body, &secrets).is_some());
        assert!(signature_problem(&HeaderMap::new(), body, &secrets).is_some());
        let mut bad = HeaderMap::new();
        bad.insert("x-hub-signature-256", "sha256=zz".parse().unwrap());
        assert!(signature_problem(&bad, body, &secrets).is_some());
    }

    #[test]
    fn events_older_than_the_window_are_stale() {
        let raw = include_str!("../../../tests/fixtures/github/webhooks/issue_comment.json");
        let examples: Vec<serde_json::Value> = serde_json::from_str(raw).unwrap();
        let body = serde_json::to_vec(&examples[0]).unwrap();
        let event = payload::parse("issue_comment", &body).unwrap();
        // The example's comment was last changed at 2019-05-15T15:20:21Z.
        let at = humantime::parse_rfc3339("2019-05-15T15:20:21Z").unwrap();
        let hour = Duration::from_secs(3600);
        assert_eq!(staleness(&event, hour, at + hour), None);
        assert_eq!(staleness(&event, hour, at - hour), None, "clock skew");
        let stale = staleness(&event, hour, at + hour + Duration::from_secs(1)).unwrap();
        assert!(stale.contains("2019-05-15T15:20:21Z"), "{stale}");
        assert!(staleness(&payload::parse("ping", b"{}").unwrap(), hour, at).is_some());

        // An issue's assignment or label is as old as the issue's last update.
        let raw = include_str!("../../../tests/fixtures/github/webhooks/issues.json");
        let examples: Vec<serde_json::Value> = serde_json::from_str(raw).unwrap();
        let labeled = &examples[9];
        assert_eq!(labeled["action"], "labeled");
        let event = payload::parse("issues", &serde_json::to_vec(labeled).unwrap()).unwrap();
        let updated = labeled["issue"]["updated_at"].as_str().unwrap();
        let at = humantime::parse_rfc3339(updated).unwrap();
        assert_eq!(staleness(&event, hour, at + hour), None);
        let stale = staleness(&event, hour, at + hour + Duration::from_secs(1)).unwrap();
        assert!(stale.contains(updated), "{stale}");
    }
}
