//! Answering an inbound event: the reply goes into the outbox and the event is marked processed
//! in one transaction (DESIGN invariant 1), so a crash either does both or neither. The router
//! (refusals, bad input, internal errors) and the commands both answer this way.

use anyhow::Result;

use super::Core;
use crate::domain::ids::InboundId;
use crate::domain::inbound::Inbound;
use crate::domain::outbound::{Outbound, OutboundOp, Post};
use crate::domain::outbox_key::OutboxKey;
use crate::store::{inbound, outbox};

/// A post into the event's thread.
pub(super) fn outbound(key: OutboxKey, event: &Inbound, post: Post) -> Outbound {
    Outbound {
        key,
        thread: event.thread.clone(),
        op: OutboundOp::Post(post),
    }
}

/// Answers an event and marks it processed, in one transaction.
pub(super) async fn reply(
    core: &Core,
    id: &InboundId,
    event: &Inbound,
    markdown: String,
) -> Result<()> {
    reply_post(core, id, event, Post::text(markdown)).await
}

/// Answers an event with a post (text and files) and marks it processed, in one transaction.
pub(super) async fn reply_post(
    core: &Core,
    id: &InboundId,
    event: &Inbound,
    post: Post,
) -> Result<()> {
    respond(core, id, event, OutboxKey::Reply(id.clone()), post).await
}

/// Answers an event under `key` (a refusal's hourly key, say) and marks it processed, in one
/// transaction.
pub(super) async fn respond(
    core: &Core,
    id: &InboundId,
    event: &Inbound,
    key: OutboxKey,
    post: Post,
) -> Result<()> {
    let post = post.replying_to(event.message_id.clone());
    let mut tx = core.store.write_tx().await?;
    outbox::enqueue(&mut tx, &outbound(key, event, post)).await?;
    inbound::mark_processed(&mut tx, id).await?;
    tx.commit().await?;
    core.outbox_changed();
    Ok(())
}
