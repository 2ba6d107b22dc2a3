//! A turn on a host: launched detached, followed from a byte offset, cancelled by signalling
//! its process group. The protocol is a handful of POSIX `sh` snippets run through a
//! [`Transport`], identical for `local` and `ssh` hosts.
//!
//! ```text
//! turn dir   <state_dir>/turns/<turn-id>/  prompt, out.jsonl, err.log, pid, launched, exit
//! launch     one exec: prompt bytes on stdin → `prompt` (size checked), then
//!            `setsid -f sh -c WRAPPER` runs the agent with stdin from `prompt`, stdout to
//!            `out.jsonl`; the wrapper writes the agent's exit status to `exit` at the end
//! follow     `tail -c +OFFSET -F --pid=PID out.jsonl`: streams until the wrapper exits
//! status     `exit` present → finished; pid alive → running; else vanished
//! cancel     SIGINT to the group, TERM after a grace period, then KILL; returns when the
//!            whole group is gone
//! ```
//!
//! Why it holds up (DESIGN invariants 3 and 5):
//! - The agent runs in its own session (`setsid`) with no tty and no pipe to the connection, so
//!   a dropped SSH link or a dead bot cannot signal it. `setsid -f` (fork) is used rather than
//!   `cmd &`: a non-interactive shell starts background jobs with SIGINT ignored, and a signal
//!   ignored on entry can never be trapped again — the agent would be deaf to a polite cancel.
//! - The wrapper traps INT/TERM (caught signals reset to default in the agent it starts), so
//!   when the group is signalled the wrapper survives long enough to record the exit status.
//! - Launch is idempotent: a `launched` marker makes a second launch of the same turn a no-op
//!   (exit 3), and the prompt's byte count is checked before anything starts, so a connection
//!   dropped mid-upload never starts an agent on a truncated prompt (exit 4).
//! - The prompt only ever travels as stdin bytes; every other value in these scripts goes
//!   through [`shell::quote`].
//! - `tail --pid` and `setsid -f` need GNU coreutils and util-linux, as on any Linux host;
//!   `switchboard check` verifies both.

use std::time::Duration;

use tokio::sync::mpsc;

use super::shell::{quote, quote_path};
use super::transport::{StreamEvent, Transport, TransportError};
use crate::agents::Invocation;

/// The wrapper that runs on the host as the leader of the turn's process group.
/// `$1` is the turn dir; the rest is the agent's command line.
const WRAPPER: &str = r#"d=$1; shift
echo $$ > "$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"
trap : INT TERM
"$@" < "$d/prompt" > "$d/out.jsonl" 2> "$d/err.log"
echo $? > "$d/exit.tmp" && mv "$d/exit.tmp" "$d/exit""#;

/// Exit statuses of the launch script.
const LAUNCH_ALREADY: u32 = 3;
const LAUNCH_TRUNCATED: u32 = 4;
const LAUNCH_AGENT_MISSING: u32 = 5;

/// How long `/stop` waits after SIGINT before TERM, and after TERM before KILL.
pub const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// What to start.
#[derive(Debug, Clone)]
pub struct LaunchSpec<'a> {
    /// The turn directory on the host (`~/` allowed).
    pub dir: &'a str,
    /// The agent's working directory (`~/` allowed); created if missing.
    pub workdir: &'a str,
    pub invocation: &'a Invocation,
    pub prompt: &'a [u8],
}

/// How a launch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    Started,
    /// The turn had been launched before (a relaunch after a restart): follow it.
    AlreadyStarted,
    /// The agent command is not on the host.
    AgentMissing,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The prompt did not arrive whole (the connection dropped mid-upload); safe to retry.
    #[error("the prompt arrived truncated on the host")]
    Truncated,
    #[error("launching on the host failed (exit {status:?}): {stderr}")]
    Failed { status: Option<u32>, stderr: String },
}

/// Where a launched turn stands on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteStatus {
    /// Never launched (no turn dir or no marker).
    Absent,
    Running,
    /// The wrapper recorded the agent's exit status.
    Exited(i64),
    /// Launched, not running, and no exit status: killed hard, or the host rebooted.
    Vanished,
}

