//! Every failure is told plainly and leaves the session in the right state.

use std::path::Path;
use std::time::Duration;

use switchboard::domain::thread::Platform;

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_telegram::{BotMessage, FakeChat};
use crate::support::harness::{FAKE_CLAUDE, Harness, Options, WAIT};

on_both_databases!(
    a_lost_conversation_is_told_and_the_next_prompt_starts_fresh,
    an_api_error_is_told_and_the_conversation_continues,
    the_turn_limit_is_told,
    over_long_output_lines_are_skipped_and_told,
    a_timeout_stops_the_agent_on_the_host,
    a_missing_agent_is_named,
    hostile_prompts_reach_the_agent_byte_exact,
    a_nul_in_a_prompt_is_refused_on_every_database,
    a_host_key_mismatch_refuses_the_host,
    strangers_get_one_refusal_per_chat_and_nothing_runs,
);

/// Sends a prompt and returns its status message (first) and its result message (second).
async fn turn(t: &Harness, prompt: &str) -> (BotMessage, BotMessage) {
    let sent = t.say(prompt);
    let status = t.next().await;
    assert!(
        status.text.contains("Starting"),
        "acknowledged at once: {}",
        status.text
    );
    assert_eq!(status.reply_to, Some(sent.message_id));
    let result = t.next().await;
    assert_eq!(
        result.reply_to,
        Some(sent.message_id),
        "the result answers the prompt"
    );
    (status, result)
}

/// Markdown escapes must never show up in what the user reads (a `\\-` in a code span does).
fn assert_no_escapes(message: &BotMessage) {
    assert!(
        !message.text.contains('\\'),
        "escapes leaked into the text: {}",
        message.text
    );
}

/// The `--resume` id points to a conversation the host no longer has: the user is told the
/// context is lost, and the next prompt starts a fresh conversation instead of failing again.
async fn a_lost_conversation_is_told_and_the_next_prompt_starts_fresh(db: Db) {
    let t = Harness::start(db).await;
    let (_, answer) = turn(&t, "remember this").await;
    assert_eq!(answer.text, "Echo #1: remember this");
    let lost = t.agent_runs()[0].session_id.clone();
    let projects = t.host_dir.path().join("claude/projects");
    std::fs::remove_dir_all(&projects).expect("delete the agent's transcripts");

    let (status, message) = turn(&t, "do you remember?").await;
    assert!(message.text.contains("context is lost"), "{}", message.text);
    assert_no_escapes(&message);
    assert!(
        message.text.contains(&lost),
        "names the lost conversation: {}",
        message.text
    );
    assert!(
        message.text.contains("next message starts a fresh"),
        "{}",
        message.text
    );
    let status = t.wait_status(&status, "❌").await.text;
    assert!(status.contains("conversation lost"), "{status}");
    assert_eq!(t.agent_runs()[1].resume_id(), Some(lost.as_str()));

    let (_, answer) = turn(&t, "start over").await;
    assert_eq!(answer.text, "Echo #1: start over");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[2].resume_id(), None, "argv: {:?}", runs[2].argv);
    assert!(!runs[2].resumed);
    assert_ne!(runs[2].session_id, lost);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The model API fails: the user sees the agent's own error text and the HTTP status, and the
