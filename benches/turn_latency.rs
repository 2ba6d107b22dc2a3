//! How long Switchboard takes to get a prompt to the agent and the agent's answer back, against
//! OpenSSH starting the same agent.
//!
//! `cargo bench --features fake-agent --bench turn_latency` starts the real bot (release build) twice — on a small git
//! workspace and on one of about 3,000 committed files — each against the fake Telegram, its own
//! sshd host and the fake agent (which records the instants it starts and exits), and measures,
//! round by round with the variants interleaved (their order rotating each round):
//!
//! - **launch**: from the fake Telegram handing an update to the bot (the getUpdates answer
//!   being built) to the agent process starting on the SSH host, on each workspace;
//! - **answer**: from the agent process exiting to the fake Telegram receiving the answer,
//!   on each workspace (the workspace's changes are read in between);
//! - **ControlMaster**: OpenSSH's `ssh` reusing one master connection (`ControlMaster`,
//!   `ControlPath`) to the large workspace's sshd, from spawning `ssh` to the agent starting
//!   (the same agent command, in the large workspace: a plain start, no detachment, no snapshot);
//! - **fresh ssh**: the same with a new `ssh` connection per prompt.
//!
//! Both clocks are this machine's wall clock (the hosts are on loopback). Each line gives p50 and
//! p99 with the spread (p10–p90, min–max), then the ratios to the ControlMaster start.
//! `ROUNDS=N` sets the number of rounds (default 200).

#[path = "../tests/support/mod.rs"]
#[allow(unused)]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use support::db::Db;
use support::fake_telegram::FakeTelegramConfig;
use support::git::git;
use support::harness::{FAKE_CLAUDE, Harness, Options, epoch_ns};

/// Files in the large workspace, spread over directories of this many.
const LARGE_FILES: usize = 3000;
const FILES_PER_DIR: usize = 50;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Small,
    Large,
    ControlMaster,
    Fresh,
}

const VARIANTS: [Variant; 4] = [
    Variant::Small,
    Variant::Large,
    Variant::ControlMaster,
    Variant::Fresh,
];

#[derive(Default)]
struct Samples {
    small_launch: Vec<Duration>,
    small_answer: Vec<Duration>,
    large_launch: Vec<Duration>,
    large_answer: Vec<Duration>,
    control_master: Vec<Duration>,
    fresh: Vec<Duration>,
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let small = start(false).await;
        let large = start(true).await;
        let master = Master::start(&large);
        // Warm up: the first turn opens the bot's SSH connection.
        for t in [&small, &large] {
            turn(t, "warm up").await;
        }
        control_master_start(&large, &master);

        let mut s = Samples::default();
        for round in 0..rounds {
            for k in 0..VARIANTS.len() {
                match VARIANTS[(round + k) % VARIANTS.len()] {
                    Variant::Small => {
                        let (launch, answer) = turn(&small, "prompt").await;
                        s.small_launch.push(launch);
                        s.small_answer.push(answer);
                    }
                    Variant::Large => {
                        let (launch, answer) = turn(&large, "prompt").await;
                        s.large_launch.push(launch);
                        s.large_answer.push(answer);
                    }
                    Variant::ControlMaster => {
                        s.control_master.push(control_master_start(&large, &master))
                    }
                    Variant::Fresh => s.fresh.push(fresh_ssh_start(&large)),
                }
            }
        }

        println!("{rounds} rounds, variants interleaved\n");
        let cm = report(
            "OpenSSH ControlMaster: ssh spawned → agent started",
            &mut s.control_master,
        );
        let fresh = report(
            "fresh `ssh host cmd` per prompt: ssh spawned → agent started",
            &mut s.fresh,
        );
        let small_launch = report(
            "Switchboard, small workspace: update delivered → agent started",
            &mut s.small_launch,
        );
        let large_launch = report(
            &format!(
                "Switchboard, {LARGE_FILES}-file workspace: update delivered → agent started"
            ),
            &mut s.large_launch,
        );
        report(
            "Switchboard, small workspace: agent exited → answer posted",
            &mut s.small_answer,
        );
        let large_answer = report(
            &format!("Switchboard, {LARGE_FILES}-file workspace: agent exited → answer posted"),
            &mut s.large_answer,
        );
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!("ratios at p50:");
        println!(
            "  launch, small workspace / ControlMaster: {:.2}",
            ratio(small_launch, cm)
        );
        println!(
            "  launch, {LARGE_FILES}-file workspace / ControlMaster: {:.2} (target ≤ 0.5)",
            ratio(large_launch, cm)
        );
        println!(
            "  fresh ssh / launch, {LARGE_FILES}-file workspace: {:.1}",
            ratio(fresh, large_launch)
        );
        println!(
            "  agent exited → answer posted, {LARGE_FILES}-file workspace: {:.1} ms (target ≤ 50 ms)",
            ms(large_answer)
        );
    });
}

/// The bot on its own host, whose workspace is small or holds [`LARGE_FILES`] committed files.
async fn start(large: bool) -> Harness {
    let mut options = Options::new(Db::Sqlite);
    // Measure the way in and out, not Telegram's pacing.
    options.fake = FakeTelegramConfig::without_rate_limits();
    options.telegram_toml = "[telegram.limits]\nper_chat_interval = \"1ms\"\nglobal_per_second = 100000\nper_group_per_minute = 100000\n".into();
    let t = Harness::start_with(options).await;
    if large {
        let work = t.host_dir.path().join("work");
        for n in 0..LARGE_FILES {
            let dir = work.join(format!("src/module{:03}", n / FILES_PER_DIR));
            std::fs::create_dir_all(&dir).expect("a directory");
            let text = format!("// file {n}\npub fn f{n}() -> usize {{\n    {n}\n}}\n");
            std::fs::write(dir.join(format!("file{n}.rs")), text).expect("a file");
        }
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-qm", "many files"]);
        hand_over(&work, t.host_dir.path());
    }
    t
}

