//! The HTTP face: routes, and the Web API pipeline — method lookup, argument
//! parsing, token check, rate limit, effect, call record — run for one call
//! under one lock, before the answer is written.
//!
//! Routes: `/api/{method}` (any HTTP method, like slack.com), `/upload/{id}`
//! (file bytes), `/socket-mode` (the WebSocket), `/response-url/{trigger}`
//! (slash command answers). An unknown method is HTTP 404
//! `{"ok":false,"error":"unknown_method"}`; a missing token `not_authed`, an
//! unknown one `invalid_auth`, the wrong kind (`xapp-` for a bot method,
//! `xoxb-` for `apps.connections.open`) `not_allowed_token_type`, all HTTP
//! 200 as on Slack.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{any, get, post};

use super::methods::{self, Ctx, Method};
use super::params::Params;
use super::rate_limit::{Decision, Keys};
use super::reply::{self, ApiError, Reply};
use super::state::{Shared, State as FakeState};
use super::types::{CallRecord, TokenKind, Violation};
use super::{files, slash, socket};

/// Slack accepts files up to 1 GB; tests upload far less.
const MAX_UPLOAD: usize = 64 * 1024 * 1024;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/{method}", any(web_api))
        .route("/upload/{file_id}", post(files::upload))
        .route("/files-pri/{key}/{name}", get(files::download))
        .route("/socket-mode", get(socket::upgrade))
        .route("/response-url/{trigger_id}", post(slash::response_url))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found") })
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .with_state(shared)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

async fn web_api(
    State(sh): State<Arc<Shared>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let from_header = bearer(req.headers());
    let method = Method::parse(&name);
    let params = match method {
        Some(_) => Params::from_request(req).await,
        None => Ok(Params::default()),
    };
    let (instant, now) = sh.clock.now();
    let mut warnings = Vec::new();
    let mut st = sh.lock();
    let (token, reply, recorded) = match (method, params) {
        (None, _) => (TokenKind::None, Err(ApiError::unknown_method()), None),
        (Some(_), Err(e)) => (TokenKind::None, Err(e), None),
        (Some(m), Ok(p)) => {
            if p.missing_charset {
                warnings.push("missing_charset");
            }
            let token = token_kind(&sh, from_header.or_else(|| p.string("token")));
            let reply = match authorize(m, token) {
                Err(e) => Err(e),
                Ok(()) => match limit(&sh, &mut st, m, &p, instant, now) {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let mut cx = Ctx {
                            sh: &sh,
                            st: &mut st,
                            p: &p,
                            now,
                        };
                        let reply = methods::execute(&mut cx, m);
                        let lose_answer = m == Method::PostMessage
                            && reply.is_ok()
                            && st.fail_after_posting.pop_front() == Some(true);
                        match lose_answer {
                            true => Err(ApiError::server_error()),
                            false => reply,
                        }
                    }
                },
            };
            (token, reply, Some(p.to_value()))
        }
    };
    record(&mut st, &name, recorded, &reply, token, now);
    drop(st);
    sh.notify_changed();
    reply::into_response(&reply, &warnings)
}

fn token_kind(sh: &Shared, token: Option<String>) -> TokenKind {
    match token {
        None => TokenKind::None,
        Some(t) if t == sh.config.bot_token => TokenKind::Bot,
        Some(t) if t == sh.config.app_token => TokenKind::App,
        Some(_) => TokenKind::Unknown,
    }
}

fn authorize(method: Method, token: TokenKind) -> Result<(), ApiError> {
    match (token, method.wants_app_token()) {
        (TokenKind::None, _) => Err(ApiError::new("not_authed")),
        (TokenKind::Unknown, _) => Err(ApiError::new("invalid_auth")),
        (TokenKind::Bot, false) | (TokenKind::App, true) => Ok(()),
        _ => Err(ApiError::new("not_allowed_token_type")),
    }
}

/// The rate limiter's verdict; a 429 inside an open window is a violation.
fn limit(
    sh: &Shared,
    st: &mut FakeState,
    method: Method,
    p: &Params,
    instant: tokio::time::Instant,
    now: std::time::SystemTime,
) -> Result<(), ApiError> {
    let channel = (method == Method::PostMessage).then(|| p.string("channel").unwrap_or_default());
    let keys = match &channel {
        Some(channel) => Keys::Post { channel },
        None => Keys::Method {
            name: method.name(),
            per_minute: sh.config.per_minute(method.name(), method.tier()),
        },
    };
    match st.limiter.check(keys, instant) {
        Decision::Accept => Ok(()),
        Decision::Reject {
            retry_after,
            violated_window,
        } => {
            if let Some(end) = violated_window {
                st.violations.push(Violation {
                    method: method.name().to_string(),
                    channel,
                    at: now,
                    window_end: sh.clock.system_at(end),
                });
            }
            Err(ApiError::ratelimited(retry_after))
        }
    }
}

fn record(
    st: &mut FakeState,
    name: &str,
    params: Option<serde_json::Value>,
    reply: &Reply,
    token: TokenKind,
    at: std::time::SystemTime,
) {
    let (http_status, error) = match reply {
        Ok(_) => (200, None),
        Err(e) => (e.status.as_u16(), Some(e.error.clone())),
    };
    st.calls.push(CallRecord {
        method: name.to_string(),
        params: params.unwrap_or_default(),
        http_status,
        error,
        token,
        at,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types_per_method() {
        let ok = |m, t| authorize(m, t).map_err(|e| e.error);
        assert_eq!(ok(Method::PostMessage, TokenKind::Bot), Ok(()));
        assert_eq!(ok(Method::ConnectionsOpen, TokenKind::App), Ok(()));
        assert_eq!(
            ok(Method::ConnectionsOpen, TokenKind::Bot),
            Err("not_allowed_token_type".into())
        );
        assert_eq!(
            ok(Method::AuthTest, TokenKind::App),
            Err("not_allowed_token_type".into())
        );
        assert_eq!(
            ok(Method::AuthTest, TokenKind::None),
            Err("not_authed".into())
        );
        assert_eq!(
            ok(Method::AuthTest, TokenKind::Unknown),
            Err("invalid_auth".into())
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer xoxb-1".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("xoxb-1"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
