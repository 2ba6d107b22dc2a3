//! What each command does. Every command ends by replying and marking its event processed, but
//! `/fix_ci`, which comes to a prompt the router queues like a typed one ([`Handled::Prompt`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::Core;
use super::agent_choice::{self, Switch};
use super::placement;
use super::replies::{self, HostChoice};
use super::respond::{reply, reply_post};
use crate::agents;
use crate::domain::agent::{AgentKind, ModelRequest};
use crate::domain::command::Command;
use crate::domain::ids::{InboundId, now_ms};
use crate::domain::inbound::Inbound;
use crate::domain::outbound::{Attachment, Outbound, OutboundOp, Post};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::thread::Platform;
use crate::domain::workspace::SessionWorkspace;
use crate::runner::capture::{self, display, page};
use crate::runner::health::{self, Health};
use crate::runner::hosts::Host;
use crate::runner::remote_turn::{self, CANCEL_GRACE, Cancelled};
use crate::runner::worktree;
use crate::store::{NewSession, SessionRow, TurnRow, outbox, turns};

/// Sessions `/sessions` lists.
const SESSIONS_SHOWN: i64 = 10;

/// What a command came to.
pub(super) enum Handled {
    /// Answered, and its event marked processed.
    Answered,
    /// A prompt for the thread's session, to be queued as if typed; nothing answered yet.
    Prompt(String),
}

pub(super) async fn run(
    core: &Arc<Core>,
    id: &InboundId,
    event: &Inbound,
    command: &Command,
) -> Result<Handled> {
    let text = match command {
        Command::Help => {
            let policy = core.policy(event.platform())?;
            let hosts = core.hosts.names();
            let choice = match policy.pinned_host() {
                Some(host) => HostChoice::Pinned(host),
                None => HostChoice::Any {
                    default: &core.defaults.host,
                    hosts: &hosts,
                },
            };
            replies::help(event.platform(), &policy.spelling(), choice)
        }
        Command::Sessions => {
            let list = core
                .store
                .chat_sessions(&event.thread, SESSIONS_SHOWN)
                .await?;
            replies::sessions(&list, now_ms())
        }
        Command::Projects => replies::projects(&core.projects, &event.thread),
        Command::PullRequest => super::delivery::pull_request(core, event).await?,
        Command::FixCi => match super::ci_fix::prompt(core, event).await? {
            Ok(prompt) => return Ok(Handled::Prompt(prompt)),
            Err(answer) => answer,
        },
        Command::New {
            target,
            host,
            agent,
        } => {
            let asked = placement::Asked {
                target: target.as_deref(),
                host: host.as_deref(),
                agent: *agent,
            };
            new_session(core, event, asked).await?
        }
        Command::Agent { name } => agent(core, event, *name).await?,
        Command::Model { choice } => model(core, event, choice.as_ref()).await?,
        Command::Status => status(core, event).await?,
        Command::Stop { all } => stop(core, event, *all).await?,
        Command::Schedule {
            cron,
            time_zone,
            prompt,
        } => {
            super::schedule_commands::make(core, event, cron, time_zone.as_deref(), prompt).await?
        }
        Command::Schedules => super::schedule_commands::list(core, event).await?,
        Command::Unschedule { id } => super::schedule_commands::remove(core, event, id).await?,
        Command::Screenshot { url } => {
            let post = screenshot(core, event, url.as_deref()).await?;
            reply_post(core, id, event, post).await?;
            return Ok(Handled::Answered);
        }
    };
    reply(core, id, event, text).await?;
    Ok(Handled::Answered)
}

