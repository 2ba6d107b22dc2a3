//! Codex sessions have Claude's guarantees: a Telegram thread runs `codex exec` on an SSH host
//! (the fake Codex, src/bin/fake-codex), resumes its thread, is stopped, and survives losing
//! it; every agent's configured secrets (`env`, `env_files`) reach its environment and nothing
//! else. A killed bot and a cut SSH link are tests/e2e/durability.rs's, run for both agents.

use crate::durability::{group, reply_and_result, start_long_tool_turn};
use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{FakeAgent, Harness, Options, WAIT, running_turn_in};
use crate::support::procs;

on_both_databases!(
    a_codex_thread_answers_resumes_stops_and_starts_afresh_when_lost,
    claude_secrets_from_env_and_env_files_reach_only_the_agent,
    codex_secrets_from_env_and_env_files_reach_only_the_agent,
);

async fn start(db: Db, agent: FakeAgent, extra_config: String) -> Harness {
    let mut options = Options::new(db);
    options.agent = agent;
    options.extra_config = extra_config;
    Harness::start_with(options).await
}

/// Prompt → tool in the progress → answer (the last message: Codex's report has no text) →
/// the second prompt resumes the thread → `/stop` ends the run's process group → the thread's
/// rollout is deleted on the host: the next prompt says the conversation is lost, and the one
/// after starts a new thread.
async fn a_codex_thread_answers_resumes_stops_and_starts_afresh_when_lost(db: Db) {
    let t = start(db, FakeAgent::Codex, String::new()).await;

    let go = t.host_dir.path().join("go");
    let first = t.say(&format!(
        "@fake tool Bash {{\"command\":\"cargo test\"}}\n@fake wait-for {}\nhello codex",
        go.display()
    ));
    let status = t.next().await;
    assert_eq!(status.text, "⏳ Starting…");
    t.tg.wait_for_message(
        &t.chat,
        |m| m.message_id == status.message_id && m.text.contains("cargo test"),
        WAIT,
    )
    .await;
    std::fs::write(&go, "").unwrap();
    let answer = t.next().await;
    assert_eq!(answer.text, "Echo #1: hello codex");
    assert_eq!(answer.reply_to, Some(first.message_id));
    t.wait_status(&status, "✅ Done in").await;
    let runs = t.agent_runs();
    assert_eq!(runs[0].argv[1..3], ["exec", "--json"], "{:?}", runs[0].argv);
    assert_eq!(runs[0].argv.last().map(String::as_str), Some("-"));
    assert_eq!(runs[0].resume_id(), None);
    assert!(
        String::from_utf8_lossy(&runs[0].prompt).contains("hello codex"),
        "the prompt came on stdin"
    );

    t.say("and again");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #2: and again");
    let thread = runs[0].session_id.clone();
    assert_eq!(t.agent_runs()[1].resume_id(), Some(thread.as_str()));

    let (_, _, leader, before) = start_long_tool_turn(&t, "long job").await;
    assert!(before.iter().any(|p| p.comm == "fake-codex"), "{before:?}");
    let stop = t.say("/stop");
    let (reply, result) = reply_and_result(&t, stop.message_id).await;
    assert_eq!(
        reply.text,
        "🛑 Stopped the running turn; its processes on remote are gone."
    );
    assert!(group(leader).is_empty(), "left: {:?}", group(leader));
    assert_eq!(result.text, "🛑 Cancelled.");

    let rollout = t.session_file(&thread).expect("the thread's rollout");
    std::fs::remove_file(&rollout).unwrap();
    t.say("remember me?");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    let lost = t.next().await;
    assert!(
        lost.text.contains(&thread) && lost.text.contains("no longer exists"),
        "{}",
        lost.text
    );
    t.say("fresh start");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #1: fresh start");
    let runs = t.agent_runs();
    let last = runs.last().unwrap();
    assert_eq!(last.resume_id(), None);
    assert_ne!(last.session_id, thread);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

async fn claude_secrets_from_env_and_env_files_reach_only_the_agent(db: Db) {
    secrets_reach_only_the_agent(db, FakeAgent::Claude).await
}

async fn codex_secrets_from_env_and_env_files_reach_only_the_agent(db: Db) {
    secrets_reach_only_the_agent(db, FakeAgent::Codex).await
}

/// An `env` secret and an `env_files` secret (read from a file on the bot's machine) are in
/// the agent's environment while it runs, and in no command line on the machine (host and bot
/// are one machine here) nor in the bot's log.
pub(crate) async fn secrets_reach_only_the_agent(db: Db, agent: FakeAgent) {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let in_env = format!("env-secret-{unique}");
    let in_file = format!("file-secret-{unique}");
    let files = tempfile::tempdir().unwrap();
    let key_file = files.path().join("key");
    std::fs::write(&key_file, format!("{in_file}\n")).unwrap();
    let config = format!(
        "\n[agents.{name}]\nenv = {{ SB_ENV_SECRET = \"{in_env}\" }}\n\
         env_files = {{ SB_FILE_SECRET = \"{file}\" }}\n",
        name = agent.name(),
        file = key_file.display()
    );
    let t = start(db, agent, config).await;
    let go = t.host_dir.path().join("go");
    t.say(&format!("@fake wait-for {}\nkeep it secret", go.display()));
    t.wait_agent_runs(1).await;

    let everyone = procs::snapshot();
    // The agent is the child of the turn's wrapper (other tests' agents run too).
    let (_, wrapper) = running_turn_in(&t.host_dir.path().join("state"));
    let running: Vec<_> = everyone.iter().filter(|p| p.ppid == wrapper).collect();
    assert_eq!(running.len(), 1, "the wrapper has one child, the agent");
    assert_eq!(running[0].comm, agent.comm());
    let entries = running[0].env_entries();
    assert!(
        running[0].environ.is_some(),
        "this test must read the agent's /proc/PID/environ: run it as root (as .ci/run does)"
    );
    for (name, value) in [("SB_ENV_SECRET", &in_env), ("SB_FILE_SECRET", &in_file)] {
        assert!(
            entries.contains(&format!("{name}={value}")),
            "the agent has {name}: {entries:?}"
        );
        for p in &everyone {
            assert!(
                !String::from_utf8_lossy(&p.cmdline).contains(value.as_str()),
                "{name} in the arguments of {} ({}): {}",
                p.pid,
                p.comm,
                p.command()
            );
        }
    }
    std::fs::write(&go, "").unwrap();
    t.wait_text("Echo #1: keep it secret").await;
    let log = t.log();
    assert!(log.contains("turn finished"), "the log was read");
    assert!(
        !log.contains(&in_env) && !log.contains(&in_file),
        "a secret is in the log"
    );
}
