//! A turn on a host: launched detached, followed from a byte offset, cancelled by signalling
//! its process group. The protocol is a handful of POSIX `sh` snippets run through a
//! [`Transport`], identical for `local` and `ssh` hosts.
//!
//! ```text
//! files      <state_dir>/turns/<turn-id>.{prompt,out,err,pid,launched,exit,base,followers,…}
//! launch     one exec: the agent's variables, the prompt's bytes and an end marker on stdin;
//!            a snapshot of the workspace (the turn's change baseline) → `.base`, the prompt →
//!            `.prompt`, then `setsid -f env -i BASICS sh -c WRAPPER` (the variables piped in)
//!            runs the agent with stdin from `.prompt`, stdout to `.out`; the wrapper writes the
//!            agent's exit status to `.exit` at the end and wakes the followers
//! follow     `tail -c +OFFSET -F --pid=PID .out` under a shell that ends it when woken (SIGURG)
//!            by the wrapper, or at once if `.exit` is already there
//! ending     one exec once the stream ends: the status (`.exit` present → finished; pid alive
//!            → running; else vanished), then the rest of `.out`, the end of `.err` and the
//!            workspace's changes since `.base` (see [`changes`]), framed by their sizes
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
//! - The end of a turn is the `.exit` file, not the wrapper's death: where PID 1 is slow to reap
//!   orphans (a container without an init) the finished wrapper stays a zombie, which `kill -0`
//!   and `tail --pid` take for alive. So the wrapper, once `.exit` is written, sends SIGURG to
//!   every follower listed in `.followers`, and a follower lists itself before it looks for
//!   `.exit`: whichever comes second sees the other. SIGURG is ignored by default, so a stale
//!   pid in the list harms nothing. `tail --pid` remains the way out when the wrapper is killed
//!   outright and leaves no `.exit`.
//! - After the agent exits, everything the turn needs from the host — the status, the output not
//!   yet streamed, the end of stderr, the workspace's changes — is one exec ([`ending`]); the
//!   baseline the changes are measured against was taken by the launch exec, stored on the host
//!   (`.base`) before the agent starts, so a relaunch after a restart returns the same one.
//! - `tail --pid`, `head -c` reading exactly its count, and `setsid -f` need GNU coreutils and
//!   util-linux, as on any Linux host; `switchboard check` verifies them.

use std::time::Duration;

use tokio::sync::mpsc;

use super::agent_env::{self, AgentEnv};
use super::changes::{self, Changes, ChangesError, Tracked};
use super::scratch::{self, Scratch};
use super::shell::{self, quote, quote_path};
use super::transport::{StreamEvent, Transport, TransportError};
use crate::domain::changes::{Baseline, Snapshot};
use crate::domain::invocation::Invocation;

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
echo $? > "$sb_p.exit"
{{ while read -r f; do kill -URG "$f"; done < "$sb_p.followers"; }} 2> /dev/null"#,
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
const SUFFIXES: &[&str] = &[
    "prompt",
    "out",
    "err",
    "pid",
    "launched",
    "exit",
    "base",
    "followers",
    "err-tail",
    "changes",
    "changes-err",
];

/// How much of the agent's stderr the end of a turn reads (for failure messages).
const STDERR_TAIL_BYTES: usize = 4000;

/// The first line of a launch's output when the baseline snapshot failed (its error follows).
const SNAPSHOT_FAILED: &str = "snapshot-failed";

/// What to start.
#[derive(Debug, Clone)]
pub struct LaunchSpec<'a> {
    /// The turn's file prefix on the host (see [`turn_files`]; `~/` allowed).
    pub files: &'a str,
    /// The agent's working directory (`~/` allowed); created if missing.
    pub workdir: &'a str,
    pub invocation: &'a Invocation,
    pub prompt: &'a [u8],
    /// The workspace to take the turn's change baseline of, just before the agent starts;
    /// `None`: no baseline wanted (a quiet turn, or one already stored).
    pub baseline: Option<Tracked<'a>>,
    /// The working directory is the session's scratch directory, made (as this says) before
    /// the baseline is taken; `None`: it is some other directory.
    pub scratch: Option<Scratch>,
}

