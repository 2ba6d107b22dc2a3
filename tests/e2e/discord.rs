//! Discord end to end: the real binary against the fake Discord (REST with Discord's rate limits,
//! the gateway with heartbeats and RESUME, interactions with their three-second deadline), the
//! agent on an sshd host.

use std::time::Duration;

use switchboard::domain::ids::TurnId;
use switchboard::domain::outbox_key::OutboxKey;

use crate::support::db::{Db, on_both_databases};
use crate::support::discord_world::{DiscordSetup, DiscordWorld};
use crate::support::fake_discord::{
    ClosedBy, FakeChannel, FakeDiscord, FakeDiscordConfig, HandshakeOutcome, RouteKind, UserMessage,
};
use crate::support::harness::{Harness, Options, WAIT};
use crate::support::screens::{assert_is_the_test_page, serve_page};

on_both_databases!(
    a_mention_starts_a_thread_that_is_a_session,
    five_fast_messages_are_answered_in_order,
    stop_stops_the_running_turn,
    an_unauthorized_user_is_refused_once_and_nothing_runs,
    a_bot_killed_mid_turn_resumes_and_answers_once,
    a_dropped_gateway_loses_no_message,
    rate_limit_storms_lose_nothing,
    slash_commands_are_acknowledged_in_time_and_answered,
    the_agent_and_model_are_chosen_with_slash_commands,
    a_long_answer_becomes_an_attachment,
    the_gateway_heartbeats_and_follows_reconnect_and_invalid_session,
    a_refused_intent_stops_the_bot_and_check_names_the_bot,
    attachments_reach_the_agent,
    answers_lost_after_posting_show_each_message_once,
);

async fn start(db: Db) -> Harness {
    let mut options = Options::new(db);
    options.discord = Some(DiscordSetup::default());
    Harness::start_with(options).await
}

fn world(t: &Harness) -> &DiscordWorld {
    t.discord.as_ref().expect("the fake Discord")
}

fn fake(t: &Harness) -> &FakeDiscord {
    &world(t).fake
}

/// How many of the bot's messages in `channel` contain `needle`.
fn count(d: &DiscordWorld, channel: &FakeChannel, needle: &str) -> usize {
    d.bot_texts(channel)
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

/// Waits until the outbox recorded `key` as posted.
async fn wait_recorded(t: &Harness, key: &OutboxKey) {
    let store = t.store().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while store
        .posted_parts(key)
        .await
        .expect("read posted")
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} was never recorded as posted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    store.close().await;
}

/// A mention in a channel gets 👀, a thread started from it (named after the request) with a
/// status message and the answer, then ✅; "typing…" shows while the agent works. A message in
/// the thread without a mention resumes the agent's session; edits and chatter in the channel
/// are never read; `new` in the thread starts afresh.
async fn a_mention_starts_a_thread_that_is_a_session(db: Db) {
    let t = start(db).await;
    let d = world(&t);

    let root = d.mention("@fake sleep 1\n**hello** there");
    let thread = d.thread_of(&root).await;
    let answer = d.wait_text(&thread, "Echo #1").await;
    assert_eq!(answer.content, "Echo #1: **hello** there");
    d.wait_reaction(&d.channel, &root, "👀").await;
    d.wait_reaction(&d.channel, &root, "✅").await;
    let status = d.wait_text(&thread, "Done in").await;
    assert!(
        status.versions[0].content.contains("Starting"),
        "{status:#?}"
    );
    let threads = fake(&t).threads();
    let started = threads
        .iter()
        .find(|th| th.channel.id == thread.id)
        .expect("the thread");
    assert!(started.by_bot);
    assert_eq!(started.name, "@fake sleep 1");
    assert_eq!(thread.parent_id.as_deref(), Some(d.channel.id.as_str()));
    assert!(
        !fake(&t).typing_calls(&thread).is_empty(),
        "typing while the agent worked"
    );
    let runs = t.wait_agent_runs(1).await;
    assert_eq!(runs[0].prompt, b"@fake sleep 1\n**hello** there");
    assert!(runs[0].resume_id().is_none());

    fake(&t).user_edits(&root, &format!("{} an edited prompt", d.bot.mention()));
    fake(&t).user_says(&d.channel, &d.alice, "just chatting, no mention");
    fake(&t).user_says(&thread, &d.alice, "and a follow-up");
    d.wait_text(&thread, "Echo #2: and a follow-up").await;
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(
        runs.len(),
        2,
        "neither the edit nor the chatter reached the agent"
    );
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));

    fake(&t).user_says(&thread, &d.alice, "new");
    d.wait_text(&thread, "New session").await;
    fake(&t).user_says(&thread, &d.alice, "fresh start");
    d.wait_text(&thread, "fresh start").await;
    let runs = t.wait_agent_runs(3).await;
    assert!(runs[2].resume_id().is_none(), "{:?}", runs[2].argv);
    assert!(
        d.bot_texts(&d.channel).is_empty(),
        "nothing at the channel's top level: {:#?}",
        d.bot_texts(&d.channel)
    );
    assert_eq!(count(d, &thread, "Echo #"), 3);
    d.assert_no_violations();
}

