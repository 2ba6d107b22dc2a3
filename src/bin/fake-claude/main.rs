//! `fake-claude`: the project's test double of the `claude` CLI in headless mode.
//!
//! Tests and benchmarks install it on real SSH hosts in place of `claude`, so Switchboard runs
//! exactly the code it runs in production: the same command line, the same stream parsing, the
//! same resume and cancel logic. For that to prove anything the fake must be indistinguishable
//! on every point the project measured (shared/agent-cli/README.md):
//!
//! - **Shapes**: every line is a captured sample line with values replaced (`lines.rs`), so keys,
//!   nesting, value kinds and line order per situation are the real ones.
//! - **Exit codes, stderr texts, signals** as measured: `--resume` of an unknown id, the
//!   stream-json/`--verbose` rule, the root check, SIGINT/SIGTERM/SIGHUP (`run.rs`).
//! - **Sessions on disk** where the real CLI keeps them, resumable from any cwd, with a
//!   cumulative `total_cost_usd` (`session.rs`).
//!
//! Tests can only talk to the agent through a chat, so **the prompt is the script**
//! (`../fake-agent/script.rs`, shared with fake-codex and fake-opencode like the other modules
//! there). A line `@fake <directive> [args]` (leading whitespace allowed) is a directive;
//! directives run in order, other lines are prompt text, and a run without a directive that ends
//! it answers successfully:
//!
//! | directive | effect |
//! |---|---|
//! | `sleep SECS` | wait as if on the API; SIGINT → `[Request interrupted by user]`, exit 0, no result |
//! | `wait-for PATH` | wait as `sleep` does until PATH (relative to the cwd) exists; after 120 s stderr and exit 3 |
//! | `tool-sleep SECS` | Bash tool_use `sleep SECS` that really sleeps; SIGINT → rejected tool + `aborted_tools` result (exit 0); SIGTERM/SIGHUP → killed-task lines, exit 143/129 |
//! | `tool NAME JSON` | tool_use with that input, result `(NAME completed with no output)`, nothing run |
//! | `write PATH TEXT…` | Write tool_use; really writes PATH (relative to the cwd, `\n` escapes) |
//! | `commit MESSAGE…` | Bash tool_use; really commits everything in the cwd's Git repository |
//! | `mv FROM TO`, `rm PATH` | Bash tool_use; really moves or removes the file (no shell) |
//! | `write-base64 PATH DATA` | Bash tool_use; really writes the decoded bytes to PATH (images) |
//! | `text TEXT…` | an intermediate assistant text block |
//! | `text-bytes N` | an intermediate text block of about N bytes (one long output line) |
//! | `answer TEXT…` | the final answer (`\n` escapes) |
//! | `answer-follows` | every later prompt line, verbatim, is the final answer |
//! | `answer-bytes N` | a deterministic Markdown answer of about N bytes |
//! | `api-error STATUS` | two `api_retry` lines, synthetic assistant, `api_error` result, exit 1 |
//! | `connection-refused` | the same with no HTTP status (`api_error_status: null`), exit 1 |
//! | `max-turns` | `error_max_turns` result like `max-turns-1.stream.jsonl`, exit 1 |
//! | `permission-denied TOOL [JSON]` | tool_use, `permission_denied` line, error tool result, denial in the result; exit 0 |
//! | `stderr TEXT…` | TEXT on stderr |
//! | `crash CODE` | exit CODE at once, no result |
//!
//! The default answer is `Echo #<K>: <first prompt line>`, K being the run's turn number in its
//! session, so a test sees that `--resume` continued the conversation.
//!
//! Environment: `CLAUDE_CONFIG_DIR` (default `$HOME/.claude`), `IS_SANDBOX`,
//! `FAKE_CLAUDE_LINE_DELAY_MS` (pause between lines), `FAKE_CLAUDE_RECORD_DIR` (write what
//! reached the agent: `<started_at_ns>-<pid>.json` with argv, cwd, session and
//! `<same>.prompt` with the exact stdin bytes, before any output, and `<same>.exited` with the
//! nanosecond it exits at). All of it is read here, once (the record dir again at exit).
//!
//! Start-up is kept short because benchmarks time it: no runtime until the arguments are valid,
//! a current-thread runtime, and only the sample lines a run needs are parsed.

