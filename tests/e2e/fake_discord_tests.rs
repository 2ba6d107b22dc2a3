//! Proves the fake Discord against raw HTTP (reqwest) and a raw WebSocket
//! client (tokio-tungstenite), and its payloads against the real ones in
//! `tests/fixtures/discord/`, so the project's Discord tests can trust it.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::support::fake_discord::{
    BucketLimit, FakeChannel, FakeDiscord, FakeDiscordConfig, FakeGuild, FakeUser,
    HandshakeOutcome, RouteKind, RouteLimits, UserMessage, ViolationKind,
};

const T: Duration = Duration::from_secs(5);
const GUILDS: u64 = 1;
const GUILD_MESSAGES: u64 = 1 << 9;
const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
const DIRECT_MESSAGES: u64 = 1 << 12;
const MESSAGE_CONTENT: u64 = 1 << 15;

// ---- Helpers -----------------------------------------------------------------

struct World {
    fake: FakeDiscord,
    guild: FakeGuild,
    general: FakeChannel,
    alice: FakeUser,
}

async fn world(config: FakeDiscordConfig) -> World {
    let fake = FakeDiscord::start(config).await;
    let guild = fake.guild("Switchboard HQ");
    let general = fake.text_channel(&guild, "general");
    let alice = fake.user("alice");
    World {
        fake,
        guild,
        general,
        alice,
    }
}

async fn unlimited() -> World {
    world(FakeDiscordConfig::without_rate_limits()).await
}

fn req(fake: &FakeDiscord, method: Method, path: &str) -> RequestBuilder {
    Client::new()
        .request(method, format!("{}{path}", fake.api_url()))
        .header("authorization", format!("Bot {}", fake.token()))
}

async fn call(fake: &FakeDiscord, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = req(fake, method, path);
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.expect("request")).await
}

async fn read(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    (status, v)
}

async fn post_message(fake: &FakeDiscord, channel: &str, content: &str) -> (u16, Value) {
    call(
        fake,
        Method::POST,
        &format!("/channels/{channel}/messages"),
        Some(json!({ "content": content })),
    )
    .await
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw gateway client.
struct Gw {
    ws: Ws,
}

impl Gw {
    async fn connect(url: &str) -> Self {
        let (ws, _) = connect_async(format!("{url}/?v=10&encoding=json"))
            .await
            .expect("gateway connect");
        let mut gw = Self { ws };
        let hello = gw.recv().await;
        assert_eq!(hello["op"], 10, "{hello}");
        gw
    }

    async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send");
    }

    /// The next text frame; panics on close or timeout.
    async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(T, self.ws.next())
                .await
                .expect("a gateway frame in time")
                .expect("the connection is open")
                .expect("a frame");
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON"),
                Message::Close(f) => panic!("closed: {f:?}"),
                _ => {}
            }
        }
    }

    /// The next dispatch named `t` (skipping others).
    async fn dispatch(&mut self, t: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["op"] == 0 && v["t"] == t {
                return v;
            }
        }
    }

    /// How the connection ends: `Some(code)` for a close frame, `None`
    /// when it was dropped.
    async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(T, self.ws.next())
                .await
                .expect("closes in time")
            {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    async fn identify(&mut self, token: &str, intents: u64) {
        self.send(json!({"op": 2, "d": {
            "token": token, "intents": intents,
            "properties": {"os": "linux", "browser": "switchboard", "device": "switchboard"}
        }}))
        .await;
    }

    /// IDENTIFY and READY; returns READY's `d`.
    async fn ready(url: &str, fake: &FakeDiscord, intents: u64) -> (Self, Value) {
        let mut gw = Self::connect(url).await;
        gw.identify(&fake.token(), intents).await;
        let ready = gw.recv().await;
        assert_eq!(
            (ready["t"].as_str(), ready["s"].as_u64()),
            (Some("READY"), Some(1))
        );
        (gw, ready["d"].clone())
    }
}

// ---- REST ----------------------------------------------------------------------

#[tokio::test]
async fn fake_discord_rest_auth_identity_and_gateway_info() {
    let w = unlimited().await;
    let fake = &w.fake;
    let url = format!("{}/users/@me", fake.api_url());
    let (status, body) = read(Client::new().get(&url).send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (401, json!({"message": "401: Unauthorized", "code": 0}))
    );
    let res = Client::new()
        .get(&url)
        .header("authorization", "Bot nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = Client::new()
        .get(&url)
        .header("authorization", fake.token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the Bot prefix is required");

    let (status, me) = call(fake, Method::GET, "/users/@me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], fake.application_id());
    assert_eq!(me["bot"], true);
    for path in ["/oauth2/applications/@me", "/applications/@me"] {
        let (status, app) = call(fake, Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(app["id"], fake.application_id());
        assert_eq!(app["bot"]["id"], fake.application_id());
        assert_eq!(
            app["flags"].as_u64().unwrap() & (1 << 19),
            1 << 19,
            "message content toggle"
        );
    }

    // GET /gateway needs no token; /gateway/bot does.
    let (status, g) = read(
        Client::new()
            .get(format!("{}/gateway", fake.api_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, g), (200, json!({"url": fake.gateway_url()})));
    let res = req(fake, Method::GET, "/gateway/bot").send().await.unwrap();
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(res.headers().contains_key(h), "{h} on every answer");
    }
    let (_, gb) = read(res).await;
    assert_eq!(gb["url"], fake.gateway_url());
    assert_eq!(gb["shards"], 1);
    assert_eq!(
        keys(&gb["session_start_limit"]),
        ["max_concurrency", "remaining", "reset_after", "total"]
            .map(String::from)
            .into()
    );

    let (status, body) = call(fake, Method::GET, "/nonsense", None).await;
    assert_eq!(
        (status, body),
        (404, json!({"message": "404: Not Found", "code": 0}))
    );
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.path == "/users/@me" && c.status == 401)
    );
}

#[tokio::test]
async fn fake_discord_create_message_shapes_and_errors() {
    let w = unlimited().await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let (status, m) = post_message(fake, ch, "hello").await;
    assert_eq!(status, 200);
    assert_eq!(
        (m["content"].as_str(), m["type"].as_u64()),
        (Some("hello"), Some(0))
    );
    assert_eq!(m["channel_id"], *ch);
    assert_eq!(m["author"]["id"], fake.application_id());
    assert!(
        m.get("guild_id").is_none() && m.get("member").is_none(),
        "REST messages have no gateway extras"
    );
    assert!(m["timestamp"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(m["edited_timestamp"], Value::Null);

    let exactly = "x".repeat(2000);
    assert_eq!(post_message(fake, ch, &exactly).await.0, 200);
    let (status, body) = post_message(fake, ch, &"é".repeat(2001)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}})
    );
    let (status, body) = post_message(fake, ch, "").await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"message": "Cannot send an empty message", "code": 50006})
        )
    );
    let (status, body) = call(
        fake,
        Method::POST,
        &format!("/channels/{ch}/messages"),
        Some(json!({})),
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50006)));
    let (status, body) = post_message(fake, "1234", "hi").await;
    assert_eq!(
        (status, body),
        (404, json!({"message": "Unknown Channel", "code": 10003}))
    );
    let (status, body) = post_message(fake, "general", "hi").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["channel_id"]["_errors"][0]["code"],
        "NUMBER_TYPE_COERCE"
    );

    // Replies.
    let said = fake.user_says(&w.general, &w.alice, "question?");
    let (status, r) = call(fake, Method::POST, &format!("/channels/{ch}/messages"), Some(json!({
        "content": "answer", "message_reference": {"message_id": said.id, "fail_if_not_exists": true}
    }))).await;
    assert_eq!(status, 200);
    assert_eq!(r["type"], 19);
    assert_eq!(r["message_reference"]["message_id"], said.id);
    assert_eq!(r["referenced_message"]["content"], "question?");
    assert_eq!(
        fake.message(r["id"].as_str().unwrap())
            .unwrap()
            .reply_to
            .as_deref(),
        Some(said.id.as_str())
    );
    let (status, body) = call(
        fake,
        Method::POST,
        &format!("/channels/{ch}/messages"),
        Some(json!({
            "content": "answer", "message_reference": {"message_id": "1"}
        })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["message_reference"]["_errors"][0]["code"],
        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
    );
    let (status, r) = call(fake, Method::POST, &format!("/channels/{ch}/messages"), Some(json!({
        "content": "answer", "message_reference": {"message_id": "1", "fail_if_not_exists": false}
    }))).await;
    assert_eq!((status, r["type"].as_u64()), (200, Some(0)));

    fake.deny_access(&w.general);
    let (status, body) = post_message(fake, ch, "hi").await;
    assert_eq!(
        (status, body),
        (403, json!({"message": "Missing Access", "code": 50001}))
    );
    assert_eq!(fake.bot_messages(&w.general).len(), 4);
}