/// Five prompts sent at once in a DM (every DM message is for the bot): all answered, in
/// order, one agent run at a time, each resuming the conversation.
async fn five_fast_messages_are_answered_in_order(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    let dm = fake(&t).dm_channel(&d.alice);

    for i in 1..=5 {
        fake(&t).user_says(&dm, &d.alice, &format!("@fake sleep 0.3\nprompt {i}"));
    }
    d.wait_text(&dm, "Echo #5: prompt 5").await;
    let answers: Vec<String> = d
        .bot_texts(&dm)
        .into_iter()
        .filter(|m| m.starts_with("Echo"))
        .collect();
    assert_eq!(
        answers,
        (1..=5)
            .map(|i| format!("Echo #{i}: prompt {i}"))
            .collect::<Vec<_>>()
    );
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 5);
    for (i, run) in runs.iter().enumerate().skip(1) {
        assert_eq!(
            run.resume_id(),
            Some(runs[0].session_id.as_str()),
            "run {i}"
        );
        assert!(run.started_at_ns > runs[i - 1].started_at_ns);
    }
    let statuses: Vec<String> = fake(&t)
        .wait_for(WAIT, |f| {
            let done: Vec<String> = f
                .bot_messages(&dm)
                .into_iter()
                .filter(|m| m.content.starts_with("✅ Done"))
                .map(|m| m.versions[0].content.clone())
                .collect();
            (done.len() == 5).then_some(done)
        })
        .await
        .expect("five statuses end done");
    assert_eq!(statuses[0], "⏳ Starting…");
    assert!(statuses[4].contains("Queued, position 4"), "{statuses:#?}");
    d.assert_no_violations();
}

/// `stop` in the thread cancels the running turn: the agent's answer never comes, the request
/// gets ❌, and the thread goes on.
async fn stop_stops_the_running_turn(db: Db) {
    let t = start(db).await;
    let d = world(&t);

    let root = d.mention("@fake tool-sleep 60\nlong job");
    let thread = d.thread_of(&root).await;
    t.wait_agent_runs(1).await;
    d.wait_text(&thread, "Starting").await;
    fake(&t).user_says(&thread, &d.alice, "stop");
    d.wait_text(&thread, "Stopped the running turn").await;
    d.wait_reaction(&d.channel, &root, "❌").await;
    assert_eq!(count(d, &thread, "long job"), 0, "the turn gave no answer");

    fake(&t).user_says(&thread, &d.alice, "still there?");
    d.wait_text(&thread, "still there?").await;
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    d.assert_no_violations();
}

/// Bob, on no allowlist, is told so once per thread, however often he asks; nothing runs for
/// him. Alice's request afterwards is the sync point: the outbox posts in order.
async fn an_unauthorized_user_is_refused_once_and_nothing_runs(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    let bob = fake(&t).user("bob");
    fake(&t).add_member(&d.guild, &bob, &[]);

    let first = d.mention_by(&bob, "rm -rf / please");
    let refused_in = d.thread_of(&first).await;
    let refusal = d.wait_text(&refused_in, "not allowed").await;
    assert!(refusal.content.contains(&bob.id), "{}", refusal.content);
    fake(&t).user_says(&refused_in, &bob, "pretty please");
    fake(&t).user_says(
        &refused_in,
        &bob,
        &format!("{} with a mention", d.bot.mention()),
    );
    let dm = fake(&t).dm_channel(&bob);
    fake(&t).user_says(&dm, &bob, "in private then");
    fake(&t).user_says(&dm, &bob, "still no?");

    let root = d.mention("my turn");
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1: my turn").await;
    let in_channel: usize = fake(&t)
        .threads()
        .iter()
        .map(|th| count(d, &th.channel, "not allowed"))
        .sum();
    assert_eq!(in_channel, 1, "one refusal per user, thread and hour");
    d.wait_text(&dm, "not allowed").await;
    assert_eq!(count(d, &dm, "not allowed"), 1, "and one in the DM");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 1, "only Alice's prompt ran");
    assert_eq!(runs[0].prompt, b"my turn");
    d.assert_no_violations();
}

