//! The HTTP face. `/` upgrades to the gateway WebSocket; `/api/v10/…` goes
//! through the REST pipeline:
//!
//! 1. route (`routes`); unknown → 404 `{"message": "404: Not Found"}`;
//! 2. read the body (JSON or multipart) before any lock;
//! 3. in one critical section: check `Authorization: Bot <token>` (401),
//!    apply the rate limits (429, violations), run the handler, record the
//!    call;
//! 4. answer with the `X-RateLimit-*` headers and wake waiting tests.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::clock::{epoch_seconds, seconds_ceil};
use super::gateway;
use super::handlers::{self, Ctx};
use super::input::{self, Body, MAX_BODY};
use super::rate_limit::{self, BucketState, Decision};
use super::reply::Reply;
use super::routes::{Route, RouteKind};
use super::state::Shared;
use super::types::{CallRecord, Violation, ViolationKind};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(gateway::upgrade))
        .route(
            "/attachments/{channel}/{attachment}/{filename}",
            get(attachment),
        )
        .fallback(rest)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// `GET /attachments/<channel>/<attachment>/<filename>`: an attachment's bytes, as Discord's
/// CDN serves them (no token needed).
async fn attachment(
    State(sh): State<Arc<Shared>>,
    Path((channel, attachment, filename)): Path<(String, String, String)>,
) -> Response {
    let st = sh.lock();
    let found = st
        .messages
        .values()
        .filter(|m| m.channel_id.to_string() == channel)
        .flat_map(|m| &m.attachments)
        .find(|a| a.id == attachment && a.filename == filename);
    match found {
        Some(a) => (StatusCode::OK, a.bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Decodes `%XX` escapes of one path segment (emoji in reaction paths).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

fn bot_token_ok(sh: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bot "))
        .is_some_and(|t| t == sh.config.token)
}

/// What the limiter decided, for the headers.
struct Limited {
    /// The kind whose bucket the route draws from.
    bucket: RouteKind,
    state: BucketState,
    /// `Some(global)` on 429.
    rejected: Option<(f64, bool)>,
}

async fn rest(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let full_path = req.uri().path().to_string();
    let raw_query = req.uri().query().map(str::to_string);
    let path = full_path
        .strip_prefix("/api/v10")
        .filter(|p| p.starts_with('/'))
        .map(str::to_string);
    let segs: Vec<String> = path
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let seg_refs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let route = path.as_ref().and_then(|_| Route::parse(&method, &seg_refs));
    let authorized = bot_token_ok(&sh, req.headers());
    let body = match &route {
        Some(_) => input::read(req, sh.config.max_upload_bytes).await,
        None => Body::Empty,
    };
    let query = query_pairs(raw_query.as_deref());
    let (instant, now) = sh.clock.now();

    let mut st = sh.lock();
    let mut limited = None;
    let reply = match &route {
        None => Reply::not_found(),
        Some(r) if r.needs_bot_token() && !authorized => Reply::unauthorized(),
        Some(r) => {
            let kind = r.kind();
            let bucket = sh.config.bucket_of(kind);
            let major = r.major();
            let request = rate_limit::Request {
                bucket: bucket.name(),
                major: &major,
                limit: bucket.limit(&sh.config.routes),
                global: kind.counts_globally(),
                kind: kind.name(),
            };
            match st.limiter.check(&request, instant) {
                Decision::Accept(state) => {
                    limited = Some(Limited {
                        bucket,
                        state,
                        rejected: None,
                    });
                    let mut cx = Ctx {
                        sh: &sh,
                        st: &mut st,
                        now: (instant, now),
                        query: &query,
                        body: &body,
                    };
                    handlers::execute(&mut cx, r)
                }
                Decision::Reject {
                    retry_after,
                    global,
                    violated_window,
                    state,
                } => {
                    if let Some(end) = violated_window {
                        let window = if global {
                            "global".to_string()
                        } else {
                            format!("{}:{major}", bucket.name())
                        };
                        st.violations.push(Violation {
                            kind: ViolationKind::RateLimit {
                                bucket: window,
                                global,
                            },
                            method: method.to_string(),
                            path: path.clone().unwrap_or_default(),
                            at: now,
                            window_end: sh.clock.system_at(end),
                        });
                    }
                    let secs = seconds_ceil(retry_after);
                    limited = Some(Limited {
                        bucket,
                        state,
                        rejected: Some((secs, global)),
                    });
                    let mut r = Reply::error(429, 0, "You are being rate limited.");
                    if let Some(b) = r.body.as_mut() {
                        b["retry_after"] = json!(secs);
                        b["global"] = json!(global);
                    }
                    r
                }
            }
        }
    };
    st.calls.push(CallRecord {
        method: method.to_string(),
        path: path.clone().unwrap_or(full_path),
        query: raw_query,
        status: reply.status.as_u16(),
        code: reply.code(),
        kind: route.as_ref().map(Route::kind),
        bucket: route
            .as_ref()
            .map(|r| format!("{}:{}", sh.config.bucket_of(r.kind()).name(), r.major())),
        at: now,
    });
    drop(st);
    sh.notify_changed();
    respond(&sh, reply, limited, now)
}

fn respond(
    sh: &Shared,
    reply: Reply,
    limited: Option<Limited>,
    now: std::time::SystemTime,
) -> Response {
    let mut res = match reply.body {
        Some(body) => (reply.status, axum::Json(body)).into_response(),
        None => reply.status.into_response(),
    };
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    if let Some(l) = limited {
        let reset_after = seconds_ceil(l.state.reset_after);
        set(h, "x-ratelimit-limit", l.state.limit.to_string());
        set(h, "x-ratelimit-remaining", l.state.remaining.to_string());
        set(
            h,
            "x-ratelimit-reset",
            epoch_seconds(now + l.state.reset_after),
        );
        set(h, "x-ratelimit-reset-after", format!("{reset_after:.3}"));
        set(h, "x-ratelimit-bucket", l.bucket.bucket_hash());
        if let Some((retry_after, global)) = l.rejected {
            set(
                h,
                "retry-after",
                (retry_after.ceil() as u64).max(1).to_string(),
            );
            if global {
                set(h, "x-ratelimit-global", "true".into());
                set(h, "x-ratelimit-scope", "global".into());
            } else {
                set(h, "x-ratelimit-scope", "user".into());
            }
        }
    }
    let _ = sh;
    res
}
