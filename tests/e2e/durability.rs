//! Turns that survive a killed bot and a dropped SSH link; /stop; many prompts at once.
//!
//! What these tests check on the host they read from the host itself: the fake agent's
//! recordings (one per run), its session transcripts (one line per prompt and per output line,
//! appended as they happen) and the processes in /proc (the turn's process group, led by the
//! wrapper whose pid the turn directory holds).

use std::time::{Duration, Instant};

use serde_json::Value;

use switchboard::domain::ids::TurnId;
use switchboard::domain::outbox_key::OutboxKey;

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_telegram::{BotMessage, Sent};
use crate::support::harness::{FakeAgent, Harness, Options, WAIT};

on_both_databases!(
    five_prompts_at_once_are_answered_in_order_one_run_at_a_time,
    a_bot_killed_mid_turn_posts_the_answer_once_after_restart,
    a_bot_killed_mid_codex_turn_posts_the_answer_once_after_restart,
    a_bot_killed_mid_opencode_turn_posts_the_answer_once_after_restart,
    a_cut_ssh_connection_mid_turn_still_gets_the_answer_once,
    a_cut_ssh_connection_mid_codex_turn_still_gets_the_answer_once,
    a_cut_ssh_connection_mid_opencode_turn_still_gets_the_answer_once,
    stop_kills_the_turns_process_group_and_the_session_goes_on,
    stop_all_cancels_the_running_turn_and_drops_the_queue,
    a_turn_under_way_keeps_its_host_slot_across_a_restart,
);

/// Five prompts sent within a second in one thread: each acknowledged with its place, all five
/// answered in order (each answer replying to its prompt), and the agent runs never overlap.
async fn five_prompts_at_once_are_answered_in_order_one_run_at_a_time(db: Db) {
    let t = Harness::start(db).await;

    let began = Instant::now();
    let prompts: Vec<_> = (1..=5)
        .map(|i| t.say(&format!("@fake sleep 0.3\nprompt {i}")))
        .collect();
    assert!(began.elapsed() < Duration::from_secs(1));

    // Acknowledgements and answers interleave as the turns run; take all ten posts.
    let mut posts = Vec::new();
    for _ in 0..10 {
        posts.push(t.next().await);
    }
    let (acks, answers): (Vec<BotMessage>, Vec<BotMessage>) = posts
        .iter()
        .cloned()
        .partition(|m| m.text.starts_with('⏳'));
    let ack_texts: Vec<&str> = acks.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        ack_texts,
        [
            "⏳ Starting…",
            "⏳ Queued, position 1: next once the current turn ends.",
            "⏳ Queued, position 2: 2 prompts are ahead of it.",
            "⏳ Queued, position 3: 3 prompts are ahead of it.",
            "⏳ Queued, position 4: 4 prompts are ahead of it.",
        ],
        "one acknowledgement per prompt, telling its place"
    );
    let answer_texts: Vec<&str> = answers.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        answer_texts,
        (1..=5)
            .map(|i| format!("Echo #{i}: prompt {i}"))
            .collect::<Vec<_>>(),
        "all five answered, in order, each continuing the conversation"
    );
    for (i, prompt) in prompts.iter().enumerate() {
        assert_eq!(acks[i].reply_to, Some(prompt.message_id), "ack {i}");
        assert_eq!(answers[i].reply_to, Some(prompt.message_id), "answer {i}");
        let ack_at = posts
            .iter()
            .position(|m| m.message_id == acks[i].message_id);
        let answer_at = posts
            .iter()
            .position(|m| m.message_id == answers[i].message_id);
        assert!(
            ack_at < answer_at,
            "prompt {i} was acknowledged before it was answered"
        );
        t.wait_status(&acks[i], "✅ Done in").await;
    }

    let runs = t.agent_runs();
    assert_eq!(runs.len(), 5, "one agent run per prompt");
    for (i, run) in runs.iter().enumerate() {
        let prompt = String::from_utf8_lossy(&run.prompt);
        assert!(
            prompt.ends_with(&format!("prompt {}", i + 1)),
            "run {i}: {prompt:?}"
        );
        match i {
            0 => assert_eq!(run.resume_id(), None),
            _ => assert_eq!(run.resume_id(), Some(runs[0].session_id.as_str())),
        }
    }
    // Every run sleeps before its result, so overlapping runs would interleave in the shared
    // transcript: a second prompt line before the first run's result line.
    let marks: String = transcript(&t, &runs[0].session_id)
        .iter()
        .filter_map(|line| match line {
            l if l.get("fake_turn").is_some() => Some('P'),
            l if l["type"] == "result" => Some('R'),
            _ => None,
        })
        .collect();
    assert_eq!(
        marks, "PRPRPRPRPR",
        "each run ended before the next one started"
    );
    for pair in runs.windows(2) {
        assert!(pair[1].started_at_ns > pair[0].started_at_ns);
    }
    t.tg.assert_all_read();
    t.assert_no_violations();
}

