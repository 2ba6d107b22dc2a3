//! A small Slack Web API client: the methods Switchboard calls, on the reqwest already in the
//! tree.
//!
//! Slack answers HTTP 200 with `{"ok": false, "error": "…"}` for most failures, and HTTP 429
//! with a `Retry-After` header when a method's rate tier is exhausted; [`SlackError`] keeps
//! those apart so the outbox can wait, retry or give up. Tokens travel only in the
//! `Authorization` header and never appear in errors.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::bots::download;
use crate::config::Secret;

/// What the client is told to say about itself.
const USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SlackError {
    /// The method's rate limit: wait this long.
    #[error("rate limited by Slack for {}s", .0.as_secs_f64())]
    RateLimited(Duration),
    /// Slack refused: its error code (`channel_not_found`, `msg_too_long`, …).
    #[error("Slack said {0}")]
    Api(String),
    /// The request did not get an answer, or the answer was a server error.
    #[error("Slack unreachable: {0}")]
    Network(String),
}

impl SlackError {
    /// Errors worth retrying later: the network, and Slack's own trouble.
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::Network(_) | SlackError::RateLimited(_) => true,
            SlackError::Api(code) => matches!(
                code.as_str(),
                "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout"
            ),
        }
    }
}

/// Who the bot is in its workspace (`auth.test`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackIdentity {
    pub team_id: String,
    /// The bot's user id (`U…`): what a mention of it looks like (`<@U…>`).
    pub user_id: String,
    /// The bot id (`B…`) its own messages carry.
    pub bot_id: String,
}

/// A file shared in a channel with [`SlackClient::upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload<'a> {
    pub channel: &'a str,
    pub thread_ts: Option<&'a str>,
    pub filename: &'a str,
    pub content: &'a [u8],
    /// The message the file is shared with.
    pub comment: &'a str,
}

/// Where Slack serves the files people share.
const FILE_HOST: &str = "files.slack.com";

pub struct SlackClient {
    http: reqwest::Client,
    /// Ends with `/`; method names are appended.
    api: String,
    token: Secret,
}

