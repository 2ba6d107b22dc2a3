//! How long Switchboard takes to get a prompt to the agent, against a fresh `ssh host cmd`.
//!
//! `cargo bench --bench turn_latency` starts the real bot (release build) against the fake
//! Telegram, an sshd host and the fake agent (which records the instant it starts), sends
//! prompts one at a time and prints, over the runs:
//!
//! - bot-added latency: from the fake Telegram handing an update to the bot (the getUpdates
//!   answer being built) to the agent process starting on the SSH host;
//! - the same for a fresh OpenSSH `ssh host cmd` connection per prompt: from spawning `ssh` to
//!   the agent process starting.
//!
//! Both clocks are this machine's wall clock (the host is on loopback). Set `TURNS=N` for
//! another number of runs (default 200).

#[path = "../tests/support/mod.rs"]
#[allow(unused)]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use support::db::Db;
use support::fake_telegram::FakeTelegramConfig;
use support::harness::{FAKE_CLAUDE, Harness, Options, epoch_ns};

fn main() {
    let turns: usize = std::env::var("TURNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut options = Options::new(Db::Sqlite);
        // Measure the way in, not Telegram's pacing of the way out.
        options.fake = FakeTelegramConfig::without_rate_limits();
        options.telegram_toml = "[telegram.limits]\nper_chat_interval = \"1ms\"\nglobal_per_second = 100000\nper_group_per_minute = 100000\n".into();
        let t = Harness::start_with(options).await;

        // Warm up: the first turn opens the SSH connection.
        t.say("warm up");
        t.next().await;
        t.next().await;

        let mut bot = Vec::with_capacity(turns);
        for i in 0..turns {
            let sent = t.say(&format!("prompt {i}"));
            let runs = t.wait_agent_runs(i + 2).await;
            let started = runs[i + 1].started_at_ns;
            let delivered = t
                .tg
                .update_delivered_at(sent.update_id)
                .expect("the update was delivered");
            bot.push(Duration::from_nanos((started - epoch_ns(delivered)) as u64));
            t.next().await;
            t.next().await;
        }

        let mut fresh = Vec::with_capacity(turns);
        for i in 0..turns {
            fresh.push(fresh_ssh_start(&t, i));
        }

        report("Switchboard: update delivered → agent started (SSH host)", &mut bot);
        report("fresh `ssh host cmd` per prompt: ssh spawned → agent started", &mut fresh);
        let speedup = percentile(&fresh, 50).as_secs_f64() / percentile(&bot, 50).as_secs_f64();
        println!("p50 speed-up over a fresh ssh connection per prompt: {speedup:.1}×");
    });
}

/// Starts the fake agent with a new `ssh` connection, as a bot without a pool would.
fn fresh_ssh_start(t: &Harness, i: usize) -> Duration {
    let records = t.host_dir.path().join("records");
    let before = std::fs::read_dir(&records).expect("records").count();
    let command = format!(
        "cd {host}/work && env CLAUDE_CONFIG_DIR={host}/claude FAKE_CLAUDE_RECORD_DIR={host}/records {FAKE_CLAUDE} -p --output-format stream-json --verbose",
        host = t.host_dir.path().display()
    );
    let spawned = SystemTime::now();
    let mut child = Command::new("ssh")
        .args(["-i", &t.sshd.client_key_path().display().to_string()])
        .args(["-p", &t.sshd.port().to_string()])
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"])
        .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
        .arg(format!("{}@127.0.0.1", t.sshd.user()))
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn ssh");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("fresh {i}").as_bytes())
            .expect("prompt");
    }
    assert!(child.wait().expect("ssh").success(), "ssh run {i} failed");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), before / 2 + 1, "one more agent run");
    let started = runs.last().expect("a run").started_at_ns;
    Duration::from_nanos((started - epoch_ns(spawned)) as u64)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = ((sorted.len() * p).div_ceil(100)).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{what}\n  runs {n}: p50 {p50:.2} ms, p99 {p99:.2} ms, mean {mean:.2} ms, min {min:.2} ms, max {max:.2} ms",
        n = samples.len(),
        p50 = ms(percentile(samples, 50)),
        p99 = ms(percentile(samples, 99)),
        mean = ms(mean),
        min = ms(samples[0]),
        max = ms(samples[samples.len() - 1]),
    );
}
