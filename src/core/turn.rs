//! Driving one turn from the queue to its posted result.
//!
//! Goals, in order: the agent is never run twice for one prompt, never interrupted by anything
//! but `/stop` or the timeout, and its result is posted exactly once — across bot restarts and
//! dropped connections (DESIGN invariants 3 and 4).
//!
//! How:
//! - `queued → starting` is stored with the turn's file path *before* the launch, and the launch
//!   is idempotent on the host, so a restart mid-launch relaunches safely.
//! - Output is consumed line by line; the events of each batch and the new read offset are
//!   stored in one transaction. After a restart or reconnect, following resumes at the stored
//!   offset: no event is lost or doubled.
//! - A dropped stream is not the end of the turn: only the host's `exit` file is. While the host
//!   is unreachable the driver keeps retrying with backoff and says so in the progress message.
//! - The result, the final status and the turn's `done` state are written in one transaction,
//!   each message under its idempotency key.
//! - A dependency review runs its review phase between the checkout and the launch, holding the
//!   host's slot: the facts, the project's tests detached on the host, then its findings and
//!   the agent's prompt stored with the turn. A restart finds the turn `starting` and
//!   re-attaches to the tests (their launch is idempotent like the agent's) without checking
//!   the workspace out again under them; stored findings are never gathered twice.
//!
//! Known race: a `/stop` that lands while the turn is being launched finds no process yet; the
//! driver re-reads the cancel request right after launching and cancels then.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Core;
use super::delivery;
use super::planned_pr::{self, Planned};
use super::policy::Ending;
use super::progress::{self, Progress};
use super::replies;
use crate::agents::{Agent, TurnArgs};
use crate::config::Secret;
use crate::domain::agent::AgentChoice;
use crate::domain::agent_event::{AgentEvent, AgentResult, StepUsage};
use crate::domain::changes::{Baseline, ChangeStats};
use crate::domain::controls::{Button, ButtonAction};
use crate::domain::ids::now_ms;
use crate::domain::outbound::{Attachment, Outbound, OutboundOp};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::outcome::{Budget, Outcome};
use crate::domain::thread::Platform;
use crate::domain::turn::TurnState;
use crate::domain::workspace::{OpenPr, ProjectWorktree, SessionWorkspace, Workspace};
use crate::reviews::{self, tests_run};
use crate::runner::capture::{self, svg};
use crate::runner::changes::{self, Changes, ChangesError, Tracked};
use crate::runner::git::{self, CheckoutAt, GitError};
use crate::runner::hosts::Host;
use crate::runner::output_lines::{LineContent, MAX_LINE_BYTES, OutputLine, OutputLines};
use crate::runner::remote_turn::{
    self, CANCEL_GRACE, Cancelled, Ended, Launch, LaunchError, LaunchSpec, RemoteStatus,
};
use crate::runner::scratch::Scratch;
use crate::runner::transport::{StreamEvent, TransportError};
use crate::runner::worktree;
use crate::store::turns::{self, TurnStats};
use crate::store::{SessionRow, TurnRow};

/// Attempts to launch before giving up on a connection that keeps dropping mid-launch.
const LAUNCH_ATTEMPTS: usize = 3;
/// Attempts to cancel a turn whose process has not shown up yet, or whose host is unreachable.
const CANCEL_ATTEMPTS: usize = 25;
/// First and longest pause between reconnect attempts while following.
const RECONNECT_MIN: Duration = Duration::from_millis(500);
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// A turn's patch is cut at this size: past it, a file is for `git`, not for a chat.
const MAX_PATCH_BYTES: usize = 4 << 20;
/// Images the agent made are attached, this many at most, each up to this size (Telegram takes
/// photos up to 10 MB, Discord files up to 10 MB).
const MAX_IMAGES: usize = 4;
const MAX_IMAGE_BYTES: usize = 8 << 20;

