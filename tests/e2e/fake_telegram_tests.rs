//! Proves the fake Telegram server against the real client the bot uses
//! (teloxide) and against raw HTTP, so the project's tests can trust it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ChatAction, ChatKind as TgChatKind, InputFile, Message, MessageEntityKind,
    MessageId, MessageKind, ParseMode, PublicChatKind, ReplyParameters, ThreadId, Update,
    UpdateKind,
};
use teloxide::{ApiError, RequestError};

use crate::support::fake_telegram::{
    ChatKind, FakeTelegram, FakeTelegramConfig, UserMessage, WebhookInfo,
};
use crate::support::telegram_html::EntityKind;

const T: Duration = Duration::from_secs(5);

fn bot(fake: &FakeTelegram) -> Bot {
    Bot::new(fake.token()).set_api_url(fake.api_url().parse().expect("api url"))
}

async fn unlimited() -> FakeTelegram {
    FakeTelegram::start(FakeTelegramConfig::without_rate_limits()).await
}

fn method_url(fake: &FakeTelegram, method: &str) -> String {
    format!("{}/bot{}/{method}", fake.api_url(), fake.token())
}

fn message_of(update: &Update) -> &Message {
    match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m,
        other => panic!("expected a message update, got {other:?}"),
    }
}

#[tokio::test]
async fn get_me_through_teloxide() {
    let fake = unlimited().await;
    let me = bot(&fake).get_me().await.expect("getMe");
    assert_eq!(me.user.id, UserId(123456));
    assert_eq!(me.username(), fake.bot_username());
    assert!(me.user.is_bot);
    assert!(!me.has_main_web_app);
    assert_eq!(fake.calls()[0].method, "getMe");
}