/// How a launch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Started, with the baseline when the spec asked for one.
    Started { baseline: Option<Baseline> },
    /// The turn had been launched before (a relaunch after a restart): follow it. The baseline
    /// is the one taken by that first launch.
    AlreadyStarted { baseline: Option<Baseline> },
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
    let (snapshot, keep_base) = match spec.baseline {
        Some(at) => (
            format!(
                "b=$(exec 2>&1\n{}) || b=\"{SNAPSHOT_FAILED}\n$b\"\n",
                changes::snapshot_script(at)
            ),
            "printf '%s\\n' \"$b\" > \"$p.base\" || exit 6\n",
        ),
        None => (String::new(), ""),
    };
    let scratch = spec
        .scratch
        .map(|scratch| scratch::script(spec.workdir, scratch))
        .unwrap_or_default();
    format!(
        r#"{scratch}{snapshot}t={dir}
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
{keep_base}printf '%s' "$sb_env" | setsid -f {clean_env} sh -c {wrapper} sb-turn "$p" "$sb_umask" {argv} > /dev/null 2>&1 || exit 8
: > "$p.launched"
{show_base}"#,
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
        show_base = if keep_base.is_empty() {
            ""
        } else {
            "printf '%s\\n' \"$b\""
        },
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
        Some(0) => Ok(Launch::Started {
            baseline: spec
                .baseline
                .map(|_| baseline_from(host, &out.stdout_text())),
        }),
        Some(LAUNCH_ALREADY) => Ok(Launch::AlreadyStarted {
            baseline: match spec.baseline {
                Some(_) => Some(stored_baseline(host, spec.files).await?),
                None => None,
            },
        }),
        Some(LAUNCH_AGENT_MISSING) => Ok(Launch::AgentMissing),
        Some(LAUNCH_TRUNCATED) => Err(LaunchError::Truncated),
        status => Err(LaunchError::Failed {
            status,
            stderr: out.stderr_text(),
        }),
    }
}

/// Whether the turn was launched on the host (its marker or its pid is there), whatever it has
/// done since.
pub async fn launched(host: &dyn Transport, files: &str) -> Result<bool, TransportError> {
    let script = format!(
        r#"p={files}; [ -e "$p.launched" ] || [ -s "$p.pid" ]"#,
        files = quote_path(files)
    );
    Ok(host.exec(&script, b"").await?.success())
}

/// The baseline the first launch of a turn stored on the host (after a restart).
async fn stored_baseline(host: &dyn Transport, files: &str) -> Result<Baseline, TransportError> {
    let script = format!("cat {}.base 2> /dev/null", quote_path(files));
    let out = host.exec(&script, b"").await?;
    Ok(baseline_from(host, &out.stdout_text()))
}

/// Reads the snapshot a launch took; one that failed is logged and becomes
/// [`Baseline::Unknown`], as the turn runs either way.
fn baseline_from(host: &dyn Transport, text: &str) -> Baseline {
    let parsed = match text.strip_prefix(SNAPSHOT_FAILED) {
        Some(reason) => changes::parse_baseline(reason, false),
        None => changes::parse_baseline(text, true),
    };
    parsed.unwrap_or_else(|e| {
        tracing::warn!(
            host = host.name(),
            "could not read the workspace's git state: {e}"
        );
        Baseline::Unknown
    })
}

/// Streams the agent's output from byte `offset` until the turn ends (its `.exit` file is
/// written, or its wrapper is gone). The receiver closing without [`StreamEvent::Exit`] means
/// the connection dropped: follow again from the offset reached. The stream may end before
/// every byte of the file was sent: [`ending`] reads the rest.
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
read -r w < "$p.pid"
trap 'kill $t 2> /dev/null; exit 0' URG
tail -c +{start} -F -s 1 --pid="$w" "$p.out" 2> /dev/null &
t=$!
echo $$ >> "$p.followers"
if [ -s "$p.exit" ]; then kill $t 2> /dev/null; exit 0; fi
wait $t"#,
        files = quote_path(files),
        start = offset + 1,
    );
    host.stream(&script).await
}

/// What the host holds of a turn that has ended.
#[derive(Debug)]
pub struct Ended {
    /// Never [`RemoteStatus::Running`].
    pub status: RemoteStatus,
    /// The output file from the offset asked for to its end.
    pub rest: Vec<u8>,
    /// The last bytes of the agent's stderr (for failure messages).
    pub stderr_tail: String,
    /// The workspace's changes, when asked for.
    pub changes: Option<Result<Changes, ChangesError>>,
}