/// Runs `turn` to completion (or picks it up where a previous run of the bot left it).
pub(super) async fn drive(core: &Arc<Core>, turn: TurnRow) -> Result<()> {
    let session = core
        .store
        .session(&turn.session_id)
        .await?
        .context("a turn without its session")?;
    let Some(host) = core.hosts.get(&turn.host) else {
        let reason = format!("it is no longer in the configuration (hosts.{})", turn.host);
        return finish(
            core,
            &session,
            &turn,
            Outcome::HostUnreachable { reason },
            None,
            0,
        )
        .await;
    };
    if turn.state == TurnState::Queued
        && let Some(outcome) = over_budget(core, &session, &turn).await?
    {
        return finish(core, &session, &turn, outcome, None, 0).await;
    }
    let mut turn = turn;
    let held = match turn.state {
        TurnState::Queued => None,
        _ => host.held_slot(),
    };
    let _slot = match held.or_else(|| host.try_slot()) {
        Some(slot) => slot,
        None => {
            edit_status(
                core,
                &session,
                &turn,
                replies::waiting_for_host(&host.name, host.running()),
            )
            .await?;
            host.slot().await
        }
    };
    if turn.state == TurnState::Queued {
        let files = remote_turn::turn_files(&host.state_dir, turn.id.as_str());
        let started_at = now_ms();
        if !core
            .store
            .mark_turn_starting(&turn.id, &files, started_at, &session_choice(&session))
            .await?
        {
            return Ok(()); // dropped from the queue (`/stop all`) meanwhile
        }
        turn.state = TurnState::Starting;
        turn.agent = Some(session_choice(&session));
        turn.remote_files = Some(files);
        turn.started_at = Some(started_at);
    }
    let files = turn
        .remote_files
        .clone()
        .context("a started turn without its files")?;
    if turn.state == TurnState::Starting {
        if turn.cancel_reason.is_some() {
            return finish(core, &session, &turn, Outcome::Cancelled, None, 0).await;
        }
        let workdir = match prepare_workspace(core, &host, &session, &turn, &files).await {
            Ok(workdir) => workdir,
            Err(outcome) => return finish(core, &session, &turn, outcome, None, 0).await,
        };
        if let Err(outcome) = review_phase(core, &host, &mut turn, &files, &workdir).await? {
            return finish(core, &session, &turn, outcome, None, 0).await;
        }
        let index = changes::snapshot_index(&host.state_dir, &workdir);
        let baseline = (turn.changes_base.is_none() && !turn.quiet).then_some(Tracked {
            dir: &workdir,
            index: &index,
        });
        match launch(core, &host, &session, &turn, &files, &workdir, baseline).await {
            Ok(Some(base)) => core.store.set_changes_base(&turn.id, &base).await?,
            Ok(None) => {}
            Err(outcome) => return finish(core, &session, &turn, outcome, None, 0).await,
        }
        // The clean-up removes a session's own workspace, or (a session without one) the
        // checkouts of its turns: which this turn's preparation and launch made again.
        if session.delivery.workspace_removed_at.is_some()
            && session.workspace.is_some() != turn.workspace.is_some()
        {
            core.store.mark_workspace_remade(&session.id).await?;
            tracing::info!(session = %session.id, dir = %workdir, "the session's removed workspace is made again");
        }
        core.store.mark_turn_running(&turn.id).await?;
        turn = reload(core, &turn).await?;
        if turn.cancel_reason.is_some() {
            spawn_cancel(&host, &files);
        }
    }
    let choice = turn_choice(&session, &turn);
    let agent = core.agents.get(choice.agent);
    let mut follower = Follower::resume(core, &host, &session, &turn, &files, agent).await?;
    let ended = follower.run().await?;
    let ending = follower.ending.take();
    let turn = reload(core, &turn).await?;
    let command = agent.command(host.agent(choice.agent));
    let outcome = match (&follower.result, turn.cancel_reason.as_deref()) {
        (Some(result), _) if !result.is_error => agent.classify(Some(result), ended, "", command),
        (_, Some("timeout")) => Outcome::TimedOut {
            after_secs: core.defaults.turn_timeout.as_secs(),
        },
        (_, Some(_)) => Outcome::Cancelled,
        (None, None) if let Some(line_bytes) = follower.skipped_line => Outcome::OutputTooLong {
            line_bytes,
            limit_bytes: MAX_LINE_BYTES as u64,
        },
        (result, None) => {
            let stderr = ending.as_ref().map_or("", |e| e.stderr_tail.as_str());
            agent.classify(result.as_ref(), ended, stderr, command)
        }
    };
    let outcome = name_lost_conversation(outcome, &session);
    let tools = follower.progress.tool_calls;
    let result = follower.result.take();
    let mut notes = Vec::new();
    let mut attachments = Vec::new();
    let mut changes = None;
    let found = ending.and_then(|e| e.changes);
    if let Some(found) = workspace_changes(core, &host, &session, &turn, found).await {
        notes.push(found.summary);
        attachments.extend(found.attachments);
        changes = found.stats;
    }
    if let Outcome::Success { text } = &outcome {
        let changed = changes.is_some();
        notes.extend(push_workspace(core, &host, &session, &turn, text, changed).await);
        if changes
            .as_ref()
            .is_some_and(|c| c.files > 0 || c.commits > 0)
        {
            notes.extend(open_pr_always(core, &session, &turn, Some(text)).await);
        }
    }
    finish_with(
        core,
        &session,
        &turn,
        outcome,
        result.as_ref(),
        tools,
        Extras {
            notes,
            attachments,
            changes,
        },
    )
    .await?;
    if let Err(e) = remote_turn::remove(&*host.transport, &files).await {
        tracing::warn!(turn = %turn.id, "could not remove the turn's files on {}: {e}", host.name);
    }
    if turn.review.is_some()
        && let Err(e) = tests_run::remove(&*host.transport, &files).await
    {
        tracing::warn!(turn = %turn.id, "could not remove the test run's files on {}: {e}", host.name);
    }
    Ok(())
}

/// A dependency review's phase, for a turn that has one and has not stored its findings yet:
/// gathers the facts in the prepared checkout `workdir` (the tests detached on the host, under
/// the turn's files, re-attached to after a restart), then stores the findings and the agent's
/// prompt composed from them with the turn, before its agent starts.
async fn review_phase(
    core: &Core,
    host: &Host,
    turn: &mut TurnRow,
    files: &str,
    workdir: &str,
) -> Result<std::result::Result<(), Outcome>> {
    let Some(plan) = turn.review.as_ref().filter(|_| turn.memo.is_none()) else {
        return Ok(Ok(()));
    };
    let gathered = match reviews::gather(&*host.transport, workdir, files, plan).await {
        Ok(gathered) => gathered,
        Err(e) => return Ok(Err(transport_outcome(e))),
    };
    let memo = serde_json::to_value(&gathered.reviewed)?;
    core.store
        .set_review_findings(&turn.id, &memo, &gathered.prompt)
        .await?;
    turn.memo = Some(memo);
    turn.prompt = gathered.prompt;
    Ok(Ok(()))
}