#[tokio::test]
async fn fake_discord_edits_keep_every_content_version() {
    let w = unlimited().await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let (_, m) = post_message(fake, ch, "working…").await;
    let id = m["id"].as_str().unwrap();
    let path = format!("/channels/{ch}/messages/{id}");
    for text in ["step 1", "done"] {
        let (status, e) = call(fake, Method::PATCH, &path, Some(json!({"content": text}))).await;
        assert_eq!((status, e["content"].as_str()), (200, Some(text)));
        assert!(e["edited_timestamp"].is_string());
    }
    let state = fake.message(id).unwrap();
    let versions: Vec<&str> = state.versions.iter().map(|v| v.content.as_str()).collect();
    assert_eq!(versions, ["working…", "step 1", "done"]);
    assert_eq!(state.edits(), 2);
    assert!(state.edited_at.is_some());

    let (status, body) = call(fake, Method::PATCH, &path, Some(json!({"content": ""}))).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50006)));
    let (status, body) = call(
        fake,
        Method::PATCH,
        &path,
        Some(json!({"content": "y".repeat(2001)})),
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50035)));
    let said = fake.user_says(&w.general, &w.alice, "mine");
    let (status, body) = call(
        fake,
        Method::PATCH,
        &format!("/channels/{ch}/messages/{}", said.id),
        Some(json!({"content": "x"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"message": "Cannot edit a message authored by another user", "code": 50005})
        )
    );
    let (status, body) = call(
        fake,
        Method::PATCH,
        &format!("/channels/{ch}/messages/42"),
        Some(json!({"content": "x"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (404, json!({"message": "Unknown Message", "code": 10008}))
    );
    let (status, _) = call(fake, Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    assert!(fake.message(id).unwrap().deleted);
    let (status, body) = call(fake, Method::PATCH, &path, Some(json!({"content": "x"}))).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10008)));
}

#[tokio::test]
async fn fake_discord_multipart_attachments_and_upload_limit() {
    let config = FakeDiscordConfig {
        max_upload_bytes: 1024,
        ..FakeDiscordConfig::without_rate_limits()
    };
    let w = world(config).await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let png = vec![0x89u8, b'P', b'N', b'G', 1, 2, 3];
    let form = reqwest::multipart::Form::new()
        .text(
            "payload_json",
            json!({"content": "screenshot", "attachments": [{"id": 0, "filename": "shot.png"}]})
                .to_string(),
        )
        .part(
            "files[0]",
            reqwest::multipart::Part::bytes(png.clone())
                .file_name("shot.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let (status, m) = read(
        req(fake, Method::POST, &format!("/channels/{ch}/messages"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["attachments"][0]["filename"], "shot.png");
    assert_eq!(m["attachments"][0]["size"], png.len());
    let stored = fake.message(m["id"].as_str().unwrap()).unwrap();
    assert_eq!(stored.attachments[0].bytes.as_ref(), png.as_slice());
    assert_eq!(
        stored.attachments[0].content_type.as_deref(),
        Some("image/png")
    );

    // A file alone is not an empty message.
    let form = reqwest::multipart::Form::new()
        .text("payload_json", "{}")
        .part(
            "files[0]",
            reqwest::multipart::Part::bytes(b"diff".to_vec()).file_name("a.diff"),
        );
    let (status, _) = read(
        req(fake, Method::POST, &format!("/channels/{ch}/messages"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    let form = reqwest::multipart::Form::new()
        .text("payload_json", "{}")
        .part(
            "files[0]",
            reqwest::multipart::Part::bytes(vec![0u8; 1025]).file_name("big.bin"),
        );
    let (status, body) = read(
        req(fake, Method::POST, &format!("/channels/{ch}/messages"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            413,
            json!({"message": "Request entity too large", "code": 40005})
        )
    );
}

#[tokio::test]
async fn fake_discord_threads_from_messages() {
    let w = unlimited().await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let said = fake.user_says(&w.general, &w.alice, "please fix the build");
    let path = format!("/channels/{ch}/messages/{}/threads", said.id);
    let (status, t) = call(
        fake,
        Method::POST,
        &path,
        Some(json!({"name": "fix the build", "auto_archive_duration": 1440})),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["type"], 11);
    assert_eq!(
        t["id"], said.id,
        "a thread's id is its starter message's id"
    );
    assert_eq!(t["parent_id"], *ch);
    assert_eq!(t["guild_id"], w.guild.id);
    assert_eq!(t["owner_id"], fake.application_id());
    assert_eq!(t["thread_metadata"]["auto_archive_duration"], 1440);
    let threads = fake.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].from_message.as_deref(), Some(said.id.as_str()));
    assert!(threads[0].by_bot);
    let starter = fake.message(&said.id).unwrap();
    assert_eq!(starter.thread_id.as_deref(), Some(said.id.as_str()));

    let (status, body) = call(fake, Method::POST, &path, Some(json!({"name": "again"}))).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"message": "A thread has already been created for this message", "code": 160004})
        )
    );
    let other = fake.user_says(&w.general, &w.alice, "another");
    let other_path = format!("/channels/{ch}/messages/{}/threads", other.id);
    let (status, body) = call(
        fake,
        Method::POST,
        &other_path,
        Some(json!({"name": "n".repeat(101)})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["name"]["_errors"][0]["code"],
        "BASE_TYPE_BAD_LENGTH"
    );
    let (status, body) = call(fake, Method::POST, &other_path, Some(json!({}))).await;
    assert_eq!(
        (
            status,
            body["errors"]["name"]["_errors"][0]["code"].as_str()
        ),
        (400, Some("BASE_TYPE_REQUIRED"))
    );

    // Inside the thread: messages carry the thread's id; the thread opens
    // with a THREAD_STARTER_MESSAGE pointing at the parent's message.
    let thread = threads[0].channel.clone();
    let reply = fake.user_says(&thread, &w.alice, "more details");
    assert_eq!(reply.channel_id, thread.id);
    let (status, list) = call(
        fake,
        Method::GET,
        &format!("/channels/{}/messages", thread.id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let types: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_u64().unwrap())
        .collect();
    assert_eq!(types, [0, 21], "newest first, starter last");
    assert_eq!(list[1]["message_reference"]["message_id"], said.id);
    assert_eq!(
        list[1]["referenced_message"]["content"],
        "please fix the build"
    );
    let (status, body) = call(
        fake,
        Method::POST,
        &format!("/channels/{}/messages/{}/threads", thread.id, reply.id),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50024)));
    let (status, got) = call(fake, Method::GET, &format!("/channels/{}", thread.id), None).await;
    assert_eq!((status, got["type"].as_u64()), (200, Some(11)));
}

#[tokio::test]
async fn fake_discord_typing_reactions_and_channels() {
    let w = unlimited().await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let (status, _) = call(fake, Method::POST, &format!("/channels/{ch}/typing"), None).await;
    assert_eq!(status, 204);
    assert_eq!(fake.typing_calls(&w.general).len(), 1);

    let said = fake.user_says(&w.general, &w.alice, "hi");
    let base = format!("/channels/{ch}/messages/{}/reactions", said.id);
    let (status, _) = call(fake, Method::PUT, &format!("{base}/%F0%9F%91%80/@me"), None).await;
    assert_eq!(status, 204);
    let r = fake.reactions(&w.general, &said.id);
    assert_eq!(
        (r.len(), r[0].emoji.as_str(), r[0].user_id.clone()),
        (1, "👀", fake.application_id())
    );
    let (status, _) = call(fake, Method::PUT, &format!("{base}/%E2%9C%85/@me"), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(
        fake,
        Method::DELETE,
        &format!("{base}/%F0%9F%91%80/@me"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let emoji: Vec<String> = fake
        .reactions(&w.general, &said.id)
        .into_iter()
        .map(|r| r.emoji)
        .collect();
    assert_eq!(emoji, ["✅"]);
    let (status, body) = call(fake, Method::PUT, &format!("{base}/thumbsup/@me"), None).await;
    assert_eq!(
        (status, body),
        (400, json!({"message": "Unknown Emoji", "code": 10014}))
    );
    let (status, body) = call(
        fake,
        Method::PUT,
        &format!("/channels/{ch}/messages/7/reactions/%E2%9C%85/@me"),
        None,
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10008)));

    let (status, c) = call(fake, Method::GET, &format!("/channels/{ch}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (c["type"].as_u64(), c["name"].as_str()),
        (Some(0), Some("general"))
    );
    assert_eq!(c["guild_id"], w.guild.id);
    let dm = fake.dm_channel(&w.alice);
    let (_, d) = call(fake, Method::GET, &format!("/channels/{}", dm.id), None).await;
    assert_eq!(d["type"], 1);
    assert_eq!(d["recipients"][0]["id"], w.alice.id);
    assert!(d.get("guild_id").is_none());
    let (status, body) = call(fake, Method::GET, "/channels/99", None).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10003)));
}