mod cli;
mod lines;
#[path = "../fake-agent/record.rs"]
mod record;
mod run;
#[path = "../fake-agent/script.rs"]
mod script;
mod session;
#[path = "../fake-agent/signals.rs"]
mod signals;
#[path = "../fake-agent/transcript.rs"]
mod transcript;
#[path = "../fake-agent/tree.rs"]
mod tree;
#[path = "../fake-agent/work.rs"]
mod work;

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cli::{Args, Format};
use lines::{Ctx, InitInfo, Outcome, Stats};
use record::{Record, print_raw};
use session::History;
use transcript::Transcript;
use tree::Node;

const DEFAULT_MODEL: &str = "claude-opus-5-5";
const ROOT_REFUSED: &str =
    "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons";
const NEEDS_VERBOSE: &str =
    "Error: When using --print, --output-format=stream-json requires --verbose";
const NO_INPUT: &str =
    "Error: Input must be provided either through stdin or as a prompt argument when using --print";

fn main() {
    let started = Instant::now();
    // Its record directory is read with the rest of its environment (`Env`).
    record::run_recorded("FAKE_CLAUDE_RECORD_DIR", |started_at_ns, _| {
        fake_claude(started_at_ns, started)
    })
}

/// The environment, read once.
struct Env {
    config_dir: PathBuf,
    is_sandbox: bool,
    record_dir: Option<PathBuf>,
    line_delay: Duration,
}

impl Env {
    fn read() -> Env {
        let var = record::var;
        let config_dir = var("CLAUDE_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                var("HOME")
                    .map_or_else(|| PathBuf::from("/"), PathBuf::from)
                    .join(".claude")
            });
        let line_delay_ms = var("FAKE_CLAUDE_LINE_DELAY_MS")
            .and_then(|v| v.to_str().and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0);
        Env {
            config_dir,
            is_sandbox: var("IS_SANDBOX").is_some_and(|v| v == "1"),
            record_dir: var("FAKE_CLAUDE_RECORD_DIR").map(PathBuf::from),
            line_delay: Duration::from_millis(line_delay_ms),
        }
    }
}

fn fake_claude(started_at_ns: u128, started: Instant) -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match cli::parse(argv.iter().skip(1).cloned().collect()) {
        Ok(args) => args,
        Err(message) => return fail(&message),
    };
    if args.help {
        print_raw(cli::HELP.as_bytes());
        return 0;
    }
    if args.version {
        print_raw(format!("{} (Claude Code)\n", lines::VERSION).as_bytes());
        return 0;
    }
    if !args.print {
        return fail("fake-claude: only print mode (-p) is supported");
    }
    let format = args.format.unwrap_or(Format::Text);
    if format == Format::StreamJson && !args.verbose {
        return fail(NEEDS_VERBOSE);
    }
    let env = Env::read();
    let permission_mode = match (&args.permission_mode, args.skip_permissions) {
        (_, true) => "bypassPermissions",
        (Some(mode), false) => mode.as_str(),
        (None, false) => "default",
    };
    let bypass = permission_mode == "bypassPermissions";
    if bypass && effective_uid() == Some(0) && !env.is_sandbox {
        return fail(ROOT_REFUSED);
    }
    let prompt = match &args.prompt {
        Some(prompt) => prompt.clone(),
        None => {
            let mut bytes = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
                return fail(&format!("Error: cannot read stdin: {e}"));
            }
            bytes
        }
    };
    if prompt.is_empty() {
        return fail(NO_INPUT);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let session = resolve_session(&args, &env.config_dir, &cwd);

    if let Some(dir) = &env.record_dir {
        let argv = record::argv_text(&argv);
        let record = Record {
            dir,
            started_at_ns,
            argv: &argv,
            cwd: &cwd,
            session_id: session.id(),
            resumed: matches!(session, Session::Resumed { .. }),
            prompt: &prompt,
        };
        if let Err(e) = record::write_record(&record) {
            eprintln!(
                "fake-claude: cannot write the record in {}: {e}",
                dir.display()
            );
        }
    }

    let model = args
        .model
        .clone()
        .unwrap_or_else(|| DEFAULT_MODEL.to_owned());
    let ctx = Ctx {
        session_id: session.id().to_owned(),
        model,
        bypass,
    };
    let (transcript_path, resumed) = match session {
        Session::New { path, .. } => (path, false),
        Session::Resumed { path, .. } => (path, true),
        Session::Unknown(id) => return unknown_session(&ctx, &id, format),
        Session::InUse(id) => return fail(&format!("Error: Session ID {id} is already in use.")),
        Session::Invalid(_) => return fail("Error: Invalid session ID. Must be a valid UUID."),
    };

    let text = String::from_utf8_lossy(&prompt);
    let script = match script::parse(&text) {
        Ok(script) => script,
        Err(e) => {
            eprintln!("fake-claude: bad @fake directive: {e}");
            return 2;
        }
    };
    let history = if resumed {
        session::read_history(&transcript_path)
    } else {
        History::default()
    };
    let turn = history.turns + 1;

    let cwd_text = cwd.to_string_lossy();
    let project_dir = env
        .config_dir
        .join("projects")
        .join(session::project_dir_name(&cwd));
    let memory_dir = format!("{}/", project_dir.join("memory").display());
    let init = lines::init(
        &ctx,
        &InitInfo {
            cwd: &cwd_text,
            permission_mode,
            memory_dir: &memory_dir,
            disallowed_tools: &args.disallowed_tools,
        },
    );
    let mut transcript = Transcript::open(&transcript_path);
    // The prompt as the transcript keeps it; `fake_turn` is how a resumed run counts turns.
    let prompt_line = Node::obj([
        ("type", "user".into()),
        (
            "message",
            Node::obj([("role", "user".into()), ("content", text.as_ref().into())]),
        ),
        ("session_id", ctx.session_id.as_str().into()),
        ("uuid", uuid::Uuid::new_v4().to_string().into()),
        ("timestamp", lines::timestamp().into()),
        ("cwd", cwd_text.as_ref().into()),
        ("fake_turn", turn.into()),
    ]);
    transcript.append(&prompt_line.to_json());

    let config = run::Config {
        ctx,
        format,
        partial: args.include_partial_messages,
        line_delay: env.line_delay,
        max_turns: args.max_turns,
        started,
        cwd: cwd.clone(),
        prompt_len: prompt.len(),
        turn,
        history,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("fake-claude: cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let signals = match signals::Signals::install() {
            Ok(signals) => signals,
            Err(e) => return fail(&format!("fake-claude: cannot install signal handlers: {e}")),
        };
        run::Runner::new(config, signals, transcript)
            .run(init, script)
            .await
    })
}

