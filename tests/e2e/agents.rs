//! Every agent has the same guarantees through the fakes (src/bin/fake-claude, fake-codex,
//! fake-opencode), on both databases: a Telegram thread shows the agent's tool in the progress,
//! answers (Codex's and OpenCode's reports carry no text: the last message is the answer),
//! resumes the agent's own conversation, is stopped by process group, and survives losing the
//! conversation; the agent's configured secrets (`env`, `env_files`) reach its environment and
//! nothing else. A killed bot and a cut SSH link are tests/e2e/durability.rs's, run for every
//! agent; the real CLIs are tests/e2e/real_agents.rs's.

use serde_json::Value;

use crate::durability::{group, reply_and_result, start_long_tool_turn};
use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{AgentRun, FakeAgent, Harness, Options, WAIT, running_turn_in};
use crate::support::procs;

on_both_databases!(
    a_claude_thread_answers_resumes_stops_and_starts_afresh_when_lost,
    a_codex_thread_answers_resumes_stops_and_starts_afresh_when_lost,
    an_opencode_thread_answers_resumes_stops_and_starts_afresh_when_lost,
    claude_secrets_from_env_and_env_files_reach_only_the_agent,
    codex_secrets_from_env_and_env_files_reach_only_the_agent,
    opencode_secrets_from_env_and_env_files_reach_only_the_agent,
);

async fn start(db: Db, agent: FakeAgent, extra_config: String) -> Harness {
    let mut options = Options::new(db);
    options.agent = agent;
    options.extra_config = extra_config;
    Harness::start_with(options).await
}

/// How each CLI is called: its first arguments, and what it names the shell tool.
fn first_args_and_shell_tool(agent: FakeAgent) -> (&'static [&'static str], &'static str) {
    match agent {
        FakeAgent::Claude => (
            &["-p", "--output-format", "stream-json", "--verbose"],
            "Bash",
        ),
        FakeAgent::Codex => (&["exec", "--json"], "Bash"),
        FakeAgent::OpenCode => (&["run", "--format", "json"], "bash"),
    }
}

async fn a_claude_thread_answers_resumes_stops_and_starts_afresh_when_lost(db: Db) {
    scenario(db, FakeAgent::Claude, |_, _| {}).await
}

async fn a_codex_thread_answers_resumes_stops_and_starts_afresh_when_lost(db: Db) {
    scenario(db, FakeAgent::Codex, |_, runs| {
        assert_eq!(
            runs[0].argv.last().map(String::as_str),
            Some("-"),
            "the prompt on stdin"
        );
    })
    .await
}

/// OpenCode reports tokens per step: the audit's turn adds up both steps'; a new session gets
/// a title (saving OpenCode's own title request), a resumed one keeps it.
async fn an_opencode_thread_answers_resumes_stops_and_starts_afresh_when_lost(db: Db) {
    scenario(db, FakeAgent::OpenCode, |t, runs| {
        let (steps, input_tokens) = steps_and_input(t, &runs[0].session_id);
        assert_eq!(steps, 2, "a tool step and the answer's");
        let audit = tokio::task::block_in_place(|| t.cli(&["audit", "--json"]));
        let trail: Vec<Value> = serde_json::from_slice(&audit.stdout).expect("audit JSON");
        let turn = trail
            .iter()
            .find(|e| e["kind"] == "turn")
            .expect("the turn");
        assert_eq!(turn["agent"], "opencode");
        assert_eq!(
            turn["input_tokens"], input_tokens,
            "every step's tokens add up: {turn}"
        );
        assert_eq!(turn["tool_calls"][0]["name"], "bash");
        assert_eq!(
            runs[0].argv[4..6],
            ["--title", "Switchboard"],
            "{:?}",
            runs[0].argv
        );
        assert!(
            !runs[1].argv.contains(&"--title".to_owned()),
            "a resumed session keeps its title"
        );
    })
    .await
}

