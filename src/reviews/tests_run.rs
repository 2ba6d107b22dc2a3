//! A review's test run: the project's tests, started detached on the host the way an agent is
//! (`remote_turn`'s launch: a session and process group of their own, output to files beside
//! the turn's, the exit status written by the wrapper, a relaunch that finds the run started),
//! and waited for by following that output to its end. A bot killed meanwhile leaves the tests
//! running; restarted, it follows the same run again from its start instead of starting
//! another, and the turn driver asks [`started`] before it would check the workspace out again.
//!
//! The run's files are the turn's file prefix plus `.tests` (`<state_dir>/turns/<turn>.tests.out`
//! and the rest of `remote_turn`'s suffixes), so [`remove`] and the host's sweep of leftovers
//! treat them like a turn's. The command runs under `timeout` with the test timeout; the wait
//! gives it a grace beyond that and then stops the run's process group, so a host that stops
//! answering or a suite that ignores SIGTERM cannot hold the turn (and its host slot) forever.

use std::time::Duration;

use tokio::time::Instant;

use super::{TestOutcome, TestStatus};
use crate::domain::invocation::Invocation;
use crate::runner::remote_turn::{
    self, CANCEL_GRACE, Ended, Launch, LaunchError, LaunchSpec, RemoteStatus,
};
use crate::runner::transport::{StreamEvent, Transport, TransportError};

/// Lines of test output kept for the review and the prompt.
const TAIL_LINES: usize = 40;
/// At most this much of the tail is kept, however long its lines.
const TAIL_BYTES: usize = 64 << 10;
/// How long the wait goes on past the test timeout before the run is stopped.
const GRACE: Duration = Duration::from_secs(30);
/// First and longest pause before following again after a dropped connection.
const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// `timeout`'s exit status when the command ran out of time.
const TIMED_OUT: i64 = 124;

/// The file prefix of a turn's test run, beside the turn's own files.
fn files(turn_files: &str) -> String {
    format!("{turn_files}.tests")
}

/// Whether the turn's tests were started (and may still be running in its checkout).
pub async fn started(host: &dyn Transport, turn_files: &str) -> Result<bool, TransportError> {
    remote_turn::launched(host, &files(turn_files)).await
}

/// Runs `command` in `dir` detached on the host, within `timeout`, or re-attaches to the run
/// started before; returns how it went once it is over.
pub async fn run(
    host: &dyn Transport,
    turn_files: &str,
    dir: &str,
    command: &str,
    timeout: Duration,
) -> Result<TestOutcome, TransportError> {
    let files = files(turn_files);
    // The command is the repository's own (its config file or its ecosystem's convention), run
    // like its CI would run it, its errors in its output.
    let invocation = Invocation {
        argv: vec![
            "timeout".to_owned(),
            timeout.as_secs().max(1).to_string(),
            "sh".to_owned(),
            "-c".to_owned(),
            format!("exec 2>&1\n{command}"),
        ],
        env: Vec::new(),
    };
    let spec = LaunchSpec {
        files: &files,
        workdir: dir,
        invocation: &invocation,
        prompt: b"",
        baseline: None,
        scratch: None,
    };
    let outcome = |status, output_tail| TestOutcome {
        command: Some(command.to_owned()),
        status,
        output_tail,
    };
    let not_run = |reason: String| outcome(TestStatus::NotRun { reason }, String::new());
    match remote_turn::launch(host, &spec).await {
        Ok(Launch::Started { .. } | Launch::AlreadyStarted { .. }) => {}
        Ok(Launch::AgentMissing) => {
            return Ok(not_run("`timeout` is not installed on the host".to_owned()));
        }
        Err(LaunchError::Transport(e)) => return Err(e),
        Err(e @ (LaunchError::Truncated | LaunchError::Failed { .. })) => {
            return Ok(not_run(format!("the tests could not be started: {e}")));
        }
    }
    let (status, tail) = wait(host, &files, timeout + GRACE).await?;
    Ok(outcome(status, tail))
}

/// Deletes the test run's files.
pub async fn remove(host: &dyn Transport, turn_files: &str) -> Result<(), TransportError> {
    remote_turn::remove(host, &files(turn_files)).await
}

