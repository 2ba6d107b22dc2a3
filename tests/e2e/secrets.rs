//! Secrets stay where they belong (DESIGN invariant 9): every kind the bot can be given is
//! configured with a value unique to the test, a turn runs on an SSH host and on the `local`
//! host, and while each agent runs every process on the machine is read (its arguments and its
//! environment), then the log, the database and every file the hosts have. The agent's
//! configured key may be in exactly one place: the agent's own environment.
//!
//! Also: the read-only commands need no platform secret, and `check` speaks of the pin that was
//! configured and of what a `local` agent can reach.

use std::path::{Path, PathBuf};
use std::time::Duration;

use switchboard::runner::agent_env::BASICS;

use crate::support::db::{Db, TestDb, on_both_databases};
use crate::support::discord_world::DiscordSetup;
use crate::support::fake_discord::FakeDiscordConfig;
use crate::support::fake_github::FakeGitHubConfig;
use crate::support::fake_slack::FakeSlackConfig;
use crate::support::fake_telegram::FakeTelegramConfig;
use crate::support::harness::{
    FAKE_CLAUDE, GitHubSetup, Harness, Options, SWITCHBOARD, WAIT, running_turn_in,
};
use crate::support::procs::{self, Process};
use crate::support::slack_world::SlackSetup;

on_both_databases!(
    no_secret_reaches_an_agent_a_command_line_the_log_the_database_or_a_host_file,
    read_only_commands_need_no_platform_secret,
);

/// The variable the agent's configuration gives it: the one secret it may hold.
const AGENT_KEY: &str = "ANTHROPIC_API_KEY";

/// One configured secret and where it came from.
struct Secret {
    name: &'static str,
    value: String,
}

