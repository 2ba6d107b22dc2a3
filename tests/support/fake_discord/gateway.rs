//! The gateway WebSocket: one task per connection that sends HELLO, hands
//! client frames to `handshake` (under the state lock), writes what the
//! state queued for it in order (dispatches, acks, closes), closes zombies
//! that stop heartbeating (4009) and connections that ignore RECONNECT,
//! and tells the session store how the connection ended.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::handshake::{self, FrameAction};
use super::json;
use super::sessions::Outbound;
use super::state::Shared;
use super::types::ClosedBy;

/// Zombie connections are closed with 4009 Session timed out.
const SESSION_TIMED_OUT: u16 = 4009;

pub(super) async fn upgrade(
    State(sh): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| connection(sh, socket, query))
}

/// The close code for a connection URL Discord would refuse: 4012 for an
/// API version other than 10, 4002 for an encoding or compression the fake
/// does not speak (ETF, zlib-stream, zstd-stream).
fn refused(query: &HashMap<String, String>) -> Option<(u16, &'static str)> {
    match query.get("v").map(String::as_str) {
        Some("10") | None => {}
        Some(_) => return Some((4012, "Invalid API version.")),
    }
    match query.get("encoding").map(String::as_str) {
        Some("json") | None => {}
        Some(_) => return Some((4002, "Error while decoding payload.")),
    }
    query
        .contains_key("compress")
        .then_some((4002, "Error while decoding payload."))
}

async fn connection(sh: Arc<Shared>, socket: WebSocket, query: HashMap<String, String>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn = sh.lock().gateway.open(tx.clone());
    sh.notify_changed();
    let interval = sh.config.heartbeat_interval;
    let _ = tx.send(Outbound::Text(json::hello(interval.as_millis() as u64)));
    if let Some((code, reason)) = refused(&query) {
        let _ = tx.send(Outbound::Close(code, reason.to_string()));
    }
    let grace = interval.mul_f64(sh.config.heartbeat_grace);
    let (mut sink, mut stream) = socket.split();
    let mut heartbeat_deadline = Instant::now() + grace;
    let mut reconnect_deadline: Option<Instant> = None;
    let (by, code) = loop {
        let reconnect_at = reconnect_deadline.unwrap_or(heartbeat_deadline);
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break (ClosedBy::Vanished, None);
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break (ClosedBy::Server, Some(code));
                }
                Some(Outbound::Drop) | None => break (ClosedBy::Server, None),
                Some(Outbound::Reconnect) => {
                    let text = r#"{"t":null,"s":null,"op":7,"d":null}"#;
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break (ClosedBy::Vanished, None);
                    }
                    reconnect_deadline = Some(Instant::now() + sh.config.reconnect_grace);
                }
            },
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if handshake::frame(&sh, conn, text.as_str()) == FrameAction::Heartbeat {
                        heartbeat_deadline = Instant::now() + grace;
                    }
                    sh.notify_changed();
                }
                Some(Ok(Message::Binary(_))) => {
                    let _ = tx.send(Outbound::Close(4002, "Error while decoding payload.".into()));
                }
                Some(Ok(Message::Close(frame))) => {
                    // Flushes the close reply axum queued.
                    let _ = sink.close().await;
                    break (ClosedBy::Client, frame.map(|f| f.code));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(_)) | None => break (ClosedBy::Vanished, None),
            },
            () = sleep_until(heartbeat_deadline) => {
                let frame = CloseFrame { code: SESSION_TIMED_OUT, reason: "Session timed out.".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break (ClosedBy::Server, Some(SESSION_TIMED_OUT));
            }
            () = sleep_until(reconnect_at), if reconnect_deadline.is_some() => {
                break (ClosedBy::Server, None);
            }
        }
    };
    let now = sh.clock.now();
    sh.lock().gateway.closed(conn, by, code, now);
    sh.notify_changed();
    // Dropping the socket halves ends the TCP connection (without a close
    // frame when none was sent).
    drop((sink, stream));
}