/// Follows the run until it is over, at most `limit`: then it is stopped and counts as timed
/// out. Returns its status and the last lines of its output.
async fn wait(
    host: &dyn Transport,
    files: &str,
    limit: Duration,
) -> Result<(TestStatus, String), TransportError> {
    let deadline = Instant::now() + limit;
    let mut tail = Tail::default();
    let mut offset = 0;
    let mut backoff = RETRY_MIN;
    loop {
        let followed = follow_to_end(host, files, &mut offset, &mut tail);
        match tokio::time::timeout_at(deadline, followed).await {
            Ok(Ok(Some(ended))) => {
                tail.push(&ended.rest);
                return Ok((status_of(ended.status), tail.text()));
            }
            // The stream ended while the tests run: a dropped connection. Follow again.
            Ok(Ok(None)) => {}
            Ok(Err(e)) if Instant::now() + backoff >= deadline => return Err(e),
            Ok(Err(e)) => tracing::warn!(host = host.name(), "following the tests: {e}"),
            Err(_) => {
                tracing::warn!(host = host.name(), files, "the tests outlived their time");
                if let Err(e) = remote_turn::cancel(host, files, CANCEL_GRACE).await {
                    tracing::warn!(host = host.name(), "stopping the tests: {e}");
                }
                return Ok((TestStatus::TimedOut, tail.text()));
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RETRY_MAX);
    }
}

/// Follows the run's output from `offset` until its stream ends, then reads its end (`None`:
/// still running).
async fn follow_to_end(
    host: &dyn Transport,
    files: &str,
    offset: &mut u64,
    tail: &mut Tail,
) -> Result<Option<Ended>, TransportError> {
    let mut stream = remote_turn::follow(host, files, *offset).await?;
    while let Some(event) = stream.recv().await {
        match event {
            StreamEvent::Stdout(bytes) => {
                *offset += bytes.len() as u64;
                tail.push(&bytes);
            }
            StreamEvent::Exit(_) => break,
        }
    }
    remote_turn::ending(host, files, *offset, None).await
}

fn status_of(status: RemoteStatus) -> TestStatus {
    match status {
        RemoteStatus::Exited(0) => TestStatus::Passed,
        RemoteStatus::Exited(TIMED_OUT) => TestStatus::TimedOut,
        RemoteStatus::Exited(exit) => TestStatus::Failed { exit },
        RemoteStatus::Absent | RemoteStatus::Running | RemoteStatus::Vanished => {
            TestStatus::Failed { exit: -1 }
        }
    }
}

/// The last [`TAIL_LINES`] lines of a stream of bytes (at most [`TAIL_BYTES`] of them).
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        // A last line without its newline yet counts as a line.
        let end = self.bytes.len() - usize::from(self.bytes.last() == Some(&b'\n'));
        let mut seen = 0;
        let start = self.bytes[..end]
            .iter()
            .rposition(|b| {
                seen += usize::from(*b == b'\n');
                seen == TAIL_LINES
            })
            .map_or(0, |newline| newline + 1);
        let start = start.max(self.bytes.len().saturating_sub(TAIL_BYTES));
        self.bytes.drain(..start);
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines_across_chunks() {
        let mut tail = Tail::default();
        let text: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        for chunk in text.as_bytes().chunks(7) {
            tail.push(chunk);
        }
        let kept = tail.text();
        assert_eq!(kept.lines().count(), TAIL_LINES);
        assert!(
            kept.starts_with("line 61\n") && kept.ends_with("line 100"),
            "{kept}"
        );
        let mut long = Tail::default();
        long.push(&vec![b'x'; TAIL_BYTES * 3]);
        assert_eq!(long.text().len(), TAIL_BYTES);
    }

    /// The tests run detached on this machine: a second run of the same turn re-attaches to the
    /// first instead of starting the command again, and the outcome has the output's end.
    #[tokio::test]
    async fn a_second_run_reattaches_instead_of_starting_again() {
        use crate::runner::local::LocalTransport;
        let host = LocalTransport::new("local");
        let dir = tempfile::tempdir().unwrap();
        let turn = dir.path().join("state/turns/t1").display().to_string();
        let work = dir.path().display().to_string();
        assert!(!started(&host, &turn).await.unwrap());
        let command = "echo run >> runs; echo failing >&2; exit 3";
        let first = run(&host, &turn, &work, command, Duration::from_secs(30))
            .await
            .unwrap();
        assert!(started(&host, &turn).await.unwrap());
        let again = run(&host, &turn, &work, command, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.status, TestStatus::Failed { exit: 3 });
        assert_eq!(first.output_tail, "failing");
        let runs = std::fs::read_to_string(dir.path().join("runs")).unwrap();
        assert_eq!(runs, "run\n", "the command ran once");
        remove(&host, &turn).await.unwrap();
        assert!(!started(&host, &turn).await.unwrap());

        let slow = format!("{turn}-slow");
        let timed_out = run(&host, &slow, &work, "sleep 5", Duration::from_secs(1)).await;
        assert_eq!(timed_out.unwrap().status, TestStatus::TimedOut);
    }
}
