//! Git's smart HTTP protocol, served by `git http-backend` as a CGI, so
//! clones, fetches and pushes are real git on both ends.
//!
//! Like github.com, every request needs HTTP Basic credentials whose
//! password is a live installation token (the user name is not checked;
//! GitHub's convention is `x-access-token`). Without them the answer is 401
//! with `WWW-Authenticate: Basic realm="GitHub"`, which makes git ask its
//! credential helper and retry — the path a bot takes when it hands the
//! token to git through a helper rather than the URL.
//!
//! After a `git-receive-pack` POST the ref updates the client asked for (the
//! pkt-line commands at the start of the request) are checked against the
//! repository and each one that took effect is recorded as a [`Push`]; then
//! pull requests follow their branches (`repos::sync_refs`).

use std::process::Stdio;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use tokio::io::AsyncWriteExt as _;

use super::git::{self, ZERO_SHA};
use super::repos;
use super::state::{Shared, repo_key};
use super::types::{CallAuth, CallRecord, Push};

/// The repository and the rest of the path (`info/refs`, `git-upload-pack`…).
pub(super) struct Target {
    pub owner: String,
    pub name: String,
    pub rest: String,
}

/// `(user, password)` of a Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

pub(super) async fn serve(
    sh: &Arc<Shared>,
    method: &Method,
    headers: &HeaderMap,
    raw_query: Option<String>,
    target: Target,
    body: Bytes,
) -> Response {
    let (_, now) = sh.clock.now();
    let path = format!("/{}/{}.git/{}", target.owner, target.name, target.rest);
    let credentials = basic_credentials(headers);
    let key = repo_key(&target.owner, &target.name);
    let (auth, git_dir) = {
        let st = sh.lock();
        let auth = match &credentials {
            Some((_, token)) if st.token_live(token, now) => CallAuth::Installation,
            Some(_) => CallAuth::Rejected,
            None if headers.contains_key(header::AUTHORIZATION) => CallAuth::Rejected,
            None => CallAuth::None,
        };
        (auth, st.repo(&key).map(|r| r.git_dir.clone()))
    };
    let record = |status: StatusCode| {
        sh.lock().calls.push(CallRecord {
            method: method.to_string(),
            path: path.clone(),
            query: raw_query.clone(),
            status: status.as_u16(),
            auth,
            at: now,
        });
        sh.notify_changed();
    };
    if auth != CallAuth::Installation {
        record(StatusCode::UNAUTHORIZED);
        let mut r = Response::new(Body::from(
            "Invalid username or token. Password authentication is not supported for Git operations.\n",
        ));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"GitHub\""),
        );
        return r;
    }
    let Some(git_dir) = git_dir else {
        record(StatusCode::NOT_FOUND);
        let mut r = Response::new(Body::from("Repository not found.\n"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let (user, token) = credentials.expect("authenticated");
    let is_push = method == Method::POST && target.rest == "git-receive-pack";
    let commands = if is_push {
        receive_pack_commands(&body)
    } else {
        Vec::new()
    };
    // The repository's directory below GIT_PROJECT_ROOT, in its stored
    // spelling (GitHub's paths are case-insensitive, the disk is not).
    let relative = git_dir
        .strip_prefix(&sh.root)
        .expect("repositories live under the root")
        .to_string_lossy()
        .into_owned();
    let cgi = Cgi {
        path_info: format!("/{relative}/{}", target.rest),
        query: raw_query.clone().unwrap_or_default(),
        method: method.to_string(),
        remote_user: user,
        headers: headers.clone(),
    };
    let response = match run_backend(sh, cgi, body).await {
        Ok(response) => response,
        Err(e) => {
            record(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = Response::new(Body::from(format!("fake GitHub: {e}\n")));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return r;
        }
    };
    if is_push {
        after_push(sh, &key, git_dir, commands, token).await;
    }
    record(response.status());
    response
}

/// The CGI request, minus the body.
struct Cgi {
    path_info: String,
    query: String,
    method: String,
    remote_user: String,
    headers: HeaderMap,
}

async fn run_backend(sh: &Shared, cgi: Cgi, body: Bytes) -> Result<Response, String> {
    let header = |name: header::HeaderName| {
        cgi.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", &sh.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", &cgi.path_info)
        .env("QUERY_STRING", &cgi.query)
        .env("REQUEST_METHOD", &cgi.method)
        .env("CONTENT_TYPE", header(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_USER", &cgi.remote_user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env(
            "GIT_PROTOCOL",
            header(header::HeaderName::from_static("git-protocol")),
        )
        .env("HTTP_CONTENT_ENCODING", header(header::CONTENT_ENCODING))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("run git http-backend: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    // Fed concurrently: the backend may answer before it has read it all.
    let feeder = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
        let _ = stdin.shutdown().await;
    });
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("git http-backend: {e}"))?;
    let _ = feeder.await;
    if !out.status.success() && out.stdout.is_empty() {
        return Err(format!(
            "git http-backend failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse_cgi_output(&out.stdout)
}

/// Splits a CGI answer into `Status:`, headers and body.
fn parse_cgi_output(out: &[u8]) -> Result<Response, String> {
    let (head_len, sep) = find(out, b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| find(out, b"\n\n").map(|i| (i, 2)))
        .ok_or("git http-backend: no CGI header block")?;
    let head = String::from_utf8_lossy(&out[..head_len]);
    let mut response = Response::new(Body::from(out[head_len + sep..].to_vec()));
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("500");
            *response.status_mut() = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        } else if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    Ok(response)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `old new refname` commands at the head of a receive-pack request
/// (pkt-lines up to the first flush; capabilities after a NUL dropped).
fn receive_pack_commands(body: &[u8]) -> Vec<(String, String, String)> {
    let mut commands = Vec::new();
    let mut rest = body;
    while rest.len() >= 4 {
        let Some(len) = std::str::from_utf8(&rest[..4])
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
        else {
            break;
        };
        if len == 0 || len < 4 || len > rest.len() {
            break;
        }
        let line = String::from_utf8_lossy(&rest[4..len]);
        rest = &rest[len..];
        let line = line.split('\0').next().unwrap_or_default().trim_end();
        let mut parts = line.split(' ');
        if let (Some(old), Some(new), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
            && old.len() == 40
            && new.len() == 40
        {
            commands.push((old.to_string(), new.to_string(), name.to_string()));
        }
    }
    commands
}

async fn after_push(
    sh: &Arc<Shared>,
    key: &str,
    git_dir: std::path::PathBuf,
    commands: Vec<(String, String, String)>,
    token: String,
) {
    let sh2 = sh.clone();
    let key2 = key.to_string();
    let applied = tokio::task::spawn_blocking(move || {
        let applied: Vec<(String, String, String)> = commands
            .into_iter()
            .filter(|(_, new, name)| {
                let now = git::resolve(&git_dir, name);
                if new == ZERO_SHA {
                    now.is_none()
                } else {
                    now.as_deref() == Some(new.as_str())
                }
            })
            .collect();
        repos::sync_refs(&sh2, &key2);
        applied
    })
    .await
    .unwrap_or_default();
    let (_, at) = sh.clock.now();
    let mut st = sh.lock();
    let repo = st
        .repo(key)
        .map(|r| r.repo.full_name())
        .unwrap_or_else(|| key.to_string());
    for (old, new, refname) in applied {
        st.pushes.push(Push {
            repo: repo.clone(),
            refname,
            old,
            new,
            token: token.clone(),
            at,
        });
    }
    drop(st);
    sh.notify_changed();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(s: &str) -> String {
        format!("{:04x}{s}", s.len() + 4)
    }

    #[test]
    fn commands_of_a_receive_pack_request() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let body = format!(
            "{}{}0000PACK…",
            pkt(&format!(
                "{a} {b} refs/heads/x\0report-status side-band-64k\n"
            )),
            pkt(&format!("{ZERO_SHA} {a} refs/heads/new\n")),
        );
        assert_eq!(
            receive_pack_commands(body.as_bytes()),
            [
                (a.clone(), b.clone(), "refs/heads/x".to_string()),
                (ZERO_SHA.to_string(), a, "refs/heads/new".to_string()),
            ]
        );
        assert!(receive_pack_commands(b"garbage").is_empty());
    }

    #[test]
    fn cgi_output_with_status() {
        let r = parse_cgi_output(b"Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno")
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/plain");
        let r =
            parse_cgi_output(b"Content-Type: application/x-git-upload-pack-advertisement\n\n001e")
                .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}