async fn no_secret_reaches_an_agent_a_command_line_the_log_the_database_or_a_host_file(db: Db) {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let secret = |name: &'static str, value: String| Secret { name, value };
    let mut secrets = vec![
        secret("TELEGRAM_BOT_TOKEN", format!("123456:tg-{unique}")),
        secret("SWITCHBOARD_WEB_TOKEN", format!("web-{unique}")),
        secret("GITHUB_WEBHOOK_SECRET", format!("ghhook-{unique}")),
        secret("SLACK_BOT_TOKEN", format!("xoxb-{unique}")),
        secret("SLACK_APP_TOKEN", format!("xapp-1-{unique}")),
        secret("DISCORD_BOT_TOKEN", format!("discord.{unique}")),
        secret(AGENT_KEY, format!("sk-ant-{unique}")),
    ];
    let value = |secrets: &[Secret], name: &str| -> String {
        secrets
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.clone())
            .unwrap()
    };
    let local = tempfile::tempdir().expect("the local host's directory");
    for sub in ["work", "state", "claude", "records"] {
        std::fs::create_dir(local.path().join(sub)).expect("local host dir");
    }
    let mut options = Options::new(db);
    options.fake = FakeTelegramConfig {
        token: value(&secrets, "TELEGRAM_BOT_TOKEN"),
        ..FakeTelegramConfig::default()
    };
    options.web_token = Some(value(&secrets, "SWITCHBOARD_WEB_TOKEN").leak());
    options.github = Some(GitHubSetup {
        fake: FakeGitHubConfig {
            webhook_secret: value(&secrets, "GITHUB_WEBHOOK_SECRET"),
            ..FakeGitHubConfig::default()
        },
        ..GitHubSetup::default()
    });
    options.slack = Some(SlackSetup {
        fake: FakeSlackConfig {
            bot_token: value(&secrets, "SLACK_BOT_TOKEN"),
            app_token: value(&secrets, "SLACK_APP_TOKEN"),
            ..FakeSlackConfig::default()
        },
        ..SlackSetup::default()
    });
    options.discord = Some(DiscordSetup {
        fake: FakeDiscordConfig {
            token: value(&secrets, "DISCORD_BOT_TOKEN"),
            ..FakeDiscordConfig::default()
        },
    });
    options.extra_config = format!(
        "\n[hosts.local]\nworkdir = \"{dir}/work\"\nstate_dir = \"{dir}/state\"\n\n\
         [hosts.local.agents.claude]\ncommand = \"{FAKE_CLAUDE}\"\n\
         env = {{ CLAUDE_CONFIG_DIR = \"{dir}/claude\", FAKE_CLAUDE_RECORD_DIR = \"{dir}/records\" }}\n\n\
         [agents.claude]\nenv = {{ {AGENT_KEY} = \"{key}\" }}\n",
        dir = local.path().display(),
        key = value(&secrets, AGENT_KEY),
    );
    let mut t = Harness::prepare(options).await;
    if db == Db::Postgres {
        // Postgres here trusts loopback, so the password is carried and never checked: what
        // matters is where the bot lets it go.
        let password = format!("dbpass-{unique}");
        let url = t.db.url.replacen(
            "postgres://postgres@",
            &format!("postgres://postgres:{password}@"),
            1,
        );
        assert_ne!(url, t.db.url, "the test database's URL has another form");
        t.bot_env.push(("SWITCHBOARD_DATABASE_URL".into(), url));
        secrets.push(secret("SWITCHBOARD_DATABASE_URL password", password));
    }
    t.start_bot().await;
    let gh = t.gh.as_ref().expect("the fake GitHub");
    let pem = gh.app_private_key_pem();
    let key_line = pem.lines().nth(1).expect("a PEM body line").to_owned();
    secrets.push(secret("GitHub App private key", key_line));

    let configured = ["CLAUDE_CONFIG_DIR", "FAKE_CLAUDE_RECORD_DIR", AGENT_KEY];
    let remote_dir = t.host_dir.path().to_path_buf();
    let local_dir = local.path().to_path_buf();

    // On the SSH host.
    let go = remote_dir.join("go");
    t.say(&format!("@fake wait-for {}\nhello remote", go.display()));
    t.wait_agent_runs(1).await;
    let agent = agent_of(&t, &remote_dir.join("state"));
    assert_clean(&t, &secrets, &agent, &configured, &remote_dir);
    std::fs::write(&go, "").expect("let the agent finish");
    t.wait_text("Echo #1: hello remote").await;

    // On the bot's own machine.
    t.say("/new local");
    t.wait_text("New session on local").await;
    let go = local_dir.join("go");
    t.say(&format!("@fake wait-for {}\nhello local", go.display()));
    wait_for_file_in(&local_dir.join("records")).await;
    let agent = agent_of(&t, &local_dir.join("state"));
    assert_clean(&t, &secrets, &agent, &configured, &local_dir);
    std::fs::write(&go, "").expect("let the agent finish");
    t.wait_text("Echo #1: hello local").await;

    // After the turns: nothing kept anywhere.
    for dir in [&remote_dir, &local_dir] {
        assert_files_clean(dir, &secrets);
    }
    if let Some(home) = login_home(t.sshd.user()) {
        assert_files_clean(&home, &secrets);
    }
    let log = t.log();
    assert!(log.contains("turn finished"), "the log was read: {log}");
    for s in &secrets {
        assert!(!log.contains(&s.value), "{} is in the bot's log", s.name);
    }
    let stored = database_text(&t, db);
    assert!(
        stored.contains("hello remote"),
        "the database was read ({} bytes)",
        stored.len()
    );
    for s in &secrets {
        assert!(!stored.contains(&s.value), "{} is in the database", s.name);
    }
}

/// The agent process of the one turn running under `state`: the child of its wrapper.
fn agent_of(t: &Harness, state: &Path) -> Process {
    let (_, wrapper) = running_turn_in(state);
    let mut children: Vec<Process> = procs::snapshot()
        .into_iter()
        .filter(|p| p.ppid == wrapper)
        .collect();
    assert_eq!(
        children.len(),
        1,
        "the wrapper {wrapper} has one child, the agent; the log:\n{}",
        t.log()
    );
    let agent = children.remove(0);
    assert!(
        agent.command().contains(FAKE_CLAUDE),
        "the wrapper's child is the agent: {}",
        agent.command()
    );
    agent
}