#[tokio::test]
async fn http_surface_tokens_methods_and_encodings() {
    let fake = unlimited().await;
    let http = reqwest::Client::new();
    let wrong = format!("{}/bot999:nope/getMe", fake.api_url());
    let res = http.get(&wrong).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    let res = http
        .post(method_url(&fake, "sendTelepathy"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );
    // Method names are case-insensitive; the record uses the canonical name.
    let res = http.get(method_url(&fake, "GETME")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["ok"], true);
    assert_eq!(me["result"]["has_main_web_app"], false);
    assert_eq!(me["result"]["can_connect_to_business"], false);
    assert_eq!(fake.calls().last().unwrap().method, "getMe");

    let user = fake.user(42, "Ann", Some("ann"));
    let chat = fake.private_chat(&user);
    // Query string.
    let url = format!(
        "{}?chat_id=42&text=via%20query",
        method_url(&fake, "sendMessage")
    );
    assert_eq!(http.get(url).send().await.unwrap().status(), 200);
    // Form.
    let res = http
        .post(method_url(&fake, "sendMessage"))
        .form(&[("chat_id", "42"), ("text", "via form & more")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // JSON, with the full Message shape checked.
    let res: Value = http
        .post(method_url(&fake, "sendMessage"))
        .json(&json!({"chat_id": 42, "text": "  via json  "}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &res["result"];
    assert_eq!(m["message_id"], 3);
    assert_eq!(
        m["from"],
        json!({"id": 123456, "is_bot": true, "first_name": "Switchboard", "username": "switchboard_test_bot"})
    );
    assert_eq!(
        m["chat"],
        json!({"id": 42, "type": "private", "first_name": "Ann", "username": "ann"})
    );
    assert_eq!(
        m["text"], "via json",
        "Telegram trims surrounding whitespace"
    );
    assert!(m["date"].as_i64().unwrap() > 1_700_000_000);
    let texts: Vec<String> = fake
        .bot_messages(&chat)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["via query", "via form & more", "via json"]);

    // Validation errors carry Telegram's texts.
    for (body, description) in [
        (
            json!({"chat_id": 7, "text": "x"}),
            "Bad Request: chat not found",
        ),
        (json!({"text": "x"}), "Bad Request: chat_id is empty"),
        (
            json!({"chat_id": 42, "text": " \n "}),
            "Bad Request: message text is empty",
        ),
        (
            json!({"chat_id": 42, "text": "😀".repeat(2049)}),
            "Bad Request: message is too long",
        ),
        (
            json!({"chat_id": 42, "text": "x", "reply_parameters": {"message_id": 99}}),
            "Bad Request: message to be replied not found",
        ),
    ] {
        let res = http
            .post(method_url(&fake, "sendMessage"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let res: Value = res.json().await.unwrap();
        assert_eq!(
            res,
            json!({"ok": false, "error_code": 400, "description": description})
        );
    }
    // 4096 UTF-16 units exactly is fine (2048 emoji).
    let res = http
        .post(method_url(&fake, "sendMessage"))
        .json(&json!({"chat_id": 42, "text": "😀".repeat(2048)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn long_poll_wakes_on_an_injected_message() {
    let fake = unlimited().await;
    let user = fake.user(42, "Ann", Some("ann"));
    let chat = fake.private_chat(&user);
    let b = bot(&fake);
    let poll = tokio::spawn(async move { b.get_updates().timeout(30).await });
    fake.wait_until_polling(T).await;
    let before = SystemTime::now();
    let sent = fake.send_text(&chat, &user, "/start@switchboard_test_bot hi @bob_smith");
    let updates = tokio::time::timeout(T, poll)
        .await
        .unwrap()
        .unwrap()
        .expect("getUpdates");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].id.0 as i64, sent.update_id);
    let m = message_of(&updates[0]);
    assert_eq!(m.id, MessageId(sent.message_id));
    assert!(m.chat.is_private());
    assert_eq!(m.from.as_ref().unwrap().username.as_deref(), Some("ann"));
    assert_eq!(m.text(), Some("/start@switchboard_test_bot hi @bob_smith"));
    let entities: Vec<_> = m
        .entities()
        .unwrap()
        .iter()
        .map(|e| (e.kind.clone(), e.offset, e.length))
        .collect();
    assert_eq!(
        entities,
        vec![
            (MessageEntityKind::BotCommand, 0, 27),
            (MessageEntityKind::Mention, 31, 10)
        ]
    );
    let delivered = fake.update_delivered_at(sent.update_id).expect("delivered");
    assert!(delivered >= before - Duration::from_secs(1));
    // Not confirmed yet: still pending until a later offset.
    assert_eq!(fake.pending_update_ids(), vec![sent.update_id]);
    let again = bot(&fake)
        .get_updates()
        .offset(sent.update_id as i32 + 1)
        .await
        .unwrap();
    assert!(again.is_empty());
    assert!(fake.pending_update_ids().is_empty());
}

#[tokio::test]
async fn updates_carry_chat_kinds_topics_replies_and_edits() {
    let fake = unlimited().await;
    let b = bot(&fake);
    let ann = fake.user(42, "Ann", Some("ann"));
    let forum = fake.supergroup("Dev", true);
    assert_eq!(forum.kind, ChatKind::Supergroup { is_forum: true });
    assert!(forum.id < -1_000_000_000_000);
    let group = fake.group("Old group");
    let topic = fake.create_topic(&forum, "fix-login");

    let in_topic = fake.send(
        &forum,
        &ann,
        UserMessage::new("/new refactor").in_thread(topic),
    );
    let reply = b
        .send_message(ChatId(forum.id), "on it")
        .reply_parameters(ReplyParameters::new(MessageId(in_topic.message_id)))
        .await
        .expect("reply in topic");
    assert_eq!(
        reply.thread_id,
        Some(ThreadId(MessageId(topic))),
        "a reply lands in the replied message's topic"
    );
    let to_bot = fake.send(
        &forum,
        &ann,
        UserMessage::new("thanks").reply_to(reply.id.0),
    );
    let in_group = fake.send_text(&group, &ann, "hello group");
    let edit = fake.edit_user_message(&group, &ann, in_group.message_id, "hello, group");

    let updates = b.get_updates().await.expect("getUpdates");
    assert_eq!(updates.len(), 5, "{updates:#?}");
    // 1: the topic's creation service message.
    let created = message_of(&updates[0]);
    assert!(matches!(created.kind, MessageKind::ForumTopicCreated(_)));
    assert_eq!(created.id, MessageId(topic));
    // 2: a message in the topic, replying implicitly to the topic root.
    let m = message_of(&updates[1]);
    assert_eq!(m.thread_id, Some(ThreadId(MessageId(topic))));
    assert!(m.is_topic_message);
    assert!(matches!(
        &m.chat.kind,
        TgChatKind::Public(p) if matches!(&p.kind, PublicChatKind::Supergroup(s) if s.is_forum)
    ));
    assert_eq!(m.reply_to_message().unwrap().id, MessageId(topic));
    assert_eq!(m.entities().unwrap()[0].kind, MessageEntityKind::BotCommand);
    // 3: an explicit reply to the bot's message, with the full bot message.
    let m = message_of(&updates[2]);
    assert_eq!(m.id, MessageId(to_bot.message_id));
    let replied = m.reply_to_message().unwrap();
    assert_eq!(replied.id, reply.id);
    assert!(replied.from.as_ref().unwrap().is_bot);
    assert_eq!(replied.text(), Some("on it"));
    assert_eq!(m.thread_id, Some(ThreadId(MessageId(topic))));
    // 4 and 5: a basic group message and its edit.
    let m = message_of(&updates[3]);
    assert!(m.chat.is_group());
    assert_eq!(m.thread_id, None);
    assert!(matches!(updates[4].kind, UpdateKind::EditedMessage(_)));
    assert_eq!(updates[4].id.0 as i64, edit.update_id);
    assert_eq!(message_of(&updates[4]).text(), Some("hello, group"));
    assert!(message_of(&updates[4]).edit_date().is_some());

    // Sending into a topic that does not exist.
    let err = b
        .send_message(ChatId(forum.id), "x")
        .message_thread_id(ThreadId(MessageId(9999)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RequestError::Api(ApiError::Unknown(d)) if d == "Bad Request: message thread not found"),
        "{err:?}"
    );
    let bot_msg = fake.next_bot_message(&forum, Some(topic), T).await;
    assert_eq!(bot_msg.reply_to, Some(in_topic.message_id));
    fake.assert_all_read();
}

#[tokio::test]
async fn html_is_stored_as_visible_text_with_entities() {
    let fake = unlimited().await;
    let user = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&user);
    let html = "<b>Done</b> in 😀 <code>3s</code>\n<pre><code class=\"language-rust\">fn x() {}</code></pre> a &lt; b &amp;&amp; <a href=\"https://example.com\">link</a>";
    let returned = bot(&fake)
        .send_message(ChatId(42), html)
        .parse_mode(ParseMode::Html)
        .await
        .expect("sendMessage");
    let visible = "Done in 😀 3s\nfn x() {} a < b && link";
    assert_eq!(returned.text(), Some(visible));
    let kinds: Vec<_> = returned
        .entities()
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(kinds[0], MessageEntityKind::Bold);
    assert_eq!(kinds[1], MessageEntityKind::Code);
    assert_eq!(
        kinds[2],
        MessageEntityKind::Pre {
            language: Some("rust".into())
        }
    );
    assert!(
        matches!(&kinds[3], MessageEntityKind::TextLink { url } if url.as_str() == "https://example.com/")
    );
    let stored = fake.next_bot_message(&chat, None, T).await;
    assert_eq!(stored.text, visible);
    assert_eq!(stored.html.as_deref(), Some(html));
    let code = &stored.entities[1];
    // "Done in 😀 " is 11 UTF-16 units.
    assert_eq!(
        (code.kind, code.offset_utf16, code.length_utf16),
        (EntityKind::Code, 11, 2)
    );
}

#[tokio::test]
async fn bad_html_is_refused_like_telegram() {
    let fake = unlimited().await;
    let user = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&user);
    let b = bot(&fake);
    for (html, detail) in [
        (
            "hi <foo>x</foo>",
            "Unsupported start tag \"foo\" at byte offset 3",
        ),
        (
            "<b>open",
            "Can't find end tag corresponding to start tag \"b\"",
        ),
        ("x</i>", "Unexpected end tag at byte offset 1"),
    ] {
        let err = b
            .send_message(ChatId(42), html)
            .parse_mode(ParseMode::Html)
            .await
            .unwrap_err();
        let expected = format!("Bad Request: can't parse entities: {detail}");
        assert!(
            matches!(&err, RequestError::Api(ApiError::CantParseEntities(d)) if *d == expected),
            "{html}: {err:?}"
        );
    }
    assert!(fake.bot_messages(&chat).is_empty());
    assert!(fake.calls().iter().all(|c| c.status == 400));
}

#[tokio::test]
async fn send_document_arrives_with_name_bytes_and_caption() {
    let fake = unlimited().await;
    let user = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&user);
    let diff = b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n".to_vec();
    let returned = bot(&fake)
        .send_document(
            ChatId(42),
            InputFile::memory(diff.clone()).file_name("changes.diff"),
        )
        .caption("<b>Diff</b> of turn 7")
        .parse_mode(ParseMode::Html)
        .await
        .expect("sendDocument");
    let doc = returned.document().expect("document");
    assert_eq!(doc.file_name.as_deref(), Some("changes.diff"));
    assert_eq!(doc.file.size as usize, diff.len());
    assert_eq!(returned.caption(), Some("Diff of turn 7"));
    let stored = fake.next_bot_message(&chat, None, T).await;
    let d = stored.document.expect("stored document");
    assert_eq!(d.file_name, "changes.diff");
    assert_eq!(d.mime_type, "text/x-diff");
    assert_eq!(d.bytes.as_ref(), diff.as_slice());
    assert_eq!(stored.text, "Diff of turn 7");
    assert_eq!(stored.entities[0].kind, EntityKind::Bold);

    // A file part named like the parameter works too (reqwest multipart).
    let form = reqwest::multipart::Form::new()
        .text("chat_id", "42")
        .text(
            "reply_parameters",
            format!("{{\"message_id\":{}}}", returned.id.0),
        )
        .part(
            "document",
            reqwest::multipart::Part::bytes(b"log".to_vec()).file_name("turn.log"),
        );
    let res: Value = reqwest::Client::new()
        .post(method_url(&fake, "sendDocument"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["result"]["document"]["mime_type"], "text/plain");
    assert_eq!(
        res["result"]["reply_to_message"]["message_id"],
        returned.id.0
    );
    let stored = fake.next_bot_message(&chat, None, T).await;
    assert_eq!(stored.reply_to, Some(returned.id.0));
}

#[tokio::test]
async fn edits_report_not_modified_and_keep_history() {
    let fake = unlimited().await;
    let user = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&user);
    let b = bot(&fake);
    let m = b.send_message(ChatId(42), "Running…").await.unwrap();
    let same = b
        .edit_message_text(ChatId(42), m.id, "Running…")
        .await
        .unwrap_err();
    assert!(
        matches!(same, RequestError::Api(ApiError::MessageNotModified)),
        "{same:?}"
    );
    // Same visible result from different HTML is still "not modified".
    let same = b
        .edit_message_text(ChatId(42), m.id, "<b></b>Running…")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(matches!(
        same,
        RequestError::Api(ApiError::MessageNotModified)
    ));
    let edited = b
        .edit_message_text(ChatId(42), m.id, "<i>Done</i>")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();
    assert_eq!(edited.text(), Some("Done"));
    assert!(edited.edit_date().is_some());
    let missing = b
        .edit_message_text(ChatId(42), MessageId(999), "x")
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        RequestError::Api(ApiError::MessageToEditNotFound)
    ));

    let first = fake.next_bot_message(&chat, None, T).await;
    assert_eq!(first.text, "Running…", "returned as posted");
    let current = fake.wait_for_text(&chat, |t| t == "Done", T).await;
    assert_eq!(current.message_id, m.id.0);
    assert_eq!(current.edit_count(), 1);
    assert_eq!(current.versions[0].text, "Running…");
    assert_eq!(current.html.as_deref(), Some("<i>Done</i>"));

    b.delete_message(ChatId(42), m.id).await.unwrap();
    let gone = b.delete_message(ChatId(42), m.id).await.unwrap_err();
    assert!(matches!(
        gone,
        RequestError::Api(ApiError::MessageToDeleteNotFound)
    ));
    assert!(fake.bot_messages(&chat)[0].deleted);
    b.send_chat_action(ChatId(42), ChatAction::Typing)
        .await
        .unwrap();
    fake.assert_all_read();
}

#[tokio::test]
async fn set_my_commands_is_validated() {
    let fake = unlimited().await;
    let b = bot(&fake);
    let cases = [
        (
            BotCommand::new("NewSession", "x"),
            "Bad Request: BOT_COMMAND_INVALID",
        ),
        (
            BotCommand::new("new", "   "),
            "Bad Request: command description must be non-empty",
        ),
        (
            BotCommand::new("a".repeat(33), "x"),
            "Bad Request: command length must not exceed 32",
        ),
        (
            BotCommand::new("new", "d".repeat(257)),
            "Bad Request: command description length must not exceed 256",
        ),
    ];
    for (command, description) in cases {
        let err = b.set_my_commands(vec![command]).await.unwrap_err();
        assert!(
            matches!(&err, RequestError::Api(ApiError::Unknown(d)) if d == description),
            "{err:?}"
        );
    }
    let too_many: Vec<_> = (0..101)
        .map(|i| BotCommand::new(format!("c{i}"), "x"))
        .collect();
    assert!(b.set_my_commands(too_many).await.is_err());
    b.set_my_commands(vec![
        BotCommand::new("/new", "Start a session"),
        BotCommand::new("stop", "Stop the turn"),
    ])
    .await
    .expect("valid commands");
    fake.wait_for_call("setMyCommands", T).await;
    let expected = vec![
        ("new".to_string(), "Start a session".to_string()),
        ("stop".to_string(), "Stop the turn".to_string()),
    ];
    assert_eq!(fake.commands(), expected);
    let listed = b.get_my_commands().await.unwrap();
    assert_eq!(listed[0].command, "new");
    assert_eq!(listed.len(), 2);
}

/// What the tiny webhook receiver saw.
#[derive(Default)]
struct Received {
    secrets: Vec<Option<String>>,
    update_ids: Vec<i64>,
    /// Answers to give, front first; 200 once exhausted.
    statuses: Vec<u16>,
}

#[tokio::test]
async fn webhook_delivery_with_secret_retries_in_order() {
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};

    let fake = unlimited().await;
    let user = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&user);
    let received = Arc::new(Mutex::new(Received {
        statuses: vec![500, 502],
        ..Received::default()
    }));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((r, tx)): State<(
                    Arc<Mutex<Received>>,
                    tokio::sync::mpsc::UnboundedSender<()>,
                )>,
                 headers: HeaderMap,
                 axum::Json(update): axum::Json<Value>| async move {
                    let status = {
                        let mut r = r.lock().unwrap();
                        r.secrets.push(
                            headers
                                .get("x-telegram-bot-api-secret-token")
                                .map(|v| v.to_str().unwrap().to_string()),
                        );
                        r.update_ids.push(update["update_id"].as_i64().unwrap());
                        if r.statuses.is_empty() {
                            200
                        } else {
                            r.statuses.remove(0)
                        }
                    };
                    tx.send(()).unwrap();
                    StatusCode::from_u16(status).unwrap()
                },
            ),
        )
        .with_state((received.clone(), tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let b = bot(&fake);
    b.set_webhook(hook_url.parse().unwrap())
        .secret_token("s3cret-token_1".to_string())
        .await
        .expect("setWebhook");
    assert_eq!(
        fake.webhook(),
        Some(WebhookInfo {
            url: hook_url.clone(),
            secret_token: Some("s3cret-token_1".into()),
            allowed_updates: None,
            max_connections: 40,
            pending_update_count: 0,
            last_error_message: None,
        })
    );
    let conflict = b.get_updates().await.unwrap_err();
    assert!(
        matches!(&conflict, RequestError::Api(ApiError::Unknown(d)) if d == "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"),
        "{conflict:?}"
    );

    let first = fake.send_text(&chat, &user, "one");
    let second = fake.send_text(&chat, &user, "two");
    // 500, 502, then 200 for the first update; 200 for the second.
    for _ in 0..4 {
        tokio::time::timeout(T, rx.recv())
            .await
            .expect("webhook POST")
            .unwrap();
    }
    let (update_ids, secrets) = {
        let r = received.lock().unwrap();
        (r.update_ids.clone(), r.secrets.clone())
    };
    assert_eq!(
        update_ids,
        vec![
            first.update_id,
            first.update_id,
            first.update_id,
            second.update_id
        ]
    );
    assert!(
        secrets
            .iter()
            .all(|s| s.as_deref() == Some("s3cret-token_1"))
    );
    fake.wait_until_confirmed(second.update_id, T).await;
    assert!(fake.update_delivered_at(second.update_id).is_some());
    let info = b.get_webhook_info().await.unwrap();
    assert_eq!(info.url.unwrap().as_str(), hook_url);

    b.delete_webhook().await.unwrap();
    assert_eq!(fake.webhook(), None);
    assert!(b.get_updates().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_newer_get_updates_terminates_the_older_one() {
    let fake = unlimited().await;
    let user = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&user);
    let older = {
        let b = bot(&fake);
        tokio::spawn(async move { b.get_updates().timeout(30).await })
    };
    fake.wait_until_polling(T).await;
    let newer = {
        let b = bot(&fake);
        tokio::spawn(async move { b.get_updates().timeout(30).await })
    };
    let err = tokio::time::timeout(T, older)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Api(ApiError::TerminatedByOtherGetUpdates)
        ),
        "{err:?}"
    );
    fake.wait_until_polling(T).await;
    let sent = fake.send_text(&chat, &user, "hello");
    let updates = tokio::time::timeout(T, newer)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(updates[0].id.0 as i64, sent.update_id);
    let statuses: Vec<u16> = fake
        .calls()
        .iter()
        .filter(|c| c.method == "getUpdates")
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![409, 200]);
}

