//! OpenCode sessions have Claude's guarantees: a Telegram thread runs `opencode run` on an SSH
//! host (the fake OpenCode, src/bin/fake-opencode), shows its tools in the progress, answers with
//! the last text (OpenCode prints no final report), adds up its per-step tokens, resumes its
//! session with `--session`, is stopped, and survives losing its session; its configured secrets
//! reach only its environment. A killed bot and a cut SSH link are tests/e2e/durability.rs's,
//! run for every agent.

use serde_json::Value;

use crate::codex::secrets_reach_only_the_agent;
use crate::durability::{group, reply_and_result, start_long_tool_turn};
use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{FakeAgent, Harness, Options, WAIT};

on_both_databases!(
    an_opencode_session_answers_resumes_stops_and_starts_afresh_when_lost,
    opencode_secrets_from_env_and_env_files_reach_only_the_agent,
);

/// Prompt → tool in the progress → answer (the last text) with the tokens of both steps →
/// the second prompt resumes the session → `/stop` ends the run's process group → the session's
/// file is deleted on the host: the next prompt says the conversation is lost, naming it, and
/// the one after starts a new session.
async fn an_opencode_session_answers_resumes_stops_and_starts_afresh_when_lost(db: Db) {
    let mut options = Options::new(db);
    options.agent = FakeAgent::OpenCode;
    let t = Harness::start_with(options).await;

    let go = t.host_dir.path().join("go");
    let first = t.say(&format!(
        "@fake tool bash {{\"command\":\"cargo test\"}}\n@fake wait-for {}\nhello opencode",
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
    assert_eq!(answer.text, "Echo #1: hello opencode");
    assert_eq!(answer.reply_to, Some(first.message_id));
    t.wait_status(&status, "✅ Done in").await;
    let runs = t.agent_runs();
    assert_eq!(
        runs[0].argv[1..6],
        ["run", "--format", "json", "--title", "Switchboard"],
        "{:?}",
        runs[0].argv
    );
    assert_eq!(runs[0].resume_id(), None);
    assert!(
        String::from_utf8_lossy(&runs[0].prompt).contains("hello opencode"),
        "the prompt came on stdin"
    );
    let session = runs[0].session_id.clone();
    let (steps, input_tokens) = steps_and_input(&t, &session);
    assert_eq!(steps, 2, "a tool step and the answer's");
    let audit = tokio::task::block_in_place(|| t.cli(&["audit", "--json"]));
    let turns: Vec<Value> = serde_json::from_slice(&audit.stdout).expect("audit JSON");
    let turn = turns
        .iter()
        .find(|e| e["kind"] == "turn")
        .expect("the turn");
    assert_eq!(turn["agent"], "opencode");
    assert_eq!(
        turn["input_tokens"], input_tokens,
        "every step's tokens add up: {turn}"
    );
    assert_eq!(turn["tool_calls"][0]["name"], "bash");

    t.say("and again");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #2: and again");
    assert_eq!(t.agent_runs()[1].resume_id(), Some(session.as_str()));
    assert!(
        !t.agent_runs()[1].argv.contains(&"--title".to_owned()),
        "a resumed session keeps its title"
    );

    let (_, _, leader, before) = start_long_tool_turn(&t, "long job").await;
    assert!(
        before.iter().any(|p| p.comm == "fake-opencode"),
        "{before:?}"
    );
    let stop = t.say("/stop");
    let (reply, result) = reply_and_result(&t, stop.message_id).await;
    assert_eq!(
        reply.text,
        "🛑 Stopped the running turn; its processes on remote are gone."
    );
    assert!(group(leader).is_empty(), "left: {:?}", group(leader));
    assert_eq!(result.text, "🛑 Cancelled.");

    let file = t.session_file(&session).expect("the session's file");
    std::fs::remove_file(&file).unwrap();
    t.say("remember me?");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    let lost = t.next().await;
    assert!(
        lost.text.contains(&session) && lost.text.contains("no longer exists"),
        "{}",
        lost.text
    );
    t.say("fresh start");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #1: fresh start");
    let runs = t.agent_runs();
    let last = runs.last().unwrap();
    assert_eq!(last.resume_id(), None);
    assert_ne!(last.session_id, session);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The number of steps of the session's first run and the input tokens they reported, from
/// the session's file on the host.
fn steps_and_input(t: &Harness, session: &str) -> (usize, i64) {
    let path = t.session_file(session).expect("the session's file");
    let text = std::fs::read_to_string(path).expect("read the session file");
    let finishes: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|l| l["type"] == "step_finish")
        .collect();
    let input = finishes
        .iter()
        .map(|l| l["part"]["tokens"]["input"].as_i64().expect("input tokens"))
        .sum();
    (finishes.len(), input)
}

async fn opencode_secrets_from_env_and_env_files_reach_only_the_agent(db: Db) {
    secrets_reach_only_the_agent(db, FakeAgent::OpenCode).await
}
