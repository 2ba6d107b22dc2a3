//! Gateway sessions and connections: who is connected, which session each
//! connection carries, every dispatch each session was given (for RESUME),
//! and the fan-out of new events to sessions by intent.
//!
//! A dispatch is numbered and logged in the session the moment it happens,
//! whether or not the session is connected: a session that lost its
//! connection keeps collecting events until it resumes (and gets them
//! replayed) or its resume window passes. A fresh IDENTIFY starts a new,
//! empty session, so what happened in between is only readable over REST.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::intents::{self, Place};
use super::types::{CloseRecord, ClosedBy, GatewayFacts, SessionFacts};

/// What a connection task is told to do, in order.
#[derive(Debug)]
pub(super) enum Outbound {
    Text(String),
    /// Send a close frame with this code, then end.
    Close(u16, String),
    /// End without a close frame.
    Drop,
    /// Send op 7 RECONNECT and drop the connection if the client does not
    /// leave within the grace period.
    Reconnect,
}

/// A new event for every session that may see it.
#[derive(Debug, Clone)]
pub(super) struct Event {
    pub name: &'static str,
    pub data: Value,
    pub place: Place,
    /// For messages: whether the content is visible without the
    /// MESSAGE_CONTENT intent (the bot's own, DMs, mentions of the bot).
    /// `None` for events without message content.
    pub content_exempt: Option<bool>,
}

#[derive(Debug)]
pub(super) struct Conn {
    pub tx: UnboundedSender<Outbound>,
    pub session: Option<String>,
    /// Client frames of the last minute (gateway send limit).
    pub frames: VecDeque<Instant>,
}

#[derive(Debug)]
pub(super) struct Session {
    pub id: String,
    pub intents: u64,
    pub shard: Option<[u64; 2]>,
    /// The last `s` handed out.
    pub seq: u64,
    /// Every dispatch given to this session: `(s, text)`.
    pub log: Vec<(u64, String)>,
    pub conn: Option<u64>,
    pub disconnected_at: Option<Instant>,
    pub invalid: bool,
}

impl Session {
    /// Whether a RESUME of this session would succeed now.
    pub fn resumable(&self, now: Instant, window: Duration) -> bool {
        !self.invalid
            && self
                .disconnected_at
                .is_none_or(|at| now.saturating_duration_since(at) < window)
    }

    /// Numbers, logs and (when connected) sends one dispatch.
    pub fn push(&mut self, conns: &BTreeMap<u64, Conn>, name: &str, data: &Value) -> u64 {
        self.seq += 1;
        let text = json!({ "t": name, "s": self.seq, "op": 0, "d": data }).to_string();
        if let Some(c) = self.conn.and_then(|c| conns.get(&c)) {
            let _ = c.tx.send(Outbound::Text(text.clone()));
        }
        self.log.push((self.seq, text));
        self.seq
    }
}

#[derive(Debug)]
pub(super) struct Sessions {
    pub conns: BTreeMap<u64, Conn>,
    pub sessions: BTreeMap<String, Session>,
    pub facts: GatewayFacts,
    pub starts_left: u32,
    pub starts_total: u32,
    next_conn: u64,
}

/// Close codes after which the session cannot be resumed.
pub(super) fn invalidates(code: u16) -> bool {
    matches!(code, 1000 | 1001 | 4003 | 4004 | 4007 | 4009..=4014)
}

impl Sessions {
    pub fn new(starts: u32) -> Self {
        Self {
            conns: BTreeMap::new(),
            sessions: BTreeMap::new(),
            facts: GatewayFacts::default(),
            starts_left: starts,
            starts_total: starts,
            next_conn: 1,
        }
    }

