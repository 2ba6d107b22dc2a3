//! Draining the outbox into a platform, within its limits, exactly once per key.
//!
//! One loop per platform watches the outbox and runs one task per chat with pending messages,
//! so a slow or rate-limited chat never holds up another, and messages to one chat go out in
//! order. A chat's claim and its pacing ticket are drop guards, and a panic while delivering a
//! message gives that message up (logged, recorded as failed) and moves on to the next: a
//! panic never jams the chat. A post may need several platform messages ("parts"); each part
//! is recorded in the store right after the platform accepted it, so a crash resumes at the
//! next part instead of repeating the first (DESIGN invariant 4).
//!
//! A part whose answer was lost — a 5xx or a timeout after the platform accepted it, a dropped
//! connection, a crash before the record — may be there already. So each part is named
//! ([`PartId`], the same on every attempt and after a restart) and noted as being sent before
//! the first attempt; a later pass that finds the note asks the platform first
//! ([`Outlet::find_sent`]: Slack finds its metadata, GitHub its marker) and records what it
//! finds instead of sending again. Discord recognises a repeated part by its nonce itself.
//! Telegram can do neither: there a lost answer can still show a part twice.
//!
//! A post's files are not in its row (`store::attachments`): the row names them, and a part
//! that sends one reads it ([`PostFiles`]) as it goes out, so the passes over the outbox read
//! rows of a few hundred bytes, not the patch and images of every pending answer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::pacing::Pacer;
use crate::core::Core;
use crate::domain::controls::Button;
use crate::domain::ids::now_ms;
use crate::domain::outbound::{Attachment, OutboundOp, Post, Reaction, StatusWith};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::{Platform, ThreadRef};
use crate::panics;
use crate::store::{OutboxRow, PauseScope, RetryPause, Store};
use futures_util::future::BoxFuture;

/// How often the loop looks for work without a wake-up (work queued by another replica, and
/// deferred retries).
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Retry delays after transient failures: 1 s, 2 s, 4 s … up to 5 minutes.
const RETRY_MAX: Duration = Duration::from_secs(300);
/// An edit that would wait longer than this for the chat's budget is left for a later pass
/// instead of holding the chat's queue (a new post may arrive meanwhile).
const EDIT_WAIT_MAX: Duration = Duration::from_secs(2);

/// Why a platform call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// Rate limited: wait this long before calling the chat again.
    RetryAfter(Duration),
    /// Rate limited platform-wide: wait this long before calling the platform again.
    RetryAfterEverywhere(Duration),
    /// The platform rejected the formatting; try the part's plain fallback.
    Markup(String),
    /// The platform refused for good (chat gone, bot blocked, bad request).
    Rejected(String),
    /// Network trouble or a server error: retry later.
    Transient(String),
}

/// Answers that need more messages than this are sent as their first message plus the whole
/// text as a file: a wall of messages is harder to read (and to copy) than one file.
pub const MAX_MESSAGES: usize = 3;

/// A post's messages, or — past [`MAX_MESSAGES`] — its first message and then `file(name,
/// caption)` carrying the whole Markdown text. `None` when the post rendered to nothing.
fn messages_or_file<P>(
    rendered: Vec<P>,
    post: &Post,
    file: impl FnOnce(String, String) -> P,
) -> Option<Vec<P>> {
    if rendered.len() <= MAX_MESSAGES {
        return (!rendered.is_empty()).then_some(rendered);
    }
    let first = rendered.into_iter().next()?;
    let name = post.document_name.as_deref().unwrap_or("message");
    let caption = crate::core::replies::long_answer_caption(post.markdown.chars().count());
    Some(vec![first, file(format!("{name}.md"), caption)])
}

/// A post as a platform sends it: its messages (see [`messages_or_file`]; `empty` when it
/// rendered to nothing), then each of its attachments. `file` makes the platform's part for a
/// file (the long text's, or an attachment).
pub fn post_parts<P>(
    rendered: Vec<P>,
    post: &Post,
    empty: impl FnOnce() -> P,
    file: impl Fn(Attachment) -> P,
) -> Vec<P> {
    let mut parts = messages_or_file(rendered, post, |name, caption| {
        file(Attachment::text(name, post.markdown.clone(), caption))
    })
    .unwrap_or_else(|| vec![empty()]);
    parts.extend(post.attachments.iter().cloned().map(file));
    parts
}

