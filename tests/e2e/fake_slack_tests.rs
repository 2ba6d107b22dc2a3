//! Proves the fake Slack against independent clients — raw HTTP (reqwest) for
//! the Web API, tokio-tungstenite for Socket Mode, ring for signatures, a
//! small axum receiver for HTTP deliveries — and against the real payloads
//! in `tests/fixtures/slack/`, so the project's Slack tests can trust it.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use futures_util::{SinkExt, StreamExt};
use ring::hmac;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::fake_slack::{
    ChannelKind, CloseKind, FakeChannel, FakeSlack, FakeSlackConfig, FakeUser, SlashResponseVia,
    TokenKind,
};

const T: Duration = Duration::from_secs(5);

// ---- Clients ---------------------------------------------------------------

/// A Web API client that knows nothing of the fake's insides.
struct Api {
    base: String,
    bot_token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(fake: &FakeSlack) -> Self {
        Self {
            base: fake.api_url(),
            bot_token: fake.bot_token(),
            http: reqwest::Client::new(),
        }
    }

    /// A form-encoded call with the bot token; the parsed answer.
    async fn form(&self, method: &str, args: &[(&str, &str)]) -> Value {
        self.form_as(method, Some(&self.bot_token.clone()), args)
            .await
            .1
    }

    async fn form_as(
        &self,
        method: &str,
        token: Option<&str>,
        args: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.http.post(format!("{}{method}", self.base)).form(args);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// A JSON call with the bot token, as Slack's SDKs send it.
    async fn json(&self, method: &str, body: Value) -> Value {
        self.json_raw(method, body).await.json().await.unwrap()
    }

    async fn json_raw(&self, method: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{method}", self.base))
            .bearer_auth(&self.bot_token)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    fn error(v: &Value) -> &str {
        assert_eq!(v["ok"], false, "expected an error, got {v}");
        v["error"].as_str().unwrap()
    }

    fn ok(v: &Value) -> &Value {
        assert_eq!(v["ok"], true, "expected ok, got {v}");
        v
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A Socket Mode client: `apps.connections.open`, then the WebSocket.
struct Sock {
    ws: Ws,
    hello: Value,
}

impl Sock {
    async fn open(fake: &FakeSlack) -> Self {
        let api = Api::new(fake);
        let (_, opened) = api
            .form_as("apps.connections.open", Some(&fake.app_token()), &[])
            .await;
        let url = Api::ok(&opened)["url"].as_str().unwrap().to_string();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut sock = Self {
            ws,
            hello: Value::Null,
        };
        sock.hello = sock.next().await;
        assert_eq!(sock.hello["type"], "hello");
        sock
    }

    /// The next text frame, as JSON.
    async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(T, self.ws.next())
                .await
                .expect("a frame in time");
            match frame {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    async fn envelope(&mut self) -> Value {
        let env = self.next().await;
        assert!(env["envelope_id"].is_string(), "not an envelope: {env}");
        env
    }

    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn ack(&mut self, env: &Value) {
        self.send(json!({ "envelope_id": env["envelope_id"] }))
            .await;
    }

    /// The next envelope, acknowledged.
    async fn take(&mut self) -> Value {
        let env = self.envelope().await;
        self.ack(&env).await;
        env
    }

    /// The frame after the connection ended: `Ok(close)` or the error.
    async fn end(&mut self) -> Result<Message, String> {
        loop {
            match tokio::time::timeout(T, self.ws.next())
                .await
                .expect("the end in time")
            {
                Some(Ok(m @ Message::Close(_))) => return Ok(m),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("end of stream".into()),
            }
        }
    }
}

// ---- An app's HTTP endpoint --------------------------------------------------

#[derive(Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// How the endpoint answers the next request.
#[derive(Debug, Clone)]
enum Answer {
    Status(u16),
    /// Answers 500 with `X-Slack-No-Retry: 1`.
    NoRetry,
    /// Answers 200 only after this long.
    Slow(Duration),
    Json(Value),
    /// Echoes a `url_verification` challenge.
    Challenge,
    /// Checks the signature itself (secret, five minutes): 200 or 401.
    Verify(String),
}

struct Endpoint {
    base: String,
    got: mpsc::UnboundedReceiver<Received>,
}

impl Endpoint {
    /// Answers from `script` in order, then 200.
    async fn start(script: Vec<Answer>) -> Self {
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (tx, got) = mpsc::unbounded_channel();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let script = script.clone();
                let tx = tx.clone();
                async move {
                    let answer = script
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or(Answer::Status(200));
                    let _ = tx.send(Received {
                        path: uri.path().to_string(),
                        headers: headers.clone(),
                        body: body.clone(),
                    });
                    respond(answer, &headers, &body).await
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, got }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(T, self.got.recv())
            .await
            .expect("a request in time")
            .unwrap()
    }
}

async fn respond(answer: Answer, headers: &HeaderMap, body: &Bytes) -> axum::response::Response {
    match answer {
        Answer::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
        Answer::NoRetry => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("x-slack-no-retry", "1")],
        )
            .into_response(),
        Answer::Slow(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
        Answer::Json(v) => axum::Json(v).into_response(),
        Answer::Challenge => {
            let v: Value = serde_json::from_slice(body).unwrap();
            axum::Json(json!({ "challenge": v["challenge"] })).into_response()
        }
        Answer::Verify(secret) => {
            if verify(&secret, headers, body) {
                StatusCode::OK.into_response()
            } else {
                StatusCode::UNAUTHORIZED.into_response()
            }
        }
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Slack's documented check, written independently of the fake.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let (Some(ts), Some(sig)) = (
        header(headers, "x-slack-request-timestamp"),
        header(headers, "x-slack-signature"),
    ) else {
        return false;
    };
    let Ok(ts_num) = ts.parse::<i64>() else {
        return false;
    };
    if (unix_now() - ts_num).abs() > 300 {
        return false;
    }
    let Some(hex) = sig.strip_prefix("v0=") else {
        return false;
    };
    let Some(tag) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let base = [b"v0:", ts.as_bytes(), b":", body].concat();
    hmac::verify(&key, &base, &tag).is_ok()
}

// ---- A workspace ---------------------------------------------------------------

struct World {
    fake: FakeSlack,
    api: Api,
    alice: FakeUser,
    bot: FakeUser,
    /// Public, with alice and the bot.
    general: FakeChannel,
}

async fn world(config: FakeSlackConfig) -> World {
    let fake = FakeSlack::start(config).await;
    let alice = fake.create_user("alice");
    let bot = fake.bot_user();
    let general = fake.create_channel("general", ChannelKind::Public, &[&alice, &bot]);
    World {
        api: Api::new(&fake),
        fake,
        alice,
        bot,
        general,
    }
}

async fn unlimited() -> World {
    world(FakeSlackConfig::without_rate_limits()).await
}

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(fixtures_dir().join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slack")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

// ---- Web API -----------------------------------------------------------------

#[tokio::test]
async fn tokens_are_checked_and_unknown_methods_are_404() {
    let w = unlimited().await;
    let (status, me) = w
        .api
        .form_as("auth.test", Some(&w.fake.bot_token()), &[])
        .await;
    assert_eq!(status, 200);
    Api::ok(&me);
    assert_eq!(me["user_id"], w.bot.id);
    assert_eq!(me["bot_id"], w.fake.config().bot_id);
    assert_eq!(me["team_id"], w.fake.config().team_id);
    assert_eq!(me["url"], "https://switchboard-test.slack.com/");
    assert_eq!(me["is_enterprise_install"], false);
    for k in ["team", "user"] {
        assert!(me[k].is_string(), "{k}");
    }

    let refused = [
        ("auth.test", None, "not_authed"),
        (
            "auth.test",
            Some("xoxb-not-ours".to_string()),
            "invalid_auth",
        ),
        (
            "auth.test",
            Some(w.fake.app_token()),
            "not_allowed_token_type",
        ),
        (
            "apps.connections.open",
            Some(w.fake.bot_token()),
            "not_allowed_token_type",
        ),
        ("apps.connections.open", None, "not_authed"),
    ];
    for (method, token, error) in refused {
        let (status, v) = w.api.form_as(method, token.as_deref(), &[]).await;
        assert_eq!((status, Api::error(&v)), (200, error), "{method} {token:?}");
    }

    // The token may also come as an argument.
    let (_, v) = w
        .api
        .form_as("auth.test", None, &[("token", &w.fake.bot_token())])
        .await;
    Api::ok(&v);

    for name in ["chat.nope", "chat.postmessage"] {
        let (status, v) = w.api.form_as(name, Some(&w.fake.bot_token()), &[]).await;
        assert_eq!((status, Api::error(&v)), (404, "unknown_method"), "{name}");
    }

    // JSON without a charset earns Slack's warning.
    let res = reqwest::Client::new()
        .post(format!("{}auth.test", w.fake.api_url()))
        .bearer_auth(w.fake.bot_token())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["warning"], "missing_charset");
    assert_eq!(
        v["response_metadata"]["warnings"],
        json!(["missing_charset"])
    );

    let calls = w.fake.calls();
    assert_eq!(calls[0].token, TokenKind::Bot);
    assert_eq!(calls[1].token, TokenKind::None);
    assert_eq!(calls[2].token, TokenKind::Unknown);
    assert_eq!(calls[3].token, TokenKind::App);
    assert!(
        calls
            .iter()
            .any(|c| c.method == "chat.nope" && c.http_status == 404)
    );
}

#[tokio::test]
async fn post_message_answers_like_slack_and_threads() {
    let w = unlimited().await;
    let first = w
        .api
        .form(
            "chat.postMessage",
            &[("channel", &w.general.id), ("text", "hello")],
        )
        .await;
    Api::ok(&first);
    assert_eq!(first["channel"], w.general.id);
    let ts = first["ts"].as_str().unwrap().to_string();
    let m = &first["message"];
    assert_eq!(m["type"], "message");
    assert_eq!(m["text"], "hello");
    assert_eq!(m["user"], w.bot.id);
    assert_eq!(m["ts"], ts);
    assert_eq!(m["bot_id"], w.fake.config().bot_id);
    assert_eq!(m["app_id"], w.fake.config().app_id);
    assert_eq!(m["bot_profile"]["id"], w.fake.config().bot_id);
    assert_eq!(m["team"], w.fake.config().team_id);

    // JSON bodies, threads.
    let reply = w
        .api
        .json(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "in thread", "thread_ts": ts, "mrkdwn": true}),
        )
        .await;
    assert_eq!(Api::ok(&reply)["message"]["thread_ts"], ts);
    assert_eq!(reply["message"]["parent_user_id"], w.bot.id);

    // ts grow strictly and sort as text.
    let mut last = reply["ts"].as_str().unwrap().to_string();
    for i in 0..5 {
        let v = w
            .api
            .form(
                "chat.postMessage",
                &[("channel", &w.general.id), ("text", &i.to_string())],
            )
            .await;
        let next = v["ts"].as_str().unwrap().to_string();
        assert!(next > last, "{next} after {last}");
        last = next;
    }
    let top = w.fake.bot_messages(&w.general, None);
    assert_eq!(top.len(), 6);
    let replies = w.fake.bot_messages(&w.general, Some(&ts));
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].text, "in thread");