/// Everything the end of a turn reads from the host, in one exec: where the turn stands and,
/// when it is over, the output from byte `offset` on, the end of its stderr and (when `since`
/// is given) the workspace's changes since that snapshot. `None`: the turn is still running.
pub async fn ending(
    host: &dyn Transport,
    files: &str,
    offset: u64,
    since: Option<(Tracked<'_>, &Snapshot)>,
) -> Result<Option<Ended>, TransportError> {
    let (changes_part, sections) = match since {
        Some((at, before)) => (
            format!(
                "( \n{}) > \"$p.changes\" 2> \"$p.changes-err\"\necho \"changes $?\"\n",
                changes::since_script(at, before)
            ),
            r#""$p.err-tail" "$p.changes" "$p.changes-err""#,
        ),
        None => (String::new(), r#""$p.err-tail""#),
    };
    let script = format!(
        r#"p={files}
if [ -s "$p.exit" ]; then read -r s < "$p.exit"; echo "exit $s"
elif [ ! -e "$p.launched" ] && [ ! -s "$p.pid" ]; then echo absent; exit 0
else
  {{ read -r g < "$p.pid"; }} 2> /dev/null
  if [ -n "$g" ] && kill -0 "$g" 2> /dev/null && [ ! -s "$p.exit" ]; then echo running; exit 0; fi
  if [ -s "$p.exit" ]; then read -r s < "$p.exit"; echo "exit $s"; else echo vanished; fi
fi
umask 077
tail -c {tail} "$p.err" > "$p.err-tail" 2> /dev/null
{changes_part}stat -c %s {sections}
cat {sections}
tail -c +{start} "$p.out" 2> /dev/null
exit 0"#,
        files = quote_path(files),
        tail = STDERR_TAIL_BYTES,
        start = offset + 1,
    );
    let out = host.exec(&script, b"").await?;
    parse_ending(&out.stdout, since.is_some()).map_err(|e| {
        TransportError::Io(format!(
            "{}: unexpected answer reading the turn's end ({e}): {}",
            host.name(),
            out.stderr_text()
        ))
    })
}

/// Reads what the [`ending`] script printed: the status line, with changes a `changes STATUS`
/// line, one size line per section, the sections, then the rest of the output.
fn parse_ending(out: &[u8], with_changes: bool) -> Result<Option<Ended>, String> {
    let mut rest = out;
    let mut line = || -> Result<String, String> {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or("a line is missing")?;
        let line = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        Ok(line)
    };
    let status = match line()?.as_str() {
        "running" => return Ok(None),
        "absent" => {
            return Ok(Some(Ended {
                status: RemoteStatus::Absent,
                rest: Vec::new(),
                stderr_tail: String::new(),
                changes: None,
            }));
        }
        "vanished" => RemoteStatus::Vanished,
        other => other
            .strip_prefix("exit ")
            .and_then(|code| code.trim().parse().ok())
            .map_or(RemoteStatus::Vanished, RemoteStatus::Exited),
    };
    let changes_status = match with_changes {
        true => Some(line()?),
        false => None,
    };
    let count = if with_changes { 3 } else { 1 };
    let mut sizes = Vec::with_capacity(count);
    for _ in 0..count {
        let size: usize = line()?
            .trim()
            .parse()
            .map_err(|_| "a size is not a number")?;
        sizes.push(size);
    }
    let mut sections = Vec::with_capacity(count);
    for size in sizes {
        if rest.len() < size {
            return Err("a section is cut short".into());
        }
        let (section, after) = rest.split_at(size);
        sections.push(section);
        rest = after;
    }
    let changes = changes_status.map(|status| match status.as_str() {
        "changes 0" => changes::parse_since(sections[1]),
        _ => Err(ChangesError::Git(
            String::from_utf8_lossy(sections[2]).trim_end().to_owned(),
        )),
    });
    Ok(Some(Ended {
        status,
        rest: rest.to_vec(),
        stderr_tail: String::from_utf8_lossy(sections[0]).trim_end().to_owned(),
        changes,
    }))
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
  b=${{e%.exit}}; rm -f {leftovers}
done"#,
        turns = quote_path(&format!("{}/turns", state_dir.trim_end_matches('/'))),
        leftovers = SUFFIXES
            .iter()
            .map(|s| format!("\"$b.{s}\""))
            .collect::<Vec<_>>()
            .join(" "),
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
            baseline: Some(Tracked {
                dir: "~/work dir",
                index: "~/.sb/snapshots/x.index",
            }),
            scratch: None,
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
            baseline: None,
            scratch: None,
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
        let absent = ending(&host, &files, 0, None).await.unwrap().unwrap();
        assert_eq!(absent.status, RemoteStatus::Absent);

        let none = Launch::Started { baseline: None };
        assert_eq!(launch(&host, &spec).await.unwrap(), none);
        let again = Launch::AlreadyStarted { baseline: None };
        assert_eq!(launch(&host, &spec).await.unwrap(), again);
        let out = followed(&host, &files).await;
        let end = ending(&host, &files, 0, None).await.unwrap().unwrap();
        assert_eq!(end.status, RemoteStatus::Exited(0));
        assert_eq!(end.rest, b"line one\nline two hi 'there'\n$(id)");
        assert_eq!(end.stderr_tail, "");
        assert!(end.changes.is_none());
        assert!(
            end.rest.starts_with(&out),
            "followed output is a prefix of the file"
        );
        let from_nine = ending(&host, &files, 9, None).await.unwrap().unwrap();
        assert_eq!(from_nine.rest, b"line two hi 'there'\n$(id)");
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

    /// Everything a follow stream carries until it ends.
    async fn followed(host: &dyn Transport, files: &str) -> Vec<u8> {
        let mut stream = follow(host, files, 0).await.unwrap();
        let mut out = Vec::new();
        while let Some(event) = stream.recv().await {
            match event {
                StreamEvent::Stdout(bytes) => out.extend_from_slice(&bytes),
                StreamEvent::Exit(_) => break,
            }
        }
        out
    }

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// The launch takes the change baseline in the same exec, before the agent starts, and keeps
    /// it on the host: a relaunch (after a restart) gets that one back, not the workspace as the
    /// agent left it; the turn's end reads the changes and the agent's stderr in one exec.
    #[tokio::test]
    async fn the_baseline_comes_with_the_launch_and_the_changes_with_the_end() {
        use crate::runner::local::LocalTransport;
        let host = LocalTransport::new("local");
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        git(&work, &["init", "-q"]);
        std::fs::write(work.join("a.txt"), "one\n").unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-qm", "start"]);
        std::fs::write(work.join("draft.txt"), "before the turn\n").unwrap();
        let state = dir.path().join("state").display().to_string();
        let files = turn_files(&state, "t1");
        let workdir = work.display().to_string();
        let index = changes::snapshot_index(&state, &workdir);
        let tracked = Tracked {
            dir: &workdir,
            index: &index,
        };
        let invocation = Invocation {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "echo two >> a.txt; echo oops >&2; echo done".into(),
            ],
            env: vec![],
        };
        let spec = LaunchSpec {
            files: &files,
            workdir: &workdir,
            invocation: &invocation,
            prompt: b"go",
            baseline: Some(tracked),
            scratch: None,
        };
        let Launch::Started {
            baseline: Some(Baseline::Snapshot(before)),
        } = launch(&host, &spec).await.unwrap()
        else {
            panic!("no baseline");
        };
        followed(&host, &files).await;
        // Independently: the workspace before the agent, with the draft, without its edit.
        let head = git(&work, &["rev-parse", "HEAD"]).trim().to_owned();
        assert_eq!(before.head.as_deref(), Some(head.as_str()));
        let listed = git(&work, &["ls-tree", "-r", "--name-only", &before.tree]);
        assert_eq!(listed, "a.txt\ndraft.txt\n");
        let a = git(&work, &["show", &format!("{}:a.txt", before.tree)]);
        assert_eq!(a, "one\n");

        let again = launch(&host, &spec).await.unwrap();
        let stored = Launch::AlreadyStarted {
            baseline: Some(Baseline::Snapshot(before.clone())),
        };
        assert_eq!(again, stored);

        let end = ending(&host, &files, 0, Some((tracked, &before)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(end.status, RemoteStatus::Exited(0));
        assert_eq!(end.rest, b"done\n");
        assert_eq!(end.stderr_tail, "oops");
        let changes = end.changes.unwrap().unwrap();
        assert_eq!(changes.files.len(), 1, "{changes:#?}");
        assert_eq!(changes.files[0].path, "a.txt");
        assert_eq!(changes.files[0].lines, Some((1, 0)));
        assert!(changes.patch.contains("+two"), "{}", changes.patch);
    }

    /// Where nothing reaps orphans (a container whose PID 1 does not), the finished wrapper
    /// stays a zombie, which `tail --pid` takes for alive: following must still end, on the
    /// `.exit` file. Here this test process is the orphans' reaper, and it does not reap.
    #[tokio::test]
    async fn following_ends_on_the_exit_file_while_the_wrapper_stays_a_zombie() {
        use crate::runner::local::LocalTransport;
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only changes who inherits orphans.
        let set = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(set, 0, "prctl(PR_SET_CHILD_SUBREAPER)");
        let host = LocalTransport::new("local");
        let dir = tempfile::tempdir().unwrap();
        let files = turn_files(&dir.path().join("state").display().to_string(), "t1");
        let workdir = dir.path().join("work").display().to_string();
        let invocation = Invocation {
            argv: vec!["sh".into(), "-c".into(), "cat".into()],
            env: vec![],
        };
        let spec = LaunchSpec {
            files: &files,
            workdir: &workdir,
            invocation: &invocation,
            prompt: b"hello\n",
            baseline: None,
            scratch: None,
        };
        launch(&host, &spec).await.unwrap();
        let out = tokio::time::timeout(Duration::from_secs(30), followed(&host, &files))
            .await
            .expect("following did not end while the wrapper stayed a zombie");
        let pid: i32 = std::fs::read_to_string(format!("{files}.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        assert!(
            zombie
                .rsplit(')')
                .next()
                .unwrap()
                .trim_start()
                .starts_with('Z'),
            "the wrapper is a zombie: {zombie}"
        );
        let end = ending(&host, &files, out.len() as u64, None).await.unwrap();
        assert_eq!(end.unwrap().status, RemoteStatus::Exited(0));
        // SAFETY: reaps the zombie this test kept.
        unsafe {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        }
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
