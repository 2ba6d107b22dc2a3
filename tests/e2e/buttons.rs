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

mod slack {
    //! The same controls on Slack: Block Kit buttons, presses over Socket Mode and over the
    //! signed interactivity Request URL, answers shown to who pressed alone (ephemeral).

    use super::{CANCEL, RETRY, STOP};
    use crate::support::db::{Db, on_both_databases};
    use crate::support::fake_slack::{FakeSlack, FakeSlackConfig, SlackMessage};
    use crate::support::harness::{Harness, Options, WAIT};
    use crate::support::slack_world::{SlackSetup, SlackWorld};

    on_both_databases!(
        slack_stop_cancel_and_retry_act_once_and_strangers_are_refused,
        slack_presses_over_the_interactivity_url_stop_a_turn,
    );

    async fn start(db: Db, setup: SlackSetup) -> Harness {
        let mut options = Options::new(db);
        options.slack = Some(setup);
        Harness::start_with(options).await
    }

    fn world(t: &Harness) -> &SlackWorld {
        t.slack.as_ref().expect("the fake Slack")
    }

    fn fake(t: &Harness) -> &FakeSlack {
        &world(t).fake
    }

    /// Waits for the bot's message in the thread that matches.
    async fn message(
        t: &Harness,
        root: &str,
        check: impl Fn(&SlackMessage) -> bool,
    ) -> SlackMessage {
        let s = world(t);
        s.fake
            .wait_for_bot_message(&s.channel, Some(root), check, WAIT)
            .await
    }

    /// What the bot told `user` alone, after a press.
    async fn told(t: &Harness, user: &crate::support::fake_slack::FakeUser, text: &str) {
        fake(t)
            .wait_for_ephemeral(user, |e| e.text == text, WAIT)
            .await;
    }

    async fn slack_stop_cancel_and_retry_act_once_and_strangers_are_refused(db: Db) {
        let t = start(db, SlackSetup::default()).await;
        let s = world(&t);
        let f = fake(&t);
        let bot = f.bot_user();
        let go = t.host_dir.path().join("go");
        let root = f
            .user_says(
                &s.channel,
                &s.alice,
                &format!("{} @fake wait-for {}\nfirst", bot.mention(), go.display()),
            )
            .await;
        let status = message(&t, &root, |m| m.buttons() == [STOP]).await;
        f.user_replies(&s.channel, &root, &s.alice, "second").await;
        let queued = message(&t, &root, |m| m.buttons() == [CANCEL]).await;

        let mallory = f.create_user("mallory");
        f.join(&s.channel, &mallory);
        f.press(&s.channel, &mallory, &status.ts, STOP);
        told(&t, &mallory, "You may not use the controls in this thread.").await;
        t.wait_audit(|audit| {
            audit.iter().any(|row| {
                row.action == "refused" && row.actor == mallory.id && row.detail.contains("press")
            })
        })
        .await;

        f.press(&s.channel, &s.alice, &queued.ts, CANCEL);
        told(&t, &s.alice, "✖️ Dropped from the queue.").await;
        message(&t, &root, |m| {
            m.ts == queued.ts && m.text.starts_with("✖️ Cancelled by") && m.buttons().is_empty()
        })
        .await;
        f.press(&s.channel, &s.alice, &status.ts, STOP);
        told(&t, &s.alice, "🛑 Stopping the turn.").await;
        message(&t, &root, |m| {
            m.ts == status.ts && m.text.starts_with("🛑 Stopped by") && m.buttons().is_empty()
        })
        .await;
        let answer = message(&t, &root, |m| m.buttons() == [RETRY]).await;
        assert_eq!(t.agent_runs().len(), 1, "the cancelled prompt never ran");

        std::fs::write(&go, "").unwrap();
        let retry = f.press(&s.channel, &s.alice, &answer.ts, RETRY);
        told(&t, &s.alice, "🔁 Asked again.").await;
        message(&t, &root, |m| m.text.ends_with(": first")).await;
        t.wait_agent_runs(2).await;
        // Delivered again: the same press, ignored.
        f.press_again(&retry);
        f.user_replies(&s.channel, &root, &s.alice, "status").await;
        message(&t, &root, |m| m.text.contains("Queue: 0 waiting")).await;
        assert_eq!(t.agent_runs().len(), 2, "retried once");
        s.assert_no_violations();
    }

