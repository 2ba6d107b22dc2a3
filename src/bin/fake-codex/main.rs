//! `fake-codex`: the project's test double of the `codex exec --json` CLI.
//!
//! Tests install it on real SSH hosts in place of `codex`, so Switchboard runs exactly its
//! production code for a Codex turn. It shares the script engine with fake-claude (the modules
//! under `src/bin/fake-agent/`: **the prompt is the script**, `@fake` directives, signals, the
//! work a tool does, the test recording); what is Codex's own is here and small:
//!
//! - the command line (`cli.rs`): `exec --json … [resume THREAD_ID] [-|PROMPT]`, prompt on stdin
//!   for `-` or none, clap's errors for anything else;
//! - the output lines (`lines.rs`): captured sample lines with values replaced;
//! - threads on disk (`rollout.rs`): `$CODEX_HOME/sessions/…/rollout-<ts>-<thread_id>.jsonl`,
//!   `CODEX_HOME` defaulting to `$HOME/.codex`; resuming an unknown id prints the measured
//!   stderr and exits 1;
//! - how each directive prints (`run.rs`), and the measured signal exits (SIGINT 1, SIGTERM 143,
//!   SIGHUP 129, nothing printed after).
//!
//! Directives mean what they mean for fake-claude (src/bin/fake-claude/main.rs) with Codex's
//! items: Bash-like steps are `command_execution` items, `write` a `file_change`, `text` and the
//! answer `agent_message`s, `api-error`/`connection-refused` the `error` + `turn.failed` pair,
//! `permission-denied` a command the sandbox made fail; `max-turns` has no Codex equivalent
//! (exit 2). The default answer is `Echo #<K>: <first prompt line>`, K the turn in its thread.
//!
//! Environment: `CODEX_HOME`, `FAKE_CODEX_RECORD_DIR` (the same recording as fake-claude's).

mod cli;
mod lines;
#[path = "../fake-agent/record.rs"]
mod record;
mod rollout;
mod run;
#[path = "../fake-agent/script.rs"]
mod script;
#[path = "../fake-agent/signals.rs"]
mod signals;
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

const NO_PROMPT: &str = "No prompt provided via stdin.";

fn main() {
    record::run_recorded("FAKE_CODEX_RECORD_DIR", fake_codex)
}

fn fake_codex(started_at_ns: u128, record_dir: Option<&Path>) -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match cli::parse(argv.iter().skip(1).cloned().collect()) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return 2;
        }
    };
    if args.version {
        print_raw(format!("codex-cli {}\n", lines::VERSION).as_bytes());
        return 0;
    }
    if !args.exec || !args.json {
        eprintln!("fake-codex: only `codex exec --json` is supported");
        return 2;
    }
    let prompt = match args.prompt.as_deref() {
        Some(prompt) if prompt != b"-" => prompt.to_vec(),
        _ => {
            let mut bytes = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
                eprintln!("fake-codex: cannot read stdin: {e}");
                return 1;
            }
            bytes
        }
    };
    if prompt.iter().all(u8::is_ascii_whitespace) {
        eprintln!("{NO_PROMPT}");
        return 1;
    }
    let home = record::var("CODEX_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            record::var("HOME")
                .map_or_else(|| PathBuf::from("/"), PathBuf::from)
                .join(".codex")
        });
    let (thread_id, path, resumed) = match &args.resume {
        Some(id) => match rollout::find(&home, id) {
            Some(path) => (id.clone(), path, true),
            None => {
                eprintln!(
                    "Error: thread/resume: thread/resume failed: no rollout found for thread id \
                     {id} (code -32600)"
                );
                return 1;
            }
        },
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            let path = rollout::new_path(&home, &id);
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
            session_id: &thread_id,
            resumed,
            prompt: &prompt,
        };
        if let Err(e) = record::write_record(&record) {
            eprintln!(
                "fake-codex: cannot write the record in {}: {e}",
                dir.display()
            );
        }
    }
    let text = String::from_utf8_lossy(&prompt);
    let script = match script::parse(&text) {
        Ok(script) => script,
        Err(e) => {
            eprintln!("fake-codex: bad @fake directive: {e}");
            return 2;
        }
    };
    let turn = transcript::turns(&path) + 1;
    let mut transcript = Transcript::open(&path);
    transcript.append_prompt(&text, &cwd, turn);
    let config = run::Config {
        thread_id,
        cwd,
        prompt_len: prompt.len(),
        turn,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fake-codex: cannot start the runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        match signals::Signals::install() {
            Ok(signals) => {
                run::Runner::new(config, signals, transcript)
                    .run(script)
                    .await
            }
            Err(e) => {
                eprintln!("fake-codex: cannot install signal handlers: {e}");
                1
            }
        }
    })
}
