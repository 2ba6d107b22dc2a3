//! A small Slack Web API client: the methods Switchboard calls, on the reqwest already in the
//! tree.
//!
//! Slack answers HTTP 200 with `{"ok": false, "error": "…"}` for most failures, and HTTP 429
//! with a `Retry-After` header when a method's rate tier is exhausted; [`SlackError`] keeps
//! those apart so the outbox can wait, retry or give up. Tokens travel only in the
//! `Authorization` header and never appear in errors.
//!
//! Answers are read into small serde structs holding only the fields used: first the envelope
//! every answer shares (`ok`, `error`), then the method's own fields. A field Slack must send and
//! did not is [`SlackError::Api`] naming the method and the field.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny};
use serde_json::{Value, json};

use crate::bots::download;
use crate::config::Secret;
use crate::domain::controls::Button;

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

/// Who the bot is in its workspace: the answer of `auth.test` (a field it lacks is empty).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlackIdentity {
    #[serde(default)]
    pub team_id: String,
    /// The bot's user id (`U…`): what a mention of it looks like (`<@U…>`).
    #[serde(default)]
    pub user_id: String,
    /// The bot id (`B…`) its own messages carry.
    #[serde(default)]
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
    fn is_on(&self, message: &ListedMessage) -> bool {
        message.bot_id.is_some()
            && message.metadata.as_ref().is_some_and(|m| {
                m.event_type == POST_EVENT
                    && m.event_payload.key == self.key
                    && m.event_payload.part == self.part
            })
    }
}

/// What every answer says: whether the call worked, and if not Slack's error code.
#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

/// `apps.connections.open`.
#[derive(Deserialize)]
struct Connection {
    url: String,
}

/// `chat.postMessage`.
#[derive(Deserialize)]
struct Posted {
    ts: String,
}

/// `conversations.replies` and `conversations.history`: a page of messages.
#[derive(Deserialize)]
struct MessagePage {
    #[serde(default)]
    messages: Vec<ListedMessage>,
    #[serde(default)]
    response_metadata: Option<ResponseMetadata>,
}

#[derive(Deserialize)]
struct ResponseMetadata {
    /// Empty on the last page.
    #[serde(default)]
    next_cursor: String,
}

/// A message as `conversations.*` lists it: what [`PostMark::is_on`] reads, and what a thread's
/// earlier messages are given to the agent with ([`ThreadMessage`]).
#[derive(Debug, Deserialize)]
struct ListedMessage {
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    text: String,
    /// Any app may attach metadata of any shape: what is not shaped like a [`PostMark`]'s is
    /// none of ours, not an unreadable page.
    #[serde(default, deserialize_with = "if_shaped")]
    metadata: Option<MarkMetadata>,
}

/// A message of a thread, as [`SlackClient::thread_before`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMessage {
    pub ts: String,
    /// The author's user id; none for an integration's post.
    pub user: Option<String>,
    /// The posting app's bot id, for a bot's message.
    pub bot_id: Option<String>,
    /// As Slack sends it, markup and all.
    pub text: String,
}

/// The metadata [`PostMark::metadata`] writes.
#[derive(Debug, Deserialize)]
struct MarkMetadata {
    event_type: String,
    event_payload: MarkPayload,
}

#[derive(Debug, Deserialize)]
struct MarkPayload {
    key: String,
    part: usize,
}

/// `files.getUploadURLExternal`.
#[derive(Deserialize)]
struct UploadTarget {
    upload_url: String,
    file_id: String,
}

