//! A small Discord REST client (API v10): the calls Switchboard makes, on the reqwest already in
//! the tree.
//!
//! Discord limits every request by its bucket (which several routes may share, named by
//! `X-RateLimit-Bucket`) and major parameter, and every bot globally (50 requests a second,
//! interaction routes exempt), and bans clients that keep calling into an exhausted bucket. So
//! the client keeps its own book ([`super::ratelimit`]): a request takes its slot before it is
//! sent, waiting for its bucket's reset (or the global second) when nothing is left, and every
//! answer's `X-RateLimit-*` headers go back into the book. A 429 (`retry_after` in fractional
//! seconds, `global` for the global limit) closes the bucket — or, when global, every route the
//! global limit counts — until it has passed, and is returned as
//! [`DiscordError::RateLimited`] so the outbox can pause the chat (or everything).
//!
//! The token travels only in the `Authorization` header and never appears in errors; interaction
//! tokens sit in paths, so errors never carry URLs (`without_url`).
//!
//! Answers are read into serde structs of the fields used ([`ErrorBody`] for refusals, the
//! payload's objects or [`Identified`] for the rest); an answer without a field it must have is
//! an error naming the route and the field.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::payload::{Channel, User};
use super::ratelimit::{Book, Headers, Limited, Route, Slot};
use crate::bots::download;
use crate::config::Secret;
use crate::domain::controls::Button;

const USER_AGENT: &str = concat!(
    "DiscordBot (https://github.com/switchboard, ",
    env!("CARGO_PKG_VERSION"),
    ")"
);
/// Discord's "A thread has already been created for this message".
pub const THREAD_ALREADY_CREATED: u64 = 160_004;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiscordError {
    /// Rate limited: wait this long (every route, when `global`).
    #[error("rate limited by Discord for {:.3}s{}", .retry_after.as_secs_f64(), if *.global { " (global)" } else { "" })]
    RateLimited { retry_after: Duration, global: bool },
    /// Discord refused: HTTP status, its JSON error code and message.
    #[error("Discord said {status}: {message} (code {code})")]
    Api {
        status: u16,
        code: u64,
        message: String,
    },
    /// No answer, or a server error.
    #[error("Discord unreachable: {0}")]
    Network(String),
}

impl DiscordError {
    /// Errors worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DiscordError::Network(_) | DiscordError::RateLimited { .. }
        )
    }

    pub fn code(&self) -> Option<u64> {
        match self {
            DiscordError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            DiscordError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload<'a> {
    pub name: &'a str,
    pub content: &'a [u8],
}

/// One request.
struct Call<'a> {
    method: Method,
    path: String,
    /// What limits it; interaction routes are not counted by the global limit.
    limited: Limited,
    /// Sends the bot token (interaction routes authenticate with their own token).
    auth: bool,
    body: Option<Value>,
    file: Option<FileUpload<'a>>,
}