#[tokio::test]
async fn fake_discord_lists_messages_newest_first() {
    let w = unlimited().await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let ids: Vec<String> = (0..5)
        .map(|i| fake.user_says(&w.general, &w.alice, &format!("m{i}")).id)
        .collect();
    let list = |q: String| async move {
        call(
            fake,
            Method::GET,
            &format!("/channels/{ch}/messages{q}"),
            None,
        )
        .await
    };
    let contents = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, all) = list(String::new()).await;
    assert_eq!(contents(&all), ["m4", "m3", "m2", "m1", "m0"]);
    let (_, two) = list("?limit=2".into()).await;
    assert_eq!(contents(&two), ["m4", "m3"]);
    let (_, after) = list(format!("?after={}&limit=2", ids[1])).await;
    assert_eq!(
        contents(&after),
        ["m3", "m2"],
        "the oldest after, newest first"
    );
    let (_, before) = list(format!("?before={}", ids[2])).await;
    assert_eq!(contents(&before), ["m1", "m0"]);
    let (status, body) = list("?limit=101".into()).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["limit"]["_errors"][0]["code"],
        "NUMBER_TYPE_MAX"
    );
    let (status, m) = call(
        fake,
        Method::GET,
        &format!("/channels/{ch}/messages/{}", ids[0]),
        None,
    )
    .await;
    assert_eq!((status, m["content"].as_str()), (200, Some("m0")));
}

#[tokio::test]
async fn fake_discord_rest_hides_content_without_the_message_content_toggle() {
    let config = FakeDiscordConfig {
        message_content_enabled: false,
        ..FakeDiscordConfig::without_rate_limits()
    };
    let w = world(config).await;
    let fake = &w.fake;
    fake.user_says(&w.general, &w.alice, "secret");
    fake.user_says(
        &w.general,
        &w.alice,
        &format!("{} hi", fake.bot_user().mention()),
    );
    post_message(fake, &w.general.id, "mine").await;
    let (_, list) = call(
        fake,
        Method::GET,
        &format!("/channels/{}/messages", w.general.id),
        None,
    )
    .await;
    let contents: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        ["mine", &format!("{} hi", fake.bot_user().mention()), ""]
    );
}

#[tokio::test]
async fn fake_discord_application_commands() {
    let w = unlimited().await;
    let fake = &w.fake;
    let app = fake.application_id();
    let commands = json!([
        {"name": "new", "description": "Start a session", "options": [
            {"type": 3, "name": "prompt", "description": "What to do", "required": true}]},
        {"name": "stop", "description": "Stop the running turn"}
    ]);
    let (status, got) = call(
        fake,
        Method::PUT,
        &format!("/applications/{app}/commands"),
        Some(commands.clone()),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got.as_array().unwrap().len(), 2);
    assert_eq!(got[0]["application_id"], app);
    assert_eq!(got[0]["type"], 1);
    assert!(got[0]["id"].is_string() && got[0]["version"].is_string());
    let first_id = got[0]["id"].clone();
    let (_, again) = call(
        fake,
        Method::PUT,
        &format!("/applications/{app}/commands"),
        Some(commands),
    )
    .await;
    assert_eq!(again[0]["id"], first_id, "ids stay across overwrites");
    let (_, listed) = call(
        fake,
        Method::GET,
        &format!("/applications/{app}/commands"),
        None,
    )
    .await;
    assert_eq!(listed, again);

    let guild_path = format!("/applications/{app}/guilds/{}/commands", w.guild.id);
    let (status, g) = call(
        fake,
        Method::PUT,
        &guild_path,
        Some(json!([{"name": "queue", "description": "Show the queue"}])),
    )
    .await;
    assert_eq!(
        (status, g[0]["guild_id"].as_str()),
        (200, Some(w.guild.id.as_str()))
    );
    assert_eq!(fake.registered_commands(Some(&w.guild))[0].name, "queue");
    assert_eq!(fake.registered_commands(None).len(), 2);

    let (status, body) = call(
        fake,
        Method::PUT,
        &guild_path,
        Some(json!([{"name": "ok", "description": "x"}, {"name": "Bad Name", "description": "x"}])),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], 50035);
    assert_eq!(
        body["errors"]["1"]["name"]["_errors"][0]["code"],
        "APPLICATION_COMMAND_INVALID_NAME"
    );
    assert_eq!(
        fake.registered_commands(Some(&w.guild))[0].name,
        "queue",
        "a refused overwrite changes nothing"
    );
    let (status, body) = call(
        fake,
        Method::PUT,
        &guild_path,
        Some(json!([{"name": "q", "description": ""}])),
    )
    .await;
    assert_eq!(
        (
            status,
            body["errors"]["0"]["description"]["_errors"][0]["code"].as_str()
        ),
        (400, Some("BASE_TYPE_BAD_LENGTH"))
    );
    let (status, body) = call(
        fake,
        Method::PUT,
        &format!("/applications/{app}/guilds/5/commands"),
        Some(json!([])),
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(10004)));
}

// ---- Rate limits -----------------------------------------------------------------

#[tokio::test]
async fn fake_discord_rate_limit_headers_429_and_violations() {
    let config = FakeDiscordConfig {
        routes: RouteLimits {
            message_create: BucketLimit::new(3, Duration::from_millis(400)),
            ..RouteLimits::default()
        },
        ..FakeDiscordConfig::default()
    };
    let w = world(config).await;
    let (fake, ch) = (&w.fake, w.general.id.clone());
    let other = fake.text_channel(&w.guild, "other");
    let send = |ch: String| {
        let fake = fake.clone();
        async move {
            req(&fake, Method::POST, &format!("/channels/{ch}/messages"))
                .json(&json!({"content": "x"}))
                .send()
                .await
                .unwrap()
        }
    };
    let mut bucket = None;
    for remaining in ["2", "1", "0"] {
        let res = send(ch.clone()).await;
        assert_eq!(res.status(), 200);
        let h = res.headers();
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], remaining);
        let after: f64 = h["x-ratelimit-reset-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(after > 0.0 && after <= 0.4, "{after}");
        let reset: f64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > 1.7e9);
        bucket.get_or_insert_with(|| h["x-ratelimit-bucket"].clone());
        assert_eq!(Some(&h["x-ratelimit-bucket"]), bucket.as_ref());
    }
    let res = send(ch.clone()).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["x-ratelimit-scope"], "user");
    assert_eq!(res.headers()["retry-after"], "1");
    assert!(!res.headers().contains_key("x-ratelimit-global"));
    let (_, body) = read(res).await;
    assert_eq!(
        keys(&body),
        ["code", "global", "message", "retry_after"]
            .map(String::from)
            .into()
    );
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry = body["retry_after"].as_f64().unwrap();
    assert!(
        retry > 0.0 && retry < 0.4 && retry.fract() != 0.0,
        "fractional seconds: {retry}"
    );
    assert!(
        fake.violations().is_empty(),
        "the first 429 is Discord's to give"
    );

    // Per channel: another channel is free.
    assert_eq!(send(other.id.clone()).await.status(), 200);
    // Ignoring the 429 is a violation.
    assert_eq!(send(ch.clone()).await.status(), 429);
    let v = fake.violations();
    assert_eq!(v.len(), 1);
    assert!(
        matches!(&v[0].kind, ViolationKind::RateLimit { bucket, global: false } if bucket == &format!("create_message:{ch}"))
    );
    assert_eq!(v[0].path, format!("/channels/{ch}/messages"));
    // Waiting as told is fine.
    tokio::time::sleep(Duration::from_secs_f64(retry)).await;
    assert_eq!(send(ch.clone()).await.status(), 200);
    assert_eq!(fake.violations().len(), 1);
}