fn fail(message: &str) -> i32 {
    eprintln!("{message}");
    1
}

enum Session {
    New { id: String, path: PathBuf },
    Resumed { id: String, path: PathBuf },
    Unknown(String),
    InUse(String),
    Invalid(String),
}

impl Session {
    fn id(&self) -> &str {
        match self {
            Session::New { id, .. } | Session::Resumed { id, .. } => id,
            Session::Unknown(id) | Session::InUse(id) | Session::Invalid(id) => id,
        }
    }
}

fn resolve_session(args: &Args, config_dir: &Path, cwd: &Path) -> Session {
    if let Some(id) = &args.resume {
        return match session::find_transcript(config_dir, id) {
            Some(path) => Session::Resumed {
                id: id.clone(),
                path,
            },
            None => Session::Unknown(id.clone()),
        };
    }
    let id = match &args.session_id {
        Some(id) if uuid::Uuid::try_parse(id).is_err() => return Session::Invalid(id.clone()),
        Some(id) if session::find_transcript(config_dir, id).is_some() => {
            return Session::InUse(id.clone());
        }
        Some(id) => id.clone(),
        None => run::new_session_id(),
    };
    let path = config_dir
        .join("projects")
        .join(session::project_dir_name(cwd))
        .join(format!("{id}.jsonl"));
    Session::New { id, path }
}

/// `--resume` of an id with no transcript: one result line, the message on stderr, exit 1.
fn unknown_session(ctx: &Ctx, id: &str, format: Format) -> i32 {
    let stats = Stats {
        duration_ms: 0,
        duration_api_ms: 0,
        ttft_ms: None,
        num_turns: 0,
        run: Default::default(),
        model: &ctx.model,
        session_models: &[],
        total_cost_micro_usd: 0,
        permission_denials: &[],
        message_ids: &[],
    };
    if format != Format::Text {
        let node = lines::result(ctx, &Outcome::UnknownResume, &stats, format, false);
        print_raw(format!("{}\n", node.to_json()).as_bytes());
    }
    fail(&format!("No conversation found with session ID: {id}"))
}

/// The effective uid, from the `Uid:` line of /proc/self/status (real, effective, saved, fs).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}
