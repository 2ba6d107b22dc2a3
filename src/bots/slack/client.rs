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

/// What identifies one part of one post on Slack, carried as the message's metadata
/// (`event_type` and `event_payload`, as Slack documents them): the outbox key and the part's
/// index. Slack has no idempotency key; this lets the outlet find a message Slack accepted
/// though its answer was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostMark<'a> {
    pub key: &'a str,
    pub part: usize,
}

/// The metadata event type of the bot's posts.
const POST_EVENT: &str = "switchboard_post";

impl PostMark<'_> {
    fn metadata(&self) -> Value {
        json!({
            "event_type": POST_EVENT,
            "event_payload": { "key": self.key, "part": self.part },
        })
    }

    /// Whether a message from `conversations.*` is a bot's and carries this mark.
    fn is_on(&self, message: &Value) -> bool {
        let metadata = &message["metadata"];
        message["bot_id"].is_string()
            && metadata["event_type"] == POST_EVENT
            && metadata["event_payload"]["key"] == self.key
            && metadata["event_payload"]["part"] == self.part
    }
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

    /// `chat.postMessage`: returns the new message's `ts`. `mark` goes with it as message
    /// metadata, for [`Self::find_marked`] to recognise it by.
    pub async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        mark: &PostMark<'_>,
    ) -> Result<String, SlackError> {
        let mut body = json!({
            "channel": channel,
            "text": text,
            "mrkdwn": true,
            "unfurl_links": false,
            "unfurl_media": false,
            "metadata": mark.metadata(),
        });
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let v = self.call("chat.postMessage", &body, None).await?;
        message_ts(&v)
    }

    /// The `ts` of a bot message carrying `mark` in the thread (or, without `thread_ts`, in the
    /// conversation's top level) posted since `since_ms` (Unix ms, less a minute against clock
    /// skew): `conversations.replies` or `conversations.history` with `include_all_metadata`,
    /// newest pages first until the range is read.
    pub async fn find_marked(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        since_ms: i64,
        mark: &PostMark<'_>,
    ) -> Result<Option<String>, SlackError> {
        let oldest = since_ms.saturating_sub(60_000).max(0);
        let mut body = json!({
            "channel": channel,
            "oldest": format!("{}.{:03}000", oldest / 1000, oldest % 1000),
            "include_all_metadata": true,
            "limit": 200,
        });
        let method = match thread_ts {
            Some(ts) => {
                body["ts"] = json!(ts);
                "conversations.replies"
            }
            None => "conversations.history",
        };
        loop {
            let v = self.call(method, &body, None).await?;
            let messages = v["messages"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            if let Some(found) = messages.iter().find(|m| mark.is_on(m)) {
                return Ok(found["ts"].as_str().map(str::to_owned));
            }
            match v["response_metadata"]["next_cursor"].as_str() {
                Some(cursor) if !cursor.is_empty() => body["cursor"] = json!(cursor),
                _ => return Ok(None),
            }
        }
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