impl SlackClient {
    pub fn new(api_url: &str, token: Secret) -> anyhow::Result<SlackClient> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut api = api_url.to_owned();
        if !api.ends_with('/') {
            api.push('/');
        }
        Ok(SlackClient { http, api, token })
    }

    /// Calls a method with a JSON body, as the bot (or with `token` when given).
    async fn call(
        &self,
        method: &str,
        body: &Value,
        token: Option<&Secret>,
    ) -> Result<Value, SlackError> {
        let token = token.unwrap_or(&self.token);
        let response = self
            .http
            .post(format!("{}{method}", self.api))
            .bearer_auth(token.expose())
            .json(body)
            .send()
            .await
            .map_err(|e| SlackError::Network(e.without_url().to_string()))?;
        answer(response).await
    }

    /// `auth.test`: the bot's identity.
    pub async fn auth_test(&self) -> Result<SlackIdentity, SlackError> {
        let v = self.call("auth.test", &json!({}), None).await?;
        let field = |name: &str| v[name].as_str().unwrap_or_default().to_owned();
        Ok(SlackIdentity {
            team_id: field("team_id"),
            user_id: field("user_id"),
            bot_id: field("bot_id"),
        })
    }

    /// `apps.connections.open`: a fresh Socket Mode URL (needs the app-level token).
    pub async fn open_connection(&self, app_token: &Secret) -> Result<String, SlackError> {
        let v = self
            .call("apps.connections.open", &json!({}), Some(app_token))
            .await?;
        v["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SlackError::Api("no url in apps.connections.open".into()))
    }

    /// `chat.postMessage`: returns the new message's `ts`.
    pub async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<String, SlackError> {
        let mut body = json!({
            "channel": channel,
            "text": text,
            "mrkdwn": true,
            "unfurl_links": false,
            "unfurl_media": false,
        });
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let v = self.call("chat.postMessage", &body, None).await?;
        message_ts(&v)
    }

    /// `chat.update`: replaces a message's text.
    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
    ) -> Result<(), SlackError> {
        let body = json!({"channel": channel, "ts": ts, "text": text});
        self.call("chat.update", &body, None).await.map(drop)
    }

    /// `reactions.add`; a reaction already there counts as done.
    pub async fn react(&self, channel: &str, ts: &str, name: &str) -> Result<(), SlackError> {
        let body = json!({"channel": channel, "timestamp": ts, "name": name});
        match self.call("reactions.add", &body, None).await {
            Err(SlackError::Api(code)) if code == "already_reacted" => Ok(()),
            other => other.map(drop),
        }
    }

    /// The bytes of a file a user shared (its `url_private_download`, fetched with the bot
    /// token); `None` once it passes `max` bytes. Only Slack's file host, or the API server's
    /// origin, is given the token.
    pub async fn download(&self, url: &str, max: u64) -> anyhow::Result<Option<Vec<u8>>> {
        if !download::is_trusted(url, &[FILE_HOST], &self.api) {
            anyhow::bail!("the file is not on Slack's file server");
        }
        let request = self.http.get(url).bearer_auth(self.token.expose());
        download::fetch(request, "Slack", max).await
    }

    /// Shares a file in a channel: `files.getUploadURLExternal`, the upload itself, then
    /// `files.completeUploadExternal`. Returns the file id.
    pub async fn upload(&self, upload: &Upload<'_>) -> Result<String, SlackError> {
        let response = self
            .http
            .post(format!("{}files.getUploadURLExternal", self.api))
            .bearer_auth(self.token.expose())
            .form(&[
                ("filename", upload.filename.to_owned()),
                ("length", upload.content.len().to_string()),
            ])
            .send()
            .await
            .map_err(|e| SlackError::Network(e.without_url().to_string()))?;
        let v = answer(response).await?;
        let (Some(url), Some(file_id)) = (v["upload_url"].as_str(), v["file_id"].as_str()) else {
            return Err(SlackError::Api(
                "no upload_url in files.getUploadURLExternal".into(),
            ));
        };
        let sent = self
            .http
            .post(url)
            .body(upload.content.to_vec())
            .send()
            .await
            .map_err(|e| SlackError::Network(e.without_url().to_string()))?;
        if !sent.status().is_success() {
            return Err(SlackError::Network(format!(
                "the file upload answered {}",
                sent.status()
            )));
        }
        let mut body = json!({
            "files": [{"id": file_id, "title": upload.filename}],
            "channel_id": upload.channel,
            "initial_comment": upload.comment,
        });
        if let Some(ts) = upload.thread_ts {
            body["thread_ts"] = json!(ts);
        }
        self.call("files.completeUploadExternal", &body, None)
            .await?;
        Ok(file_id.to_owned())
    }
}

/// Reads Slack's answer: 429 with `Retry-After`, 5xx, `ok: false`, or the payload.
async fn answer(response: reqwest::Response) -> Result<Value, SlackError> {
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(30);
        return Err(SlackError::RateLimited(Duration::from_secs(wait.max(1))));
    }
    if status.is_server_error() {
        return Err(SlackError::Network(format!("HTTP {status}")));
    }
    let v: Value = response
        .json()
        .await
        .map_err(|e| SlackError::Network(format!("unreadable answer: {}", e.without_url())))?;
    if v["ok"].as_bool() == Some(true) {
        return Ok(v);
    }
    let code = v["error"].as_str().unwrap_or("unknown_error");
    if code == "ratelimited" {
        return Err(SlackError::RateLimited(Duration::from_secs(30)));
    }
    Err(SlackError::Api(code.to_owned()))
}

fn message_ts(v: &Value) -> Result<String, SlackError> {
    v["ts"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| SlackError::Api("no ts in the answer".into()))
}
