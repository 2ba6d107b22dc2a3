//! How the runner reaches a workspace host: one trait, two implementations.
//!
//! Everything the runner does on a host — launching a detached turn, following its output file,
//! signalling its process group, reading health figures — is expressed as small POSIX `sh`
//! command strings plus, where needed, bytes written to the command's stdin. The [`Transport`]
//! trait carries exactly that and nothing more (its methods return boxed futures, so hosts can
//! be `Arc<dyn Transport>`), so the local machine (`local`) and an SSH host
//! (`ssh`) speak the same protocol and every turn-level behaviour is tested once for both.
//!
//! Command strings are built only from constants and values passed through
//! [`crate::runner::shell::quote`]; user text (the prompt) only ever travels as stdin bytes.

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

/// What a finished command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; `None` when the command ended without one (killed by a signal, channel closed).
    pub status: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// True when the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// Stdout as text, lossily decoded and trimmed of trailing whitespace.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_owned()
    }

    /// Stderr as text, lossily decoded and trimmed of trailing whitespace.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim_end().to_owned()
    }
}

/// One item of a streamed command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A chunk of stdout, in order. Chunk boundaries are arbitrary (not line-aligned).
    Stdout(Bytes),
    /// The command ended with this status (`None`: no status, e.g. killed by a signal).
    /// Always the last event when the command really ended; if the receiver closes without
    /// it, the connection was lost and the command's fate is unknown.
    Exit(Option<u32>),
}

/// Why a transport operation failed. Callers match on these to tell the user what happened.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TransportError {
    /// TCP connect, DNS or the SSH handshake failed, or the host is in its reconnect backoff.
    #[error("host {host} is unreachable: {reason}")]
    Unreachable { host: String, reason: String },
    /// The server presented a key that does not match the pinned one. Never retried silently.
    #[error(
        "host key mismatch for {host}: it presented {presented}, which is not the pinned key; \
         refusing to connect"
    )]
    HostKeyMismatch { host: String, presented: String },
    /// The server refused our key.
    #[error("authentication as {user} on {host} failed: the server refused the key")]
    AuthFailed { host: String, user: String },
    /// The connection or channel dropped while a command was running or being started.
    #[error("connection to {host} lost: {reason}")]
    Disconnected { host: String, reason: String },
    /// Local I/O failure (spawning `sh`, reading a key file, ...).
    #[error("{0}")]
    Io(String),
}

/// A place where commands run: this machine or an SSH host.
///
/// Commands are POSIX `sh` command strings. For `ssh` they are sent as the exec request, so the
/// login user's shell runs them with `-c`; for `local` they run under `sh -c`.
pub trait Transport: Send + Sync + 'static {
    /// The host's configured name (for messages and logs).
    fn name(&self) -> &str;

    /// Runs `command`, writes `stdin` to it followed by EOF, and collects its output.
    /// No timeout is applied here: callers wrap the call in `tokio::time::timeout`.
    fn exec<'a>(
        &'a self,
        command: &'a str,
        stdin: &'a [u8],
    ) -> BoxFuture<'a, Result<ExecOutput, TransportError>>;

    /// Starts `command` and talks to it: bytes sent on [`Conversation::input`] reach its stdin
    /// as they come (dropping the sender sends EOF), and its stdout arrives on
    /// [`Conversation::output`]. Dropping the output receiver closes the channel (or kills the
    /// local child). Stderr is discarded.
    fn converse<'a>(
        &'a self,
        command: &'a str,
    ) -> BoxFuture<'a, Result<Conversation, TransportError>>;

    /// Starts `command` with stdin closed and streams its stdout: a conversation that says
    /// nothing.
    fn stream<'a>(
        &'a self,
        command: &'a str,
    ) -> BoxFuture<'a, Result<mpsc::Receiver<StreamEvent>, TransportError>> {
        Box::pin(async move { Ok(self.converse(command).await?.output) })
    }
}

/// A running command's two directions (see [`Transport::converse`]).
#[derive(Debug)]
pub struct Conversation {
    /// To its stdin, in order; dropping it closes stdin.
    pub input: mpsc::Sender<Bytes>,
    /// Its stdout, then its exit (as [`Transport::stream`] describes).
    pub output: mpsc::Receiver<StreamEvent>,
}

/// How many chunks of input may wait for a command that is slow to read them.
pub const INPUT_BUFFER: usize = 16;
