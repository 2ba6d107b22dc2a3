//! The clean-up: a session idle for `workspaces.keep_for` loses its workspace on its host.
//!
//! Every session has a directory of its own, and `/new` leaves the old one behind; every pull
//! request or issue a GitHub thread works on has a checkout; so without this a host's disk
//! fills with worktrees nobody will come back to. Every
//! [`Workspaces::sweep_every`](crate::config::Workspaces::sweep_every) the sweep reads the
//! sessions whose workspace is due (`Store::workspaces_due`), removes each from its host
//! (`runner::cleanup`: a worktree from its shared clone, which stays, with its branch unless
//! that was pushed; a scratch directory; for a GitHub session, which owns no directory, every
//! checkout its turns used, with its refs, and its branch unless that has commits never
//! pushed), records when (`workspace_removed_at`) and writes a line in the audit trail.
//!
//! Nothing is removed while a turn runs, nor while one starts: a removal runs as the session's
//! worker ([`Core::in_idle_worker`]), where its turns start, and only when the session has no
//! worker — so it is idle — and it holds the thread's router claim, so the files of a prompt
//! arriving meanwhile are not written into a directory being removed, nor a turn queued in
//! another session of the thread (a checkout is the thread's: it is due only when no session of
//! the thread has a turn waiting or running). There it checks again that the workspace is still
//! due. A prompt that arrives during the removal is queued and runs right after it; a later
//! prompt in the session makes the workspace again (`core::turn` clears
//! `workspace_removed_at`), a checkout the usual way of a first turn.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::Core;
use crate::domain::audit::AuditAction;
use crate::domain::ids::{SessionId, now_ms};
use crate::domain::workspace::SessionWorkspace;
use crate::runner::cleanup::{self, BranchFate};
use crate::runner::hosts::Host;
use crate::store::SessionRow;

/// Sessions looked at per host and sweep (the rest wait for the next one).
const BATCH: i64 = 100;
/// Who the audit trail says removed a workspace.
const ACTOR: &str = "clean-up";

/// Removes due workspaces, forever.
pub async fn sweep_workspaces(core: Arc<Core>) -> Result<()> {
    let every = core.workspaces.sweep_every();
    loop {
        if let Err(e) = sweep(&core).await {
            tracing::warn!("looking for idle workspaces failed: {e:#}");
        }
        tokio::time::sleep(every).await;
    }
}

/// One look: removes each due workspace whose session is idle, one after another, host by
/// host.
async fn sweep(core: &Arc<Core>) -> Result<()> {
    for host in core.hosts.iter() {
        for session in core
            .store
            .workspaces_due(&host.name, idle_since(core), BATCH)
            .await?
        {
            remove_when_idle(core, &session).await;
        }
    }
    Ok(())
}

/// Removes `session`'s due workspace as its worker, unless it has one (it is busy after all).
async fn remove_when_idle(core: &Arc<Core>, session: &SessionRow) {
    let job = remove_if_due(core.clone(), session.id.clone());
    let Some(done) = core.in_idle_worker(&session.id, job) else {
        return;
    };
    match done.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(session = %session.id, host = %session.host, "removing the idle session's workspace failed: {e:#}");
        }
        Err(_) => tracing::warn!(session = %session.id, "the workspace removal was dropped"),
    }
}

/// The time before which a session must have been last active for its workspace to be due.
fn idle_since(core: &Core) -> i64 {
    let keep_for = i64::try_from(core.workspaces.keep_for.as_millis()).unwrap_or(i64::MAX);
    now_ms().saturating_sub(keep_for)
}

/// Removes the session's workspace if it is still due. Runs as the session's worker.
async fn remove_if_due(core: Arc<Core>, id: SessionId) -> Result<()> {
    let Some(session) = core.store.session(&id).await? else {
        return Ok(());
    };
    let Some(claim) = core.in_flight.claim(session.thread.clone()) else {
        return Ok(()); // an event of its thread is being handled: the next sweep
    };
    let removed = match core.store.workspace_due(&id, idle_since(&core)).await {
        Ok(Some(session)) => remove(&core, &session).await,
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    drop(claim);
    core.inbound_stored(); // the thread's events skipped meanwhile
    removed
}

/// Removes the due `session`'s workspace from its host — its own, or the checkouts of its turns
/// — then records it (once) with its audit line; a failure leaves it due, for the next sweep.
async fn remove(core: &Core, session: &SessionRow) -> Result<()> {
    let host = core
        .hosts
        .get(&session.host)
        .with_context(|| format!("the host {} is no longer configured", session.host))?;
    let detail = match &session.workspace {
        Some(workspace) => Some(remove_own(&host, session, workspace).await?),
        None => remove_checkouts(core, &host, session).await?,
    };
    if !core
        .store
        .mark_workspace_removed(&session.id, now_ms())
        .await?
    {
        return Ok(());
    }
    let Some(detail) = detail else {
        return Ok(()); // its checkouts were gone already (another session of the thread's)
    };
    core.store
        .audit(
            session.thread.platform,
            ACTOR,
            &session.thread.chat,
            AuditAction::WorkspaceRemoved,
            &detail,
        )
        .await?;
    tracing::info!(session = %session.id, "{detail}");
    Ok(())
}

/// Removes the session's own workspace; returns the audit trail's line for it.
async fn remove_own(
    host: &Host,
    session: &SessionRow,
    workspace: &SessionWorkspace,
) -> Result<String> {
    let fate = match session.delivery.pushed_at {
        Some(_) => BranchFate::Kept,
        None => BranchFate::Deleted,
    };
    cleanup::remove(
        &*host.transport,
        &host.workdir,
        &session.workdir,
        workspace,
        fate,
    )
    .await?;
    let branch = match (workspace, fate) {
        (SessionWorkspace::Scratch, _) => String::new(),
        (SessionWorkspace::Worktree(w), BranchFate::Kept) => {
            format!(", branch {} kept (pushed)", w.branch)
        }
        (SessionWorkspace::Worktree(w), BranchFate::Deleted) => {
            format!(", branch {} deleted (never pushed)", w.branch)
        }
    };
    Ok(format!(
        "session {} idle: removed {} on {}{branch}",
        session.id, session.workdir, session.host
    ))
}

/// Removes the checkouts the session's turns used; returns the audit trail's line naming those
/// that were there, if any was.
async fn remove_checkouts(
    core: &Core,
    host: &Host,
    session: &SessionRow,
) -> Result<Option<String>> {
    let mut removed = Vec::new();
    for checkout in core.store.session_checkouts(&session.id).await? {
        let done = cleanup::remove_checkout(&*host.transport, &host.workdir, &checkout).await?;
        if !done.existed {
            continue;
        }
        let branch = match done.branch {
            BranchFate::Kept => "kept (commits never pushed)",
            BranchFate::Deleted => "deleted",
        };
        removed.push(format!(
            "checkout {} (branch {} {branch})",
            checkout.path_in(&host.workdir),
            checkout.local_branch()
        ));
    }
    Ok((!removed.is_empty()).then(|| {
        format!(
            "session {} idle: removed {} on {}",
            session.id,
            removed.join(", "),
            session.host
        )
    }))
}