/// The turn directory for a turn id under a host's state dir.
pub fn turn_dir(state_dir: &str, turn_id: &str) -> String {
    format!("{}/turns/{turn_id}", state_dir.trim_end_matches('/'))
}

fn launch_script(spec: &LaunchSpec<'_>) -> String {
    let mut agent: Vec<String> = Vec::new();
    if !spec.invocation.env.is_empty() {
        agent.push("env".to_owned());
        agent.extend(
            spec.invocation
                .env
                .iter()
                .map(|(k, v)| quote(&format!("{k}={v}"))),
        );
    }
    agent.extend(spec.invocation.argv.iter().map(|a| quote(a)));
    let program = spec
        .invocation
        .argv
        .first()
        .map(String::as_str)
        .unwrap_or("");
    format!(
        r#"d={dir}
w={workdir}
if [ -e "$d/launched" ]; then cat > /dev/null; exit {already}; fi
if ! command -v {program} > /dev/null 2>&1; then cat > /dev/null; exit {missing}; fi
umask 077
mkdir -p "$d" || exit 6
cat > "$d/prompt"
if [ "$(($(wc -c < "$d/prompt")))" -ne {len} ]; then rm -f "$d/prompt"; exit {truncated}; fi
mkdir -p "$w" && cd "$w" || exit 7
setsid -f sh -c {wrapper} sb-turn "$d" {agent} < /dev/null > /dev/null 2>&1 || exit 8
: > "$d/launched""#,
        dir = quote_path(spec.dir),
        workdir = quote_path(spec.workdir),
        already = LAUNCH_ALREADY,
        missing = LAUNCH_AGENT_MISSING,
        program = quote(program),
        len = spec.prompt.len(),
        truncated = LAUNCH_TRUNCATED,
        wrapper = quote(WRAPPER),
        agent = agent.join(" "),
    )
}

/// Starts the turn detached on the host (or finds it already started).
pub async fn launch(host: &dyn Transport, spec: &LaunchSpec<'_>) -> Result<Launch, LaunchError> {
    let out = host.exec(&launch_script(spec), spec.prompt).await?;
    match out.status {
        Some(0) => Ok(Launch::Started),
        Some(LAUNCH_ALREADY) => Ok(Launch::AlreadyStarted),
        Some(LAUNCH_AGENT_MISSING) => Ok(Launch::AgentMissing),
        Some(LAUNCH_TRUNCATED) => Err(LaunchError::Truncated),
        status => Err(LaunchError::Failed {
            status,
            stderr: out.stderr_text(),
        }),
    }
}

/// Streams the agent's output from byte `offset` until the turn's wrapper exits. The receiver
/// closing without [`StreamEvent::Exit`] means the connection dropped: follow again from the
/// offset reached.
pub async fn follow(
    host: &dyn Transport,
    dir: &str,
    offset: u64,
) -> Result<mpsc::Receiver<StreamEvent>, TransportError> {
    let script = format!(
        r#"d={dir}
i=0
while [ ! -s "$d/pid" ]; do
  i=$((i+1)); if [ $i -gt 200 ]; then exit 9; fi; sleep 0.05
done
exec tail -c +{start} -F -s 0.2 --pid="$(cat "$d/pid")" "$d/out.jsonl" 2> /dev/null"#,
        dir = quote_path(dir),
        start = offset + 1,
    );
    host.stream(&script).await
}

/// Reads whatever the output file holds from byte `offset` (after the turn ended).
pub async fn read_rest(
    host: &dyn Transport,
    dir: &str,
    offset: u64,
) -> Result<Vec<u8>, TransportError> {
    let script = format!(
        "tail -c +{start} {file} 2> /dev/null || true",
        start = offset + 1,
        file = out_file(dir),
    );
    Ok(host.exec(&script, b"").await?.stdout)
}

fn out_file(dir: &str) -> String {
    format!("{}/out.jsonl", quote_path(dir))
}