/// Two routes Discord puts in one bucket answer one `X-RateLimit-Bucket` and draw from one
/// count per channel: posts use up what edits had left.
#[tokio::test]
async fn fake_discord_routes_sharing_a_bucket_share_its_hash_and_count() {
    let config = FakeDiscordConfig {
        routes: RouteLimits {
            message_create: BucketLimit::new(3, Duration::from_secs(5)),
            ..RouteLimits::default()
        },
        ..FakeDiscordConfig::default()
    }
    .sharing(&[RouteKind::CreateMessage, RouteKind::EditMessage]);
    let w = world(config).await;
    let (fake, ch) = (&w.fake, w.general.id.clone());
    let other = fake.text_channel(&w.guild, "other");
    let post = |ch: String| {
        req(fake, Method::POST, &format!("/channels/{ch}/messages"))
            .json(&json!({"content": "x"}))
            .send()
    };
    let created = post(ch.clone()).await.unwrap();
    let bucket = created.headers()["x-ratelimit-bucket"].clone();
    assert_eq!(created.headers()["x-ratelimit-remaining"], "2");
    let (_, message) = read(created).await;
    let edit = || {
        req(
            fake,
            Method::PATCH,
            &format!(
                "/channels/{ch}/messages/{}",
                message["id"].as_str().unwrap()
            ),
        )
        .json(&json!({"content": "y"}))
        .send()
    };
    let edited = edit().await.unwrap();
    assert_eq!(edited.status(), 200);
    assert_eq!(edited.headers()["x-ratelimit-bucket"], bucket, "one bucket");
    assert_eq!(edited.headers()["x-ratelimit-remaining"], "1", "one count");
    assert_eq!(post(ch.clone()).await.unwrap().status(), 200);
    let refused = edit().await.unwrap();
    assert_eq!(refused.status(), 429, "the posts used the edits' window up");
    assert_eq!(refused.headers()["x-ratelimit-bucket"], bucket);
    // Per channel still; a route outside the group has its own bucket.
    assert_eq!(post(other.id.clone()).await.unwrap().status(), 200);
    let typing = req(fake, Method::POST, &format!("/channels/{ch}/typing"))
        .send()
        .await
        .unwrap();
    assert_eq!(typing.status(), 204);
    assert_ne!(typing.headers()["x-ratelimit-bucket"], bucket);
    // Calling into the shared window by either route is a violation of that one bucket.
    assert_eq!(post(ch.clone()).await.unwrap().status(), 429);
    let v = fake.violations();
    assert_eq!(v.len(), 1, "{v:#?}");
    assert!(
        matches!(&v[0].kind, ViolationKind::RateLimit { bucket, global: false } if bucket == &format!("create_message:{ch}")),
        "{v:#?}"
    );
}