#[tokio::test]
async fn per_chat_pacing_429_and_violations() {
    let fake = FakeTelegram::start(FakeTelegramConfig::default()).await;
    let ann = fake.user(42, "Ann", None);
    let bob = fake.user(43, "Bob", None);
    fake.private_chat(&ann);
    fake.private_chat(&bob);
    let b = bot(&fake);
    b.send_message(ChatId(42), "1").await.expect("first");
    b.send_message(ChatId(43), "other chat")
        .await
        .expect("other chats are independent");
    let err = b.send_message(ChatId(42), "2").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 1),
        "{err:?}"
    );
    assert!(
        fake.violations().is_empty(),
        "a first 429 is not a violation"
    );
    // Calling again inside the window is a violation, answered 429 again.
    let err = b.send_message(ChatId(42), "2").await.unwrap_err();
    assert!(matches!(err, RequestError::RetryAfter(_)));
    let violations = fake.violations();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].chat_id, 42);
    assert_eq!(violations[0].method, "sendMessage");
    assert!(violations[0].early_by() > Duration::from_millis(500));
    // Waiting out retry_after works.
    tokio::time::sleep(Duration::from_secs(1)).await;
    b.send_message(ChatId(42), "2")
        .await
        .expect("after the window");
    // And two sends one second apart are fine.
    tokio::time::sleep(Duration::from_secs(1)).await;
    b.send_message(ChatId(42), "3")
        .await
        .expect("one second later");
    assert_eq!(fake.violations().len(), 1);
    let raw: Vec<(u16, Option<u32>)> = fake
        .calls()
        .iter()
        .filter(|c| c.chat_id == Some(42))
        .map(|c| (c.status, c.retry_after))
        .collect();
    assert_eq!(
        raw,
        vec![
            (200, None),
            (429, Some(1)),
            (429, Some(1)),
            (200, None),
            (200, None)
        ]
    );
    // Chat actions are not counted.
    b.send_chat_action(ChatId(42), ChatAction::Typing)
        .await
        .unwrap();
    b.send_chat_action(ChatId(42), ChatAction::Typing)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_429_body_is_telegrams() {
    let fake = FakeTelegram::start(FakeTelegramConfig::default()).await;
    let ann = fake.user(42, "Ann", None);
    fake.private_chat(&ann);
    let http = reqwest::Client::new();
    let send = || {
        http.post(method_url(&fake, "sendMessage"))
            .json(&json!({"chat_id": 42, "text": "x"}))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    let res = send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({
            "ok": false,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1}
        })
    );
}

