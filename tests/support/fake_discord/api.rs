//! The handle tests hold: set up guilds, channels and people; act as people
//! (messages, edits, deletions, threads, slash commands); control the
//! gateway and provoke rate limits; wait for what the bot does; inspect
//! everything it called.
//!
//! Waiting never sleeps on a timer: every waiter registers for the fake's
//! change signal *before* looking at the state, then sleeps until the next
//! change (or its deadline), so no change between the look and the sleep
//! can be missed. A timeout panics with what the bot did post and which of
//! its calls failed, which is usually the whole diagnosis.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::FakeDiscordConfig;
use super::intents::Place;
use super::interactions;
use super::json;
use super::messages::{self, NewMessage};
use super::routes::RouteKind;
use super::server;
use super::sessions::{Event, Outbound};
use super::state::{ChannelRec, GuildRec, MemberRec, RoleRec, Shared, State};
use super::threads::{self, NewThread};
use super::types::{
    Attachment, CallRecord, ChannelKind, FakeChannel, FakeGuild, FakeRole, FakeUser, GatewayFacts,
    IdentifyRecord, InteractionCallback, InteractionHandle, InteractionState, MessageState,
    ReactionState, RegisteredCommand, ResumeRecord, SessionFacts, ThreadState, UserMessage,
    Violation,
};

/// A running fake Discord. Cheap to clone; the server stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.server.abort();
        // Gateway connections end with the test's runtime; tell them now.
        self.shared.lock().gateway.broadcast(|| Outbound::Drop);
    }
}

fn id(s: &str) -> u64 {
    s.parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a snowflake"))
}

