//! Scheduled prompts: a schedule's prompt is queued into its thread at its slot like a typed
//! one, a bot down across slots runs it once when back, and a spent budget refuses it. The
//! scheduler's clock is `scheduling.clock_start` (a test clock running from that instant), so a
//! slot comes due at a known moment instead of after a real wait.

use crate::support::db::{Db, on_both_databases};
use switchboard::domain::thread::Platform;

use crate::support::harness::{Harness, Options, WAIT};
use crate::support::waiting;

on_both_databases!(
    a_schedule_fires_at_its_time_into_its_thread,
    a_bot_down_across_two_slots_runs_a_missed_schedule_once,
    a_scheduled_prompt_is_refused_when_the_budget_is_spent,
    schedules_are_made_listed_and_removed_in_chat,
);

/// The harness with `[[schedules]]` `nightly` (`cron`, in Alice's chat) and the scheduler's
/// clock starting at `clock_start`; not started.
async fn prepare(db: Db, cron: &str, clock_start: &str, more: &str) -> Harness {
    let mut options = Options::new(db);
    options.extra_config = more.to_owned();
    let t = Harness::prepare(options).await;
    let config = std::fs::read_to_string(&t.config_path).expect("config");
    let schedules = format!(
        "\n[scheduling]\nclock_start = \"{clock_start}\"\n\n[[schedules]]\nname = \"nightly\"\n\
         cron = \"{cron}\"\nplatform = \"telegram\"\nchat = \"{}\"\n\
         prompt = \"run the nightly checks\"\n",
        t.chat.id
    );
    std::fs::write(&t.config_path, config + &schedules).expect("config");
    t
}

/// Restarts the bot with its scheduler's clock starting at `clock_start`, once everything it
/// had to post is posted (a reply killed mid-post is posted again, as it should be, but would
/// blur what the test reads).
async fn restart_at(t: &mut Harness, old: &str, clock_start: &str) {
    let store = t.store().await;
    let lane = t.chat.id.to_string();
    waiting::poll(WAIT, async || {
        match store.next_outbound(Platform::Telegram, &lane).await {
            Ok(None) => Ok(()),
            Ok(Some(row)) => Err(format!("still to post: {row:?}")),
            Err(e) => Err(format!("reading the outbox: {e:#}")),
        }
    })
    .await;
    store.close().await;
    t.kill_bot();
    let config = std::fs::read_to_string(&t.config_path).expect("config");
    let moved = config.replace(old, clock_start);
    assert_ne!(moved, config, "the clock moved");
    std::fs::write(&t.config_path, moved).expect("config");
    t.start_bot().await;
}