    async fn slack_presses_over_the_interactivity_url_stop_a_turn(db: Db) {
        let setup = SlackSetup {
            events_api: true,
            fake: FakeSlackConfig::default(),
        };
        let t = start(db, setup).await;
        let s = world(&t);
        let f = fake(&t);
        f.set_interactivity_url(&format!(
            "http://127.0.0.1:{}/slack/interactivity",
            t.http_port
        ));
        let bot = f.bot_user();
        let go = t.host_dir.path().join("go");
        let root = f
            .user_says(
                &s.channel,
                &s.alice,
                &format!("{} @fake wait-for {}\nwork", bot.mention(), go.display()),
            )
            .await;
        let status = message(&t, &root, |m| m.buttons() == [STOP]).await;
        f.press(&s.channel, &s.alice, &status.ts, STOP);
        told(&t, &s.alice, "🛑 Stopping the turn.").await;
        message(&t, &root, |m| {
            m.ts == status.ts && m.text.starts_with("🛑 Stopped by") && m.buttons().is_empty()
        })
        .await;
        let press = f
            .http_deliveries()
            .into_iter()
            .find(|d| d.kind == "interaction")
            .expect("the press went over HTTP");
        assert_eq!(press.status, Some(200));
    }
}

mod discord {
    //! The same controls on Discord: message components under the bot's messages, presses as
    //! MESSAGE_COMPONENT interactions over the gateway, acknowledged as DEFERRED_UPDATE_MESSAGE
    //! and answered with an ephemeral follow-up.

    use super::{CANCEL, RETRY, STOP};
    use crate::support::db::{Db, on_both_databases};
    use crate::support::discord_world::{DiscordSetup, DiscordWorld};
    use crate::support::fake_discord::{FakeChannel, FakeDiscord, MessageState};
    use crate::support::harness::{Harness, Options, WAIT};

    on_both_databases!(discord_stop_cancel_and_retry_act_once_and_strangers_are_refused);

    fn world(t: &Harness) -> &DiscordWorld {
        t.discord.as_ref().expect("the fake Discord")
    }

    fn fake(t: &Harness) -> &FakeDiscord {
        &world(t).fake
    }

    async fn message(
        t: &Harness,
        thread: &FakeChannel,
        check: impl Fn(&MessageState) -> bool,
    ) -> MessageState {
        fake(t).wait_for_message(thread, check, WAIT).await
    }

    async fn discord_stop_cancel_and_retry_act_once_and_strangers_are_refused(db: Db) {
        let mut options = Options::new(db);
        options.discord = Some(DiscordSetup::default());
        let t = Harness::start_with(options).await;
        let d = world(&t);
        let f = fake(&t);
        let go = t.host_dir.path().join("go");
        let root = d.mention(&format!("@fake wait-for {}\nfirst", go.display()));
        let thread = d.thread_of(&root).await;
        let status = message(&t, &thread, |m| m.buttons == [STOP]).await;
        f.user_says(&thread, &d.alice, "second");
        let queued = message(&t, &thread, |m| m.buttons == [CANCEL]).await;

        let bob = f.user("bob");
        f.add_member(&d.guild, &bob, &[]);
        let refused = f.press(&bob, &status.id, STOP);
        assert_eq!(
            f.press_answer(&refused, WAIT).await,
            "You may not use the controls in this thread."
        );
        t.wait_audit(|audit| {
            audit.iter().any(|row| {
                row.action == "refused" && row.actor == bob.id && row.detail.contains("press")
            })
        })
        .await;

        let cancel = f.press(&d.alice, &queued.id, CANCEL);
        assert_eq!(
            f.press_answer(&cancel, WAIT).await,
            "✖️ Dropped from the queue."
        );
        message(&t, &thread, |m| {
            m.id == queued.id && m.content.starts_with("✖️ Cancelled by") && m.buttons.is_empty()
        })
        .await;
        let stop = f.press(&d.alice, &status.id, STOP);
        assert_eq!(f.press_answer(&stop, WAIT).await, "🛑 Stopping the turn.");
        message(&t, &thread, |m| {
            m.id == status.id && m.content.starts_with("🛑 Stopped by") && m.buttons.is_empty()
        })
        .await;
        let answer = message(&t, &thread, |m| m.buttons == [RETRY]).await;
        assert_eq!(t.agent_runs().len(), 1, "the cancelled prompt never ran");

        std::fs::write(&go, "").unwrap();
        let retry = f.press(&d.alice, &answer.id, RETRY);
        assert_eq!(f.press_answer(&retry, WAIT).await, "🔁 Asked again.");
        message(&t, &thread, |m| m.content.ends_with(": first")).await;
        t.wait_agent_runs(2).await;
        // Replayed by the gateway: the same interaction, ignored.
        f.press_again(&retry);
        f.user_says(&thread, &d.alice, "status");
        message(&t, &thread, |m| m.content.contains("Queue: 0 waiting")).await;
        assert_eq!(t.agent_runs().len(), 2, "retried once");
        d.assert_no_violations();
    }
}