/// Reads a value others shape as they like: `None` when it is not shaped as `T`.
fn if_shaped<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).ok())
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
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &Value,
        token: Option<&Secret>,
    ) -> Result<T, SlackError> {
        let token = token.unwrap_or(&self.token);
        let response = self
            .http
            .post(format!("{}{method}", self.api))
            .bearer_auth(token.expose())
            .json(body)
            .send()
            .await
            .map_err(|e| SlackError::Network(e.without_url().to_string()))?;
        answer(method, response).await
    }

    /// `auth.test`: the bot's identity.
    pub async fn auth_test(&self) -> Result<SlackIdentity, SlackError> {
        self.call("auth.test", &json!({}), None).await
    }

    /// `apps.connections.open`: a fresh Socket Mode URL (needs the app-level token).
    pub async fn open_connection(&self, app_token: &Secret) -> Result<String, SlackError> {
        let connection: Connection = self
            .call("apps.connections.open", &json!({}), Some(app_token))
            .await?;
        Ok(connection.url)
    }

    /// `chat.postMessage`: returns the new message's `ts`. `mark` goes with it as message
    /// metadata, for [`Self::find_marked`] to recognise it by.
    pub async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        buttons: &[Button],
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
        if !buttons.is_empty() {
            body["blocks"] = blocks(text, buttons);
        }
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let posted: Posted = self.call("chat.postMessage", &body, None).await?;
        Ok(posted.ts)
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
            let page: MessagePage = self.call(method, &body, None).await?;
            if let Some(found) = page.messages.into_iter().find(|m| mark.is_on(m)) {
                return Ok(found.ts);
            }
            match page.response_metadata {
                Some(meta) if !meta.next_cursor.is_empty() => {
                    body["cursor"] = json!(meta.next_cursor)
                }
                _ => return Ok(None),
            }
        }
    }

    /// The messages of the thread under `thread_ts` posted before the message `before`, oldest
    /// first (the thread's parent among them): `conversations.replies` up to `before`, every
    /// page.
    pub async fn thread_before(
        &self,
        channel: &str,
        thread_ts: &str,
        before: &str,
    ) -> Result<Vec<ThreadMessage>, SlackError> {
        let mut body = json!({
            "channel": channel,
            "ts": thread_ts,
            "latest": before,
            "inclusive": false,
            "limit": 200,
        });
        let mut messages = Vec::new();
        loop {
            let page: MessagePage = self.call("conversations.replies", &body, None).await?;
            messages.extend(page.messages.into_iter().filter_map(|m| {
                Some(ThreadMessage {
                    ts: m.ts?,
                    user: m.user,
                    bot_id: m.bot_id,
                    text: m.text,
                })
            }));
            match page.response_metadata {
                Some(meta) if !meta.next_cursor.is_empty() => {
                    body["cursor"] = json!(meta.next_cursor)
                }
                _ => return Ok(messages),
            }
        }
    }

    /// `chat.update`: replaces a message's text.
    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        buttons: &[Button],
    ) -> Result<(), SlackError> {
        // The blocks always: an update that names none keeps the message's (its buttons).
        let body =
            json!({"channel": channel, "ts": ts, "text": text, "blocks": blocks(text, buttons)});
        self.call::<IgnoredAny>("chat.update", &body, None)
            .await
            .map(drop)
    }

    /// `chat.postEphemeral`: `text` shown to `user` alone in the channel (and thread).
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        user: &str,
        text: &str,
    ) -> Result<(), SlackError> {
        let mut body = json!({"channel": channel, "user": user, "text": text});
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        self.call::<IgnoredAny>("chat.postEphemeral", &body, None)
            .await
            .map(drop)
    }

    /// `reactions.add`; a reaction already there counts as done.
    pub async fn react(&self, channel: &str, ts: &str, name: &str) -> Result<(), SlackError> {
        let body = json!({"channel": channel, "timestamp": ts, "name": name});
        match self.call::<IgnoredAny>("reactions.add", &body, None).await {
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
        let target: UploadTarget = answer("files.getUploadURLExternal", response).await?;
        let sent = self
            .http
            .post(&target.upload_url)
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
            "files": [{"id": target.file_id, "title": upload.filename}],
            "channel_id": upload.channel,
            "initial_comment": upload.comment,
        });
        if let Some(ts) = upload.thread_ts {
            body["thread_ts"] = json!(ts);
        }
        self.call::<IgnoredAny>("files.completeUploadExternal", &body, None)
            .await?;
        Ok(target.file_id)
    }
}

/// Reads Slack's answer to `method`: 429 with `Retry-After`, 5xx, `ok: false`, or the payload.
async fn answer<T: DeserializeOwned>(
    method: &str,
    response: reqwest::Response,
) -> Result<T, SlackError> {
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
    let bytes = response
        .bytes()
        .await
        .map_err(|e| SlackError::Network(format!("unreadable answer: {}", e.without_url())))?;
    read(method, &bytes)
}