#[tokio::test]
async fn groups_accept_twenty_per_minute() {
    let fake = FakeTelegram::start(FakeTelegramConfig {
        per_chat_min_interval: Duration::ZERO,
        tolerance: Duration::ZERO,
        ..FakeTelegramConfig::default()
    })
    .await;
    let group = fake.group("Team");
    let b = bot(&fake);
    for i in 0..20 {
        b.send_message(ChatId(group.id), format!("m{i}"))
            .await
            .expect("within 20/min");
    }
    let err = b.send_message(ChatId(group.id), "m20").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if (55..=60).contains(&s.seconds())),
        "{err:?}"
    );
    // Editing counts too, and now breaks the window.
    let first = fake.bot_messages(&group)[0].message_id;
    let err = b
        .edit_message_text(ChatId(group.id), MessageId(first), "edited")
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::RetryAfter(_)));
    assert_eq!(fake.violations().len(), 1);
    assert_eq!(fake.violations()[0].method, "editMessageText");
    assert_eq!(fake.bot_messages(&group).len(), 20);
}

#[tokio::test]
async fn thirty_per_second_overall() {
    let fake = FakeTelegram::start(FakeTelegramConfig {
        per_chat_min_interval: Duration::ZERO,
        ..FakeTelegramConfig::default()
    })
    .await;
    let b = bot(&fake);
    let mut rejected = 0;
    for id in 1..=31 {
        let user = fake.user(id, "U", None);
        fake.private_chat(&user);
        if let Err(RequestError::RetryAfter(s)) = b.send_message(ChatId(id), "hi").await {
            assert_eq!(s.seconds(), 1);
            rejected += 1;
        }
    }
    // Thirty sends take far less than a second on loopback; the 31st is refused.
    assert_eq!(rejected, 1);
}