/// The spending limit a turn about to start finds reached, if any.
async fn over_budget(core: &Core, session: &SessionRow, turn: &TurnRow) -> Result<Option<Outcome>> {
    let over = |budget, spent_usd: f64, limit_usd: f64| {
        (spent_usd >= limit_usd).then_some(Outcome::OverBudget {
            budget,
            spent_usd,
            limit_usd,
        })
    };
    if let Some(limit) = core.budgets.session_usd
        && let Some(outcome) = over(Budget::Session, session.total_cost_usd, limit)
    {
        return Ok(Some(outcome));
    }
    let Some(limit) = core.budgets.user_daily_usd else {
        return Ok(None);
    };
    let now = now_ms();
    let midnight_utc = now - now.rem_euclid(24 * 3600 * 1000);
    let spent = core
        .store
        .user_spend_since(session.thread.platform, &turn.author_id, midnight_utc)
        .await?;
    Ok(over(Budget::UserDaily, spent, limit))
}

async fn reload(core: &Core, turn: &TurnRow) -> Result<TurnRow> {
    core.store
        .turn(&turn.id)
        .await?
        .context("the turn disappeared from the store")
}

/// The directory the agent works in: the session's, or the turn's own checkout.
fn workdir(host: &Host, session: &SessionRow, turn: &TurnRow) -> String {
    match &turn.workspace {
        Some(Workspace::Git(checkout)) => checkout.path_in(&host.workdir),
        None => session.workdir.clone(),
    }
}

/// What a turn changed, as the answer shows it.
struct FoundChanges {
    summary: String,
    /// The patch, then the images the agent made.
    attachments: Vec<Attachment>,
    stats: Option<ChangeStats>,
}

/// What the turn changed in its workspace (`found`, read with the turn's end): the summary for
/// the answer, and the patch as a file. Nothing when nothing changed. That the workspace is no
/// repository is said once, on the first turn that finds it so (not on every turn after).
async fn workspace_changes(
    core: &Core,
    host: &Host,
    session: &SessionRow,
    turn: &TurnRow,
    found: Option<Result<Changes, ChangesError>>,
) -> Option<FoundChanges> {
    match turn.changes_base.as_ref()? {
        Baseline::Snapshot(_) => {}
        Baseline::NotARepository => {
            let previous = core.store.last_finished_turn(&session.id).await.ok()?;
            let said = previous.is_some_and(|p| p.changes_base == Some(Baseline::NotARepository));
            return (!said).then(|| FoundChanges {
                summary: replies::workspace_not_a_repository(),
                attachments: Vec::new(),
                stats: None,
            });
        }
        Baseline::Unknown => return None,
    };
    let dir = workdir(host, session, turn);
    let changes = match found? {
        Ok(changes) => changes,
        Err(e) => {
            tracing::warn!(turn = %turn.id, "could not read the turn's changes: {e}");
            return None;
        }
    };
    if changes.is_empty() {
        return None;
    }
    let mut attachments: Vec<Attachment> = (!changes.patch.is_empty())
        .then(|| {
            Attachment::text(
                format!("turn-{}.diff", turn.id.short()),
                changes::capped(changes.patch.clone(), MAX_PATCH_BYTES),
                replies::patch_caption(changes.files.len()),
            )
        })
        .into_iter()
        .collect();
    for path in changes::images(&changes).take(MAX_IMAGES) {
        if changes::is_svg(path) {
            attachments.extend(rendered_svg(host, &dir, path).await);
            continue;
        }
        match changes::read_file(&*host.transport, &dir, path, MAX_IMAGE_BYTES).await {
            Ok(Some(data)) => {
                let name = path.rsplit('/').next().unwrap_or(path).to_owned();
                attachments.push(Attachment::image(name, data, path.to_owned()));
            }
            Ok(None) => tracing::info!(turn = %turn.id, path, "an image too large to attach"),
            Err(e) => tracing::warn!(turn = %turn.id, "{e}"),
        }
    }
    Some(FoundChanges {
        summary: replies::workspace_changes(&changes),
        attachments,
        stats: Some(changes.stats()),
    })
}

/// An SVG the agent made, rendered to PNG on the host (chats do not show SVG); nothing, logged,
/// when it cannot be.
async fn rendered_svg(host: &Host, dir: &str, path: &str) -> Option<Attachment> {
    let enter = changes::prelude(dir);
    let rendering = svg::render(&*host.transport, &enter, path);
    match capture::within(host.capture_timeout, rendering).await {
        Ok(png) => {
            let file = path.rsplit('/').next().unwrap_or(path);
            let name = format!(
                "{}.png",
                file.rsplit_once('.').map_or(file, |(stem, _)| stem)
            );
            Some(Attachment::image(name, png.data, path.to_owned()))
        }
        Err(e) => {
            tracing::warn!(host = %host.name, path, "could not render an SVG: {e}");
            None
        }
    }
}

