//! The HTTP face: one fallback handler that sends `/{owner}/{repo}.git/…`
//! to the git backend and everything else through the REST pipeline:
//!
//! 1. route (`routes::parse`); unknown → 404 `Not Found`;
//! 2. git work the route needs (the PR diff), before any lock;
//! 3. in one critical section: authenticate (App JWT or installation
//!    token), apply the secondary rate limit to content creation, run the
//!    handler, count the primary limit, record the call;
//! 4. git work the effect needs (a new pull request's `refs/pull/N/head`),
//!    after the lock;
//! 5. answer with GitHub's headers (`x-ratelimit-*`, `x-github-media-type`,
//!    `x-github-request-id`) and wake waiting tests.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{self, JwtError};
use super::handlers::{self, Ctx, Prefetched};
use super::json::DOCS;
use super::rate_limit::{Decision, PrimaryWindow};
use super::reply::{self, Reply};
use super::routes::{self, Op, RepoPath};
use super::state::{Bucket, Shared, repo_key};
use super::types::{CallAuth, CallRecord, Violation};
use super::{git, githttp, repos};

/// Larger than any request the bot sends (pushes included).
const MAX_BODY: usize = 256 * 1024 * 1024;

const SECONDARY_LIMIT_MESSAGE: &str = "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.";
const SECONDARY_LIMIT_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Decodes `%XX` escapes of one path segment.
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

async fn handle(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().map(str::to_string);
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    if let [owner, repo, ..] = segs.as_slice()
        && let Some(name) = repo.strip_suffix(".git")
        && owner != "repos"
    {
        let rest = segs[2..].join("/");
        let target = githttp::Target {
            owner: owner.clone(),
            name: name.to_string(),
            rest,
        };
        return githttp::serve(&sh, &parts.method, &parts.headers, raw_query, target, body).await;
    }
    let seg_refs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let route = routes::parse(&parts.method, &seg_refs);
    rest(
        &sh,
        &parts.method,
        &parts.headers,
        &path,
        raw_query,
        route,
        body,
    )
    .await
}

/// The credential of a REST request.
enum Credential {
    None,
    Jwt(Result<(), JwtError>),
    Token(String),
    /// A scheme the fake does not take (`Basic` on REST, garbage).
    Unusable,
}

fn credential(sh: &Shared, headers: &HeaderMap) -> Credential {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Credential::None;
    };
    let Some((scheme, secret)) = value.trim().split_once(' ') else {
        return Credential::Unusable;
    };
    let secret = secret.trim();
    if !scheme.eq_ignore_ascii_case("token") && !scheme.eq_ignore_ascii_case("bearer") {
        return Credential::Unusable;
    }
    if secret.matches('.').count() == 2 {
        let (_, now) = sh.clock.now();
        return Credential::Jwt(auth::verify_jwt(secret, &sh.key, sh.config.app_id, now));
    }
    Credential::Token(secret.to_string())
}

/// The PR's diff and stats, for routes that show them.
async fn prefetch(sh: &Arc<Shared>, repo: Option<&RepoPath>, number: u64) -> Option<Prefetched> {
    let repo = repo?;
    let (dir, base, head) = {
        let st = sh.lock();
        let r = st.repo(&repo_key(&repo.owner, &repo.name))?;
        let pr = r.issues.get(&number)?.pr.as_ref()?;
        (r.git_dir.clone(), r.base_sha(pr), pr.head_sha.clone())
    };
    tokio::task::spawn_blocking(move || {
        let diff = git::pr_diff(&dir, &base, &head);
        let files = git::parse_diff(&diff);
        let commits = git::run(
            &dir,
            &["rev-list", "--count", &format!("{base}..{head}")],
            &[],
            b"",
        )
        .trim()
        .parse()
        .unwrap_or(0);
        Prefetched {
            diff,
            files,
            commits,
            head_sha: head,
        }
    })
    .await
    .ok()
}

/// Waits while a test holds pull request creations; false: the test refused this one.
async fn pass_pull_gate(sh: &Shared) -> bool {
    let decided = {
        let mut gate = sh.pull_gate.lock().unwrap_or_else(|e| e.into_inner());
        if !gate.holding {
            return true;
        }
        let (tell, decided) = tokio::sync::oneshot::channel();
        gate.waiting.push(tell);
        decided
    };
    sh.changed.notify_waiters();
    decided.await.unwrap_or(false)
}

