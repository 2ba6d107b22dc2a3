//! Inbound events to actions: thread → session → the session's durable FIFO.
//!
//! Platform adapters only store events (DESIGN invariant 1); this loop hands each to a task.
//! Events of one thread are handled one at a time, in arrival order (a thread with an event in
//! flight is skipped until that event is done), events of different threads concurrently, so a
//! slow platform API or host (`/status`, a GitHub permission check) never holds up other chats.
//! A thread's claim is a drop guard ([`claims`](super::claims)), and a panic while handling an
//! event is caught and answered as an internal error, so a panic never jams its thread.
//! Each event is marked processed in the same transaction that records its effect — the queued
//! turn and its acknowledgement, or the reply to a command — so a crash can neither lose nor
//! repeat it.
//!
//! Who may do anything is decided here, before anything runs (invariant 7), by the platform's
//! [`Policy`](super::policy::Policy): a refusal is audited and answered at most once per
//! hour, author and thread.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};

use super::Core;
use super::command_handlers::Handled;
use super::enqueue;
use super::replies;
use super::respond::{reply, respond};
use crate::domain::admission::{Admission, Refusal};
use crate::domain::audit::AuditAction;
use crate::domain::ids::{InboundId, error_reference, now_ms};
use crate::domain::inbound::{FileKind, Inbound, InboundBody};
use crate::domain::outbound::Post;
use crate::domain::outbox_key::OutboxKey;
use crate::panics;

/// How often the router looks for events even without a wake-up (events stored by another
/// replica sharing the database).
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Events read per batch.
const BATCH: i64 = 64;
/// Audit detail: how much of a refused prompt is kept.
const AUDIT_PROMPT_CHARS: usize = 200;

