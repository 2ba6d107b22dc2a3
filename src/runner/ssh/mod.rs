//! The `ssh` transport: commands run on a workspace host over SSH (russh, public-key auth).
//!
//! # Design
//!
//! **A pool per host, a channel cap per connection.** A connection is opened on first use and
//! reused: a new exec channel on a live connection costs ~3 ms where a new connection costs
//! ~100 ms (loopback, see STACK.md). OpenSSH serves at most `MaxSessions` (default 10) channels
//! per connection and refuses the rest, and a turn follower holds its channel for as long as
//! the turn runs, so each connection carries at most `max_channels_per_connection` channels (a
//! semaphore; keep it below the server's `MaxSessions`) and the pool opens another connection
//! when every slot is taken. A slot is held for a channel's whole life and freed only after the
//! server confirms the close, so our count never runs ahead of sshd's. Extra connections that
//! sit idle for five minutes are closed; the oldest one is kept warm.
//!
//! **Dead connections are replaced, not repaired.** russh does not reconnect. Keepalives
//! (`keepalive_interval`, `keepalive_max` missed → closed) detect a silent peer; a closed
//! connection (`Handle::is_closed`) or one that fails to open a channel is dropped from the
//! pool and the next use opens a fresh one. Commands running when a connection drops report
//! [`TransportError::Disconnected`] (exec) or end their stream without
//! [`StreamEvent::Exit`]: their fate on the host is unknown and the caller (the runner) finds
//! out from the turn's files, which is why turns run detached.
//!
//! **Backoff.** After a failed connect, attempts within the backoff window fail fast with
//! `Unreachable { reason: "… (retrying in Ns; last error: …)" }` instead of hammering the host;
//! the window doubles from 500 ms to 30 s and resets after a success. A host-key mismatch or a
//! refused key is repeated as is during the window (it says what to fix). Only one connect is
//! in flight per host: concurrent callers wait for it and share the new connection.
//!
//! **Never a pty.** Commands are plain exec requests: no pty, so sshd does not send `SIGHUP`
//! to the session when the connection drops, detached work (`setsid … &`) keeps running, and
//! stdin bytes reach the command unaltered (no line discipline, no `~.` escapes, no echo). The
//! login user's shell runs the command with `-c`; keep it a plain `sh` without slow rc files.
//!
//! **Giving up kills the command.** Dropping an `exec` future or a stream receiver sends a
//! `signal KILL` request (sshd signals the command's process group) and closes the channel,
//! mirroring the local transport's `kill_on_drop`. Detached work is in its own session and
//! process group and is not touched.
//!
//! **Host keys** (DESIGN invariant 6) are checked in the russh handler against the configured
//! [`HostKeyPolicy`]: pinned keys, SHA-256 fingerprints, or a known_hosts file with optional
//! trust-on-first-use. A key that does not match is refused before authentication (our key is
//! never offered to an impostor) and reported as [`TransportError::HostKeyMismatch`] with the
//! presented fingerprint; it is never learned or accepted silently.
//!
//! **Known limitation:** russh delivers every channel's messages from one per-connection loop
//! that waits when a channel's buffer is full, so a stream whose receiver stops reading
//! eventually stalls the other channels of its connection. Stream consumers must keep reading
//! (or drop the receiver).

mod channel;
mod connection;
mod host_keys;
mod pool;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use russh::ChannelMsg;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use self::channel::ChannelGuard;
use self::connection::{Target, parse_address};
pub use self::host_keys::{HostKeyPolicy, fingerprint};
use self::pool::Pool;
use bytes::Bytes;

use crate::runner::transport::{
    Conversation, ExecOutput, INPUT_BUFFER, StreamEvent, Transport, TransportError,
};
use futures_util::future::BoxFuture;

/// How many stream events may wait for a slow reader before the channel's reader pauses.
const STREAM_BUFFER: usize = 64;

/// How many times an operation tries to open a channel (on a fresh connection after a failure)
/// before it reports the connection as lost.
const CHANNEL_OPEN_ATTEMPTS: usize = 3;