#[tokio::test]
async fn storm_answers_429_until_spent() {
    let fake = unlimited().await;
    let ann = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&ann);
    let b = bot(&fake);
    fake.storm(42, 2, 1);
    let mut waits = Vec::new();
    let message = loop {
        match b.send_message(ChatId(42), "result").await {
            Ok(m) => break m,
            Err(RequestError::RetryAfter(s)) => {
                waits.push(s.seconds());
                tokio::time::sleep(s.duration()).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(waits, vec![1, 1]);
    assert!(fake.violations().is_empty());
    let posted = fake.next_bot_message(&chat, None, T).await;
    assert_eq!(posted.message_id, message.id.0);
    fake.assert_all_read();
}

#[tokio::test]
#[should_panic(expected = "no new bot message in chat 42 thread None")]
async fn next_bot_message_panics_with_what_was_posted() {
    let fake = unlimited().await;
    let ann = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&ann);
    bot(&fake)
        .send_message(ChatId(42), "only one")
        .await
        .unwrap();
    assert_eq!(fake.next_bot_message(&chat, None, T).await.text, "only one");
    fake.next_bot_message(&chat, None, Duration::from_millis(100))
        .await;
}

#[tokio::test]
#[should_panic(expected = "never read")]
async fn unread_bot_messages_fail_the_test() {
    let fake = unlimited().await;
    let ann = fake.user(42, "Ann", None);
    fake.private_chat(&ann);
    bot(&fake).send_message(ChatId(42), "unseen").await.unwrap();
    fake.assert_all_read();
}

/// A PNG header is all the fake reads to size a photo.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png
}

