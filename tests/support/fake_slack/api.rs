//! The handle tests hold: start the fake, set up the workspace, act as
//! people (which delivers the events Slack would send), steer Socket Mode,
//! and make signed or forged HTTP requests to the app. Reading what the bot
//! did and waiting for it are in `inspect`.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::config::{Delivery, FakeSlackConfig};
use super::http_delivery::{self, Attempt};
use super::ids::{format_ts, parse_ts};
use super::state::{Item, MessageRec, Shared, unix_secs};
use super::types::{
    ChannelKind, FakeChannel, FakeUser, HttpDelivery, SharedFile, SlashInvocation, TextVersion,
    UserKind,
};
use super::{dispatch, events, json, methods, server, socket};

/// A running fake Slack. Cheap to clone; the server stops (and every
/// Socket Mode connection is dropped) when the last clone is dropped.
#[derive(Clone)]
pub struct FakeSlack {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shared.shutdown.send(true);
        self.server.abort();
    }
}

impl FakeSlack {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(config: FakeSlackConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Slack: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Slack: local address");
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let app = server::router(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack: serve");
        });
        Self {
            inner: Arc::new(Inner {
                shared,
                addr,
                server,
            }),
        }
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// `http://127.0.0.1:PORT/api/`: the Web API base; the method name is
    /// appended (`…/api/chat.postMessage`), as with `https://slack.com/api/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/", self.inner.addr)
    }

    pub fn config(&self) -> &FakeSlackConfig {
        &self.shared().config
    }

    pub fn bot_token(&self) -> String {
        self.config().bot_token.clone()
    }

    pub fn app_token(&self) -> String {
        self.config().app_token.clone()
    }

    pub fn signing_secret(&self) -> String {
        self.config().signing_secret.clone()
    }

    /// The app's bot user, a member of what it is invited to.
    pub fn bot_user(&self) -> FakeUser {
        self.shared()
            .lock()
            .user_or_panic(self.shared().bot_user())
            .clone()
    }

    // ---- Workspace ---------------------------------------------------------

    /// A person.
    pub fn create_user(&self, name: &str) -> FakeUser {
        self.shared().lock().add_user(name, UserKind::Human, None)
    }

    /// Another app's bot user, with its own `B…` and `A…`.
    pub fn create_bot_user(&self, name: &str) -> FakeUser {
        let mut st = self.shared().lock();
        let kind = UserKind::Bot {
            bot_id: st.next_id("B"),
            app_id: st.next_id("A"),
        };
        st.add_user(name, kind, None)
    }

    /// A public (`C…`) or private (`C…`) channel with `members`; include
    /// [`FakeSlack::bot_user`] for the bot to be in it. `Im` is refused: use
    /// [`FakeSlack::open_dm`].
    pub fn create_channel(
        &self,
        name: &str,
        kind: ChannelKind,
        members: &[&FakeUser],
    ) -> FakeChannel {
        assert_ne!(kind, ChannelKind::Im, "use open_dm for direct messages");
        let mut st = self.shared().lock();
        let id = st.next_id("C");
        let channel = st.add_channel(name, kind, id.clone());
        let rec = st.channel_or_panic(&id);
        rec.members.extend(members.iter().map(|u| u.id.clone()));
        channel
    }

    /// A private channel with an old-style `G…` id.
    pub fn create_legacy_private_channel(&self, name: &str, members: &[&FakeUser]) -> FakeChannel {
        let mut st = self.shared().lock();
        let id = st.next_id("G");
        let channel = st.add_channel(name, ChannelKind::Private, id.clone());
        let rec = st.channel_or_panic(&id);
        rec.members.extend(members.iter().map(|u| u.id.clone()));
        channel
    }

    /// The DM (`D…`) between `user` and the bot.
    pub fn open_dm(&self, user: &FakeUser) -> FakeChannel {
        let sh = self.shared();
        let mut st = sh.lock();
        let id = methods::open_dm(sh, &mut st, &user.id);
        st.channel_or_panic(&id).channel.clone()
    }

    /// `user` joins quietly (no event).
    pub fn join(&self, channel: &FakeChannel, user: &FakeUser) {
        let mut st = self.shared().lock();
        st.channel_or_panic(&channel.id)
            .members
            .insert(user.id.clone());
    }

    /// `inviter` adds the bot to the channel; Slack posts a `channel_join`
    /// message, which the app hears about (and must ignore).
    pub async fn invite_bot(&self, channel: &FakeChannel, inviter: &FakeUser) -> String {
        let sh = self.shared();
        let bot = sh.bot_user().to_string();
        let mut st = sh.lock();
        st.channel_or_panic(&channel.id).members.insert(bot.clone());
        let (_, now) = sh.clock.now();
        let ts = st.next_ts(now);
        let text = format!("<@{bot}> has joined the channel");
        let mut rec = MessageRec::new(ts.clone(), Some(bot), &text, now);
        rec.subtype = Some("channel_join".into());
        rec.extra.push(("inviter".into(), json!(inviter.id)));
        st.insert_message(&channel.id, rec);
        let items = events::for_new_message(sh, &mut st, &channel.id, &ts);
        dispatch::enqueue(sh, &mut st, items);
        drop(st);
        sh.notify_changed();
        ts
    }

    // ---- Acting as people --------------------------------------------------

    /// `user` posts `text` at the top level of `channel`; returns its `ts`.
    /// The app hears what Slack would send it: a `message` event if the bot
    /// is in the channel, and an `app_mention` too if the text mentions the
    /// bot outside a DM.
    pub async fn user_says(&self, channel: &FakeChannel, user: &FakeUser, text: &str) -> String {
        self.post_as(channel, user, text, None)
    }

    /// `user` replies in the thread of `thread_ts` (events carry `thread_ts`
    /// and `parent_user_id`).
    pub async fn user_replies(
        &self,
        channel: &FakeChannel,
        thread_ts: &str,
        user: &FakeUser,
        text: &str,
    ) -> String {
        assert!(
            self.message(channel, thread_ts).is_some(),
            "no message {thread_ts} in {} to reply to",
            channel.id
        );
        self.post_as(channel, user, text, Some(thread_ts))
    }

    /// `user` shares a file with `text` as its message (subtype `file_share`, the file in
    /// `files`, served at its `url_private_download` to the bot token), at the top level or
    /// in the thread of `thread_ts`.
    pub async fn user_shares(
        &self,
        channel: &FakeChannel,
        user: &FakeUser,
        text: &str,
        thread_ts: Option<&str>,
        (filename, bytes): (&str, Vec<u8>),
    ) -> String {
        let sh = self.shared();
        let mut st = sh.lock();
        let (_, now) = sh.clock.now();
        let ts = st.next_ts(now);
        let id = st.next_id("F");
        st.files.insert(
            id.clone(),
            SharedFile {
                id: id.clone(),
                filename: filename.to_owned(),
                title: None,
                declared_length: bytes.len() as u64,
                bytes: Some(bytes.into()),
                alt_txt: None,
                snippet_type: None,
                channel: Some(channel.id.clone()),
                thread_ts: thread_ts.map(str::to_owned),
                initial_comment: Some(text.to_owned()),
                message_ts: Some(ts.clone()),
                completed: true,
            },
        );
        let mut rec = MessageRec::new(ts.clone(), Some(user.id.clone()), text, now);
        rec.subtype = Some("file_share".into());
        rec.files = vec![id];
        rec.thread_ts = thread_ts.map(|t| format_ts(parse_ts(t).expect("a ts")));
        rec.client_msg_id = Some(uuid::Uuid::new_v4().to_string());
        st.insert_message(&channel.id, rec);
        let items = events::for_new_message(sh, &mut st, &channel.id, &ts);
        dispatch::enqueue(sh, &mut st, items);
        drop(st);
        sh.notify_changed();
        ts
    }

    /// Another app's bot posts (a `message` with `bot_id`, `app_id` and
    /// `bot_profile`, like this app's own echoes).
    pub async fn bot_says(
        &self,
        channel: &FakeChannel,
        bot: &FakeUser,
        text: &str,
        thread_ts: Option<&str>,
    ) -> String {
        assert!(
            matches!(bot.kind, UserKind::Bot { .. }),
            "{} is not a bot",
            bot.name
        );
        self.post_as(channel, bot, text, thread_ts)
    }

    /// A legacy integration (incoming webhook) posts: subtype `bot_message`,
    /// a `username` and a `bot_id`, no user.
    pub async fn integration_says(
        &self,
        channel: &FakeChannel,
        username: &str,
        text: &str,
    ) -> String {
        let sh = self.shared();
        let mut st = sh.lock();
        let (_, now) = sh.clock.now();
        let ts = st.next_ts(now);
        let mut rec = MessageRec::new(ts.clone(), None, text, now);
        rec.subtype = Some("bot_message".into());
        rec.bot_id = Some(st.next_id("B"));
        rec.username = Some(username.to_string());
        rec.extra.push(("icons".into(), json!({})));
        st.insert_message(&channel.id, rec);
        let items = events::for_new_message(sh, &mut st, &channel.id, &ts);
        dispatch::enqueue(sh, &mut st, items);
        drop(st);
        sh.notify_changed();
        ts
    }

    fn post_as(
        &self,
        channel: &FakeChannel,
        user: &FakeUser,
        text: &str,
        thread_ts: Option<&str>,
    ) -> String {
        let sh = self.shared();
        let mut st = sh.lock();
        assert!(
            st.is_member(&channel.id, &user.id),
            "{} ({}) is not a member of {} ({})",
            user.name,
            user.id,
            channel.name,
            channel.id
        );
        let (_, now) = sh.clock.now();
        let ts = st.next_ts(now);
        let mut rec = MessageRec::new(ts.clone(), Some(user.id.clone()), text, now);
        let block_id = st.next_id("b")[2..7].to_string();
        rec.blocks = Some(json::rich_text(text, &block_id));
        rec.thread_ts = thread_ts.map(|t| format_ts(parse_ts(t).expect("a ts")));
        match &user.kind {
            UserKind::Human => rec.client_msg_id = Some(uuid::Uuid::new_v4().to_string()),
            UserKind::Bot { bot_id, app_id } => {
                rec.bot_id = Some(bot_id.clone());
                rec.app_id = Some(app_id.clone());
            }
        }
        st.insert_message(&channel.id, rec);
        let items = events::for_new_message(sh, &mut st, &channel.id, &ts);
        dispatch::enqueue(sh, &mut st, items);
        drop(st);
        sh.notify_changed();
        ts
    }

    /// The author edits a message: `message_changed`, and a new text version.
    pub async fn user_edits(&self, channel: &FakeChannel, ts: &str, text: &str) {
        let sh = self.shared();
        let mut st = sh.lock();
        let (_, now) = sh.clock.now();
        let before = st
            .message(&channel.id, ts)
            .cloned()
            .unwrap_or_else(|| panic!("no message {ts} in {}", channel.id));
        let event_ts = st.next_ts(now);
        let block_id = st.next_id("b")[2..7].to_string();
        let m = st.message_mut(&channel.id, ts).expect("found above");
        m.versions.push(TextVersion {
            text: text.to_string(),
            at: now,
        });
        m.blocks = Some(json::rich_text(text, &block_id));
        let author = m.user.clone().unwrap_or_default();
        m.edited = Some((author, format!("{}.000000", unix_secs(now))));
        let items = events::changed(sh, &mut st, &channel.id, &before, &event_ts);
        dispatch::enqueue(sh, &mut st, items);
        drop(st);
        sh.notify_changed();
    }

    /// The author deletes a message: `message_deleted`.
    pub async fn user_deletes(&self, channel: &FakeChannel, ts: &str) {
        let sh = self.shared();
        let mut st = sh.lock();
        let (_, now) = sh.clock.now();
        let before = st
            .message(&channel.id, ts)
            .cloned()
            .unwrap_or_else(|| panic!("no message {ts} in {}", channel.id));
        let event_ts = st.next_ts(now);
        st.message_mut(&channel.id, ts)
            .expect("found above")
            .deleted = true;
        let items = events::deleted(sh, &mut st, &channel.id, &before, &event_ts);
        dispatch::enqueue(sh, &mut st, items);
        drop(st);
        sh.notify_changed();
    }

    /// `user` runs the configured slash command with `text` in `channel`.
    pub async fn slash_command(
        &self,
        channel: &FakeChannel,
        user: &FakeUser,
        text: &str,
    ) -> SlashInvocation {
        let command = self.config().slash_command.clone();
        self.slash_command_named(channel, user, &command, text)
            .await
    }

    /// `user` runs `command` (e.g. `/other`) with `text` in `channel`.
    pub async fn slash_command_named(
        &self,
        channel: &FakeChannel,
        user: &FakeUser,
        command: &str,
        text: &str,
    ) -> SlashInvocation {
        let sh = self.shared();
        let mut st = sh.lock();
        // Slack's look: `398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c`.
        let trigger_id = format!(
            "{}.47445629121.{}",
            398_738_663_015 + st.slash_invocations.len(),
            uuid::Uuid::new_v4().simple()
        );
        let inv = SlashInvocation {
            command: command.to_string(),
            text: text.to_string(),
            user: user.id.clone(),
            channel: channel.id.clone(),
            response_url: format!("{}/response-url/{trigger_id}", sh.base_url),
            trigger_id: trigger_id.clone(),
        };
        st.slash_invocations.push(inv.clone());
        let payload = events::slash_payload(sh, &st, &inv);
        dispatch::enqueue(
            sh,
            &mut st,
            vec![Item::Command {
                trigger_id,
                payload,
            }],
        );
        drop(st);
        sh.notify_changed();
        inv
    }

    /// `user` presses the button labelled `label` under the bot's message `ts` in `channel`: a
    /// `block_actions` interaction, over the transport in use. Returns its `trigger_id`. Panics
    /// when the message has no such button now.
    pub fn press(&self, channel: &FakeChannel, user: &FakeUser, ts: &str, label: &str) -> String {
        let sh = self.shared();
        let mut st = sh.lock();
        let message = st
            .message(&channel.id, ts)
            .unwrap_or_else(|| panic!("no message {ts} in {}", channel.id));
        let Some(button) = super::interactivity::find_button(message.blocks.as_ref(), label) else {
            panic!("message {ts} has no button {label:?} now");
        };
        let message = super::json::message(&sh.config, &st, &channel.id, message);
        let ids = (
            sh.config.team_id.as_str(),
            channel.id.as_str(),
            user.id.as_str(),
        );
        let (trigger_id, payload) =
            super::interactivity::press_payload(&mut st, ids, message, &button);
        dispatch::enqueue(sh, &mut st, vec![Item::Interaction { payload }]);
        drop(st);
        sh.notify_changed();
        trigger_id
    }

    /// Delivers the press `trigger_id` again (as a retry would).
    pub fn press_again(&self, trigger_id: &str) {
        let sh = self.shared();
        let mut st = sh.lock();
        let payload = st.presses[trigger_id].clone();
        dispatch::enqueue(sh, &mut st, vec![Item::Interaction { payload }]);
        drop(st);
        sh.notify_changed();
    }

    /// From now on presses go over HTTP (when events do) to `url`, the interactivity Request URL.
    pub fn set_interactivity_url(&self, url: &str) {
        self.shared().lock().interactivity_url = Some(url.to_owned());
    }

    /// Delivers any `event` (the inner object, e.g. from a fixture) wrapped
    /// in a fresh event callback; returns its `event_id`.
    pub async fn send_event(&self, event: Value) -> String {
        let sh = self.shared();
        let mut st = sh.lock();
        let channel = event["channel"].as_str().map(str::to_string);
        let item = events::callback(sh, &mut st, event, channel.as_deref());
        let Item::Event { event_id, .. } = &item else {
            unreachable!("callback makes events")
        };
        let event_id = event_id.clone();
        dispatch::enqueue(sh, &mut st, vec![item]);
        drop(st);
        sh.notify_changed();
        event_id
    }

    // ---- Transport ---------------------------------------------------------

    /// From now on, events go as signed POSTs to `events_url` and slash
    /// commands to `commands_url` (default: `events_url`).
    pub fn deliver_over_http(&self, events_url: &str, commands_url: Option<&str>) {
        self.shared().lock().delivery = Delivery::Http {
            events_url: events_url.to_string(),
            commands_url: commands_url.map(str::to_string),
        };
    }

    /// From now on, events go over Socket Mode (the default).
    pub fn deliver_over_socket_mode(&self) {
        self.shared().lock().delivery = Delivery::SocketMode;
    }

    /// Sends `{"type":"disconnect","reason":…}` to every open connection
    /// (`refresh_requested`, `warning`, `link_disabled`); each is closed
    /// `disconnect_grace` later unless the app closes it first.
    pub fn send_disconnect(&self, reason: &str) {
        socket::disconnect(self.shared(), reason);
        self.shared().notify_changed();
    }

    /// Ends every open connection abruptly: no close frame, as when the
    /// network fails.
    pub fn drop_connections(&self) {
        socket::drop_all(self.shared());
    }

    // ---- Signed and forged HTTP requests -----------------------------------

    /// Sends Slack's `url_verification` to `url`, signed; returns the
    /// challenge sent and the delivery (with the app's answer).
    pub async fn send_url_verification(&self, url: &str) -> (String, HttpDelivery) {
        let challenge = uuid::Uuid::new_v4().simple().to_string();
        let body = json!({
            "token": self.config().verification_token,
            "challenge": challenge,
            "type": "url_verification",
        });
        let attempt = Attempt {
            url,
            kind: "url_verification",
            event_id: None,
            content_type: "application/json",
            body: Bytes::from(body.to_string()),
            retry_num: 0,
            retry_reason: None,
        };
        let (delivery, _) = http_delivery::post(self.shared(), attempt).await;
        (challenge, delivery)
    }

    /// POSTs `body` signed with `secret` as if sent at `timestamp` (unix
    /// seconds): stale, future or wrongly signed requests for the app's
    /// signature checks. Returns the status (0: no answer) and body.
    pub async fn post_signed(
        &self,
        url: &str,
        content_type: &str,
        body: impl Into<Bytes>,
        timestamp: i64,
        secret: &str,
    ) -> (u16, String) {
        let body = body.into();
        let signature = super::signing::slack_signature(secret, &timestamp.to_string(), &body);
        let headers = [
            ("Content-Type", content_type),
            ("X-Slack-Request-Timestamp", &timestamp.to_string()),
            ("X-Slack-Signature", &signature),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        self.post_raw_owned(url, &headers, body).await
    }

    /// POSTs exactly `headers` and `body` (missing or forged signatures).
    pub async fn post_raw(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (u16, String) {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.post_raw_owned(url, &headers, body.into()).await
    }

    async fn post_raw_owned(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> (u16, String) {
        let timeout = self
            .config()
            .http_timeout
            .max(std::time::Duration::from_secs(10));
        match http_delivery::send(self.shared(), url, headers, body, timeout).await {
            Ok(a) => (a.status, a.body),
            Err(reason) => (0, reason),
        }
    }

    /// The next `chat.postMessage` calls, one per entry: `true` posts the message, then
    /// answers HTTP 500 as if the answer were lost on the way (Slack accepted it).
    pub fn fail_after_posting(&self, pattern: &[bool]) {
        self.shared()
            .lock()
            .fail_after_posting
            .extend(pattern.iter().copied());
    }

    /// Now, in unix seconds, as `X-Slack-Request-Timestamp` carries it.
    pub fn unix_now(&self) -> i64 {
        unix_secs(self.shared().clock.now().1)
    }
}