/// The bot is SIGKILLed while the agent works, and Alice writes in the thread while it is down.
/// The restarted bot resumes its gateway session (Discord replays what it missed), reattaches
/// to the turn, posts its answer exactly once, and answers the message sent meanwhile.
async fn a_bot_killed_mid_turn_resumes_and_answers_once(db: Db) {
    let mut t = start(db).await;
    let root = world(&t).mention("@fake sleep 4\nsurvive a crash");
    let thread = world(&t).thread_of(&root).await;
    t.wait_agent_runs(1).await;
    let (turn_id, _) = t.running_turn();
    wait_recorded(&t, &OutboxKey::Status(TurnId::from_string(turn_id))).await;
    t.kill_bot();
    let d = world(&t);
    assert_eq!(count(d, &thread, "Echo"), 0, "killed before the answer");
    fake(&t).user_says(&thread, &d.alice, "and while you were away");

    t.start_bot().await;
    let d = world(&t);
    d.wait_text(&thread, "Echo #1: survive a crash").await;
    d.wait_text(&thread, "Echo #2: and while you were away")
        .await;
    let gateway = fake(&t).gateway();
    assert_eq!(gateway.identifies.len(), 1, "{gateway:#?}");
    let resume = gateway.resumes.last().expect("the restarted bot resumed");
    assert!(
        matches!(resume.outcome, HandshakeOutcome::Accepted { replayed } if replayed >= 1),
        "{resume:#?}"
    );
    assert_eq!(count(d, &thread, "survive a crash"), 1, "answered once");
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 2, "the first turn ran once");
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    d.assert_no_violations();
}

/// The gateway connection drops without a close frame; messages sent before the bot is back
/// are replayed by RESUME and answered.
async fn a_dropped_gateway_loses_no_message(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    let root = d.mention("before the drop");
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1: before the drop").await;

    fake(&t).drop_gateway();
    fake(&t).user_says(&thread, &d.alice, "during the drop");
    let dm = fake(&t).dm_channel(&d.alice);
    fake(&t).user_says(&dm, &d.alice, "a DM during the drop");
    d.wait_text(&thread, "Echo #2: during the drop").await;
    d.wait_text(&dm, "a DM during the drop").await;
    let gateway = fake(&t).gateway();
    assert_eq!(gateway.identifies.len(), 1, "resumed, not restarted");
    assert!(
        gateway
            .resumes
            .iter()
            .any(|r| matches!(r.outcome, HandshakeOutcome::Accepted { .. })),
        "{gateway:#?}"
    );
    d.assert_no_violations();
}

/// 429 storms on posting (per channel) and globally on reactions and edits: every message is
/// still delivered, and the bot never calls inside a window Discord announced.
async fn rate_limit_storms_lose_nothing(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    fake(&t).storm(RouteKind::CreateMessage, 3, Duration::from_millis(1500));
    fake(&t).global_storm(RouteKind::Reaction, 2, Duration::from_millis(800));
    fake(&t).storm(RouteKind::CreateThread, 1, Duration::from_millis(500));

    let root = d.mention("@fake sleep 0.5\nthrough the storm");
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1: through the storm").await;
    d.wait_reaction(&d.channel, &root, "✅").await;
    fake(&t).user_says(&thread, &d.alice, "and again");
    d.wait_text(&thread, "Echo #2: and again").await;
    let throttled = fake(&t).calls().iter().filter(|c| c.status == 429).count();
    assert!(throttled >= 6, "the storms happened: {throttled} 429s");
    assert_eq!(count(d, &thread, "through the storm"), 1);
    d.assert_no_violations();
}

