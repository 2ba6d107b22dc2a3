//! The `switchboard` command line: `serve`, `check`, `hosts`, `migrate`, `sessions list|show`,
//! `audit`, `web-token`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use switchboard::check::hosts::HostDisks;
use switchboard::config::{Config, Env};
use switchboard::core::replies;
use switchboard::domain::ids::{SessionId, now_ms};
use switchboard::store::Store;

#[derive(Parser)]
#[command(
    version,
    about = "Drive coding agents on SSH workspace hosts from your chats"
)]
struct Cli {
    /// Configuration file (TOML). Without it, built-in defaults apply: SQLite in
    /// ./switchboard.db and the `local` host.
    #[arg(long, short, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot.
    Serve,
    /// Validate the configuration and try the database, every host and each configured platform
    /// (Telegram, Slack, Discord, GitHub), and say where the web console is.
    Check,
    /// Show each host: whether it answers, and each workspace under its workdir (sessions'
    /// directories, projects' shared clones) with its disk use, largest first.
    Hosts,
    /// Create or upgrade the database schema.
    Migrate,
    /// Inspect sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Print or export the audit trail: every finished turn and every refusal or rejected
    /// request, oldest first.
    Audit {
        /// From this day (YYYY-MM-DD, UTC) or time (RFC 3339) on. Default: everything.
        #[arg(long)]
        since: Option<String>,
        /// Only this platform user id's turns and refusals.
        #[arg(long)]
        user: Option<String>,
        /// JSON (an array of records) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make a sign-in token for someone to use the web console: prints the token to give them
    /// and the `[[web.users]]` entry (with only its hash) for the config.
    WebToken {
        /// The name they sign in as.
        name: String,
        /// Let them see and act on every session.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// List sessions, newest first.
    List {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Show one session (an id or a unique prefix) with its turns and their events.
    Show { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::from_process();
    init_logging(&env);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, env)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(env: &Env) {
    let filter = env.get("RUST_LOG").unwrap_or("info,sqlx=warn");
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(colour_logs(std::io::stderr().is_terminal(), env))
        .init();
}

/// Whether the log is coloured: only for a person at a terminal, and never when `NO_COLOR` is
/// set (<https://no-color.org>). journald, a file or a pipe get plain text.
fn colour_logs(stderr_is_terminal: bool, env: &Env) -> bool {
    stderr_is_terminal && env.get("NO_COLOR").is_none()
}

async fn run(cli: Cli, env: Env) -> Result<ExitCode> {
    // Every command but `web-token` needs the configuration; only `serve` and `check` the
    // platform secrets.
    let load = || Config::load(cli.config.as_deref(), &env);
    let settings = || Config::load_settings(cli.config.as_deref(), &env);
    match cli.command {
        Command::WebToken { name, admin } => {
            let (token, hash) = switchboard::web::auth::new_user_token();
            println!("token for {name} (give it to them; it is not stored anywhere): {token}\n");
            println!("[[web.users]]\nname = {name:?}\ntoken_sha256 = \"{hash}\"\nadmin = {admin}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => {
            let (config, secrets) = load()?;
            switchboard::app::serve(config, secrets).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            let (config, secrets) = load()?;
            let lines = switchboard::check::run(&config, &secrets).await;
            for line in &lines {
                println!("{}", line.render());
            }
            Ok(if lines.iter().any(|l| l.failed_check()) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Hosts => {
            let config = settings()?;
            let hosts = switchboard::check::hosts::read(&config).await?;
            print!("{}", hosts_report(&hosts));
            Ok(if hosts.iter().all(|h| h.answer.is_ok()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Migrate => {
            let config = settings()?;
            Store::open(&config.database.url, 1).await?;
            println!("the database schema is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { since, user, json } => {
            let config = settings()?;
            let since_ms = since
                .as_deref()
                .map(switchboard::audit::parse_since)
                .transpose()?
                .unwrap_or(0);
            let store = Store::open(&config.database.url, 2).await?;
            let entries = switchboard::audit::collect(&store, since_ms, user.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                let asked = switchboard::audit::Asked {
                    since: since.as_deref(),
                    user: user.as_deref(),
                };
                print!("{}", switchboard::audit::render_text(&entries, &asked));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sessions(command) => {
            let config = settings()?;
            let store = Store::open(&config.database.url, 2).await?;
            match command {
                SessionsCommand::List { limit } => list_sessions(&store, limit).await?,
                SessionsCommand::Show { id } => show_session(&store, &id).await?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn list_sessions(store: &Store, limit: i64) -> Result<()> {
    let sessions = store.all_sessions(limit).await?;
    if sessions.is_empty() {
        println!("no sessions yet");
        return Ok(());
    }
    let mut rows = vec![
        [
            "SESSION",
            "PLATFORM",
            "THREAD",
            "HOST",
            "TURNS",
            "STATE",
            "COST",
            "LAST ACTIVE",
        ]
        .map(str::to_owned),
    ];
    for summary in sessions {
        let s = &summary.session;
        let state = if summary.running > 0 {
            "running".to_owned()
        } else if summary.queued > 0 {
            format!("{} queued", summary.queued)
        } else if s.active {
            "idle".to_owned()
        } else {
            "retired".to_owned()
        };
        let idle_for = Duration::from_millis((now_ms() - s.updated_at).max(0) as u64);
        rows.push([
            s.id.to_string(),
            s.thread.platform.to_string(),
            s.thread.key(),
            s.host.clone(),
            summary.turns.to_string(),
            state,
            replies::cost(s.total_cost_usd),
            format!("{} ago", replies::duration(idle_for)),
        ]);
    }
    print!(
        "{}",
        table(
            &rows,
            &[
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Left,
                Align::Right,
                Align::Left
            ]
        )
    );
    Ok(())
}

/// `switchboard hosts`: a line per host, then its workspaces as an indented table (a session's
/// directory named by its session's tag, the end of its id that also names its branch).
fn hosts_report(hosts: &[HostDisks]) -> String {
    let mut out = String::new();
    for host in hosts {
        let answer = match &host.answer {
            Ok(latency) => format!("reachable in {} ms", latency.as_millis()),
            Err(why) => format!("unreachable: {why}"),
        };
        let total: u64 = host.workspaces.iter().map(|w| w.kib).sum();
        let workspaces = match host.workspaces.len() {
            _ if host.answer.is_err() => String::new(),
            0 => ", no workspaces".to_owned(),
            n => format!(", {n} workspace(s), {} in all", replies::disk(total)),
        };
        out.push_str(&format!(
            "host {} (workdir {}): {answer}{workspaces}\n",
            host.name, host.workdir
        ));
        if host.workspaces.is_empty() {
            continue;
        }
        let mut rows = vec![["WORKSPACE", "DISK", "SESSION"].map(str::to_owned)];
        for workspace in &host.workspaces {
            let session = workspace
                .session()
                .map(|id| SessionId::from_string(id.to_owned()).tag().to_owned());
            rows.push([
                workspace.path.clone(),
                replies::disk(workspace.kib),
                session.unwrap_or_default(),
            ]);
        }
        let text = table(&rows, &[Align::Left, Align::Right, Align::Left]);
        for line in text.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// Rows as text columns, each as wide as its widest cell (a thread key's length depends on the
/// platform: a web console thread's is a user name and a UUID), two blanks apart; the last
/// column is not padded.
fn table<const N: usize>(rows: &[[String; N]], align: &[Align; N]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column > 0 {
                line.push_str("  ");
            }
            let width = widths[column];
            match align[column] {
                _ if column == N - 1 => line.push_str(cell),
                Align::Left => line.push_str(&format!("{cell:<width$}")),
                Align::Right => line.push_str(&format!("{cell:>width$}")),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

async fn show_session(store: &Store, id: &str) -> Result<()> {
    let session = match store
        .session(&SessionId::from_string(id.to_owned()))
        .await?
    {
        Some(session) => session,
        None => {
            let mut found = store.sessions_by_prefix(id).await?;
            match found.len() {
                0 => bail!("no session {id:?}"),
                1 => found.remove(0),
                _ => bail!("{id:?} matches several sessions; give more of the id"),
            }
        }
    };
    println!("session     {}", session.id);
    println!(
        "thread      {} {}",
        session.thread.platform,
        session.thread.key()
    );
    println!("host        {} (workdir {})", session.host, session.workdir);
    println!(
        "agent       {} {}",
        session.agent,
        session
            .agent_session_id
            .as_deref()
            .unwrap_or("(no conversation yet)")
    );
    println!(
        "state       {}",
        if session.active {
            "current for its thread"
        } else {
            "retired"
        }
    );
    println!("total cost  {}", replies::cost(session.total_cost_usd));
    for turn in store.session_turns(&session.id).await? {
        println!();
        let outcome = turn.outcome.as_ref().map(|o| o.name()).unwrap_or("-");
        println!(
            "turn {}  {}  outcome {}  by {}  {}  {}",
            turn.id,
            turn.state.as_str(),
            outcome,
            turn.author_name,
            turn.duration_ms
                .map(|ms| replies::duration(Duration::from_millis(ms.max(0) as u64)))
                .unwrap_or_default(),
            turn.cost_usd.map(replies::cost).unwrap_or_default(),
        );
        println!("  prompt: {}", first_line(&turn.prompt));
        for event in store.turn_events(&turn.id).await? {
            let json = serde_json::to_string(&event.event).context("an event")?;
            println!("  @{:<8} {}", event.seq, first_line(&json));
        }
    }
    Ok(())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(159).collect::<String>())
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_coloured_only_at_a_terminal_without_no_color() {
        let plain = Env::from_pairs([("PATH", "/bin")]);
        let no_color = Env::from_pairs([("NO_COLOR", "1")]);
        assert!(colour_logs(true, &plain));
        assert!(!colour_logs(false, &plain));
        assert!(!colour_logs(true, &no_color));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(colour_logs(true, &Env::from_pairs([("NO_COLOR", "")])));
    }

    #[test]
    fn hosts_are_reported_with_their_workspaces_largest_first() {
        use switchboard::runner::workspace_disk::WorkspaceDisk;
        let disk = |path: &str, kib| WorkspaceDisk {
            path: path.to_owned(),
            kib,
        };
        let hosts = [
            HostDisks {
                name: "devbox".into(),
                workdir: "~/work".into(),
                answer: Ok(Duration::from_millis(12)),
                workspaces: vec![
                    disk("projects/web/clone", 2048),
                    disk("scratch/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 24),
                ],
            },
            HostDisks {
                name: "far".into(),
                workdir: "/srv".into(),
                answer: Err("connection refused".into()),
                workspaces: Vec::new(),
            },
        ];
        assert_eq!(
            hosts_report(&hosts),
            "host devbox (workdir ~/work): reachable in 12 ms, 2 workspace(s), 2.0 MB in all\n\
             \x20 WORKSPACE                                       DISK  SESSION\n\
             \x20 projects/web/clone                            2.0 MB\n\
             \x20 scratch/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b   24 KB  0c1d2e3f4a5b\n\
             host far (workdir /srv): unreachable: connection refused\n"
        );
    }

    #[test]
    fn table_columns_are_as_wide_as_their_widest_cell() {
        let rows = [
            ["A", "THREAD", "N", "LAST"].map(str::to_owned),
            [
                "x",
                "admin/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                "12",
                "now",
            ]
            .map(str::to_owned),
            ["y", "1001", "3", "1m ago"].map(str::to_owned),
        ];
        let text = table(
            &rows,
            &[Align::Left, Align::Left, Align::Right, Align::Left],
        );
        assert_eq!(
            text,
            "A  THREAD                                       N  LAST\n\
             x  admin/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b  12  now\n\
             y  1001                                         3  1m ago\n"
        );
    }
}