/// While the agent runs: its environment is the basics, `PWD` and what its config names; no
/// secret is in any process's arguments, nor in any environment but the bot's and (the agent's
/// key only) the agent's; and no host file holds one.
fn assert_clean(
    t: &Harness,
    secrets: &[Secret],
    agent: &Process,
    configured: &[&str],
    host_dir: &Path,
) {
    assert!(
        agent.environ.is_some(),
        "this test must read other users' /proc/PID/environ: run it as root (as .ci/run does)"
    );
    let bot = t.bot_pid();
    let mut found = Vec::new();
    let mut read_environments = 0;
    for process in procs::snapshot() {
        if process.pid == bot {
            continue;
        }
        read_environments += usize::from(process.environ.is_some());
        for s in secrets {
            let needle = s.value.as_bytes();
            if contains(&process.cmdline, needle) {
                found.push(format!(
                    "{} in the arguments of {} ({}): {}",
                    s.name,
                    process.pid,
                    process.comm,
                    process.command()
                ));
            }
            let allowed = s.name == AGENT_KEY && process.pid == agent.pid;
            if !allowed && contains(process.environ.as_deref().unwrap_or_default(), needle) {
                found.push(format!(
                    "{} in the environment of {} ({}): {}",
                    s.name,
                    process.pid,
                    process.comm,
                    process.command()
                ));
            }
        }
    }
    assert!(read_environments > 1, "no environment could be read");
    assert!(
        found.is_empty(),
        "secrets where they must not be:\n{}",
        found.join("\n")
    );
    let entries = agent.env_entries();
    let names: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.split_once('=').map(|(name, _)| name))
        .collect();
    // Besides the basics and the configured: who its commits are by (the prompting person).
    const COMMIT_IDENTITY: [&str; 4] = [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ];
    for name in &names {
        assert!(
            BASICS.contains(name)
                || configured.contains(name)
                || COMMIT_IDENTITY.contains(name)
                || *name == "PWD",
            "the agent got {name}; its environment: {names:?}"
        );
    }
    for name in configured
        .iter()
        .chain(&["PATH", "HOME"])
        .chain(&COMMIT_IDENTITY)
    {
        assert!(names.contains(name), "the agent lacks {name}: {names:?}");
    }
    let key = secrets.iter().find(|s| s.name == AGENT_KEY).unwrap();
    assert!(
        entries.contains(&format!("{AGENT_KEY}={}", key.value)),
        "the agent has its key"
    );

    assert_files_clean(host_dir, secrets);
}

/// No file under `dir` holds a secret.
fn assert_files_clean(dir: &Path, secrets: &[Secret]) {
    let files = files_under(dir);
    assert!(!files.is_empty(), "no files under {}", dir.display());
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue; // removed meanwhile
        };
        for s in secrets {
            assert!(
                !contains(&bytes, s.value.as_bytes()),
                "{} is in {}",
                s.name,
                file.display()
            );
        }
    }
}