/// Prompt → tool in the progress → answer → the second prompt resumes the agent's
/// conversation (then `checks` looks at what is agent-specific) → `/stop` ends the run's
/// process group → the conversation's file is deleted on the host: the next prompt says the
/// conversation is lost, naming it, and the one after starts a new one.
async fn scenario(db: Db, agent: FakeAgent, checks: impl FnOnce(&Harness, &[AgentRun])) {
    let t = start(db, agent, String::new()).await;
    let (first_args, shell) = first_args_and_shell_tool(agent);

    let go = t.host_dir.path().join("go");
    let first = t.say(&format!(
        "@fake tool {shell} {{\"command\":\"cargo test\"}}\n@fake wait-for {}\nhello agent",
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
    assert_eq!(answer.text, "Echo #1: hello agent");
    assert_eq!(answer.reply_to, Some(first.message_id));
    t.wait_status(&status, "✅ Done in").await;
    let runs = t.agent_runs();
    assert_eq!(
        runs[0].argv[1..=first_args.len()],
        *first_args,
        "{:?}",
        runs[0].argv
    );
    assert_eq!(runs[0].resume_id(), None);
    assert!(
        String::from_utf8_lossy(&runs[0].prompt).contains("hello agent"),
        "the prompt came on stdin"
    );

    t.say("and again");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #2: and again");
    let conversation = runs[0].session_id.clone();
    let runs = t.agent_runs();
    assert_eq!(runs[1].resume_id(), Some(conversation.as_str()));
    checks(&t, &runs);

    let (_, _, leader, before) = start_long_tool_turn(&t, "long job").await;
    assert!(before.iter().any(|p| p.comm == agent.comm()), "{before:?}");
    let stop = t.say("/stop");
    let (reply, result) = reply_and_result(&t, stop.message_id).await;
    assert_eq!(
        reply.text,
        "🛑 Stopped the running turn; its processes on remote are gone."
    );
    assert!(group(leader).is_empty(), "left: {:?}", group(leader));
    assert_eq!(result.text, "🛑 Cancelled.");

    let file = t
        .session_file(&conversation)
        .expect("the conversation's file");
    std::fs::remove_file(&file).unwrap();
    t.say("remember me?");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    let lost = t.next().await;
    assert!(
        lost.text.contains(&conversation) && lost.text.contains("no longer exists"),
        "{}",
        lost.text
    );
    t.say("fresh start");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #1: fresh start");
    let runs = t.agent_runs();
    let last = runs.last().unwrap();
    assert_eq!(last.resume_id(), None);
    assert_ne!(last.session_id, conversation);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The number of steps of the session's first run and the input tokens they reported, from
/// the session's file on the host.
fn steps_and_input(t: &Harness, session: &str) -> (usize, i64) {
    let path = t.session_file(session).expect("the session's file");
    let text = std::fs::read_to_string(path).expect("read the session file");
    let mut finishes: Vec<Value> = Vec::new();
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).expect("a JSON line");
        if line["type"] == "step_finish" {
            let last = line["part"]["reason"] == "stop";
            finishes.push(line);
            if last {
                break; // the first run's answer: the runs after it are not counted
            }
        }
    }
    let input = finishes
        .iter()
        .map(|l| l["part"]["tokens"]["input"].as_i64().expect("input tokens"))
        .sum();
    (finishes.len(), input)
}

async fn claude_secrets_from_env_and_env_files_reach_only_the_agent(db: Db) {
    secrets_reach_only_the_agent(db, FakeAgent::Claude).await
}

async fn codex_secrets_from_env_and_env_files_reach_only_the_agent(db: Db) {
    secrets_reach_only_the_agent(db, FakeAgent::Codex).await
}

async fn opencode_secrets_from_env_and_env_files_reach_only_the_agent(db: Db) {
    secrets_reach_only_the_agent(db, FakeAgent::OpenCode).await
}

/// An `env` secret and an `env_files` secret (read from a file on the bot's machine) are in
/// the agent's environment while it runs, and in no command line on the machine (host and bot
/// are one machine here) nor in the bot's log.
async fn secrets_reach_only_the_agent(db: Db, agent: FakeAgent) {
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
