//! Events API over HTTP: signed POSTs to the app's Request URLs.
//!
//! * Event callbacks go as JSON (`Content-Type: application/json`), slash
//!   commands as a form (`application/x-www-form-urlencoded`), both signed
//!   (`X-Slack-Request-Timestamp`, `X-Slack-Signature`, see `signing`) with
//!   Slack's `User-Agent`.
//! * An event whose POST is not answered 2xx within `http_timeout` (3 s) is
//!   retried after each of `http_retry_delays` (Slack: immediately, 1 min,
//!   5 min), with `X-Slack-Retry-Num: 1..3` and `X-Slack-Retry-Reason`
//!   (`http_timeout`, `http_error`, `connection_failed`), unless the app
//!   answered with `X-Slack-No-Retry: 1`. Each event is delivered on its own
//!   task, so deliveries may overtake each other, as on Slack.
//! * Slash commands are posted once; a 2xx body is the response shown to the
//!   person (JSON with `text`, or plain text).
//! * Every attempt is recorded with the exact bytes, headers' values and the
//!   app's answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::signing::slack_signature;
use super::slash;
use super::state::{Item, Shared, unix_secs};
use super::types::{HttpDelivery, SlashResponseVia};

pub(super) const USER_AGENT: &str = "Slackbot 1.0 (+https://api.slack.com/robots)";

pub(super) fn spawn(sh: &Arc<Shared>, item: Item, url: String) {
    let sh = sh.clone();
    tokio::spawn(async move {
        match item {
            Item::Event { event_id, payload } => {
                deliver_event(&sh, &url, &event_id, &payload).await
            }
            Item::Command {
                trigger_id,
                payload,
            } => deliver_command(&sh, &url, &trigger_id, &payload).await,
            Item::Interaction { payload } => {
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("payload", &payload.to_string())
                    .finish();
                let attempt = Attempt {
                    url: &url,
                    kind: "interaction",
                    event_id: None,
                    content_type: "application/x-www-form-urlencoded",
                    body: Bytes::from(body),
                    retry_num: 0,
                    retry_reason: None,
                };
                post(&sh, attempt).await;
            }
        }
    });
}

async fn deliver_event(sh: &Arc<Shared>, url: &str, event_id: &str, payload: &Value) {
    let body = Bytes::from(serde_json::to_vec(payload).expect("JSON serializes"));
    let delays = sh.config.http_retry_delays.clone();
    let mut reason: Option<String> = None;
    for retry in 0..=delays.len() {
        if retry > 0 {
            tokio::time::sleep(delays[retry - 1]).await;
        }
        let attempt = Attempt {
            url,
            kind: "event",
            event_id: Some(event_id),
            content_type: "application/json",
            body: body.clone(),
            retry_num: retry as u32,
            retry_reason: reason.clone(),
        };
        let (delivery, no_retry) = post(sh, attempt).await;
        if delivery.succeeded() || no_retry {
            return;
        }
        reason = Some(
            delivery
                .failure
                .clone()
                .unwrap_or_else(|| "http_error".to_string()),
        );
    }
}

async fn deliver_command(
    sh: &Arc<Shared>,
    url: &str,
    trigger_id: &str,
    payload: &[(String, String)],
) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(payload)
        .finish();
    let attempt = Attempt {
        url,
        kind: "command",
        event_id: None,
        content_type: "application/x-www-form-urlencoded",
        body: Bytes::from(body),
        retry_num: 0,
        retry_reason: None,
    };
    let (delivery, _) = post(sh, attempt).await;
    if delivery.succeeded()
        && let Some(answer) = slash::parse_body(delivery.response_body.as_bytes())
    {
        slash::record_response(
            &mut sh.lock(),
            trigger_id,
            SlashResponseVia::HttpBody,
            answer,
        );
        sh.notify_changed();
    }
}

pub(super) struct Attempt<'a> {
    pub url: &'a str,
    pub kind: &'a str,
    pub event_id: Option<&'a str>,
    pub content_type: &'a str,
    pub body: Bytes,
    pub retry_num: u32,
    pub retry_reason: Option<String>,
}

/// One signed POST, recorded; also whether the app asked for no retries.
pub(super) async fn post(sh: &Arc<Shared>, a: Attempt<'_>) -> (HttpDelivery, bool) {
    let (_, now) = sh.clock.now();
    let timestamp = unix_secs(now);
    let signature = slack_signature(&sh.config.signing_secret, &timestamp.to_string(), &a.body);
    let mut headers = vec![
        ("Content-Type".to_string(), a.content_type.to_string()),
        ("User-Agent".to_string(), USER_AGENT.to_string()),
        (
            "X-Slack-Request-Timestamp".to_string(),
            timestamp.to_string(),
        ),
        ("X-Slack-Signature".to_string(), signature.clone()),
    ];
    if a.retry_num > 0 {
        headers.push(("X-Slack-Retry-Num".into(), a.retry_num.to_string()));
        headers.push((
            "X-Slack-Retry-Reason".into(),
            a.retry_reason.clone().unwrap_or_default(),
        ));
    }
    let answer = send(sh, a.url, &headers, a.body.clone(), sh.config.http_timeout).await;
    let (status, failure, response_body, no_retry) = match answer {
        Ok(r) => {
            let failure = (!(200..300).contains(&r.status)).then(|| "http_error".to_string());
            (Some(r.status), failure, r.body, r.no_retry)
        }
        Err(reason) => (None, Some(reason), String::new(), false),
    };
    let delivery = HttpDelivery {
        url: a.url.to_string(),
        kind: a.kind.to_string(),
        event_id: a.event_id.map(str::to_string),
        retry_num: a.retry_num,
        retry_reason: a.retry_reason,
        body: a.body,
        timestamp,
        signature,
        status,
        failure,
        response_body,
        at: now,
    };
    sh.lock().http_deliveries.push(delivery.clone());
    sh.notify_changed();
    (delivery, no_retry)
}

pub(super) struct Answer {
    pub status: u16,
    pub body: String,
    pub no_retry: bool,
}

/// A plain POST with exactly `headers`; `Err` is Slack's retry reason for
/// no answer (`http_timeout`, `connection_failed`, `unknown_error`).
pub(super) async fn send(
    sh: &Shared,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
    timeout: Duration,
) -> Result<Answer, String> {
    let mut req = sh.http.post(url).timeout(timeout).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let res = req.send().await.map_err(|e| reason(&e))?;
    let status = res.status().as_u16();
    let no_retry = res
        .headers()
        .get("x-slack-no-retry")
        .is_some_and(|v| v.as_bytes() == b"1");
    let body = res.text().await.map_err(|e| reason(&e))?;
    Ok(Answer {
        status,
        body,
        no_retry,
    })
}

fn reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "http_timeout"
    } else if e.is_connect() {
        "connection_failed"
    } else {
        "unknown_error"
    }
    .to_string()
}