/// A message of a platform that reads its markup from plain text and never rejects it (Slack,
/// Discord): rendered text, or a file (its caption the message's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkupPart {
    Text(String),
    File(Attachment),
}

impl OutletPart for MarkupPart {
    /// The platform does not reject its markup: there is no fallback to fall back to.
    fn plain(&self) -> Option<MarkupPart> {
        None
    }
}

/// A post as [`MarkupPart`]s: `rendered` (the text's messages), as [`post_parts`] arranges them.
pub fn markup_parts(rendered: Vec<String>, post: &Post) -> Vec<MarkupPart> {
    post_parts(
        rendered.into_iter().map(MarkupPart::Text).collect(),
        post,
        || MarkupPart::Text(crate::core::replies::empty_message()),
        MarkupPart::File,
    )
}

/// Where the part that sends a file reads its bytes, as it goes out: the store keeps a queued
/// post's files apart from its row (`store::attachments`), so a pass over the outbox reads only
/// the rows, and a file is read once per attempt at its own part, not once per pass.
#[derive(Clone, Copy)]
pub struct PostFiles<'a> {
    store: &'a Store,
    /// The post's outbox key.
    key: &'a OutboxKey,
}

impl PostFiles<'_> {
    /// The bytes of one of the post's files. A store that cannot be read now is a transient
    /// failure; a file it does not have will never come, and the part is refused.
    pub async fn read(&self, file: &Attachment) -> Result<Vec<u8>, SendError> {
        match self.store.attachment_bytes(self.key, file).await {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(SendError::Rejected(format!(
                "{} of {} is not in the store",
                file.name, self.key
            ))),
            Err(e) => Err(SendError::Transient(format!("{e:#}"))),
        }
    }
}

/// One message of one post: the same on every attempt, also after a restart, so a platform
/// that can recognise a repeated send is told which part it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartId<'a> {
    /// The post's outbox key.
    pub key: &'a OutboxKey,
    /// The part's place in the post.
    pub index: usize,
}

impl PartId<'_> {
    /// A token naming the part in 24 characters (Discord takes nonces of up to 25): hex of the
    /// first 12 bytes of SHA-256 over the key and the index. 96 bits keep the bot's parts apart.
    pub fn nonce(&self) -> String {
        let text = format!("{}\n{}", self.key, self.index);
        let hash = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        hash.as_ref()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// One message of a post as a platform sends it.
pub trait OutletPart: Send + Sync {
    /// The same content without formatting, for when the platform rejects the markup.
    fn plain(&self) -> Option<Self>
    where
        Self: Sized;
}

/// A platform's sending side.
pub trait Outlet: Send + Sync + 'static {
    type Part: OutletPart + 'static;

    fn platform(&self) -> Platform;

    /// Whether a chat counts as a group for the platform's limits.
    fn is_group(&self, chat: &str) -> bool;

    /// Splits a post into the messages to send. Must be deterministic: a resumed post is split
    /// again and continues at the first part not yet posted.
    fn parts(&self, post: &Post) -> Vec<Self::Part>;

    /// Sends one part of a post; returns the platform's message id. A part that sends one of
    /// the post's files reads it from `files`.
    fn send<'a>(
        &'a self,
        thread: &'a ThreadRef,
        id: PartId<'a>,
        part: &'a Self::Part,
        post: &'a Post,
        files: PostFiles<'a>,
    ) -> BoxFuture<'a, Result<String, SendError>>;

    /// Looks for the message an earlier attempt at the part `id` (first tried at `since_ms`,
    /// Unix ms) may have posted although its answer was lost; its message id if it is there.
    /// `Ok(None)` when it is not, and by default: platforms that cannot tell send again.
    fn find_sent<'a>(
        &'a self,
        _thread: &'a ThreadRef,
        _id: PartId<'a>,
        _part: &'a Self::Part,
        _since_ms: i64,
    ) -> BoxFuture<'a, Result<Option<String>, SendError>> {
        Box::pin(async { Ok(None) })
    }

    /// Reacts to a platform message. Platforms without reactions need not implement it.
    fn react<'a>(
        &'a self,
        _thread: &'a ThreadRef,
        _message_id: &'a str,
        _reaction: Reaction,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async { Ok(()) })
    }

    /// Replaces the text of the message posted under the key `target` (`plain`: without
    /// formatting, after the platform rejected the markup), and its buttons with `buttons`.
    /// "Not modified" counts as success.
    fn edit<'a>(
        &'a self,
        thread: &'a ThreadRef,
        target: &'a OutboxKey,
        message_id: &'a str,
        text: EditText<'a>,
        plain: bool,
    ) -> BoxFuture<'a, Result<(), SendError>>;
}

