//! Telegram's limits under load: many chats with busy turns at once, against the fake Telegram
//! enforcing the real limits (one call a second per chat, thirty a second over the bot, 429
//! with `retry_after` past them). Nothing may draw a 429 (the pacer before issue 12 drew ten
//! here), and every answer arrives while the chats stay busy with progress (DESIGN invariant 8).

use std::time::{Duration, SystemTime};

use sqlx::Connection;

use crate::support::db::Db;
use crate::support::fake_telegram::{BotMessage, FakeChat};
use crate::support::harness::{Harness, Options};

/// Busy chats at once: over what the bot's budget (30 calls a second) can refresh every second.
const CHATS: i64 = 110;
const FIRST_PERSON: i64 = 5_000;
/// Tool calls in each turn, this far apart: a few seconds of progress.
const STEPS: usize = 20;
const STEP_SECS: &str = "0.5";
/// How long everything may take: 110 turns' essential calls alone need about 15 s at 30/s.
const DEADLINE: Duration = Duration::from_secs(240);

fn prompt(chat: i64) -> String {
    let mut script = String::new();
    for step in 0..STEPS {
        script.push_str(&format!(
            "@fake tool Bash {{\"command\":\"step {step} of chat {chat}\"}}\n@fake sleep {STEP_SECS}\n"
        ));
    }
    script.push_str(&format!("@fake answer Answer for chat {chat}.\n"));
    script
}

fn is_progress(text: &str) -> bool {
    text.starts_with("⚙️ Working on")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_chats_draw_no_429_and_every_answer_arrives() {
    let mut options = Options::new(Db::Sqlite);
    options.host_slots = CHATS as u32 + 10;
    options.git_workspace = false;
    options.more_allowed_users = (0..CHATS).map(|i| FIRST_PERSON + i).collect();
    let t = Harness::start_with(options).await;
    let chats: Vec<FakeChat> = (0..CHATS)
        .map(|i| {
            let person = t.tg.user(FIRST_PERSON + i, &format!("Person {i}"), None);
            let chat = t.tg.private_chat(&person);
            t.tg.send_text(&chat, &person, &prompt(i));
            chat
        })
        .collect();

    let mut answers: Vec<BotMessage> = Vec::new();
    for (i, chat) in chats.iter().enumerate() {
        let answer = format!("Answer for chat {i}.");
        answers.push(
            t.tg.wait_for_message(chat, |m| m.text.starts_with(&answer), DEADLINE)
                .await,
        );
    }

    // Not one call was refused for going too fast, and no pause was ignored.
    let calls = t.tg.calls();
    let refused: Vec<_> = calls.iter().filter(|c| c.status == 429).collect();
    assert!(
        refused.is_empty(),
        "{} calls drew a 429: {refused:#?}",
        refused.len()
    );
    t.assert_no_violations();

    // The chats were busy: their status messages showed progress (besides the posts, reactions
    // and final edits, which go first).
    let progress: Vec<SystemTime> = chats
        .iter()
        .flat_map(|chat| t.tg.bot_messages(chat))
        .flat_map(|m| m.versions)
        .filter(|v| is_progress(&v.text))
        .map(|v| v.at)
        .collect();
    assert!(
        progress.len() >= CHATS as usize,
        "only {} progress texts shown",
        progress.len()
    );

    // How many progress edits of other chats went out between an answer being queued and it
    // reaching the chat: a figure, printed for reading (how long an answer waits depends on how
    // busy the machine is, so it is not asserted here). That edits keep to their share and
    // yield to a waiting answer is held by `bots::pacing::tests`
    // (`calls_that_can_wait_keep_to_their_share_and_yield`) on a paused clock, and `benches/scale.rs`
    // measures the waits.
    let queued = answer_queued_at(&t).await;
    let mut overtaken: Vec<usize> = answers
        .iter()
        .map(|answer| {
            let since = queued[&answer.chat_id];
            progress
                .iter()
                .filter(|at| **at > since && **at < answer.sent_at)
                .count()
        })
        .collect();
    overtaken.sort();
    eprintln!(
        "{} calls, {} progress texts; progress edits overtaking each answer: {overtaken:?}",
        calls.len(),
        progress.len()
    );
}

/// When each chat's answer was queued (its outbox row's creation, on this machine's clock).
async fn answer_queued_at(t: &Harness) -> std::collections::HashMap<i64, SystemTime> {
    let mut conn = sqlx::SqliteConnection::connect(&t.db.url)
        .await
        .expect("open the bot's database");
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT chat, created_at FROM outbox WHERE key LIKE 'turn:%:result'")
            .fetch_all(&mut conn)
            .await
            .expect("read the answers' rows");
    rows.into_iter()
        .map(|(chat, ms)| {
            let at = SystemTime::UNIX_EPOCH + Duration::from_millis(ms as u64);
            (chat.parse().expect("a Telegram chat id"), at)
        })
        .collect()
}