/// An answer's body: the envelope first (JSON that is not shaped as one is a refusal without a
/// code), then, when it is `ok`, the method's fields.
fn read<T: DeserializeOwned>(method: &str, body: &[u8]) -> Result<T, SlackError> {
    let envelope = match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => envelope,
        Err(e) if e.is_data() => Envelope::default(),
        Err(e) => return Err(SlackError::Network(format!("unreadable answer: {e}"))),
    };
    if !envelope.ok {
        let code = envelope.error.unwrap_or_else(|| "unknown_error".into());
        if code == "ratelimited" {
            return Err(SlackError::RateLimited(Duration::from_secs(30)));
        }
        return Err(SlackError::Api(code));
    }
    serde_json::from_slice(body)
        .map_err(|e| SlackError::Api(format!("unexpected answer to {method}: {e}")))
}

/// A message's text (one part: at most a section block's 3,000 characters) in a section block,
/// and its buttons in an actions block under it. A button's `action_id` and `value` are its
/// action's id (at most 64 bytes, under Slack's 255 and 2,000).
fn blocks(text: &str, buttons: &[Button]) -> Value {
    let section = json!({"type": "section", "text": {"type": "mrkdwn", "text": text}});
    if buttons.is_empty() {
        return json!([section]);
    }
    let elements: Vec<Value> = buttons
        .iter()
        .map(|b| {
            let id = b.action.encode();
            json!({
                "type": "button",
                "text": {"type": "plain_text", "text": b.label, "emoji": true},
                "action_id": id,
                "value": id,
            })
        })
        .collect();
    json!([section, {"type": "actions", "elements": elements}])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> SlackError {
        read::<IgnoredAny>("chat.update", body.as_bytes()).expect_err("a refusal")
    }

    #[test]
    fn refusals_keep_slack_s_error_code() {
        assert_eq!(
            refusal(r#"{"ok": false, "error": "channel_not_found"}"#),
            SlackError::Api("channel_not_found".into())
        );
        assert_eq!(
            refusal(r#"{"ok": false, "error": "ratelimited"}"#),
            SlackError::RateLimited(Duration::from_secs(30))
        );
        // Without a code, or not shaped as an answer: refused, code unknown.
        for body in [r#"{"ok": false}"#, r#"{"ok": "yes"}"#, r#""ok""#] {
            assert_eq!(
                refusal(body),
                SlackError::Api("unknown_error".into()),
                "{body}"
            );
        }
        let garbled = refusal("<html>bad gateway</html>");
        assert!(
            matches!(&garbled, SlackError::Network(m) if m.starts_with("unreadable answer")),
            "{garbled:?}"
        );
        assert!(garbled.is_transient());
    }

    #[test]
    fn a_missing_field_names_the_method_and_the_field() {
        let Err(SlackError::Api(message)) = read::<Posted>("chat.postMessage", br#"{"ok": true}"#)
        else {
            panic!("a refusal");
        };
        assert!(message.contains("chat.postMessage"), "{message}");
        assert!(message.contains("`ts`"), "{message}");
        let identity: SlackIdentity = read("auth.test", br#"{"ok": true, "user_id": "U1"}"#)
            .expect("fields it lacks are empty");
        assert_eq!(
            (identity.user_id.as_str(), identity.bot_id.as_str()),
            ("U1", "")
        );
    }

    #[test]
    fn a_mark_is_found_among_other_apps_metadata() {
        let mark = PostMark {
            key: "turn:1:result",
            part: 1,
        };
        let page: MessagePage = read(
            "conversations.history",
            json!({
                "ok": true,
                "messages": [
                    {"ts": "1.1", "bot_id": "B2", "metadata": {"event_type": "deploy", "event_payload": {"key": 7}}},
                    {"ts": "1.2", "bot_id": "B2", "metadata": {"event_type": "deploy", "event_payload": "text"}},
                    {"ts": "1.3", "user": "U1", "metadata": {"event_type": POST_EVENT, "event_payload": {"key": "turn:1:result", "part": 1}}},
                    {"ts": "1.4", "bot_id": "B1", "metadata": {"event_type": POST_EVENT, "event_payload": {"key": "turn:1:result", "part": 0}}},
                    {"ts": "1.5", "bot_id": "B1", "metadata": {"event_type": POST_EVENT, "event_payload": {"key": "turn:1:result", "part": 1}}},
                    {"ts": "1.6", "bot_id": "B1"},
                ],
                "response_metadata": {"next_cursor": ""},
            })
            .to_string()
            .as_bytes(),
        )
        .expect("a page");
        let found: Vec<_> = page.messages.iter().filter(|m| mark.is_on(m)).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ts.as_deref(), Some("1.5"));
        assert!(page.response_metadata.unwrap().next_cursor.is_empty());
    }
}
