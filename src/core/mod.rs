//! The decisions: inbound events in, sessions and turns, outbound intents out.
//!
//! Platform adapters store [`Inbound`](crate::domain::inbound::Inbound) events; [`router`]
//! turns each into a command reply ([`command_handlers`], answered through [`respond`]) or a
//! queued turn; one worker per session ([`workers`]) runs that session's turns in order on its
//! host ([`turn`]); everything the user sees is written to the outbox, whose per-platform
//! schedulers deliver it. What differs by platform is behind [`policy::Policy`]. The words all
//! of this is said in live in `crate::domain`; nothing in here knows a platform's types.

pub mod access;
pub mod agent_choice;
mod ci_fix;
pub mod ci_watch;
pub mod claims;
pub mod cleanup;
pub mod command_handlers;
mod delivery;
mod enqueue;
pub mod incoming_files;
pub mod placement;
mod planned_pr;
pub mod policy;
mod presses;
mod progress;
pub mod replies;
mod respond;
pub mod router;
mod schedule_commands;
pub mod schedules;
#[cfg(test)]
pub(crate) mod testing;
pub mod transcription;
mod turn;
mod voice;
mod workers;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;

use anyhow::Context;

use crate::agents::Agents;
use crate::config::{Budgets, Config, Defaults, Workspaces};
use crate::domain::agent::AgentKind;
use crate::domain::command::Spelling;
use crate::domain::project::Project;
use crate::domain::thread::{Platform, ThreadRef};
use crate::runner::hosts::Hosts;
use crate::store::Store;
use policy::Policy;

/// Everything the core needs, shared by all its tasks.
pub struct Core {
    pub store: Store,
    pub hosts: Hosts,
    /// Every agent's adapter, configured.
    pub agents: Agents,
    /// The agent of new sessions on each host when their project names none.
    host_agents: HashMap<String, AgentKind>,
    pub defaults: Defaults,
    pub budgets: Budgets,
    /// The configured projects, by name.
    pub projects: Vec<Project>,
    /// How sessions' own directories are named, made and kept.
    pub workspaces: Workspaces,
    /// The speech-to-text service, when `[transcription]` is configured.
    pub transcriber: Option<transcription::Transcriber>,
    policies: HashMap<Platform, Arc<dyn Policy>>,
    workers: workers::Workers,
    /// Threads with an event being handled (the router's). Kept here rather than in the router
    /// loop, so a loop started again after a panic sees the tasks the last one left running.
    in_flight: claims::Claims<ThreadRef>,
    /// Chats whose outbox a task is delivering (each platform's outbox loop), here for the same
    /// reason.
    pub(crate) delivering: claims::Claims<(Platform, String)>,
    /// Bumped whenever the outbox gains work; each platform's scheduler watches it.
    outbox_changed: watch::Sender<u64>,
    /// Bumped whenever an inbound event is stored; the router watches it.
    inbound_changed: watch::Sender<u64>,
    /// Bumped when a pushed commit is watched or its checks moved; [`ci_watch`] watches it.
    checks_moved: watch::Sender<u64>,
    /// The scheduler's time ([`schedules::Clock`]).
    pub schedule_clock: schedules::Clock,
    /// The time zone of schedules that name none (`scheduling.time_zone`).
    pub schedule_zone: String,
    /// Bumped when a schedule is made or removed; [`schedules`] watches it.
    schedules_changed: watch::Sender<u64>,
}

impl Core {
    /// The core of `config`'s service, over `store` and `hosts`, with each platform's policy
    /// and the speech-to-text service, if any.
    pub fn new(
        store: Store,
        hosts: Hosts,
        config: &Config,
        policies: Vec<Arc<dyn Policy>>,
        transcriber: Option<transcription::Transcriber>,
    ) -> Arc<Core> {
        Arc::new(Core {
            store,
            hosts,
            agents: Agents::new(&config.agents),
            host_agents: config
                .hosts
                .keys()
                .map(|name| (name.clone(), config.host_agent(name)))
                .collect(),
            defaults: config.defaults.clone(),
            budgets: config.budgets.clone(),
            projects: config.projects(),
            workspaces: config.workspaces.clone(),
            transcriber,
            policies: policies.into_iter().map(|f| (f.platform(), f)).collect(),
            workers: workers::Workers::default(),
            in_flight: claims::Claims::default(),
            delivering: claims::Claims::default(),
            outbox_changed: watch::Sender::new(0),
            inbound_changed: watch::Sender::new(0),
            checks_moved: watch::Sender::new(0),
            schedule_clock: schedules::Clock::new(config.scheduling.clock_start),
            schedule_zone: config.scheduling.time_zone.clone(),
            schedules_changed: watch::Sender::new(0),
        })
    }