#[tokio::test]
async fn send_photo_needs_a_real_image() {
    let fake = unlimited().await;
    let ann = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&ann);
    let b = bot(&fake);
    let sent = b
        .send_photo(
            ChatId(42),
            InputFile::memory(png(640, 480)).file_name("shot.png"),
        )
        .caption("screenshot")
        .await
        .expect("sendPhoto");
    let sizes = sent.photo().expect("photo sizes");
    assert_eq!((sizes[0].width, sizes[0].height), (640, 480));
    let stored = fake.next_bot_message(&chat, None, T).await;
    assert_eq!(
        stored.photo.as_ref().map(|p| (p.width, p.height)),
        Some((640, 480))
    );
    assert_eq!(stored.text, "screenshot");
    let err = b
        .send_photo(
            ChatId(42),
            InputFile::memory(b"not an image".to_vec()).file_name("x.png"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ImageProcessFailed)),
        "{err:?}"
    );
    // A document can be re-sent by the file_id Telegram returned.
    let doc = b
        .send_document(
            ChatId(42),
            InputFile::memory(b"abc".to_vec()).file_name("a.txt"),
        )
        .await
        .unwrap();
    let file_id = doc.document().unwrap().file.id.clone();
    b.send_document(ChatId(42), InputFile::file_id(file_id))
        .await
        .expect("resend by file_id");
    let names: Vec<String> = fake
        .bot_messages(&chat)
        .into_iter()
        .filter_map(|m| m.document.map(|d| d.file_name))
        .collect();
    assert_eq!(names, ["a.txt", "a.txt"]);
}