/// Handles stored inbound events forever.
pub async fn run(core: Arc<Core>) -> Result<()> {
    let mut changed = core.watch_inbound();
    loop {
        changed.borrow_and_update();
        // Each thread in flight has one event in flight: they may fill part of the batch.
        let skip = core.in_flight.len() as i64;
        let batch = match core.store.unprocessed_inbound(BATCH + skip).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!("reading inbound events failed: {e:#}");
                tokio::time::sleep(POLL_INTERVAL).await;
                continue;
            }
        };
        for (id, event) in batch {
            // In flight, or behind an earlier event of its thread: skipped.
            let Some(claim) = core.in_flight.claim(event.thread.clone()) else {
                continue;
            };
            let core = core.clone();
            tokio::spawn(async move {
                // A panic is an internal error like any other: told, and the event is done.
                let failure = match panics::catch_async(handle(&core, &id, &event)).await {
                    Ok(handled) => handled.err(),
                    Err(panic) => Some(anyhow!("handling it panicked: {panic}")),
                };
                if let Some(e) = failure {
                    internal_error(&core, &id, &event, e).await;
                }
                drop(claim);
                core.inbound_stored();
            });
        }
        tokio::select! {
            _ = changed.changed() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

async fn handle(core: &Arc<Core>, id: &InboundId, event: &Inbound) -> Result<()> {
    // The batch this event came from may predate a task that handled it meanwhile.
    if core.store.inbound_processed(id).await? {
        return Ok(());
    }
    let policy = core.policy(event.platform())?;
    // A schedule's or hook's prompt: admitted when the schedule was made, or the hook signed.
    let admission = match &event.body {
        InboundBody::Triggered { .. } => Admission::Allowed,
        _ => policy.admit(event).await?,
    };
    if let Admission::Refused(refusal) = admission {
        return refuse(core, id, event, &refusal).await;
    }
    match &event.body {
        // Refused at intake, on every backend alike (Postgres text cannot hold it), with a
        // message that says what to change.
        InboundBody::Prompt { text } if text.contains('\0') => {
            reply(core, id, event, replies::prompt_has_nul()).await
        }
        InboundBody::Prompt { text } => {
            // Read outside the queueing transaction: the thread is this task's (`in_flight`),
            // so no other prompt of it can open a session meanwhile.
            let mut session = core.store.active_session(&event.thread).await?;
            let opens_session = session.is_none();
            if opens_session && event.files.iter().any(|f| f.kind == FileKind::Attachment) {
                // The files go into the workspace the session will work in: it is made first.
                let mut tx = core.store.write_tx().await?;
                session = Some(enqueue::open_session(core, &mut tx, event, None, None).await?);
                tx.commit().await?;
            }
            let heard = match super::voice::transcribe(core, event, text).await? {
                Ok(heard) => heard,
                Err(refusal) => return reply(core, id, event, refusal).await,
            };
            let delivered =
                super::incoming_files::deliver(core, id, event, session.as_ref(), &heard.prompt);
            let text = match delivered.await? {
                Ok(text) => text,
                Err(refusal) => return reply(core, id, event, refusal).await,
            };
            let text = super::ci_fix::when_asked(core, event, text).await?;
            let echo = heard.echo.as_deref();
            enqueue::queue_prompt(core, id, event, &text, opens_session, echo).await
        }
        InboundBody::Invalid(invalid) => {
            let text = replies::invalid(&core.spelling(event.platform()), invalid);
            reply(core, id, event, text).await
        }
        InboundBody::Press(action) => super::presses::handle(core, id, event, action).await,
        InboundBody::Triggered { text, .. } => {
            let opens_session = core.store.active_session(&event.thread).await?.is_none();
            enqueue::queue_prompt(core, id, event, text, opens_session, None).await
        }
        InboundBody::Command(command) => {
            match super::command_handlers::run(core, id, event, command).await? {
                Handled::Answered => Ok(()),
                Handled::Prompt(text) => {
                    enqueue::queue_prompt(core, id, event, &text, false, None).await
                }
            }
        }
    }
}

async fn refuse(core: &Core, id: &InboundId, event: &Inbound, refusal: &Refusal) -> Result<()> {
    let platform = event.platform();
    let asked = match &event.body {
        InboundBody::Prompt { text } => {
            // The audit's text column cannot hold NUL on Postgres: shown as its symbol.
            let head: String = text
                .chars()
                .take(AUDIT_PROMPT_CHARS)
                .map(|c| if c == '\0' { '␀' } else { c })
                .collect();
            format!("prompt: {head}")
        }
        InboundBody::Command(command) => format!("command: /{}", command.name()),
        InboundBody::Invalid(invalid) => format!("invalid: {invalid:?}"),
        InboundBody::Press(action) => format!("press: {}", action.name()),
        InboundBody::Triggered { trigger, .. } => format!("{trigger}"),
    };
    let detail = format!("{refusal:?}; {asked}");
    core.store
        .audit(
            platform,
            &event.author.id,
            &event.thread.key(),
            AuditAction::Refused,
            &detail,
        )
        .await?;
    tracing::warn!(%platform, user = %event.author.id, thread = %event.thread.key(), ?refusal, "refused");
    if let InboundBody::Press(_) = event.body {
        return super::presses::refuse(core, id, event).await;
    }
    let Some(text) = replies::refusal(refusal) else {
        return core.store.mark_inbound_processed(id).await;
    };
    let key = OutboxKey::Refusal {
        platform,
        thread: event.thread.key(),
        user: event.author.id.clone(),
        hour: now_ms() / 3_600_000,
    };
    respond(core, id, event, key, Post::text(text)).await
}

/// Logs an internal error with a reference the user can quote, and tells the user.
async fn internal_error(core: &Core, id: &InboundId, event: &Inbound, error: anyhow::Error) {
    let reference = error_reference();
    tracing::error!(inbound = %id, reference, "handling an inbound event failed: {error:#}");
    if let Err(e) = reply(core, id, event, replies::internal_error(&reference)).await {
        tracing::error!(inbound = %id, "could not even report the failure: {e:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing;
    use crate::domain::inbound::Invalid;
    use crate::domain::outbound::OutboundOp;
    use crate::domain::thread::Platform;

    #[tokio::test]
    async fn a_panic_while_handling_an_event_does_not_jam_its_thread() {
        let (core, _dir) = testing::core(vec![Arc::new(testing::PanicsOnce::new(
            testing::Bug::InAdmit,
        ))])
        .await;
        let empty = InboundBody::Invalid(Invalid::EmptyMention);
        let mut ids = Vec::new();
        for external_id in ["1", "2"] {
            let event = testing::event(external_id, empty.clone());
            ids.push(core.store.insert_inbound(&event).await.unwrap().unwrap());
        }
        let mut changed = core.watch_outbox();
        let router = tokio::spawn(run(core.clone()));
        core.inbound_stored();
        let handled = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                changed.borrow_and_update();
                let mut all = true;
                for id in &ids {
                    all &= core.store.inbound_processed(id).await.unwrap();
                }
                if all {
                    return;
                }
                changed.changed().await.unwrap();
            }
        })
        .await;
        router.abort();
        // The second event waits while the first holds its thread's claim: its being handled
        // shows the panicked event let go of the thread. (Whether the second's own claim is gone
        // yet is a race with this check: it is dropped after its transaction commits.)
        assert!(handled.is_ok(), "both events of the thread were handled");
        let replies = core
            .store
            .next_outbound(Platform::Telegram, "100")
            .await
            .unwrap();
        let reply = replies.expect("the panicked event was answered");
        assert_eq!(reply.key, OutboxKey::Reply(ids[0].clone()));
        let OutboundOp::Post(post) = &reply.op else {
            panic!("a post: {reply:?}");
        };
        assert!(post.markdown.contains("reference"), "{}", post.markdown);
    }

    /// Refuses everyone, on Slack.
    struct RefusesAll;

    impl crate::core::policy::Policy for RefusesAll {
        fn platform(&self) -> Platform {
            Platform::Slack
        }

        fn admit<'a>(
            &'a self,
            event: &'a Inbound,
        ) -> futures_util::future::BoxFuture<'a, Result<Admission>> {
            let user_id = event.author.id.clone();
            Box::pin(async move { Ok(Admission::Refused(Refusal::NotAllowed { user_id })) })
        }
    }

    /// `Core::ask` (the console's Open PR button): a command stored that way is handled as if
    /// typed, its reply posted in the thread and returned; one its author may not send returns
    /// nothing, as soon as it is handled rather than after the whole wait.
    #[tokio::test]
    async fn an_asked_command_returns_its_reply_and_a_refused_one_nothing_at_once() {
        let (core, _dir) = testing::core(vec![
            Arc::new(testing::PanicsOnce::new(testing::Bug::InPresent)),
            Arc::new(RefusesAll),
        ])
        .await;
        let router = tokio::spawn(run(core.clone()));
        let wait = Duration::from_secs(60);
        let projects = InboundBody::Command(crate::domain::command::Command::Projects);
        let asked = testing::event("1", projects.clone());
        let started = std::time::Instant::now();
        let post = core.ask(&asked, wait).await.unwrap().expect("the reply");
        assert_eq!(
            post.markdown,
            replies::projects(&core.projects, &asked.thread)
        );
        let reply = core
            .store
            .next_outbound(Platform::Telegram, "100")
            .await
            .unwrap()
            .expect("the reply in the thread");
        assert!(matches!(reply.key, OutboxKey::Reply(_)), "{reply:?}");

        let mut refused = testing::event("2", projects);
        refused.thread.platform = Platform::Slack;
        assert_eq!(core.ask(&refused, wait).await.unwrap(), None);
        router.abort();
        assert!(started.elapsed() < wait / 2, "{:?}", started.elapsed());
    }
}