/// Prepares the turn's workspace (a Git checkout) and returns the directory the agent works in.
/// A dependency review's checkout is prepared once, before its tests start (`files` are the
/// turn's): a restarted bot leaves it as the tests found it.
async fn prepare_workspace(
    core: &Core,
    host: &Host,
    session: &SessionRow,
    turn: &TurnRow,
    files: &str,
) -> std::result::Result<String, Outcome> {
    let Some(Workspace::Git(checkout)) = &turn.workspace else {
        if let Some(SessionWorkspace::Worktree(worktree)) = &session.workspace {
            prepare_worktree(core, host, session, worktree).await?;
        }
        return Ok(workdir(host, session, turn));
    };
    if turn.review.is_some()
        && tests_run::started(&*host.transport, files)
            .await
            .map_err(transport_outcome)?
    {
        return Ok(workdir(host, session, turn));
    }
    let failed = |reason: String| Outcome::LaunchFailed { reason };
    let token = core
        .policy(session.thread.platform)
        .map_err(|e| failed(e.to_string()))?
        .credential(&checkout.credential)
        .await
        .map_err(|e| failed(format!("no credential for the repository: {e:#}")))?;
    let at = CheckoutAt::of(checkout, &host.workdir);
    match git::prepare(&*host.transport, &at, checkout, &token).await {
        Ok(prepared) => {
            if let Err(e) = core
                .store
                .set_workspace_head(&turn.id, &prepared.head)
                .await
            {
                return Err(failed(format!("recording the checkout: {e:#}")));
            }
            Ok(at.dir)
        }
        Err(e) => Err(git_outcome(e)),
    }
}

/// Makes the session's worktree before its first turn (a later turn finds it ready and fetches
/// nothing).
async fn prepare_worktree(
    core: &Core,
    host: &Host,
    session: &SessionRow,
    worktree: &ProjectWorktree,
) -> std::result::Result<(), Outcome> {
    let failed = |reason: String| Outcome::LaunchFailed { reason };
    let transport = &*host.transport;
    if worktree::is_ready(transport, &session.workdir)
        .await
        .map_err(git_outcome)?
    {
        return Ok(());
    }
    let (clone_url, default_branch, token) = if worktree.repo.contains("://") {
        // A public repository by URL: fetched without a credential.
        (worktree.repo.clone(), "HEAD".to_owned(), Secret::new(""))
    } else {
        let access = core
            .policy(Platform::GitHub)
            .map_err(|e| failed(e.to_string()))?
            .repository(&worktree.repo)
            .await
            .map_err(|e| failed(format!("{e:#}")))?;
        (access.clone_url, access.default_branch, access.token)
    };
    let base = worktree.base.clone().unwrap_or(default_branch);
    let clone = worktree.clone_path_in(&host.workdir);
    let ready = worktree::prepare(
        transport,
        &clone,
        &session.workdir,
        worktree,
        &clone_url,
        &base,
        &token,
    )
    .await
    .map_err(git_outcome)?;
    tracing::info!(session = %session.id, head = %ready.head, created = ready.created, "the session's worktree is ready");
    Ok(())
}

/// For a project with `open_pr = "always"`: the turn that changed files delivers them as `/pr`
/// would, for the person who prompted it; returns the line the answer ends with.
async fn open_pr_always(
    core: &Core,
    session: &SessionRow,
    turn: &TurnRow,
    answer: Option<&str>,
) -> Option<String> {
    let Some(SessionWorkspace::Worktree(worktree)) = &session.workspace else {
        return None;
    };
    if worktree.open_pr != OpenPr::Always || worktree.repo.contains("://") {
        return None;
    }
    let person = delivery::Person {
        platform: session.thread.platform,
        id: &turn.author_id,
        display: &turn.author_name,
    };
    match delivery::deliver(core, session, worktree, &person, answer).await {
        Ok(line) => Some(line),
        Err(e) => {
            tracing::warn!(turn = %turn.id, "delivering the turn's work failed: {e:#}");
            Some(replies::pr_failed(&format!("{e:#}")))
        }
    }
}

/// How a failed preparation of a workspace ends its turn.
fn git_outcome(e: GitError) -> Outcome {
    match e {
        GitError::Transport(e) => transport_outcome(e),
        GitError::Failed(reason) => Outcome::LaunchFailed { reason },
    }
}

/// Pushes the agent's commits when the turn's workspace says where — and delivers them as the
/// pull request it planned, if it did (`planned_pr`); returns what to tell. `answer` is the
/// agent's, `changed` whether the turn changed files.
async fn push_workspace(
    core: &Core,
    host: &Host,
    session: &SessionRow,
    turn: &TurnRow,
    answer: &str,
    changed: bool,
) -> Option<String> {
    let Some(Workspace::Git(checkout)) = &turn.workspace else {
        return None;
    };
    let Some(target) = &checkout.push else {
        return (changed && checkout.pull_request.is_some()).then(replies::planned_pr_push_off);
    };
    let token = match core
        .policy(session.thread.platform)
        .ok()?
        .credential(&checkout.credential)
        .await
    {
        Ok(token) => token,
        Err(e) => return Some(replies::push_failed(&target.branch, &format!("{e:#}"))),
    };
    let at = CheckoutAt::of(checkout, &host.workdir);
    if let Some(plan) = &checkout.pull_request {
        let work = Planned {
            host,
            at: &at,
            target,
            plan,
        };
        return planned_pr::deliver(core, session, turn, work, answer, &token).await;
    }
    match git::push(&*host.transport, &at, target, None, &token).await {
        Ok(pushed) if pushed.commits.is_empty() => None,
        Ok(pushed) => Some(replies::pushed(&target.branch, &pushed.commits)),
        Err(e) => Some(replies::push_failed(&target.branch, &e.to_string())),
    }
}