    // Blocks alone are enough; neither is `no_text`.
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]);
    let v = w
        .api
        .form(
            "chat.postMessage",
            &[("channel", &w.general.id), ("blocks", &blocks.to_string())],
        )
        .await;
    assert_eq!(Api::ok(&v)["message"]["blocks"], blocks);

    let stranger = w.fake.create_user("stranger");
    let outside = w
        .fake
        .create_channel("outside", ChannelKind::Public, &[&w.alice]);
    let secret = w
        .fake
        .create_channel("secret", ChannelKind::Private, &[&w.alice]);
    let errors = [
        (
            vec![("channel", "C0NOSUCHONE"), ("text", "x")],
            "channel_not_found",
        ),
        (
            vec![("channel", outside.id.as_str()), ("text", "x")],
            "not_in_channel",
        ),
        (
            vec![("channel", secret.id.as_str()), ("text", "x")],
            "channel_not_found",
        ),
        (vec![("channel", w.general.id.as_str())], "no_text"),
        (
            vec![
                ("channel", w.general.id.as_str()),
                ("text", "x"),
                ("thread_ts", "yesterday"),
            ],
            "invalid_thread_ts",
        ),
        (
            vec![("channel", w.general.id.as_str()), ("blocks", "{")],
            "invalid_blocks",
        ),
    ];
    for (args, error) in errors {
        let v = w.api.form("chat.postMessage", &args).await;
        assert_eq!(Api::error(&v), error, "{args:?}");
    }

    // A user id posts to the bot's DM with them.
    let v = w
        .api
        .form(
            "chat.postMessage",
            &[("channel", &stranger.id), ("text", "psst")],
        )
        .await;
    let dm = w.fake.open_dm(&stranger);
    assert_eq!(Api::ok(&v)["channel"], dm.id);
    assert_eq!(dm.kind, ChannelKind::Im);

    // Over 40,000 characters: truncated, not refused.
    let long = "x".repeat(40_001);
    let v = w
        .api
        .form(
            "chat.postMessage",
            &[("channel", &w.general.id), ("text", &long)],
        )
        .await;
    assert_eq!(
        Api::ok(&v)["message"]["text"].as_str().unwrap().len(),
        40_000
    );

    // A well-formed thread_ts naming nothing: accepted, invisible at top level.
    let orphan = w
        .api
        .form(
            "chat.postMessage",
            &[
                ("channel", &w.general.id),
                ("text", "lost"),
                ("thread_ts", "1500000000.000100"),
            ],
        )
        .await;
    Api::ok(&orphan);
    // reply_broadcast shows a reply in the channel too.
    let loud = w
        .api
        .json(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "loud", "thread_ts": ts, "reply_broadcast": true}),
        )
        .await;
    assert_eq!(Api::ok(&loud)["message"]["subtype"], "thread_broadcast");
    let history = w
        .api
        .form(
            "conversations.history",
            &[("channel", &w.general.id), ("limit", "100")],
        )
        .await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(!texts.contains(&"lost"), "{texts:?}");
    assert!(!texts.contains(&"in thread"));
    assert_eq!(texts[0], "loud", "newest first");
}

