//! Socket Mode envelopes: what is owed to the app, on which connection it
//! went, and what the app acknowledged.
//!
//! * Each event callback or slash command becomes an envelope with a fresh
//!   `envelope_id` (a UUID, as Slack's). It goes to one open connection that
//!   has not been asked to disconnect, round-robin ("each payload may be sent
//!   to any of the connections"); with none open it waits in a FIFO queue
//!   and leaves, oldest first, as soon as a connection says `hello`.
//! * An envelope is acknowledged only when a frame `{"envelope_id": …}`
//!   arrives. Each sending starts an ack deadline (`ack_timeout`, 3 s); when
//!   it passes without an ack, an `events_api` envelope is sent again with
//!   `retry_attempt` + 1 and `retry_reason: "timeout"`, to whichever
//!   connection is next (so possibly another one), up to
//!   `socket_max_retries` times, then given up. Slash commands are not
//!   retried: the person sees an error instead.
//! * Acks are all recorded: late ones (outside every attempt's deadline, or
//!   after the envelope was given up) and ones for envelope ids never sent
//!   are marked. A slash command's ack may
//!   carry a `payload` whose `text` is shown to the person who ran it.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::slash;
use super::state::{EnvelopeRec, Item, Outbound, Shared, State};
use super::types::{AckRecord, Envelope, EnvelopeAttempt, SlashResponseVia};

pub(super) fn add(sh: &Arc<Shared>, st: &mut State, item: Item) {
    let envelope_id = uuid::Uuid::new_v4().to_string();
    let (kind, payload, event_id, trigger_id) = match item {
        Item::Event { event_id, payload } => ("events_api", payload, Some(event_id), None),
        Item::Command {
            trigger_id,
            payload,
        } => {
            let map: Map<String, Value> = payload
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            ("slash_commands", Value::Object(map), None, Some(trigger_id))
        }
        Item::Interaction { payload } => ("interactive", payload, None, None),
    };
    st.envelopes.push(EnvelopeRec {
        envelope: Envelope {
            envelope_id: envelope_id.clone(),
            kind: kind.to_string(),
            event_id,
            payload,
            attempts: Vec::new(),
            acked_at: None,
            given_up: false,
        },
        trigger_id,
    });
    st.queue.push_back(envelope_id);
    flush(sh, st);
}

/// Sends queued envelopes while a connection can take them.
pub(super) fn flush(sh: &Arc<Shared>, st: &mut State) {
    while let Some(id) = st.queue.front().cloned() {
        if !send(sh, st, &id) {
            return;
        }
        st.queue.pop_front();
    }
}

/// The frame of one sending.
fn frame(env: &Envelope, retry_attempt: u32) -> String {
    let mut o = json!({
        "envelope_id": env.envelope_id,
        "payload": env.payload,
        "type": env.kind,
    });
    if env.kind == "events_api" {
        o["accepts_response_payload"] = json!(false);
        o["retry_attempt"] = json!(retry_attempt);
        o["retry_reason"] = json!(if retry_attempt == 0 { "" } else { "timeout" });
    } else {
        o["accepts_response_payload"] = json!(true);
    }
    o.to_string()
}

/// Sends the envelope's next attempt; `false` when no connection can take it.
fn send(sh: &Arc<Shared>, st: &mut State, id: &str) -> bool {
    loop {
        let routable: Vec<u64> = st
            .connections
            .iter()
            .filter(|(_, c)| c.routable())
            .map(|(id, _)| *id)
            .collect();
        if routable.is_empty() {
            return false;
        }
        let conn = routable[st.next_route % routable.len()];
        st.next_route = st.next_route.wrapping_add(1);
        let Some(i) = st
            .envelopes
            .iter()
            .position(|e| e.envelope.envelope_id == id)
        else {
            return true;
        };
        let retry_attempt = st.envelopes[i].envelope.attempts.len() as u32;
        let text = frame(&st.envelopes[i].envelope, retry_attempt);
        let c = st.connections.get_mut(&conn).expect("listed above");
        if c.tx
            .as_ref()
            .is_none_or(|tx| tx.send(Outbound::Text(text)).is_err())
        {
            // The task ended between its last word and now: not routable.
            c.tx = None;
            continue;
        }
        let (_, now) = sh.clock.now();
        st.envelopes[i].envelope.attempts.push(EnvelopeAttempt {
            connection: conn,
            retry_attempt,
            sent_at: now,
        });
        start_deadline(sh, id.to_string(), retry_attempt as usize + 1);
        return true;
    }
}

fn start_deadline(sh: &Arc<Shared>, id: String, attempts: usize) {
    let sh = sh.clone();
    tokio::spawn(async move {
        tokio::time::sleep(sh.config.ack_timeout).await;
        {
            let mut st = sh.lock();
            deadline_passed(&sh, &mut st, &id, attempts);
        }
        sh.notify_changed();
    });
}

/// The deadline of the `attempts`-th sending passed.
fn deadline_passed(sh: &Arc<Shared>, st: &mut State, id: &str, attempts: usize) {
    let Some(rec) = st
        .envelopes
        .iter_mut()
        .find(|e| e.envelope.envelope_id == id)
    else {
        return;
    };
    let env = &mut rec.envelope;
    if env.acked() || env.attempts.len() != attempts {
        return;
    }
    let retries_left =
        env.kind == "events_api" && attempts <= sh.config.socket_max_retries as usize;
    if !retries_left {
        env.given_up = true;
        return;
    }
    if !send(sh, st, id) {
        // No connection: first in line when one opens.
        st.queue.push_front(id.to_string());
    }
}

/// An ack frame arrived on connection `conn`.
pub(super) fn ack(
    sh: &Arc<Shared>,
    st: &mut State,
    conn: u64,
    envelope_id: &str,
    payload: Option<Value>,
    at: SystemTime,
) {
    let timeout = sh.config.ack_timeout;
    let found = st
        .envelopes
        .iter_mut()
        .find(|e| e.envelope.envelope_id == envelope_id);
    let (unknown, late, trigger) = match found {
        None => (true, false, None),
        Some(rec) => {
            let in_time = !rec.envelope.given_up
                && rec.envelope.attempts.iter().any(|a| {
                    at.duration_since(a.sent_at)
                        .is_ok_and(|waited| waited <= timeout)
                });
            rec.envelope.acked_at.get_or_insert(at);
            (false, !in_time, rec.trigger_id.clone())
        }
    };
    if let (Some(trigger), Some(body)) = (trigger, payload.clone()) {
        slash::record_response(st, &trigger, SlashResponseVia::Ack, body);
    }
    st.acks.push(AckRecord {
        envelope_id: envelope_id.to_string(),
        connection: conn,
        at,
        late,
        unknown,
        payload,
    });
}
