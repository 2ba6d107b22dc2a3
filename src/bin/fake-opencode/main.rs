//! `fake-opencode`: the project's test double of the `opencode run --format json` CLI.
//!
//! Tests install it on real SSH hosts in place of `opencode`, so Switchboard runs exactly its
//! production code for an OpenCode turn. It shares the script engine with fake-claude and
//! fake-codex (the modules under `src/bin/fake-agent/`: **the prompt is the script**, `@fake`
//! directives, the work a tool does, the test recording); what is OpenCode's own is here:
//!
//! - the command line (`cli.rs`): `run --format json [--session ID] [--title T] [-m M]
//!   [--agent A] [--auto] [MESSAGE…]`, the prompt on stdin (after any message words, as
//!   measured);
//! - the output lines (`lines.rs`): captured sample lines with values replaced;
//! - sessions on disk (`store.rs`): one file per session under `$XDG_DATA_HOME/opencode`;
//!   `--session` of an unknown id prints the measured coloured `Error: Session not found` on
//!   stderr and exits 1, nothing on stdout;
//! - how each directive prints (`run.rs`), and signals as measured: none is handled, so SIGINT
//!   and SIGTERM kill the fake the way they kill the real CLI.
//!
//! Directives mean what they mean for fake-claude (src/bin/fake-claude/main.rs) with OpenCode's
//! parts: a tool call is a finished `tool_use` line ending its step (`bash` for the shell-like
//! directives, `write` for `write`), `text` a text part, the answer a last step ending `stop`;
//! `api-error`/`connection-refused` one `error` line and exit 1, `permission-denied` a call a
//! `deny` rule refused (the agent goes on); `max-turns` has no OpenCode equivalent (exit 2). The
//! default answer is `Echo #<K>: <first prompt line>`, K the turn in its session.
//!
//! Environment: `XDG_DATA_HOME` (default `$HOME/.local/share`), `FAKE_OPENCODE_RECORD_DIR` (the
//! same recording as fake-claude's).

mod cli;
mod lines;
#[path = "../fake-agent/record.rs"]
mod record;
mod run;
#[path = "../fake-agent/script.rs"]
mod script;
mod store;
#[path = "../fake-agent/transcript.rs"]
mod transcript;
// Shared with fake-claude, which edits more of its templates than this fake does.
#[allow(dead_code)]
#[path = "../fake-agent/tree.rs"]
mod tree;
#[path = "../fake-agent/work.rs"]
mod work;

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use record::{Record, print_raw};
use transcript::Transcript;

fn main() {
    record::run_recorded("FAKE_OPENCODE_RECORD_DIR", fake_opencode)
}

fn fake_opencode(started_at_ns: u128, record_dir: Option<&Path>) -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match cli::parse(argv.iter().skip(1).cloned().collect()) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return 2;
        }
    };
    if args.version {
        print_raw(format!("{}\n", lines::VERSION).as_bytes());
        return 0;
    }
    if !args.run || !args.json {
        eprintln!("fake-opencode: only `opencode run --format json` is supported");
        return 2;
    }
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        eprintln!("fake-opencode: cannot read stdin: {e}");
        return 1;
    }
    let prompt = joined_prompt(&args.message, stdin);
    if prompt.iter().all(u8::is_ascii_whitespace) {
        eprintln!("{}", lines::NO_MESSAGE);
        return 1;
    }
    let data_home = record::var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            record::var("HOME")
                .map_or_else(|| PathBuf::from("/"), PathBuf::from)
                .join(".local/share")
        });
    let (session_id, path, resumed) = match &args.session {
        Some(id) => match store::find(&data_home, id) {
            Some(path) => (id.clone(), path, true),
            None => {
                eprintln!("{}", lines::SESSION_NOT_FOUND);
                return 1;
            }
        },
        None => {
            let id = store::new_id();
            let path = store::dir(&data_home).join(format!("{id}.jsonl"));
            (id, path, false)
        }
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    if let Some(dir) = record_dir {
        let argv = record::argv_text(&argv);
        let record = Record {
            dir,
            started_at_ns,
            argv: &argv,
            cwd: &cwd,
            session_id: &session_id,
            resumed,
            prompt: &prompt,
        };
        if let Err(e) = record::write_record(&record) {
            eprintln!(
                "fake-opencode: cannot write the record in {}: {e}",
                dir.display()
            );
        }
    }
    let text = String::from_utf8_lossy(&prompt);
    let script = match script::parse(&text) {
        Ok(script) => script,
        Err(e) => {
            eprintln!("fake-opencode: bad @fake directive: {e}");
            return 2;
        }
    };
    let turn = transcript::turns(&path) + 1;
    let mut session = Transcript::open(&path);
    session.append_prompt(&text, &cwd, turn);
    let config = run::Config {
        session_id,
        cwd,
        prompt_len: prompt.len(),
        turn,
    };
    run::Runner::new(config, session).run(script)
}

/// The message as the real CLI builds it (measured): message words given as arguments,
/// JSON-quoted, then a newline and stdin; stdin alone when there are none.
fn joined_prompt(words: &[String], stdin: Vec<u8>) -> Vec<u8> {
    if words.is_empty() {
        return stdin;
    }
    let mut prompt = serde_json::Value::from(words.join(" "))
        .to_string()
        .into_bytes();
    prompt.push(b'\n');
    prompt.extend(stdin);
    prompt
}
