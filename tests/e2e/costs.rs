//! Budgets: a turn that finds a spending limit reached does not run, and the user sees the
//! figures and what to do.

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, Options};

on_both_databases!(
    a_daily_budget_stops_the_next_turn_with_the_figures,
    a_session_budget_is_reset_by_a_new_session,
);

async fn start(db: Db, budgets: &str) -> Harness {
    let mut options = Options::new(db);
    options.extra_config = format!("\n[budgets]\n{budgets}\n");
    Harness::start_with(options).await
}

/// The first turn runs (nothing spent yet) and costs more than the day's budget; the next one
/// does not run, and says what was spent against what limit.
async fn a_daily_budget_stops_the_next_turn_with_the_figures(db: Db) {
    let t = start(db, "user_daily_usd = 0.0001").await;
    t.say("first");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: first");
    let done = t.wait_text("✅ Done").await;
    let spent = done
        .text
        .split(" · ")
        .nth(1)
        .expect("the turn's cost")
        .to_owned();

    t.say("second");
    let status = t.next().await;
    let refusal = t.next().await;
    assert_eq!(
        refusal.text,
        format!(
            "💸 Not run: you have spent {spent} today, and your daily budget is $0.0001. It \
             starts afresh at midnight UTC; the prompt was not queued for later, so send it \
             again then."
        )
    );
    t.wait_status(&status, "💸 Not run: over budget").await;
    assert_eq!(
        t.agent_runs().len(),
        1,
        "the second prompt never reached the agent"
    );
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// A session over its budget stops; `/new` starts one with a fresh budget.
async fn a_session_budget_is_reset_by_a_new_session(db: Db) {
    let t = start(db, "session_usd = 0.0001").await;
    t.say("first");
    t.next().await;
    t.next().await;
    t.wait_text("✅ Done").await;
    t.say("second");
    t.next().await;
    let refusal = t.next().await;
    assert!(
        refusal
            .text
            .starts_with("💸 Not run: this session has cost $"),
        "{}",
        refusal.text
    );
    assert!(
        refusal.text.contains("Send /new to start"),
        "{}",
        refusal.text
    );
    t.say("/new");
    assert!(t.next().await.text.contains("New session"));
    t.say("third");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: third");
    assert_eq!(t.agent_runs().len(), 2);
    t.tg.assert_all_read();
}