async fn new_session(core: &Core, event: &Inbound, asked: placement::Asked<'_>) -> Result<String> {
    let (target, host) = (asked.target, asked.host);
    let current = core.store.active_session(&event.thread).await?;
    let policy = core.policy(event.platform())?;
    if let Some(pinned) = policy.pinned_host()
        && host.or(target).is_some_and(|asked| asked != pinned)
    {
        return Ok(replies::host_pinned(
            &core.spelling(event.platform()),
            pinned,
        ));
    }
    let fallback = policy
        .pinned_host()
        .or_else(|| current.as_ref().map(|s| s.host.as_str()));
    let placed = match placement::place(core, &event.thread, asked, fallback) {
        Ok(placed) => placed,
        Err(unplaced) => return Ok(replies::unplaced(&unplaced)),
    };
    let previous_busy = match &current {
        Some(session) => {
            core.store.running_turn(&session.id).await?.is_some()
                || core.store.queued_count(&session.id).await? > 0
        }
        None => false,
    };
    let session = core
        .store
        .replace_session(NewSession {
            id: placed.id,
            thread: &event.thread,
            host: &placed.host,
            agent: placed.agent.agent,
            model: placed.agent.model.as_deref(),
            workdir: &placed.workdir,
            workspace: placed.workspace.as_ref(),
            created_by: &event.author.id,
        })
        .await?;
    Ok(replies::new_session(&session, previous_busy))
}

/// `/agent [name]`: the session's agent and the choices, or a switch. Without a session there
/// is nothing to switch: the reply says how to start one with the agent (`/new NAME`).
async fn agent(core: &Core, event: &Inbound, name: Option<AgentKind>) -> Result<String> {
    let spelling = core.spelling(event.platform());
    let Some(session) = core.store.active_session(&event.thread).await? else {
        return Ok(replies::no_session_for_agent(&spelling, name));
    };
    let Some(name) = name else {
        return Ok(replies::agent_shown(&spelling, session.agent));
    };
    let outcome =
        agent_choice::switch(core, &session, &event.author.id, &Switch::Agent(name)).await?;
    Ok(replies::switch_outcome(&spelling, &outcome))
}

/// `/model [name|default]`: the session's model and the agent's choices, or a change.
async fn model(core: &Core, event: &Inbound, choice: Option<&ModelRequest>) -> Result<String> {
    let spelling = core.spelling(event.platform());
    let Some(session) = core.store.active_session(&event.thread).await? else {
        return Ok(replies::no_session());
    };
    let Some(choice) = choice else {
        let (models, default) = agent_choice::models(core, session.agent);
        return Ok(replies::model_shown(&spelling, &session, models, default));
    };
    let switch = Switch::Model(choice.clone());
    let outcome = agent_choice::switch(core, &session, &event.author.id, &switch).await?;
    Ok(replies::switch_outcome(&spelling, &outcome))
}

async fn status(core: &Core, event: &Inbound) -> Result<String> {
    let Some(session) = core.store.active_session(&event.thread).await? else {
        return Ok(replies::no_session());
    };
    let running = core.store.running_turn(&session.id).await?;
    let running_for = running
        .as_ref()
        .and_then(|t| t.started_at)
        .map(|started| Duration::from_millis((now_ms() - started).max(0) as u64));
    let queued = core.store.queued_count(&session.id).await?;
    let last = core.store.last_finished_turn(&session.id).await?;
    let totals = core.store.session_totals(&session.id).await?;
    let host = core.hosts.get(&session.host);
    let health = match &host {
        Some(host) => probe(core, host, session.agent).await,
        None => Health {
            error: Some("the host is no longer configured".to_owned()),
            ..Health::default()
        },
    };
    let workspace = match (&host, &session.workspace, &health.error) {
        (Some(host), Some(workspace), None) => {
            let base = match workspace {
                SessionWorkspace::Worktree(worktree) => Some(worktree::base_ref(&worktree.branch)),
                SessionWorkspace::Scratch => None,
            };
            worktree::state(&*host.transport, &session.workdir, base.as_deref())
                .await
                .inspect_err(
                    |e| tracing::warn!(session = %session.id, "reading the workspace: {e}"),
                )
                .ok()
        }
        _ => None,
    };
    Ok(replies::status(&replies::StatusView {
        session: &session,
        default_model: agent_choice::models(core, session.agent).1,
        running: running.as_ref(),
        running_for,
        queued,
        last: last.as_ref(),
        totals: &totals,
        health: &health,
        workspace: workspace.as_ref(),
    }))
}

/// A host's health as `/status` shows it, probed with an agent's command and environment.
pub async fn probe(core: &Core, host: &Host, agent: AgentKind) -> Health {
    let probe = agents::version_probe(core.agents.get(agent), host.agent(agent));
    health::probe(host, &probe.argv, &probe.env).await
}