#[tokio::test]
async fn update_keeps_every_version_and_only_edits_the_bots_messages() {
    let w = unlimited().await;
    let posted = w
        .api
        .form(
            "chat.postMessage",
            &[("channel", &w.general.id), ("text", "Working…")],
        )
        .await;
    let ts = posted["ts"].as_str().unwrap().to_string();
    for text in ["Working… step 1", "Done: 3 files changed"] {
        let v = w
            .api
            .form(
                "chat.update",
                &[("channel", &w.general.id), ("ts", &ts), ("text", text)],
            )
            .await;
        Api::ok(&v);
        assert_eq!(v["channel"], w.general.id);
        assert_eq!(v["ts"], ts);
        assert_eq!(v["text"], text);
        assert_eq!(v["message"]["text"], text);
        assert!(v["message"]["edited"]["ts"].is_string());
    }
    let m = w.fake.message(&w.general, &ts).unwrap();
    let texts: Vec<&str> = m.versions.iter().map(|v| v.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Working…", "Working… step 1", "Done: 3 files changed"]
    );
    assert_eq!(m.edits(), 2);

    let theirs = w.fake.user_says(&w.general, &w.alice, "mine").await;
    let cases = [
        (
            vec![("ts", "1500000000.000001"), ("text", "x")],
            "message_not_found",
        ),
        (
            vec![("ts", theirs.as_str()), ("text", "x")],
            "cant_update_message",
        ),
        (vec![("ts", ts.as_str())], "no_text"),
    ];
    for (mut args, error) in cases {
        args.push(("channel", &w.general.id));
        let v = w.api.form("chat.update", &args).await;
        assert_eq!(Api::error(&v), error, "{args:?}");
    }
}

#[tokio::test]
async fn reactions_follow_slacks_rules() {
    let w = unlimited().await;
    let ts = w.fake.user_says(&w.general, &w.alice, "please look").await;
    let add = |name: &'static str, ts: String| {
        let api = &w.api;
        let channel = w.general.id.clone();
        async move {
            api.form(
                "reactions.add",
                &[("channel", &channel), ("timestamp", &ts), ("name", name)],
            )
            .await
        }
    };
    Api::ok(&add("eyes", ts.clone()).await);
    assert_eq!(
        Api::error(&add("eyes", ts.clone()).await),
        "already_reacted"
    );
    assert_eq!(Api::error(&add(":eyes:", ts.clone()).await), "invalid_name");
    assert_eq!(
        Api::error(&add("eyes", "1500000000.000009".into()).await),
        "message_not_found"
    );
    assert_eq!(
        Api::error(&add("eyes", "nope".into()).await),
        "bad_timestamp"
    );
    Api::ok(&add("white_check_mark", ts.clone()).await);
    assert_eq!(
        w.fake.reactions(&w.general, &ts),
        [
            ("eyes".to_string(), vec![w.bot.id.clone()]),
            ("white_check_mark".to_string(), vec![w.bot.id.clone()]),
        ]
    );
    let remove = |name: &'static str| {
        let (api, channel, ts) = (&w.api, w.general.id.clone(), ts.clone());
        async move {
            api.form(
                "reactions.remove",
                &[("channel", &channel), ("timestamp", &ts), ("name", name)],
            )
            .await
        }
    };
    Api::ok(&remove("eyes").await);
    assert_eq!(Api::error(&remove("eyes").await), "no_reaction");
    w.fake
        .wait_for_reaction(&w.general, &ts, "white_check_mark", T)
        .await;
}

#[tokio::test]
async fn ephemeral_messages_are_for_one_member() {
    let w = unlimited().await;
    let v = w
        .api
        .form(
            "chat.postEphemeral",
            &[
                ("channel", &w.general.id),
                ("user", &w.alice.id),
                ("text", "only you"),
            ],
        )
        .await;
    let ts = Api::ok(&v)["message_ts"].as_str().unwrap().to_string();
    let e = w
        .fake
        .wait_for_ephemeral(&w.alice, |e| e.text == "only you", T)
        .await;
    assert_eq!(
        (e.channel.as_str(), e.message_ts.as_str()),
        (w.general.id.as_str(), ts.as_str())
    );
    assert!(
        w.fake.messages(&w.general).is_empty(),
        "not a channel message"
    );
    let bob = w.fake.create_user("bob");
    let v = w
        .api
        .form(
            "chat.postEphemeral",
            &[("channel", &w.general.id), ("user", &bob.id), ("text", "x")],
        )
        .await;
    assert_eq!(Api::error(&v), "user_not_in_channel");
}

