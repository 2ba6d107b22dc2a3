//! What the gateway does with one client frame, under the state lock:
//! heartbeats (op 1 → op 11 ACK), IDENTIFY (op 2 → READY and GUILD_CREATEs,
//! or close 4004 / 4013 / 4014 / 4010 / 4005), RESUME (op 6 → the missed
//! dispatches in order, then RESUMED; op 9 INVALID_SESSION `false` for a
//! session that is gone; close 4007 for a `seq` from the future), and
//! Discord's protocol errors (4001 unknown opcode, 4002 decode error or a
//! payload over 4096 bytes, 4003 not authenticated, 4008 more than 120
//! frames a minute).

use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::time::Instant;

use super::intents::{self, GUILDS, check_identify};
use super::json;
use super::sessions::{Outbound, Session};
use super::state::{Shared, State};
use super::types::{HandshakeOutcome, HeartbeatRecord, IdentifyRecord, ResumeRecord};

const MAX_PAYLOAD: usize = 4096;
const MINUTE: Duration = Duration::from_secs(60);
const ACK: &str = r#"{"t":null,"s":null,"op":11,"d":null}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameAction {
    Nothing,
    /// A heartbeat arrived: the zombie timer starts over.
    Heartbeat,
}

type Now = (Instant, SystemTime);

fn close(st: &State, conn: u64, code: u16, reason: &str) {
    st.gateway
        .send(conn, Outbound::Close(code, reason.to_string()));
}

pub(super) fn frame(sh: &Shared, conn: u64, text: &str) -> FrameAction {
    let now = sh.clock.now();
    let mut guard = sh.lock();
    let st = &mut *guard;
    let Some(c) = st.gateway.conns.get_mut(&conn) else {
        return FrameAction::Nothing;
    };
    c.frames.push_back(now.0);
    while c
        .frames
        .front()
        .is_some_and(|t| now.0.saturating_duration_since(*t) >= MINUTE)
    {
        c.frames.pop_front();
    }
    if c.frames.len() > sh.config.gateway_commands_per_minute as usize {
        close(st, conn, 4008, "You are being rate limited.");
        return FrameAction::Nothing;
    }
    if text.len() > MAX_PAYLOAD {
        close(st, conn, 4002, "Error while decoding payload.");
        return FrameAction::Nothing;
    }
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        close(st, conn, 4002, "Error while decoding payload.");
        return FrameAction::Nothing;
    };
    let Some(op) = v["op"].as_u64() else {
        close(st, conn, 4002, "Error while decoding payload.");
        return FrameAction::Nothing;
    };
    let authenticated = st.gateway.conns[&conn].session.is_some();
    match op {
        1 => {
            st.gateway.facts.heartbeats.push(HeartbeatRecord {
                connection: conn,
                seq: v["d"].as_u64(),
                at: now.1,
            });
            st.gateway.send(conn, Outbound::Text(ACK.to_string()));
            return FrameAction::Heartbeat;
        }
        2 => identify(sh, st, conn, &v["d"], now),
        6 => resume(sh, st, conn, &v["d"], now),
        // Presence, voice state, guild members, soundboard: accepted once
        // authenticated, and ignored.
        3 | 4 | 8 | 31 if authenticated => {}
        3 | 4 | 8 | 31 => close(st, conn, 4003, "Not authenticated."),
        _ => close(st, conn, 4001, "Unknown opcode."),
    }
    FrameAction::Nothing
}

fn shard_of(d: &Value) -> Result<Option<[u64; 2]>, ()> {
    match d.get("shard") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => match (
            a.first().and_then(Value::as_u64),
            a.get(1).and_then(Value::as_u64),
        ) {
            (Some(id), Some(n)) if a.len() == 2 && n >= 1 && id < n => Ok(Some([id, n])),
            _ => Err(()),
        },
        Some(_) => Err(()),
    }
}