/// Everything needed to reach one SSH host. `Debug` never shows the private key.
pub struct SshSettings {
    /// The host's configured name, used in errors and logs.
    pub name: String,
    /// `host`, `host:port` (default port 22), `[v6]:port` or `[v6]`.
    pub address: String,
    /// The login user.
    pub user: String,
    /// The client's private key, loaded by the caller.
    pub key: Arc<russh::keys::PrivateKey>,
    /// How the server's host key is checked.
    pub host_keys: HostKeyPolicy,
    /// Deadline for TCP connect + SSH handshake + authentication (e.g. 10 s).
    pub connect_timeout: Duration,
    /// Send a keepalive after this long without traffic from the server (e.g. 15 s).
    pub keepalive_interval: Duration,
    /// Unanswered keepalives after which the connection is dead (e.g. 3).
    pub keepalive_max: usize,
    /// Concurrent channels per connection (e.g. 8; OpenSSH's `MaxSessions` defaults to 10).
    pub max_channels_per_connection: usize,
}

impl fmt::Debug for SshSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = format!(
            "<private {} key {}, hidden>",
            self.key.algorithm(),
            self.key.fingerprint(russh::keys::HashAlg::Sha256)
        );
        f.debug_struct("SshSettings")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("user", &self.user)
            .field("key", &format_args!("{key}"))
            .field("host_keys", &self.host_keys)
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_max", &self.keepalive_max)
            .field(
                "max_channels_per_connection",
                &self.max_channels_per_connection,
            )
            .finish()
    }
}

/// Runs commands on one SSH host through a pool of connections.
pub struct SshTransport {
    settings: Arc<SshSettings>,
    target: Result<Target, String>,
    pool: Pool,
}

impl fmt::Debug for SshTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshTransport")
            .field("name", &self.settings.name)
            .field("address", &self.settings.address)
            .field("connections", &self.pool.len())
            .finish()
    }
}

impl SshTransport {
    /// A transport for the host described by `settings`. Does no I/O: the first command
    /// connects. An unparseable address is reported (as `Unreachable`) by every operation.
    pub fn new(settings: SshSettings) -> Self {
        let target = parse_address(&settings.address);
        Self {
            settings: Arc::new(settings),
            target,
            pool: Pool::default(),
        }
    }

    /// Connections currently held by the pool (closed ones are noticed on next use).
    pub fn connection_count(&self) -> usize {
        self.pool.len()
    }

    fn disconnected(&self, reason: impl fmt::Display) -> TransportError {
        TransportError::Disconnected {
            host: self.settings.name.clone(),
            reason: reason.to_string(),
        }
    }

    /// Opens a session channel, replacing connections that cannot open one.
    async fn open_channel(&self) -> Result<ChannelGuard, TransportError> {
        let mut last_error = None;
        for _ in 0..CHANNEL_OPEN_ATTEMPTS {
            let lease = self.pool.lease(&self.settings, &self.target).await?;
            match lease.conn.handle.channel_open_session().await {
                Ok(channel) => return Ok(ChannelGuard::new(channel, lease)),
                Err(e) => {
                    tracing::info!(
                        host = %self.settings.name,
                        connection = lease.connection_id(),
                        error = %e,
                        "cannot open a channel; replacing the connection"
                    );
                    self.pool.retire(lease.connection_id());
                    last_error = Some(e);
                }
            }
        }
        Err(self.disconnected(format_args!(
            "cannot open a channel: {}",
            last_error.map_or_else(String::new, |e| e.to_string())
        )))
    }

