//! The clean-up: a session idle for `workspaces.keep_for` loses its workspace on its host.
//!
//! Every session has a directory of its own, and `/new` leaves the old one behind, so without
//! this a host's disk fills with worktrees nobody will come back to. Every
//! [`Workspaces::sweep_every`](crate::config::Workspaces::sweep_every) the sweep reads the
//! sessions whose workspace is due (`Store::workspaces_due`), removes each from its host
//! (`runner::cleanup`: a worktree from its project's shared clone, which stays, with its branch
//! unless that was pushed; a scratch directory), records when (`workspace_removed_at`) and
//! writes a line in the audit trail.
//!
//! Nothing is removed while a turn runs, nor while one starts: a removal runs as the session's
//! worker ([`Core::in_idle_worker`]), where its turns start, and only when the session has no
//! worker — so it is idle — and it holds the thread's router claim, so the files of a prompt
//! arriving meanwhile are not written into a directory being removed. There it checks again that
//! the workspace is still due. A prompt that arrives during the removal is queued and runs
//! right after it; a later prompt in the session makes the workspace again
//! (`core::turn` clears `workspace_removed_at`).

use std::sync::Arc;

use anyhow::{Context, Result};

use super::Core;
use crate::domain::audit::AuditAction;
use crate::domain::ids::{SessionId, now_ms};
use crate::domain::workspace::SessionWorkspace;
use crate::runner::cleanup::{self, BranchFate};
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

/// Removes the due `session`'s workspace from its host, then records it (once) with its audit
/// line; a failure leaves it due, for the next sweep.
async fn remove(core: &Core, session: &SessionRow) -> Result<()> {
    let Some(workspace) = &session.workspace else {
        return Ok(());
    };
    let host = core
        .hosts
        .get(&session.host)
        .with_context(|| format!("the host {} is no longer configured", session.host))?;
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
    if !core
        .store
        .mark_workspace_removed(&session.id, now_ms())
        .await?
    {
        return Ok(());
    }
    let detail = removal_detail(session, workspace, fate);
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

/// The audit trail's line for a removal: the session, the host, the directory and the branch.
fn removal_detail(session: &SessionRow, workspace: &SessionWorkspace, fate: BranchFate) -> String {
    let what = match (workspace, fate) {
        (SessionWorkspace::Scratch, _) => String::new(),
        (SessionWorkspace::Worktree(w), BranchFate::Kept) => {
            format!(", branch {} kept (pushed)", w.branch)
        }
        (SessionWorkspace::Worktree(w), BranchFate::Deleted) => {
            format!(", branch {} deleted (never pushed)", w.branch)
        }
    };
    format!(
        "session {} idle: removed {} on {}{what}",
        session.id, session.workdir, session.host
    )
}