/// conversation survives it.
async fn an_api_error_is_told_and_the_conversation_continues(db: Db) {
    let t = Harness::start(db).await;
    let (status, message) = turn(&t, "@fake api-error 500\nplease work").await;
    assert!(message.text.contains("HTTP 500"), "{}", message.text);
    assert_no_escapes(&message);
    assert!(
        message.text.contains("API Error: 500 fake internal"),
        "carries the agent's message: {}",
        message.text
    );
    let status = t.wait_status(&status, "❌").await.text;
    assert!(status.contains("model API error"), "{status}");

    let (_, answer) = turn(&t, "try again").await;
    assert_eq!(answer.text, "Echo #2: try again");
    let runs = t.agent_runs();
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    assert!(runs[1].resumed, "the agent found the conversation");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The agent stops at its turn limit: the user is told, and a follow-up continues.
async fn the_turn_limit_is_told(db: Db) {
    let t = Harness::start(db).await;
    let (status, message) = turn(&t, "@fake max-turns\nbig job").await;
    assert!(message.text.contains("turn limit"), "{}", message.text);
    assert_no_escapes(&message);
    assert!(message.text.contains("max_turns"), "{}", message.text);
    let status = t.wait_status(&status, "❌").await.text;
    assert!(status.contains("turn limit reached"), "{status}");

    let (_, answer) = turn(&t, "go on").await;
    assert_eq!(answer.text, "Echo #2: go on");
    let runs = t.agent_runs();
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// An output line over the 16 MB Switchboard reads is skipped as it streams in (not held in
/// memory, not rescanned): an intermediate one costs nothing but itself, and when the answer is
/// such a line the user is told what happened instead of "the agent stopped".
async fn over_long_output_lines_are_skipped_and_told(db: Db) {
    let t = Harness::start(db).await;
    let (_, answer) = turn(&t, "@fake text-bytes 17000000\nafter the long line").await;
    assert_eq!(answer.text, "Echo #1: after the long line");

    let (status, message) = turn(&t, "@fake answer-bytes 17000000\ntoo big").await;
    assert!(
        message
            .text
            .contains("output line of 17.1 MB, more than the 16.0 MB I read"),
        "{}",
        message.text
    );
    let status = t.wait_status(&status, "❌").await.text;
    assert!(status.contains("output too long"), "{status}");

    let (_, answer) = turn(&t, "still there?").await;
    assert_eq!(answer.text, "Echo #3: still there?");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A turn that outlives `turn_timeout` is stopped: the user is told, and the agent's whole
/// process group on the host (the agent and the tool it was running) is gone.
async fn a_timeout_stops_the_agent_on_the_host(db: Db) {
    let t = Harness::start_with(Options {
        turn_timeout: "2s",
        ..Options::new(db)
    })
    .await;
    let sent = t.say("@fake tool-sleep 30\nslow work");
    let status = t.next().await;
    assert_eq!(status.reply_to, Some(sent.message_id));
    let run = t.wait_agent_runs(1).await.remove(0);
    let agent = agent_pid(&t, &run.started_at_ns);
    let (_, group) = t.running_turn();
    assert!(alive(agent), "the agent runs");
    assert!(
        !group_members(group).is_empty(),
        "the turn's process group runs"
    );

    let message = t.next().await;
    assert!(
        message.text.contains("longer than the limit of 2s"),
        "{}",
        message.text
    );
    assert!(message.text.contains("was stopped"), "{}", message.text);
    assert_no_escapes(&message);
    let status = t.wait_status(&status, "⏱").await.text;
    assert!(status.starts_with("⏱ Timed out after"), "{status}");
    assert!(!alive(agent), "the agent (pid {agent}) is gone");
    assert_eq!(
        group_members(group),
        Vec::<u32>::new(),
        "the process group is gone"
    );

    let (_, answer) = turn(&t, "continue").await;
    assert!(
        answer.text.starts_with("Echo #2: continue"),
        "{}",
        answer.text
    );
    let runs = t.agent_runs();
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The agent command is not on the host: the message says so and names the command.
async fn a_missing_agent_is_named(db: Db) {
    let t = Harness::start_with(Options {
        agent_command: Some("/nonexistent/claude".into()),
        ..Options::new(db)
    })
    .await;
    let (status, message) = turn(&t, "hello").await;
    assert!(message.text.contains("not installed"), "{}", message.text);
    assert_no_escapes(&message);
    assert!(
        message.text.contains("/nonexistent/claude"),
        "{}",
        message.text
    );
    let status = t.wait_status(&status, "❌").await.text;
    assert!(status.contains("agent not installed"), "{status}");
    assert!(t.agent_runs().is_empty());
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Prompts full of shell syntax, indentation or mentions of the bot reach the agent byte for
/// byte, and nothing in them runs.
async fn hostile_prompts_reach_the_agent_byte_exact(db: Db) {
    let t = Harness::start(db).await;
    let bot = t.tg.bot_username();
    let markers = tempfile::tempdir().expect("marker dir");
    let marker = |n: usize| markers.path().join(format!("marker-{n}"));
    let m = |n: usize| marker(n).display().to_string();
    let mut big = String::from("a big prompt\n");
    while big.len() < 100 * 1024 {
        big.push_str(&format!(
            "line {}: 'q' \"qq\" $(touch {}) `touch {}`; touch {} && echo ünïcödé 🚀\n",
            big.len(),
            m(8),
            m(9),
            m(10)
        ));
    }
    big.push_str("the end");
    let prompts = [
        r#"it's "double" 'single' \"escaped\" \\ '\'' "'" end"#.to_owned(),
        format!("$(touch {}) ${{IFS}} $HOME $((1+1)) $(($(touch {})))", m(1), m(2)),
        format!("`touch {}` and ``touch {}``", m(3), m(4)),
        format!("x; touch {}; '; touch {}; ' \"; touch {} #\" | cat > /tmp/x &", m(5), m(6), m(7)),
        "first line\nsecond line\n\n\n  indented fifth\ttab\r\ncarriage return".to_owned(),
        big,
        "👩‍💻 🚀 \u{202E}desrever\u{202C} \u{200F}שלום עולם\u{200F} مرحبا \u{200B}zero width e\u{301} 𝕏"
            .to_owned(),
        // Pasted code keeps its indentation and trailing blanks; a mention of the bot that does
        // not address it (in a private chat, or not at the start) is the user's text.
        "    fn main() {\n        run();\n    }\n  ".to_owned(),
        format!("ask @{bot} about it, then @{bot} again"),
    ];
    for (i, prompt) in prompts.iter().enumerate() {
        let (_, answer) = turn(&t, prompt).await;
        let number = format!("Echo #{}: ", i + 1);
        assert!(answer.text.starts_with(&number), "{}", answer.text);
        let runs = t.agent_runs();
        assert_eq!(runs.len(), i + 1);
        assert!(
            runs[i].prompt == prompt.as_bytes(),
            "prompt {i} changed on its way:\nsent     {prompt:?}\nreceived {:?}",
            String::from_utf8_lossy(&runs[i].prompt)
        );
    }
    for n in 1..=10 {
        assert!(
            !marker(n).exists(),
            "{} was created: a shell ran user text",
            m(n)
        );
    }
    let workdir = t.agent_runs()[0].cwd.clone();
    let stray: Vec<_> = std::fs::read_dir(&workdir)
        .expect("workdir")
        .map(|e| e.expect("entry").file_name())
        .filter(|name| name != ".git")
        .collect();
    assert!(stray.is_empty(), "files appeared in the workdir: {stray:?}");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A NUL character cannot reach the agent (Postgres text cannot even store it): the prompt is
/// refused with a message that says what to change, on both databases alike, and the
/// conversation goes on. A stranger's NUL is refused (and audited) like any other message.
async fn a_nul_in_a_prompt_is_refused_on_every_database(db: Db) {
    let t = Harness::start(db).await;
    let sent = t.say("before\0after");
    let refusal = t.next().await;
    assert_eq!(refusal.reply_to, Some(sent.message_id));
    assert!(refusal.text.contains("NUL character"), "{}", refusal.text);
    let (_, answer) = turn(&t, "after").await;
    assert_eq!(answer.text, "Echo #1: after");
    assert_eq!(t.agent_runs().len(), 1, "the refused prompt ran nothing");

    let mallory = t.tg.user(2002, "Mallory", Some("mallory"));
    let private = t.tg.private_chat(&mallory);
    t.tg.send_text(&private, &mallory, "let\0me in");
    let refused = t.tg.next_bot_message(&private, None, WAIT).await;
    assert!(refused.text.contains("not allowed"), "{}", refused.text);
    let audit = t.store().await.audit_log(100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "refused" && a.detail.contains("let␀me in")),
        "{audit:#?}"
    );
    t.wait_text("✅ Done").await;
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// The host presents another key than the pinned one: the bot refuses to connect, tells the
/// user the host is unavailable and why, and `check` names the problem and the fix.
async fn a_host_key_mismatch_refuses_the_host(db: Db) {
    let keys = tempfile::tempdir().expect("key dir");
    let t = Harness::start_with(Options {
        pinned_host_key: Some(other_host_key(keys.path())),
        ..Options::new(db)
    })
    .await;
    let (status, message) = turn(&t, "hello").await;
    assert_no_escapes(&message);
    assert!(
        message.text.contains("Host remote is unavailable"),
        "{}",
        message.text
    );
    assert!(
        message.text.contains("unexpected host key"),
        "{}",
        message.text
    );
    assert!(
        message.text.contains(&t.sshd.host_key_fingerprint()),
        "shows the key it was offered: {}",
        message.text
    );
    let status = t.wait_status(&status, "❌").await.text;
    assert!(status.contains("host key mismatch"), "{status}");
    assert!(t.agent_runs().is_empty(), "nothing ran on the host");
    assert!(
        !t.host_dir.path().join("state/turns").exists(),
        "no turn directory was made on the host"
    );

    let out = tokio::task::block_in_place(|| t.cli(&["check"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "check must fail:\n{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("host remote"))
        .unwrap_or_else(|| panic!("no line for host remote:\n{stdout}"));
    assert!(line.starts_with("✗ host remote: "), "{line}");
    assert!(line.contains("host key mismatch"), "{line}");
    assert!(
        line.contains("fix: ") && line.contains("hosts.remote.host_key"),
        "{line}"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// In a correct setup `check` passes and reports the agent's version and the Telegram bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_in_a_correct_setup() {
    // The `local` host always exists, so a correct setup gives it an agent too.
    let t = Harness::prepare(Options {
        extra_config: format!("\n[hosts.local.agents.claude]\ncommand = \"{FAKE_CLAUDE}\"\n"),
        ..Options::new(Db::Sqlite)
    })
    .await;
    let out = tokio::task::block_in_place(|| t.cli(&["check"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "check failed:\n{stdout}\n{stderr}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
            .to_owned()
    };
    let local = line("host local");
    assert!(local.starts_with("✓ host local: "), "{local}");
    let host = line("host remote");
    assert!(host.starts_with("✓ host remote: reachable"), "{host}");
    assert!(host.contains("agent 2.1.330"), "{host}");
    let telegram = line("telegram");
    assert!(telegram.starts_with("✓ telegram: "), "{telegram}");
    assert!(telegram.contains(&t.tg.bot_username()), "{telegram}");
    assert!(!stdout.contains('✗'), "{stdout}");
}

/// Someone not on the allowlist writes, several times, in a private chat and in a group: each
/// chat gets one polite refusal naming their user id, every message is audited, nothing runs.
async fn strangers_get_one_refusal_per_chat_and_nothing_runs(db: Db) {
    let t = Harness::start(db).await;
    let hour = || switchboard::domain::ids::now_ms() / 3_600_000;
    let first_hour = hour();
    let mallory = t.tg.user(2002, "Mallory", Some("mallory"));
    let private = t.tg.private_chat(&mallory);
    let group = t.tg.group("Shared");
    let bot = t.tg.bot_username();
    let mut sent = Vec::new();
    for text in ["hello", "/status", "@fake crash 0\nrun this"] {
        sent.push(t.tg.send_text(&private, &mallory, text));
    }
    for text in ["please run ls", "again", "/new"] {
        let text = if text.starts_with('/') {
            format!("{text}@{bot}")
        } else {
            format!("@{bot} {text}")
        };
        sent.push(t.tg.send_text(&group, &mallory, &text));
    }
    for s in &sent {
        t.tg.wait_until_confirmed(s.update_id, WAIT).await;
    }
    let store = t.store().await;
    settled(&store, sent.len()).await;

    // One refusal per chat and hour (a test that straddles an hour may see a second one).
    let most = if hour() == first_hour { 1 } else { 2 };
    for (chat, first) in [(&private, sent[0]), (&group, sent[3])] {
        let refusal = t.tg.next_bot_message(chat, None, WAIT).await;
        assert!(refusal.text.contains("not allowed"), "{}", refusal.text);
        assert!(
            refusal.text.contains("2002"),
            "names the user id: {}",
            refusal.text
        );
        assert_eq!(refusal.reply_to, Some(first.message_id));
        let posted = t.tg.bot_messages(chat).len();
        assert!(
            (1..=most).contains(&posted),
            "{posted} refusals in chat {}",
            chat.id
        );
        for _ in 1..posted {
            t.tg.next_bot_message(chat, None, WAIT).await;
        }
    }
    let audit = store.audit_log(100).await.expect("audit log");
    let refused = |chat: &FakeChat| {
        audit
            .iter()
            .filter(|r| r.action == "refused" && r.actor == "2002" && r.chat == chat.id.to_string())
            .count()
    };
    assert_eq!(refused(&private), 3, "{audit:#?}");
    assert_eq!(refused(&group), 3, "{audit:#?}");
    assert!(t.agent_runs().is_empty(), "nothing ran on the host");
    assert!(t.tg.bot_messages(&t.chat).is_empty());
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Waits until the bot has handled every stored event, audited `refusals` of them and sent
/// everything it queued.
async fn settled(store: &switchboard::store::Store, refusals: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let unprocessed = store.unprocessed_inbound(10).await.expect("inbound");
        let audited = store.audit_log(100).await.expect("audit").len();
        let pending = store
            .outbox_chats(Platform::Telegram)
            .await
            .expect("outbox");
        if unprocessed.is_empty() && audited >= refusals && pending.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not settled: {} unprocessed, {audited} audited, pending in {pending:?}",
            unprocessed.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A valid ed25519 public key line that is not the test sshd's.
fn other_host_key(dir: &Path) -> String {
    let path = dir.join("other_host_key");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "other-host", "-f"])
        .arg(&path)
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub"))
        .expect("public key")
        .trim()
        .to_owned()
}

/// The pid of the agent run recorded at `started_at_ns` (its record is `<ns>-<pid>.json`).
fn agent_pid(t: &Harness, started_at_ns: &u128) -> u32 {
    let prefix = format!("{started_at_ns}-");
    std::fs::read_dir(t.host_dir.path().join("records"))
        .expect("records dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .find_map(|name| {
            name.strip_prefix(&prefix)?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .expect("the run's record names its pid")
}

/// Live (not zombie) processes whose process group is `group`.
fn group_members(group: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace()
                .collect();
            fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
        })
        .collect()
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}
