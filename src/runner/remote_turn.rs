//! A turn on a host: launched detached, followed from a byte offset, cancelled by signalling
//! its process group. The protocol is a handful of POSIX `sh` snippets run through a
//! [`Transport`], identical for `local` and `ssh` hosts.
//!
//! ```text
//! files      <state_dir>/turns/<turn-id>.{prompt,out,err,pid,launched,exit}
//! launch     one exec: the agent's variables, the prompt's bytes and an end marker on stdin;
//!            the prompt → `.prompt`, then `setsid -f env -i BASICS sh -c WRAPPER` (the
//!            variables piped in) runs the agent with stdin from `.prompt`, stdout to `.out`;
//!            the wrapper writes the agent's exit status to `.exit` at the end
//! follow     `tail -c +OFFSET -F --pid=PID .out`: streams until the wrapper exits
//! status     `.exit` present → finished; pid alive → running; else vanished
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
//! - Launch is idempotent: a `.launched` marker makes a second launch of the same turn a no-op
//!   (exit 3). The prompt is read with `head -c LENGTH` and must be followed by an end marker
//!   line, so a connection dropped mid-upload never starts an agent on a truncated prompt
//!   (exit 4).
//! - The prompt only ever travels as stdin bytes; every other value in these scripts goes
//!   through [`shell::quote`](super::shell::quote).
//! - The agent inherits nothing from the launching shell: `env -i` keeps only
//!   [`agent_env::BASICS`], and its configured variables (an API key, say) arrive on stdin
//!   ahead of the prompt, are read by builtins and piped by the builtin `printf` to the
//!   wrapper, which exports them. They are never in a process's arguments (`ps`) nor in a file.
//! - Every process on the launch path costs about a millisecond, so the path has as few as the
//!   protocol allows: the shell sshd starts, `head`, `setsid` (which execs `env`, which execs
//!   the wrapper) and the agent; the `printf` of the variables and the `$(umask)` that reads
//!   the host's umask are forks without an exec. The files are flat (no `mkdir` per turn), the
//!   variables are read and exported by builtins, and directories are only created when a
//!   builtin test finds them missing.
//! - The turn's files (the prompt, the output) are written under `umask 077`: only the host
//!   user reads them. The agent runs with the host's own umask, read before the launch narrows
//!   it, so the files it writes in the workspace are as readable as any its user writes.
//! - `tail --pid`, `head -c` reading exactly its count, and `setsid -f` need GNU coreutils and
//!   util-linux, as on any Linux host; `switchboard check` verifies them.

use std::time::Duration;

use tokio::sync::mpsc;

use super::agent_env::{self, AgentEnv};
use super::shell::{self, quote, quote_path};
use super::transport::{StreamEvent, Transport, TransportError};
use crate::agents::Invocation;

/// The wrapper that runs on the host as the leader of the turn's process group, in a clean
/// environment (see [`agent_env`]): its stdin carries the agent's configured variables, which it
/// exports. `$1` is the turn's file prefix, `$2` the host's umask, the rest the agent's command
/// line. The wrapper runs under `umask 077`, so the turn's files are private; the agent gets the
/// host's umask back (in the subshell it is exec'd from), so what it writes in the workspace is
/// as readable as anything else its user writes.
fn wrapper() -> String {
    format!(
        r#"{export}
sb_p=$1; sb_umask=$2; shift 2
echo $$ > "$sb_p.pid"
trap : INT TERM
(umask "$sb_umask"; exec "$@") < "$sb_p.prompt" > "$sb_p.out" 2> "$sb_p.err"
echo $? > "$sb_p.exit""#,
        export = agent_env::EXPORT_STDIN
    )
}

/// The line that must follow the prompt's bytes on the launch script's stdin.
const END_MARKER: &[u8] = b"sb-end\n";

/// Exit statuses of the launch script.
const LAUNCH_ALREADY: u32 = 3;
const LAUNCH_TRUNCATED: u32 = 4;
const LAUNCH_AGENT_MISSING: u32 = 5;

/// How long `/stop` waits after SIGINT before TERM, and after TERM before KILL.
pub const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// The file suffixes of a turn, all removed when it is done.
const SUFFIXES: &[&str] = &["prompt", "out", "err", "pid", "launched", "exit"];