#[tokio::test]
async fn offsets_allowed_updates_and_dropping_pending() {
    use teloxide::types::AllowedUpdate;

    let fake = unlimited().await;
    let ann = fake.user(42, "Ann", None);
    let chat = fake.private_chat(&ann);
    let b = bot(&fake);
    let ids: Vec<i64> = (0..3)
        .map(|i| fake.send_text(&chat, &ann, &format!("m{i}")).update_id)
        .collect();
    // A negative offset keeps only the newest updates.
    let last = b.get_updates().offset(-1).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].id.0 as i64, ids[2]);
    assert_eq!(fake.pending_update_ids(), vec![ids[2]]);
    // allowed_updates filters, and the setting persists.
    let m = fake.send_text(&chat, &ann, "typo");
    let edit = fake.edit_user_message(&chat, &ann, m.message_id, "fixed");
    let only_edits = b
        .get_updates()
        .offset(ids[2] as i32 + 1)
        .allowed_updates(vec![AllowedUpdate::EditedMessage])
        .await
        .unwrap();
    assert_eq!(only_edits.len(), 1);
    assert_eq!(only_edits[0].id.0 as i64, edit.update_id);
    fake.send_text(&chat, &ann, "filtered");
    assert!(
        b.get_updates()
            .offset(edit.update_id as i32 + 1)
            .await
            .unwrap()
            .is_empty()
    );
    // Dropping pending updates.
    b.get_updates()
        .allowed_updates(vec![AllowedUpdate::Message])
        .await
        .unwrap();
    fake.send_text(&chat, &ann, "dropped");
    assert_eq!(fake.pending_update_ids().len(), 1);
    b.delete_webhook().drop_pending_updates(true).await.unwrap();
    assert!(fake.pending_update_ids().is_empty());
}