async fn a_bot_killed_mid_turn_posts_the_answer_once_after_restart(db: Db) {
    a_bot_killed_mid_turn(db, FakeAgent::Claude).await
}

async fn a_bot_killed_mid_codex_turn_posts_the_answer_once_after_restart(db: Db) {
    a_bot_killed_mid_turn(db, FakeAgent::Codex).await
}

async fn a_bot_killed_mid_opencode_turn_posts_the_answer_once_after_restart(db: Db) {
    a_bot_killed_mid_turn(db, FakeAgent::OpenCode).await
}

/// The bot is SIGKILLed while the agent works on the SSH host; the restarted bot reattaches and
/// posts the answer exactly once, and the agent ran once, undisturbed. A second kill after the
/// answer was posted does not make a restart post it again.
async fn a_bot_killed_mid_turn(db: Db, agent: FakeAgent) {
    let mut options = Options::new(db);
    options.agent = agent;
    let mut t = Harness::start_with(options).await;

    let prompt = t.say("@fake sleep 4\nsurvive a crash");
    let status = t.next().await;
    assert_eq!(status.text, "⏳ Starting…");
    t.wait_agent_runs(1).await;
    let (turn_id, leader) = t.running_turn();
    let turn = TurnId::from_string(turn_id.clone());
    wait_recorded(&t, &OutboxKey::Status(turn.clone())).await;
    t.kill_bot();
    assert_eq!(
        t.tg.bot_messages(&t.chat).len(),
        1,
        "killed before the answer"
    );
    assert!(
        group(leader).iter().any(|p| p.comm == agent.comm()),
        "the agent outlives the bot: {:?}",
        group(leader)
    );

    t.start_bot().await;
    let answer = t.next().await;
    assert_eq!(answer.text, "Echo #1: survive a crash");
    assert_eq!(answer.reply_to, Some(prompt.message_id));
    t.wait_status(&status, "✅ Done in").await;
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 1, "the agent was started once");
    assert_eq!(
        t.finished_answers(&runs[0].session_id),
        ["Echo #1: survive a crash"],
        "the run finished once"
    );

    // Killed again after everything was posted: a restart has nothing to repeat. The next
    // prompt is the sync point — the outbox posts in order, so a repeat would come first.
    wait_recorded(&t, &OutboxKey::Result(turn.clone())).await;
    t.kill_bot();
    t.start_bot().await;
    t.say("still there?");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #2: still there?");
    let bot_messages = t.tg.bot_messages(&t.chat);
    assert_eq!(bot_messages.len(), 4, "{bot_messages:#?}");
    assert_eq!(
        bot_messages
            .iter()
            .filter(|m| m.text == answer.text)
            .count(),
        1,
        "the answer was posted once"
    );
    assert_eq!(t.agent_runs().len(), 2);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

async fn a_cut_ssh_connection_mid_turn_still_gets_the_answer_once(db: Db) {
    a_cut_ssh_connection_mid_turn(db, FakeAgent::Claude).await
}

async fn a_cut_ssh_connection_mid_codex_turn_still_gets_the_answer_once(db: Db) {
    a_cut_ssh_connection_mid_turn(db, FakeAgent::Codex).await
}

async fn a_cut_ssh_connection_mid_opencode_turn_still_gets_the_answer_once(db: Db) {
    a_cut_ssh_connection_mid_turn(db, FakeAgent::OpenCode).await
}

/// Every SSH connection is cut while the agent works: the agent finishes on the host and the
/// bot, once reconnected, posts the answer exactly once.
async fn a_cut_ssh_connection_mid_turn(db: Db, agent: FakeAgent) {
    let mut options = Options::new(db);
    options.agent = agent;
    let t = Harness::start_with(options).await;

    let prompt = t.say("@fake sleep 4\nhold the line");
    let status = t.next().await;
    t.wait_agent_runs(1).await;
    let (_, leader) = t.running_turn();
    assert!(
        t.sshd.connection_count() > 0,
        "the bot follows the turn over SSH"
    );
    t.sshd.kill_connections();
    assert!(
        group(leader).iter().any(|p| p.comm == agent.comm()),
        "the agent outlives the connection: {:?}",
        group(leader)
    );

    let answer = t.next().await;
    assert_eq!(answer.text, "Echo #1: hold the line");
    assert_eq!(answer.reply_to, Some(prompt.message_id));
    let status = t.wait_status(&status, "✅ Done in").await;
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 1, "the agent was started once");
    assert_eq!(
        t.finished_answers(&runs[0].session_id),
        ["Echo #1: hold the line"],
        "the run finished once"
    );
    // Whether the drop showed up in the progress message depends on timing; when it did, it
    // said the agent keeps working.
    for v in &status.versions {
        if v.text.contains("Lost the connection") {
            assert!(
                v.text.contains("The agent keeps working there"),
                "{}",
                v.text
            );
        }
    }
    assert!(t.sshd.connection_count() > 0, "the bot reconnected");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// `/stop` during a long tool call: the turn's whole process group on the host is gone when the