    /// The policy of a platform (every platform that stores events has one).
    pub fn policy(&self, platform: Platform) -> anyhow::Result<Arc<dyn Policy>> {
        self.policies
            .get(&platform)
            .cloned()
            .with_context(|| format!("no policy for {platform}"))
    }

    /// The agent of new sessions on `host` when their project names none.
    pub fn host_agent(&self, host: &str) -> AgentKind {
        self.host_agents
            .get(host)
            .copied()
            .unwrap_or(self.defaults.agent)
    }

    /// How commands are typed on a platform, for the replies that name them.
    pub fn spelling(&self, platform: Platform) -> Spelling {
        self.policies
            .get(&platform)
            .map_or_else(|| Spelling::of(platform), |f| f.spelling())
    }

    /// Tells the platform schedulers that the outbox has new work.
    pub fn outbox_changed(&self) {
        self.outbox_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever the outbox gains work.
    pub fn watch_outbox(&self) -> watch::Receiver<u64> {
        self.outbox_changed.subscribe()
    }

    /// Stores an inbound event (DESIGN invariant 1) and wakes the router; false for a duplicate.
    pub async fn accept(&self, event: &crate::domain::inbound::Inbound) -> anyhow::Result<bool> {
        let stored = self.store.insert_inbound(event).await?.is_some();
        if stored {
            self.inbound_stored();
        }
        Ok(stored)
    }

    /// Stores a command event like [`Core::accept`], so it is handled as if typed in its thread
    /// (admitted, after the thread's earlier events, its reply posted there), and waits up to
    /// `wait` for that reply. `None`: no reply within `wait` (it still comes, in the thread), or
    /// none at all (a refusal answers under its own key, at most hourly).
    pub async fn ask(
        &self,
        event: &crate::domain::inbound::Inbound,
        wait: std::time::Duration,
    ) -> anyhow::Result<Option<crate::domain::outbound::Post>> {
        let mut changes = self.watch_outbox();
        let Some(id) = self.store.insert_inbound(event).await? else {
            return Ok(None);
        };
        self.inbound_stored();
        let key = crate::domain::outbox_key::OutboxKey::Reply(id.clone());
        let answered = async {
            loop {
                changes.borrow_and_update();
                // Read before the outbox: the reply and the mark are one transaction, so a
                // processed event without a reply after this has none.
                let processed = self.store.inbound_processed(&id).await?;
                if let Some((_, post)) = self.store.outbox_post(&key).await? {
                    return Ok(Some(post));
                }
                if processed || changes.changed().await.is_err() {
                    return Ok(None);
                }
            }
        };
        tokio::time::timeout(wait, answered)
            .await
            .unwrap_or(Ok(None))
    }

    /// Whether a chat thread is a session, so that its messages are for the bot without a
    /// mention: it has one, or the mention that starts it (stored under `starter`) is stored
    /// already and will make one — replies sent right after it are not lost to that race.
    pub async fn is_session_thread(
        &self,
        thread: &ThreadRef,
        starter: &str,
    ) -> anyhow::Result<bool> {
        Ok(self.store.active_session(thread).await?.is_some()
            || self.store.inbound_known(thread.platform, starter).await?)
    }

    /// Tells the router that an inbound event was stored.
    pub fn inbound_stored(&self) {
        self.inbound_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Tells the CI watch loop that a watch was stored or made due.
    fn checks_moved(&self) {
        self.checks_moved.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn watch_checks_moved(&self) -> watch::Receiver<u64> {
        self.checks_moved.subscribe()
    }

    /// Tells the scheduler that a schedule was made or removed.
    fn schedules_changed(&self) {
        self.schedules_changed
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    fn watch_schedules(&self) -> watch::Receiver<u64> {
        self.schedules_changed.subscribe()
    }

    fn watch_inbound(&self) -> watch::Receiver<u64> {
        self.inbound_changed.subscribe()
    }

    /// Starts a worker for every session with queued or unfinished turns: after a restart this
    /// reattaches to turns that kept running on their hosts. Their host slots are taken first,
    /// so no queued turn starts on a host before the turns already there are followed again.
    /// Called before anything else can queue a turn.
    pub async fn resume_pending_work(self: &Arc<Self>) -> anyhow::Result<usize> {
        for (host, started) in self.store.started_turns_by_host().await? {
            if let Some(host) = self.hosts.get(&host) {
                host.hold_for_turns_under_way(usize::try_from(started).unwrap_or(0));
            }
        }
        let sessions = self.store.sessions_with_work().await?;
        let count = sessions.len();
        for session in sessions {
            self.kick(session);
        }
        Ok(count)
    }
}