#[tokio::test]
async fn files_upload_in_three_steps() {
    let w = unlimited().await;
    let thread = w
        .fake
        .user_says(&w.general, &w.alice, "screenshot please")
        .await;
    let png = b"\x89PNG\r\n\x1a\nfake image bytes".to_vec();
    let len = png.len().to_string();
    let got = w
        .api
        .form(
            "files.getUploadURLExternal",
            &[
                ("filename", "shot.png"),
                ("length", &len),
                ("alt_txt", "the page"),
            ],
        )
        .await;
    let upload_url = Api::ok(&got)["upload_url"].as_str().unwrap().to_string();
    let file_id = got["file_id"].as_str().unwrap().to_string();
    assert!(file_id.starts_with('F'), "{file_id}");
    let res = reqwest::Client::new()
        .post(&upload_url)
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), format!("OK - {len}"));

    // Completion with `files` as JSON text in a form body.
    let files = json!([{"id": file_id, "title": "Screenshot"}]).to_string();
    let done = w
        .api
        .form(
            "files.completeUploadExternal",
            &[
                ("files", &files),
                ("channel_id", &w.general.id),
                ("thread_ts", &thread),
                ("initial_comment", "Here it is"),
            ],
        )
        .await;
    let f = &Api::ok(&done)["files"][0];
    assert_eq!(
        (f["id"].as_str(), f["title"].as_str()),
        (Some(file_id.as_str()), Some("Screenshot"))
    );
    assert_eq!(f["name"], "shot.png");
    assert_eq!(f["mimetype"], "image/png");
    let shared = w
        .fake
        .wait_for_file(&w.general, |f| f.id == file_id, T)
        .await;
    assert_eq!(shared.bytes.as_deref(), Some(png.as_slice()));
    assert_eq!(shared.thread_ts.as_deref(), Some(thread.as_str()));
    let carrier = w.fake.bot_messages(&w.general, Some(&thread));
    assert_eq!(carrier.len(), 1);
    assert_eq!(carrier[0].text, "Here it is");
    assert_eq!(carrier[0].files, std::slice::from_ref(&file_id));

    // Multipart upload, JSON completion; then the refusals.
    let got = w
        .api
        .json(
            "files.getUploadURLExternal",
            json!({"filename": "notes.txt", "length": 5}),
        )
        .await;
    let (url, id) = (
        got["upload_url"].as_str().unwrap(),
        got["file_id"].as_str().unwrap(),
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("notes.txt"),
    );
    let res = reqwest::Client::new()
        .post(url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "OK - 5");
    let v = w
        .api
        .json(
            "files.completeUploadExternal",
            json!({"files": [{"id": id}]}),
        )
        .await;
    assert_eq!(Api::ok(&v)["files"][0]["title"], "notes.txt");
    assert_eq!(
        Api::error(
            &w.api
                .json(
                    "files.completeUploadExternal",
                    json!({"files": [{"id": id}]})
                )
                .await
        ),
        "file_not_found"
    );

    let v = w
        .api
        .form("files.getUploadURLExternal", &[("filename", "x.txt")])
        .await;
    assert_eq!(Api::error(&v), "invalid_arguments");
    assert_eq!(
        v["response_metadata"]["messages"][0],
        "[ERROR] missing required field: length"
    );
    let got = w
        .api
        .form(
            "files.getUploadURLExternal",
            &[("filename", "x.txt"), ("length", "10")],
        )
        .await;
    reqwest::Client::new()
        .post(got["upload_url"].as_str().unwrap())
        .body("short")
        .send()
        .await
        .unwrap();
    let files = json!([{"id": got["file_id"]}]).to_string();
    let v = w
        .api
        .form("files.completeUploadExternal", &[("files", &files)])
        .await;
    assert_eq!(Api::error(&v), "invalid_arguments", "length mismatch");
    let v = w
        .api
        .form(
            "files.completeUploadExternal",
            &[("files", r#"[{"id":"F0NOTAFILE"}]"#)],
        )
        .await;
    assert_eq!(Api::error(&v), "file_not_found");
}

#[tokio::test]
async fn history_and_replies_paginate_with_slacks_cursors() {
    let w = unlimited().await;
    let mut tops = Vec::new();
    for i in 0..5 {
        tops.push(
            w.fake
                .user_says(&w.general, &w.alice, &format!("m{i}"))
                .await,
        );
    }
    for i in 0..3 {
        w.fake
            .user_replies(&w.general, &tops[1], &w.alice, &format!("r{i}"))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let v = w
            .api
            .form(
                "conversations.history",
                &[
                    ("channel", &w.general.id),
                    ("limit", "2"),
                    ("cursor", &cursor),
                ],
            )
            .await;
        Api::ok(&v);
        for m in v["messages"].as_array().unwrap() {
            seen.push(m["text"].as_str().unwrap().to_string());
        }
        cursor = v["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(v["has_more"], !cursor.is_empty());
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["m4", "m3", "m2", "m1", "m0"]);
    let v = w
        .api
        .form(
            "conversations.history",
            &[
                ("channel", &w.general.id),
                ("oldest", &tops[1]),
                ("latest", &tops[3]),
            ],
        )
        .await;
    assert_eq!(
        v["messages"].as_array().unwrap().len(),
        1,
        "bounds are exclusive"
    );
    let parent = w
        .api
        .form(
            "conversations.history",
            &[
                ("channel", &w.general.id),
                ("limit", "1"),
                ("latest", &tops[2]),
            ],
        )
        .await;
    assert_eq!(parent["messages"][0]["reply_count"], 3);
    assert_eq!(parent["messages"][0]["reply_users"], json!([w.alice.id]));

    // Replies, oldest first, from the parent's or a reply's ts.
    let r = w
        .api
        .form(
            "conversations.replies",
            &[("channel", &w.general.id), ("ts", &tops[1]), ("limit", "2")],
        )
        .await;
    let texts: Vec<&str> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["m1", "r0"]);
    assert_eq!(r["has_more"], true);
    assert_eq!(r["messages"][1]["parent_user_id"], w.alice.id);
    let cursor = r["response_metadata"]["next_cursor"].as_str().unwrap();
    let r2 = w
        .api
        .form(
            "conversations.replies",
            &[
                ("channel", &w.general.id),
                ("ts", &tops[1]),
                ("cursor", cursor),
            ],
        )
        .await;
    assert_eq!(r2["messages"].as_array().unwrap().len(), 2);
    assert_eq!(r2["has_more"], false);

    let outside = w
        .fake
        .create_channel("outside", ChannelKind::Public, &[&w.alice]);
    let errors = [
        (
            "conversations.history",
            vec![("channel", outside.id.as_str())],
            "not_in_channel",
        ),
        (
            "conversations.history",
            vec![("channel", w.general.id.as_str()), ("cursor", "zzz")],
            "invalid_cursor",
        ),
        (
            "conversations.history",
            vec![("channel", w.general.id.as_str()), ("oldest", "x")],
            "invalid_ts_oldest",
        ),
        (
            "conversations.replies",
            vec![
                ("channel", w.general.id.as_str()),
                ("ts", "1500000000.000001"),
            ],
            "thread_not_found",
        ),
    ];
    for (method, args, error) in errors {
        assert_eq!(
            Api::error(&w.api.form(method, &args).await),
            error,
            "{method} {args:?}"
        );
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_record_violations() {
    // A 2 s refill keeps the burst check independent of how fast this
    // machine runs the calls.
    let config = FakeSlackConfig {
        method_per_minute: vec![("chat.update".into(), 2)],
        post_burst: 2,
        post_refill: Duration::from_secs(2),
        ..FakeSlackConfig::default()
    };
    let w = world(config).await;
    let posted = w
        .api
        .form(
            "chat.postMessage",
            &[("channel", &w.general.id), ("text", "a")],
        )
        .await;
    let ts = posted["ts"].as_str().unwrap().to_string();
    let update = || {
        w.api.json_raw(
            "chat.update",
            json!({"channel": w.general.id, "ts": ts, "text": "b"}),
        )
    };
    for _ in 0..2 {
        assert_eq!(update().await.status(), 200);
    }
    let limited = update().await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((58..=60).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body, json!({"ok": false, "error": "ratelimited"}));
    assert!(
        w.fake.violations().is_empty(),
        "a first 429 is no violation"
    );
    // Calling again inside the window is.
    assert_eq!(update().await.status(), 429);
    let v = w.fake.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].method, "chat.update");
    assert!(v[0].early_by() > Duration::from_secs(50));
    // Other methods have their own budget.
    Api::ok(&w.api.form("auth.test", &[]).await);

    // chat.postMessage: a burst of 2 per channel, then one per refill.
    let post = || {
        w.api.json_raw(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "x"}),
        )
    };
    assert_eq!(post().await.status(), 200);
    let limited = post().await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    // Honouring Retry-After is fine: the bucket has refilled. (Time must
    // pass here; nothing else would show it.)
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(post().await.status(), 200);
    assert_eq!(w.fake.violations().len(), 1, "no new violation");
    let errors: Vec<_> = w
        .fake
        .calls_to("chat.postMessage")
        .into_iter()
        .map(|c| c.error)
        .collect();
    assert_eq!(errors, [None, None, Some("ratelimited".into()), None]);
}