async fn stop(core: &Core, event: &Inbound, all: bool) -> Result<String> {
    let Some(session) = core.store.active_session(&event.thread).await? else {
        return Ok(replies::no_session());
    };
    let dropped = if all {
        drop_queued(core, &session).await?
    } else {
        0
    };
    stop_running(core, &session, dropped).await
}

/// Drops a session's queued prompts, marking each one's status so; returns how many.
pub async fn drop_queued(core: &Core, session: &SessionRow) -> Result<usize> {
    let mut tx = core.store.write_tx().await?;
    let dropped = turns::drop_queued(&mut tx, &session.id).await?;
    for turn in &dropped {
        let edit = Outbound {
            key: OutboxKey::StatusEdit(turn.id.clone()),
            thread: session.thread.clone(),
            op: OutboundOp::Edit {
                target: OutboxKey::Status(turn.id.clone()),
                markdown: replies::dropped_from_queue(&core.spelling(session.thread.platform)),
                progress: false,
                buttons: Vec::new(),
            },
        };
        outbox::enqueue(&mut tx, &edit).await?;
    }
    tx.commit().await?;
    core.outbox_changed();
    Ok(dropped.len())
}

/// Cancels a session's running turn on its host; says what happened (`dropped` queued prompts
/// went with it).
pub async fn stop_running(core: &Core, session: &SessionRow, dropped: usize) -> Result<String> {
    let Some(turn) = core.store.running_turn(&session.id).await? else {
        return Ok(replies::nothing_running(dropped));
    };
    core.store.request_cancel(&turn.id, "user").await?;
    cancel_on_host(core, &turn, session.thread.platform, dropped).await
}

/// Cancels a turn whose cancellation is recorded on its host; says what happened (`dropped`
/// queued prompts went with it).
pub async fn cancel_on_host(
    core: &Core,
    turn: &TurnRow,
    platform: Platform,
    dropped: usize,
) -> Result<String> {
    let (Some(host), Some(files)) = (core.hosts.get(&turn.host), turn.remote_files.as_deref())
    else {
        return Ok(replies::stopped_before_start(dropped));
    };
    Ok(
        match remote_turn::cancel(&*host.transport, files, CANCEL_GRACE).await {
            Ok(Cancelled::Stopped) => replies::stopped(&host.name, dropped),
            Ok(Cancelled::NotStarted) => replies::stopped_before_start(dropped),
            Ok(Cancelled::Stuck) => replies::stop_stuck(&host.name),
            Err(e) => replies::stop_failed(&core.spelling(platform), &host.name, &e.to_string()),
        },
    )
}

/// Captures the display of the thread's host (the session's, else the default one), or a page
/// as that host sees it.
async fn screenshot(core: &Core, event: &Inbound, url: Option<&str>) -> Result<Post> {
    let name = match core.store.active_session(&event.thread).await? {
        Some(session) => session.host,
        None => core.defaults.host.clone(),
    };
    let Some(host) = core.hosts.get(&name) else {
        return Ok(Post::text(replies::unknown_host(
            &name,
            &core.hosts.names(),
        )));
    };
    let transport = &*host.transport;
    let taken = match url {
        None => capture::within(
            host.capture_timeout,
            display::capture(transport, host.display.as_deref()),
        )
        .await
        .map(|png| {
            let display = host.display.as_deref().unwrap_or_default();
            let text = replies::screenshot(&host.name, &replies::Shot::Display { display }, &png);
            (png, text)
        }),
        Some(url) => capture::within(
            host.capture_timeout,
            page::capture(transport, &host.browser, url),
        )
        .await
        .map(|shot| {
            let what = replies::Shot::Page {
                url,
                cut: shot.cut,
                unfinished: shot.unfinished,
            };
            let text = replies::screenshot(&host.name, &what, &shot.png);
            (shot.png, text)
        }),
    };
    Ok(match taken {
        Ok((png, text)) => {
            let mut post = Post::text(text);
            let caption = url.unwrap_or("display").to_owned();
            post.attachments = vec![Attachment::image(
                "screenshot.png".to_owned(),
                png.data,
                caption,
            )];
            post
        }
        Err(e) => {
            tracing::info!(host = %host.name, url, "screenshot failed: {e}");
            Post::text(replies::screenshot_failed(&host.name, url, &e))
        }
    })
}
