//! The Socket Mode WebSocket: `GET /socket-mode?ticket=…` with a ticket from
//! `apps.connections.open`, each usable once (a reused or unknown one is
//! refused with HTTP 401 before the upgrade).
//!
//! On connect the fake sends Slack's `hello` (`num_connections` counts the
//! open connections including this one; `approximate_connection_time` is
//! 18060 s, or 360 s with `&debug_reconnects=true` as on Slack), then flushes
//! queued envelopes. Text frames from the app are acks (`{"envelope_id"}`,
//! optionally with `payload`); anything else is ignored. Pings are answered
//! by the WebSocket layer with pongs.
//!
//! Test controls: [`disconnect`] sends `{"type":"disconnect","reason":…}` to
//! every open connection, stops routing new envelopes to them, and closes
//! each with a close frame `disconnect_grace` later unless the app closed
//! first; [`drop_all`] ends every connection without a close frame, as a
//! network failure would.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::outbox;
use super::state::{ConnRec, Outbound, Shared};
use super::types::{CloseKind, Connection};

/// The `host` Slack puts in `debug_info`.
const HOST: &str = "applink-fake-0";

pub(super) async fn upgrade(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let ticket = q.get("ticket").cloned().unwrap_or_default();
    if !sh.lock().tickets.remove(&ticket) {
        return (StatusCode::UNAUTHORIZED, "invalid_ticket").into_response();
    }
    let debug = q.get("debug_reconnects").is_some_and(|v| v == "true");
    ws.on_upgrade(move |socket| run(sh, socket, debug))
}

async fn run(sh: Arc<Shared>, mut socket: WebSocket, debug_reconnects: bool) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (id, open) = {
        let mut st = sh.lock();
        let id = st.connections.keys().next_back().copied().unwrap_or(0) + 1;
        let (_, now) = sh.clock.now();
        st.connections.insert(
            id,
            ConnRec {
                record: Connection {
                    id,
                    opened_at: now,
                    disconnect_sent: None,
                    closed_at: None,
                    close: None,
                },
                tx: Some(tx),
            },
        );
        let open = st.connections.values().filter(|c| c.tx.is_some()).count();
        (id, open)
    };
    let hello = json!({
        "type": "hello",
        "num_connections": open,
        "debug_info": {
            "host": HOST,
            "build_number": 105,
            "approximate_connection_time": if debug_reconnects { 360 } else { 18060 },
        },
        "connection_info": { "app_id": sh.config.app_id },
    });
    let kind = if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        CloseKind::ByClient
    } else {
        {
            let mut st = sh.lock();
            outbox::flush(&sh, &mut st);
        }
        sh.notify_changed();
        serve(&sh, id, &mut socket, &mut rx).await
    };
    if kind == CloseKind::ByClient {
        // Completes the closing handshake the client started.
        let _ = socket.send(Message::Close(None)).await;
    }
    drop(socket);
    {
        let mut st = sh.lock();
        let (_, now) = sh.clock.now();
        if let Some(c) = st.connections.get_mut(&id) {
            c.tx = None;
            c.record.closed_at = Some(now);
            c.record.close = Some(kind);
        }
    }
    sh.notify_changed();
}

/// Relays frames both ways until the connection ends; says how it ended.
async fn serve(
    sh: &Arc<Shared>,
    id: u64,
    socket: &mut WebSocket,
    rx: &mut mpsc::UnboundedReceiver<Outbound>,
) -> CloseKind {
    let mut shutdown = sh.shutdown.subscribe();
    loop {
        tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => on_text(sh, id, text.as_str()),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return CloseKind::ByClient,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return CloseKind::ByClient;
                    }
                }
                Some(Outbound::Close) => {
                    let frame = CloseFrame { code: 1000, reason: "".into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return CloseKind::AfterDisconnect;
                }
                Some(Outbound::Drop) | None => return CloseKind::Dropped,
            },
            _ = shutdown.changed() => return CloseKind::Dropped,
        }
    }
}

fn on_text(sh: &Arc<Shared>, conn: u64, text: &str) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let Some(envelope_id) = frame["envelope_id"].as_str() else {
        return;
    };
    {
        let mut st = sh.lock();
        let (_, now) = sh.clock.now();
        let payload = frame.get("payload").cloned();
        outbox::ack(sh, &mut st, conn, envelope_id, payload, now);
    }
    sh.notify_changed();
}

/// Sends `disconnect` with `reason` to every open connection; each is closed
/// `disconnect_grace` later if still open.
pub(super) fn disconnect(sh: &Arc<Shared>, reason: &str) {
    let frame = json!({
        "type": "disconnect",
        "reason": reason,
        "debug_info": { "host": HOST },
    })
    .to_string();
    let mut st = sh.lock();
    for c in st.connections.values_mut().filter(|c| c.tx.is_some()) {
        if let Some(tx) = &c.tx {
            let _ = tx.send(Outbound::Text(frame.clone()));
            c.record.disconnect_sent = Some(reason.to_string());
            let tx = tx.clone();
            let grace = sh.config.disconnect_grace;
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                let _ = tx.send(Outbound::Close);
            });
        }
    }
}

/// Ends every open connection without a close frame.
pub(super) fn drop_all(sh: &Shared) {
    let st = sh.lock();
    for tx in st.connections.values().filter_map(|c| c.tx.as_ref()) {
        let _ = tx.send(Outbound::Drop);
    }
}
