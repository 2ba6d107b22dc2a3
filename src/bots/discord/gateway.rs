//! The gateway: one WebSocket over which Discord delivers events, kept alive with heartbeats,
//! and resumed — not restarted — when it drops, so nothing sent meanwhile is lost.
//!
//! The protocol, as the bot runs it:
//! 1. `GET /gateway/bot` names the URL (or, with a session to resume, READY's
//!    `resume_gateway_url`); connect to `{url}/?v=10&encoding=json`.
//! 2. HELLO gives the heartbeat interval. The first heartbeat goes after a random fraction of
//!    it (so a fleet of reconnecting clients does not beat in step), then one per interval,
//!    carrying the last sequence number handled. A heartbeat whose ACK has not come back by the
//!    next one means a zombie connection: drop it and resume. Discord may ask for a heartbeat
//!    at once (op 1).
//! 3. IDENTIFY with the intents GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES and MESSAGE_CONTENT
//!    (privileged: enabled in the Developer Portal, or Discord closes with 4014); READY carries
//!    the session id and the resume URL. Or RESUME with the session id and the last sequence
//!    number handled: Discord replays every dispatch after it, then RESUMED.
//! 4. A dropped socket, op 7 RECONNECT, a resumable close code or op 9 with `d: true` →
//!    reconnect and RESUME. Op 9 with `d: false`, 4007 and 4009 → wait 1–5 s and IDENTIFY
//!    afresh. 4004 (bad token), 4010–4014 (shards, version, intents) → stop with a message
//!    that says what to fix.
//!
//! **Nothing inbound is lost** (DESIGN invariant 1): a dispatch counts as handled — its
//! sequence number becomes the one heartbeats and RESUME carry — only after the intake stored
//! it. If storing fails, the connection is dropped and resumed from the last handled number,
//! so Discord delivers the event again. The session (id, resume URL, last handled number) is
//! kept in the store after each stored event and with each heartbeat, so a restarted bot —
//! even after SIGKILL — resumes the session and gets what was sent while it was down.
//! Known gap: a session Discord no longer resumes (down longer than a few minutes, or an
//! invalidated session) starts afresh with IDENTIFY, and messages sent in the gap are not
//! read back.
//!
//! When the bot leaves a connection on purpose it closes with 4000, not 1000/1001: Discord
//! ends the session on a normal close, and the bot wants to resume it.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::intake::Intake;
use super::payload::{Channel, Frame, GuildCreate, Hello, Interaction, Message, Ready, op};
use crate::config::Secret;

/// GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT.
pub const INTENTS: u64 = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);
/// Where the session is kept between runs.
const STATE_KEY: &str = "discord.gateway";
/// HELLO must come this soon after connecting.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// The close code the bot leaves with when it means to resume.
const CLOSE_TO_RESUME: u16 = 4000;
/// After this many failed connections in a row to the session's resume URL, the bot asks
/// `GET /gateway/bot` for a URL again (still resuming: Discord says whether it can).
const RESUME_URL_ATTEMPTS: u32 = 3;

/// A gateway session that can be resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewaySession {
    pub session_id: String,
    pub resume_url: String,
    /// The last sequence number handled.
    pub seq: u64,
}

/// What to do after a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Reconnect and RESUME the session.
    Resume,
    /// Forget the session and IDENTIFY afresh.
    Identify,
    /// Stop: nothing will work until a person changes something.
    Fatal(String),
}

/// What a close code from Discord means for the bot.
pub fn after_close(code: Option<u16>) -> Next {
    match code {
        Some(4004) => Next::Fatal(
            "Discord refused the bot token (close code 4004): check DISCORD_BOT_TOKEN".into(),
        ),
        Some(4010 | 4011) => Next::Fatal(format!(
            "Discord wants the bot sharded (close code {}); Switchboard runs one shard",
            code.unwrap_or_default()
        )),
        Some(4012) => Next::Fatal("Discord refused gateway version 10 (close code 4012)".into()),
        Some(4013) => Next::Fatal("Discord refused the intents (close code 4013)".into()),
        Some(4014) => Next::Fatal(
            "Discord refused the Message Content intent (close code 4014): enable it in the \
             Developer Portal → your application → Bot → Privileged Gateway Intents"
                .into(),
        ),
        Some(4007 | 4009) => Next::Identify,
        _ => Next::Resume,
    }
}

/// The WebSocket URL for a gateway base URL.
pub fn connect_url(base: &str) -> String {
    format!("{}/?v=10&encoding=json", base.trim_end_matches('/'))
}