async fn rest(
    sh: &Arc<Shared>,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    raw_query: Option<String>,
    route: Option<(Option<RepoPath>, Op)>,
    body: Bytes,
) -> Response {
    let cred = credential(sh, headers);
    if matches!(route, Some((_, Op::CreatePull))) && !pass_pull_gate(sh).await {
        let mut refused = Response::new(Body::from("fake GitHub: the creation was refused\n"));
        *refused.status_mut() = StatusCode::BAD_GATEWAY;
        return refused;
    }
    let prefetched = match &route {
        Some((repo, op)) => match op.needs_diff() {
            Some(n) => prefetch(sh, repo.as_ref(), n).await,
            None => None,
        },
        None => None,
    };
    let query = query_pairs(raw_query.as_deref());
    let input: Option<Value> = if body.is_empty() {
        Some(Value::Null)
    } else {
        serde_json::from_slice(&body).ok()
    };
    // Every Accept header counts (a client may send its default next to
    // the diff media type).
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let accept = accept.as_str();
    let (instant, now) = sh.clock.now();

    // The critical section, in a block: the guard must be gone before the
    // awaits below.
    let (reply, limit, used, reset_in) = {
        let mut st = sh.lock();
        let live = |st: &super::state::State, t: &str| st.token_live(t, now);
        let call_auth = match &cred {
            Credential::None => CallAuth::None,
            Credential::Jwt(Ok(())) => CallAuth::AppJwt,
            Credential::Token(t) if live(&st, t) => CallAuth::Installation,
            _ => CallAuth::Rejected,
        };
        let reply = match &route {
            None => Reply::not_found(),
            Some((repo, op)) => match authorize(op, &cred, call_auth) {
                Err(refused) => refused,
                Ok(()) => {
                    let blocked = op
                        .creates_content()
                        .then(|| secondary_limit(sh, &mut st, method, path))
                        .flatten();
                    match (blocked, &input) {
                        (Some(blocked), _) => blocked,
                        (None, None) => Reply::problems_parsing_json(),
                        (None, Some(input)) => {
                            let mut cx = Ctx {
                                sh,
                                st: &mut st,
                                repo: repo.as_ref(),
                                path,
                                query: &query,
                                input,
                                accept,
                                prefetched: prefetched.as_ref(),
                                now,
                            };
                            handlers::execute(&mut cx, op)
                        }
                    }
                }
            },
        };
        let (bucket, limit) = match call_auth {
            CallAuth::Installation => (Bucket::Installation, sh.config.primary_per_hour),
            CallAuth::AppJwt => (Bucket::App, 5000),
            _ => (Bucket::Anonymous, 60),
        };
        let (used, reset_in) = PrimaryWindow::count(st.primary.entry(bucket).or_default(), instant);
        st.calls.push(CallRecord {
            method: method.to_string(),
            path: path.to_string(),
            query: raw_query,
            status: reply.status.as_u16(),
            auth: call_auth,
            at: now,
        });
        (reply, limit, used, reset_in)
    };
    sh.notify_changed();
    if let Some((key, number)) = opened_pull(&route, &reply) {
        let sh = sh.clone();
        let _ = tokio::task::spawn_blocking(move || repos::point_pull_ref(&sh, &key, number)).await;
    }

    let reset = auth::unix(now + reset_in);
    let reply = reply
        .with_header("x-ratelimit-limit", limit.to_string())
        .with_header(
            "x-ratelimit-remaining",
            limit.saturating_sub(used).to_string(),
        )
        .with_header("x-ratelimit-reset", reset.to_string())
        .with_header("x-ratelimit-used", used.to_string())
        .with_header("x-ratelimit-resource", "core".to_string())
        .with_header("x-github-media-type", "github.v3; format=json".to_string())
        .with_header("x-github-request-id", request_id());
    into_response(reply)
}

/// The repository and number of the pull request a `POST …/pulls` opened:
/// git gets its `refs/pull/N/head` before the answer goes out.
fn opened_pull(route: &Option<(Option<RepoPath>, Op)>, reply: &Reply) -> Option<(String, u64)> {
    let Some((Some(repo), Op::CreatePull)) = route else {
        return None;
    };
    let reply::Body::Json(v) = &reply.body else {
        return None;
    };
    if reply.status != StatusCode::CREATED {
        return None;
    }
    Some((repo_key(&repo.owner, &repo.name), v["number"].as_u64()?))
}

/// App endpoints take only a valid JWT; all others a live installation
/// token. GitHub's messages: a JWT problem names the claim, a token problem
/// is "Bad credentials", no credentials at all "Requires authentication".
fn authorize(op: &Op, cred: &Credential, call_auth: CallAuth) -> Result<(), Reply> {
    let unauthorized = |message: &str| Reply::error(StatusCode::UNAUTHORIZED, message, DOCS);
    if op.is_app_endpoint() {
        return match cred {
            Credential::Jwt(Ok(())) => Ok(()),
            Credential::Jwt(Err(e)) => Err(unauthorized(e.0)),
            _ => Err(unauthorized(auth::JWT_UNDECODABLE)),
        };
    }
    match call_auth {
        CallAuth::Installation => Ok(()),
        CallAuth::None => Err(Reply::requires_authentication()),
        _ => Err(Reply::bad_credentials()),
    }
}

/// The secondary limit's verdict on one content-creating request: `None`
/// to go ahead, or the 403 (recording a violation when the request came
/// inside an open window).
fn secondary_limit(
    sh: &Shared,
    st: &mut super::state::State,
    method: &Method,
    path: &str,
) -> Option<Reply> {
    let (instant, now) = sh.clock.now();
    match st.limiter.check(instant) {
        Decision::Accept => None,
        Decision::Reject {
            retry_after,
            violated_window,
        } => {
            if let Some(end) = violated_window {
                st.violations.push(Violation {
                    method: method.to_string(),
                    path: path.to_string(),
                    at: now,
                    window_end: sh.clock.system_at(end),
                });
            }
            let reply = Reply::error(
                StatusCode::FORBIDDEN,
                SECONDARY_LIMIT_MESSAGE,
                SECONDARY_LIMIT_DOCS,
            );
            Some(reply.with_header("retry-after", retry_after.to_string()))
        }
    }
}

fn request_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("{}:{}:{}", &u[..4], &u[4..10], &u[10..18])
}

fn into_response(reply: Reply) -> Response {
    let mut response = match reply.body {
        reply::Body::Json(v) => {
            let bytes =
                serde_json::to_vec(&v).unwrap_or_else(|_| json!({}).to_string().into_bytes());
            let mut r = Response::new(Body::from(bytes));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r
        }
        reply::Body::Text(text, content_type) => {
            let mut r = Response::new(Body::from(text));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r
        }
    };
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(name, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_of_segments_and_queries() {
        assert_eq!(percent_decode("dependabot%5Bbot%5D"), "dependabot[bot]");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(
            query_pairs(Some("per_page=2&page=3&q=a+b")),
            [
                ("per_page".to_string(), "2".to_string()),
                ("page".to_string(), "3".to_string()),
                ("q".to_string(), "a b".to_string()),
            ]
        );
    }
}