/// A second before the slot, the bot starts: at 09:00 the prompt is queued into Alice's chat
/// (acknowledged, answered by the agent), audited as `schedule:nightly`.
async fn a_schedule_fires_at_its_time_into_its_thread(db: Db) {
    let mut t = prepare(db, "0 9 * * *", "2026-12-07T08:59:59Z", "").await;
    t.start_bot().await;
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: run the nightly checks");
    t.wait_text("✅ Done").await;
    let audit = t
        .wait_audit(|rows| rows.iter().any(|r| r.action == "schedule_fired"))
        .await;
    let fired = audit.iter().find(|r| r.action == "schedule_fired").unwrap();
    assert_eq!(fired.actor, "schedule:nightly");
    assert_eq!(fired.chat, t.chat.id.to_string());
    assert_eq!(t.agent_runs().len(), 1);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Hourly: fired at 09:00; the bot is down at 10:00 and 11:00, and back at 11:00:30 it runs
/// the missed schedule once — Alice's prompt after it is the session's third turn, not its
/// fourth.
async fn a_bot_down_across_two_slots_runs_a_missed_schedule_once(db: Db) {
    let first = "2026-12-07T08:59:59Z";
    let mut t = prepare(db, "0 * * * *", first, "").await;
    t.start_bot().await;
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: run the nightly checks");
    t.wait_text("✅ Done").await;

    restart_at(&mut t, first, "2026-12-07T11:00:30Z").await;
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #2: run the nightly checks");
    t.wait_text("✅ Done").await;
    t.say("after");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #3: after");
    t.wait_text("✅ Done").await;
    assert_eq!(t.agent_runs().len(), 3, "the missed schedule ran once");
    let audit = t.wait_audit(|_| true).await;
    let fired = audit
        .iter()
        .filter(|r| r.action == "schedule_fired")
        .count();
    assert_eq!(fired, 2);
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Alice's turn spends the session's budget before the slot; the bot is down at 09:00, and
/// when back the missed schedule's prompt is queued and refused with the budget's reply.
async fn a_scheduled_prompt_is_refused_when_the_budget_is_spent(db: Db) {
    let first = "2026-12-07T08:00:00Z";
    let budget = "\n[budgets]\nsession_usd = 0.0001\n";
    let mut t = prepare(db, "0 9 * * *", first, budget).await;
    t.start_bot().await;
    t.say("first");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: first");
    t.wait_text("✅ Done").await;

    restart_at(&mut t, first, "2026-12-07T09:00:30Z").await;
    t.next().await;
    let refusal = t.next().await;
    assert!(
        refusal
            .text
            .starts_with("💸 Not run: this session has cost $"),
        "{}",
        refusal.text
    );
    assert_eq!(t.agent_runs().len(), 1, "the schedule's prompt never ran");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// `/schedule` with a bad expression or zone says the form; a good one is listed with its next
/// run, fires (missed while the bot was down: once, when back), and `/unschedule` removes it (a
/// configured one is not removable in chat).
async fn schedules_are_made_listed_and_removed_in_chat(db: Db) {
    let first = "2026-12-07T08:00:00Z";
    let mut t = prepare(db, "0 12 * * *", first, "").await;
    t.start_bot().await;
    t.say("/schedule \"0 9 * *\" look");
    let bad = t.next().await.text;
    assert!(bad.contains("MIN HOUR DAY MONTH WEEKDAY"), "{bad}");
    t.say("/schedule \"0 9 * * *\" tz=Mars/Olympus look");
    let bad = t.next().await.text;
    assert!(bad.contains("is not a time zone"), "{bad}");

    t.say("/schedule \"0 10 * * *\" tz=Europe/Berlin look around");
    let made = t.next().await.text;
    assert!(made.starts_with("⏰ Scheduled s-"), "{made}");
    let id = made["⏰ Scheduled ".len()..]
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    assert!(made.contains("next 2026-12-07 10:00 CET"), "{made}");

    // 10:00 in Berlin is 09:00 UTC.
    restart_at(&mut t, first, "2026-12-07T09:00:30Z").await;
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: look around");
    t.wait_text("✅ Done").await;

    t.say("/schedules");
    let list = t.next().await.text;
    let made = format!("{id}: 0 10 * * * (Europe/Berlin), next 2026-12-08 10:00 CET: look around");
    assert!(list.contains(&made), "{list}");
    let configured = "nightly (configured): 0 12 * * * (UTC), next 2026-12-07 12:00 UTC: run the \
                      nightly checks";
    assert!(list.contains(configured), "{list}");
    t.say("/unschedule nightly");
    assert!(t.next().await.text.contains("in the configuration"));
    t.say(&format!("/unschedule {id}"));
    assert!(t.next().await.text.starts_with("Removed the schedule"));
    t.say("/schedules");
    let list = t.next().await.text;
    assert!(!list.contains(&id), "{list}");
    let audit = t.wait_audit(|_| true).await;
    for action in ["schedule_made", "schedule_fired", "schedule_removed"] {
        assert!(
            audit.iter().any(|r| r.action == action),
            "{action}: {audit:#?}"
        );
    }
    t.tg.assert_all_read();
    t.assert_no_violations();
}
