//! The command line and the log as a new user meets them: `check --help`, what `check` says of a
//! wrong duration, an unreachable Telegram and the agent's permissions, `audit` on an empty
//! database, `sessions list` with threads of every length, a log written to a file, and how to
//! sign in to the web console after a restart.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::db::Db;
use crate::support::harness::{Harness, Options, SWITCHBOARD, WAIT};
use crate::support::web_client::WebClient;

/// `switchboard ARGS` with only the config file `config` (when given) and a home of its own.
fn switchboard(home: &Path, config: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(SWITCHBOARD);
    if let Some(text) = config {
        let path = home.join("config.toml");
        std::fs::write(&path, text).expect("write the config");
        command.arg("--config").arg(path);
    }
    command
        .args(args)
        .current_dir(home)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .envs(env.iter().copied())
        .output()
        .expect("run switchboard")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_help_names_every_platform() {
    let home = tempfile::tempdir().unwrap();
    let out = switchboard(home.path(), None, &[], &["check", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    for platform in ["Telegram", "Slack", "Discord", "GitHub", "web console"] {
        assert!(help.contains(platform), "{platform} is not named: {help}");
    }
}

#[test]
fn a_wrong_duration_is_shown_with_an_example() {
    let home = tempfile::tempdir().unwrap();
    let out = switchboard(
        home.path(),
        Some("[telegram]\npoll_timeout = \"30\"\n"),
        &[],
        &["check"],
    );
    assert!(!out.status.success());
    let error = stderr(&out);
    assert!(
        error.contains("\"30\" is not a duration")
            && error.contains("such as \"30s\", \"5m\" or \"1h 30m\""),
        "{error}"
    );
}

/// An unreachable Bot API is named once per cause, not "error sending request: error sending
/// request"; and `check` says what the agent may do without asking.
#[test]
fn check_says_each_cause_once_and_the_agents_permissions() {
    let home = tempfile::tempdir().unwrap();
    // A port nothing listens on (bound, then let go).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = format!("[telegram]\napi_url = \"http://{closed}\"\n");
    let out = switchboard(
        home.path(),
        Some(&config),
        &[("TELEGRAM_BOT_TOKEN", "123:abc")],
        &["check"],
    );
    let text = stdout(&out);
    let telegram = text
        .lines()
        .find(|l| l.starts_with("✗ telegram:"))
        .unwrap_or_else(|| panic!("no failed telegram line: {text}"));
    assert_eq!(
        telegram.matches("error sending request").count(),
        1,
        "{telegram}"
    );
    assert!(telegram.contains("Connection refused"), "{telegram}");
    let agent = text
        .lines()
        .find(|l| l.starts_with("✓ agent:"))
        .unwrap_or_else(|| panic!("no agent line: {text}"));
    assert!(
        agent.contains("claude, permission mode acceptEdits")
            && agent.contains("edits and writes files without asking"),
        "{agent}"
    );
}

/// On a database with nothing in it, `audit` does not speak of a time nobody gave.
#[test]
fn audit_of_an_empty_database_says_nothing_is_recorded_yet() {
    let home = tempfile::tempdir().unwrap();
    let out = switchboard(home.path(), None, &[], &["audit"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "nothing recorded yet\n");
    let out = switchboard(home.path(), None, &[], &["audit", "--since", "2026-01-02"]);
    assert_eq!(stdout(&out), "nothing recorded since 2026-01-02\n");
}

/// A Telegram chat's thread key is a number, a web console thread's a user name and a UUID:
/// every column still starts at the same place on every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_list_columns_line_up_across_platforms() {
    let t = Harness::start(Db::Sqlite).await;
    t.say("hello");
    t.wait_text("✅ Done").await;
    let mut web = WebClient::new(&t.web_url());
    let (status, _) = web.sign_in(crate::support::harness::WEB_ADMIN_TOKEN).await;
    assert!(status.is_success(), "{status}");
    web.new_session().await;

    let out = tokio::task::block_in_place(|| t.cli(&["sessions", "list"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&out);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    let column = |name: &str| {
        lines[0]
            .find(name)
            .unwrap_or_else(|| panic!("no {name}: {list}"))
    };
    let (platform, thread, host, state) = (
        column("PLATFORM"),
        column("THREAD"),
        column("HOST"),
        column("STATE"),
    );
    let mut platforms = Vec::new();
    for row in &lines[1..] {
        platforms.push(row[platform..].split_whitespace().next().unwrap());
        assert!(row[host..].starts_with("remote "), "HOST: {list}");
        assert!(row[state..].starts_with("idle "), "STATE: {list}");
        assert!(
            row[thread..].starts_with(|c: char| !c.is_whitespace())
                && row[..thread].ends_with("  "),
            "THREAD: {list}"
        );
    }
    platforms.sort_unstable();
    assert_eq!(platforms, ["telegram", "web"], "{list}");
}

/// The log as journald or a file gets it (the harness sends the bot's stderr to a file): no
/// colour codes. And after a restart, with the admin token generated at first start (and
/// printed only then), the log says how to sign in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_plain_text_and_says_how_to_sign_in_after_a_restart() {
    let mut options = Options::new(Db::Sqlite);
    options.web_token = None;
    let mut t = Harness::start_with(options).await;
    wait_for_log(&t, 0, "This sign-in link is printed once").await;
    t.say("hello");
    t.wait_text("✅ Done").await;

    t.kill_bot();
    let restarted_at = t.log().len();
    t.start_bot().await;
    wait_for_log(&t, restarted_at, "switchboard web-token NAME --admin").await;
    let after = &t.log()[restarted_at..];
    assert!(
        !after.contains("#token="),
        "the link is printed once: {after}"
    );
    let log = t.log();
    assert!(log.contains(" INFO "), "the log has lines: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "an escape code in the log: {log:?}"
    );
}

/// Waits until the bot's log, from byte `from` on, contains `needle`.
async fn wait_for_log(t: &Harness, from: usize, needle: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !t.log().get(from..).is_some_and(|l| l.contains(needle)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log never said {needle:?}: {}",
            t.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `switchboard hosts` (issue 14): each host answers, and a session's scratch directory is
/// listed under the host it ran on with its disk use and its session's tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_lists_each_hosts_workspaces_with_their_disk_use() {
    let t = Harness::start(Db::Sqlite).await;
    t.say("@fake write notes.txt something\nhello");
    t.wait_text("✅ Done").await;
    let runs = t.wait_agent_runs(1).await;
    let session = runs[0]
        .cwd
        .file_name()
        .and_then(|name| name.to_str())
        .expect("the session's directory")
        .to_owned();
    let tag = &session[session.rfind('-').unwrap() + 1..];

    let out = tokio::task::block_in_place(|| t.cli(&["hosts"]));
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let remote = text
        .lines()
        .position(|l| l.starts_with("host remote "))
        .unwrap_or_else(|| panic!("no remote host: {text}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[remote].contains(": reachable in ") && lines[remote].contains("1 workspace(s)"),
        "{text}"
    );
    assert_eq!(
        lines[remote + 1].split_whitespace().collect::<Vec<_>>(),
        ["WORKSPACE", "DISK", "SESSION"]
    );
    let row: Vec<&str> = lines[remote + 2].split_whitespace().collect();
    assert_eq!(row[0], format!("scratch/{session}"), "{text}");
    assert!(
        row[1].parse::<f64>().is_ok_and(|n| n > 0.0) && ["KB", "MB"].contains(&row[2]),
        "a size: {text}"
    );
    assert_eq!(row[3], tag, "{text}");
    assert!(text.lines().any(|l| l.starts_with("host local ")), "{text}");
}