/// The agent and model a session's next turn starts with.
fn session_choice(session: &SessionRow) -> AgentChoice {
    AgentChoice {
        agent: session.agent,
        model: session.model.clone(),
    }
}

/// The agent and model a turn runs with: those it started with (its session may have switched
/// since), or for a turn started before they were recorded, its session's.
fn turn_choice(session: &SessionRow, turn: &TurnRow) -> AgentChoice {
    turn.agent
        .clone()
        .unwrap_or_else(|| session_choice(session))
}

/// Starts the agent on the host, or says why it could not be started.
async fn launch(
    core: &Core,
    host: &Host,
    session: &SessionRow,
    turn: &TurnRow,
    files: &str,
    workdir: &str,
    baseline: Option<Tracked<'_>>,
) -> std::result::Result<Option<Baseline>, Outcome> {
    let choice = turn_choice(session, turn);
    let agent = core.agents.get(choice.agent);
    let project = match &session.workspace {
        Some(SessionWorkspace::Worktree(w)) => core.projects.iter().find(|p| p.name == w.project),
        _ => None,
    };
    let mut invocation = agent.invocation(&TurnArgs {
        host: host.agent(choice.agent),
        resume: session.agent_session_id.as_deref(),
        model: choice.model.as_deref(),
        permission_mode: project.and_then(|p| p.permission_mode),
        env: project.map(|p| &p.env),
    });
    // The agent's commits are the prompting person's.
    invocation.env.extend(delivery::commit_env(
        &core.workspaces,
        session.thread.platform,
        &turn.author_id,
        &turn.author_name,
    ));
    let spec = LaunchSpec {
        files,
        workdir,
        invocation: &invocation,
        prompt: turn.prompt.as_bytes(),
        baseline,
        scratch: match (&session.workspace, &turn.workspace) {
            (Some(SessionWorkspace::Scratch), None) if core.workspaces.scratch_git => {
                Some(Scratch::Git)
            }
            (Some(SessionWorkspace::Scratch), None) => Some(Scratch::Plain),
            _ => None,
        },
    };
    let mut last_error = String::new();
    for _ in 0..LAUNCH_ATTEMPTS {
        match remote_turn::launch(&*host.transport, &spec).await {
            Ok(Launch::Started { baseline } | Launch::AlreadyStarted { baseline }) => {
                return Ok(baseline);
            }
            Ok(Launch::AgentMissing) => {
                return Err(Outcome::AgentNotInstalled {
                    command: agent.command(host.agent(choice.agent)).to_owned(),
                });
            }
            // The connection dropped mid-launch: the launch is idempotent, so try again.
            Err(LaunchError::Truncated) => last_error = "the prompt arrived truncated".into(),
            Err(LaunchError::Transport(TransportError::Disconnected { reason, .. })) => {
                last_error = reason;
            }
            Err(LaunchError::Transport(e)) => return Err(transport_outcome(e)),
            Err(e @ LaunchError::Failed { .. }) => {
                return Err(Outcome::LaunchFailed {
                    reason: e.to_string(),
                });
            }
        }
    }
    Err(Outcome::HostUnreachable { reason: last_error })
}

/// What a user is told when the host could not be used.
fn transport_outcome(e: TransportError) -> Outcome {
    match e {
        TransportError::HostKeyMismatch { presented, .. } => Outcome::HostKeyMismatch { presented },
        TransportError::Unreachable { reason, .. }
        | TransportError::Disconnected { reason, .. } => Outcome::HostUnreachable { reason },
        TransportError::AuthFailed { user, .. } => Outcome::HostUnreachable {
            reason: format!("the server refused the key for user {user}"),
        },
        TransportError::Io(reason) => Outcome::HostUnreachable { reason },
    }
}

/// Asks the host to stop a turn, without waiting (timeouts and late `/stop`s). A turn launched
/// a moment ago may not have written its pid yet: try again briefly before giving up.
fn spawn_cancel(host: &Arc<Host>, files: &str) {
    let (host, files) = (host.clone(), files.to_owned());
    tokio::spawn(async move {
        for _ in 0..CANCEL_ATTEMPTS {
            match remote_turn::cancel(&*host.transport, &files, CANCEL_GRACE).await {
                Ok(Cancelled::NotStarted) => tokio::time::sleep(Duration::from_millis(200)).await,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!("cancelling the turn {files} on {} failed: {e}", host.name);
                    tokio::time::sleep(RECONNECT_MIN).await;
                }
            }
        }
    });
}