#[tokio::test]
async fn fake_discord_global_limit_and_storms() {
    let config = FakeDiscordConfig {
        global_per_second: 3,
        ..FakeDiscordConfig::without_rate_limits()
    };
    let w = world(config).await;
    let fake = &w.fake;
    for _ in 0..3 {
        assert_eq!(call(fake, Method::GET, "/users/@me", None).await.0, 200);
    }
    let res = req(fake, Method::GET, "/users/@me").send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["x-ratelimit-global"], "true");
    assert_eq!(res.headers()["x-ratelimit-scope"], "global");
    let (_, body) = read(res).await;
    assert_eq!(body["global"], true);
    let retry = body["retry_after"].as_f64().unwrap();
    // Interaction routes do not count globally: a follow-up with an unknown
    // token is answered (401), not rate limited.
    let (status, _) = read(
        Client::new()
            .post(format!(
                "{}/webhooks/{}/nope",
                fake.api_url(),
                fake.application_id()
            ))
            .json(&json!({"content": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        call(
            fake,
            Method::POST,
            &format!("/channels/{}/typing", w.general.id),
            None
        )
        .await
        .0,
        429
    );
    let v = fake.violations();
    assert_eq!(v.len(), 1);
    assert!(matches!(
        v[0].kind,
        ViolationKind::RateLimit { global: true, .. }
    ));
    tokio::time::sleep(Duration::from_secs_f64(retry)).await;
    assert_eq!(call(fake, Method::GET, "/users/@me", None).await.0, 200);

    // Storms: the next two typing calls get 429 whatever the pacing.
    fake.storm(RouteKind::Typing, 2, Duration::from_millis(150));
    let path = format!("/channels/{}/typing", w.general.id);
    let (status, body) = call(fake, Method::POST, &path, None).await;
    assert_eq!(
        (
            status,
            body["retry_after"].as_f64(),
            body["global"].as_bool()
        ),
        (429, Some(0.15), Some(false))
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(call(fake, Method::POST, &path, None).await.0, 429);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(call(fake, Method::POST, &path, None).await.0, 204);
    fake.global_storm(RouteKind::CreateMessage, 1, Duration::from_millis(120));
    let res = req(
        fake,
        Method::POST,
        &format!("/channels/{}/messages", w.general.id),
    )
    .json(&json!({"content": "x"}))
    .send()
    .await
    .unwrap();
    assert_eq!(
        (
            res.status().as_u16(),
            res.headers()["x-ratelimit-global"].to_str().unwrap()
        ),
        (429, "true")
    );
    assert_eq!(fake.violations().len(), 1, "storm windows were respected");
}

// ---- Gateway ------------------------------------------------------------------------

fn short_heartbeat() -> FakeDiscordConfig {
    FakeDiscordConfig::without_rate_limits().with_heartbeat(Duration::from_millis(300))
}

#[tokio::test]
async fn fake_discord_gateway_hello_identify_ready_heartbeat() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    let (ws, _) = connect_async(format!("{}/?v=10&encoding=json", fake.gateway_url()))
        .await
        .unwrap();
    let mut gw = Gw { ws };
    let hello = gw.recv().await;
    assert_eq!(hello["d"]["heartbeat_interval"], 300);
    assert_eq!(
        (hello["s"].clone(), hello["t"].clone()),
        (Value::Null, Value::Null)
    );
    gw.send(json!({"op": 1, "d": null})).await;
    assert_eq!(
        gw.recv().await,
        json!({"t": null, "s": null, "op": 11, "d": null})
    );
    gw.identify(&fake.token(), GUILDS | GUILD_MESSAGES).await;
    let ready = gw.recv().await;
    assert_eq!(
        (
            ready["op"].as_u64(),
            ready["t"].as_str(),
            ready["s"].as_u64()
        ),
        (Some(0), Some("READY"), Some(1))
    );
    let d = &ready["d"];
    assert_eq!(d["v"], 10);
    assert_eq!(d["user"]["id"], fake.application_id());
    assert_eq!(d["user"]["bot"], true);
    assert_eq!(d["resume_gateway_url"], fake.gateway_url());
    assert_eq!(
        d["guilds"],
        json!([{"unavailable": true, "id": w.guild.id}])
    );
    assert_eq!(d["application"]["id"], fake.application_id());
    assert!(d["session_id"].as_str().unwrap().len() >= 16);
    let gc = gw.recv().await;
    assert_eq!(
        (gc["t"].as_str(), gc["s"].as_u64()),
        (Some("GUILD_CREATE"), Some(2))
    );
    assert_eq!(gc["d"]["id"], w.guild.id);
    assert_eq!(gc["d"]["channels"][0]["id"], w.general.id);
    assert!(
        gc["d"]["channels"][0].get("guild_id").is_none(),
        "as Discord sends them"
    );
    let members = gc["d"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "without GUILD_PRESENCES only the bot");
    assert_eq!(members[0]["user"]["id"], fake.application_id());
    gw.send(json!({"op": 1, "d": 2})).await;
    assert_eq!(gw.recv().await["op"], 11);
    fake.request_heartbeat();
    assert_eq!(gw.recv().await["op"], 1);

    let facts = fake.gateway();
    assert_eq!(facts.connections, 1);
    assert_eq!(facts.identifies.len(), 1);
    assert_eq!(facts.identifies[0].intents, GUILDS | GUILD_MESSAGES);
    assert_eq!(facts.identifies[0].properties["browser"], "switchboard");
    assert_eq!(
        facts.identifies[0].outcome,
        HandshakeOutcome::Accepted { replayed: 0 }
    );
    assert_eq!(
        facts.heartbeats.iter().map(|h| h.seq).collect::<Vec<_>>(),
        [None, Some(2)]
    );
    assert_eq!(facts.sessions.len(), 1);
    assert!(facts.sessions[0].connected && facts.sessions[0].resumable);
}

#[tokio::test]
async fn fake_discord_gateway_refusals_use_discords_close_codes() {
    let config = FakeDiscordConfig {
        message_content_enabled: false,
        ..short_heartbeat()
    };
    let fake = FakeDiscord::start(config).await;
    let url = fake.gateway_url();
    let cases: Vec<(Value, u16)> = vec![
        (
            json!({"op": 2, "d": {"token": "wrong", "intents": 513, "properties": {}}}),
            4004,
        ),
        (
            json!({"op": 2, "d": {"token": fake.token(), "intents": 1 << 18, "properties": {}}}),
            4013,
        ),
        (
            json!({"op": 2, "d": {"token": fake.token(), "intents": GUILDS | MESSAGE_CONTENT, "properties": {}}}),
            4014,
        ),
        (
            json!({"op": 2, "d": {"token": fake.token(), "intents": 1, "properties": {}, "shard": [1, 1]}}),
            4010,
        ),
        (json!({"op": 3, "d": {"status": "online"}}), 4003),
        (json!({"op": 42, "d": null}), 4001),
        (json!({"op": 1, "d": "x".repeat(5000)}), 4002),
    ];
    for (frame, code) in cases {
        let mut gw = Gw::connect(&url).await;
        gw.send(frame.clone()).await;
        assert_eq!(gw.closed().await, Some(code), "{frame}");
    }
    let mut gw = Gw::connect(&url).await;
    gw.ws.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(gw.closed().await, Some(4002));
    let (mut gw, _) = Gw::ready(&url, &fake, GUILDS).await;
    gw.identify(&fake.token(), GUILDS).await;
    assert_eq!(gw.closed().await, Some(4005));
    let (ws, _) = connect_async(format!("{url}/?v=9&encoding=json"))
        .await
        .unwrap();
    let mut gw = Gw { ws };
    assert_eq!(gw.recv().await["op"], 10);
    assert_eq!(gw.closed().await, Some(4012));
    let outcomes: Vec<HandshakeOutcome> = fake
        .gateway()
        .identifies
        .into_iter()
        .map(|i| i.outcome)
        .collect();
    assert!(outcomes.contains(&HandshakeOutcome::Closed(4014)));
}

#[tokio::test]
async fn fake_discord_dispatches_follow_intents_and_message_content() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    let url = fake.gateway_url();
    // No MESSAGE_CONTENT: content only for mentions, DMs and the bot's own.
    let (mut gw, _) = Gw::ready(&url, fake, GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES).await;
    let _ = gw.dispatch("GUILD_CREATE").await;
    let (mut dm_only, _) = Gw::ready(&url, fake, DIRECT_MESSAGES).await;

    let plain = fake.user_says(&w.general, &w.alice, "just chatting");
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["s"], 3);
    assert_eq!(ev["d"]["id"], plain.id);
    assert_eq!(ev["d"]["content"], "", "hidden without MESSAGE_CONTENT");
    assert_eq!(ev["d"]["guild_id"], w.guild.id);
    assert_eq!(ev["d"]["channel_type"], 0);
    assert!(ev["d"]["member"]["roles"].is_array());
    assert_eq!(ev["d"]["author"]["id"], w.alice.id);
    assert!(
        ev["d"]["author"].get("bot").is_none(),
        "people have no bot field"
    );

    let bot = fake.bot_user();
    let mention = fake.user_says(
        &w.general,
        &w.alice,
        &format!("{} run the tests", bot.mention()),
    );
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["s"], 4);
    assert_eq!(ev["d"]["id"], mention.id);
    assert_eq!(ev["d"]["content"], format!("<@{}> run the tests", bot.id));
    assert_eq!(ev["d"]["mentions"][0]["id"], bot.id);
    assert!(ev["d"]["mentions"][0]["member"].is_object());

    let dm = fake.dm_channel(&w.alice);
    fake.user_says(&dm, &w.alice, "private question");
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["d"]["content"], "private question");
    assert!(ev["d"].get("guild_id").is_none() && ev["d"].get("member").is_none());
    assert_eq!(ev["d"]["channel_type"], 1);
    let ev = dm_only.dispatch("MESSAGE_CREATE").await;
    assert_eq!(
        ev["d"]["content"], "private question",
        "the DM-only session saw only this one"
    );
    assert_eq!(ev["s"], 2);

    let (_, own) = post_message(fake, &w.general.id, "my answer").await;
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["d"]["id"], own["id"]);
    assert_eq!(ev["d"]["content"], "my answer");
    assert_eq!(ev["d"]["author"]["bot"], true);

    let robot = fake.other_bot("ci-bot");
    fake.user_says(&w.general, &robot, "build passed");
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["d"]["author"]["bot"], true);
    assert_eq!(ev["d"]["author"]["id"], robot.id);

    // Reactions need GUILD_MESSAGE_REACTIONS: none arrive here.
    let (status, _) = call(
        fake,
        Method::PUT,
        &format!(
            "/channels/{}/messages/{}/reactions/%E2%9C%85/@me",
            w.general.id, plain.id
        ),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let next = fake.user_says(&w.general, &w.alice, "after the reaction");
    let ev = gw.recv().await;
    assert_eq!(
        (ev["t"].as_str(), ev["d"]["id"].as_str()),
        (Some("MESSAGE_CREATE"), Some(next.id.as_str()))
    );
}