/// When the first heartbeat goes: `jitter` (0..1) of the interval after HELLO.
pub fn first_heartbeat(interval: Duration, jitter: f64) -> Duration {
    interval.mul_f64(jitter.clamp(0.0, 1.0))
}

pub fn identify(token: &Secret) -> Value {
    json!({
        "op": op::IDENTIFY,
        "d": {
            "token": token.expose(),
            "intents": INTENTS,
            "properties": {"os": std::env::consts::OS, "browser": "switchboard", "device": "switchboard"},
        },
    })
}

pub fn resume(token: &Secret, session: &GatewaySession) -> Value {
    json!({
        "op": op::RESUME,
        "d": {"token": token.expose(), "session_id": session.session_id, "seq": session.seq},
    })
}

pub fn heartbeat(seq: Option<u64>) -> Value {
    json!({ "op": op::HEARTBEAT, "d": seq })
}

/// A random fraction in 0..1.
fn random_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}

/// Receives events forever (or until a fatal close).
pub async fn run(intake: Intake) -> Result<()> {
    let mut session = load(&intake).await;
    let mut backoff = BACKOFF_MIN;
    let mut failures = 0;
    loop {
        let mut connected = false;
        let fresh_url = failures >= RESUME_URL_ATTEMPTS;
        let next = match connection(&intake, &mut session, &mut connected, fresh_url).await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!("Discord gateway: {e:#}");
                Next::Resume
            }
        };
        if connected {
            backoff = BACKOFF_MIN;
            failures = 0;
        } else {
            failures += 1;
        }
        match next {
            Next::Fatal(why) => bail!(why),
            Next::Identify => {
                session = None;
                if let Err(e) = intake.core.store.clear_platform_state(STATE_KEY).await {
                    tracing::warn!("forgetting the Discord session: {e:#}");
                }
                let wait = Duration::from_secs_f64(1.0 + 4.0 * random_fraction());
                tracing::info!("Discord gateway: starting a new session");
                tokio::time::sleep(wait).await;
            }
            Next::Resume if connected => {
                tracing::info!("Discord gateway: reconnecting to resume");
            }
            Next::Resume => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

async fn load(intake: &Intake) -> Option<GatewaySession> {
    match intake.core.store.platform_state(STATE_KEY).await {
        Ok(Some(text)) => serde_json::from_str(&text).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("reading the Discord session: {e:#}");
            None
        }
    }
}

