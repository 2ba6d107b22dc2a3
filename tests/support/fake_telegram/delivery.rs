//! Webhook delivery: while a webhook is set, queued updates are POSTed to it
//! one at a time, in `update_id` order, with the `X-Telegram-Bot-Api-Secret-Token`
//! header when a secret was set. An update leaves the queue only when the
//! receiver answers 2xx; any other answer (or no answer) is retried with a
//! doubling pause, and later updates wait behind it, so the receiver sees
//! every update at least once and never out of order.
//!
//! The POST is written by hand over a `TcpStream` (HTTP/1.1, `Connection:
//! close`): the fake needs nothing more, and it keeps the HTTP client out of
//! the fake's dependencies. Only `http://` receivers are supported.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::state::Shared;

/// How long a receiver may take to answer before the attempt counts as
/// failed (Telegram's own timeout is similar in spirit, longer in practice).
const RECEIVER_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn run(shared: Arc<Shared>) {
    let mut changes = shared.updates_changed.subscribe();
    let mut pause = shared.config.webhook_retry_initial;
    loop {
        let job = {
            let mut st = shared.lock();
            st.drop_unwanted_head();
            let job = match (&st.webhook, st.pending.front()) {
                (Some(hook), Some(update)) => Some((
                    hook.url.clone(),
                    hook.secret_token.clone(),
                    update.update_id,
                    serde_json::to_vec(&update.json).expect("JSON serializes"),
                )),
                _ => None,
            };
            if let Some((_, _, update_id, _)) = &job {
                let (_, at) = shared.clock.now();
                st.mark_delivered(*update_id, at);
            }
            job
        };
        let Some((url, secret, update_id, body)) = job else {
            // Nothing to send: sleep until updates or the webhook change.
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        };
        shared.notify_changed();
        let outcome = post(&url, secret.as_deref(), &body).await;
        let (_, at) = shared.clock.now();
        let accepted = matches!(outcome, Ok(status) if (200..300).contains(&status));
        {
            let mut st = shared.lock();
            if accepted {
                if st.pending.front().is_some_and(|u| u.update_id == update_id) {
                    st.pending.pop_front();
                }
                st.webhook_last_error = None;
            } else {
                let error = match outcome {
                    Ok(status) => format!("Wrong response from the webhook: {status}"),
                    Err(e) => e,
                };
                st.webhook_last_error = Some((at, error));
            }
        }
        shared.notify_changed();
        if accepted {
            pause = shared.config.webhook_retry_initial;
        } else {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(shared.config.webhook_retry_max);
        }
    }
}

/// POSTs `body` as JSON to an `http://` URL; returns the status code.
async fn post(url: &str, secret: Option<&str>, body: &[u8]) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("unsupported webhook URL {url}"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let exchange = async {
        let mut stream = TcpStream::connect(&address)
            .await
            .map_err(|e| format!("Connection refused: {e}"))?;
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if let Some(secret) = secret {
            head.push_str(&format!("X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        stream.write_all(body).await.map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(|e| e.to_string())?;
        let status_line = response.split(|b| *b == b'\n').next().unwrap_or_default();
        String::from_utf8_lossy(status_line)
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| "Wrong response from the webhook: no HTTP status".to_string())
    };
    tokio::time::timeout(RECEIVER_TIMEOUT, exchange)
        .await
        .map_err(|_| "Read timeout expired".to_string())?
}
