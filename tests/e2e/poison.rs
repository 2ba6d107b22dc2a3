//! Poison updates: one update that cannot be read or handled is recorded as rejected and
//! skipped; the bot stays up, the updates around it are answered in order, and a restart does
//! not meet it again (DESIGN invariant 1, "a panic is an event, not a freeze").

use serde_json::{Value, json};

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_telegram::UserMessage;
use crate::support::harness::{Harness, Options, WAIT};
use crate::support::telegram_html::{Entity, EntityKind};

on_both_databases!(
    a_mention_past_the_text_is_rejected_and_the_bot_stays_up,
    unparsable_updates_between_good_ones_are_skipped_in_order,
    webhook_mode_rejects_unreadable_updates_and_moves_on,
);

/// The audit rows of rejected updates, as `switchboard audit --json` prints them.
fn rejections(t: &Harness) -> Vec<Value> {
    let out = tokio::task::block_in_place(|| t.cli(&["audit", "--json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).expect("audit JSON");
    all.into_iter()
        .filter(|entry| entry["action"] == "update_rejected")
        .collect()
}

/// Whether a rejection names the update.
fn names(rejection: &Value, update_id: i64) -> bool {
    rejection["detail"]
        .as_str()
        .is_some_and(|d| d.starts_with(&format!("update {update_id}: ")))
}

/// `[[[…0…]]]`, `depth` arrays deep: past any JSON parser's recursion limit at 200.
fn nested(depth: usize) -> Value {
    let mut value = json!(0);
    for _ in 0..depth {
        value = json!([value]);
    }
    value
}

/// A message from Alice in her private chat, as Telegram shapes it, with `extra` fields.
fn alices_message(t: &Harness, text: &str, extra: Value) -> Value {
    let mut message = json!({
        "message_id": 9000, "date": 1_700_000_000, "text": text,
        "chat": {"id": t.chat.id, "type": "private", "first_name": "Alice"},
        "from": {"id": t.alice.id, "is_bot": false, "first_name": "Alice"}
    });
    for (key, value) in extra.as_object().expect("an object") {
        message[key] = value.clone();
    }
    message
}

/// A group message whose mention entity runs past its text used to panic in translation and
/// take the whole service down, before the update was confirmed: every restart met it again.
/// Now it is recorded as rejected, the next message is answered, and after a restart it is
/// gone.
async fn a_mention_past_the_text_is_rejected_and_the_bot_stays_up(db: Db) {
    let mut t = Harness::start(db).await;
    let bot = t.tg.bot_username();
    let group = t.tg.supergroup("Team", false);
    let poison = t.tg.send(
        &group,
        &t.alice,
        UserMessage::new(format!("@{bot} hi")).with_entities(vec![Entity::new(
            EntityKind::Mention,
            0,
            40,
        )]),
    );
    t.tg.wait_until_confirmed(poison.update_id, WAIT).await;
    t.say("still there?");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: still there?");
    t.wait_text("✅ Done").await;

    let rejected = rejections(&t);
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert!(names(&rejected[0], poison.update_id), "{rejected:#?}");
    assert_eq!(rejected[0]["actor"], t.alice.id.to_string());
    assert_eq!(rejected[0]["chat"], group.id.to_string());
    assert!(
        rejected[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("does not fit its text")),
        "{rejected:#?}"
    );

    t.kill_bot();
    t.start_bot().await;
    t.say("after the restart");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #2: after the restart");
    assert_eq!(rejections(&t).len(), 1, "the poison was not met again");
    assert!(t.tg.pending_update_ids().is_empty());
    t.wait_text("✅ Done").await;
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// One getUpdates batch: a good message, one nested deeper than the JSON parser allows, one
/// whose message has a field of the wrong type, another good one. Both good ones are answered,
/// in order; each bad one is recorded as rejected and confirmed.
async fn unparsable_updates_between_good_ones_are_skipped_in_order(db: Db) {
    let mut t = Harness::prepare(Options::new(db)).await;
    t.say("first");
    let deep = alices_message(&t, "deep", json!({"reply_markup": nested(200)}));
    let deep = t.tg.send_raw_update("message", deep);
    let wrong = alices_message(&t, "wrong", json!({"message_id": "not a number"}));
    let wrong = t.tg.send_raw_update("message", wrong);
    let last = t.say("second");
    t.start_bot().await;

    let mut echoes = Vec::new();
    for _ in 0..4 {
        let message = t.next().await;
        if message.text.starts_with("Echo") {
            echoes.push(message.text);
        }
    }
    assert_eq!(echoes, ["Echo #1: first", "Echo #2: second"]);
    t.tg.wait_until_confirmed(last.update_id, WAIT).await;
    let rejected = rejections(&t);
    assert_eq!(rejected.len(), 2, "{rejected:#?}");
    assert!(names(&rejected[0], deep), "{rejected:#?}");
    assert!(
        rejected[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("recursion limit")),
        "{rejected:#?}"
    );
    assert!(names(&rejected[1], wrong), "{rejected:#?}");
    assert_eq!(t.agent_runs().len(), 2, "only the good ones ran");
    t.wait_text("✅ Done").await;
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Webhook mode: an update that cannot be parsed, and one that cannot be translated, are each
/// recorded as rejected and answered 200, so Telegram moves on to the next one.
async fn webhook_mode_rejects_unreadable_updates_and_moves_on(db: Db) {
    let mut options = Options::new(db);
    options.webhook_secret = Some("s3cret-token_42".into());
    let t = Harness::start_with(options).await;
    let bot = t.tg.bot_username();
    let group = t.tg.supergroup("Team", false);
    let deep = alices_message(&t, "deep", json!({"reply_markup": nested(200)}));
    let deep = t.tg.send_raw_update("message", deep);
    let mention = t.tg.send(
        &group,
        &t.alice,
        UserMessage::new(format!("🚀 @{bot} hi")).with_entities(vec![Entity::new(
            EntityKind::Mention,
            1,
            11,
        )]),
    );
    t.say("through the webhook");
    t.next().await;
    assert_eq!(t.next().await.text, "Echo #1: through the webhook");
    let rejected = rejections(&t);
    assert_eq!(rejected.len(), 2, "{rejected:#?}");
    assert!(names(&rejected[0], deep), "{rejected:#?}");
    assert!(names(&rejected[1], mention.update_id), "{rejected:#?}");
    assert!(t.tg.pending_update_ids().is_empty());
    t.wait_text("✅ Done").await;
    t.tg.assert_all_read();
}