/// Discord may put several routes in one bucket, named by `X-RateLimit-Bucket`: here posts and
/// edits share one count per channel. The bot learns the bucket from the headers and paces both
/// routes by it, so a busy thread — statuses posted and edited, answers posted — draws no 429.
/// (The store plays no part: SQLite only.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_that_share_a_bucket_draw_no_429() {
    let mut options = Options::new(Db::Sqlite);
    options.discord = Some(DiscordSetup {
        fake: FakeDiscordConfig::default()
            .sharing(&[RouteKind::CreateMessage, RouteKind::EditMessage]),
    });
    let t = Harness::start_with(options).await;
    let d = world(&t);

    let root = d.mention("@fake sleep 0.3\nprompt 1");
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1: prompt 1").await;
    // The first turn has posted and edited its status: the bot has met both routes' bucket.
    d.wait_text(&thread, "✅ Done").await;
    for i in 2..=4 {
        let prompt = format!("@fake sleep 0.3\nprompt {i}");
        fake(&t).user_says(&thread, &d.alice, &prompt);
    }
    d.wait_text(&thread, "Echo #4: prompt 4").await;
    fake(&t)
        .wait_for(WAIT, |f| {
            let done = f
                .bot_messages(&thread)
                .iter()
                .filter(|m| m.content.starts_with("✅ Done"))
                .count();
            (done == 4).then_some(())
        })
        .await
        .expect("four statuses end done");
    let calls = fake(&t).calls();
    let shared = calls
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                Some(RouteKind::CreateMessage | RouteKind::EditMessage)
            )
        })
        .count();
    assert!(shared > 10, "the thread was busy: {shared} posts and edits");
    let refused: Vec<_> = calls.iter().filter(|c| c.status == 429).collect();
    assert!(refused.is_empty(), "{refused:#?}");
    assert_eq!(count(d, &thread, "Echo #"), 4);
    d.assert_no_violations();
}

/// The slash commands are registered in the guild; each use is acknowledged (deferred) within
/// Discord's three seconds and then answered in the interaction's response. `/stop` in a
/// session's thread acts on that session.
async fn slash_commands_are_acknowledged_in_time_and_answered(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    let commands = fake(&t)
        .wait_for_commands(Some(&d.guild), |c| c.len() == 14, WAIT)
        .await;
    let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
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

    let help = fake(&t).invoke_command("help", serde_json::json!([]), &d.alice, &d.channel);
    let acked = fake(&t).wait_for_interaction_response(&help, WAIT).await;
    let callback = acked.callback.expect("a response");
    assert_eq!(callback.kind, 5, "deferred");
    assert!(
        callback.after < Duration::from_secs(3),
        "{:?}",
        callback.after
    );
    let answered = fake(&t)
        .wait_for(WAIT, |f| {
            let s = f.interaction_responses(&help.id);
            s.original
                .filter(|m| m.content.contains("/stop"))
                .map(|m| m.content)
        })
        .await;
    assert!(
        answered.is_some(),
        "{:#?}",
        fake(&t).interaction_responses(&help.id)
    );

    let root = d.mention("@fake tool-sleep 60\nsomething long");
    let thread = d.thread_of(&root).await;
    t.wait_agent_runs(1).await;
    d.wait_text(&thread, "Starting").await;
    let stop = fake(&t).invoke_command("stop", serde_json::json!([]), &d.alice, &thread);
    let stopped = fake(&t)
        .wait_for(WAIT, |f| {
            let s = f.interaction_responses(&stop.id);
            s.original
                .filter(|m| m.content.contains("Stopped"))
                .map(|m| m.content)
        })
        .await;
    assert!(
        stopped.is_some(),
        "{:#?}",
        fake(&t).interaction_responses(&stop.id)
    );
    d.wait_reaction(&d.channel, &root, "❌").await;

    // A page as the host sees it: the text in the response, the picture in a follow-up.
    let url = serve_page().await;
    let shot = fake(&t).invoke_command(
        "screenshot",
        serde_json::json!([{"name": "url", "type": 3, "value": url}]),
        &d.alice,
        &thread,
    );
    let picture = fake(&t)
        .wait_for(WAIT, |f| {
            let s = f.interaction_responses(&shot.id);
            s.followups
                .into_iter()
                .find_map(|m| m.attachments.into_iter().next())
        })
        .await
        .expect("the screenshot in a follow-up");
    assert_eq!(picture.filename, "screenshot.png");
    assert_is_the_test_page(&picture.bytes);
    let text = fake(&t).interaction_responses(&shot.id).original.unwrap();
    assert!(
        text.content.contains("as remote sees it (1280×2800)"),
        "{}",
        text.content
    );
    d.assert_no_violations();
}