async fn save(intake: &Intake, session: &GatewaySession) -> Result<()> {
    let text = serde_json::to_string(session)?;
    intake.core.store.set_platform_state(STATE_KEY, &text).await
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    WsMessage,
>;

async fn send(sink: &mut Sink, value: &Value) -> Result<()> {
    sink.send(WsMessage::text(value.to_string()))
        .await
        .context("writing to the gateway")
}

async fn leave(sink: &mut Sink) {
    let frame = CloseFrame {
        code: CloseCode::from(CLOSE_TO_RESUME),
        reason: "reconnecting".into(),
    };
    let _ = sink.send(WsMessage::Close(Some(frame))).await;
}

/// One connection, until it ends; says what to do next. `connected` is set once READY or
/// RESUMED arrived. A session is resumed at its resume URL unless `fresh_url`.
async fn connection(
    intake: &Intake,
    session: &mut Option<GatewaySession>,
    connected: &mut bool,
    fresh_url: bool,
) -> Result<Next> {
    let base = match session {
        Some(s) if !fresh_url => s.resume_url.clone(),
        _ => intake.client.gateway_url().await?,
    };
    let (socket, _) = tokio_tungstenite::connect_async(connect_url(&base))
        .await
        .context("connecting to the Discord gateway")?;
    let (mut sink, mut stream) = socket.split();

    let hello = loop {
        let message = timeout(HELLO_TIMEOUT, stream.next())
            .await
            .map_err(|_| anyhow!("no HELLO from the gateway"))?
            .ok_or_else(|| anyhow!("the gateway closed before HELLO"))?
            .context("reading HELLO")?;
        match message {
            WsMessage::Text(text) => {
                let frame: Frame = serde_json::from_str(text.as_str()).context("HELLO")?;
                if frame.op == op::HELLO {
                    break serde_json::from_value::<Hello>(frame.d).context("HELLO")?;
                }
            }
            WsMessage::Close(frame) => return Ok(after_close(frame.map(|f| u16::from(f.code)))),
            _ => {}
        }
    };
    let interval = Duration::from_millis(hello.heartbeat_interval.max(1));
    match session {
        Some(s) => send(&mut sink, &resume(intake.client.token(), s)).await?,
        None => send(&mut sink, &identify(intake.client.token())).await?,
    }
    let mut next_beat = Instant::now() + first_heartbeat(interval, random_fraction());
    let mut awaiting_ack = false;
    let mut saved_seq = session.as_ref().map(|s| s.seq);

    loop {
        tokio::select! {
            () = sleep_until(next_beat) => {
                if awaiting_ack {
                    tracing::warn!("Discord gateway: no heartbeat ACK; reconnecting");
                    leave(&mut sink).await;
                    return Ok(Next::Resume);
                }
                let seq = session.as_ref().map(|s| s.seq);
                send(&mut sink, &heartbeat(seq)).await?;
                awaiting_ack = true;
                next_beat = Instant::now() + interval;
                if let Some(s) = session.as_ref() && saved_seq != Some(s.seq) {
                    save(intake, s).await?;
                    saved_seq = Some(s.seq);
                }
            }
            message = stream.next() => {
                let message = match message {
                    None => bail!("the gateway connection dropped"),
                    Some(m) => m.context("reading from the gateway")?,
                };
                let text = match message {
                    WsMessage::Text(text) => text,
                    WsMessage::Close(frame) => {
                        let code = frame.map(|f| u16::from(f.code));
                        tracing::info!(?code, "Discord closed the gateway connection");
                        return Ok(after_close(code));
                    }
                    _ => continue,
                };
                let frame: Frame = match serde_json::from_str(text.as_str()) {
                    Ok(frame) => frame,
                    Err(e) => {
                        tracing::warn!("an unreadable gateway frame: {e}");
                        continue;
                    }
                };
                match frame.op {
                    op::DISPATCH => {
                        let stored = dispatch(intake, session, connected, &frame).await?;
                        if let (Some(seq), Some(s)) = (frame.s, session.as_mut()) {
                            s.seq = s.seq.max(seq);
                            if stored {
                                save(intake, s).await?;
                                saved_seq = Some(s.seq);
                            }
                        }
                    }
                    op::HEARTBEAT => {
                        send(&mut sink, &heartbeat(session.as_ref().map(|s| s.seq))).await?;
                    }
                    op::HEARTBEAT_ACK => awaiting_ack = false,
                    op::RECONNECT => {
                        tracing::info!("Discord asked the bot to reconnect");
                        leave(&mut sink).await;
                        return Ok(Next::Resume);
                    }
                    op::INVALID_SESSION => {
                        let resumable = frame.d.as_bool() == Some(true) && session.is_some();
                        tracing::info!(resumable, "Discord invalidated the gateway session");
                        leave(&mut sink).await;
                        return Ok(if resumable { Next::Resume } else { Next::Identify });
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Handles one dispatch; returns whether it stored an event.
async fn dispatch(
    intake: &Intake,
    session: &mut Option<GatewaySession>,
    connected: &mut bool,
    frame: &Frame,
) -> Result<bool> {
    let name = frame.t.as_deref().unwrap_or_default();
    let parse = |what: &str| -> Option<Value> {
        if frame.d.is_object() {
            Some(frame.d.clone())
        } else {
            tracing::warn!("a {what} without data");
            None
        }
    };
    match name {
        "READY" => {
            let ready: Ready = serde_json::from_value(frame.d.clone()).context("READY")?;
            let new = GatewaySession {
                session_id: ready.session_id,
                resume_url: ready.resume_gateway_url,
                seq: frame.s.unwrap_or(0),
            };
            save(intake, &new).await?;
            *session = Some(new);
            *connected = true;
            tracing::info!(user = ready.user.id, "Discord gateway session started");
            Ok(false)
        }
        "RESUMED" => {
            *connected = true;
            tracing::info!("Discord gateway session resumed");
            Ok(false)
        }
        "MESSAGE_CREATE" => {
            let Some(d) = parse(name) else {
                return Ok(false);
            };
            match serde_json::from_value::<Message>(d) {
                Ok(message) => intake.message(&message).await,
                Err(e) => {
                    tracing::warn!("an unreadable MESSAGE_CREATE: {e}");
                    Ok(false)
                }
            }
        }
        "INTERACTION_CREATE" => {
            let Some(d) = parse(name) else {
                return Ok(false);
            };
            match serde_json::from_value::<Interaction>(d) {
                Ok(interaction) => intake.interaction(&interaction).await,
                Err(e) => {
                    tracing::warn!("an unreadable INTERACTION_CREATE: {e}");
                    Ok(false)
                }
            }
        }
        "GUILD_CREATE" => {
            if let Ok(guild) = serde_json::from_value::<GuildCreate>(frame.d.clone()) {
                for channel in guild.channels.iter().chain(&guild.threads) {
                    intake.shared.learn(channel);
                }
            }
            Ok(false)
        }
        "THREAD_CREATE" | "THREAD_UPDATE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE" => {
            if let Ok(channel) = serde_json::from_value::<Channel>(frame.d.clone()) {
                intake.shared.learn(&channel);
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_decide_between_resume_identify_and_stop() {
        for code in [
            None,
            Some(1000),
            Some(1006),
            Some(4000),
            Some(4001),
            Some(4008),
        ] {
            assert_eq!(after_close(code), Next::Resume, "{code:?}");
        }
        for code in [4007, 4009] {
            assert_eq!(after_close(Some(code)), Next::Identify, "{code}");
        }
        for code in [4004, 4010, 4011, 4012, 4013, 4014] {
            assert!(matches!(after_close(Some(code)), Next::Fatal(_)), "{code}");
        }
        let Next::Fatal(why) = after_close(Some(4014)) else {
            unreachable!()
        };
        assert!(why.contains("Privileged Gateway Intents"), "{why}");
    }

    #[test]
    fn the_handshake_payloads() {
        assert_eq!(
            connect_url("wss://gateway.discord.gg/"),
            "wss://gateway.discord.gg/?v=10&encoding=json"
        );
        assert_eq!(
            connect_url("ws://127.0.0.1:5"),
            "ws://127.0.0.1:5/?v=10&encoding=json"
        );
        let token = Secret::new("abc");
        let id = identify(&token);
        assert_eq!(id["op"], 2);
        assert_eq!(id["d"]["intents"], 37377);
        assert_eq!(id["d"]["token"], "abc");
        let session = GatewaySession {
            session_id: "s1".into(),
            resume_url: "wss://x".into(),
            seq: 42,
        };
        assert_eq!(
            resume(&token, &session),
            json!({"op": 6, "d": {"token": "abc", "session_id": "s1", "seq": 42}})
        );
        assert_eq!(heartbeat(None), json!({"op": 1, "d": null}));
        assert_eq!(heartbeat(Some(7)), json!({"op": 1, "d": 7}));
    }

    #[test]
    fn the_first_heartbeat_is_jittered_within_the_interval() {
        let interval = Duration::from_millis(41_250);
        assert_eq!(first_heartbeat(interval, 0.0), Duration::ZERO);
        assert_eq!(
            first_heartbeat(interval, 0.5),
            Duration::from_millis(20_625)
        );
        assert_eq!(first_heartbeat(interval, 7.0), interval);
        for _ in 0..100 {
            let f = random_fraction();
            assert!((0.0..1.0).contains(&f), "{f}");
        }
    }

    #[test]
    fn the_gateway_fixtures_are_frames_the_loop_reads() {
        let read = |name: &str| -> Frame {
            let path = format!(
                "{}/tests/fixtures/discord/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let hello = read("gateway_hello.json");
        assert_eq!(hello.op, op::HELLO);
        let d: Hello = serde_json::from_value(hello.d).unwrap();
        assert_eq!(d.heartbeat_interval, 41_250);
        let docs: Hello = serde_json::from_value(read("gateway_hello_docs.json").d).unwrap();
        assert_eq!(docs.heartbeat_interval, 45_000);
        assert_eq!(read("gateway_heartbeat_ack.json").op, op::HEARTBEAT_ACK);
        assert_eq!(read("gateway_reconnect.json").op, op::RECONNECT);
        let invalid = read("gateway_invalid_session.json");
        assert_eq!(invalid.op, op::INVALID_SESSION);
        assert_eq!(invalid.d.as_bool(), Some(false));
        let ready = read("gateway_ready.json");
        assert_eq!(
            (ready.op, ready.s, ready.t.as_deref()),
            (0, Some(1), Some("READY"))
        );
        let audit = read("gateway_guild_audit_log_entry_create.json");
        assert_eq!(audit.t.as_deref(), Some("GUILD_AUDIT_LOG_ENTRY_CREATE"));
        assert_eq!(audit.s, Some(1_806_139));
    }
}
