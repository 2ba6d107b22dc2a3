//! Button presses under the bot's messages: Stop, Cancel, Retry, Open PR.
//!
//! A press is an inbound event like a typed command: stored first (deduplicated on the
//! platform's id for the press, so a press delivered twice acts once), then routed here once the
//! router has admitted who pressed (a stranger's press is refused and audited there). A button's
//! id is whatever the client sent, so the turn or session it names must belong to the thread it
//! was pressed in. Each press is answered to who pressed it ([`Policy::answer_press`]), and
//! the message it was under says who did what: a stopped turn's status ends "🛑 Stopped by
//! Alice", a cancelled acknowledgement "✖️ Cancelled by Alice"; Retry's new turn and Open PR's
//! reply are their own messages.
//!
//! [`Policy::answer_press`]: super::policy::Policy::answer_press

use std::sync::Arc;

use anyhow::Result;

use super::Core;
use super::command_handlers::cancel_on_host;
use super::replies::{self, press};
use super::respond::reply;
use crate::domain::controls::ButtonAction;
use crate::domain::ids::{InboundId, SessionId, TurnId};
use crate::domain::inbound::Inbound;
use crate::domain::outbound::{Outbound, OutboundOp};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::turn::TurnState;
use crate::store::{TurnRow, inbound, outbox, turns};

/// The cancel reason of a turn stopped with its Stop button, before who pressed it.
const STOPPED_BY: &str = "press:";

/// Who pressed Stop, from a turn's cancel reason; `None` when something else cancelled it.
pub(super) fn stopped_by(cancel_reason: &str) -> Option<&str> {
    cancel_reason.strip_prefix(STOPPED_BY)
}

/// Handles an admitted press: acts, marks the event processed and answers who pressed.
pub(super) async fn handle(
    core: &Arc<Core>,
    id: &InboundId,
    event: &Inbound,
    action: &ButtonAction,
) -> Result<()> {
    let answer = match action {
        ButtonAction::Stop(turn) => stop(core, id, event, turn).await?,
        ButtonAction::Cancel(turn) => cancel(core, id, event, turn).await?,
        ButtonAction::Retry(turn) => retry(core, id, event, turn).await?,
        ButtonAction::OpenPr(session) => return open_pr(core, id, event, session).await,
    };
    answer_press(core, event, &answer).await;
    Ok(())
}

/// Refuses a press (who pressed may not act in this thread): answered to them alone.
pub(super) async fn refuse(core: &Core, id: &InboundId, event: &Inbound) -> Result<()> {
    core.store.mark_inbound_processed(id).await?;
    answer_press(core, event, &press::refused()).await;
    Ok(())
}

/// Tells who pressed what came of it. Best effort: the press has been acted on already, and
/// the platform forgets an unanswered press by itself.
async fn answer_press(core: &Core, event: &Inbound, text: &str) {
    let answered = match core.policy(event.platform()) {
        Ok(policy) => policy.answer_press(event, text).await,
        Err(e) => Err(e),
    };
    if let Err(e) = answered {
        tracing::warn!(thread = %event.thread.key(), "could not answer a button press: {e:#}");
    }
}

/// The turn a button names, when it belongs to the thread the button was pressed in.
async fn thread_turn(core: &Core, event: &Inbound, turn: &TurnId) -> Result<Option<TurnRow>> {
    let Some(turn) = core.store.turn(turn).await? else {
        return Ok(None);
    };
    let session = core.store.session(&turn.session_id).await?;
    Ok(session.filter(|s| s.thread == event.thread).map(|_| turn))
}

/// The answer, once the event is marked processed with nothing else to do.
async fn only(core: &Core, id: &InboundId, answer: String) -> Result<String> {
    core.store.mark_inbound_processed(id).await?;
    Ok(answer)
}

/// Replaces the turn's status message with `markdown` and no buttons, and marks the event
/// processed, in one transaction.
async fn edit_status(
    tx: &mut crate::store::Tx,
    id: &InboundId,
    event: &Inbound,
    turn: &TurnId,
    markdown: String,
) -> Result<()> {
    let edit = Outbound {
        key: OutboxKey::StatusEdit(turn.clone()),
        thread: event.thread.clone(),
        op: OutboundOp::Edit {
            target: OutboxKey::Status(turn.clone()),
            markdown,
            progress: false,
            buttons: Vec::new(),
        },
    };
    outbox::enqueue(tx, &edit).await?;
    inbound::mark_processed(tx, id).await
}

async fn stop(core: &Core, id: &InboundId, event: &Inbound, turn: &TurnId) -> Result<String> {
    let Some(turn) = thread_turn(core, event, turn).await? else {
        return only(core, id, press::not_here()).await;
    };
    if !matches!(turn.state, TurnState::Starting | TurnState::Running) {
        return only(core, id, press::turn_ended()).await;
    }
    let who = &event.author.display;
    let reason = format!("{STOPPED_BY}{who}");
    if !core.store.request_cancel(&turn.id, &reason).await? {
        // Stopped already (by `/stop`, a timeout or another press), or ended meanwhile.
        return only(core, id, press::already_stopping()).await;
    }
    let mut tx = core.store.write_tx().await?;
    edit_status(&mut tx, id, event, &turn.id, replies::stopping_by(who)).await?;
    tx.commit().await?;
    core.outbox_changed();
    let said = cancel_on_host(core, &turn, event.platform(), 0).await?;
    tracing::info!(turn = %turn.id, "stopped with its button: {said}");
    Ok(press::stopping())
}

async fn cancel(core: &Core, id: &InboundId, event: &Inbound, turn: &TurnId) -> Result<String> {
    let Some(turn) = thread_turn(core, event, turn).await? else {
        return only(core, id, press::not_here()).await;
    };
    let mut tx = core.store.write_tx().await?;
    if !turns::drop_queued_turn(&mut tx, &turn.id).await? {
        inbound::mark_processed(&mut tx, id).await?;
        tx.commit().await?;
        return Ok(press::not_queued());
    }
    let text = replies::cancelled_by(&event.author.display);
    edit_status(&mut tx, id, event, &turn.id, text).await?;
    tx.commit().await?;
    core.outbox_changed();
    Ok(press::cancelled())
}

/// Queues the turn's prompt again, as if typed by who pressed, into the thread's session.
async fn retry(core: &Arc<Core>, id: &InboundId, event: &Inbound, turn: &TurnId) -> Result<String> {
    let Some(turn) = thread_turn(core, event, turn).await? else {
        return only(core, id, press::not_here()).await;
    };
    let opens_session = core.store.active_session(&event.thread).await?.is_none();
    super::enqueue::queue_prompt(core, id, event, &turn.prompt, opens_session, None).await?;
    Ok(press::retried())
}

/// `/pr` for the session the button names, while it is the thread's: answered to who pressed
/// first (pushing takes a while), the pull request's link then posted in the thread.
async fn open_pr(core: &Core, id: &InboundId, event: &Inbound, session: &SessionId) -> Result<()> {
    let active = core.store.active_session(&event.thread).await?;
    if active.is_none_or(|s| &s.id != session) {
        let answer = only(core, id, press::session_gone()).await?;
        answer_press(core, event, &answer).await;
        return Ok(());
    }
    answer_press(core, event, &press::opening_pr()).await;
    let text = super::delivery::pull_request(core, event).await?;
    reply(core, id, event, text).await
}
