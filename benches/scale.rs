//! Switchboard under load: many busy turns at once, and an idle bot with a large history.
//!
//! `cargo bench --features fake-agent --bench scale` starts the real bot (release build) against the fake Telegram,
//! which enforces Telegram's real limits (one call a second per chat, thirty a second over the
//! bot, 429 past them), and ten sshd hosts running the fake agent. For each N it sends N chats
//! one prompt each, spread over the hosts (`/new hK` first), each turn a tool call every
//! [`STEP_SECS`] for long enough that all N run at once, then an answer. It prints:
//!
//! - launch: update handed to the bot → agent process started on its host, p50/p99;
//! - event → edit: the agent writing a tool call → the fake Telegram showing it in the chat's
//!   progress message, p50/p99, over the events shown (a change the throttle folds into a later
//!   one is not shown; the agent's write time is its start plus its script's sleeps);
//! - steady CPU of the bot process while all N turns run (from `/proc/PID/stat`), and its peak
//!   RSS (`VmHWM`);
//! - answers delivered, tool calls stored vs the agents' (`turn_events`), and 429s the fake gave.
//!
//! Then the idle level: a fresh bot over a database holding [`IDLE_SESSIONS`] sessions — time
//! from start to polling, RSS after settling, and the web console's session list, p50.
//!
//! `SCALE_N=50,200` picks the Ns (default 50,150,200,500,2000); `SCALE_IDLE=0` skips the idle
//! level. Figures, not asserts: docs/design.md's Performance section holds a run's.

#[path = "../tests/support/mod.rs"]
#[allow(unused)]
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::Connection;
use support::db::Db;
use support::fake_telegram::{FakeChat, Sent};
use support::harness::{FAKE_CLAUDE, Harness, Options, WEB_ADMIN_TOKEN, epoch_ns};
use support::sshd::Sshd;
use support::web_client::WebClient;
use switchboard::domain::thread::{Platform, ThreadRef};
use switchboard::store::{NewSession, Store, sessions};

const HOSTS: usize = 10;
const FIRST_PERSON: i64 = 10_000;
/// Seconds between an agent's tool calls.
const STEP_SECS: u64 = 3;
/// How long all N turns run together at least, for the CPU sample.
const STEADY: Duration = Duration::from_secs(15);
const IDLE_SESSIONS: usize = 100_000;

fn main() {
    let ns: Vec<usize> = std::env::var("SCALE_N")
        .unwrap_or_else(|_| "50,150,200,500,2000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("SCALE_N: numbers separated by commas")
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        for n in ns {
            load(n).await;
        }
        if std::env::var("SCALE_IDLE").as_deref() != Ok("0") {
            idle().await;
        }
    });
}

/// A host besides the harness's own: its sshd and its directories.
struct ExtraHost {
    sshd: Sshd,
    dir: tempfile::TempDir,
}

impl ExtraHost {
    fn start() -> ExtraHost {
        let sshd = Sshd::start();
        let dir = sshd.workspace();
        for sub in ["work", "state", "claude", "records"] {
            let path = dir.path().join(sub);
            std::fs::create_dir(&path).expect("host dir");
            chown_like(&path, dir.path());
        }
        ExtraHost { sshd, dir }
    }

    fn config(&self, name: &str, slots: usize) -> String {
        let dir = self.dir.path().display();
        format!(
            r#"
[hosts.{name}]
address = "{address}"
user = "{user}"
key_file = "{key}"
host_key = "{host_key}"
workdir = "{dir}/work"
state_dir = "{dir}/state"
connect_timeout = "5s"
max_concurrent_turns = {slots}

[hosts.{name}.agents.claude]
command = "{FAKE_CLAUDE}"
env = {{ CLAUDE_CONFIG_DIR = "{dir}/claude", FAKE_CLAUDE_RECORD_DIR = "{dir}/records" }}
"#,
            address = self.sshd.address(),
            user = self.sshd.user(),
            key = self.sshd.client_key_path().display(),
            host_key = self.sshd.host_public_key(),
        )
    }
}

fn chown_like(path: &Path, like: &Path) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(like).expect("stat workspace");
    std::os::unix::fs::chown(path, Some(meta.uid()), Some(meta.gid())).expect("chown");
}

/// The host of chat `i`: `remote` (the harness's) or `h1`…`h9`.
fn host_of(i: usize) -> String {
    match i % HOSTS {
        0 => "remote".into(),
        k => format!("h{k}"),
    }
}