/// What to start.
#[derive(Debug, Clone)]
pub struct LaunchSpec<'a> {
    /// The turn's file prefix on the host (see [`turn_files`]; `~/` allowed).
    pub files: &'a str,
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
    /// Never launched (no marker, no pid).
    Absent,
    Running,
    /// The wrapper recorded the agent's exit status.
    Exited(i64),
    /// Launched, not running, and no exit status: killed hard, or the host rebooted.
    Vanished,
}

/// The file prefix of a turn under a host's state dir: `<state_dir>/turns/<turn-id>`.
pub fn turn_files(state_dir: &str, turn_id: &str) -> String {
    format!("{}/turns/{turn_id}", state_dir.trim_end_matches('/'))
}

/// The directory holding a file prefix's files.
fn parent(files: &str) -> &str {
    files.rsplit_once('/').map_or(".", |(dir, _)| dir)
}

fn launch_script(spec: &LaunchSpec<'_>, env: &AgentEnv) -> String {
    let program = spec
        .invocation
        .argv
        .first()
        .map(String::as_str)
        .unwrap_or("");
    format!(
        r#"t={dir}
p={files}
w={workdir}
if [ -e "$p.launched" ]; then cat > /dev/null; exit {already}; fi
if ! command -v {program} > /dev/null 2>&1; then cat > /dev/null; exit {missing}; fi
sb_umask=$(umask)
umask 077
[ -d "$t" ] || mkdir -p "$t" || exit 6
{read_env}
if ! head -c {len} > "$p.prompt" || ! IFS= read -r end || [ "$end" != {marker} ]; then
  rm -f "$p.prompt"; exit {truncated}
fi
[ -d "$w" ] || (umask "$sb_umask"; mkdir -p "$w") || exit 7
cd "$w" || exit 7
printf '%s' "$sb_env" | setsid -f {clean_env} sh -c {wrapper} sb-turn "$p" "$sb_umask" {argv} > /dev/null 2>&1 || exit 8
: > "$p.launched""#,
        dir = quote_path(parent(spec.files)),
        files = quote_path(spec.files),
        workdir = quote_path(spec.workdir),
        already = LAUNCH_ALREADY,
        missing = LAUNCH_AGENT_MISSING,
        program = quote(program),
        read_env = env.read_script(LAUNCH_TRUNCATED),
        len = spec.prompt.len(),
        marker = quote(
            std::str::from_utf8(END_MARKER)
                .unwrap_or_default()
                .trim_end()
        ),
        truncated = LAUNCH_TRUNCATED,
        clean_env = agent_env::clean_env(),
        wrapper = quote(&wrapper()),
        argv = shell::join(&spec.invocation.argv),
    )
}

/// What the launch script reads from stdin: the agent's variables, the prompt, the end marker.
fn launch_input(spec: &LaunchSpec<'_>, env: &AgentEnv) -> Vec<u8> {
    let mut stdin = Vec::with_capacity(env.as_bytes().len() + spec.prompt.len() + END_MARKER.len());
    stdin.extend_from_slice(env.as_bytes());
    stdin.extend_from_slice(spec.prompt);
    stdin.extend_from_slice(END_MARKER);
    stdin
}

/// Starts the turn detached on the host (or finds it already started).
pub async fn launch(host: &dyn Transport, spec: &LaunchSpec<'_>) -> Result<Launch, LaunchError> {
    let env = AgentEnv::new(&spec.invocation.env);
    let out = host
        .exec(&launch_script(spec, &env), &launch_input(spec, &env))
        .await?;
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
    files: &str,
    offset: u64,
) -> Result<mpsc::Receiver<StreamEvent>, TransportError> {
    let script = format!(
        r#"p={files}
i=0
while [ ! -s "$p.pid" ]; do
  i=$((i+1)); if [ $i -gt 200 ]; then exit 9; fi; sleep 0.05
done
exec tail -c +{start} -F -s 0.2 --pid="$(cat "$p.pid")" "$p.out" 2> /dev/null"#,
        files = quote_path(files),
        start = offset + 1,
    );
    host.stream(&script).await
}

/// Reads whatever the output file holds from byte `offset` (after the turn ended).
pub async fn read_rest(
    host: &dyn Transport,
    files: &str,
    offset: u64,
) -> Result<Vec<u8>, TransportError> {
    let script = format!(
        "tail -c +{start} {files}.out 2> /dev/null || true",
        start = offset + 1,
        files = quote_path(files),
    );
    Ok(host.exec(&script, b"").await?.stdout)
}