/// The interaction's answer once it contains `needle`.
async fn answer_of(t: &Harness, interaction: &str, needle: &str) -> String {
    fake(t)
        .wait_for(WAIT, |f| {
            f.interaction_responses(interaction)
                .original
                .filter(|m| m.content.contains(needle))
                .map(|m| m.content)
        })
        .await
        .unwrap_or_else(|| panic!("{:#?}", fake(t).interaction_responses(interaction)))
}

/// `/new` and `/agent` offer the agents as choices; the chosen one is the session's, `/model`
/// sets the next turn's `--model` (the conversation goes on), and a bad model name is refused.
async fn the_agent_and_model_are_chosen_with_slash_commands(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    let commands = fake(&t)
        .wait_for_commands(Some(&d.guild), |c| c.len() == 14, WAIT)
        .await;
    let choices = |command: &str, name: &str| -> Vec<String> {
        let command = commands.iter().find(|c| c.name == command).unwrap();
        let options = command.options.as_array().unwrap();
        let option = options.iter().find(|o| o["name"] == name).unwrap();
        option["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(choices("new", "agent"), ["claude", "codex", "opencode"]);
    assert_eq!(choices("agent", "name"), ["claude", "codex", "opencode"]);

    let root = d.mention("first");
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1: first").await;
    let new = fake(&t).invoke_command(
        "new",
        serde_json::json!([{"name": "agent", "type": 3, "value": "claude"}]),
        &d.alice,
        &thread,
    );
    let made = answer_of(&t, &new.id, "New session").await;
    assert!(made.contains("with claude"), "{made}");
    let name = |value: &str| serde_json::json!([{"name": "name", "type": 3, "value": value}]);
    let bad = fake(&t).invoke_command("model", name("-x"), &d.alice, &thread);
    answer_of(&t, &bad.id, "cannot be a model").await;
    let model = fake(&t).invoke_command("model", name("claude-opus-4-5"), &d.alice, &thread);
    answer_of(&t, &model.id, "claude-opus-4-5").await;
    fake(&t).user_says(&thread, &d.alice, "second");
    d.wait_text(&thread, "Echo #1: second").await;
    let runs = t.wait_agent_runs(2).await;
    let at = runs[1].argv.iter().position(|a| a == "--model");
    assert_eq!(
        at.map(|at| runs[1].argv[at + 1].as_str()),
        Some("claude-opus-4-5"),
        "{:?}",
        runs[1].argv
    );

    let switch = fake(&t).invoke_command("agent", name("codex"), &d.alice, &thread);
    let switched = answer_of(&t, &switch.id, "Switched").await;
    assert!(switched.contains("from `claude` to `codex`"), "{switched}");
    let shown = fake(&t).invoke_command("agent", serde_json::json!([]), &d.alice, &thread);
    answer_of(&t, &shown.id, "This session's agent is `codex`").await;
    d.assert_no_violations();
}

/// An answer longer than three messages comes as its first part plus the whole text as a
/// Markdown attachment.
async fn a_long_answer_becomes_an_attachment(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    let root = d.mention("@fake answer-bytes 12000\nwrite a lot");
    let thread = d.thread_of(&root).await;
    let with_file = fake(&t)
        .wait_for_bot_message(&thread, |m| !m.attachments.is_empty(), WAIT)
        .await;
    let file = &with_file.attachments[0];
    assert!(file.filename.ends_with(".md"), "{}", file.filename);
    assert!(file.bytes.len() >= 12000, "{}", file.bytes.len());
    assert!(
        with_file.content.contains("characters"),
        "{}",
        with_file.content
    );
    for message in fake(&t).bot_messages(&thread) {
        assert!(message.content.chars().count() <= 2000);
    }
    d.wait_reaction(&d.channel, &root, "✅").await;

    // What the agent changed: the patch and the image it made, as attachments in the thread.
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0];
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(png);
    let root = d.mention(&format!(
        "@fake write-base64 chart.png {encoded}\n@fake write notes.txt hi\nmake files"
    ));
    let thread = d.thread_of(&root).await;
    let patch = fake(&t)
        .wait_for_bot_message(
            &thread,
            |m| m.attachments.iter().any(|a| a.filename.ends_with(".diff")),
            WAIT,
        )
        .await;
    let diff = String::from_utf8_lossy(&patch.attachments[0].bytes).into_owned();
    assert!(diff.contains("+++ b/notes.txt"), "{diff}");
    let image = fake(&t)
        .wait_for_bot_message(
            &thread,
            |m| m.attachments.iter().any(|a| a.filename == "chart.png"),
            WAIT,
        )
        .await;
    assert_eq!(image.attachments[0].bytes.as_ref(), png.as_slice());
    d.assert_no_violations();
}

/// With a short heartbeat: the bot beats on time (with its last sequence number, so the fake
/// never closes it as a zombie), leaves on op 7 RECONNECT with a resumable close and resumes,
/// starts a new session after op 9 INVALID_SESSION, and answers after each.
async fn the_gateway_heartbeats_and_follows_reconnect_and_invalid_session(db: Db) {
    let mut options = Options::new(db);
    options.discord = Some(DiscordSetup {
        fake: FakeDiscordConfig::default().with_heartbeat(Duration::from_millis(400)),
    });
    let t = Harness::start_with(options).await;
    let d = world(&t);
    let dm = fake(&t).dm_channel(&d.alice);
    fake(&t).wait_for_heartbeats(4, WAIT).await;
    let gateway = fake(&t).gateway();
    assert!(
        gateway.heartbeats.iter().skip(1).all(|h| h.seq.is_some()),
        "{:#?}",
        gateway.heartbeats
    );
    assert!(gateway.closes.is_empty(), "no zombie closes: {gateway:#?}");

    fake(&t).send_reconnect();
    let resume = fake(&t).wait_for_resume(1, WAIT).await;
    assert!(
        matches!(resume.outcome, HandshakeOutcome::Accepted { .. }),
        "{resume:#?}"
    );
    let closes = fake(&t).gateway().closes;
    assert!(
        closes
            .iter()
            .any(|c| c.by == ClosedBy::Client && c.code == Some(4000)),
        "left with a resumable close: {closes:#?}"
    );
    fake(&t).user_says(&dm, &d.alice, "after the reconnect");
    d.wait_text(&dm, "after the reconnect").await;

    fake(&t).invalidate_session(false);
    let identify = fake(&t).wait_for_identify(2, WAIT).await;
    assert!(matches!(
        identify.outcome,
        HandshakeOutcome::Accepted { .. }
    ));
    assert_eq!(identify.intents, 37377);
    fake(&t).wait_for_session(WAIT).await;
    fake(&t).user_says(&dm, &d.alice, "after a new session");
    d.wait_text(&dm, "after a new session").await;
    assert!(
        fake(&t)
            .gateway()
            .closes
            .iter()
            .all(|c| c.code != Some(4009)),
        "never a zombie"
    );
    d.assert_no_violations();
}

/// Without the Message Content intent enabled for the application, Discord closes the gateway
/// with 4014: the bot stops and says what to enable. `switchboard check` signs in and names
/// the bot.
async fn a_refused_intent_stops_the_bot_and_check_names_the_bot(db: Db) {
    let mut options = Options::new(db);
    options.discord = Some(DiscordSetup {
        fake: FakeDiscordConfig {
            message_content_enabled: false,
            ..FakeDiscordConfig::default()
        },
    });
    let t = Harness::prepare(options).await;
    let check = tokio::task::block_in_place(|| t.cli(&["check"]));
    let stdout = String::from_utf8_lossy(&check.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("discord"))
        .unwrap_or_else(|| panic!("no discord line:\n{stdout}"));
    assert!(line.starts_with("✓ discord: "), "{line}");
    assert!(line.contains("Switchboard"), "{line}");

    let serve = tokio::task::block_in_place(|| {
        let mut cmd = t.command();
        cmd.arg("serve");
        cmd.output()
    })
    .expect("run the bot");
    let stderr = String::from_utf8_lossy(&serve.stderr);
    let stdout = String::from_utf8_lossy(&serve.stdout);
    assert!(!serve.status.success(), "the bot must stop");
    assert!(
        stderr.contains("Privileged Gateway Intents")
            || stdout.contains("Privileged Gateway Intents"),
        "{stderr}\n{stdout}"
    );
    let identify = &fake(&t).gateway().identifies[0];
    assert_eq!(identify.outcome, HandshakeOutcome::Closed(4014));
}

/// A mention with an attachment starts a thread like any mention; the attachment, fetched from
/// the CDN, lands in the workspace inbox and its path reaches the agent. One sent in the thread
/// without text continues the session.
async fn attachments_reach_the_agent(db: Db) {
    let t = start(db).await;
    let d = world(&t);

    let trace = b"Traceback: boom\n".to_vec();
    let root = fake(&t).user_says_with(
        &d.channel,
        &d.alice,
        UserMessage::new(&format!("{} why does this fail?", d.bot.mention()))
            .with_file("trace.txt", trace.clone()),
    );
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1").await;
    let runs = t.wait_agent_runs(1).await;
    let prompt = String::from_utf8(runs[0].prompt.clone()).unwrap();
    assert!(
        prompt.starts_with("why does this fail?\n\n(Files the user sent"),
        "{prompt}"
    );
    let path = prompt
        .lines()
        .find_map(|l| l.strip_prefix("- "))
        .expect("a file in the prompt")
        .trim_end_matches(')');
    assert!(path.ends_with("/trace.txt"), "{path}");
    let work = runs[0].cwd.clone();
    assert_eq!(std::fs::read(work.join(path)).unwrap(), trace);

    let shot = vec![9u8; 5000];
    fake(&t).user_says_with(
        &thread,
        &d.alice,
        UserMessage::new("").with_file("screen.png", shot.clone()),
    );
    d.wait_text(&thread, "Echo #2").await;
    let runs = t.wait_agent_runs(2).await;
    let prompt = String::from_utf8(runs[1].prompt.clone()).unwrap();
    let path = prompt
        .strip_prefix("The user sent these files, saved in the workspace:\n- ")
        .unwrap_or_else(|| panic!("{prompt}"));
    assert_eq!(std::fs::read(work.join(path)).unwrap(), shot);
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));
    d.assert_no_violations();
}