/// Where the turn stands on the host.
pub async fn status(host: &dyn Transport, dir: &str) -> Result<RemoteStatus, TransportError> {
    let script = format!(
        r#"d={dir}
if [ -f "$d/exit" ]; then echo "exit $(cat "$d/exit")"; exit 0; fi
if [ ! -e "$d/launched" ] && [ ! -s "$d/pid" ]; then echo absent; exit 0; fi
p=$(cat "$d/pid" 2> /dev/null)
if [ -n "$p" ] && kill -0 "$p" 2> /dev/null; then echo running; exit 0; fi
if [ -f "$d/exit" ]; then echo "exit $(cat "$d/exit")"; else echo vanished; fi"#,
        dir = quote_path(dir),
    );
    let out = host.exec(&script, b"").await?;
    let text = out.stdout_text();
    Ok(match text.as_str() {
        "running" => RemoteStatus::Running,
        "absent" => RemoteStatus::Absent,
        "vanished" => RemoteStatus::Vanished,
        other => match other
            .strip_prefix("exit ")
            .and_then(|c| c.trim().parse().ok())
        {
            Some(code) => RemoteStatus::Exited(code),
            None => RemoteStatus::Vanished,
        },
    })
}

/// The last lines of the agent's stderr (for failure messages).
pub async fn stderr_tail(host: &dyn Transport, dir: &str) -> Result<String, TransportError> {
    let script = format!(
        "tail -c 4000 {}/err.log 2> /dev/null || true",
        quote_path(dir)
    );
    Ok(host.exec(&script, b"").await?.stdout_text())
}

/// How a cancel went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The process group is gone.
    Stopped,
    /// The turn had not started a process yet.
    NotStarted,
    /// The group outlived SIGKILL (should not happen; reported as is).
    Stuck,
}

/// Signals the turn's process group — INT, then TERM after `grace`, then KILL after another
/// `grace` — and returns once every process in the group is gone.
pub async fn cancel(
    host: &dyn Transport,
    dir: &str,
    grace: Duration,
) -> Result<Cancelled, TransportError> {
    let ticks = (grace.as_millis() / 100).max(1);
    let script = format!(
        r#"d={dir}
p=$(cat "$d/pid" 2> /dev/null) || exit 2
[ -n "$p" ] || exit 2
kill -INT -"$p" 2> /dev/null || exit 0
i=0
while kill -0 -"$p" 2> /dev/null; do
  i=$((i+1))
  if [ $i -eq {term} ]; then kill -TERM -"$p" 2> /dev/null; fi
  if [ $i -eq {kill} ]; then kill -KILL -"$p" 2> /dev/null; fi
  if [ $i -gt {give_up} ]; then exit 1; fi
  sleep 0.1
done"#,
        dir = quote_path(dir),
        term = ticks,
        kill = ticks * 2,
        give_up = ticks * 2 + 30,
    );
    let out = host.exec(&script, b"").await?;
    Ok(match out.status {
        Some(0) => Cancelled::Stopped,
        Some(2) => Cancelled::NotStarted,
        _ => Cancelled::Stuck,
    })
}

/// Deletes the turn directory (the prompt does not linger on the host).
pub async fn remove(host: &dyn Transport, dir: &str) -> Result<(), TransportError> {
    host.exec(&format!("rm -rf {}", quote_path(dir)), b"")
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_dirs_sit_under_the_state_dir() {
        assert_eq!(turn_dir("~/.switchboard/", "t1"), "~/.switchboard/turns/t1");
        assert_eq!(turn_dir("/srv/sb", "t2"), "/srv/sb/turns/t2");
    }

    #[test]
    fn the_launch_script_quotes_every_value_and_carries_no_prompt() {
        let invocation = Invocation {
            argv: vec!["claude".into(), "--resume".into(), "x'; rm -rf / #".into()],
            env: vec![("K".into(), "v $(id)".into())],
        };
        let prompt = b"SECRET PROMPT $(reboot)";
        let script = launch_script(&LaunchSpec {
            dir: "~/.sb/turns/t",
            workdir: "~/work dir",
            invocation: &invocation,
            prompt,
        });
        assert!(!script.contains("SECRET PROMPT"));
        assert!(script.contains(r#"'x'\''; rm -rf / #'"#), "{script}");
        assert!(script.contains(r#"env 'K=v $(id)' 'claude'"#), "{script}");
        assert!(script.contains(r#"w="$HOME"/'work dir'"#), "{script}");
        assert!(script.contains(&format!("-ne {} ]", prompt.len())));
    }
}