/// Replaces the text of the turn's status message with its progress (coalesced: the latest
/// text wins).
async fn edit_status(
    core: &Core,
    session: &SessionRow,
    turn: &TurnRow,
    markdown: String,
) -> Result<()> {
    if turn.quiet {
        return Ok(());
    }
    let edit = Outbound {
        key: OutboxKey::StatusEdit(turn.id.clone()),
        thread: session.thread.clone(),
        op: OutboundOp::Edit {
            target: OutboxKey::Status(turn.id.clone()),
            markdown,
            progress: true,
            buttons: vec![ButtonAction::Stop(turn.id.clone()).button()],
        },
    };
    core.store.enqueue_outbound(&edit).await?;
    core.outbox_changed();
    Ok(())
}

/// Follows a running turn's output until the agent has exited.
struct Follower<'a> {
    core: &'a Arc<Core>,
    host: &'a Arc<Host>,
    session: SessionRow,
    turn: &'a TurnRow,
    files: &'a str,
    /// The output file cut into lines; its `consumed` offset is where following resumes.
    lines: OutputLines,
    progress: Progress,
    result: Option<AgentResult>,
    /// The longest output line skipped for being over the limit.
    skipped_line: Option<u64>,
    started_ms: i64,
    timeout_requested: bool,
    /// What the host held of the turn once it ended (see [`remote_turn::ending`]).
    ending: Option<Ended>,
    /// Reading the workspace's changes with the turn's end took too long: read it without.
    changes_too_slow: bool,
    /// How often the progress message may be refreshed ([`progress::interval`]).
    progress_interval: Duration,
    /// The agent the turn runs: it reads the output lines.
    agent: &'a dyn Agent,
    /// The last text the agent wrote: the answer of an agent whose final report carries none.
    last_text: Option<String>,
    /// What the agent's model requests cost so far: the figures of an agent whose final report
    /// carries none.
    usage: StepUsage,
}