/// Discord accepts every message the bot creates but each answer is lost (HTTP 500): the bot
/// creates each again with the same nonce and `enforce_nonce`, Discord hands back the message it
/// already has, and every message shows exactly once — in a thread and in a DM.
async fn answers_lost_after_posting_show_each_message_once(db: Db) {
    let t = start(db).await;
    let d = world(&t);
    fake(&t).fail_after_creating(&[true; 6]);
    let root = d.mention("first");
    let thread = d.thread_of(&root).await;
    d.wait_text(&thread, "Echo #1: first").await;
    fake(&t).user_says(&thread, &d.alice, "second");
    d.wait_text(&thread, "Echo #2: second").await;
    let dm = fake(&t).dm_channel(&d.alice);
    fake(&t).user_says(&dm, &d.alice, "third");
    d.wait_text(&dm, "Echo #1: third").await;
    for (channel, turns) in [(&thread, 2), (&dm, 1)] {
        fake(&t)
            .wait_for(WAIT, |f| {
                let done = f
                    .bot_messages(channel)
                    .iter()
                    .filter(|m| m.content.starts_with("✅ Done"))
                    .count();
                (done == turns).then_some(())
            })
            .await
            .expect("every status was finished");
    }

    let lost = fake(&t).calls().iter().filter(|c| c.status == 500).count();
    assert_eq!(lost, 6, "every creation was accepted and its answer lost");
    let thread_texts = d.bot_texts(&thread);
    assert_eq!(
        thread_texts.len(),
        4,
        "two statuses, two answers: {thread_texts:#?}"
    );
    assert_eq!(count(d, &thread, "Echo #1: first"), 1);
    assert_eq!(count(d, &thread, "Echo #2: second"), 1);
    let dm_texts = d.bot_texts(&dm);
    assert_eq!(dm_texts.len(), 2, "a status and an answer: {dm_texts:#?}");
    assert_eq!(count(d, &dm, "Echo #1: third"), 1);
    d.assert_no_violations();
}