/// Agent runs recorded under `records` dirs: (chat, started at in ns since the epoch).
fn agent_starts(records: &[PathBuf]) -> HashMap<usize, u128> {
    let mut starts = HashMap::new();
    for dir in records {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(record) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                continue; // being written
            };
            let prompt_file = dir.join(record["prompt_file"].as_str().unwrap_or_default());
            let prompt = std::fs::read_to_string(prompt_file).unwrap_or_default();
            if let Some(chat) = chat_of_prompt(&prompt) {
                starts.insert(chat, record["started_at_ns"].as_u64().unwrap_or(0) as u128);
            }
        }
    }
    starts
}

fn prompt(chat: usize, steps: u64) -> String {
    let mut script = format!("load chat {chat}\n");
    for step in 0..steps {
        script.push_str(&format!(
            "@fake tool Bash {{\"command\":\"step {step} of chat {chat}\"}}\n@fake sleep {STEP_SECS}\n"
        ));
    }
    script.push_str(&format!("@fake answer Answer for chat {chat}.\n"));
    script
}

fn chat_of_prompt(prompt: &str) -> Option<usize> {
    prompt
        .lines()
        .next()?
        .strip_prefix("load chat ")?
        .parse()
        .ok()
}

/// The newest step a progress text shows (`step K of chat I`).
fn newest_step(text: &str) -> Option<u64> {
    text.match_indices("step ")
        .filter_map(|(at, _)| {
            let rest = &text[at + 5..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .max()
}

/// CPU time the process has used (user + system).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the bot's stat");
    // Fields after the command (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat") + 2..]
        .split(' ')
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100)
}

/// A line of `/proc/PID/status` in MB (`VmHWM`, `VmRSS`).
fn memory_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

async fn load(n: usize) {
    println!("\n== {n} busy turns over {HOSTS} hosts ==");
    let extra: Vec<ExtraHost> = (1..HOSTS).map(|_| ExtraHost::start()).collect();
    let slots = n / HOSTS + 10;
    // Long enough that every turn is still running when the last starts: Telegram's 30 calls
    // a second pace the prompts' acknowledgements.
    let steps = (STEADY.as_secs() + (n as u64 * 2) / 30 + 20) / STEP_SECS;
    let mut options = Options::new(Db::Sqlite);
    options.host_slots = slots as u32;
    options.git_workspace = false;
    options.max_queue = 5;
    options.turn_timeout = "30m";
    options.more_allowed_users = (0..n as i64).map(|i| FIRST_PERSON + i).collect();
    options.extra_config = extra
        .iter()
        .enumerate()
        .map(|(k, host)| host.config(&format!("h{}", k + 1), slots))
        .collect();
    let t = Harness::start_with(options).await;
    let pid = t.bot_pid();
    let mut records = vec![t.host_dir.path().join("records")];
    records.extend(extra.iter().map(|h| h.dir.path().join("records")));

    let began = Instant::now();
    let mut chats: Vec<(FakeChat, Sent)> = Vec::with_capacity(n);
    for i in 0..n {
        let person = t.tg.user(FIRST_PERSON + i as i64, &format!("P{i}"), None);
        let chat = t.tg.private_chat(&person);
        let host = host_of(i);
        if host != "remote" {
            t.tg.send_text(&chat, &person, &format!("/new {host}"));
        }
        let sent = t.tg.send_text(&chat, &person, &prompt(i, steps));
        chats.push((chat, sent));
    }

    // All running: sample the bot's CPU over the steady window.
    let all_started = loop {
        let starts = agent_starts(&records);
        if starts.len() >= n {
            break starts;
        }
        assert!(
            began.elapsed() < Duration::from_secs(600),
            "only {} of {n} agents started",
            starts.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let started_by = began.elapsed();
    let cpu_before = cpu_time(pid);
    let window = Instant::now();
    tokio::time::sleep(STEADY).await;
    let steady_cpu = (cpu_time(pid) - cpu_before).as_secs_f64() / window.elapsed().as_secs_f64();

    // Every answer (or as many as came by the deadline).
    let deadline = Duration::from_secs(steps * STEP_SECS + n as u64 / 5 + 120);
    let answered = |i: usize, chat: &FakeChat| {
        let answer = format!("Answer for chat {i}.");
        t.tg.bot_messages(chat)
            .iter()
            .any(|m| m.text.starts_with(&answer))
    };
    let mut waiting: Vec<usize> = (0..n).collect();
    while !waiting.is_empty() && began.elapsed() < deadline {
        waiting.retain(|&i| !answered(i, &chats[i].0));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = began.elapsed();
    let peak_rss = memory_mb(pid, "VmHWM");

    let mut launch = Vec::new();
    let mut event_to_edit = Vec::new();
    let mut answers = 0;
    for (i, (chat, sent)) in chats.iter().enumerate() {
        let Some(started_ns) = all_started.get(&i).copied() else {
            continue;
        };
        if let Some(delivered) = t.tg.update_delivered_at(sent.update_id) {
            launch.push(Duration::from_nanos(
                started_ns.saturating_sub(epoch_ns(delivered)) as u64,
            ));
        }
        let answer = format!("Answer for chat {i}.");
        for message in t.tg.bot_messages(chat) {
            if message.text.starts_with(&answer) {
                answers += 1;
            }
            let mut shown = None;
            for version in &message.versions {
                let Some(step) = newest_step(&version.text) else {
                    continue;
                };
                if shown == Some(step) {
                    continue;
                }
                shown = Some(step);
                let written = started_ns + u128::from(step * STEP_SECS) * 1_000_000_000;
                let at = epoch_ns(version.at);
                event_to_edit.push(Duration::from_nanos(at.saturating_sub(written) as u64));
            }
        }
    }
    let calls = t.tg.calls();
    let refused = calls.iter().filter(|c| c.status == 429).count();
    let stored = stored_tool_calls(&t).await;

    println!(
        "all {n} agents started after {:.1}s; answers after {:.1}s",
        started_by.as_secs_f64(),
        took.as_secs_f64()
    );
    report("launch: update delivered → agent started", &mut launch);
    report(
        "event → edit (progress shown in the chat)",
        &mut event_to_edit,
    );
    println!(
        "bot CPU while all {n} run: {:.3} cores; peak RSS {peak_rss:.1} MB",
        steady_cpu
    );
    println!(
        "answers delivered {answers}/{n}; tool calls stored {stored}/{}; Telegram calls {}, 429s {refused}",
        n as u64 * steps,
        calls.len()
    );
}

async fn stored_tool_calls(t: &Harness) -> i64 {
    let mut conn = sqlx::SqliteConnection::connect(&t.db.url)
        .await
        .expect("open the bot's database");
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM turn_events WHERE kind = 'tool_use'")
            .fetch_one(&mut conn)
            .await
            .expect("count the stored events");
    count
}

async fn idle() {
    println!("\n== idle, {IDLE_SESSIONS} stored sessions ==");
    let mut t = Harness::prepare(Options::new(Db::Sqlite)).await;
    let store = Store::open(&t.db.url, 2).await.expect("open the store");
    let seeding = Instant::now();
    for batch in 0..IDLE_SESSIONS / 1000 {
        let mut tx = store.write_tx().await.expect("a transaction");
        for i in 0..1000 {
            let chat = (batch * 1000 + i).to_string();
            let thread = ThreadRef {
                platform: Platform::Telegram,
                chat: chat.clone(),
                topic: None,
            };
            sessions::create_session(
                &mut tx,
                NewSession {
                    id: switchboard::domain::ids::SessionId::generate(),
                    thread: &thread,
                    host: "remote",
                    agent: switchboard::domain::agent::AgentKind::Claude,
                    model: None,
                    workdir: "~/work",
                    workspace: None,
                    created_by: &chat,
                },
            )
            .await
            .expect("a session");
        }
        tx.commit().await.expect("commit");
    }
    store.close().await;
    println!("seeded in {:.1}s", seeding.elapsed().as_secs_f64());

    let starting = Instant::now();
    t.start_bot().await;
    let to_polling = starting.elapsed();
    t.wait_for_http().await;
    let to_http = starting.elapsed();
    let pid = t.bot_pid();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cpu_before = cpu_time(pid);
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = (cpu_time(pid) - cpu_before).as_secs_f64() / window.elapsed().as_secs_f64();
    let rss = memory_mb(pid, "VmRSS");

    let mut admin = WebClient::new(&t.web_url());
    admin.sign_in(WEB_ADMIN_TOKEN).await;
    let mut list = Vec::new();
    for _ in 0..20 {
        let asked = Instant::now();
        let (status, _) = admin.get("/api/sessions").await;
        assert!(status.is_success(), "listing sessions: {status}");
        list.push(asked.elapsed());
    }
    let cli = Instant::now();
    let printed = t.cli(&["sessions", "list"]);
    assert!(printed.status.success(), "{printed:?}");
    let cli = cli.elapsed();

    println!(
        "start → polling {:.2}s, → HTTP serving {:.2}s; idle RSS {rss:.1} MB, idle CPU {idle_cpu:.4} cores",
        to_polling.as_secs_f64(),
        to_http.as_secs_f64()
    );
    report("web console: GET /api/sessions", &mut list);
    println!(
        "`switchboard sessions list` (a process of its own): {:.0} ms",
        cli.as_secs_f64() * 1000.0
    );
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = ((sorted.len() * p).div_ceil(100)).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn report(what: &str, samples: &mut [Duration]) {
    if samples.is_empty() {
        println!("{what}: no samples");
        return;
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: n {n}, p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
        n = samples.len(),
        p50 = ms(percentile(samples, 50)),
        p99 = ms(percentile(samples, 99)),
        max = ms(samples[samples.len() - 1]),
    );
}