/// The SSH login user's home, when it is another user than the one running the tests (whose
/// home is this machine's, not the host's).
fn login_home(user: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("getent")
        .args(["passwd", user])
        .output()
        .expect("run getent");
    assert!(out.status.success(), "no passwd entry for {user}");
    let entry = String::from_utf8(out.stdout).expect("UTF-8");
    let home = PathBuf::from(entry.trim().split(':').nth(5).expect("a home field"));
    (std::env::var_os("HOME").map(PathBuf::from) != Some(home.clone())).then_some(home)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Everything the database holds, as text: the SQLite files as they are, or a dump of the
/// Postgres database.
fn database_text(t: &Harness, db: Db) -> String {
    match db {
        Db::Sqlite => {
            let path = t.db.url.strip_prefix("sqlite://").expect("a SQLite URL");
            let mut bytes = std::fs::read(path).expect("the SQLite file");
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Db::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&t.db.url)
                .output()
                .expect("run pg_dump (package postgresql-client)");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    }
}

/// Waits until the fake agent has recorded a run in `records`.
async fn wait_for_file_in(records: &Path) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while std::fs::read_dir(records)
        .expect("the records dir")
        .next()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `audit`, `sessions list` and `migrate` read the database only: no platform token in the
/// environment, and a config naming token files that do not exist, stop none of them.
async fn read_only_commands_need_no_platform_secret(db: Db) {
    let db = TestDb::create(db).await;
    let dir = tempfile::tempdir().expect("a config dir");
    let missing = |name: &str| dir.path().join("absent").join(name).display().to_string();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{db}\"\n\n\
             [telegram]\ntoken_file = \"{tg}\"\nwebhook_secret_file = \"{tgw}\"\n\n\
             [github]\napp_id = 1\nprivate_key_file = \"{key}\"\nwebhook_secret_file = \"{ghw}\"\n\n\
             [slack]\ntoken_file = \"{sl}\"\napp_token_file = \"{sla}\"\n\n\
             [discord]\ntoken_file = \"{dc}\"\n\n\
             [web]\nadmin_token_file = \"{web}\"\n",
            db = db.url,
            tg = missing("telegram"),
            tgw = missing("telegram-webhook"),
            key = missing("github.pem"),
            ghw = missing("github-webhook"),
            sl = missing("slack"),
            sla = missing("slack-app"),
            dc = missing("discord"),
            web = missing("web"),
        ),
    )
    .expect("write the config");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(SWITCHBOARD)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .expect("run switchboard");
        assert!(
            out.status.success(),
            "switchboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    tokio::task::block_in_place(|| {
        assert!(run(&["migrate"]).contains("up to date"));
        assert_eq!(run(&["sessions", "list"]).trim(), "no sessions yet");
        assert_eq!(run(&["audit", "--json"]).trim(), "[]");
        // `check` is the command that tries the secrets: it still says what is missing.
        let out = std::process::Command::new(SWITCHBOARD)
            .arg("--config")
            .arg(&config)
            .arg("check")
            .env_clear()
            .output()
            .expect("run switchboard check");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("telegram.token_file"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A host pinned by fingerprint presents another key: `check` says to pin the new fingerprint,
/// not a `host_key`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_pin_that_was_configured() {
    let t = Harness::prepare(Options::new(Db::Sqlite)).await;
    let config = std::fs::read_to_string(&t.config_path).expect("the config");
    let pinned = format!("host_key = \"{}\"", t.sshd.host_public_key());
    assert!(config.contains(&pinned), "{config}");
    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    std::fs::write(
        &t.config_path,
        config.replace(&pinned, &format!("host_key_fingerprint = \"{wrong}\"")),
    )
    .expect("pin a fingerprint instead");
    let out = tokio::task::block_in_place(|| t.cli(&["check"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "check must fail:\n{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("host remote"))
        .unwrap_or_else(|| panic!("no line for host remote:\n{stdout}"));
    assert!(line.contains("host key mismatch"), "{line}");
    assert!(
        line.contains("in hosts.remote.host_key_fingerprint;"),
        "{line}"
    );
    assert!(!line.contains("hosts.remote.host_key;"), "{line}");
}

/// GitHub turns on the `local` host: `check` passes but warns, and says what a local agent can
/// read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_warns_when_github_turns_run_on_the_local_host() {
    let t = Harness::prepare(Options {
        github: Some(GitHubSetup {
            host: Some("local".into()),
            ..GitHubSetup::default()
        }),
        extra_config: format!("\n[hosts.local.agents.claude]\ncommand = \"{FAKE_CLAUDE}\"\n"),
        ..Options::new(Db::Sqlite)
    })
    .await;
    let out = tokio::task::block_in_place(|| t.cli(&["check"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a warning is not a failure:\n{stdout}"
    );
    let warning = stdout
        .lines()
        .find(|l| l.starts_with("⚠ github: "))
        .unwrap_or_else(|| panic!("no GitHub warning:\n{stdout}"));
    assert!(warning.contains("runs as the bot's own user"), "{warning}");
    assert!(
        warning.contains("fix: set github.host to an SSH host"),
        "{warning}"
    );
    let local = stdout
        .lines()
        .find(|l| l.starts_with("✓ host local: "))
        .unwrap_or_else(|| panic!("no line for host local:\n{stdout}"));
    assert!(local.contains("run as the bot's user"), "{local}");
    let remote = stdout
        .lines()
        .find(|l| l.starts_with("✓ host remote: "))
        .unwrap_or_else(|| panic!("no line for host remote:\n{stdout}"));
    assert!(!remote.contains("bot's user"), "{remote}");
}