/// Where the turn stands on the host.
pub async fn status(host: &dyn Transport, files: &str) -> Result<RemoteStatus, TransportError> {
    let script = format!(
        r#"p={files}
if [ -s "$p.exit" ]; then echo "exit $(cat "$p.exit")"; exit 0; fi
if [ ! -e "$p.launched" ] && [ ! -s "$p.pid" ]; then echo absent; exit 0; fi
pid=$(cat "$p.pid" 2> /dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then echo running; exit 0; fi
if [ -s "$p.exit" ]; then echo "exit $(cat "$p.exit")"; else echo vanished; fi"#,
        files = quote_path(files),
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
pub async fn stderr_tail(host: &dyn Transport, files: &str) -> Result<String, TransportError> {
    let script = format!(
        "tail -c 4000 {}.err 2> /dev/null || true",
        quote_path(files)
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
    files: &str,
    grace: Duration,
) -> Result<Cancelled, TransportError> {
    let ticks = (grace.as_millis() / 100).max(1);
    let script = format!(
        r#"p={files}
g=$(cat "$p.pid" 2> /dev/null) || exit 2
[ -n "$g" ] || exit 2
kill -INT -"$g" 2> /dev/null || exit 0
i=0
while kill -0 -"$g" 2> /dev/null; do
  i=$((i+1))
  if [ $i -eq {term} ]; then kill -TERM -"$g" 2> /dev/null; fi
  if [ $i -eq {kill} ]; then kill -KILL -"$g" 2> /dev/null; fi
  if [ $i -gt {give_up} ]; then exit 1; fi
  sleep 0.1
done"#,
        files = quote_path(files),
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

/// Deletes the turn's files (the prompt does not linger on the host).
pub async fn remove(host: &dyn Transport, files: &str) -> Result<(), TransportError> {
    let files = quote_path(files);
    let paths: Vec<String> = SUFFIXES.iter().map(|s| format!("{files}.{s}")).collect();
    host.exec(&format!("rm -f -- {}", paths.join(" ")), b"")
        .await?;
    Ok(())
}

/// Deletes what finished turns left behind when the bot could not clean up after them (it
/// stopped between recording a turn and deleting its files): the files of turns that ended more
/// than `age` ago, and any prompt older than that (a running agent has long read its stdin).
pub async fn sweep(
    host: &dyn Transport,
    state_dir: &str,
    age: Duration,
) -> Result<(), TransportError> {
    let minutes = (age.as_secs() / 60).max(1);
    let script = format!(
        r#"cd {turns} 2> /dev/null || exit 0
find . -maxdepth 1 -name '*.prompt' -mmin +{minutes} -exec rm -f {{}} +
find . -maxdepth 1 -name '*.exit' -mmin +{minutes} | while read -r e; do
  b=${{e%.exit}}; rm -f "$b.out" "$b.err" "$b.pid" "$b.launched" "$b.exit"
done"#,
        turns = quote_path(&format!("{}/turns", state_dir.trim_end_matches('/'))),
    );
    host.exec(&script, b"").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_files_sit_under_the_state_dir() {
        assert_eq!(
            turn_files("~/.switchboard/", "t1"),
            "~/.switchboard/turns/t1"
        );
        assert_eq!(turn_files("/srv/sb", "t2"), "/srv/sb/turns/t2");
        assert_eq!(parent("/srv/sb/turns/t2"), "/srv/sb/turns");
    }

    #[test]
    fn the_launch_script_quotes_every_value_and_carries_no_prompt_nor_env() {
        let invocation = Invocation {
            argv: vec!["claude".into(), "--resume".into(), "x'; rm -rf / #".into()],
            env: vec![("API_KEY".into(), "sk-SECRET $(id)".into())],
        };
        let prompt = b"SECRET PROMPT $(reboot)";
        let spec = LaunchSpec {
            files: "~/.sb/turns/t",
            workdir: "~/work dir",
            invocation: &invocation,
            prompt,
        };
        let env = AgentEnv::new(&invocation.env);
        let script = launch_script(&spec, &env);
        assert!(!script.contains("SECRET"), "{script}");
        assert!(script.contains(r#"'x'\''; rm -rf / #'"#), "{script}");
        assert!(
            script.contains(r#""$p" "$sb_umask" 'claude' '--resume'"#),
            "{script}"
        );
        assert!(script.contains(r#"w="$HOME"/'work dir'"#), "{script}");
        assert!(script.contains(&format!("head -c {} ", prompt.len())));
        assert!(script.contains("setsid -f env -i ${PATH+"), "{script}");
        let input = launch_input(&spec, &env);
        assert!(input.starts_with(b"API_KEY='sk-SECRET $(id)'\n"));
        assert!(input.ends_with(b"SECRET PROMPT $(reboot)sb-end\n"));
    }

    /// The launch protocol run for real on this machine: the prompt arrives whole, a truncated
    /// upload starts nothing, a second launch is a no-op, and the wrapper records the status.
    #[tokio::test]
    async fn launch_follow_and_status_on_this_machine() {
        use crate::runner::local::LocalTransport;
        let host = LocalTransport::new("local");
        let dir = tempfile::tempdir().unwrap();
        let files = turn_files(&dir.path().join("state").display().to_string(), "t1");
        let workdir = dir.path().join("work").display().to_string();
        let invocation = Invocation {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "cat; printf '%s' \"$GREETING\"".into(),
            ],
            env: vec![("GREETING".into(), " hi 'there'\n$(id)".into())],
        };
        let spec = LaunchSpec {
            files: &files,
            workdir: &workdir,
            invocation: &invocation,
            prompt: b"line one\nline two",
        };
        // An upload cut short (no end marker, or not even the whole environment) starts nothing.
        let env = AgentEnv::new(&invocation.env);
        let input = launch_input(&spec, &env);
        for cut in [input.len() - END_MARKER.len(), 5] {
            let truncated = host
                .exec(&launch_script(&spec, &env), &input[..cut])
                .await
                .unwrap();
            assert_eq!(truncated.status, Some(LAUNCH_TRUNCATED));
        }
        assert_eq!(status(&host, &files).await.unwrap(), RemoteStatus::Absent);

        assert_eq!(launch(&host, &spec).await.unwrap(), Launch::Started);
        assert_eq!(launch(&host, &spec).await.unwrap(), Launch::AlreadyStarted);
        let mut stream = follow(&host, &files, 0).await.unwrap();
        let mut out = Vec::new();
        while let Some(event) = stream.recv().await {
            match event {
                StreamEvent::Stdout(bytes) => out.extend_from_slice(&bytes),
                StreamEvent::Exit(_) => break,
            }
        }
        assert_eq!(
            status(&host, &files).await.unwrap(),
            RemoteStatus::Exited(0)
        );
        let all = read_rest(&host, &files, 0).await.unwrap();
        assert_eq!(all, b"line one\nline two hi 'there'\n$(id)");
        assert!(
            all.starts_with(&out),
            "followed output is a prefix of the file"
        );
        assert_eq!(
            read_rest(&host, &files, 9).await.unwrap(),
            b"line two hi 'there'\n$(id)"
        );
        remove(&host, &files).await.unwrap();
        assert_eq!(std::fs::read_dir(parent(&files)).unwrap().count(), 0);

        let missing = Invocation {
            argv: vec!["/nonexistent/agent".into()],
            env: vec![],
        };
        let spec = LaunchSpec {
            invocation: &missing,
            ..spec
        };
        assert_eq!(launch(&host, &spec).await.unwrap(), Launch::AgentMissing);
    }

    #[tokio::test]
    async fn the_sweep_removes_old_leftovers_only() {
        use crate::runner::local::LocalTransport;
        let host = LocalTransport::new("local");
        let dir = tempfile::tempdir().unwrap();
        let turns = dir.path().join("turns");
        std::fs::create_dir(&turns).unwrap();
        let touch = |name: &str, old: bool| {
            let path = turns.join(name);
            std::fs::write(&path, "x").unwrap();
            if old {
                let status = std::process::Command::new("touch")
                    .args(["-d", "3 days ago"])
                    .arg(&path)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        };
        for suffix in SUFFIXES {
            touch(&format!("done.{suffix}"), true);
        }
        touch("running.prompt", true);
        touch("running.pid", true);
        touch("running.out", false);
        touch("fresh.prompt", false);
        touch("fresh.exit", false);
        sweep(
            &host,
            &dir.path().display().to_string(),
            Duration::from_secs(86400),
        )
        .await
        .unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&turns)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["fresh.exit", "fresh.prompt", "running.out", "running.pid"]
        );
    }
}