    async fn run(&self, command: &str, stdin: &[u8]) -> Result<ExecOutput, TransportError> {
        let mut guard = self.open_channel().await?;
        let channel = guard.channel();
        channel
            .exec(true, command)
            .await
            .map_err(|e| self.disconnected(format_args!("starting the command: {e}")))?;

        // Write stdin while reading output: the command may answer before it has read
        // everything, and both directions are flow-controlled. The writer waits for window
        // space, so inputs of any size arrive whole; shutdown sends EOF.
        let mut writer = channel.make_writer();
        let write = async move {
            writer.write_all(stdin).await?;
            writer.shutdown().await
        };
        tokio::pin!(write);
        let mut writing = true;

        let mut out = ExecOutput {
            status: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let mut ended = false;
        let mut eof = false;
        loop {
            let msg = tokio::select! {
                written = &mut write, if writing => {
                    writing = false;
                    if let Err(e) = written {
                        // The command closed its stdin early, or the channel is going away;
                        // reading on tells which.
                        tracing::debug!(host = %self.settings.name, error = %e, "stdin not fully written");
                    }
                    continue;
                }
                msg = guard.channel().wait() => msg,
            };
            match msg {
                Some(ChannelMsg::Data { data }) => out.stdout.extend_from_slice(&data),
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    out.stderr.extend_from_slice(&data)
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    out.status = Some(exit_status);
                    ended = true;
                }
                Some(ChannelMsg::ExitSignal { .. }) => ended = true,
                Some(ChannelMsg::Eof) => eof = true,
                Some(ChannelMsg::Failure) if !ended => {
                    return Err(self.disconnected("the server refused to run the command"));
                }
                Some(ChannelMsg::Close) => {
                    guard.finished();
                    return Ok(out);
                }
                None if ended && eof => {
                    // The command finished and its output was complete; only the close
                    // handshake was lost with the connection.
                    guard.finished();
                    return Ok(out);
                }
                None => {
                    guard.finished();
                    return Err(self.disconnected("the connection closed while the command ran"));
                }
                Some(_) => {}
            }
        }
    }

    async fn start_conversation(&self, command: &str) -> Result<Conversation, TransportError> {
        let mut guard = self.open_channel().await?;
        guard
            .channel()
            .exec(true, command)
            .await
            .map_err(|e| self.disconnected(format_args!("starting the command: {e}")))?;
        let (tx, output) = mpsc::channel(STREAM_BUFFER);
        let (input, rx) = mpsc::channel(INPUT_BUFFER);
        tokio::spawn(pump(guard, rx, tx));
        Ok(Conversation { input, output })
    }
}

/// Carries a conversation's input to the channel and its stdout, then its exit, back. Ends
/// without `Exit` when the connection drops; kills the command and closes the channel when the
/// output receiver is dropped.
async fn pump(
    mut guard: ChannelGuard,
    mut input: mpsc::Receiver<Bytes>,
    tx: mpsc::Sender<StreamEvent>,
) {
    let mut status = None;
    let mut ended = false;
    let mut writing = true;
    loop {
        let msg = tokio::select! {
            _ = tx.closed() => return guard.abandon().await,
            chunk = input.recv(), if writing => {
                // Input is small and sent whole; `data` waits for window space.
                let sent = match chunk {
                    Some(bytes) => guard.channel().data_bytes(bytes).await,
                    None => {
                        writing = false;
                        guard.channel().eof().await
                    }
                };
                if let Err(e) = sent {
                    tracing::debug!(error = %e, "input not fully written");
                    writing = false;
                }
                continue;
            }
            msg = guard.channel().wait() => msg,
        };
        match msg {
            Some(ChannelMsg::Data { data }) => {
                if tx.send(StreamEvent::Stdout(data)).await.is_err() {
                    return guard.abandon().await;
                }
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => {
                status = Some(exit_status);
                ended = true;
            }
            Some(ChannelMsg::ExitSignal { .. }) => ended = true,
            Some(ChannelMsg::Failure) if !ended => {
                tracing::warn!("the server refused to run a streamed command");
                return guard.abandon().await;
            }
            Some(ChannelMsg::Close) => {
                guard.finished();
                let _ = tx.send(StreamEvent::Exit(status)).await;
                return;
            }
            None => {
                guard.finished();
                if ended {
                    let _ = tx.send(StreamEvent::Exit(status)).await;
                }
                return;
            }
            Some(_) => {}
        }
    }
}

impl Transport for SshTransport {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn exec<'a>(
        &'a self,
        command: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<ExecOutput, TransportError>> {
        Box::pin(self.run(command, stdin))
    }

    fn converse<'a>(
        &'a self,
        command: &'a str,
    ) -> BoxFuture<'a, Result<Conversation, TransportError>> {
        Box::pin(self.start_conversation(command))
    }
}