    pub fn open(&mut self, tx: UnboundedSender<Outbound>) -> u64 {
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            Conn {
                tx,
                session: None,
                frames: VecDeque::new(),
            },
        );
        self.facts.connections += 1;
        id
    }

    pub fn send(&self, conn: u64, out: Outbound) {
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.tx.send(out);
        }
    }

    /// Tells every open connection (the test controls).
    pub fn broadcast(&self, mut make: impl FnMut() -> Outbound) {
        for c in self.conns.values() {
            let _ = c.tx.send(make());
        }
    }

    /// Gives `event` to every live session whose intents cover it.
    pub fn dispatch(&mut self, event: &Event, now: Instant, window: Duration) {
        let needs = intents::required(event.name, event.place);
        for s in self.sessions.values_mut() {
            if !s.resumable(now, window) || (needs != 0 && s.intents & needs == 0) {
                continue;
            }
            let mut data = event.data.clone();
            if let Some(exempt) = event.content_exempt
                && !intents::content_visible(s.intents, exempt)
            {
                intents::strip_content(&mut data);
            }
            s.push(&self.conns, event.name, &data);
        }
    }

    /// Attaches `session` to `conn`, dropping any older connection that
    /// still carried it (a zombie the client gave up on).
    pub fn attach(&mut self, conn: u64, session: &str) {
        let s = self.sessions.get_mut(session).expect("a known session");
        if let Some(old) = s.conn.replace(conn)
            && old != conn
            && let Some(c) = self.conns.get_mut(&old)
        {
            c.session = None;
            let _ = c.tx.send(Outbound::Drop);
        }
        s.disconnected_at = None;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(session.to_string());
        }
    }

    /// Forgets a connection that ended; its session stays resumable unless
    /// the close code says otherwise.
    pub fn closed(
        &mut self,
        conn: u64,
        by: ClosedBy,
        code: Option<u16>,
        now: (Instant, SystemTime),
    ) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(s) = c.session.and_then(|s| self.sessions.get_mut(&s))
            && s.conn == Some(conn)
        {
            s.conn = None;
            s.disconnected_at = Some(now.0);
            if code.is_some_and(invalidates) {
                s.invalid = true;
            }
        }
        self.facts.closes.push(CloseRecord {
            connection: conn,
            by,
            code,
            at: now.1,
        });
    }

    pub fn session_facts(&self, now: Instant, window: Duration) -> Vec<SessionFacts> {
        self.sessions
            .values()
            .map(|s| SessionFacts {
                id: s.id.clone(),
                intents: s.intents,
                seq: s.seq,
                connected: s.conn.is_some(),
                resumable: s.resumable(now, window),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn session(id: &str, intents: u64) -> Session {
        Session {
            id: id.into(),
            intents,
            shard: None,
            seq: 0,
            log: vec![],
            conn: None,
            disconnected_at: None,
            invalid: false,
        }
    }

    #[test]
    fn dispatches_follow_intents_and_are_kept_while_disconnected() {
        let mut s = Sessions::new(1000);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let c = s.open(tx);
        s.sessions
            .insert("a".into(), session("a", intents::GUILD_MESSAGES));
        s.sessions
            .insert("b".into(), session("b", intents::DIRECT_MESSAGES));
        s.attach(c, "a");
        let now = Instant::now();
        let ev = Event {
            name: "MESSAGE_CREATE",
            data: json!({"content": "hello"}),
            place: Place::Guild,
            content_exempt: Some(false),
        };
        s.dispatch(&ev, now, Duration::from_secs(60));
        let Some(Outbound::Text(t)) = rx.try_recv().ok() else {
            panic!("expected a dispatch")
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["s"], 1);
        assert_eq!(v["d"]["content"], "", "no MESSAGE_CONTENT intent");
        assert_eq!(s.sessions["b"].seq, 0, "b lacks GUILD_MESSAGES");

        s.closed(c, ClosedBy::Vanished, None, (now, SystemTime::now()));
        s.dispatch(&ev, now, Duration::from_secs(60));
        assert_eq!(s.sessions["a"].log.len(), 2, "kept for RESUME");
        assert!(s.sessions["a"].resumable(now + Duration::from_secs(59), Duration::from_secs(60)));
        assert!(!s.sessions["a"].resumable(now + Duration::from_secs(60), Duration::from_secs(60)));
    }

    #[test]
    fn close_codes_that_end_sessions() {
        for code in [1000, 1001, 4004, 4007, 4009, 4014] {
            assert!(invalidates(code), "{code}");
        }
        for code in [4000, 4001, 4002, 4005, 4008, 1006] {
            assert!(!invalidates(code), "{code}");
        }
    }
}