#[tokio::test]
async fn fake_discord_updates_deletes_threads_and_reactions_with_content() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    let intents = GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_REACTIONS | MESSAGE_CONTENT;
    let (mut gw, _) = Gw::ready(&fake.gateway_url(), fake, intents).await;
    let said = fake.user_says(&w.general, &w.alice, "first");
    assert_eq!(gw.dispatch("MESSAGE_CREATE").await["d"]["content"], "first");
    fake.user_edits(&said, "first, edited");
    let ev = gw.dispatch("MESSAGE_UPDATE").await;
    assert_eq!(ev["d"]["content"], "first, edited");
    assert!(ev["d"]["edited_timestamp"].is_string());
    fake.user_deletes(&said);
    let ev = gw.dispatch("MESSAGE_DELETE").await;
    assert_eq!(
        ev["d"],
        json!({"id": said.id, "channel_id": w.general.id, "guild_id": w.guild.id})
    );

    let topic = fake.user_says(&w.general, &w.alice, "topic");
    let _ = gw.dispatch("MESSAGE_CREATE").await;
    let thread = fake.start_thread(&topic, "topic thread", &w.alice);
    let ev = gw.dispatch("THREAD_CREATE").await;
    assert_eq!(ev["d"]["id"], topic.id);
    assert_eq!(ev["d"]["newly_created"], true);
    assert_eq!(ev["d"]["owner_id"], w.alice.id);
    fake.user_says_with(&thread, &w.alice, UserMessage::new("in the thread"));
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["d"]["channel_id"], thread.id);
    assert_eq!(ev["d"]["channel_type"], 11);
    assert_eq!(ev["d"]["position"], 0);

    let (status, _) = call(
        fake,
        Method::PUT,
        &format!(
            "/channels/{}/messages/{}/reactions/%F0%9F%91%8D/@me",
            w.general.id, topic.id
        ),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let ev = gw.dispatch("MESSAGE_REACTION_ADD").await;
    assert_eq!(ev["d"]["emoji"], json!({"id": null, "name": "👍"}));
    assert_eq!(ev["d"]["user_id"], fake.application_id());
}

#[tokio::test]
async fn fake_discord_drop_and_resume_replays_missed_dispatches() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    let intents = GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT;
    let (mut gw, ready) = Gw::ready(&fake.gateway_url(), fake, intents).await;
    let session = ready["session_id"].as_str().unwrap().to_string();
    let resume_url = ready["resume_gateway_url"].as_str().unwrap().to_string();
    let _ = gw.dispatch("GUILD_CREATE").await;
    fake.user_says(&w.general, &w.alice, "before");
    let seen = gw.dispatch("MESSAGE_CREATE").await["s"].as_u64().unwrap();

    fake.drop_gateway();
    assert_eq!(gw.closed().await, None, "dropped without a close frame");
    fake.wait_for(T, |f| {
        f.gateway()
            .sessions
            .iter()
            .any(|s| !s.connected)
            .then_some(())
    })
    .await
    .expect("noticed");
    let a = fake.user_says(&w.general, &w.alice, "while away 1");
    let b = fake.user_says(&w.general, &w.alice, "while away 2");

    let mut gw = Gw::connect(&resume_url).await;
    gw.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": session, "seq": seen}}))
        .await;
    let r1 = gw.recv().await;
    let r2 = gw.recv().await;
    let resumed = gw.recv().await;
    assert_eq!(
        (r1["d"]["id"].as_str(), r1["s"].as_u64()),
        (Some(a.id.as_str()), Some(seen + 1))
    );
    assert_eq!(
        (r2["d"]["id"].as_str(), r2["s"].as_u64()),
        (Some(b.id.as_str()), Some(seen + 2))
    );
    assert_eq!(
        (resumed["t"].as_str(), resumed["s"].as_u64()),
        (Some("RESUMED"), Some(seen + 3))
    );
    let resume = fake.wait_for_resume(1, T).await;
    assert_eq!(resume.outcome, HandshakeOutcome::Accepted { replayed: 2 });
    // The session goes on where it was.
    fake.user_says(&w.general, &w.alice, "back");
    assert_eq!(gw.dispatch("MESSAGE_CREATE").await["s"], seen + 4);
    assert_eq!(fake.gateway().identifies.len(), 1);
}

#[tokio::test]
async fn fake_discord_lost_sessions_invalid_session_and_fresh_identify() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    let url = fake.gateway_url();
    let intents = GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT;
    let (mut gw, ready) = Gw::ready(&url, fake, intents).await;
    let session = ready["session_id"].as_str().unwrap().to_string();

    // The server invalidates the session: op 9, and RESUME no longer works.
    fake.invalidate_session(false);
    assert_eq!(gw.dispatch_op(9).await["d"], false);
    gw.ws.close(None).await.unwrap();
    let missed = fake.user_says(&w.general, &w.alice, "nobody heard this");
    let mut gw = Gw::connect(&url).await;
    gw.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": session, "seq": 1}}))
        .await;
    assert_eq!(
        gw.recv().await,
        json!({"t": null, "s": null, "op": 9, "d": false})
    );
    // A fresh IDENTIFY starts over: READY is s=1 and the missed message is
    // not replayed; it is readable over REST.
    gw.identify(&fake.token(), intents).await;
    assert_eq!(gw.recv().await["t"], "READY");
    assert_eq!(gw.recv().await["t"], "GUILD_CREATE");
    let now = fake.user_says(&w.general, &w.alice, "hello again");
    let ev = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(
        (ev["d"]["id"].as_str(), ev["s"].as_u64()),
        (Some(now.id.as_str()), Some(3))
    );
    let (_, list) = call(
        fake,
        Method::GET,
        &format!("/channels/{}/messages?after={}", w.general.id, 0),
        None,
    )
    .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == missed.id)
    );

    // Unknown sessions, and a client closing with 1000, end in op 9 too.
    let mut other = Gw::connect(&url).await;
    other
        .send(json!({"op": 6, "d": {"token": fake.token(), "session_id": "nope", "seq": 0}}))
        .await;
    assert_eq!(other.recv().await["op"], 9);
    let session2 = fake
        .gateway()
        .sessions
        .iter()
        .find(|s| s.connected)
        .unwrap()
        .id
        .clone();
    gw.ws
        .close(Some(CloseFrame {
            code: 1000u16.into(),
            reason: "bye".into(),
        }))
        .await
        .unwrap();
    fake.wait_for(T, |f| {
        f.gateway()
            .sessions
            .iter()
            .all(|s| !s.connected)
            .then_some(())
    })
    .await
    .expect("closed");
    let mut gw = Gw::connect(&url).await;
    gw.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": session2, "seq": 3}}))
        .await;
    assert_eq!(gw.recv().await["op"], 9);
    let outcomes: Vec<HandshakeOutcome> = fake
        .gateway()
        .resumes
        .into_iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes, [HandshakeOutcome::InvalidSession; 3]);
}