impl<'a> Follower<'a> {
    /// Sets up following, replaying the events already stored (after a restart) so the
    /// progress message and the result pick up where they were.
    async fn resume(
        core: &'a Arc<Core>,
        host: &'a Arc<Host>,
        session: &SessionRow,
        turn: &'a TurnRow,
        files: &'a str,
        agent: &'a dyn Agent,
    ) -> Result<Follower<'a>> {
        let mut follower = Follower {
            core,
            host,
            session: session.clone(),
            turn,
            files,
            lines: OutputLines::new(turn.read_offset.max(0) as u64, MAX_LINE_BYTES),
            progress: Progress::new(),
            result: None,
            skipped_line: None,
            started_ms: turn.started_at.unwrap_or(turn.created_at),
            timeout_requested: turn.cancel_reason.is_some(),
            ending: None,
            changes_too_slow: false,
            progress_interval: progress::interval(core, session.thread.platform),
            agent,
            last_text: None,
            usage: StepUsage::default(),
        };
        for stored in core.store.turn_events(&turn.id).await? {
            follower.observe(&stored.event).await?;
        }
        Ok(follower)
    }

    fn elapsed(&self) -> Duration {
        Duration::from_millis((now_ms() - self.started_ms).max(0) as u64)
    }

    fn deadline_in(&self) -> Duration {
        self.core
            .defaults
            .turn_timeout
            .saturating_sub(self.elapsed())
    }

    /// Follows until the agent exits; returns its exit status (`None` if it vanished).
    async fn run(&mut self) -> Result<Option<i64>> {
        self.refresh_progress(true).await?;
        let mut backoff = RECONNECT_MIN;
        loop {
            self.check_timeout();
            self.restart_lines();
            match remote_turn::follow(&*self.host.transport, self.files, self.offset()).await {
                Ok(mut stream) => {
                    let before = self.offset();
                    self.stream(&mut stream).await?;
                    if self.offset() > before {
                        backoff = RECONNECT_MIN;
                    }
                }
                Err(e) => {
                    self.connection_trouble(&e).await?;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                    continue;
                }
            }
            tracing::debug!(turn = %self.turn.id, "the follow stream ended");
            match self.read_ending().await {
                Ok(None) => {
                    tracing::debug!(turn = %self.turn.id, "the agent still runs: following again");
                    // The stream ended while the agent runs: a dropped connection. Follow again.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                }
                Ok(Some(ending)) => {
                    tracing::debug!(turn = %self.turn.id, status = ?ending.status, "the turn's end read");
                    self.restart_lines();
                    self.ingest(&ending.rest).await?;
                    self.ingest_final_line().await?;
                    let code = match ending.status {
                        RemoteStatus::Exited(code) => Some(code),
                        _ => None,
                    };
                    self.ending = Some(ending);
                    return Ok(code);
                }
                Err(e) => {
                    self.connection_trouble(&e).await?;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                }
            }
        }
    }

    /// Reading resumes at the end of the last whole line: a line only partly seen is read again.
    fn restart_lines(&mut self) {
        self.lines = OutputLines::new(self.offset(), MAX_LINE_BYTES);
    }

    /// Reads the turn's end in one exec, with the workspace's changes since the turn's baseline
    /// (without them when they take too long). `None`: the agent is still running.
    async fn read_ending(&mut self) -> std::result::Result<Option<Ended>, TransportError> {
        let dir = workdir(self.host, &self.session, self.turn);
        let index = changes::snapshot_index(&self.host.state_dir, &dir);
        let since = match &self.turn.changes_base {
            Some(Baseline::Snapshot(before)) if !self.changes_too_slow => Some((
                Tracked {
                    dir: &dir,
                    index: &index,
                },
                before,
            )),
            _ => None,
        };
        let transport = &*self.host.transport;
        let reading = remote_turn::ending(transport, self.files, self.offset(), since);
        match tokio::time::timeout(changes::TIME_LIMIT, reading).await {
            Ok(read) => read,
            Err(_) => {
                tracing::warn!(turn = %self.turn.id, "reading the turn's changes took too long");
                self.changes_too_slow = true;
                remote_turn::ending(transport, self.files, self.offset(), None).await
            }
        }
    }

    /// Consumes one follow stream until it ends, refreshing progress and watching the clock.
    async fn stream(
        &mut self,
        stream: &mut tokio::sync::mpsc::Receiver<StreamEvent>,
    ) -> Result<()> {
        self.progress.set_note(None);
        loop {
            let deadline = self.deadline_in();
            let refresh = self.progress.next_check(self.progress_interval);
            tokio::select! {
                event = stream.recv() => match event {
                    Some(StreamEvent::Stdout(bytes)) => self.ingest(&bytes).await?,
                    Some(StreamEvent::Exit(_)) | None => return Ok(()),
                },
                _ = tokio::time::sleep_until(refresh) => {}
                _ = tokio::time::sleep(deadline), if !self.timeout_requested => self.check_timeout(),
            }
            self.refresh_progress(false).await?;
        }
    }

    /// Cancels the turn once it has run longer than the timeout.
    fn check_timeout(&mut self) {
        if self.timeout_requested || !self.deadline_in().is_zero() {
            return;
        }
        self.timeout_requested = true;
        let (core, host, files, turn) = (
            self.core.clone(),
            self.host.clone(),
            self.files.to_owned(),
            self.turn.id.clone(),
        );
        tokio::spawn(async move {
            match core.store.request_cancel(&turn, "timeout").await {
                Ok(_) => spawn_cancel(&host, &files),
                Err(e) => tracing::error!(turn = %turn, "recording the timeout failed: {e:#}"),
            }
        });
    }

    async fn connection_trouble(&mut self, e: &TransportError) -> Result<()> {
        tracing::warn!(turn = %self.turn.id, host = %self.host.name, "following the turn: {e}");
        self.progress.set_note(Some(replies::connection_lost_note(
            &self.host.name,
            &e.to_string(),
        )));
        self.refresh_progress(true).await
    }

    /// Bytes of the output file consumed (whole lines only).
    fn offset(&self) -> u64 {
        self.lines.consumed()
    }

    /// Takes in a chunk of output: complete lines become stored events and move the offset.
    async fn ingest(&mut self, bytes: &[u8]) -> Result<()> {
        let lines = self.lines.push(bytes);
        if lines.is_empty() {
            return Ok(());
        }
        self.consume_lines(lines).await
    }

    /// The agent has exited: a last line without a newline still counts.
    async fn ingest_final_line(&mut self) -> Result<()> {
        match self.lines.finish() {
            Some(line) => self.consume_lines(vec![line]).await,
            None => Ok(()),
        }
    }

    /// Stores the lines' events with the offset after them, in one transaction. Each event is
    /// keyed by its line's offset, so a line read again after a restart inserts nothing twice.
    async fn consume_lines(&mut self, lines: Vec<OutputLine>) -> Result<()> {
        let mut events = Vec::new();
        for line in lines {
            let parsed = match &line.content {
                LineContent::Bytes(bytes) => self.agent.parse_line(bytes.trim_ascii_end()),
                LineContent::TooLong { len } => {
                    tracing::warn!(turn = %self.turn.id, bytes = len, "skipped an over-long output line");
                    vec![AgentEvent::LineTooLong { bytes: *len }]
                }
            };
            for (idx, event) in parsed.into_iter().enumerate() {
                self.observe(&event).await?;
                events.push((line.offset as i64, idx as i64, event));
            }
        }
        self.core
            .store
            .record_progress(
                &self.turn.id,
                &events,
                self.offset() as i64,
                self.progress.activity(),
            )
            .await
    }

    async fn observe(&mut self, event: &AgentEvent) -> Result<()> {
        match event {
            AgentEvent::Started {
                agent_session_id, ..
            } if self.session.agent_session_id.as_deref() != Some(agent_session_id) => {
                self.core
                    .store
                    .set_agent_session_id(
                        &self.session.id,
                        self.agent.kind(),
                        Some(agent_session_id),
                    )
                    .await?;
                self.session.agent_session_id = Some(agent_session_id.clone());
            }
            AgentEvent::Text { text } => self.last_text = Some(text.clone()),
            AgentEvent::Finished(result) => {
                let mut result = result.clone();
                if !result.is_error && result.text.is_none() {
                    // Its answer is the last text it wrote (Codex, OpenCode).
                    result.text = self.last_text.clone();
                }
                self.usage.complete(&mut result);
                self.result = Some(result);
            }
            AgentEvent::LineTooLong { bytes } => {
                self.skipped_line = self.skipped_line.max(Some(*bytes));
            }
            AgentEvent::Usage { .. } => self.usage.add(event),
            _ => {}
        }
        self.progress.observe(event);
        Ok(())
    }

    async fn refresh_progress(&mut self, force: bool) -> Result<()> {
        let interval = if force {
            Duration::ZERO
        } else {
            self.progress_interval
        };
        let elapsed = self.elapsed();
        if let Some(text) = self.progress.due(interval, elapsed, &self.host.name) {
            edit_status(self.core, &self.session, self.turn, text).await?;
        }
        Ok(())
    }
}