fn identify(sh: &Shared, st: &mut State, conn: u64, d: &Value, now: Now) {
    let cfg = &sh.config;
    let mut record = IdentifyRecord {
        connection: conn,
        session_id: None,
        intents: d["intents"].as_u64().unwrap_or(0),
        shard: shard_of(d).ok().flatten(),
        properties: d["properties"].clone(),
        outcome: HandshakeOutcome::Accepted { replayed: 0 },
        at: now.1,
    };
    let refuse = |st: &mut State, mut record: IdentifyRecord, code: u16, reason: &str| {
        close(st, conn, code, reason);
        record.outcome = HandshakeOutcome::Closed(code);
        st.gateway.facts.identifies.push(record);
    };
    if st.gateway.conns[&conn].session.is_some() {
        return refuse(st, record, 4005, "Already authenticated.");
    }
    if d["token"].as_str() != Some(cfg.token.as_str()) {
        return refuse(st, record, 4004, "Authentication failed.");
    }
    let enabled = (if cfg.message_content_enabled {
        intents::MESSAGE_CONTENT
    } else {
        0
    }) | (if cfg.guild_members_enabled {
        intents::GUILD_MEMBERS
    } else {
        0
    }) | (if cfg.guild_presences_enabled {
        intents::GUILD_PRESENCES
    } else {
        0
    });
    let bits = match check_identify(&d["intents"], enabled) {
        Ok(bits) => bits,
        Err(code) => {
            let reason = if code == intents::INVALID_INTENTS {
                "Invalid intent(s)."
            } else {
                "Disallowed intent(s)."
            };
            return refuse(st, record, code, reason);
        }
    };
    let Ok(shard) = shard_of(d) else {
        return refuse(st, record, 4010, "Invalid shard.");
    };
    if st.gateway.starts_left == 0 {
        st.gateway.send(
            conn,
            Outbound::Text(r#"{"t":null,"s":null,"op":9,"d":false}"#.into()),
        );
        record.outcome = HandshakeOutcome::InvalidSession;
        st.gateway.facts.identifies.push(record);
        return;
    }
    st.gateway.starts_left -= 1;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let ready = json::ready(st, &id, &sh.ws_base, shard, cfg.message_content_enabled);
    let guilds: Vec<Value> = if bits & GUILDS != 0 {
        st.guilds
            .values()
            .map(|g| json::guild_create(st, g))
            .collect()
    } else {
        Vec::new()
    };
    st.gateway.sessions.insert(
        id.clone(),
        Session {
            id: id.clone(),
            intents: bits,
            shard,
            seq: 0,
            log: Vec::new(),
            conn: None,
            disconnected_at: None,
            invalid: false,
        },
    );
    st.gateway.attach(conn, &id);
    let g = &mut st.gateway;
    let s = g.sessions.get_mut(&id).expect("just inserted");
    s.push(&g.conns, "READY", &ready);
    for guild in &guilds {
        s.push(&g.conns, "GUILD_CREATE", guild);
    }
    record.session_id = Some(id);
    record.intents = bits;
    g.facts.identifies.push(record);
}

fn resume(sh: &Shared, st: &mut State, conn: u64, d: &Value, now: Now) {
    let session_id = d["session_id"].as_str().unwrap_or_default().to_string();
    let seq = d["seq"].as_u64().unwrap_or(0);
    let mut record = ResumeRecord {
        connection: conn,
        session_id: session_id.clone(),
        seq,
        outcome: HandshakeOutcome::InvalidSession,
        at: now.1,
    };
    let window = sh.config.resume_window;
    let g = &mut st.gateway;
    if g.conns[&conn].session.is_some() {
        close(st, conn, 4005, "Already authenticated.");
        record.outcome = HandshakeOutcome::Closed(4005);
        st.gateway.facts.resumes.push(record);
        return;
    }
    if d["token"].as_str() != Some(sh.config.token.as_str()) {
        close(st, conn, 4004, "Authentication failed.");
        record.outcome = HandshakeOutcome::Closed(4004);
        st.gateway.facts.resumes.push(record);
        return;
    }
    let resumable = g
        .sessions
        .get(&session_id)
        .is_some_and(|s| s.resumable(now.0, window));
    if !resumable {
        g.send(
            conn,
            Outbound::Text(r#"{"t":null,"s":null,"op":9,"d":false}"#.into()),
        );
        g.facts.resumes.push(record);
        return;
    }
    if seq > g.sessions[&session_id].seq {
        if let Some(s) = g.sessions.get_mut(&session_id) {
            s.invalid = true;
        }
        close(st, conn, 4007, "Invalid seq.");
        record.outcome = HandshakeOutcome::Closed(4007);
        st.gateway.facts.resumes.push(record);
        return;
    }
    g.attach(conn, &session_id);
    let s = g.sessions.get_mut(&session_id).expect("a known session");
    let missed: Vec<String> = s
        .log
        .iter()
        .filter(|(n, _)| *n > seq)
        .map(|(_, t)| t.clone())
        .collect();
    let replayed = missed.len();
    for text in missed {
        g.send(conn, Outbound::Text(text));
    }
    // RESUMED takes a sequence number but is not replayed by a later
    // RESUME (it only marks the end of a replay).
    let s = g.sessions.get_mut(&session_id).expect("a known session");
    s.seq += 1;
    let resumed = serde_json::json!({"t": "RESUMED", "s": s.seq, "op": 0, "d": json::resumed()});
    g.send(conn, Outbound::Text(resumed.to_string()));
    record.outcome = HandshakeOutcome::Accepted { replayed };
    g.facts.resumes.push(record);
}