impl Gw {
    async fn dispatch_op(&mut self, op: u64) -> Value {
        loop {
            let v = self.recv().await;
            if v["op"] == op {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn fake_discord_reconnect_close_codes_and_zombies() {
    let config = FakeDiscordConfig {
        reconnect_grace: Duration::from_millis(200),
        ..short_heartbeat()
    };
    let w = world(config).await;
    let fake = &w.fake;
    let url = fake.gateway_url();
    let (mut gw, ready) = Gw::ready(&url, fake, GUILDS).await;
    let session = ready["session_id"].as_str().unwrap().to_string();
    let _ = gw.dispatch("GUILD_CREATE").await;

    // op 7, and the fake drops a client that does not leave.
    fake.send_reconnect();
    assert_eq!(
        gw.recv().await,
        json!({"t": null, "s": null, "op": 7, "d": null})
    );
    assert_eq!(gw.closed().await, None);
    let mut gw = Gw::connect(&url).await;
    gw.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": session, "seq": 2}}))
        .await;
    assert_eq!(gw.recv().await["t"], "RESUMED");

    // A resumable close code keeps the session.
    fake.close_with(4000);
    assert_eq!(gw.closed().await, Some(4000));
    let mut gw = Gw::connect(&url).await;
    gw.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": session, "seq": 3}}))
        .await;
    assert_eq!(gw.recv().await["t"], "RESUMED");
    // A seq from the future: 4007.
    gw.ws.close(None).await.unwrap();
    let mut bad = Gw::connect(&url).await;
    bad.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": session, "seq": 99}}))
        .await;
    assert_eq!(bad.closed().await, Some(4007));

    // A client that stops heartbeating is a zombie: 4009, session over.
    let started = Instant::now();
    let (mut zombie, ready) = Gw::ready(&url, fake, GUILDS).await;
    let zombie_session = ready["session_id"].as_str().unwrap().to_string();
    assert_eq!(zombie.closed().await, Some(4009));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let mut gw = Gw::connect(&url).await;
    gw.send(json!({"op": 6, "d": {"token": fake.token(), "session_id": zombie_session, "seq": 1}}))
        .await;
    assert_eq!(gw.recv().await["op"], 9);
    let closes = fake.gateway().closes;
    assert!(closes.iter().any(|c| c.code == Some(4009)));
}

#[tokio::test]
async fn fake_discord_heartbeating_clients_stay_connected() {
    let w =
        world(FakeDiscordConfig::without_rate_limits().with_heartbeat(Duration::from_millis(100)))
            .await;
    let fake = &w.fake;
    let (mut gw, _) = Gw::ready(&fake.gateway_url(), fake, GUILDS).await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(80)).await;
        gw.send(json!({"op": 1, "d": 2})).await;
        assert_eq!(gw.dispatch_op(11).await["op"], 11);
    }
    fake.wait_for_heartbeats(6, T).await;
    assert!(fake.gateway().sessions[0].connected);
}

// ---- Interactions ---------------------------------------------------------------------

async fn register(fake: &FakeDiscord, guild: &FakeGuild) {
    let path = format!(
        "/applications/{}/guilds/{}/commands",
        fake.application_id(),
        guild.id
    );
    let (status, _) = call(
        fake,
        Method::PUT,
        &path,
        Some(
            json!([{"name": "ask", "description": "Ask the agent", "options": [
        {"type": 3, "name": "prompt", "description": "What to ask", "required": true}]}]),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let path = format!("/applications/{}/commands", fake.application_id());
    let (status, _) = call(
        fake,
        Method::PUT,
        &path,
        Some(json!([{"name": "status", "description": "Show status"}])),
    )
    .await;
    assert_eq!(status, 200);
}

async fn raw(method: Method, url: String, body: Value) -> (u16, Value) {
    read(
        Client::new()
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn fake_discord_interactions_callback_followups_and_edits() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    register(fake, &w.guild).await;
    let (mut gw, _) = Gw::ready(&fake.gateway_url(), fake, GUILDS).await;
    let options = json!([{"name": "prompt", "type": 3, "value": "why is CI red?"}]);
    let h = fake.invoke_command("ask", options.clone(), &w.alice, &w.general);
    let ev = gw.dispatch("INTERACTION_CREATE").await;
    let d = &ev["d"];
    assert_eq!(
        (d["id"].as_str(), d["token"].as_str()),
        (Some(h.id.as_str()), Some(h.token.as_str()))
    );
    assert_eq!(
        (d["type"].as_u64(), d["version"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(d["application_id"], fake.application_id());
    assert_eq!(d["data"]["name"], "ask");
    assert_eq!(d["data"]["options"], options);
    assert_eq!(d["data"]["guild_id"], w.guild.id);
    assert_eq!(d["guild_id"], w.guild.id);
    assert_eq!(d["channel_id"], w.general.id);
    assert_eq!(d["channel"]["id"], w.general.id);
    assert_eq!(d["member"]["user"]["id"], w.alice.id);
    assert!(d.get("user").is_none());
    assert!(d["app_permissions"].is_string() && d["locale"].is_string());

    // Callbacks and follow-ups use the interaction token, not the bot's.
    let api = fake.api_url();
    let callback = format!("{api}/interactions/{}/{}/callback", h.id, h.token);
    let (status, body) = raw(Method::POST, callback.clone(), json!({"type": 5})).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, body) = raw(
        Method::POST,
        callback.clone(),
        json!({"type": 4, "data": {"content": "x"}}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"message": "Interaction has already been acknowledged.", "code": 40060})
        )
    );
    let state = fake.wait_for_interaction_response(&h, T).await;
    let cb = state.callback.clone().unwrap();
    assert_eq!(cb.kind, 5);
    assert!(cb.after < Duration::from_secs(3));
    assert_eq!(
        state.original.as_ref().unwrap().flags & (1 << 7),
        1 << 7,
        "thinking…"
    );

    let webhook = format!("{api}/webhooks/{}/{}", fake.application_id(), h.token);
    let (status, m) = raw(
        Method::POST,
        webhook.clone(),
        json!({"content": "CI is red because of a flaky test"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        m["id"],
        state.original.as_ref().unwrap().id,
        "the first follow-up fills the deferred answer"
    );
    let (status, e) = raw(
        Method::PATCH,
        format!("{webhook}/messages/@original"),
        json!({"content": "fixed now"}),
    )
    .await;
    assert_eq!((status, e["content"].as_str()), (200, Some("fixed now")));
    let (status, f) = raw(
        Method::POST,
        webhook.clone(),
        json!({"content": "one more thing"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(f["type"], 20);
    assert_eq!(f["interaction_metadata"]["id"], h.id);
    let (status, _) = raw(
        Method::PATCH,
        format!("{webhook}/messages/{}", f["id"].as_str().unwrap()),
        json!({"content": "one more thing (edited)"}),
    )
    .await;
    assert_eq!(status, 200);
    let state = fake.interaction_responses(&h.id);
    let original = state.original.unwrap();
    let versions: Vec<&str> = original
        .versions
        .iter()
        .map(|v| v.content.as_str())
        .collect();
    assert_eq!(
        versions,
        ["", "CI is red because of a flaky test", "fixed now"]
    );
    assert_eq!(original.flags & (1 << 7), 0);
    assert_eq!(state.followups.len(), 1);
    assert_eq!(state.followups[0].content, "one more thing (edited)");
    let (status, body) = raw(
        Method::POST,
        format!("{api}/webhooks/{}/not-a-token", fake.application_id()),
        json!({"content": "x"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"message": "Invalid Webhook Token", "code": 50027})
        )
    );
    let (status, body) = raw(
        Method::POST,
        format!("{api}/interactions/{}/wrong/callback", h.id),
        json!({"type": 4}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"message": "Unknown interaction", "code": 10062})
        )
    );
    assert!(fake.violations().is_empty());

    // Type 4 answers at once; in a DM the invoker is `user`.
    let dm = fake.dm_channel(&w.alice);
    let h2 = fake.invoke_command("status", json!([]), &w.alice, &dm);
    let ev = gw.dispatch("INTERACTION_CREATE").await;
    assert_eq!(ev["d"]["user"]["id"], w.alice.id);
    assert!(ev["d"].get("member").is_none() && ev["d"].get("guild_id").is_none());
    assert_eq!(ev["d"]["channel"]["type"], 1);
    assert_eq!(ev["d"]["context"], 1);
    let (status, body) = raw(
        Method::POST,
        format!(
            "{api}/interactions/{}/{}/callback?with_response=true",
            h2.id, h2.token
        ),
        json!({"type": 4, "data": {"content": "all good"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["resource"]["message"]["content"], "all good");
    let bot_dm = fake.bot_messages(&dm);
    assert_eq!((bot_dm.len(), bot_dm[0].kind), (1, 20));
    let (status, body) = raw(
        Method::POST,
        format!("{api}/interactions/{}/{}/callback", h2.id, h2.token),
        json!({"type": 4, "data": {"content": ""}}),
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(40060)));
}

#[tokio::test]
async fn fake_discord_interaction_deadlines() {
    let config = FakeDiscordConfig {
        interaction_ack_deadline: Duration::from_millis(200),
        interaction_token_lifetime: Duration::from_millis(400),
        ..short_heartbeat()
    };
    let w = world(config).await;
    let fake = &w.fake;
    register(fake, &w.guild).await;
    let api = fake.api_url();
    let late = fake.invoke_command("status", json!([]), &w.alice, &w.general);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = raw(
        Method::POST,
        format!("{api}/interactions/{}/{}/callback", late.id, late.token),
        json!({"type": 5}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"message": "Unknown interaction", "code": 10062})
        )
    );
    let v = fake.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].kind,
        ViolationKind::ExpiredInteraction {
            interaction_id: late.id.clone()
        }
    );
    assert!(v[0].off_by() >= Duration::from_millis(50));
    assert!(fake.interaction_responses(&late.id).expired);

    let ok = fake.invoke_command("status", json!([]), &w.alice, &w.general);
    let (status, _) = raw(
        Method::POST,
        format!("{api}/interactions/{}/{}/callback", ok.id, ok.token),
        json!({"type": 5}),
    )
    .await;
    assert_eq!(status, 204);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (status, body) = raw(
        Method::PATCH,
        format!(
            "{api}/webhooks/{}/{}/messages/@original",
            fake.application_id(),
            ok.token
        ),
        json!({"content": "too late"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (401, Some(50027)),
        "tokens live 15 minutes (here 400 ms)"
    );
}

// ---- Fixtures ---------------------------------------------------------------------------

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/discord");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/discord")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn fixture(name: &str) -> Value {
    fixtures()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

#[test]
fn fake_discord_fixtures_parse_and_are_documented() {
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/discord/README.md"),
    )
    .unwrap();
    let all = fixtures();
    assert!(all.len() >= 15);
    for (name, v) in &all {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in the README"
        );
        if name.starts_with("gateway_") {
            assert!(v["op"].is_u64(), "{name}: a gateway payload has op");
        }
    }
}

/// Keys of a real fixture the fake must produce too (what a parser might
/// rely on), minus the ones noted as missing on purpose.
fn assert_has_keys(what: &str, fake: &Value, real: &Value, except: &[&str]) {
    let missing: Vec<String> = keys(real)
        .difference(&keys(fake))
        .filter(|k| !except.contains(&k.as_str()))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "{what}: the fake lacks {missing:?}");
}

#[tokio::test]
async fn fake_discord_payloads_have_the_real_shapes() {
    let w = world(short_heartbeat()).await;
    let fake = &w.fake;
    let url = fake.gateway_url();
    let mut raw_gw = Gw {
        ws: connect_async(format!("{url}/?v=10&encoding=json"))
            .await
            .unwrap()
            .0,
    };
    let hello = raw_gw.recv().await;
    assert_eq!(keys(&hello), keys(&fixture("gateway_hello.json")));
    assert_eq!(keys(&hello["d"]), keys(&fixture("gateway_hello.json")["d"]));
    raw_gw.send(json!({"op": 1, "d": null})).await;
    assert_eq!(raw_gw.recv().await, fixture("gateway_heartbeat_ack.json"));

    let mut gw2 = Gw::connect(&url).await;
    gw2.identify(&fake.token(), GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT)
        .await;
    let ready = gw2.recv().await;
    let real = fixture("gateway_ready.json");
    assert_eq!(keys(&ready), keys(&real));
    assert_has_keys("READY", &ready["d"], &real["d"], &[]);
    assert_has_keys("READY user", &ready["d"]["user"], &real["d"]["user"], &[]);
    assert_eq!(
        keys(&ready["d"]["guilds"][0]),
        keys(&real["d"]["guilds"][0])
    );
    let gc = gw2.recv().await;
    let real = fixture("gateway_guild_create.json");
    // Fields the fake leaves out: `guild_hashes` (a client cache feature).
    assert_has_keys("GUILD_CREATE", &gc["d"], &real["d"], &["guild_hashes"]);
    assert_has_keys(
        "GUILD_CREATE member",
        &gc["d"]["members"][0],
        &real["d"]["members"][0],
        &[],
    );
    assert_has_keys(
        "GUILD_CREATE role",
        &gc["d"]["roles"][0],
        &real["d"]["roles"][0],
        &[],
    );
    assert_has_keys(
        "GUILD_CREATE channel",
        &gc["d"]["channels"][0],
        &real["d"]["channels"][2],
        &[],
    );

    let said = fake.user_says(&w.general, &w.alice, "hello");
    let ev = gw2.dispatch("MESSAGE_CREATE").await;
    assert_eq!(ev["d"]["id"], said.id);
    let real = fixture("gateway_message_create_guild.json");
    // `nonce` is the client's; `referenced_message: null` is no longer sent
    // for non-replies.
    assert_has_keys(
        "MESSAGE_CREATE",
        &ev["d"],
        &real["d"],
        &["referenced_message"],
    );
    assert_has_keys(
        "MESSAGE_CREATE member",
        &ev["d"]["member"],
        &real["d"]["member"],
        &[],
    );
    assert_has_keys(
        "MESSAGE_CREATE author",
        &ev["d"]["author"],
        &real["d"]["author"],
        &["avatar_decoration"],
    );
    let v6 = fixture("object_message_update_v6.json");
    fake.user_edits(&said, "hello!");
    let ev = gw2.dispatch("MESSAGE_UPDATE").await;
    assert_has_keys("MESSAGE_UPDATE", &ev["d"], &v6, &[]);

    let (_, t) = call(
        fake,
        Method::POST,
        &format!("/channels/{}/messages/{}/threads", w.general.id, said.id),
        Some(json!({"name": "t"})),
    )
    .await;
    let real = fixture("object_thread_channel.json");
    assert_has_keys("thread", &t, &real, &[]);
    assert_has_keys(
        "thread_metadata",
        &t["thread_metadata"],
        &real["thread_metadata"],
        &[],
    );
    let ev = gw2.dispatch("THREAD_CREATE").await;
    assert_has_keys("THREAD_CREATE", &ev["d"], &real, &[]);

    register(fake, &w.guild).await;
    fake.invoke_command("status", json!([]), &w.alice, &w.general);
    let ev = gw2.dispatch("INTERACTION_CREATE").await;
    let real = fixture("object_interaction_slash_guild.json");
    assert_has_keys("INTERACTION_CREATE", &ev["d"], &real, &[]);
    assert_has_keys(
        "INTERACTION_CREATE data",
        &ev["d"]["data"],
        &real["data"],
        &["options"],
    );
    assert_has_keys(
        "INTERACTION_CREATE member",
        &ev["d"]["member"],
        &real["member"],
        &["is_pending"],
    );

    // 429 bodies: the real keys plus `code`.
    let limited = FakeDiscord::start(FakeDiscordConfig {
        global_per_second: 1,
        ..FakeDiscordConfig::without_rate_limits()
    })
    .await;
    call(&limited, Method::GET, "/users/@me", None).await;
    let (_, body) = call(&limited, Method::GET, "/users/@me", None).await;
    assert_has_keys("429", &body, &fixture("rest_429_global.json"), &[]);
}

#[tokio::test]
async fn fake_discord_enforces_nonces_and_loses_answers_on_demand() {
    let w = unlimited().await;
    let (fake, ch) = (&w.fake, &w.general.id);
    let path = format!("/channels/{ch}/messages");
    let create = |body: Value| call(fake, Method::POST, &path, Some(body));

    let (status, first) =
        create(json!({"content": "a", "nonce": "n1", "enforce_nonce": true})).await;
    assert_eq!(status, 200);
    assert_eq!(first["nonce"], "n1");
    let (status, again) =
        create(json!({"content": "b", "nonce": "n1", "enforce_nonce": true})).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], first["id"], "the earlier message comes back");
    assert_eq!(again["content"], "a");
    let (_, as_number) = create(json!({"content": "c", "nonce": 77, "enforce_nonce": true})).await;
    let (_, as_text) = create(json!({"content": "d", "nonce": "77", "enforce_nonce": true})).await;
    assert_eq!(
        as_text["id"], as_number["id"],
        "77 and \"77\" are one nonce"
    );
    let (_, unenforced) = create(json!({"content": "e", "nonce": "n1"})).await;
    assert_ne!(
        unenforced["id"], first["id"],
        "without enforce_nonce a nonce is only echoed"
    );

    let (status, body) = create(json!({"content": "f", "nonce": "x".repeat(26)})).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], 50035, "{body}");
    assert_eq!(
        create(json!({"content": "g", "nonce": "x".repeat(25)}))
            .await
            .0,
        200
    );

    fake.fail_after_creating(&[true]);
    let (status, _) =
        create(json!({"content": "lost", "nonce": "n2", "enforce_nonce": true})).await;
    assert_eq!(status, 500);
    let (status, found) =
        create(json!({"content": "lost", "nonce": "n2", "enforce_nonce": true})).await;
    assert_eq!(
        status, 200,
        "the retry finds the message the lost answer was about"
    );
    let contents: Vec<String> = fake
        .bot_messages(&w.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["a", "c", "e", "g", "lost"]);
    assert_eq!(found["content"], "lost");
}