// ---- Socket Mode ------------------------------------------------------------------

#[tokio::test]
async fn socket_mode_says_hello_delivers_events_and_records_acks() {
    let w = unlimited().await;
    let mut s = Sock::open(&w.fake).await;
    assert_eq!(s.hello["num_connections"], 1);
    assert_eq!(s.hello["connection_info"]["app_id"], w.fake.config().app_id);
    assert_eq!(s.hello["debug_info"]["approximate_connection_time"], 18060);

    // A mention in a channel: a `message` and an `app_mention`.
    let text = format!("{} run the tests", w.bot.mention());
    let ts = w.fake.user_says(&w.general, &w.alice, &text).await;
    let a = s.take().await;
    let b = s.take().await;
    for env in [&a, &b] {
        assert_eq!(env["type"], "events_api");
        assert_eq!(env["retry_attempt"], 0);
        assert_eq!(env["retry_reason"], "");
        assert_eq!(env["accepts_response_payload"], false);
        assert_eq!(env["payload"]["type"], "event_callback");
        assert_eq!(env["payload"]["event"]["ts"], ts);
        assert_eq!(env["payload"]["event"]["channel"], w.general.id);
        assert_eq!(env["payload"]["event"]["text"], text);
    }
    let types: BTreeSet<&str> = [&a, &b]
        .iter()
        .map(|e| e["payload"]["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(["message", "app_mention"]));
    assert_ne!(a["payload"]["event_id"], b["payload"]["event_id"]);
    assert_ne!(a["envelope_id"], b["envelope_id"]);
    let event_id = a["payload"]["event_id"].as_str().unwrap();
    w.fake.wait_for_event_acked(event_id, T).await;

    // The bot's own post comes back, with its bot_id.
    w.api
        .form(
            "chat.postMessage",
            &[
                ("channel", &w.general.id),
                ("text", "on it"),
                ("thread_ts", &ts),
            ],
        )
        .await;
    let echo = s.take().await;
    let e = &echo["payload"]["event"];
    assert_eq!(
        (e["type"].as_str(), e["user"].as_str()),
        (Some("message"), Some(w.bot.id.as_str()))
    );
    assert_eq!(e["bot_id"], w.fake.config().bot_id);
    assert_eq!(e["thread_ts"], ts);
    assert_eq!(e["parent_user_id"], w.alice.id);

    // Nothing from a channel the bot is not in, and no app_mention in a DM:
    // the next envelope is the next thing the bot may hear.
    let outside = w
        .fake
        .create_channel("outside", ChannelKind::Public, &[&w.alice]);
    w.fake
        .user_says(&outside, &w.alice, &format!("{} hello?", w.bot.mention()))
        .await;
    let dm = w.fake.open_dm(&w.alice);
    w.fake
        .user_says(&dm, &w.alice, &format!("{} in a DM", w.bot.mention()))
        .await;
    let im = s.take().await;
    assert_eq!(im["payload"]["event"]["channel_type"], "im");
    let marker = w.fake.user_says(&w.general, &w.alice, "marker").await;
    assert_eq!(s.take().await["payload"]["event"]["ts"], marker);

    w.fake
        .wait_for(T, |f| f.unacked().is_empty().then_some(()))
        .await
        .unwrap();
    assert!(w.fake.acks().iter().all(|a| !a.late && !a.unknown));

    // An ack for an envelope never sent is recorded as such.
    s.send(json!({"envelope_id": "00000000-0000-0000-0000-000000000000"}))
        .await;
    let unknown = w
        .fake
        .wait_for(T, |f| f.acks().into_iter().find(|a| a.unknown))
        .await;
    assert!(unknown.is_some());

    // Tickets are single-use.
    let (_, opened) = w
        .api
        .form_as("apps.connections.open", Some(&w.fake.app_token()), &[])
        .await;
    let url = opened["url"].as_str().unwrap().to_string();
    let (ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    drop(ws);
    assert!(
        tokio_tungstenite::connect_async(&url).await.is_err(),
        "reused ticket"
    );
}

#[tokio::test]
async fn socket_mode_answers_pings() {
    let w = unlimited().await;
    let mut s = Sock::open(&w.fake).await;
    s.ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    loop {
        match tokio::time::timeout(T, s.ws.next()).await.unwrap() {
            Some(Ok(Message::Pong(p))) => {
                assert_eq!(&p[..], b"are you there");
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("no pong: {other:?}"),
        }
    }
}

#[tokio::test]
async fn unacked_envelopes_are_retried_then_given_up() {
    let w = world(FakeSlackConfig::without_rate_limits().fast_retries()).await;
    let mut s = Sock::open(&w.fake).await;
    w.fake.user_says(&w.general, &w.alice, "ack me late").await;
    let first = s.envelope().await;
    let again = s.envelope().await;
    assert_eq!(again["envelope_id"], first["envelope_id"]);
    assert_eq!(
        again["payload"], first["payload"],
        "same event, same event_id"
    );
    assert_eq!(
        (
            again["retry_attempt"].as_u64(),
            again["retry_reason"].as_str()
        ),
        (Some(1), Some("timeout"))
    );
    s.ack(&again).await;
    let event_id = first["payload"]["event_id"].as_str().unwrap();
    let env = w.fake.wait_for_event_acked(event_id, T).await;
    assert_eq!(env.attempts.len(), 2);
    assert!(!w.fake.acks()[0].late, "in time for the retry");

    // Never acknowledged: the first sending and three retries, then given up.
    w.fake.user_says(&w.general, &w.alice, "never acked").await;
    let mut last = Value::Null;
    for n in 0..=3 {
        last = s.envelope().await;
        assert_eq!(last["retry_attempt"], n);
    }
    let gone = w
        .fake
        .wait_for(T, |f| f.envelopes().into_iter().find(|e| e.given_up))
        .await
        .expect("given up");
    assert_eq!(gone.attempts.len(), 4);
    s.ack(&last).await;
    let late = w
        .fake
        .wait_for(T, |f| f.acks().into_iter().find(|a| a.late))
        .await;
    assert_eq!(late.unwrap().envelope_id, gone.envelope_id);
}

#[tokio::test]
async fn a_retry_may_go_to_another_connection() {
    let w = world(FakeSlackConfig::without_rate_limits().fast_retries()).await;
    let mut a = Sock::open(&w.fake).await;
    let mut b = Sock::open(&w.fake).await;
    assert_eq!(b.hello["num_connections"], 2);
    // The fake takes open connections in turn: the first sending goes to a,
    // the retry to b.
    w.fake.user_says(&w.general, &w.alice, "anyone?").await;
    let first = a.envelope().await;
    let retry = b.envelope().await;
    assert_eq!(retry["envelope_id"], first["envelope_id"]);
    assert_eq!(retry["retry_attempt"], 1);
    b.ack(&retry).await;
    let env = w
        .fake
        .wait_for_event_acked(first["payload"]["event_id"].as_str().unwrap(), T)
        .await;
    let conns: Vec<u64> = env.attempts.iter().map(|a| a.connection).collect();
    assert_eq!(conns, [1, 2]);
}

#[tokio::test]
async fn disconnect_then_close_and_drops_queue_events_until_reconnect() {
    let w = world(FakeSlackConfig::without_rate_limits().fast_retries()).await;
    let mut s = Sock::open(&w.fake).await;
    w.fake.send_disconnect("refresh_requested");
    let d = s.next().await;
    assert_eq!(d["type"], "disconnect");
    assert_eq!(d["reason"], "refresh_requested");
    assert!(d["debug_info"]["host"].is_string());
    // A new connection takes new events; the old one gets none.
    let mut s2 = Sock::open(&w.fake).await;
    let ts = w
        .fake
        .user_says(&w.general, &w.alice, "after refresh")
        .await;
    assert_eq!(s2.take().await["payload"]["event"]["ts"], ts);
    // The old one is closed with a close frame after the grace period.
    assert!(matches!(s.end().await, Ok(Message::Close(_))));
    let closed = w
        .fake
        .wait_for(T, |f| {
            f.connections()
                .into_iter()
                .find(|c| c.id == 1 && c.close.is_some())
        })
        .await
        .unwrap();
    assert_eq!(closed.close, Some(CloseKind::AfterDisconnect));
    assert_eq!(closed.disconnect_sent.as_deref(), Some("refresh_requested"));

    // A drop: no close frame, and events wait for the next connection.
    w.fake.drop_connections();
    assert!(s2.end().await.is_err(), "no closing handshake");
    w.fake
        .wait_for(T, |f| f.open_connections().is_empty().then_some(()))
        .await
        .unwrap();
    assert_eq!(w.fake.connections()[1].close, Some(CloseKind::Dropped));
    let first = w.fake.user_says(&w.general, &w.alice, "while away 1").await;
    let second = w.fake.user_says(&w.general, &w.alice, "while away 2").await;
    let waiting = w.fake.unacked();
    assert_eq!(waiting.len(), 2);
    assert!(waiting.iter().all(|e| e.attempts.is_empty()));
    let mut s3 = Sock::open(&w.fake).await;
    assert_eq!(s3.hello["num_connections"], 1);
    let one = s3.take().await;
    let two = s3.take().await;
    assert_eq!(one["payload"]["event"]["ts"], first, "oldest first");
    assert_eq!(two["payload"]["event"]["ts"], second);
    assert_eq!(one["retry_attempt"], 0);
}

#[tokio::test]
async fn slash_commands_over_socket_mode_and_response_url() {
    let w = unlimited().await;
    let mut s = Sock::open(&w.fake).await;
    let inv = w
        .fake
        .slash_command(&w.general, &w.alice, "status please")
        .await;
    let env = s.envelope().await;
    assert_eq!(env["type"], "slash_commands");
    assert_eq!(env["accepts_response_payload"], true);
    let p = &env["payload"];
    assert_eq!(p["command"], "/switchboard");
    assert_eq!(p["text"], "status please");
    assert_eq!(p["user_id"], w.alice.id);
    assert_eq!(p["channel_id"], w.general.id);
    assert_eq!(p["channel_name"], "general");
    assert_eq!(p["trigger_id"], inv.trigger_id);
    assert!(
        p.as_object().unwrap().values().all(Value::is_string),
        "form values: {p}"
    );
    s.send(json!({"envelope_id": env["envelope_id"], "payload": {"text": "All good"}}))
        .await;
    let r = w
        .fake
        .wait_for_slash_response(|r| r.text == "All good", T)
        .await;
    assert_eq!(
        (r.via, r.response_type.as_str()),
        (SlashResponseVia::Ack, "ephemeral")
    );

    let res = reqwest::Client::new()
        .post(&inv.response_url)
        .json(&json!({"text": "Later: done", "response_type": "in_channel"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.text().await.unwrap().as_str()),
        (200, "ok")
    );
    let r = w
        .fake
        .wait_for_slash_response(|r| r.text == "Later: done", T)
        .await;
    assert_eq!(
        (r.via, r.response_type.as_str()),
        (SlashResponseVia::ResponseUrl, "in_channel")
    );
}

// ---- Events API over HTTP ---------------------------------------------------------

#[tokio::test]
async fn http_deliveries_are_signed_and_retried() {
    let w = world(FakeSlackConfig::without_rate_limits().fast_retries()).await;
    let mut app = Endpoint::start(vec![
        Answer::Status(500),
        Answer::Slow(Duration::from_millis(1500)),
        Answer::Status(200),
    ])
    .await;
    w.fake.deliver_over_http(&app.url("/slack/events"), None);
    let ts = w.fake.user_says(&w.general, &w.alice, "over http").await;
    let secret = w.fake.signing_secret();
    let mut bodies = Vec::new();
    for (n, reason) in [
        (None, None),
        (Some("1"), Some("http_error")),
        (Some("2"), Some("http_timeout")),
    ] {
        let got = app.next().await;
        assert_eq!(got.path, "/slack/events");
        assert_eq!(
            header(&got.headers, "content-type"),
            Some("application/json")
        );
        assert!(
            verify(&secret, &got.headers, &got.body),
            "signature of attempt {n:?}"
        );
        assert_eq!(header(&got.headers, "x-slack-retry-num"), n);
        assert_eq!(header(&got.headers, "x-slack-retry-reason"), reason);
        assert!(
            header(&got.headers, "user-agent")
                .unwrap()
                .starts_with("Slackbot 1.0")
        );
        bodies.push(got.body);
    }
    assert!(
        bodies.windows(2).all(|b| b[0] == b[1]),
        "the same bytes each time"
    );
    let event: Value = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(event["event"]["ts"], ts);
    let done = w
        .fake
        .wait_for_http_delivery(|d| d.retry_num == 2 && d.succeeded(), T)
        .await;
    assert_eq!(done.event_id.as_deref(), event["event_id"].as_str());
    let statuses: Vec<Option<u16>> = w.fake.http_deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Some(500), None, Some(200)]);
    assert_eq!(
        w.fake.http_deliveries()[1].failure.as_deref(),
        Some("http_timeout")
    );
}

#[tokio::test]
async fn an_app_can_refuse_retries() {
    let w = world(FakeSlackConfig::without_rate_limits().fast_retries()).await;
    let mut app = Endpoint::start(vec![Answer::NoRetry]).await;
    w.fake.deliver_over_http(&app.url("/events"), None);
    w.fake.user_says(&w.general, &w.alice, "once").await;
    app.next().await;
    // No event can show that a retry will not come: give the retry schedule
    // (50 ms) several times over to prove it does not.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.fake.http_deliveries().len(), 1);
    assert!(app.got.try_recv().is_err());
}

#[tokio::test]
async fn url_verification_and_slash_commands_over_http() {
    let w = unlimited().await;
    let mut app = Endpoint::start(vec![
        Answer::Challenge,
        Answer::Json(json!({"response_type": "ephemeral", "text": "Queued as #3"})),
    ])
    .await;
    let (challenge, d) = w
        .fake
        .send_url_verification(&app.url("/slack/events"))
        .await;
    let got = app.next().await;
    assert!(verify(&w.fake.signing_secret(), &got.headers, &got.body));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["type"], "url_verification");
    assert_eq!(d.status, Some(200));
    let answer: Value = serde_json::from_str(&d.response_body).unwrap();
    assert_eq!(answer["challenge"], challenge);

    w.fake
        .deliver_over_http(&app.url("/slack/events"), Some(&app.url("/slack/commands")));
    w.fake
        .slash_command(&w.general, &w.alice, "fix the build")
        .await;
    let got = app.next().await;
    assert_eq!(got.path, "/slack/commands");
    assert_eq!(
        header(&got.headers, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(verify(&w.fake.signing_secret(), &got.headers, &got.body));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&got.body)
        .into_owned()
        .collect();
    assert!(form.contains(&("command".into(), "/switchboard".into())));
    assert!(form.contains(&("text".into(), "fix the build".into())));
    let r = w
        .fake
        .wait_for_slash_response(|r| r.text == "Queued as #3", T)
        .await;
    assert_eq!(r.via, SlashResponseVia::HttpBody);
}

#[tokio::test]
async fn forged_and_stale_requests_for_the_apps_checks() {
    let w = unlimited().await;
    let secret = w.fake.signing_secret();
    let script = vec![Answer::Verify(secret.clone()); 4];
    let app = Endpoint::start(script).await;
    let url = app.url("/slack/events");
    let body = r#"{"type":"event_callback","event_id":"Ev1"}"#;
    let now = w.fake.unix_now();
    let json = "application/json";
    assert_eq!(
        w.fake.post_signed(&url, json, body, now, &secret).await.0,
        200
    );
    assert_eq!(
        w.fake
            .post_signed(&url, json, body, now - 600, &secret)
            .await
            .0,
        401,
        "stale"
    );
    assert_eq!(
        w.fake
            .post_signed(&url, json, body, now, "not-the-secret")
            .await
            .0,
        401
    );
    let (status, _) = w.fake.post_raw(&url, &[("Content-Type", json)], body).await;
    assert_eq!(status, 401, "unsigned");
    let (status, reason) = w
        .fake
        .post_raw("http://127.0.0.1:9/nothing", &[], "x")
        .await;
    assert_eq!((status, reason.as_str()), (0, "connection_failed"));
}

// ---- Shapes against real payloads ---------------------------------------------

#[test]
fn every_fixture_parses_and_has_a_source() {
    let readme = std::fs::read_to_string(fixtures_dir().join("README.md")).unwrap();
    let mut count = 0;
    for dir in ["events_api", "socket_mode", "slash_commands"] {
        for entry in std::fs::read_dir(fixtures_dir().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} is not in the README"
            );
            let text = std::fs::read_to_string(&path).unwrap();
            if name.ends_with(".json") {
                let v: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(v["type"].is_string(), "{name} has a type");
            } else {
                assert!(url::form_urlencoded::parse(text.as_bytes()).any(|(k, _)| k == "command"));
            }
            count += 1;
        }
    }
    assert!(count >= 19, "{count} fixtures");
}

#[tokio::test]
async fn generated_payloads_have_the_fields_of_real_ones() {
    let w = unlimited().await;
    let mut s = Sock::open(&w.fake).await;
    let hello = fixture("socket_mode/hello.json");
    assert_eq!(keys(&s.hello), keys(&hello));
    assert_eq!(keys(&s.hello["debug_info"]), keys(&hello["debug_info"]));
    assert_eq!(
        keys(&s.hello["connection_info"]),
        keys(&hello["connection_info"])
    );

    // A person's channel message, and the callback around it.
    w.fake.user_says(&w.general, &w.alice, "plain").await;
    let env = s.take().await;
    assert_eq!(
        keys(&env),
        keys(&fixture("socket_mode/events_api_app_mention.json"))
    );
    let real = fixture("events_api/message_channel.json");
    let callback = &env["payload"];
    let callback_keys = keys(callback);
    assert!(keys(&real).is_subset(&callback_keys), "{callback_keys:?}");
    let known: BTreeSet<String> = keys(&real)
        .union(&keys(&fixture("events_api/bot_message.json")))
        .cloned()
        .collect();
    assert!(callback_keys.is_subset(&known), "{callback_keys:?}");
    assert_eq!(keys(&callback["event"]), keys(&real["event"]));
    assert_eq!(
        keys(&callback["authorizations"][0]),
        keys(&real["authorizations"][0])
    );
    assert!(
        callback["event_context"]
            .as_str()
            .unwrap()
            .starts_with("4-")
    );

    // A mention: the app_mention as Slack sends it.
    w.fake
        .user_says(&w.general, &w.alice, &format!("{} hi", w.bot.mention()))
        .await;
    let pair = [s.take().await, s.take().await];
    let mention = pair
        .iter()
        .find(|e| e["payload"]["event"]["type"] == "app_mention")
        .unwrap();
    let real = fixture("socket_mode/events_api_app_mention.json");
    assert_eq!(
        keys(&mention["payload"]["event"]),
        keys(&real["payload"]["event"])
    );
    assert_eq!(
        mention["payload"]["event"]["blocks"][0]["elements"][0]["elements"][0],
        json!({"type": "user", "user_id": w.bot.id})
    );

    // A DM.
    let dm = w.fake.open_dm(&w.alice);
    w.fake.user_says(&dm, &w.alice, "psst").await;
    let env = s.take().await;
    assert_eq!(
        keys(&env["payload"]["event"]),
        keys(&fixture("events_api/message_im.json")["event"])
    );

    // The bot's own reply in a thread (posted with blocks, as the fixture).
    let parent = w.fake.user_says(&w.general, &w.alice, "parent").await;
    s.take().await;
    let blocks = json!([{"type": "rich_text", "block_id": "a1", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "TEST"}]}]}]);
    w.api
        .json(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "TEST", "thread_ts": parent, "blocks": blocks}),
        )
        .await;
    let echo = s.take().await;
    let real = fixture("events_api/message_own_bot_thread_reply.json");
    assert_eq!(keys(&echo["payload"]["event"]), keys(&real["event"]));
    assert_eq!(
        keys(&echo["payload"]["event"]["bot_profile"]),
        keys(&real["event"]["bot_profile"])
    );

    // A person's edit and deletion.
    let ts = w.fake.user_says(&w.general, &w.alice, "tpyo").await;
    s.take().await;
    w.fake.user_edits(&w.general, &ts, "typo").await;
    let changed = s.take().await;
    let real = fixture("events_api/message_changed_unfurl.json");
    let event = &changed["payload"]["event"];
    assert_eq!(keys(event), keys(&real["event"]));
    let inner = fixture("events_api/message_changed.json");
    assert!(keys(&event["message"]).is_subset(&keys(&inner["event"]["message"])));
    assert!(keys(&event["previous_message"]).is_subset(&keys(&inner["event"]["previous_message"])));
    assert_eq!(event["message"]["text"], "typo");
    assert_eq!(event["previous_message"]["text"], "tpyo");
    w.fake.user_deletes(&w.general, &ts).await;
    let deleted = s.take().await;
    assert_eq!(
        keys(&deleted["payload"]["event"]),
        keys(&fixture("events_api/message_deleted.json")["event"])
    );
    assert_eq!(deleted["payload"]["event"]["deleted_ts"], ts);

    // Joining a channel, a legacy integration, another app's bot.
    let ops = w
        .fake
        .create_channel("ops", ChannelKind::Public, &[&w.alice]);
    w.fake.invite_bot(&ops, &w.alice).await;
    let join = s.take().await;
    assert_eq!(
        keys(&join["payload"]["event"]),
        keys(&fixture("events_api/channel_join.json")["event"])
    );
    w.fake.integration_says(&ops, "CI", "build green").await;
    let legacy = s.take().await;
    let real = fixture("events_api/bot_message.json");
    assert!(keys(&legacy["payload"]["event"]).is_subset(&keys(&real["event"])));
    let other = w.fake.create_bot_user("dependabot");
    w.fake.join(&ops, &other);
    w.fake.bot_says(&ops, &other, "bump", None).await;
    let theirs = s.take().await;
    assert_eq!(
        theirs["payload"]["event"]["bot_id"],
        other.bot_id().unwrap()
    );
    assert_ne!(theirs["payload"]["event"]["bot_id"], w.fake.config().bot_id);

    // Slash commands: the envelope and the form.
    w.fake.slash_command(&w.general, &w.alice, "").await;
    let slash = s.take().await;
    let real = fixture("socket_mode/slash_commands.json");
    assert_eq!(keys(&slash), keys(&real));
    let ours = keys(&slash["payload"]);
    let theirs = keys(&real["payload"]);
    let extra: Vec<&String> = ours.difference(&theirs).collect();
    assert_eq!(extra, ["is_enterprise_install"]);
    let form =
        std::fs::read_to_string(fixtures_dir().join("slash_commands/signed_example.form")).unwrap();
    let form_keys: BTreeSet<String> = url::form_urlencoded::parse(form.as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect();
    assert!(form_keys.is_subset(&ours));

    // disconnect.
    w.fake.send_disconnect("warning");
    let d = s.next().await;
    let real = fixture("socket_mode/disconnect_warning.json");
    assert_eq!(keys(&d), keys(&real));
    assert_eq!(keys(&d["debug_info"]), keys(&real["debug_info"]));
}