impl FakeDiscord {
    /// Binds `127.0.0.1:0` and starts serving REST and the gateway.
    pub async fn start(config: FakeDiscordConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Discord: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Discord: local address");
        let shared = Arc::new(Shared::new(config, addr.port()));
        let app = server::router(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake Discord: serve");
        });
        Self {
            inner: Arc::new(Inner {
                shared,
                addr,
                server,
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    fn now(&self) -> (Instant, SystemTime) {
        self.shared().clock.now()
    }

    fn window(&self) -> Duration {
        self.shared().config.resume_window
    }

    /// `http://127.0.0.1:PORT/api/v10`: the bot's REST base URL.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v10", self.inner.addr)
    }

    /// `ws://127.0.0.1:PORT`: what `GET /gateway/bot` answers (the client
    /// appends `/?v=10&encoding=json`).
    pub fn gateway_url(&self) -> String {
        self.shared().ws_base.clone()
    }

    pub fn token(&self) -> String {
        self.shared().config.token.clone()
    }

    /// The application's id, which is also the bot user's id.
    pub fn application_id(&self) -> String {
        self.shared().lock().bot_id.to_string()
    }

    pub fn bot_user(&self) -> FakeUser {
        self.shared().lock().bot().clone()
    }

    // ---- Setup -------------------------------------------------------------

    fn add_user(&self, username: &str, bot: bool) -> FakeUser {
        let (_, now) = self.now();
        let mut st = self.shared().lock();
        let uid = st.next_id(now);
        let u = FakeUser {
            id: uid.to_string(),
            username: username.to_string(),
            global_name: (!bot).then(|| username.to_string()),
            bot,
        };
        st.users.insert(uid, u.clone());
        u
    }

    /// A person.
    pub fn user(&self, username: &str) -> FakeUser {
        self.add_user(username, false)
    }

    /// Another bot account (`"bot": true`), whose messages the bot must
    /// not take for people's.
    pub fn other_bot(&self, username: &str) -> FakeUser {
        self.add_user(username, true)
    }

    /// A guild the bot is in, with `@everyone` and the bot's managed role.
    /// Live sessions with GUILDS get its GUILD_CREATE.
    pub fn guild(&self, name: &str) -> FakeGuild {
        let owner = self.user(&format!("{name}-owner"));
        let now = self.now();
        let mut st = self.shared().lock();
        let gid = st.next_id(now.1);
        let bot_role = st.next_id(now.1);
        let (everyone_perms, bot_perms) = json::default_permissions();
        let mut members = std::collections::BTreeMap::new();
        let bot = st.bot_id;
        members.insert(
            bot,
            MemberRec {
                roles: vec![bot_role],
                joined_at: now.1,
            },
        );
        members.insert(
            id(&owner.id),
            MemberRec {
                roles: vec![],
                joined_at: now.1,
            },
        );
        let username = st.bot().username.clone();
        let g = GuildRec {
            id: gid,
            name: name.to_string(),
            owner_id: id(&owner.id),
            roles: vec![
                RoleRec {
                    id: gid,
                    name: "@everyone".into(),
                    position: 0,
                    permissions: everyone_perms.into(),
                    bot_id: None,
                },
                RoleRec {
                    id: bot_role,
                    name: username,
                    position: 1,
                    permissions: bot_perms.into(),
                    bot_id: Some(bot),
                },
            ],
            members,
            joined_at: now.1,
        };
        st.guilds.insert(gid, g);
        let data = json::guild_create(&st, &st.guilds[&gid]);
        self.dispatch(&mut st, "GUILD_CREATE", data, Place::Guild, now.0);
        drop(st);
        self.shared().notify_changed();
        FakeGuild {
            id: gid.to_string(),
            name: name.to_string(),
        }
    }

    fn dispatch(
        &self,
        st: &mut State,
        name: &'static str,
        data: Value,
        place: Place,
        now: Instant,
    ) {
        let ev = Event {
            name,
            data,
            place,
            content_exempt: None,
        };
        st.gateway.dispatch(&ev, now, self.window());
    }

    /// A text channel (type 0); live sessions get CHANNEL_CREATE.
    pub fn text_channel(&self, guild: &FakeGuild, name: &str) -> FakeChannel {
        let now = self.now();
        let mut st = self.shared().lock();
        let gid = id(&guild.id);
        let cid = st.next_id(now.1);
        let position = st
            .channels
            .values()
            .filter(|c| c.guild_id == Some(gid))
            .count() as u32;
        let c = ChannelRec {
            id: cid,
            kind: ChannelKind::GuildText,
            guild_id: Some(gid),
            parent_id: None,
            name: Some(name.to_string()),
            position,
            recipient: None,
            thread: None,
            last_message_id: None,
            denied: false,
        };
        let public = c.to_public();
        st.channels.insert(cid, c);
        let data = json::channel(&st, &st.channels[&cid], false);
        self.dispatch(&mut st, "CHANNEL_CREATE", data, Place::Guild, now.0);
        public
    }

    /// A role in `guild`.
    pub fn role(&self, guild: &FakeGuild, name: &str) -> FakeRole {
        let (_, now) = self.now();
        let mut st = self.shared().lock();
        let rid = st.next_id(now);
        let g = st.guilds.get_mut(&id(&guild.id)).expect("a known guild");
        let position = g.roles.len() as u32;
        g.roles.push(RoleRec {
            id: rid,
            name: name.to_string(),
            position,
            permissions: "0".into(),
            bot_id: None,
        });
        FakeRole {
            id: rid.to_string(),
            guild_id: guild.id.clone(),
            name: name.to_string(),
        }
    }

    /// Makes `user` a member of `guild` with `roles` (replacing earlier
    /// roles). People who speak in a guild become members anyway.
    pub fn add_member(&self, guild: &FakeGuild, user: &FakeUser, roles: &[&FakeRole]) {
        let (_, now) = self.now();
        let mut st = self.shared().lock();
        let g = st.guilds.get_mut(&id(&guild.id)).expect("a known guild");
        let m = g.members.entry(id(&user.id)).or_insert(MemberRec {
            roles: vec![],
            joined_at: now,
        });
        m.roles = roles.iter().map(|r| id(&r.id)).collect();
    }

    /// The DM channel (type 1) between the bot and `user`.
    pub fn dm_channel(&self, user: &FakeUser) -> FakeChannel {
        let (_, now) = self.now();
        let mut st = self.shared().lock();
        let uid = id(&user.id);
        if let Some(c) = st.channels.values().find(|c| c.recipient == Some(uid)) {
            return c.to_public();
        }
        let cid = st.next_id(now);
        let c = ChannelRec {
            id: cid,
            kind: ChannelKind::Dm,
            guild_id: None,
            parent_id: None,
            name: None,
            position: 0,
            recipient: Some(uid),
            thread: None,
            last_message_id: None,
            denied: false,
        };
        let public = c.to_public();
        st.channels.insert(cid, c);
        public
    }

    /// `by` starts a public thread from `message` (as a person would in the
    /// client); live sessions get THREAD_CREATE.
    pub fn start_thread(&self, message: &MessageState, name: &str, by: &FakeUser) -> FakeChannel {
        let now = self.now();
        let mut st = self.shared().lock();
        let mid = id(&message.id);
        let m = &st.messages[&mid];
        assert!(m.thread_id.is_none(), "message {mid} already has a thread");
        let parent = m.channel_id;
        assert_eq!(
            st.channel(parent).kind,
            ChannelKind::GuildText,
            "threads start in text channels"
        );
        let t = NewThread {
            parent,
            from_message: Some(mid),
            name: name.to_string(),
            owner: id(&by.id),
            auto_archive_duration: 1440,
            by_bot: false,
        };
        let tid = threads::start(&mut st, t, now, self.window());
        let public = st.channels[&tid].to_public();
        drop(st);
        self.shared().notify_changed();
        public
    }

    /// From now on the bot may not see or post in `channel` (or its
    /// threads): 403 Missing Access (50001).
    pub fn deny_access(&self, channel: &FakeChannel) {
        let mut st = self.shared().lock();
        if let Some(c) = st.channels.get_mut(&id(&channel.id)) {
            c.denied = true;
        }
    }

    // ---- People ------------------------------------------------------------

    /// `user` sends `content` to `channel`: MESSAGE_CREATE with Discord's
    /// shape (`<@bot id>` in the content puts the bot in `mentions`).
    pub fn user_says(&self, channel: &FakeChannel, user: &FakeUser, content: &str) -> MessageState {
        self.user_says_with(channel, user, UserMessage::new(content))
    }

    /// `user` sends `message` (optionally a reply) to `channel`.
    pub fn user_says_with(
        &self,
        channel: &FakeChannel,
        user: &FakeUser,
        message: UserMessage,
    ) -> MessageState {
        let now = self.now();
        let mut st = self.shared().lock();
        let cid = id(&channel.id);
        let uid = id(&user.id);
        assert!(st.users.contains_key(&uid), "user {} is not known", user.id);
        if let Some(g) = st.guild_of(cid)
            && let Some(guild) = st.guilds.get_mut(&g)
        {
            guild.members.entry(uid).or_insert(MemberRec {
                roles: vec![],
                joined_at: now.1,
            });
        }
        let reference = message.reply_to.as_deref().map(|r| {
            let r = id(r);
            assert!(
                st.messages.get(&r).is_some_and(|m| m.channel_id == cid),
                "no message {r} in channel {cid} to reply to"
            );
            r
        });
        let attachments = message
            .files
            .into_iter()
            .map(|(filename, bytes)| Attachment {
                id: st.next_id(now.1).to_string(),
                content_type: audio_type(&filename),
                filename,
                bytes,
            })
            .collect();
        let new = NewMessage {
            channel: cid,
            author: uid,
            content: message.content,
            reference,
            attachments,
            nonce: Some(Value::String(st.next_id(now.1).to_string())),
            ..NewMessage::default()
        };
        let mid = messages::post(&mut st, new, now, self.window());
        let state = st.message_state(&st.messages[&mid]);
        drop(st);
        self.shared().notify_changed();
        state
    }

    /// Its author edits a message: MESSAGE_UPDATE.
    pub fn user_edits(&self, message: &MessageState, content: &str) -> MessageState {
        let now = self.now();
        let mut st = self.shared().lock();
        let mid = id(&message.id);
        messages::edit(&mut st, mid, content, now, self.window());
        let state = st.message_state(&st.messages[&mid]);
        drop(st);
        self.shared().notify_changed();
        state
    }

    /// Its author deletes a message: MESSAGE_DELETE.
    pub fn user_deletes(&self, message: &MessageState) {
        let now = self.now();
        messages::delete(
            &mut self.shared().lock(),
            id(&message.id),
            now,
            self.window(),
        );
        self.shared().notify_changed();
    }

    /// `user` runs `/name` with `options` (the interaction's
    /// `data.options`, e.g. `[{"name": "prompt", "type": 3, "value": "hi"}]`)
    /// in `channel`: INTERACTION_CREATE. The command must be registered.
    pub fn invoke_command(
        &self,
        name: &str,
        options: Value,
        user: &FakeUser,
        channel: &FakeChannel,
    ) -> InteractionHandle {
        let now = self.now();
        let mut st = self.shared().lock();
        let cid = id(&channel.id);
        if let Some(g) = st.guild_of(cid)
            && let Some(guild) = st.guilds.get_mut(&g)
        {
            guild.members.entry(id(&user.id)).or_insert(MemberRec {
                roles: vec![],
                joined_at: now.1,
            });
        }
        let h = interactions::invoke(
            &mut st,
            name,
            &options,
            id(&user.id),
            cid,
            now,
            self.window(),
        );
        drop(st);
        self.shared().notify_changed();
        h
    }

    /// `user` presses the button labelled `label` under the bot's message `message_id`.
    pub fn press(&self, user: &FakeUser, message_id: &str, label: &str) -> InteractionHandle {
        let now = self.now();
        let mut st = self.shared().lock();
        let message = id(message_id);
        if let Some(g) = st.messages.get(&message).and_then(|m| m.guild_id)
            && let Some(guild) = st.guilds.get_mut(&g)
        {
            guild.members.entry(id(&user.id)).or_insert(MemberRec {
                roles: vec![],
                joined_at: now.1,
            });
        }
        let h = interactions::press(&mut st, id(&user.id), message, label, now, self.window());
        drop(st);
        self.shared().notify_changed();
        h
    }

    /// Sends the press again (a gateway replay after a resume).
    pub fn press_again(&self, press: &InteractionHandle) {
        let now = self.now();
        let mut st = self.shared().lock();
        interactions::dispatch_press(&mut st, id(&press.id), now, self.window());
        drop(st);
        self.shared().notify_changed();
    }

    /// Waits for what the bot told who pressed (its first follow-up to the press, which must
    /// be ephemeral); panics unless the press was acknowledged with type 6 first.
    pub async fn press_answer(&self, press: &InteractionHandle, timeout: Duration) -> String {
        let found = self
            .wait_for(timeout, |f| {
                let st = f.shared().lock();
                let rec = st.interactions.get(&id(&press.id))?;
                let first = *rec.followups.first()?;
                let kind = rec.callback.as_ref().map(|c| c.kind);
                assert_eq!(
                    kind,
                    Some(6),
                    "a press is acknowledged as DEFERRED_UPDATE_MESSAGE"
                );
                let m = &st.messages[&first];
                assert_ne!(m.flags & (1 << 6), 0, "the answer to a press is ephemeral");
                Some(m.content().to_string())
            })
            .await;
        found.unwrap_or_else(|| panic!("press {} was not answered within {timeout:?}", press.id))
    }

    // ---- Gateway controls ----------------------------------------------------

    /// Ends every gateway connection abruptly, without a close frame (a
    /// network failure): the client must reconnect and RESUME.
    pub fn drop_gateway(&self) {
        self.shared().lock().gateway.broadcast(|| Outbound::Drop);
    }

    /// Sends op 7 RECONNECT on every connection; a connection the client
    /// does not leave within `reconnect_grace` is dropped.
    pub fn send_reconnect(&self) {
        self.shared()
            .lock()
            .gateway
            .broadcast(|| Outbound::Reconnect);
    }

    /// Sends op 9 INVALID_SESSION with `d: resumable` on every connection
    /// that carries a session; unless resumable, those sessions end.
    pub fn invalidate_session(&self, resumable: bool) {
        let mut st = self.shared().lock();
        let g = &mut st.gateway;
        let text = format!(r#"{{"t":null,"s":null,"op":9,"d":{resumable}}}"#);
        let conns: Vec<u64> = g
            .conns
            .iter()
            .filter(|(_, c)| c.session.is_some())
            .map(|(k, _)| *k)
            .collect();
        for conn in conns {
            g.send(conn, Outbound::Text(text.clone()));
            if !resumable {
                let c = g.conns.get_mut(&conn).expect("an open connection");
                if let Some(s) = c.session.take().and_then(|s| g.sessions.get_mut(&s)) {
                    s.invalid = true;
                    s.conn = None;
                }
            }
        }
    }

    /// Closes every connection with a close frame of `code` (4000–4014
    /// as Discord uses them; resumability follows the code).
    pub fn close_with(&self, code: u16) {
        self.shared()
            .lock()
            .gateway
            .broadcast(|| Outbound::Close(code, String::new()));
    }

    /// Sends op 1 (Discord asking for an immediate heartbeat).
    pub fn request_heartbeat(&self) {
        self.shared()
            .lock()
            .gateway
            .broadcast(|| Outbound::Text(r#"{"t":null,"s":null,"op":1,"d":null}"#.into()));
    }

    // ---- Rate-limit controls -------------------------------------------------

    /// The next `count` requests of `kind` get 429 with `retry_after`
    /// (`"global": false`, scope `user`); asking again before it passed is
    /// a violation.
    pub fn storm(&self, kind: RouteKind, count: u32, retry_after: Duration) {
        self.shared()
            .lock()
            .limiter
            .storm(kind.name(), count, retry_after, false);
    }

    /// Like [`Self::storm`], but the 429s are global ones (they block every
    /// route the global limit counts).
    pub fn global_storm(&self, kind: RouteKind, count: u32, retry_after: Duration) {
        self.shared()
            .lock()
            .limiter
            .storm(kind.name(), count, retry_after, true);
    }

    /// The next message creations, one per entry: `true` creates the
    /// message, then answers HTTP 500 as if the answer were lost on the way
    /// (Discord accepted it).
    pub fn fail_after_creating(&self, pattern: &[bool]) {
        self.shared()
            .lock()
            .fail_after_creating
            .extend(pattern.iter().copied());
    }

    // ---- Inspection ----------------------------------------------------------

    /// Every message of `channel` (deleted ones too, flagged), oldest
    /// first, in their current state with all content versions.
    pub fn messages(&self, channel: &FakeChannel) -> Vec<MessageState> {
        let st = self.shared().lock();
        let cid = id(&channel.id);
        st.messages
            .values()
            .filter(|m| m.channel_id == cid)
            .map(|m| st.message_state(m))
            .collect()
    }

    /// The bot's messages in `channel`, oldest first.
    pub fn bot_messages(&self, channel: &FakeChannel) -> Vec<MessageState> {
        let bot = self.bot_user();
        self.messages(channel)
            .into_iter()
            .filter(|m| m.author == bot)
            .collect()
    }

    pub fn message(&self, message_id: &str) -> Option<MessageState> {
        let st = self.shared().lock();
        st.messages
            .get(&id(message_id))
            .map(|m| st.message_state(m))
    }

    /// Every thread, oldest first.
    pub fn threads(&self) -> Vec<ThreadState> {
        let st = self.shared().lock();
        st.channels
            .values()
            .filter_map(|c| st.thread_state(c))
            .collect()
    }

    /// When the bot triggered typing in `channel`.
    pub fn typing_calls(&self, channel: &FakeChannel) -> Vec<SystemTime> {
        let cid = id(&channel.id);
        let st = self.shared().lock();
        st.typing
            .iter()
            .filter(|(c, _)| *c == cid)
            .map(|(_, at)| *at)
            .collect()
    }

    /// The reactions currently on a message of `channel`.
    pub fn reactions(&self, channel: &FakeChannel, message_id: &str) -> Vec<ReactionState> {
        let (cid, mid) = (id(&channel.id), id(message_id));
        let st = self.shared().lock();
        st.reactions
            .iter()
            .filter(|r| r.channel_id == cid && r.message_id == mid)
            .map(|r| ReactionState {
                user_id: r.user_id.to_string(),
                emoji: r.emoji.clone(),
                at: r.at,
            })
            .collect()
    }

    /// What the bot did with an interaction.
    pub fn interaction_responses(&self, interaction_id: &str) -> InteractionState {
        let st = self.shared().lock();
        let rec = st
            .interactions
            .get(&id(interaction_id))
            .unwrap_or_else(|| panic!("no interaction {interaction_id}"));
        let after = interactions::callback_after(rec);
        InteractionState {
            id: rec.id.to_string(),
            token: rec.token.clone(),
            callback: rec.callback.as_ref().map(|c| InteractionCallback {
                kind: c.kind,
                data: c.data.clone(),
                at: c.at,
                after: after.unwrap_or_default(),
            }),
            original: rec.original.map(|m| st.message_state(&st.messages[&m])),
            followups: rec
                .followups
                .iter()
                .map(|m| st.message_state(&st.messages[m]))
                .collect(),
            expired: rec.expired,
        }
    }

    /// The commands registered globally (`None`) or in a guild.
    pub fn registered_commands(&self, guild: Option<&FakeGuild>) -> Vec<RegisteredCommand> {
        let st = self.shared().lock();
        let g = guild.map(|g| id(&g.id));
        super::commands::list(&st, g)
            .into_iter()
            .map(|json| RegisteredCommand {
                id: json["id"].as_str().unwrap_or_default().to_string(),
                guild_id: json["guild_id"].as_str().map(str::to_string),
                name: json["name"].as_str().unwrap_or_default().to_string(),
                description: json["description"].as_str().unwrap_or_default().to_string(),
                kind: json["type"].as_u64().unwrap_or(1) as u8,
                options: json.get("options").cloned().unwrap_or(Value::Array(vec![])),
                json,
            })
            .collect()
    }

    /// Every HTTP request answered, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared().lock().calls.clone()
    }

    /// Requests that ignored a 429, and interaction answers that came too
    /// late.
    pub fn violations(&self) -> Vec<Violation> {
        self.shared().lock().violations.clone()
    }

    /// Connections, IDENTIFYs, RESUMEs, heartbeats, closes and sessions.
    pub fn gateway(&self) -> GatewayFacts {
        let (now, _) = self.now();
        let st = self.shared().lock();
        let mut facts = st.gateway.facts.clone();
        facts.sessions = st.gateway.session_facts(now, self.window());
        facts
    }

    // ---- Waiting -------------------------------------------------------------

    /// Waits until `check` finds something, re-checking after every change
    /// to the fake. `None` after `timeout`.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        crate::support::waiting::until(&self.shared().changed, timeout, || check(self)).await
    }

    /// Waits until a message of `channel` currently matches; returns the
    /// earliest such message.
    pub async fn wait_for_message(
        &self,
        channel: &FakeChannel,
        predicate: impl Fn(&MessageState) -> bool,
        timeout: Duration,
    ) -> MessageState {
        let found = self
            .wait_for(timeout, |f| {
                f.messages(channel).into_iter().find(|m| predicate(m))
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no message in channel {} matched within {timeout:?}\n{}",
                channel.id,
                self.describe(channel)
            )
        })
    }

    /// Waits until a message by the bot in `channel` currently matches.
    pub async fn wait_for_bot_message(
        &self,
        channel: &FakeChannel,
        predicate: impl Fn(&MessageState) -> bool,
        timeout: Duration,
    ) -> MessageState {
        let bot = self.bot_user();
        self.wait_for_message(channel, |m| m.author == bot && predicate(m), timeout)
            .await
    }

    /// Waits for a thread that matches.
    pub async fn wait_for_thread(
        &self,
        predicate: impl Fn(&ThreadState) -> bool,
        timeout: Duration,
    ) -> ThreadState {
        let found = self
            .wait_for(timeout, |f| f.threads().into_iter().find(|t| predicate(t)))
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no thread matched within {timeout:?}; threads: {:#?}",
                self.threads()
            )
        })
    }