impl<'a> Call<'a> {
    /// A request to `path`, an instance of `route` whose major parameter is `major`.
    fn new(method: Method, path: String, route: &'static str, major: &str) -> Call<'a> {
        Call {
            method,
            path,
            limited: Limited {
                route: Route(route),
                major: major.to_owned(),
                global: true,
            },
            auth: true,
            body: None,
            file: None,
        }
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn interaction(mut self) -> Self {
        self.limited.global = false;
        self.auth = false;
        self
    }
}

/// The body of a refusal, a 429 or another error, as Discord documents it: every field
/// optional, and a body that is no such JSON (a proxy's page, nothing) reads as empty.
#[derive(Debug, Default, PartialEq, Deserialize)]
struct ErrorBody {
    /// Fractional seconds to wait (429).
    #[serde(default)]
    retry_after: Option<f64>,
    /// Whether the global limit was hit (429).
    #[serde(default)]
    global: Option<bool>,
    /// Discord's JSON error code.
    #[serde(default)]
    code: Option<u64>,
    #[serde(default)]
    message: Option<String>,
}

impl ErrorBody {
    fn read(body: &[u8]) -> ErrorBody {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

/// An answer of which only the id is read: a message, the application.
#[derive(Deserialize)]
struct Identified {
    id: String,
}

/// `GET /gateway/bot`.
#[derive(Deserialize)]
struct GatewayBot {
    url: String,
}

/// Where Discord serves attachments.
const CDN_HOSTS: [&str; 2] = ["cdn.discordapp.com", "media.discordapp.net"];

pub struct DiscordClient {
    http: reqwest::Client,
    /// Without a trailing `/`; paths start with one.
    api: String,
    token: Secret,
    book: Mutex<Book>,
}

/// Nothing the bot posts may ping anyone.
fn no_pings() -> Value {
    json!({ "parse": [] })
}

impl DiscordClient {
    pub fn new(api_url: &str, token: Secret) -> anyhow::Result<DiscordClient> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(DiscordClient {
            http,
            api: api_url.trim_end_matches('/').to_owned(),
            token,
            book: Mutex::default(),
        })
    }

    pub fn token(&self) -> &Secret {
        &self.token
    }

    /// The bytes of an attachment a user sent (from Discord's CDN, which needs no token);
    /// `None` once it passes `max` bytes.
    pub async fn download(&self, url: &str, max: u64) -> anyhow::Result<Option<Vec<u8>>> {
        if !download::is_trusted(url, &CDN_HOSTS, &self.api) {
            anyhow::bail!("the file is not on Discord's CDN");
        }
        download::fetch(self.http.get(url), "Discord", max).await
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().expect("rate-limit book")
    }

    /// Sends a call and reads its answer as a `T`.
    async fn fetch<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, DiscordError> {
        let Route(route) = call.limited.route;
        let body = self.send(call).await?;
        serde_json::from_slice(&body).map_err(|e| bad_answer(&format!("{route}: {e}")))
    }

    /// Sends a call; a success's body, unread.
    async fn send(&self, call: Call<'_>) -> Result<Bytes, DiscordError> {
        let slot = loop {
            let taken = self.book().acquire(&call.limited, Instant::now());
            match taken {
                Ok(slot) => break slot,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        };
        let in_flight = InFlight {
            client: self,
            limited: &call.limited,
            slot: Some(slot),
        };
        let mut request = self
            .http
            .request(call.method.clone(), format!("{}{}", self.api, call.path));
        if call.auth {
            request = request.header(
                reqwest::header::AUTHORIZATION,
                format!("Bot {}", self.token.expose()),
            );
        }
        request = match (&call.file, &call.body) {
            (Some(file), body) => {
                let (content_type, bytes) = multipart(body.as_ref().unwrap_or(&Value::Null), file);
                request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(bytes)
            }
            (None, Some(body)) => request.json(body),
            (None, None) => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| DiscordError::Network(e.without_url().to_string()))?;
        in_flight.answered(&Headers {
            bucket: header(&response, "x-ratelimit-bucket"),
            remaining: header(&response, "x-ratelimit-remaining").and_then(|v| v.parse().ok()),
            reset_after: header(&response, "x-ratelimit-reset-after").and_then(|v| seconds(&v)),
        });
        self.read(&call.limited, response).await
    }

    /// Reads an answer's status and body; a 429 closes what it names in the book.
    async fn read(
        &self,
        limited: &Limited,
        response: reqwest::Response,
    ) -> Result<Bytes, DiscordError> {
        let status = response.status();
        let retry_header = header(&response, "retry-after").and_then(|v| seconds(&v));
        let global_header = header(&response, "x-ratelimit-global").is_some_and(|v| v == "true");
        let bytes = response
            .bytes()
            .await
            .map_err(|e| DiscordError::Network(e.without_url().to_string()))?;
        if status.is_success() {
            return Ok(bytes);
        }
        let body = ErrorBody::read(&bytes);
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = body
                .retry_after
                .and_then(duration)
                .or(retry_header)
                .unwrap_or(Duration::from_secs(5));
            let global = body.global.unwrap_or(global_header);
            self.book()
                .refused(limited, retry_after, global, Instant::now());
            return Err(DiscordError::RateLimited {
                retry_after,
                global,
            });
        }
        if status.is_server_error() {
            return Err(DiscordError::Network(format!("HTTP {status}")));
        }
        Err(DiscordError::Api {
            status: status.as_u16(),
            code: body.code.unwrap_or(0),
            message: body.message.unwrap_or_else(|| "no message".into()),
        })
    }

    /// `GET /users/@me`: the bot user.
    pub async fn current_user(&self) -> Result<User, DiscordError> {
        self.fetch(Call::new(
            Method::GET,
            "/users/@me".into(),
            "GET /users/@me",
            "",
        ))
        .await
    }

    /// `GET /applications/@me`: the application's id.
    pub async fn application_id(&self) -> Result<String, DiscordError> {
        let application: Identified = self
            .fetch(Call::new(
                Method::GET,
                "/applications/@me".into(),
                "GET /applications/@me",
                "",
            ))
            .await?;
        Ok(application.id)
    }

    /// `GET /gateway/bot`: where to connect.
    pub async fn gateway_url(&self) -> Result<String, DiscordError> {
        let gateway: GatewayBot = self
            .fetch(Call::new(
                Method::GET,
                "/gateway/bot".into(),
                "GET /gateway/bot",
                "",
            ))
            .await?;
        Ok(gateway.url)
    }

    /// `GET /channels/{id}`.
    pub async fn channel(&self, id: &str) -> Result<Channel, DiscordError> {
        self.fetch(Call::new(
            Method::GET,
            format!("/channels/{id}"),
            "GET /channels/{channel}",
            id,
        ))
        .await
    }

    /// `POST /channels/{id}/messages`: returns the new message's id. `reply_to` must be in the
    /// same channel; a reply whose target is gone is sent as a plain message. The `nonce` (at
    /// most 25 characters) is enforced: if the bot created a message with the same nonce in the
    /// past few minutes, Discord returns that message instead of creating another, so a send
    /// repeated after a lost answer does not show twice.
    pub async fn create_message(
        &self,
        channel: &str,
        content: &str,
        reply_to: Option<&str>,
        file: Option<FileUpload<'_>>,
        buttons: &[Button],
        nonce: &str,
    ) -> Result<String, DiscordError> {
        let mut body = json!({
            "content": content,
            "allowed_mentions": no_pings(),
            "nonce": nonce,
            "enforce_nonce": true,
        });
        if !buttons.is_empty() {
            body["components"] = components(buttons);
        }
        if let Some(message) = reply_to {
            body["message_reference"] = json!({
                "message_id": message,
                "fail_if_not_exists": false,
            });
        }
        if file.is_some() {
            body["attachments"] = json!([{ "id": 0, "filename": file.as_ref().map(|f| f.name) }]);
        }
        let mut call = Call::new(
            Method::POST,
            format!("/channels/{channel}/messages"),
            "POST /channels/{channel}/messages",
            channel,
        )
        .json(body);
        call.file = file;
        let message: Identified = self.fetch(call).await?;
        Ok(message.id)
    }

    /// `PATCH /channels/{id}/messages/{id}`: replaces a message's content.
    pub async fn edit_message(
        &self,
        channel: &str,
        message: &str,
        content: &str,
        buttons: &[Button],
    ) -> Result<(), DiscordError> {
        // The components always: none removes the message's buttons.
        let body = json!({
            "content": content,
            "allowed_mentions": no_pings(),
            "components": components(buttons),
        });
        self.send(
            Call::new(
                Method::PATCH,
                format!("/channels/{channel}/messages/{message}"),
                "PATCH /channels/{channel}/messages/{message}",
                channel,
            )
            .json(body),
        )
        .await
        .map(drop)
    }

    /// `PUT /channels/{id}/messages/{id}/reactions/{emoji}/@me` (a reaction already there is
    /// fine: Discord answers 204 again).
    pub async fn react(
        &self,
        channel: &str,
        message: &str,
        emoji: &str,
    ) -> Result<(), DiscordError> {
        let emoji = percent_encode(emoji);
        self.send(Call::new(
            Method::PUT,
            format!("/channels/{channel}/messages/{message}/reactions/{emoji}/@me"),
            "PUT /channels/{channel}/messages/{message}/reactions/{emoji}/@me",
            channel,
        ))
        .await
        .map(drop)
    }

    /// `POST /channels/{id}/typing`: "typing…" for ten seconds or until the next message.
    pub async fn typing(&self, channel: &str) -> Result<(), DiscordError> {
        self.send(Call::new(
            Method::POST,
            format!("/channels/{channel}/typing"),
            "POST /channels/{channel}/typing",
            channel,
        ))
        .await
        .map(drop)
    }

    /// `POST /channels/{id}/messages/{id}/threads`: a public thread under a message (its id is
    /// the message's).
    pub async fn start_thread(
        &self,
        channel: &str,
        message: &str,
        name: &str,
    ) -> Result<(), DiscordError> {
        let body = json!({ "name": name, "auto_archive_duration": 10080 });
        self.send(
            Call::new(
                Method::POST,
                format!("/channels/{channel}/messages/{message}/threads"),
                "POST /channels/{channel}/messages/{message}/threads",
                channel,
            )
            .json(body),
        )
        .await
        .map(drop)
    }

    /// `PUT /applications/{app}/commands` or `…/guilds/{guild}/commands`: replaces the
    /// registered commands with `commands`.
    pub async fn overwrite_commands(
        &self,
        application: &str,
        guild: Option<&str>,
        commands: &Value,
    ) -> Result<(), DiscordError> {
        let (path, route, major) = match guild {
            Some(guild) => (
                format!("/applications/{application}/guilds/{guild}/commands"),
                "PUT /applications/{application}/guilds/{guild}/commands",
                guild,
            ),
            None => (
                format!("/applications/{application}/commands"),
                "PUT /applications/{application}/commands",
                application,
            ),
        };
        self.send(Call::new(Method::PUT, path, route, major).json(commands.clone()))
            .await
            .map(drop)
    }

    /// `POST /interactions/{id}/{token}/callback` with a deferred response: for a slash command
    /// "thinking…", to be filled by [`Self::edit_original`] or a follow-up; for a button press
    /// the message stays as it is (the outbox edits it), and what the press did follows
    /// ([`Self::ephemeral_followup`]).
    pub async fn defer_interaction(
        &self,
        id: &str,
        token: &str,
        deferral: Deferral,
    ) -> Result<(), DiscordError> {
        let kind = match deferral {
            Deferral::Thinking => 5,
            Deferral::Update => 6,
        };
        self.send(
            Call::new(
                Method::POST,
                format!("/interactions/{id}/{token}/callback"),
                "POST /interactions/{interaction}/{token}/callback",
                id,
            )
            .json(json!({ "type": kind }))
            .interaction(),
        )
        .await
        .map(drop)
    }

    /// `PATCH /webhooks/{app}/{token}/messages/@original`: the interaction's answer.
    pub async fn edit_original(
        &self,
        application: &str,
        token: &str,
        content: &str,
        file: Option<FileUpload<'_>>,
    ) -> Result<String, DiscordError> {
        let path = format!("/webhooks/{application}/{token}/messages/@original");
        let route = "PATCH /webhooks/{application}/{token}/messages/@original";
        self.webhook_message(Method::PATCH, (path, route), token, content, file)
            .await
    }

    /// `POST /webhooks/{app}/{token}`: a follow-up message to an interaction.
    pub async fn followup(
        &self,
        application: &str,
        token: &str,
        content: &str,
        file: Option<FileUpload<'_>>,
    ) -> Result<String, DiscordError> {
        let path = format!("/webhooks/{application}/{token}");
        let route = "POST /webhooks/{application}/{token}";
        self.webhook_message(Method::POST, (path, route), token, content, file)
            .await
    }

    /// `POST /webhooks/{app}/{token}` with the ephemeral flag: `content` for who interacted alone.
    pub async fn ephemeral_followup(
        &self,
        application: &str,
        token: &str,
        content: &str,
    ) -> Result<(), DiscordError> {
        let body =
            json!({ "content": content, "flags": EPHEMERAL, "allowed_mentions": no_pings() });
        let call = Call::new(
            Method::POST,
            format!("/webhooks/{application}/{token}"),
            "POST /webhooks/{application}/{token}",
            token,
        )
        .json(body)
        .interaction();
        self.send(call).await.map(drop)
    }

    /// A message through an interaction's webhook (`path`, an instance of `route`), with an
    /// optional file.
    async fn webhook_message(
        &self,
        method: Method,
        (path, route): (String, &'static str),
        token: &str,
        content: &str,
        file: Option<FileUpload<'_>>,
    ) -> Result<String, DiscordError> {
        let mut body = json!({ "content": content, "allowed_mentions": no_pings() });
        if let Some(f) = &file {
            body["attachments"] = json!([{ "id": 0, "filename": f.name }]);
        }
        let mut call = Call::new(method, path, route, token)
            .json(body)
            .interaction();
        call.file = file;
        let message: Identified = self.fetch(call).await?;
        Ok(message.id)
    }
}

/// A request's slot in the book, given back with its answer's headers — or without, when no
/// answer came or the call was dropped on the way.
struct InFlight<'a> {
    client: &'a DiscordClient,
    limited: &'a Limited,
    slot: Option<Slot>,
}

impl InFlight<'_> {
    fn answered(mut self, headers: &Headers) {
        if let Some(slot) = self.slot.take() {
            self.client
                .book()
                .answered(self.limited, slot, Some(headers), Instant::now());
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.client
                .book()
                .answered(self.limited, slot, None, Instant::now());
        }
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn bad_answer(what: &str) -> DiscordError {
    DiscordError::Network(format!("unexpected answer: {what}"))
}

/// Fractional seconds as Discord writes them (`"1.234"`).
fn seconds(text: &str) -> Option<Duration> {
    text.trim().parse::<f64>().ok().and_then(duration)
}

/// The longest wait an answer may impose; a larger figure (a fault, or worse) waits this long.
const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Seconds as a wait: none when negative or not a number, at most [`LONGEST_WAIT`].
fn duration(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| {
        Duration::try_from_secs_f64(secs)
            .unwrap_or(LONGEST_WAIT)
            .min(LONGEST_WAIT)
    })
}

/// Percent-encodes an emoji for a path segment.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `multipart/form-data` body of `payload_json` and `files[0]`, as Discord takes uploads.
fn multipart(payload: &Value, file: &FileUpload<'_>) -> (String, Vec<u8>) {
    let boundary = format!("switchboard-{}", uuid::Uuid::new_v4().simple());
    let mut out = Vec::with_capacity(file.content.len() + 512);
    let name = file.name.replace(['"', '\r', '\n'], "_");
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\
             Content-Type: application/json\r\n\r\n{payload}\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files[0]\"; \
             filename=\"{name}\"\r\nContent-Type: text/markdown; charset=utf-8\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(file.content);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// How an interaction is acknowledged before its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    /// A slash command: "thinking…" (type 5).
    Thinking,
    /// A button press: the message is left as it is (type 6).
    Update,
}

/// A message's EPHEMERAL flag: shown to who interacted alone.
const EPHEMERAL: u64 = 1 << 6;

/// Buttons as message components: one action row (type 1) of secondary buttons (type 2, style
/// 2), each `custom_id` its action's id (at most 64 characters, under Discord's 100).
fn components(buttons: &[Button]) -> Value {
    if buttons.is_empty() {
        return json!([]);
    }
    let row: Vec<Value> = buttons
        .iter()
        .map(|b| json!({"type": 2, "style": 2, "label": b.label, "custom_id": b.action.encode()}))
        .collect();
    json!([{ "type": 1, "components": row }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_encoded_for_paths() {
        assert_eq!(percent_encode("👀"), "%F0%9F%91%80");
        assert_eq!(percent_encode("name:123"), "name:123");
    }

    #[test]
    fn retry_after_is_fractional_seconds() {
        assert_eq!(seconds("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(seconds("64.57"), Some(Duration::from_secs_f64(64.57)));
        assert_eq!(seconds("-1"), None);
        assert_eq!(seconds("soon"), None);
        assert_eq!(seconds("NaN"), None);
        // Figures no clock can add are a day's wait, not a panic.
        assert_eq!(seconds("1e300"), Some(LONGEST_WAIT));
        assert_eq!(duration(f64::MAX), Some(LONGEST_WAIT));
        assert_eq!(duration(90_000.0), Some(LONGEST_WAIT));
    }

    #[test]
    fn the_429_fixtures_read_as_discord_means_them() {
        for (file, global) in [
            ("rest_429_user.json", false),
            ("rest_429_shared.json", false),
            ("rest_429_global.json", true),
        ] {
            let path = format!(
                "{}/tests/fixtures/discord/{file}",
                env!("CARGO_MANIFEST_DIR")
            );
            let body = ErrorBody::read(&std::fs::read(path).unwrap());
            assert!(body.retry_after.unwrap() > 60.0, "{file}");
            assert_eq!(body.global, Some(global), "{file}");
        }
    }

    #[test]
    fn error_bodies_read_what_they_carry() {
        let body = ErrorBody::read(br#"{"message": "Unknown Channel", "code": 10003}"#);
        assert_eq!(body.code, Some(10003));
        assert_eq!(body.message.as_deref(), Some("Unknown Channel"));
        assert_eq!(body.retry_after, None);
        // A whole-number wait is seconds too.
        assert_eq!(
            ErrorBody::read(br#"{"retry_after": 2}"#).retry_after,
            Some(2.0)
        );
        // Nothing, or a page that is not Discord's: nothing known.
        for unreadable in [&b""[..], b"<html>502</html>", b"true", br#"{"code": "x"}"#] {
            assert_eq!(ErrorBody::read(unreadable), ErrorBody::default());
        }
    }

    #[test]
    fn uploads_are_payload_json_plus_files_0() {
        let (content_type, body) = multipart(
            &json!({"content": "x"}),
            &FileUpload {
                name: "answer.md",
                content: b"# hi",
            },
        );
        let boundary = content_type.split("boundary=").nth(1).unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"payload_json\""));
        assert!(text.contains("{\"content\":\"x\"}"));
        assert!(text.contains("name=\"files[0]\"; filename=\"answer.md\""));
        assert!(text.ends_with(&format!("# hi\r\n--{boundary}--\r\n")));
    }
}
