//! A prompt becomes a turn: the thread's session (opened, placed by `core::placement`, when the
//! thread has none), the platform's preparation of the prompt, the queue limit, the turn and its
//! acknowledgement — all in one transaction with the event's processed mark, so a crash can
//! neither lose nor repeat it. The router queues typed and triggered prompts through here, and
//! a Retry button (`core::presses`) the prompt it retries.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};

use super::Core;
use super::placement;
use super::policy::Prepared;
use super::replies;
use super::respond::outbound;
use crate::domain::ids::{InboundId, TurnId};
use crate::domain::inbound::Inbound;
use crate::domain::outbound::Post;
use crate::domain::outbox_key::OutboxKey;
use crate::domain::workspace::{GitCheckout, Workspace};
use crate::store::sessions::{self, NewSession};
use crate::store::turns::{self, NewTurn};
use crate::store::{SessionRow, Tx};
use crate::store::{inbound, outbox};

/// Queues `text` as the thread's next prompt, as the platform prepares it (`opens_session`: the
/// thread has no session yet), after `echo` (what was heard in a voice note); a prompt the
/// platform finds nothing to do for is only marked processed.
pub async fn queue_prompt(
    core: &Arc<Core>,
    id: &InboundId,
    event: &Inbound,
    text: &str,
    opens_session: bool,
    echo: Option<&str>,
) -> Result<()> {
    let policy = core.policy(event.platform())?;
    match policy.prepare(event, text, opens_session).await? {
        Some(prepared) => enqueue_prompt(core, id, event, prepared, echo).await,
        None => core.store.mark_inbound_processed(id).await,
    }
}

/// Refuses an author: audited every time, answered (unless silent) at most once per hour,
/// author and thread; a button press is answered to who pressed it alone, every time.
/// Starts the thread's session, placed by `core::placement` (on `host` when the policy names
/// one); a turn with a checkout of its own works in it, and the session remembers where.
pub async fn open_session(
    core: &Core,
    tx: &mut Tx,
    event: &Inbound,
    host: Option<&str>,
    checkout: Option<&GitCheckout>,
) -> Result<SessionRow> {
    let placed = placement::place(core, &event.thread, placement::Asked::default(), host)
        .map_err(|unplaced| anyhow!("placing a new session: {unplaced:?}"))?;
    let workdir = match checkout {
        Some(checkout) => {
            let host = core.hosts.get(&placed.host).context("a placed host")?;
            checkout.path_in(&host.workdir)
        }
        None => placed.workdir,
    };
    sessions::create_session(
        tx,
        NewSession {
            id: placed.id,
            thread: &event.thread,
            host: &placed.host,
            agent: placed.agent.agent,
            model: placed.agent.model.as_deref(),
            workdir: &workdir,
            workspace: placed.workspace.as_ref(),
            created_by: &event.author.id,
        },
    )
    .await
}

/// Queues a prompt as a turn of the thread's session and acknowledges it, after `echo`.
async fn enqueue_prompt(
    core: &Arc<Core>,
    id: &InboundId,
    event: &Inbound,
    prepared: Prepared,
    echo: Option<&str>,
) -> Result<()> {
    let mut tx = core.store.write_tx().await?;
    let session = match sessions::active_session(&mut tx, &event.thread).await? {
        Some(session) => session,
        None => {
            let checkout = prepared
                .workspace
                .as_ref()
                .map(|Workspace::Git(checkout)| checkout);
            open_session(core, &mut tx, event, prepared.host.as_deref(), checkout).await?
        }
    };
    // Two synchronize events in a row read the same pull request: the second's set is the
    // first's, whose review is not posted yet (and so not found by the policy's check).
    if let Some(plan) = prepared.review.as_ref().filter(|plan| !plan.asked)
        && turns::reviewing(&mut tx, &session.id, &plan.fingerprint).await?
    {
        tracing::info!(inbound = %id, "this dependency set is under review already; no second review");
        inbound::mark_processed(&mut tx, id).await?;
        return Ok(tx.commit().await?);
    }
    let (active, queued) = turns::queue_counts(&mut tx, &session.id).await?;
    if queued >= i64::from(core.defaults.max_queue) {
        let post = Post::text(replies::queue_full(
            &core.spelling(event.platform()),
            core.defaults.max_queue,
        ))
        .replying_to(event.message_id.clone());
        outbox::enqueue(
            &mut tx,
            &outbound(OutboxKey::Reply(id.clone()), event, post),
        )
        .await?;
        inbound::mark_processed(&mut tx, id).await?;
        tx.commit().await?;
        core.outbox_changed();
        return Ok(());
    }
    // Prompts ahead of this one: the running turn, or the queued one about to start, and the
    // rest of the queue.
    let ahead = active + queued;
    let turn = TurnId::generate();
    let acks = core
        .policy(event.platform())?
        .acknowledge(event, &turn, ahead);
    let status = OutboxKey::Status(turn.clone());
    turns::insert_turn(
        &mut tx,
        NewTurn {
            id: &turn,
            session_id: &session.id,
            inbound_id: Some(id),
            prompt: &prepared.prompt,
            author_id: &event.author.id,
            author_name: &event.author.display,
            reply_to: event.message_id.as_deref(),
            host: &session.host,
            workspace: prepared.workspace.as_ref(),
            review: prepared.review.as_ref(),
            quiet: !acks.iter().any(|a| a.key == status),
        },
    )
    .await?;
    if let Some(echo) = echo {
        let post = Post::text(echo).replying_to(event.message_id.clone());
        let key = OutboxKey::Transcript(id.clone());
        outbox::enqueue(&mut tx, &outbound(key, event, post)).await?;
    }
    for ack in acks {
        outbox::enqueue(&mut tx, &ack).await?;
    }
    inbound::mark_processed(&mut tx, id).await?;
    tx.commit().await?;
    core.outbox_changed();
    core.kick(session.id);
    Ok(())
}
