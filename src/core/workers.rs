//! One worker per session: ordered within a session, parallel across sessions (DESIGN
//! invariant 2), never one global lock.
//!
//! The durable queue is the store (a session's `queued` turns); a worker is only the task that
//! drains it. [`Core::kick`] makes sure a worker runs for a session: it wakes the live one or
//! spawns a new one. A worker that finds its queue empty removes itself from the map — under the
//! same lock `kick` takes, after checking for a wake-up that arrived meanwhile — so a turn queued
//! at the moment a worker retires is never stranded.
//!
//! A panic while driving a turn is caught and handled like an internal error (logged, retried
//! after a pause), and a worker's entry in the map is a drop guard: however a worker ends, the
//! next `kick` finds no stale entry and starts a new one.
//!
//! Work on a session that must not overlap its turns — removing its idle workspace
//! ([`cleanup`](super::cleanup)) — runs as the session's worker too ([`Core::in_idle_worker`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::anyhow;
use tokio::sync::{mpsc, oneshot};

use super::Core;
use crate::domain::ids::SessionId;
use crate::panics;

/// Pause after a worker hit an internal error (the store unreachable, say), before retrying.
const ERROR_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(super) struct Workers {
    live: Mutex<HashMap<SessionId, mpsc::UnboundedSender<()>>>,
}

impl Workers {
    /// The live workers; nothing panics while holding them, and a worker's entry must still be
    /// removed from a panicking worker's drop, so a poisoned lock is used as it is.
    fn live(&self) -> MutexGuard<'_, HashMap<SessionId, mpsc::UnboundedSender<()>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A worker's entry in the map, removed when the worker ends however it ends — unless a newer
/// worker's has taken its place.
struct Entry {
    core: Arc<Core>,
    session: SessionId,
    wake: mpsc::UnboundedSender<()>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut live = self.core.workers.live();
        if live
            .get(&self.session)
            .is_some_and(|wake| wake.same_channel(&self.wake))
        {
            live.remove(&self.session);
        }
    }
}

impl Core {
    /// Ensures a worker is draining `session`'s queue.
    pub fn kick(self: &Arc<Self>, session: SessionId) {
        let mut live = self.workers.live();
        if let Some(wake) = live.get(&session)
            && wake.send(()).is_ok()
        {
            return;
        }
        let (entry, wakes) = self.enter(&mut live, session);
        tokio::spawn(run_worker(entry, wakes));
    }

    /// Runs `job` as `session`'s worker, before its queue, when the session has no worker: a
    /// session's turns start only in its worker, so none starts while `job` runs, and one
    /// queued meanwhile runs right after it. `None` when the session has a worker (it is busy);
    /// otherwise the job's result arrives on the receiver (a panic as an error).
    pub(super) fn in_idle_worker<T, F>(
        self: &Arc<Self>,
        session: &SessionId,
        job: F,
    ) -> Option<oneshot::Receiver<anyhow::Result<T>>>
    where
        T: Send + 'static,
        F: Future<Output = anyhow::Result<T>> + Send + 'static,
    {
        let mut live = self.workers.live();
        if live.contains_key(session) {
            return None;
        }
        let (entry, wakes) = self.enter(&mut live, session.clone());
        let (done, result) = oneshot::channel();
        tokio::spawn(async move {
            let outcome = panics::catch_async(job)
                .await
                .unwrap_or_else(|panic| Err(anyhow!("it panicked: {panic}")));
            let _ = done.send(outcome);
            run_worker(entry, wakes).await;
        });
        Some(result)
    }

    /// Puts a new worker for `session` in the map: its entry, and where its wake-ups arrive.
    fn enter(
        self: &Arc<Self>,
        live: &mut HashMap<SessionId, mpsc::UnboundedSender<()>>,
        session: SessionId,
    ) -> (Entry, mpsc::UnboundedReceiver<()>) {
        let (wake, wakes) = mpsc::unbounded_channel();
        live.insert(session.clone(), wake.clone());
        let entry = Entry {
            core: self.clone(),
            session,
            wake,
        };
        (entry, wakes)
    }
}