    /// Waits until the bot has triggered typing in `channel` at least
    /// `count` times.
    pub async fn wait_for_typing(
        &self,
        channel: &FakeChannel,
        count: usize,
        timeout: Duration,
    ) -> Vec<SystemTime> {
        let found = self
            .wait_for(timeout, |f| {
                let calls = f.typing_calls(channel);
                (calls.len() >= count).then_some(calls)
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "fewer than {count} typing calls in {} within {timeout:?}",
                channel.id
            )
        })
    }

    /// Waits until the bot's reaction `emoji` is on a message.
    pub async fn wait_for_reaction(
        &self,
        channel: &FakeChannel,
        message_id: &str,
        emoji: &str,
        timeout: Duration,
    ) {
        let bot = self.application_id();
        let found = self
            .wait_for(timeout, |f| {
                f.reactions(channel, message_id)
                    .iter()
                    .any(|r| r.user_id == bot && r.emoji == emoji)
                    .then_some(())
            })
            .await;
        if found.is_none() {
            panic!(
                "no {emoji} reaction by the bot on {message_id} within {timeout:?}; reactions: {:?}",
                self.reactions(channel, message_id)
            );
        }
    }

    /// Waits until the bot answered the interaction (its first callback).
    pub async fn wait_for_interaction_response(
        &self,
        handle: &InteractionHandle,
        timeout: Duration,
    ) -> InteractionState {
        let found = self
            .wait_for(timeout, |f| {
                let s = f.interaction_responses(&handle.id);
                (s.callback.is_some() || s.expired).then_some(s)
            })
            .await;
        found.unwrap_or_else(|| {
            let st = self.shared().lock();
            panic!(
                "no answer to /{} within {timeout:?}: {}",
                handle.command,
                interactions::describe(&st.interactions[&id(&handle.id)])
            )
        })
    }

    /// Waits until the commands of a scope satisfy `predicate`.
    pub async fn wait_for_commands(
        &self,
        guild: Option<&FakeGuild>,
        predicate: impl Fn(&[RegisteredCommand]) -> bool,
        timeout: Duration,
    ) -> Vec<RegisteredCommand> {
        let found = self
            .wait_for(timeout, |f| {
                let c = f.registered_commands(guild);
                predicate(&c).then_some(c)
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "commands did not match within {timeout:?}: {:#?}",
                self.registered_commands(guild)
            )
        })
    }

    /// Waits for the `n`th IDENTIFY (1-based) and returns it.
    pub async fn wait_for_identify(&self, n: usize, timeout: Duration) -> IdentifyRecord {
        let found = self
            .wait_for(timeout, |f| f.gateway().identifies.get(n - 1).cloned())
            .await;
        found
            .unwrap_or_else(|| panic!("no IDENTIFY #{n} within {timeout:?}: {:#?}", self.gateway()))
    }

    /// Waits for the `n`th RESUME (1-based) and returns it.
    pub async fn wait_for_resume(&self, n: usize, timeout: Duration) -> ResumeRecord {
        let found = self
            .wait_for(timeout, |f| f.gateway().resumes.get(n - 1).cloned())
            .await;
        found.unwrap_or_else(|| panic!("no RESUME #{n} within {timeout:?}: {:#?}", self.gateway()))
    }

    /// Waits until a session is connected (after READY or RESUMED).
    pub async fn wait_for_session(&self, timeout: Duration) -> SessionFacts {
        let found = self
            .wait_for(timeout, |f| {
                f.gateway().sessions.into_iter().find(|s| s.connected)
            })
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no connected session within {timeout:?}: {:#?}",
                self.gateway()
            )
        })
    }

    /// Waits until at least `n` heartbeats arrived.
    pub async fn wait_for_heartbeats(&self, n: usize, timeout: Duration) {
        let found = self
            .wait_for(timeout, |f| {
                (f.gateway().heartbeats.len() >= n).then_some(())
            })
            .await;
        if found.is_none() {
            panic!(
                "fewer than {n} heartbeats within {timeout:?}: {:#?}",
                self.gateway().heartbeats
            );
        }
    }

    /// What is in a channel and which calls failed: the timeout diagnosis.
    fn describe(&self, channel: &FakeChannel) -> String {
        let mut out = String::from("messages (oldest first):\n");
        for m in self.messages(channel) {
            let _ = writeln!(
                out,
                "  {} by {}{} ({} edits{}): {:?}",
                m.id,
                m.author.username,
                if m.author.bot { " [bot]" } else { "" },
                m.edits(),
                if m.deleted { ", deleted" } else { "" },
                short(&m.content)
            );
        }
        out.push_str("failed calls:\n");
        for c in self.calls().iter().filter(|c| c.status >= 400) {
            let _ = writeln!(
                out,
                "  {} {} -> {} (code {})",
                c.method, c.path, c.status, c.code
            );
        }
        out
    }
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(120).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// The media type Discord gives a user's audio upload, from its extension (`None` for other
/// files, which no test reads the type of).
fn audio_type(filename: &str) -> Option<String> {
    let extension = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    let media_type = match extension.as_str() {
        "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        _ => return None,
    };
    Some(media_type.to_owned())
}