/// reply says so, the status ends as cancelled, and the next prompt resumes the conversation.
async fn stop_kills_the_turns_process_group_and_the_session_goes_on(db: Db) {
    let t = Harness::start(db).await;

    let (prompt, status, leader, before) = start_long_tool_turn(&t, "long job").await;
    assert!(before.iter().any(|p| p.comm == "fake-claude"), "{before:?}");

    let stop = t.say("/stop");
    let (reply, result) = reply_and_result(&t, stop.message_id).await;
    assert_eq!(
        reply.text,
        "🛑 Stopped the running turn; its processes on remote are gone."
    );
    assert!(
        group(leader).is_empty(),
        "left on the host: {:?}",
        group(leader)
    );
    for p in &before {
        assert!(!alive(p.pid), "{p:?} outlived /stop");
    }
    assert_eq!(result.text, "🛑 Cancelled.");
    assert_eq!(result.reply_to, Some(prompt.message_id));
    t.wait_status(&status, "🛑 Cancelled after").await;

    t.say("are you back?");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #2: are you back?");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// `/stop all` with one turn running and two queued: the running one is cancelled, the queued
/// ones are dropped (their status messages say so) and never reach the agent.
async fn stop_all_cancels_the_running_turn_and_drops_the_queue(db: Db) {
    let t = Harness::start(db).await;

    let (first, running, leader, _) = start_long_tool_turn(&t, "running one").await;
    t.say("queued one");
    let queued_one = t.next().await;
    assert!(
        queued_one.text.starts_with("⏳ Queued, position 1:"),
        "{}",
        queued_one.text
    );
    t.say("queued two");
    let queued_two = t.next().await;
    assert!(
        queued_two.text.starts_with("⏳ Queued, position 2:"),
        "{}",
        queued_two.text
    );

    let stop = t.say("/stop all");
    let (reply, result) = reply_and_result(&t, stop.message_id).await;
    assert_eq!(
        reply.text,
        "🛑 Stopped the running turn; its processes on remote are gone. Dropped 2 queued prompts."
    );
    assert!(
        group(leader).is_empty(),
        "left on the host: {:?}",
        group(leader)
    );
    assert_eq!(result.text, "🛑 Cancelled.");
    assert_eq!(result.reply_to, Some(first.message_id));
    t.wait_status(&running, "🛑 Cancelled after").await;
    for queued in [&queued_one, &queued_two] {
        t.wait_status(queued, "🗑 Dropped from the queue (/stop all).")
            .await;
    }

    // The next prompt runs next: the dropped ones never reach the agent, now or later.
    t.say("fresh prompt");
    assert_eq!(t.next().await.text, "⏳ Starting…");
    assert_eq!(t.next().await.text, "Echo #2: fresh prompt");
    let prompts: Vec<String> = t
        .agent_runs()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.prompt).into_owned())
        .collect();
    assert_eq!(
        prompts,
        ["@fake tool-sleep 60\nrunning one", "fresh prompt"],
        "what reached the agent"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A host that runs one turn at a time, the bot killed while Alice's turn runs there and Bob's
/// waits for the slot: after the restart Alice's turn keeps the slot, so Bob's runs only after
/// it — never beside it — and each answer shows its own file only. (Bob's session is the older
/// one, so the restarted bot picks it up first: without the held slot, his queued turn took
/// the host while hers was still running, and her changes showed his file too.)
async fn a_turn_under_way_keeps_its_host_slot_across_a_restart(db: Db) {
    let mut options = Options::new(db);
    options.host_slots = 1;
    options.more_allowed_users = vec![1002];
    let mut t = Harness::start_with(options).await;
    let bob = t.tg.user(1002, "Bob", None);
    let bobs = t.tg.private_chat(&bob);
    t.tg.send_text(&bobs, &bob, "first");
    t.tg.next_bot_message(&bobs, None, WAIT).await;
    let first = t.tg.next_bot_message(&bobs, None, WAIT).await;
    assert_eq!(first.text, "Echo #1: first");

    // Her agent waits for a file outside the workspace, so it is surely running at the kill.
    let go = t.host_dir.path().join("go");
    t.say(&format!(
        "@fake wait-for {}\n@fake write alice.txt hers\nalice's turn",
        go.display()
    ));
    t.next().await;
    t.wait_agent_runs(2).await;
    t.tg.send_text(&bobs, &bob, "@fake write bob.txt his\nbob's turn");
    let waiting = t.tg.next_bot_message(&bobs, None, WAIT).await;
    t.tg.wait_for_message(
        &bobs,
        |m| m.message_id == waiting.message_id && m.text.starts_with("⏳ Waiting for a free slot"),
        WAIT,
    )
    .await;
    t.kill_bot();
    t.start_bot().await;
    std::fs::write(&go, "").expect("let her agent go on");

    let hers = t.next().await;
    assert!(
        hers.text
            .starts_with("Echo #1: alice's turn\n\nChanges: 1 file, +1 −0\n\n• alice.txt"),
        "{}",
        hers.text
    );
    assert_eq!(t.next().await.text, "The patch: 1 file changed.");
    let his = t.tg.next_bot_message(&bobs, None, WAIT).await;
    assert!(
        his.text
            .starts_with("Echo #2: bob's turn\n\nChanges: 1 file, +1 −0\n\n• bob.txt"),
        "{}",
        his.text
    );
    t.tg.next_bot_message(&bobs, None, WAIT).await;
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 3, "each prompt ran once");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The reply to a `/stop` and the cancelled turn's result, in whichever order they came.
pub(crate) async fn reply_and_result(t: &Harness, stop_message: i32) -> (BotMessage, BotMessage) {
    let (a, b) = (t.next().await, t.next().await);
    if a.reply_to == Some(stop_message) {
        (a, b)
    } else {
        assert_eq!(b.reply_to, Some(stop_message), "{a:#?}\n{b:#?}");
        (b, a)
    }
}

/// The fake agent's transcript of `session_id` on the host, one JSON value per line.
fn transcript(t: &Harness, session_id: &str) -> Vec<Value> {
    let projects = t.host_dir.path().join("claude/projects");
    let path = std::fs::read_dir(&projects)
        .expect("the agent's projects dir")
        .map(|e| e.expect("entry").path().join(format!("{session_id}.jsonl")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no transcript of {session_id} under {}", projects.display()));
    std::fs::read_to_string(path)
        .expect("read the transcript")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Sends a prompt whose turn runs a 60-second tool call, and waits until the turn's process
/// group on the host has the agent and its `sleep`. Returns the prompt, its status message, the
/// group's leader and its processes.
pub(crate) async fn start_long_tool_turn(
    t: &Harness,
    text: &str,
) -> (Sent, BotMessage, u32, Vec<Proc>) {
    let prompt = t.say(&format!("@fake tool-sleep 60\n{text}"));
    let status = t.next().await;
    assert_eq!(status.text, "⏳ Starting…");
    t.wait_agent_runs(1).await;
    let (_, leader) = t.running_turn();
    let members = wait_group_has(leader, "sleep").await;
    (prompt, status, leader, members)
}

/// Waits until the bot has recorded the message under `key` as posted. Telegram has no
/// idempotency key, so a bot killed between Telegram accepting a message and the bot recording
/// it would post it again (the one-round-trip window the outlet's docs name); a test that kills
/// the bot "after a message" kills it after this.
async fn wait_recorded(t: &Harness, key: &OutboxKey) {
    let store = t.store().await;
    let deadline = Instant::now() + WAIT;
    while store
        .posted_parts(key)
        .await
        .expect("read posted")
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "{key} was never recorded as posted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    store.close().await;
}

/// A live (not zombie) process on this machine.
#[derive(Debug, Clone)]
pub(crate) struct Proc {
    pub(crate) pid: u32,
    pgrp: u32,
    pub(crate) comm: String,
}

fn processes() -> Vec<Proc> {
    let mut procs = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        if *state == "Z" || *state == "X" {
            continue;
        }
        if let Ok(pgrp) = pgrp.parse() {
            procs.push(Proc {
                pid,
                pgrp,
                comm: stat[open + 1..close].to_owned(),
            });
        }
    }
    procs
}

/// The live processes of the process group `pgid`.
pub(crate) fn group(pgid: u32) -> Vec<Proc> {
    processes().into_iter().filter(|p| p.pgrp == pgid).collect()
}

fn alive(pid: u32) -> bool {
    processes().iter().any(|p| p.pid == pid)
}

/// Waits until the process group `pgid` has a process named `comm`; returns the group.
async fn wait_group_has(pgid: u32, comm: &str) -> Vec<Proc> {
    let deadline = Instant::now() + WAIT;
    loop {
        let members = group(pgid);
        if members.iter().any(|p| p.comm == comm) {
            return members;
        }
        assert!(
            Instant::now() < deadline,
            "no {comm} in process group {pgid}: {members:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