/// What an edit makes of a message: its new text (Markdown) and buttons.
#[derive(Debug, Clone, Copy)]
pub struct EditText<'a> {
    pub markdown: &'a str,
    pub buttons: &'a [Button],
}

/// Delivers the platform's outbox forever.
pub async fn run<O: Outlet>(core: Arc<Core>, outlet: Arc<O>, pacer: Arc<Pacer>) -> Result<()> {
    restore_pauses(&core, &pacer, outlet.platform()).await?;
    let platform = outlet.platform();
    let mut changed = core.watch_outbox();
    loop {
        changed.borrow_and_update();
        match core.store.outbox_chats(platform).await {
            Ok(chats) => {
                for chat in chats {
                    let Some(claim) = core.delivering.claim((platform, chat.clone())) else {
                        continue; // a task is delivering this chat's messages
                    };
                    let (core, outlet, pacer) = (core.clone(), outlet.clone(), pacer.clone());
                    tokio::spawn(async move {
                        let _claim = claim;
                        if let Err(e) = drain_chat(&core, &*outlet, &pacer, &chat).await {
                            tracing::error!(%platform, chat, "delivering messages failed: {e:#}");
                        }
                    });
                }
            }
            Err(e) => tracing::error!(%platform, "reading the outbox failed: {e:#}"),
        }
        tokio::select! {
            _ = changed.changed() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

/// Holds the pacer to the pauses stored before a restart, before any call is made.
async fn restore_pauses(core: &Core, pacer: &Pacer, platform: Platform) -> Result<()> {
    for pause in core.store.pending_pauses(platform).await? {
        let chat = match &pause.scope {
            PauseScope::Chat(chat) => Some(chat.as_str()),
            PauseScope::Platform => None,
        };
        pacer.restore(chat, pause.until_ms);
    }
    Ok(())
}

/// The platform asked for a pause (`RetryAfter`, or `RetryAfterEverywhere` when `everywhere`):
/// the pacer holds the chat (or the platform) back, and the pause is stored before the next
/// call, so a restart keeps it.
async fn pause(
    core: &Core,
    pacer: &Pacer,
    row: &OutboxRow,
    wait: Duration,
    everywhere: bool,
) -> Result<()> {
    let chat = &row.chat;
    let (until_ms, scope) = match everywhere {
        false => (pacer.pause(chat, wait), PauseScope::Chat(chat.clone())),
        true => (pacer.pause_all(wait), PauseScope::Platform),
    };
    tracing::info!(
        key = %row.key,
        chat,
        everywhere,
        "rate limited for {:.1}s",
        wait.as_secs_f64()
    );
    core.store
        .save_pause(row.thread.platform, &RetryPause { scope, until_ms })
        .await
}

/// Sends a chat's pending messages in order until none is due. Deferred work (a retry not yet
/// due, an edit waiting for budget) is left for the loop's next pass.
async fn drain_chat<O: Outlet>(core: &Core, outlet: &O, pacer: &Pacer, chat: &str) -> Result<()> {
    let platform = outlet.platform();
    let group = outlet.is_group(chat);
    while let Some(row) = core.store.next_outbound(platform, chat).await? {
        if row.not_before > now_ms() {
            return Ok(());
        }
        let delivered = panics::catch_async(deliver(core, outlet, pacer, &row, group)).await;
        match delivered {
            Ok(delivery) => {
                if let Delivery::Later = delivery? {
                    return Ok(());
                }
            }
            Err(panic) => {
                give_up(core, &row, &format!("delivering it panicked: {panic}")).await?;
            }
        }
    }
    Ok(())
}

/// What became of an outbox row.
enum Delivery {
    /// Sent, refused for good, or deferred with a retry time: the next row may go.
    Done,
    /// Left for a later pass (an edit waiting for budget).
    Later,
}

/// Delivers one outbox row.
async fn deliver<O: Outlet>(
    core: &Core,
    outlet: &O,
    pacer: &Pacer,
    row: &OutboxRow,
    group: bool,
) -> Result<Delivery> {
    match &row.op {
        OutboundOp::Post(post) => deliver_post(core, outlet, pacer, row, post).await?,
        OutboundOp::React {
            message_id,
            reaction,
        } => deliver_reaction(core, outlet, pacer, row, message_id, *reaction).await?,
        op @ OutboundOp::Edit { .. }
            if pacer.wait_for(&row.chat, group, op.is_progress()) > EDIT_WAIT_MAX =>
        {
            return Ok(Delivery::Later);
        }
        op @ OutboundOp::Edit { target, .. } => {
            deliver_edit(core, outlet, pacer, row, target, op.is_progress()).await?
        }
    }
    Ok(Delivery::Done)
}

async fn deliver_post<O: Outlet>(
    core: &Core,
    outlet: &O,
    pacer: &Pacer,
    row: &OutboxRow,
    post: &Post,
) -> Result<()> {
    let parts = outlet.parts(post);
    let already = core.store.posted_parts(&row.key).await?.len();
    let group = outlet.is_group(&row.chat);
    let files = PostFiles {
        store: &core.store,
        key: &row.key,
    };
    let mut status = post.status.as_ref();
    for (index, part) in parts.iter().enumerate().skip(already) {
        if let Some(with) = status.filter(|s| index >= s.after_parts) {
            deliver_status(core, outlet, pacer, with).await?;
            status = None;
        }
        let id = PartId {
            key: &row.key,
            index,
        };
        match find_earlier(core, outlet, pacer, row, id, part).await? {
            Earlier::Found(message_id) => {
                core.store
                    .record_posted(&row.key, index as i64, &message_id)
                    .await?;
                continue;
            }
            Earlier::Deferred => return Ok(()),
            Earlier::NotFound => {}
        }
        core.store.mark_sending(row, index as i64).await?;
        let mut fallback = None;
        loop {
            let sending = fallback.as_ref().unwrap_or(part);
            let ticket = pacer.acquire(&row.chat, group, false).await;
            let result = outlet.send(&row.thread, id, sending, post, files).await;
            match result {
                Ok(message_id) => {
                    pacer.done(ticket);
                    core.store
                        .record_posted(&row.key, index as i64, &message_id)
                        .await?;
                    break;
                }
                Err(SendError::RetryAfter(wait)) => pause(core, pacer, row, wait, false).await?,
                Err(SendError::RetryAfterEverywhere(wait)) => {
                    pause(core, pacer, row, wait, true).await?
                }
                Err(SendError::Markup(reason)) => {
                    pacer.done(ticket);
                    match (fallback.is_none(), part.plain()) {
                        (true, Some(plain)) => {
                            tracing::warn!(
                                key = %row.key,
                                "markup rejected, sending plain text: {reason}"
                            );
                            fallback = Some(plain);
                        }
                        _ => return give_up(core, row, &reason).await,
                    }
                }
                Err(SendError::Rejected(reason)) => {
                    pacer.done(ticket);
                    return give_up(core, row, &reason).await;
                }
                Err(SendError::Transient(reason)) => {
                    pacer.done(ticket);
                    return retry_later(core, row, &reason).await;
                }
            }
        }
    }
    if let Some(with) = status {
        deliver_status(core, outlet, pacer, with).await?;
    }
    core.store.outbox_done(row).await
}

/// Delivers the status edit that goes with a post ([`StatusWith`]), unless it is no longer
/// pending (delivered before a restart) or a retry put it off: then the chat's queue has it.
async fn deliver_status<O: Outlet>(
    core: &Core,
    outlet: &O,
    pacer: &Pacer,
    with: &StatusWith,
) -> Result<()> {
    let Some(edit) = core.store.pending_outbound(&with.key).await? else {
        return Ok(());
    };
    match &edit.op {
        OutboundOp::Edit {
            target, progress, ..
        } if edit.not_before <= now_ms() => {
            deliver_edit(core, outlet, pacer, &edit, target, *progress).await
        }
        _ => Ok(()),
    }
}

/// What became of an earlier attempt at a part.
enum Earlier {
    /// The platform has it: this message.
    Found(String),
    /// No earlier attempt, it is not there, or the platform cannot tell: send it.
    NotFound,
    /// The platform could not be asked now; the post waits for a later pass.
    Deferred,
}

/// Asks the platform for the part an earlier pass started sending (and never saw accepted).
/// A lookup the platform refuses for good (a missing scope, say) leaves only sending again.
async fn find_earlier<O: Outlet>(
    core: &Core,
    outlet: &O,
    pacer: &Pacer,
    row: &OutboxRow,
    id: PartId<'_>,
    part: &O::Part,
) -> Result<Earlier> {
    let Some(since_ms) = row
        .sending
        .filter(|s| s.part == id.index as i64)
        .map(|s| s.since_ms)
    else {
        return Ok(Earlier::NotFound);
    };
    let group = outlet.is_group(&row.chat);
    loop {
        match outlet.find_sent(&row.thread, id, part, since_ms).await {
            Ok(Some(message_id)) => {
                tracing::info!(
                    key = %row.key,
                    part = id.index,
                    message_id,
                    "an earlier attempt was posted after all: not sending it again"
                );
                return Ok(Earlier::Found(message_id));
            }
            Ok(None) => {
                tracing::info!(
                    key = %row.key,
                    part = id.index,
                    "an earlier attempt may not have been posted: sending again"
                );
                return Ok(Earlier::NotFound);
            }
            // Lookups are not paced like sends, but wait out a pause they run into.
            Err(SendError::RetryAfter(wait)) => {
                pause(core, pacer, row, wait, false).await?;
                pacer.done(pacer.acquire(&row.chat, group, false).await);
            }
            Err(SendError::RetryAfterEverywhere(wait)) => {
                pause(core, pacer, row, wait, true).await?;
                pacer.done(pacer.acquire(&row.chat, group, false).await);
            }
            Err(SendError::Transient(reason)) => {
                retry_later(core, row, &reason).await?;
                return Ok(Earlier::Deferred);
            }
            Err(SendError::Markup(reason) | SendError::Rejected(reason)) => {
                tracing::warn!(
                    key = %row.key,
                    part = id.index,
                    "cannot look for an earlier attempt, sending again: {reason}"
                );
                return Ok(Earlier::NotFound);
            }
        }
    }
}

async fn deliver_edit<O: Outlet>(
    core: &Core,
    outlet: &O,
    pacer: &Pacer,
    row: &OutboxRow,
    target: &OutboxKey,
    progress: bool,
) -> Result<()> {
    let Some(message_id) = core.store.posted_parts(target).await?.into_iter().next() else {
        return give_up(core, row, "the message to edit was never posted").await;
    };
    let group = outlet.is_group(&row.chat);
    let mut plain = false;
    loop {
        let ticket = pacer.acquire(&row.chat, group, progress).await;
        // A newer text may have replaced this one while it waited: only the latest is sent.
        let Some(latest) = core.store.pending_outbound(&row.key).await? else {
            pacer.unused(ticket); // delivered meanwhile (by another replica)
            return Ok(());
        };
        let OutboundOp::Edit {
            markdown,
            progress: still_progress,
            buttons,
            ..
        } = &latest.op
        else {
            return give_up(core, &latest, "an edit's row holds no edit").await;
        };
        // A refresh that waited while its turn ended now holds the turn's final status, which
        // goes with the answer queued meanwhile ([`StatusWith`]), not before it: the answer's
        // post (next in the lane) delivers it, or the lane's next pass does when none does.
        if progress && !still_progress {
            pacer.unused(ticket);
            return Ok(());
        }
        match outlet
            .edit(
                &row.thread,
                target,
                &message_id,
                EditText { markdown, buttons },
                plain,
            )
            .await
        {
            Ok(()) => {
                pacer.done(ticket);
                return core.store.outbox_done(&latest).await;
            }
            Err(SendError::RetryAfter(wait)) => pause(core, pacer, row, wait, false).await?,
            Err(SendError::RetryAfterEverywhere(wait)) => {
                pause(core, pacer, row, wait, true).await?
            }
            Err(SendError::Transient(reason)) => {
                pacer.done(ticket);
                return retry_later(core, &latest, &reason).await;
            }
            Err(SendError::Markup(reason)) if !plain => {
                pacer.done(ticket);
                tracing::warn!(
                    key = %row.key,
                    "markup rejected, editing as plain text: {reason}"
                );
                plain = true;
            }
            Err(SendError::Markup(reason) | SendError::Rejected(reason)) => {
                pacer.done(ticket);
                return give_up(core, &latest, &reason).await;
            }
        }
    }
}

async fn deliver_reaction<O: Outlet>(
    core: &Core,
    outlet: &O,
    pacer: &Pacer,
    row: &OutboxRow,
    message_id: &str,
    reaction: Reaction,
) -> Result<()> {
    let group = outlet.is_group(&row.chat);
    loop {
        let ticket = pacer.acquire(&row.chat, group, false).await;
        match outlet.react(&row.thread, message_id, reaction).await {
            Ok(()) => {
                pacer.done(ticket);
                return core.store.outbox_done(row).await;
            }
            Err(SendError::RetryAfter(wait)) => pause(core, pacer, row, wait, false).await?,
            Err(SendError::RetryAfterEverywhere(wait)) => {
                pause(core, pacer, row, wait, true).await?
            }
            Err(SendError::Transient(reason)) => {
                pacer.done(ticket);
                return retry_later(core, row, &reason).await;
            }
            Err(SendError::Markup(reason) | SendError::Rejected(reason)) => {
                pacer.done(ticket);
                return give_up(core, row, &reason).await;
            }
        }
    }
}

async fn give_up(core: &Core, row: &OutboxRow, reason: &str) -> Result<()> {
    tracing::error!(
        key = %row.key,
        chat = row.chat,
        "message refused by the platform: {reason}"
    );
    core.store.outbox_failed(row, reason).await
}

async fn retry_later(core: &Core, row: &OutboxRow, reason: &str) -> Result<()> {
    let delay = Duration::from_secs(1 << row.attempts.clamp(0, 8)).min(RETRY_MAX);
    tracing::warn!(
        key = %row.key,
        "sending failed, retrying in {}s: {reason}",
        delay.as_secs()
    );
    core.store
        .outbox_defer(row, now_ms() + delay.as_millis() as i64, reason)
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::sync::mpsc;

    use super::*;
    use crate::core::testing;
    use crate::domain::ids::TurnId;
    use crate::domain::outbound::{AttachmentData, Outbound};

    /// The key stored as `text`.
    fn key(text: &str) -> OutboxKey {
        text.parse().expect("an outbox key")
    }

    #[test]
    fn a_part_nonce_is_short_stable_and_its_own() {
        let nonce = |text, index| {
            let key = key(text);
            PartId { key: &key, index }.nonce()
        };
        let first = nonce("turn:0193:result", 0);
        assert_eq!(first.len(), 24, "Discord takes at most 25 characters");
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            first,
            nonce("turn:0193:result", 0),
            "the same on every attempt"
        );
        assert_ne!(first, nonce("turn:0193:result", 1));
        assert_ne!(first, nonce("turn:0194:result", 0));
    }

    /// An outlet that reports every call it gets, in order, and the file each file part read;
    /// with `panic_next` set, its next send panics instead (an injected bug).
    struct Recording {
        panic_next: AtomicBool,
        calls: mpsc::UnboundedSender<String>,
        files: mpsc::UnboundedSender<(String, Vec<u8>)>,
    }

    impl Recording {
        fn new(panic_next: bool) -> (Arc<Recording>, Recorded) {
            let (calls, made) = mpsc::unbounded_channel();
            let (files, read) = mpsc::unbounded_channel();
            let outlet = Recording {
                panic_next: AtomicBool::new(panic_next),
                calls,
                files,
            };
            (Arc::new(outlet), Recorded { made, read })
        }
    }

    /// What a [`Recording`] outlet reports: its calls, and the files its parts read.
    struct Recorded {
        made: mpsc::UnboundedReceiver<String>,
        read: mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    }

    impl Outlet for Recording {
        type Part = MarkupPart;

        fn platform(&self) -> Platform {
            Platform::Telegram
        }

        fn is_group(&self, _chat: &str) -> bool {
            false
        }

        fn parts(&self, post: &Post) -> Vec<MarkupPart> {
            markup_parts(vec![post.markdown.clone()], post)
        }

        fn send<'a>(
            &'a self,
            _thread: &'a ThreadRef,
            id: PartId<'a>,
            part: &'a MarkupPart,
            _post: &'a Post,
            files: PostFiles<'a>,
        ) -> BoxFuture<'a, Result<String, SendError>> {
            if self.panic_next.swap(false, Ordering::SeqCst) {
                panic!("an injected bug");
            }
            let _ = self.calls.send(format!("send {} {}", id.key, id.index));
            Box::pin(async move {
                if let MarkupPart::File(file) = part {
                    let bytes = files.read(file).await?;
                    let _ = self.files.send((file.name.clone(), bytes));
                }
                Ok(format!("{}/{}", id.key, id.index))
            })
        }

        fn edit<'a>(
            &'a self,
            _thread: &'a ThreadRef,
            target: &'a OutboxKey,
            _message_id: &'a str,
            text: EditText<'a>,
            _plain: bool,
        ) -> BoxFuture<'a, Result<(), SendError>> {
            let _ = self.calls.send(format!("edit {target} {}", text.markdown));
            Box::pin(async { Ok(()) })
        }
    }

    fn unpaced() -> crate::bots::pacing::Limits {
        crate::bots::pacing::Limits {
            per_chat_interval: Duration::ZERO,
            per_group: 100,
            group_window: Duration::from_secs(60),
            global: 100,
            global_window: Duration::from_secs(1),
        }
    }

    /// A core of no platform and the thread of a chat prompt.
    async fn core_and_chat() -> (Arc<Core>, tempfile::TempDir, ThreadRef) {
        let (core, dir) = testing::core(Vec::new()).await;
        let prompt = crate::domain::inbound::InboundBody::Prompt {
            text: String::new(),
        };
        (core, dir, testing::event("1", prompt).thread)
    }

    /// A turn's status message, its final edit and its answer of two parts (text and a file), as
    /// a chat's `present` queues them; `answered` parts of the answer already out (a restart).
    async fn ending_delivered(answered: i64) -> Vec<String> {
        let (core, _dir, thread) = core_and_chat().await;
        let queue = |text: &str, op| Outbound {
            key: key(text),
            thread: thread.clone(),
            op,
        };
        let status = queue("turn:1:status", OutboundOp::Post(Post::text("Working")));
        core.store.enqueue_outbound(&status).await.unwrap();
        core.store
            .record_posted(&key("turn:1:status"), 0, "status message")
            .await
            .unwrap();
        let done = OutboundOp::Edit {
            target: key("turn:1:status"),
            markdown: "Done".into(),
            progress: false,
            buttons: Vec::new(),
        };
        core.store
            .enqueue_outbound(&queue("turn:1:status:edit", done))
            .await
            .unwrap();
        let file = Attachment::text("a.diff".into(), "+a".into(), "The patch".into());
        let answer = Post::text("The answer")
            .attach(vec![file])
            .with_status(key("turn:1:status:edit"), 1);
        core.store
            .enqueue_outbound(&queue("turn:1:result", OutboundOp::Post(answer)))
            .await
            .unwrap();
        for part in 0..answered {
            core.store
                .record_posted(&key("turn:1:result"), part, "sent before")
                .await
                .unwrap();
        }
        let (outlet, mut recorded) = Recording::new(false);
        let loop_ = tokio::spawn(run(core.clone(), outlet, Arc::new(Pacer::new(unpaced()))));
        let delivered = async {
            while !core
                .store
                .outbox_chats(Platform::Telegram)
                .await
                .unwrap()
                .is_empty()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), delivered)
            .await
            .expect("everything delivered in time");
        loop_.abort();
        std::iter::from_fn(|| recorded.made.try_recv().ok()).collect()
    }

    #[tokio::test]
    async fn a_turns_final_status_goes_right_after_its_answers_first_message() {
        assert_eq!(
            ending_delivered(0).await,
            [
                "send turn:1:result 0",
                "edit turn:1:status Done",
                "send turn:1:result 1"
            ]
        );
        // A restart after the answer's first message: the status goes before the rest.
        assert_eq!(
            ending_delivered(1).await,
            ["edit turn:1:status Done", "send turn:1:result 1"]
        );
        // After the whole answer: the status still goes, once.
        assert_eq!(ending_delivered(2).await, ["edit turn:1:status Done"]);
    }

    /// A queued post's row names its file; the file is read from the store by its own part,
    /// as that part goes out.
    #[tokio::test]
    async fn a_file_is_read_from_the_store_when_its_part_goes_out() {
        let (core, _dir, thread) = core_and_chat().await;
        let file = Attachment::text("a.diff".into(), "+a".into(), "The patch".into());
        let answer = Outbound {
            key: key("turn:1:result"),
            thread: thread.clone(),
            op: OutboundOp::Post(Post::text("The answer").attach(vec![file])),
        };
        core.store.enqueue_outbound(&answer).await.unwrap();
        let row = core.store.next_outbound(Platform::Telegram, &thread.chat);
        let OutboundOp::Post(queued) = row.await.unwrap().expect("the answer is pending").op else {
            panic!("the answer is a post");
        };
        assert_eq!(
            queued.attachments[0].data,
            AttachmentData::Stored { index: 0 },
            "the row names the file instead of holding it"
        );
        let (outlet, mut recorded) = Recording::new(false);
        let loop_ = tokio::spawn(run(core.clone(), outlet, Arc::new(Pacer::new(unpaced()))));
        let read = tokio::time::timeout(Duration::from_secs(20), recorded.read.recv()).await;
        loop_.abort();
        assert_eq!(
            read.expect("the file read in time"),
            Some(("a.diff".to_owned(), b"+a".to_vec()))
        );
        assert_eq!(
            std::iter::from_fn(|| recorded.made.try_recv().ok()).collect::<Vec<_>>(),
            ["send turn:1:result 0", "send turn:1:result 1"],
            "read by the part that sends it"
        );
    }

    #[tokio::test]
    async fn a_panic_while_delivering_does_not_jam_the_chat() {
        let (core, _dir) = testing::core(Vec::new()).await;
        let (outlet, mut recorded) = Recording::new(true);
        let thread = testing::event(
            "1",
            crate::domain::inbound::InboundBody::Prompt {
                text: String::new(),
            },
        )
        .thread;
        let answer = |turn: &str| OutboxKey::Result(TurnId::from_string(turn.into()));
        for turn in ["first", "second", "third"] {
            let out = Outbound {
                key: answer(turn),
                thread: thread.clone(),
                op: OutboundOp::Post(Post::text(turn)),
            };
            core.store.enqueue_outbound(&out).await.unwrap();
        }
        let loop_ = tokio::spawn(run(core.clone(), outlet, Arc::new(Pacer::new(unpaced()))));
        let mut keys = Vec::new();
        for _ in 0..2 {
            let key = tokio::time::timeout(Duration::from_secs(20), recorded.made.recv()).await;
            keys.push(key.expect("delivered in time").expect("a key"));
        }
        loop_.abort();
        assert_eq!(
            keys,
            ["send turn:second:result 0", "send turn:third:result 0"],
            "the panicked one was given up"
        );
        // Each was recorded before the next was sent.
        let posted = |turn| {
            let store = core.store.clone();
            async move { store.posted_parts(&answer(turn)).await.unwrap() }
        };
        assert!(posted("first").await.is_empty());
        assert_eq!(posted("second").await.len(), 1);
    }
}
