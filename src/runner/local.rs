//! The `local` transport: commands run on this machine under `sh -c`.
//!
//! It speaks exactly the protocol of the `ssh` transport (see [`crate::runner::transport`]), so a
//! host configured as local behaves like an SSH host without the network: same command strings,
//! same stdin bytes, same stream events. Every child is spawned with `kill_on_drop(true)`, so a
//! caller that gives up (a dropped `exec` future, a dropped stream receiver) kills the `sh` it
//! started. Like a closed SSH channel, that does not reach grandchildren directly: they see their
//! stdout pipe closed and die of `SIGPIPE` on their next write. Detached work (`setsid … &` with
//! redirected fds) is untouched, which is what turns rely on.
//!
//! The bot's environment holds its secrets (platform tokens, the database URL), so no command
//! inherits it: each `sh` starts with only [`agent_env::BASICS`], as a command on an SSH host
//! starts with only what sshd gives it. Whatever a command needs beyond them it is given
//! explicitly (the agent its configured variables, git its token, both on stdin).

use std::process::Stdio;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::runner::agent_env;
use crate::runner::transport::{
    Conversation, ExecOutput, INPUT_BUFFER, StreamEvent, Transport, TransportError,
};
use futures_util::future::BoxFuture;

/// How many stream events may wait for a slow reader before the reading task pauses.
const STREAM_BUFFER: usize = 64;

/// Size of one read from a streamed child's stdout.
const READ_CHUNK: usize = 16 * 1024;

/// Runs commands on this machine.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    name: String,
}

impl LocalTransport {
    /// A local host known by `name` in messages and logs.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }

    fn shell(command: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .env_clear()
            .envs(agent_env::basics_of_this_process())
            .kill_on_drop(true);
        cmd
    }

    fn spawn_error(&self, e: std::io::Error) -> TransportError {
        TransportError::Io(format!("{}: cannot start `sh`: {e}", self.name))
    }

    async fn run(&self, command: &str, stdin: &[u8]) -> Result<ExecOutput, TransportError> {
        let mut child = Self::shell(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // Write and read at the same time: a command that answers before it has read all of its
        // input would otherwise deadlock against a full pipe.
        let write = async move {
            // A command that exits without reading its input closes the pipe: not an error here,
            // its exit status tells the story.
            let _ = pipe.write_all(stdin).await;
            drop(pipe);
        };
        let (_, output) = tokio::join!(write, child.wait_with_output());
        let output = output.map_err(|e| TransportError::Io(format!("{}: {e}", self.name)))?;
        Ok(ExecOutput {
            status: output.status.code().map(|c| c as u32),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    async fn start_conversation(&self, command: &str) -> Result<Conversation, TransportError> {
        let mut child = Self::shell(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let (tx, output) = mpsc::channel(STREAM_BUFFER);
        let (input, rx) = mpsc::channel(INPUT_BUFFER);
        tokio::spawn(feed(stdin, rx));
        tokio::spawn(forward(child, tx));
        Ok(Conversation { input, output })
    }
}

/// Writes a conversation's input to the child's stdin, closing it when the sender is dropped.
async fn feed(mut stdin: ChildStdin, mut input: mpsc::Receiver<Bytes>) {
    while let Some(bytes) = input.recv().await {
        if stdin.write_all(&bytes).await.is_err() {
            return; // the command closed its stdin: its output and exit tell the rest
        }
    }
}

/// Forwards the child's stdout, then its exit status. Returns early (dropping, hence killing,
/// the child) as soon as the receiver is gone.
async fn forward(mut child: Child, tx: mpsc::Sender<StreamEvent>) {
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = tokio::select! {
            _ = tx.closed() => return,
            read = stdout.read(&mut buf) => match read {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "reading a local stream failed");
                    0
                }
            },
        };
        if n == 0 {
            break;
        }
        if tx
            .send(StreamEvent::Stdout(Bytes::copy_from_slice(&buf[..n])))
            .await
            .is_err()
        {
            return;
        }
    }
    drop(stdout);
    let status = tokio::select! {
        _ = tx.closed() => return,
        status = child.wait() => status,
    };
    let code = match status {
        Ok(status) => status.code().map(|c| c as u32),
        Err(e) => {
            tracing::warn!(error = %e, "waiting for a local stream's command failed");
            None
        }
    };
    let _ = tx.send(StreamEvent::Exit(code)).await;
}

impl Transport for LocalTransport {
    fn name(&self) -> &str {
        &self.name
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The test runner's environment is full of variables (cargo's, say); a command sees none
    /// but the basics.
    #[tokio::test]
    async fn commands_see_only_the_basic_variables() {
        assert!(
            std::env::vars().any(|(name, _)| !agent_env::BASICS.contains(&name.as_str())),
            "this test needs a variable beyond the basics in its own environment"
        );
        let out = LocalTransport::new("local").exec("env", b"").await.unwrap();
        let names: Vec<String> = out
            .stdout_text()
            .lines()
            .filter_map(|l| l.split_once('=').map(|(name, _)| name.to_owned()))
            .collect();
        let extra: Vec<&String> = names
            .iter()
            .filter(|n| !agent_env::BASICS.contains(&n.as_str()) && *n != "PWD")
            .collect();
        assert!(extra.is_empty(), "inherited: {extra:?}");
        assert!(names.iter().any(|n| n == "PATH"), "{names:?}");
    }
}