/// An agent that does not say which conversation it could not find (OpenCode) lost the one
/// the turn resumed: the session's.
fn name_lost_conversation(outcome: Outcome, session: &SessionRow) -> Outcome {
    match outcome {
        Outcome::SessionNotFound { agent_session_id } if agent_session_id.is_empty() => {
            Outcome::SessionNotFound {
                agent_session_id: session.agent_session_id.clone().unwrap_or_default(),
            }
        }
        other => other,
    }
}

/// Records how the turn ended and queues its final status and result, in one transaction.
async fn finish(
    core: &Core,
    session: &SessionRow,
    turn: &TurnRow,
    outcome: Outcome,
    result: Option<&AgentResult>,
    tools: usize,
) -> Result<()> {
    finish_with(
        core,
        session,
        turn,
        outcome,
        result,
        tools,
        Extras::default(),
    )
    .await
}

/// The controls under a turn's answer: Retry, and Open PR when the turn changed a project's
/// worktree that `/pr` can deliver (as `/pr` decides: a GitHub project's worktree).
fn answer_buttons(
    session: &SessionRow,
    turn: &TurnRow,
    changes: Option<&ChangeStats>,
) -> Vec<Button> {
    let mut buttons = vec![ButtonAction::Retry(turn.id.clone()).button()];
    let deliverable = matches!(&session.workspace,
        Some(SessionWorkspace::Worktree(worktree)) if !worktree.repo.contains("://"));
    if deliverable && changes.is_some_and(|c| c.files > 0 || c.commits > 0) {
        buttons.push(ButtonAction::OpenPr(session.id.clone()).button());
    }
    buttons
}

/// What goes with a turn's answer besides the agent's words.
#[derive(Default)]
struct Extras {
    /// Paragraphs for the end of the message (what changed, what was pushed).
    notes: Vec<String>,
    attachments: Vec<Attachment>,
    /// What the turn changed, in figures, to keep with it.
    changes: Option<ChangeStats>,
}

/// [`finish`], with notes and files for the answer.
async fn finish_with(
    core: &Core,
    session: &SessionRow,
    turn: &TurnRow,
    outcome: Outcome,
    result: Option<&AgentResult>,
    tools: usize,
    extras: Extras,
) -> Result<()> {
    // One figure for how long the turn took, from its stored start and end: the status line
    // and `/status` both show it (the agent's own figure leaves out the launch and the end).
    let finished_at = now_ms();
    let elapsed_ms = (finished_at - turn.started_at.unwrap_or(turn.created_at)).max(0);
    let mut stats = TurnStats {
        cost_usd: None,
        duration_ms: Some(elapsed_ms),
        num_turns: result.and_then(|r| r.num_turns),
        input_tokens: result.and_then(|r| r.input_tokens),
        output_tokens: result.and_then(|r| r.output_tokens),
    };
    let mut tx = core.store.write_tx().await?;
    match result.map(|r| (r.total_cost_usd, r.run_cost_usd)) {
        Some((Some(total), _)) => {
            stats.cost_usd = Some(turns::book_session_cost(&mut tx, &session.id, total).await?);
        }
        Some((None, Some(run))) => {
            turns::book_run_cost(&mut tx, &session.id, run).await?;
            stats.cost_usd = Some(run);
        }
        _ => {}
    }
    let result_text = match &outcome {
        Outcome::Success { text } => Some(text.as_str()),
        _ => None,
    };
    turns::finish_turn(
        &mut tx,
        &turn.id,
        finished_at,
        &outcome,
        result_text,
        &stats,
    )
    .await?;
    if let Some(changes) = &extras.changes {
        turns::set_changes(&mut tx, &turn.id, changes).await?;
    }
    let elapsed = Duration::from_millis(elapsed_ms as u64);
    let pressed_stop = turn
        .cancel_reason
        .as_deref()
        .and_then(super::presses::stopped_by);
    let status = match (&outcome, pressed_stop) {
        (Outcome::Cancelled, Some(who)) => replies::stopped_by(who, elapsed),
        _ => replies::final_status(&outcome, elapsed, stats.cost_usd, tools),
    };
    let buttons = answer_buttons(session, turn, extras.changes.as_ref());
    let ending = Ending {
        turn,
        thread: &session.thread,
        buttons,
        status,
        outcome: &outcome,
        message: std::iter::once(replies::outcome_message(
            &core.spelling(session.thread.platform),
            &outcome,
            &turn.host,
        ))
        .chain(extras.notes)
        .collect::<Vec<_>>()
        .join("\n\n"),
        attachments: extras.attachments,
    };
    for out in core.policy(session.thread.platform)?.present(&ending) {
        crate::store::outbox::enqueue(&mut tx, &out).await?;
    }
    tx.commit().await?;
    if matches!(outcome, Outcome::SessionNotFound { .. }) {
        let agent = turn_choice(session, turn).agent;
        core.store
            .set_agent_session_id(&session.id, agent, None)
            .await?;
    }
    tracing::info!(turn = %turn.id, outcome = outcome.name(), "turn finished");
    core.outbox_changed();
    Ok(())
}
