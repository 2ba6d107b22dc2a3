//! Telegram specifics: flood limits and 429 storms, rendering and long answers, groups and
//! forum topics, webhook mode, the command menu, and the commands that only read.

use std::time::{Duration, SystemTime};

use switchboard::domain::thread::Platform;

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_telegram::UserMessage;
use crate::support::harness::{FAKE_CLAUDE, Harness, Options, WAIT};
use crate::support::telegram_html;

on_both_databases!(
    storms_lose_nothing_and_respect_retry_after,
    a_retry_after_outlives_a_restart,
    answers_lost_after_sending_repeat_exactly_those_parts,
    markdown_answers_render_split_and_fall_back,
    groups_and_forum_topics,
    webhook_mode_checks_the_secret,
    read_only_commands_and_the_menu,
    local_host_runs_without_ssh,
    the_final_status_goes_with_the_answer,
);

/// 429 storms (item 10): every message still arrives, none inside a retry_after window.
async fn storms_lose_nothing_and_respect_retry_after(db: Db) {
    let t = Harness::start(db).await;
    t.tg.storm(t.chat.id, 4, 1);
    t.say("@fake sleep 1\nfirst");
    t.say("second");
    let first_status = t.next().await;
    assert!(first_status.text.contains("Starting"));
    let second_status = t.next().await;
    assert!(
        second_status.text.contains("Queued, position 1"),
        "{}",
        second_status.text
    );
    assert_eq!(t.next().await.text, "Echo #1: first");
    t.tg.storm(t.chat.id, 3, 2);
    assert_eq!(t.next().await.text, "Echo #2: second");
    t.wait_text("✅ Done").await;
    let limited = t.tg.calls().iter().filter(|c| c.status == 429).count();
    assert!(limited >= 7, "the fake answered 429 {limited} times");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A 429 answered just before the bot is SIGKILLed: the restarted bot makes no call to the
/// chat inside the window Telegram opened (the pause was stored with its end), and the message
/// still arrives once it has passed.
async fn a_retry_after_outlives_a_restart(db: Db) {
    let mut t = Harness::start(db).await;
    t.tg.storm(t.chat.id, 1, 6);
    t.say("/help");
    let limited = t.tg.wait_for_call_where(WAIT, |c| c.status == 429).await;
    let store = t.store().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while store
        .pending_pauses(Platform::Telegram)
        .await
        .expect("read the pauses")
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pause was never stored"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    store.close().await;
    t.kill_bot();
    let window_end = limited.at + Duration::from_secs(6);
    assert!(
        SystemTime::now() < window_end,
        "the bot is restarted inside the window"
    );

    t.start_bot().await;
    let reply = t.next().await;
    assert!(reply.text.contains("/status"), "{}", reply.text);
    assert!(
        reply.sent_at >= window_end,
        "sent {:?} before the window's end",
        window_end.duration_since(reply.sent_at).unwrap_or_default()
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Telegram accepts a message but its answer is lost (HTTP 500): the acknowledgements here. The
/// Bot API has no idempotency key and no way to read a chat back, so the bot sends such a part
/// again: what DESIGN invariant 4 says remains, measured — exactly the parts whose answer was
/// lost show twice, none more than twice, and none is missing. (teloxide waits 10 s after a
/// 5xx, so two faults are enough.)
async fn answers_lost_after_sending_repeat_exactly_those_parts(db: Db) {
    let t = Harness::start(db).await;
    t.tg.fail_after_sending(&[true, false, false].repeat(2));
    let mut prompts = Vec::new();
    for (i, text) in ["first", "second"].into_iter().enumerate() {
        prompts.push(t.say(text));
        t.wait_text(&format!("Echo #{}: {text}", i + 1)).await;
    }
    let store = t.store().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !store
        .outbox_chats(Platform::Telegram)
        .await
        .expect("read the outbox")
        .is_empty()
    {
        assert!(tokio::time::Instant::now() < deadline, "the outbox drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.close().await;

    let lost = t.tg.answers_lost();
    assert_eq!(lost.len(), 2, "each acknowledgement lost its answer once");
    let messages = t.tg.bot_messages(&t.chat);
    // A part is its prompt and its first text (later edits change the status message only).
    let part_of =
        |m: &crate::support::fake_telegram::BotMessage| (m.reply_to, m.versions[0].text.clone());
    let mut shown = std::collections::BTreeMap::new();
    for m in &messages {
        *shown.entry(part_of(m)).or_insert(0) += 1;
    }
    let repeated: std::collections::BTreeSet<_> = messages
        .iter()
        .filter(|m| lost.contains(&(m.chat_id, m.message_id)))
        .map(part_of)
        .collect();
    for (part, times) in &shown {
        let expected = if repeated.contains(part) { 2 } else { 1 };
        assert_eq!(*times, expected, "{part:?} shown {times} times");
    }
    for (i, (prompt, text)) in prompts.iter().zip(["first", "second"]).enumerate() {
        for first_text in [
            "⏳ Starting…".to_owned(),
            format!("Echo #{}: {text}", i + 1),
        ] {
            assert!(
                shown.contains_key(&(Some(prompt.message_id), first_text.clone())),
                "{first_text:?} for prompt {i} is missing: {shown:#?}"
            );
        }
    }
    assert_eq!(repeated.len(), 2);
    assert_eq!(messages.len(), 6, "four parts, two of them shown twice");
    t.assert_no_violations();
}

/// Markdown becomes valid Telegram HTML; long answers are split at 4,096 characters on block
/// boundaries, very long ones come with a `.md` document; rejected markup falls back to text.
async fn markdown_answers_render_split_and_fall_back(db: Db) {
    let t = Harness::start(db).await;
    let markdown = "# Result\n\nFixed `a < b && c > d` in **main.rs**:\n\n```rust\nfn main() { println!(\"<ok>\"); }\n```\n\n- one\n- [docs](https://example.com/?a=1&b=2)\n";
    t.say(&format!("@fake answer-follows\n{markdown}"));
    t.next().await;
    let answer = t.next().await;
    let html = answer.html.clone().expect("sent as HTML");
    let parsed = telegram_html::parse(&html).expect("valid Telegram HTML");
    assert!(
        parsed.text.contains("Fixed a < b && c > d in main.rs:"),
        "{}",
        parsed.text
    );
    assert!(
        html.contains("<pre><code class=\"language-rust\">"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://example.com/?a=1&amp;b=2\">docs</a>"),
        "{html}"
    );

    // About 9 KB of Markdown: two messages, each within the limit, in order, no document.
    t.say("@fake answer-bytes 9000");
    t.next().await;
    let parts = [t.next().await, t.next().await];
    for part in &parts {
        assert!(part.text.encode_utf16().count() <= 4096);
        telegram_html::parse(part.html.as_deref().expect("HTML")).expect("valid HTML");
        assert!(part.document.is_none());
    }
    assert!(parts[0].text.starts_with("Section 1"));
    assert!(
        parts[1].text.starts_with("Paragraph "),
        "split on a block boundary"
    );

    // About 40 KB: the first message, then the whole answer as a document.
    t.say("@fake answer-bytes 40000");
    let status = t.next().await;
    let first = t.next().await;
    let document = t.next().await;
    let file = document.document.clone().expect("a document");
    assert!(file.file_name.starts_with("answer-") && file.file_name.ends_with(".md"));
    assert!(file.bytes.len() >= 39000, "{} bytes", file.bytes.len());
    assert!(document.text.contains("full answer"), "{}", document.text);
    assert!(first.text.encode_utf16().count() <= 4096);
    assert!(!first.text.is_empty());
    t.tg.wait_for_message(
        &t.chat,
        |m| m.message_id == status.message_id && m.text.starts_with("✅"),
        WAIT,
    )
    .await;

    // Telegram refuses the markup: the same text goes out as plain text.
    t.tg.reject_markup(t.chat.id, 1);
    t.say("@fake answer **bold** answer");
    let status = t.next().await;
    assert!(
        status.html.is_none(),
        "the acknowledgement fell back to plain text"
    );
    assert_eq!(status.text, "⏳ Starting…");
    let answer = t.next().await;
    assert_eq!(answer.text, "bold answer");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Groups: commands and mentions only; replies to the bot continue. Forum topics are threads
/// of their own, each with its own session.
async fn groups_and_forum_topics(db: Db) {
    let t = Harness::start(db).await;
    let bot = t.tg.bot_username();
    let group = t.tg.supergroup("Team", true);
    let general =
        t.tg.send_text(&group, &t.alice, "just chatting, not for the bot");
    let ask =
        t.tg.send_text(&group, &t.alice, &format!("@{bot} first question"));
    let status = t.tg.next_bot_message(&group, None, WAIT).await;
    assert_eq!(status.reply_to, Some(ask.message_id));
    let answer = t.tg.next_bot_message(&group, None, WAIT).await;
    assert_eq!(answer.text, "Echo #1: first question");
    let follow = t.tg.send(
        &group,
        &t.alice,
        UserMessage::new("a follow-up").reply_to(answer.message_id),
    );
    t.tg.next_bot_message(&group, None, WAIT).await;
    assert_eq!(
        t.tg.next_bot_message(&group, None, WAIT).await.text,
        "Echo #2: a follow-up"
    );
    assert!(follow.update_id > general.update_id);

    let topic_a = t.tg.create_topic(&group, "backend");
    let topic_b = t.tg.create_topic(&group, "frontend");
    for (topic, text) in [(topic_a, "in topic A"), (topic_b, "in topic B")] {
        t.tg.send(
            &group,
            &t.alice,
            UserMessage::new(format!("@{bot} {text}")).in_thread(topic),
        );
        let status = t.tg.next_bot_message(&group, Some(topic), WAIT).await;
        assert_eq!(status.thread_id, Some(topic));
        let answer = t.tg.next_bot_message(&group, Some(topic), WAIT).await;
        assert_eq!(
            answer.text,
            format!("Echo #1: {text}"),
            "each topic is its own session"
        );
    }
    t.tg.send(
        &group,
        &t.alice,
        UserMessage::new(format!("/status@{bot}")).in_thread(topic_a),
    );
    let status = t.tg.next_bot_message(&group, Some(topic_a), WAIT).await;
    assert!(status.text.contains("Queue: 0 waiting"), "{}", status.text);
    t.tg.send(
        &group,
        &t.alice,
        UserMessage::new("/status@SomeOtherBot").in_thread(topic_a),
    );

    let runs = t.agent_runs();
    assert_eq!(
        runs.len(),
        4,
        "chatter and other bots' commands ran nothing"
    );
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    assert_ne!(runs[2].session_id, runs[3].session_id);
    assert_ne!(runs[2].session_id, runs[0].session_id);
    t.tg.wait_for_message(
        &group,
        |m| m.thread_id == Some(topic_b) && m.text.starts_with("✅"),
        WAIT,
    )
    .await;
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Webhook mode: updates arrive by POST with the secret token; a wrong or missing token is
/// refused with 401 and audited, and nothing runs.
async fn webhook_mode_checks_the_secret(db: Db) {
    let mut options = Options::new(db);
    options.webhook_secret = Some("s3cret-token_42".into());
    let t = Harness::start_with(options).await;
    let webhook = t.tg.webhook().expect("the bot set its webhook");
    assert_eq!(
        webhook.url,
        format!("http://127.0.0.1:{}/telegram/webhook", t.http_port)
    );
    t.say("through the webhook");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: through the webhook");

    let client = reqwest::Client::new();
    let forged = serde_json::json!({
        "update_id": 999999,
        "message": {"message_id": 1, "date": 1, "text": "rm -rf /",
            "chat": {"id": t.alice.id, "type": "private", "first_name": "Alice"},
            "from": {"id": t.alice.id, "is_bot": false, "first_name": "Alice"}}
    });
    for secret in [Some("wrong"), None] {
        let mut request = client.post(&webhook.url).json(&forged);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        assert_eq!(request.send().await.expect("POST").status(), 401);
    }
    let audit = t.store().await.audit_log(100).await.unwrap();
    let rejected: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "webhook_rejected")
        .collect();
    assert_eq!(rejected.len(), 2, "{audit:#?}");
    assert_eq!(t.agent_runs().len(), 1, "the forged update ran nothing");
    t.wait_text("✅ Done").await;
    t.tg.assert_all_read();
}

/// The command menu is registered; /help, /sessions and /status answer with what they should;
/// the token never reaches the log.
async fn read_only_commands_and_the_menu(db: Db) {
    let t = Harness::start(db).await;
    let commands = t.tg.commands();
    let names: Vec<&str> = commands.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "new",
            "agent",
            "model",
            "status",
            "stop",
            "sessions",
            "projects",
            "pr",
            "fix_ci",
            "screenshot",
            "schedule",
            "schedules",
            "unschedule",
            "help"
        ]
    );

    t.say("/status");
    assert!(
        t.next()
            .await
            .text
            .contains("No session in this thread yet")
    );
    t.say("@fake tool Read {\"file_path\":\"src/lib.rs\"}\nwarm up");
    t.next().await;
    t.next().await;
    t.wait_text("✅ Done").await;
    t.say("/status");
    let status = t.next().await.text;
    for expected in [
        "Host: remote",
        "Agent: claude",
        "Agent session: ",
        "State: idle",
        "Queue: 0 waiting",
        "Last turn: success",
        "Total: 1 turn, $",
        "Host remote: reachable",
        "load ",
        "GiB free in the workspace",
        "agent 2.1.330 (Claude Code)",
    ] {
        assert!(
            status.contains(expected),
            "/status lacks {expected:?}:\n{status}"
        );
    }
    let tokens = status
        .lines()
        .find_map(|l| l.split_once("tokens ").map(|(_, t)| t.to_owned()))
        .unwrap_or_else(|| panic!("no tokens in {status}"));
    let (input, output) = tokens.split_once(" in, ").expect("tokens in and out");
    assert!(input.parse::<u64>().expect("a number") > 0, "{status}");
    assert!(
        output
            .trim_end_matches(" out")
            .parse::<u64>()
            .expect("a number")
            > 0
    );
    let run = &t.agent_runs()[0];
    assert!(
        status.contains(&run.session_id),
        "the agent session id: {status}"
    );

    t.say("/sessions");
    let sessions = t.next().await.text;
    assert!(sessions.contains("on remote · 1 turn · idle"), "{sessions}");
    assert!(sessions.contains("current"), "{sessions}");

    t.say("/help");
    let help = t.next().await.text;
    for name in names {
        assert!(help.contains(&format!("/{name}")), "{help}");
    }
    t.say("/stop everything");
    assert!(t.next().await.text.contains("Usage: /stop [all]"));
    t.say("/frobnicate");
    assert!(t.next().await.text.contains("no command /frobnicate"));

    let state = t.host_dir.path().join("state/turns");
    let leftovers: Vec<_> = std::fs::read_dir(&state)
        .map(|d| d.count())
        .into_iter()
        .collect();
    assert_eq!(
        leftovers,
        vec![0],
        "the turn directory (with the prompt) was removed"
    );
    assert!(
        !t.log().contains(&t.tg.token()),
        "the bot token reached the log"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// `/new local` moves the thread to the bot's own machine: same protocol, no SSH.
async fn local_host_runs_without_ssh(db: Db) {
    let mut options = Options::new(db);
    let local = tempfile::tempdir().unwrap();
    options.extra_config = format!(
        "\n[hosts.local]\nworkdir = \"{dir}/work\"\nstate_dir = \"{dir}/state\"\n\n\
         [hosts.local.agents.claude]\ncommand = \"{FAKE_CLAUDE}\"\n\
         env = {{ CLAUDE_CONFIG_DIR = \"{dir}/claude\", FAKE_CLAUDE_RECORD_DIR = \"{dir}/records\" }}\n",
        dir = local.path().display()
    );
    std::fs::create_dir(local.path().join("records")).unwrap();
    let t = Harness::start_with(options).await;
    t.say("/new local");
    assert!(t.next().await.text.contains("New session on local"));
    t.say("@fake write notes.txt written locally\nhi");
    t.next().await;
    // The session's own directory, a repository whose changes the answer shows.
    assert_eq!(
        t.next().await.text,
        "Echo #1: hi\n\nChanges: 1 file, +1 −0\n\n• notes.txt (new, +1 −0)"
    );
    let scratch: Vec<_> = std::fs::read_dir(local.path().join("work/scratch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(scratch.len(), 1, "{scratch:?}");
    let written = std::fs::read_to_string(scratch[0].join("notes.txt")).unwrap();
    assert_eq!(written, "written locally");
    assert!(t.agent_runs().is_empty(), "nothing ran on the SSH host");
    let runs = std::fs::read_dir(local.path().join("records"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(runs, 1, "the agent ran once, on the local host");
    t.tg.wait_for_message(
        &t.chat,
        |m| m.text.starts_with("✅"),
        Duration::from_secs(30),
    )
    .await;
    t.tg.assert_all_read();
}

/// An idle bot answers at once (issue 12): a long poll that ends empty, or that gets no answer
/// at all (its connection died on the way, as idle ones do), is the poll's end, not a failure,
/// so no backoff holds up the next message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_bot_polls_again_at_once_and_answers() {
    let mut options = Options::new(Db::Sqlite);
    options.poll_timeout = "1s";
    let t = Harness::start_with(options).await;
    // Idle for longer than a poll: long polls ended empty.
    t.tg.wait_for_calls("getUpdates", 3, WAIT).await;
    t.say("hello");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: hello");

    // The next long poll is never answered: the bot gives up on it and polls again.
    t.tg.lose_next_polls(1);
    t.tg.wait_until_polls_lost(1, WAIT).await;
    t.say("again");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #2: again");

    let log = t.log();
    assert!(
        !log.contains("getUpdates failed"),
        "a poll that ended counted as a failure (and backed off): {log}"
    );
    assert!(
        log.contains("Telegram did not answer getUpdates within 16s; polling again"),
        "the lost poll was noticed: {log}"
    );
}

/// A turn's final status goes with its answer (issue 12, item 4): the status message's edit to
/// "✅ Done" is the chat's next call after the answer's message — before the patch that follows
/// it — not one queued behind everything else. And `/status` gives the last turn the duration
/// the status line gave, both read from the turn's stored start and end: the agent sleeps
/// 2.95 s, so its own figure (under 3 s) and the bot's (launch and end-of-turn reads included,
/// over 3 s) would show different seconds.
async fn the_final_status_goes_with_the_answer(db: Db) {
    let t = Harness::start(db).await;
    t.say("@fake sleep 2.95\n@fake write notes.txt hello\nwrite it");
    let status = t.next().await;
    let answer = t.next().await;
    assert!(
        answer.text.starts_with("Echo #1: write it"),
        "{}",
        answer.text
    );
    let patch = t.next().await;
    assert!(patch.document.is_some(), "the patch follows the answer");
    let done = t.wait_status(&status, "✅ Done").await;

    let calls: Vec<_> =
        t.tg.calls()
            .into_iter()
            .filter(|c| c.chat_id == Some(t.chat.id) && c.status == 200)
            .collect();
    let answer_call = calls
        .iter()
        .position(|c| c.message_id == Some(answer.message_id))
        .expect("the answer's call");
    let next: Vec<&str> = calls[answer_call + 1..]
        .iter()
        .map(|c| c.method.as_str())
        .collect();
    assert_eq!(
        next.first(),
        Some(&"editMessageText"),
        "the status edit is the chat's next call after the answer: {next:?}"
    );
    let done_at = done.versions.last().expect("a version").at;
    assert!(
        answer.sent_at <= done_at && done_at <= patch.sent_at,
        "Done between the answer and the patch"
    );

    let took = done
        .text
        .strip_prefix("✅ Done in ")
        .and_then(|rest| rest.split(' ').next())
        .expect("the duration in the status line");
    t.say("/status");
    let reply = t.next().await.text;
    assert!(
        reply.contains(&format!("Last turn: success, {took},")),
        "/status says what the status line said ({took}): {reply}"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}