/// Gives `dir` to the SSH login user (the owner of `like`).
fn hand_over(dir: &Path, like: &Path) {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("--reference={}", like.display()))
        .arg(dir)
        .status()
        .expect("chown");
    assert!(status.success(), "chown the workspace");
}

/// One prompt through the bot: (update delivered → agent started, agent exited → answer
/// posted).
async fn turn(t: &Harness, text: &str) -> (Duration, Duration) {
    let before = t.agent_runs().len();
    let sent = t.say(text);
    let runs = t.wait_agent_runs(before + 1).await;
    let run = &runs[before];
    let delivered =
        t.tg.update_delivered_at(sent.update_id)
            .expect("the update was delivered");
    t.next().await; // the status message
    let answer = t.next().await;
    assert!(answer.text.starts_with("Echo #"), "{}", answer.text);
    let exited = exited_at(t, run.started_at_ns);
    (
        Duration::from_nanos((run.started_at_ns - epoch_ns(delivered)) as u64),
        Duration::from_nanos((epoch_ns(answer.sent_at) - exited) as u64),
    )
}

/// When the agent run that started at `started_at_ns` exited (the fake agent records it).
fn exited_at(t: &Harness, started_at_ns: u128) -> u128 {
    let records = t.host_dir.path().join("records");
    let prefix = format!("{started_at_ns}-");
    let file = std::fs::read_dir(&records)
        .expect("records")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".exited")
        })
        .expect("the agent recorded its exit");
    std::fs::read_to_string(file)
        .expect("the exit record")
        .trim()
        .parse()
        .expect("nanoseconds")
}

/// The `ssh` options every OpenSSH baseline uses to reach the harness's sshd.
fn ssh(t: &Harness) -> Command {
    let mut ssh = Command::new("ssh");
    ssh.args(["-i", &t.sshd.client_key_path().display().to_string()])
        .args(["-p", &t.sshd.port().to_string()])
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]);
    ssh
}

fn destination(t: &Harness) -> String {
    format!("{}@127.0.0.1", t.sshd.user())
}

/// An OpenSSH master connection to the host, reused by [`control_master_start`].
struct Master {
    dir: tempfile::TempDir,
}

impl Master {
    fn start(t: &Harness) -> Master {
        let dir = tempfile::tempdir().expect("control dir");
        let master = Master { dir };
        let status = ssh(t)
            .args(["-o", "ControlMaster=yes", "-o", "ControlPersist=yes"])
            .arg("-o")
            .arg(format!("ControlPath={}", master.path()))
            .args(["-f", "-N"])
            .arg(destination(t))
            .status()
            .expect("spawn the ssh master");
        assert!(status.success(), "the ssh master started");
        master
    }

    fn path(&self) -> String {
        self.dir.path().join("master").display().to_string()
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = Command::new("ssh")
            .arg("-o")
            .arg(format!("ControlPath={}", self.path()))
            .args(["-O", "exit", "ignored"])
            .stderr(Stdio::null())
            .status();
    }
}

/// Starts the fake agent in the workspace through the master connection.
fn control_master_start(t: &Harness, master: &Master) -> Duration {
    let mut ssh = ssh(t);
    ssh.args(["-o", "ControlMaster=no"])
        .arg("-o")
        .arg(format!("ControlPath={}", master.path()));
    run_agent(t, ssh)
}

/// Starts the fake agent with a new `ssh` connection, as a bot without a pool would.
fn fresh_ssh_start(t: &Harness) -> Duration {
    run_agent(t, ssh(t))
}

/// Runs the fake agent in the workspace with `ssh` (the prompt on stdin): ssh spawned → agent
/// started.
fn run_agent(t: &Harness, mut ssh: Command) -> Duration {
    let before = t.agent_runs().len();
    let command = format!(
        "cd {host}/work && env CLAUDE_CONFIG_DIR={host}/claude FAKE_CLAUDE_RECORD_DIR={host}/records {FAKE_CLAUDE} -p --output-format stream-json --verbose",
        host = t.host_dir.path().display()
    );
    let spawned = SystemTime::now();
    let mut child = ssh
        .arg(destination(t))
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn ssh");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"a prompt").expect("prompt");
    }
    assert!(child.wait().expect("ssh").success(), "ssh run failed");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), before + 1, "one more agent run");
    let started = runs.last().expect("a run").started_at_ns;
    Duration::from_nanos((started - epoch_ns(spawned)) as u64)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = ((sorted.len() * p).div_ceil(100)).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints the figures of `samples`; returns the p50.
fn report(what: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    let p = |n| ms(percentile(samples, n));
    println!(
        "{what}\n  p50 {p50:.1} ms, p99 {p99:.1} ms (p10–p90 {p10:.1}–{p90:.1}, min–max {min:.1}–{max:.1}; {n} runs)",
        n = samples.len(),
        p50 = p(50),
        p99 = p(99),
        p10 = p(10),
        p90 = p(90),
        min = ms(samples[0]),
        max = ms(samples[samples.len() - 1]),
    );
    percentile(samples, 50)
}
