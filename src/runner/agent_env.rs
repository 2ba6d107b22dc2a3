//! The environment an agent runs with, and how its configured values reach it unseen.
//!
//! An agent runs what people wrote (a GitHub issue can ask it to print its environment), so it
//! never inherits anything: on the `local` host the bot's own environment holds every platform
//! token and the database URL. The agent (and its `--version` probe) starts under `env -i` with
//! only [`BASICS`], copied from the shell that launches it, plus exactly the variables its
//! configuration names (`agents.claude.env`, `hosts.NAME.agents.claude.env`).
//!
//! Configured values can be secrets (a model API key), so they never appear in a process's
//! arguments — anyone on the host can read those (`ps`, `/proc/PID/cmdline`) — nor on disk. They
//! travel on the command's stdin as `sh` assignment lines ([`AgentEnv`], values quoted by
//! [`quote`]), are read there by shell builtins, and are piped by the builtin `printf` into the
//! agent's shell, which evaluates them with `set -a` ([`EXPORT_STDIN`]): only the agent's own
//! environment carries them. Variable names are plain identifiers (the config validates them).

use super::shell::quote;

/// The host's variables an agent keeps, when set: who and where it is (`PATH`, `HOME`, `USER`,
/// `LOGNAME`, `SHELL`, `TMPDIR`) and how to write text and times (`LANG`, `LC_ALL`, `TZ`).
/// None of them is a secret. Every command the `local` host runs gets only these, too.
pub const BASICS: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "LANG", "LC_ALL", "TZ",
];

/// A shell snippet: reads stdin to its end as assignment lines and exports them. Its variables
/// are prefixed `sb_` so that they do not clobber a configured one.
pub const EXPORT_STDIN: &str = r#"sb_env=
while IFS= read -r sb_line; do sb_env="$sb_env$sb_line
"; done
set -a; eval "$sb_env"; set +a"#;

/// `env -i` with each of [`BASICS`] that the running shell has: the prefix that starts a
/// command with a clean environment.
pub fn clean_env() -> String {
    let mut words = vec!["env -i".to_owned()];
    words.extend(
        BASICS
            .iter()
            .map(|name| format!("${{{name}+\"{name}=${name}\"}}")),
    );
    words.join(" ")
}

/// [`BASICS`] as this process has them (for commands the `local` host runs).
pub fn basics_of_this_process() -> impl Iterator<Item = (&'static str, std::ffi::OsString)> {
    BASICS
        .iter()
        .filter_map(|name| std::env::var_os(name).map(|value| (*name, value)))
}

/// An agent's configured variables as `sh` assignment lines, one `NAME='value'` each.
#[derive(Clone, PartialEq, Eq)]
pub struct AgentEnv {
    text: String,
}

impl AgentEnv {
    pub fn new(vars: &[(String, String)]) -> AgentEnv {
        let text = vars
            .iter()
            .map(|(name, value)| format!("{name}={}\n", quote(value)))
            .collect();
        AgentEnv { text }
    }

    /// The bytes to send on stdin.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// How many lines a reader must take (a value may hold newlines).
    pub fn line_count(&self) -> usize {
        self.text.matches('\n').count()
    }

    /// A shell snippet reading exactly these lines from stdin (byte by byte, so what follows
    /// stays unread) into `$sb_env`, for `printf '%s' "$sb_env"` to pass on; exits with
    /// `truncated` when stdin ends first.
    pub fn read_script(&self, truncated: u32) -> String {
        format!(
            r#"sb_env=; i=0
while [ $i -lt {lines} ]; do
  IFS= read -r sb_line || exit {truncated}
  sb_env="$sb_env$sb_line
"; i=$((i+1))
done"#,
            lines = self.line_count()
        )
    }
}

/// Values may be secrets: they are never printed.
impl std::fmt::Debug for AgentEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgentEnv({} lines)", self.line_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Runs `script` under a real `sh` with `stdin`, in an environment of `env` only: its exit
    /// status and stdout.
    fn sh(script: &str, stdin: &[u8], env: &[(&str, &str)]) -> (i32, String) {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        let status = out.status.code().expect("an exit status");
        (status, String::from_utf8(out.stdout).unwrap())
    }

    #[test]
    fn hostile_values_are_exported_byte_exact_and_never_run() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pwned");
        let hostile = format!(
            "it's $(touch {m}) `touch {m}`; touch {m}\nsecond line\\ \"q\" $HOME",
            m = marker.display()
        );
        let env = AgentEnv::new(&[
            ("HOSTILE".into(), hostile.clone()),
            ("EMPTY".into(), String::new()),
        ]);
        assert_eq!(env.line_count(), 3);
        let out = sh(
            &format!("{EXPORT_STDIN}\nprintf '%s|%s' \"$HOSTILE\" \"${{EMPTY-unset}}\""),
            env.as_bytes(),
            &[("PATH", "/usr/bin:/bin")],
        );
        assert_eq!(out, (0, format!("{hostile}|")));
        assert!(!marker.exists(), "a value was run as a command");
        assert!(!format!("{env:?}").contains("second"), "{env:?}");
    }

    #[test]
    fn the_reader_takes_exactly_the_variables_and_leaves_the_rest() {
        let env = AgentEnv::new(&[("A".into(), "one\ntwo".into()), ("B".into(), "it's".into())]);
        let mut input = env.as_bytes().to_vec();
        input.extend_from_slice(b"the prompt\n");
        let script = format!(
            "{}\nprintf '%s' \"$sb_env\"; echo '|'; cat",
            env.read_script(4)
        );
        let out = sh(&script, &input, &[("PATH", "/usr/bin:/bin")]);
        let whole = String::from_utf8_lossy(env.as_bytes());
        assert_eq!(out, (0, format!("{whole}|\nthe prompt\n")));
        let cut = sh(
            &format!("{}\necho read", env.read_script(4)),
            &input[..5],
            &[("PATH", "/usr/bin:/bin")],
        );
        assert_eq!(
            cut,
            (4, String::new()),
            "a cut input exits before anything else"
        );
    }

    #[test]
    fn the_clean_env_keeps_only_the_basics_that_are_set() {
        let (_, out) = sh(
            &format!("{} /usr/bin/env", clean_env()),
            b"",
            &[
                ("PATH", "/usr/bin:/bin"),
                ("HOME", "/home/a b"),
                ("TELEGRAM_BOT_TOKEN", "123:secret"),
            ],
        );
        let mut vars: Vec<&str> = out.lines().collect();
        vars.sort();
        assert_eq!(vars, ["HOME=/home/a b", "PATH=/usr/bin:/bin"]);
    }
}