#[tokio::test]
async fn fixtures_delivered_with_send_event_arrive_unchanged() {
    let w = unlimited().await;
    let mut s = Sock::open(&w.fake).await;
    let real = fixture("events_api/message_changed_by_bot.json");
    let event_id = w.fake.send_event(real["event"].clone()).await;
    let env = s.take().await;
    assert_eq!(env["payload"]["event"], real["event"]);
    assert_eq!(env["payload"]["event_id"], event_id);
}

#[tokio::test]
async fn message_metadata_is_kept_and_shown_only_when_asked_and_answers_can_be_lost() {
    let w = unlimited().await;
    let metadata = json!({"event_type": "task_created", "event_payload": {"id": "TK-1", "n": 2}});
    let posted = w
        .api
        .json(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "root", "metadata": metadata}),
        )
        .await;
    assert_eq!(posted["ok"], true, "{posted}");
    assert_eq!(posted["message"]["metadata"], metadata);
    // In a form, metadata is JSON text.
    let text = metadata.to_string();
    let reply = w
        .api
        .form(
            "chat.postMessage",
            &[
                ("channel", &w.general.id),
                ("text", "reply"),
                ("thread_ts", posted["ts"].as_str().unwrap()),
                ("metadata", &text),
            ],
        )
        .await;
    assert_eq!(reply["ok"], true, "{reply}");
    let bad = w
        .api
        .json(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "x", "metadata": {"event_type": "t"}}),
        )
        .await;
    assert_eq!(bad["error"], "invalid_metadata_format");

    let ts = posted["ts"].as_str().unwrap();
    let plain = w
        .api
        .form(
            "conversations.replies",
            &[("channel", &w.general.id), ("ts", ts)],
        )
        .await;
    assert!(plain["messages"][1].get("metadata").is_none(), "{plain}");
    let all = w
        .api
        .form(
            "conversations.replies",
            &[
                ("channel", &w.general.id),
                ("ts", ts),
                ("include_all_metadata", "true"),
            ],
        )
        .await;
    assert_eq!(all["messages"][1]["metadata"], metadata);
    let history = w
        .api
        .form(
            "conversations.history",
            &[("channel", &w.general.id), ("include_all_metadata", "true")],
        )
        .await;
    assert_eq!(history["messages"][0]["metadata"], metadata);

    w.fake.fail_after_posting(&[true]);
    let response = w
        .api
        .json_raw(
            "chat.postMessage",
            json!({"channel": w.general.id, "text": "lost"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let texts: Vec<String> = w
        .fake
        .bot_messages(&w.general, None)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(
        texts,
        ["root", "lost"],
        "the message was posted all the same"
    );
}
