//! Controls under the bot's messages on Telegram: Stop on a running turn's status, Cancel on a
//! queued prompt's acknowledgement, Retry on an answer, Open PR on an answer whose project
//! worktree changed; only people allowed in the thread may press them, and a press delivered
//! twice acts once.

use crate::support::db::{Db, on_both_databases};
use crate::support::harness::{Harness, WAIT};

on_both_databases!(
    stop_cancel_and_retry_buttons_act_once_and_say_who_pressed,
    a_strangers_press_is_refused_and_audited,
    open_pr_is_offered_only_when_the_workspace_changed,
);

const STOP: &str = "🛑 Stop";
const CANCEL: &str = "✖️ Cancel";
const RETRY: &str = "🔁 Retry";
const OPEN_PR: &str = "🔀 Open PR";

/// A running turn's status carries Stop, a queued prompt's acknowledgement Cancel: Cancel drops
/// that prompt (it never runs), Stop stops the turn, and each message then says who did it,
/// without buttons. The stopped turn's answer carries Retry, which runs its prompt again; the
/// same press delivered again runs nothing more.
async fn stop_cancel_and_retry_buttons_act_once_and_say_who_pressed(db: Db) {
    let t = Harness::start(db).await;
    let go = t.host_dir.path().join("go");
    t.say(&format!("@fake wait-for {}\nfirst", go.display()));
    let status = t.next().await;
    assert_eq!(status.buttons, [STOP], "{status:?}");
    t.say("second");
    let queued = t.next().await;
    assert!(queued.text.starts_with("⏳ Queued"), "{}", queued.text);
    assert_eq!(queued.buttons, [CANCEL]);

    let press = t.tg.press(&t.chat, &t.alice, queued.message_id, CANCEL);
    assert_eq!(
        t.tg.press_answer(&press, WAIT).await,
        "✖️ Dropped from the queue."
    );
    t.tg.wait_for_message(
        &t.chat,
        |m| {
            m.message_id == queued.message_id
                && m.text.starts_with("✖️ Cancelled by @alice")
                && m.buttons.is_empty()
        },
        WAIT,
    )
    .await;

    // Pressed twice before the bot removed the button: the second press is told the turn is
    // stopping or (the first press's kill done and the end read) has ended.
    let press = t.tg.press(&t.chat, &t.alice, status.message_id, STOP);
    let late = t.tg.press(&t.chat, &t.alice, status.message_id, STOP);
    assert_eq!(
        t.tg.press_answer(&press, WAIT).await,
        "🛑 Stopping the turn."
    );
    let told = t.tg.press_answer(&late, WAIT).await;
    assert!(
        [
            "That turn is being stopped already.",
            "That turn has already ended."
        ]
        .contains(&told.as_str()),
        "{told}"
    );
    let stopped = t.wait_status(&status, "🛑 Stopped by @alice after").await;
    assert!(stopped.buttons.is_empty(), "{stopped:?}");
    let answer = t.next().await;
    assert_eq!(
        answer.buttons,
        [RETRY],
        "no changes, no Open PR: {answer:?}"
    );
    assert_eq!(t.agent_runs().len(), 1, "the cancelled prompt never ran");

    std::fs::write(&go, "").unwrap();
    let retry = t.tg.press(&t.chat, &t.alice, answer.message_id, RETRY);
    assert_eq!(t.tg.press_answer(&retry, WAIT).await, "🔁 Asked again.");
    let again = t.next().await;
    assert_eq!(again.reply_to, Some(answer.message_id));
    let rerun = t.next().await;
    assert!(rerun.text.ends_with(": first"), "{}", rerun.text);
    let runs = t.wait_agent_runs(2).await;
    assert!(
        String::from_utf8_lossy(&runs[1].prompt).ends_with("first"),
        "the same prompt"
    );

    // The same press delivered again (its confirmation lost) is the same press: ignored.
    let repeated = t.tg.press_again(&retry);
    t.tg.wait_until_confirmed(repeated, WAIT).await;
    t.say("/status");
    let reply = t.next().await;
    assert!(reply.text.contains("Queue: 0 waiting"), "{}", reply.text);
    assert_eq!(t.agent_runs().len(), 2, "retried once");
    t.tg.assert_all_read();
}

/// A person not allowed in the thread presses Stop: told so (only them), audited, and the turn
/// goes on to its answer.
async fn a_strangers_press_is_refused_and_audited(db: Db) {
    let t = Harness::start(db).await;
    let bot = t.tg.bot_username();
    let group = t.tg.supergroup("Team", false);
    let go = t.host_dir.path().join("go");
    t.tg.send_text(
        &group,
        &t.alice,
        &format!("@{bot} @fake wait-for {}\nwork", go.display()),
    );
    let status = t.tg.next_bot_message(&group, None, WAIT).await;
    let mallory = t.tg.user(666, "Mallory", Some("mallory"));
    let press = t.tg.press(&group, &mallory, status.message_id, STOP);
    assert_eq!(
        t.tg.press_answer(&press, WAIT).await,
        "You may not use the controls in this thread."
    );
    t.wait_audit(|audit| {
        audit.iter().any(|row| {
            row.action == "refused" && row.actor == "666" && row.detail.contains("press: stop")
        })
    })
    .await;
    std::fs::write(&go, "").unwrap();
    let answer = t.tg.next_bot_message(&group, None, WAIT).await;
    assert!(answer.text.ends_with(": work"), "{}", answer.text);
    t.tg.wait_for_message(
        &group,
        |m| m.message_id == status.message_id && m.text.starts_with("✅ Done"),
        WAIT,
    )
    .await;
}

/// A turn that changed its project's worktree offers Open PR, which opens the pull request as
/// `/pr` does; a turn that changed nothing offers Retry only.
async fn open_pr_is_offered_only_when_the_workspace_changed(db: Db) {
    let (t, repo, answer) = crate::workspaces::a_turn_on_the_only_project(db, "").await;
    assert_eq!(answer.buttons, [RETRY, OPEN_PR], "{answer:?}");
    let press = t.tg.press(&t.chat, &t.alice, answer.message_id, OPEN_PR);
    t.tg.press_answer(&press, WAIT).await;
    let reply = t.next().await.text;
    assert!(reply.contains(" and opened pull request #"), "{reply}");
    let gh = t.gh.as_ref().expect("the fake GitHub");
    assert_eq!(gh.pull_requests(&repo).len(), 1);

    t.say("only a question");
    t.next().await;
    let plain = t.next().await;
    assert_eq!(plain.buttons, [RETRY], "nothing changed: {plain:?}");
}