async fn run_worker(entry: Entry, mut wakes: mpsc::UnboundedReceiver<()>) {
    let (core, session) = (&entry.core, &entry.session);
    loop {
        match core.store.next_turn(session).await {
            Ok(Some(turn)) => {
                let id = turn.id.clone();
                let failure = match panics::catch_async(super::turn::drive(core, turn)).await {
                    Ok(driven) => driven.err(),
                    Err(panic) => Some(anyhow!("driving it panicked: {panic}")),
                };
                if let Some(e) = failure {
                    tracing::error!(session = %session, turn = %id, "turn failed internally: {e:#}");
                    tokio::time::sleep(ERROR_BACKOFF).await;
                }
            }
            Ok(None) => {
                let mut live = core.workers.live();
                if wakes.try_recv().is_ok() {
                    while wakes.try_recv().is_ok() {}
                    continue;
                }
                live.remove(session);
                return;
            }
            Err(e) => {
                tracing::error!(session = %session, "reading the session's queue failed: {e:#}");
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testing;
    use crate::domain::agent::AgentKind;
    use crate::domain::ids::TurnId;
    use crate::domain::inbound::InboundBody;
    use crate::domain::turn::TurnState;
    use crate::store::sessions::{self, NewSession};
    use crate::store::turns::{self, NewTurn};

    /// A session on a host that is not configured (each of its turns ends at once, and is
    /// presented), with a turn queued for each of `prompts`; returns it and its turns.
    async fn session_with_turns(core: &Core, prompts: &[&str]) -> (SessionId, Vec<TurnId>) {
        let thread = testing::event("1", InboundBody::Prompt { text: "x".into() }).thread;
        let active = core.store.active_session(&thread).await.unwrap();
        let mut tx = core.store.write_tx().await.unwrap();
        let session = match active {
            Some(session) => session,
            None => {
                let new = NewSession {
                    id: SessionId::generate(),
                    thread: &thread,
                    host: "gone",
                    agent: AgentKind::Claude,
                    model: None,
                    workdir: "/tmp",
                    workspace: None,
                    created_by: "7",
                };
                sessions::create_session(&mut tx, new).await.unwrap()
            }
        };
        let mut ids = Vec::new();
        for prompt in prompts {
            let id = TurnId::generate();
            let new = NewTurn {
                id: &id,
                session_id: &session.id,
                inbound_id: None,
                prompt,
                author_id: "7",
                author_name: "@ann",
                reply_to: None,
                host: "gone",
                workspace: None,
                review: None,
                quiet: false,
            };
            turns::insert_turn(&mut tx, new).await.unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        (session.id, ids)
    }

    /// Waits until `session` has no turn left to run.
    async fn drained(core: &Core, session: &SessionId) -> bool {
        let mut changed = core.watch_outbox();
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                changed.borrow_and_update();
                if core.store.next_turn(session).await.unwrap().is_none() {
                    return;
                }
                changed.changed().await.unwrap();
            }
        })
        .await
        .is_ok()
    }

    #[tokio::test]
    async fn a_panic_while_driving_a_turn_does_not_strand_the_session_queue() {
        let (core, _dir) = testing::core(vec![Arc::new(testing::PanicsOnce::new(
            testing::Bug::InPresent,
        ))])
        .await;
        let (session, _) = session_with_turns(&core, &["first", "second"]).await;
        core.kick(session.clone());
        assert!(
            drained(&core, &session).await,
            "both turns ended after the panic"
        );
    }

    /// Work done as an idle session's worker (the clean-up) holds its turns back: while it
    /// runs, no second such job is taken and a turn queued and kicked waits; once it ends, the
    /// turn runs.
    #[tokio::test]
    async fn a_job_in_an_idle_worker_holds_the_sessions_turns_back_until_it_ends() {
        let (core, _dir) = testing::core(vec![Arc::new(testing::PanicsOnce::new(
            testing::Bug::InAdmit,
        ))])
        .await;
        let (session, _) = session_with_turns(&core, &[]).await;
        let (started, job_started) = oneshot::channel();
        let (release, released) = oneshot::channel::<()>();
        let done = core
            .in_idle_worker(&session, async move {
                let _ = started.send(());
                let _ = released.await;
                Ok(7)
            })
            .expect("the session has no worker");
        job_started.await.unwrap();
        assert!(
            core.in_idle_worker(&session, async { Ok(()) }).is_none(),
            "the session's worker is busy"
        );

        let (_, turn) = session_with_turns(&core, &["meanwhile"]).await;
        core.kick(session.clone());
        assert_eq!(core.workers.live().len(), 1, "no second worker");
        let queued = core.store.turn(&turn[0]).await.unwrap().unwrap();
        assert_eq!(queued.state, TurnState::Queued);

        release.send(()).unwrap();
        assert_eq!(done.await.unwrap().unwrap(), 7);
        assert!(drained(&core, &session).await, "the turn ran after the job");
        let ran = core.store.turn(&turn[0]).await.unwrap().unwrap();
        assert_ne!(ran.state, TurnState::Queued);
    }
}
