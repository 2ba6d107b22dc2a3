//! The handle tests hold: set up people and chats, act as them, wait for what
//! the bot does, inspect everything it called.
//!
//! Waiting never sleeps on a timer: every waiter subscribes to the fake's
//! change signal *before* looking at the state and then sleeps until the next
//! change (or its deadline), so no change between the look and the sleep can
//! be missed. Timeouts end in a panic that lists what the bot did post and
//! which of its calls failed, which is usually the whole diagnosis.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::commands::DEFAULT_COMMANDS_KEY;
use super::config::FakeTelegramConfig;
use super::connections::{ConnectionTag, TaggedListener};
use super::polling::webhook_info;
use super::state::{ChatState, Sender, Shared, State};
use super::types::{
    BotMessage, CallRecord, ChatKind, FakeChat, FakeUser, Sent, UserMessage, Violation, WebhookInfo,
};
use super::{delivery, server, updates};

/// The user who creates forum topics in [`FakeTelegram::create_topic`].
const TOPIC_CREATOR: (i64, &str, &str) = (999_000_001, "Forum Admin", "forum_admin");

/// A running fake Telegram Bot API server. Cheap to clone; the server stops
/// when the last clone is dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeTelegram {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(config: FakeTelegramConfig) -> Self {
        let shared = Arc::new(Shared::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Telegram: local address");
        let app =
            server::router(shared.clone()).into_make_service_with_connect_info::<ConnectionTag>();
        let listener = TaggedListener::new(listener, shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake Telegram: serve");
        });
        let delivery = tokio::spawn(delivery::run(shared.clone()));
        Self {
            inner: Arc::new(Inner {
                shared,
                addr,
                tasks: vec![server, delivery],
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT`: what the bot's Telegram API URL is set to.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn token(&self) -> String {
        self.shared().config.token.clone()
    }

    pub fn bot_username(&self) -> String {
        self.shared().bot.username.clone()
    }

    pub fn bot_id(&self) -> i64 {
        self.shared().bot.id
    }

    /// Registers a person (`id` > 0, not the bot's id).
    pub fn user(&self, id: i64, first_name: &str, username: Option<&str>) -> FakeUser {
        assert!(id > 0, "user ids are positive, got {id}");
        assert_ne!(id, self.bot_id(), "user id {id} is the bot's own id");
        let user = FakeUser {
            id,
            first_name: first_name.to_string(),
            username: username.map(str::to_string),
        };
        self.shared().lock().users.insert(id, user.clone());
        user
    }

    /// The user's private chat with the bot (its id is the user's id).
    pub fn private_chat(&self, user: &FakeUser) -> FakeChat {
        let chat = FakeChat {
            id: user.id,
            kind: ChatKind::Private,
            title: None,
        };
        let mut st = self.shared().lock();
        st.users.entry(user.id).or_insert_with(|| user.clone());
        st.chats
            .entry(chat.id)
            .or_insert_with(|| ChatState::new(chat.clone()));
        chat
    }

    /// A basic group (`"type":"group"`, id like `-4000000001`).
    pub fn group(&self, title: &str) -> FakeChat {
        self.new_chat(title, ChatKind::Group, 4_000_000_000)
    }

    /// A supergroup (id like `-1002000000001`); `is_forum` enables topics.
    pub fn supergroup(&self, title: &str, is_forum: bool) -> FakeChat {
        self.new_chat(title, ChatKind::Supergroup { is_forum }, 1_002_000_000_000)
    }

    fn new_chat(&self, title: &str, kind: ChatKind, base: i64) -> FakeChat {
        let mut st = self.shared().lock();
        let seq = st.next_group_seq;
        st.next_group_seq += 1;
        let chat = FakeChat {
            id: -(base + seq),
            kind,
            title: Some(title.to_string()),
        };
        st.chats.insert(chat.id, ChatState::new(chat.clone()));
        chat
    }

    /// Opens a forum topic and returns its thread id (the id of its
    /// `forum_topic_created` service message, which the bot receives as an
    /// update, as it would on Telegram).
    pub fn create_topic(&self, chat: &FakeChat, name: &str) -> i32 {
        let (_, at) = self.shared().clock.now();
        let thread = {
            let mut st = self.shared().lock();
            let is_forum = st.chats.get(&chat.id).is_some_and(ChatState::is_forum);
            assert!(is_forum, "chat {} is not a forum supergroup", chat.id);
            let (id, first_name, username) = TOPIC_CREATOR;
            st.users.entry(id).or_insert_with(|| FakeUser {
                id,
                first_name: first_name.to_string(),
                username: Some(username.to_string()),
            });
            updates::create_topic(&mut st, &self.shared().bot, chat.id, id, name, at)
        };
        self.shared().notify_updates();
        thread
    }

    /// `user` sends `text` to `chat`.
    pub fn send_text(&self, chat: &FakeChat, user: &FakeUser, text: &str) -> Sent {
        self.send(chat, user, UserMessage::new(text))
    }

    /// `user` sends `message` (with its topic and reply) to `chat`. The update
    /// is queued (and visible to a waiting getUpdates) when this returns.
    pub fn send(&self, chat: &FakeChat, user: &FakeUser, message: UserMessage) -> Sent {
        let (_, at) = self.shared().clock.now();
        let sent = {
            let mut st = self.shared().lock();
            check_member(&st, chat, user);
            let c = &st.chats[&chat.id];
            let mut thread = message.thread_id;
            if let Some(t) = thread {
                assert!(
                    c.topics.contains_key(&t),
                    "chat {} has no topic {t} (topics: {:?})",
                    chat.id,
                    c.topics
                );
            }
            if let Some(r) = message.reply_to {
                let replied = c
                    .live(r)
                    .unwrap_or_else(|| panic!("chat {} has no message {r} to reply to", chat.id));
                thread = thread.or(replied.thread_id);
            }
            let (update_id, message_id) = updates::user_message(
                &mut st,
                &self.shared().bot,
                (chat.id, user.id),
                &message,
                thread,
                at,
            );
            Sent {
                update_id,
                message_id,
            }
        };
        self.shared().notify_updates();
        sent
    }

    /// Queues an update of `kind` (`message`, say) with `payload` as given, however
    /// malformed, and returns its `update_id`.
    pub fn send_raw_update(&self, kind: &'static str, payload: serde_json::Value) -> i64 {
        let update_id = updates::raw(&mut self.shared().lock(), kind, payload);
        self.shared().notify_updates();
        update_id
    }

    /// `user` presses the button labelled `label` under the bot's message `message_id` in
    /// `chat`: a `callback_query` update, as Telegram sends it. Returns the query's id. Panics
    /// when the message has no such button now.
    pub fn press(&self, chat: &FakeChat, user: &FakeUser, message_id: i32, label: &str) -> String {
        {
            let mut st = self.shared().lock();
            check_member(&st, chat, user);
            let c = &st.chats[&chat.id];
            let msg = c
                .live(message_id)
                .filter(|m| m.sender == Sender::Bot)
                .unwrap_or_else(|| panic!("no bot message {message_id} in chat {}", chat.id));
            let Some(button) = msg.keyboard.iter().flatten().find(|b| b.text == label) else {
                panic!("message {message_id} has no button {label:?} now");
            };
            let id = format!("{}{}", chat.id.unsigned_abs(), st.queries.len() + 1);
            let payload = serde_json::json!({
                "id": id,
                "from": super::json::user(user),
                "message": super::json::message(&st, &self.shared().bot, c, msg),
                "chat_instance": format!("instance-{}", chat.id),
                "data": button.callback_data,
            });
            st.queries.insert(
                id.clone(),
                super::buttons::Query {
                    payload,
                    answer: None,
                },
            );
            super::buttons::queue(&mut st, &id);
            drop(st);
            self.shared().notify_updates();
            id
        }
    }

    /// Delivers the callback query `id` again (a new update with the same query), as after a
    /// lost confirmation; returns the new update's id.
    pub fn press_again(&self, id: &str) -> i64 {
        let update = super::buttons::queue(&mut self.shared().lock(), id);
        self.shared().notify_updates();
        update
    }

    /// Waits for the bot's `answerCallbackQuery` to the query `id`; returns its text.
    pub async fn press_answer(&self, id: &str, timeout: Duration) -> String {
        let found = self
            .wait(timeout, |st| {
                st.queries.get(id).and_then(|q| q.answer.clone())
            })
            .await;
        found.unwrap_or_else(|| panic!("callback query {id} was not answered within {timeout:?}"))
    }

    /// `user` edits their message `message_id`; the bot gets an
    /// `edited_message` update.
    pub fn edit_user_message(
        &self,
        chat: &FakeChat,
        user: &FakeUser,
        message_id: i32,
        text: &str,
    ) -> Sent {
        let (_, at) = self.shared().clock.now();
        let update_id = {
            let mut st = self.shared().lock();
            check_member(&st, chat, user);
            let own = st.chats[&chat.id]
                .live(message_id)
                .is_some_and(|m| m.sender == Sender::User(user.id));
            assert!(
                own,
                "user {} has no message {message_id} in chat {}",
                user.id, chat.id
            );
            updates::user_edit(&mut st, &self.shared().bot, chat.id, message_id, text, at)
        };
        self.shared().notify_updates();
        Sent {
            update_id,
            message_id,
        }
    }

    /// Waits until `check` finds something, re-checking after every change.
    async fn wait<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut changes = self.shared().changed.subscribe();
        loop {
            let found = check(&mut self.shared().lock());
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                let found = check(&mut self.shared().lock());
                return found;
            }
        }
    }

    /// The next new message the bot posted in `chat` and `thread` (`None`:
    /// outside topics), in posting order, each returned once. It is returned
    /// as posted (one version, not deleted) so the result does not depend on
    /// how quickly the bot edits it afterwards; see [`Self::bot_messages`] or
    /// [`Self::wait_for_text`] for the current state. Panics after `timeout`
    /// with what the bot did post there.
    pub async fn next_bot_message(
        &self,
        chat: &FakeChat,
        thread: Option<i32>,
        timeout: Duration,
    ) -> BotMessage {
        let key = (chat.id, thread);
        let found = self
            .wait(timeout, |st| {
                let read = st.read_cursors.get(&key).copied().unwrap_or(0);
                let c = st.chats.get(&chat.id)?;
                let id = *posts_in(c, thread).get(read)?;
                let mut message = c.bot_message(id)?;
                st.read_cursors.insert(key, read + 1);
                message.versions.truncate(1);
                let first = message.versions[0].clone();
                message.text = first.text;
                message.html = first.html;
                message.entities = first.entities;
                message.deleted = false;
                Some(message)
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no new bot message in chat {} thread {thread:?} within {timeout:?}\n{}",
                chat.id,
                self.describe_chat(chat)
            )
        })
    }

    /// Waits until one of the bot's messages in `chat` (any topic, not
    /// deleted) currently shows text matching `predicate`; returns the
    /// earliest such message in its current state. Does not move the
    /// `next_bot_message` cursor.
    pub async fn wait_for_text(
        &self,
        chat: &FakeChat,
        predicate: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> BotMessage {
        self.wait_for_message(chat, |m| predicate(&m.text), timeout)
            .await
    }

    /// Like [`Self::wait_for_text`] with a predicate over the whole message.
    pub async fn wait_for_message(
        &self,
        chat: &FakeChat,
        predicate: impl Fn(&BotMessage) -> bool,
        timeout: Duration,
    ) -> BotMessage {
        let found = self
            .wait(timeout, |st| {
                bot_messages_of(st, chat.id)
                    .into_iter()
                    .find(|m| !m.deleted && predicate(m))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no bot message in chat {} matched within {timeout:?}\n{}",
                chat.id,
                self.describe_chat(chat)
            )
        })
    }

    /// Waits for the first call of `method` (camelCase, e.g. `setMyCommands`),
    /// already made or yet to come.
    pub async fn wait_for_call(&self, method: &str, timeout: Duration) -> CallRecord {
        let found = self
            .wait(timeout, |st| {
                st.calls.iter().find(|c| c.method == method).cloned()
            })
            .await;
        found.unwrap_or_else(|| {
            let made: Vec<String> = self.calls().into_iter().map(|c| c.method).collect();
            panic!("no {method} call within {timeout:?}; calls made: {made:?}")
        })
    }

    /// Waits until `n` calls of `method` have been answered (any status).
    pub async fn wait_for_calls(&self, method: &str, n: usize, timeout: Duration) {
        let found = self
            .wait(timeout, |st| {
                (st.calls.iter().filter(|c| c.method == method).count() >= n).then_some(())
            })
            .await;
        if found.is_none() {
            panic!("fewer than {n} {method} calls within {timeout:?}")
        }
    }

    /// Waits for the first call that matches `pred`, already made or yet to come.
    pub async fn wait_for_call_where(
        &self,
        timeout: Duration,
        pred: impl Fn(&CallRecord) -> bool,
    ) -> CallRecord {
        let found = self
            .wait(timeout, |st| st.calls.iter().find(|c| pred(c)).cloned())
            .await;
        found.unwrap_or_else(|| panic!("no such call within {timeout:?}: {:#?}", self.calls()))
    }

    /// Waits until a getUpdates call is parked in the fake waiting for
    /// updates: the bot is idle and polling. Panics after `timeout`.
    pub async fn wait_until_polling(&self, timeout: Duration) {
        let found = self
            .wait(timeout, |st| (st.polls_waiting > 0).then_some(()))
            .await;
        if found.is_none() {
            panic!("no getUpdates call was waiting within {timeout:?}");
        }
    }

    /// Waits until the update is no longer pending: confirmed by a later
    /// getUpdates `offset`, or acknowledged 2xx by the webhook. Panics after
    /// `timeout`.
    pub async fn wait_until_confirmed(&self, update_id: i64, timeout: Duration) {
        let found = self
            .wait(timeout, |st| {
                (!st.pending.iter().any(|u| u.update_id == update_id)).then_some(())
            })
            .await;
        if found.is_none() {
            panic!("update {update_id} was not confirmed within {timeout:?}");
        }
    }

    /// The bot's messages in `chat`, in posting order, in their current state.
    pub fn bot_messages(&self, chat: &FakeChat) -> Vec<BotMessage> {
        bot_messages_of(&self.shared().lock(), chat.id)
    }

    /// Panics if the bot posted a message no `next_bot_message` call took:
    /// a test should account for everything the bot said.
    pub fn assert_all_read(&self) {
        let st = self.shared().lock();
        let mut unread = String::new();
        for c in st.chats.values() {
            let threads: std::collections::BTreeSet<Option<i32>> = c
                .bot_posts
                .iter()
                .map(|id| c.messages[id].thread_id)
                .collect();
            for thread in threads {
                let read = st
                    .read_cursors
                    .get(&(c.chat.id, thread))
                    .copied()
                    .unwrap_or(0);
                for id in posts_in(c, thread).iter().skip(read) {
                    let m = c.bot_message(*id).expect("posted");
                    let _ = writeln!(
                        unread,
                        "  chat {} thread {thread:?}: {}",
                        c.chat.id,
                        summary(&m)
                    );
                }
            }
        }
        assert!(
            unread.is_empty(),
            "the bot posted messages the test never read:\n{unread}"
        );
    }

    /// Draws the line after a bot that is gone (killed and reaped): waits
    /// until every connection accepted so far is closed, so nothing that bot
    /// sent can still take effect, and returns the line — every call with a
    /// lower `connection` was made before it, every later one after. (A probe
    /// connection is accepted after every connection the bot had completed,
    /// in the kernel's order; see `connections`.) Panics after `timeout`.
    pub async fn seal_connections(&self, timeout: Duration) -> u64 {
        let probe = tokio::net::TcpStream::connect(self.inner.addr)
            .await
            .expect("fake Telegram: connect a probe");
        let local = probe.local_addr().expect("the probe's address");
        let sealed = self
            .wait(timeout, |st| {
                let (&first, _) = st.open_connections.iter().next()?;
                let (&serial, _) = st.open_connections.iter().find(|(_, p)| **p == local)?;
                (first == serial).then_some(serial)
            })
            .await;
        sealed.unwrap_or_else(|| {
            let open = self.shared().lock().open_connections.clone();
            panic!("connections still open after {timeout:?} (the probe is {local}): {open:?}")
        })
    }

    /// Every API call so far, in the order they were answered (`at` is when
    /// each arrived).
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared().lock().calls.clone()
    }

    /// The next `n` getUpdates calls are left unanswered, whatever arrives and however long
    /// their `timeout` (as a long poll looks to a client when its connection silently died on
    /// the way): held until a newer getUpdates supersedes them (then 409, as on Telegram).
    pub fn lose_next_polls(&self, n: u32) {
        self.shared().lock().polls_to_lose += n;
        self.shared().notify_changed();
    }

    /// Waits until `n` getUpdates calls in all have been left unanswered. Panics after
    /// `timeout`.
    pub async fn wait_until_polls_lost(&self, n: u32, timeout: Duration) {
        let found = self
            .wait(timeout, |st| (st.polls_lost >= n).then_some(()))
            .await;
        if found.is_none() {
            panic!("{n} getUpdates calls were not lost within {timeout:?}");
        }
    }

    /// The next calls that post a message (sendMessage, sendDocument,
    /// sendPhoto), one per entry: `true` posts it, then answers 500 as if the
    /// answer were lost on the way (Telegram accepted it).
    pub fn fail_after_sending(&self, pattern: &[bool]) {
        self.shared()
            .lock()
            .fail_after_sending
            .extend(pattern.iter().copied());
    }

    /// `(chat, message id)` of the messages posted whose answer was a 500.
    pub fn answers_lost(&self) -> Vec<(i64, i32)> {
        self.shared().lock().answers_lost.clone()
    }

    /// Counted calls made inside an open `retry_after` window.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared().lock().violations.clone()
    }

    /// The next `n` counted calls to `chat_id` are answered 429 with
    /// `retry_after_secs`, each opening its window, however well paced.
    pub fn storm(&self, chat_id: i64, n: u32, retry_after_secs: u32) {
        self.shared()
            .lock()
            .limiter
            .storm(chat_id, n, retry_after_secs);
    }

    /// The next `n` HTML texts (sendMessage, editMessageText) to `chat_id`
    /// are refused with "can't parse entities", as Telegram refuses markup it
    /// cannot parse.
    pub fn reject_markup(&self, chat_id: i64, n: u32) {
        self.shared().lock().markup_rejections.insert(chat_id, n);
    }

    /// When the update was first handed over: the getUpdates answer carrying
    /// it was built, or its first webhook POST was sent.
    pub fn update_delivered_at(&self, update_id: i64) -> Option<SystemTime> {
        self.shared().lock().delivered_at.get(&update_id).copied()
    }

    /// Updates not yet confirmed (getUpdates offset) or acknowledged (webhook
    /// 2xx), oldest first.
    pub fn pending_update_ids(&self) -> Vec<i64> {
        self.shared()
            .lock()
            .pending
            .iter()
            .map(|u| u.update_id)
            .collect()
    }

    /// The last `setMyCommands` list for the default scope and language.
    pub fn commands(&self) -> Vec<(String, String)> {
        self.shared()
            .lock()
            .commands
            .get(DEFAULT_COMMANDS_KEY)
            .cloned()
            .unwrap_or_default()
    }

    /// The webhook, if the bot set one.
    pub fn webhook(&self) -> Option<WebhookInfo> {
        let st = self.shared().lock();
        let hook = st.webhook.as_ref()?;
        let info = webhook_info(&st);
        Some(WebhookInfo {
            url: hook.url.clone(),
            secret_token: hook.secret_token.clone(),
            allowed_updates: st.allowed_updates.clone(),
            max_connections: hook.max_connections,
            pending_update_count: st.pending.len(),
            last_error_message: info["last_error_message"].as_str().map(str::to_string),
        })
    }

    /// What the bot posted in `chat` and which of its calls there failed.
    fn describe_chat(&self, chat: &FakeChat) -> String {
        let st = self.shared().lock();
        let mut out = String::from("bot messages in this chat (oldest first):\n");
        let messages = bot_messages_of(&st, chat.id);
        if messages.is_empty() {
            out.push_str("  (none)\n");
        }
        for m in &messages {
            let _ = writeln!(out, "  {}", summary(m));
        }
        let failed: Vec<&CallRecord> = st
            .calls
            .iter()
            .filter(|c| c.chat_id == Some(chat.id) && c.status != 200)
            .collect();
        if !failed.is_empty() {
            out.push_str("failed calls for this chat:\n");
            for c in failed {
                let _ = writeln!(
                    out,
                    "  {} → {} {}",
                    c.method,
                    c.status,
                    c.description.as_deref().unwrap_or_default()
                );
            }
        }
        out
    }
}

fn check_member(st: &State, chat: &FakeChat, user: &FakeUser) {
    assert!(
        st.users.contains_key(&user.id),
        "user {} was not registered with FakeTelegram::user",
        user.id
    );
    assert!(
        st.chats.contains_key(&chat.id),
        "chat {} is not known to the fake",
        chat.id
    );
    if chat.kind == ChatKind::Private {
        assert_eq!(
            chat.id, user.id,
            "only user {} can write in their private chat",
            chat.id
        );
    }
}

/// The bot's new messages in one thread of a chat, in posting order.
fn posts_in(chat: &ChatState, thread: Option<i32>) -> Vec<i32> {
    chat.bot_posts
        .iter()
        .copied()
        .filter(|id| chat.messages[id].thread_id == thread)
        .collect()
}

fn bot_messages_of(st: &State, chat_id: i64) -> Vec<BotMessage> {
    st.chats.get(&chat_id).map_or_else(Vec::new, |c| {
        c.bot_posts
            .iter()
            .filter_map(|id| c.bot_message(*id))
            .collect()
    })
}

fn summary(m: &BotMessage) -> String {
    let mut s = format!("#{} thread={:?} {:?}", m.message_id, m.thread_id, m.text);
    if let Some(d) = &m.document {
        let _ = write!(s, " document={:?} ({} bytes)", d.file_name, d.bytes.len());
    }
    if m.photo.is_some() {
        s.push_str(" photo");
    }
    if m.edit_count() > 0 {
        let _ = write!(s, " (edited {}×)", m.edit_count());
    }
    if m.deleted {
        s.push_str(" (deleted)");
    }
    s
}
