//! One worker per session: ordered within a session, parallel across sessions (DESIGN
//! invariant 2), never one global lock.
//!
//! The durable queue is the store (a session's `queued` turns); a worker is only the task that
//! drains it. [`Core::kick`] makes sure a worker runs for a session: it wakes the live one or
//! spawns a new one. A worker that finds its queue empty removes itself from the map — under the
//! same lock `kick` takes, after checking for a wake-up that arrived meanwhile — so a turn queued
//! at the moment a worker retires is never stranded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::Core;
use super::ids::SessionId;

/// Pause after a worker hit an internal error (the store unreachable, say), before retrying.
const ERROR_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(super) struct Workers {
    live: Mutex<HashMap<SessionId, mpsc::UnboundedSender<()>>>,
}

impl Core {
    /// Ensures a worker is draining `session`'s queue.
    pub fn kick(self: &Arc<Self>, session: SessionId) {
        let mut live = self.workers.live.lock().expect("workers lock");
        if let Some(wake) = live.get(&session)
            && wake.send(()).is_ok()
        {
            return;
        }
        let (wake, sleep) = mpsc::unbounded_channel();
        live.insert(session.clone(), wake);
        tokio::spawn(run_worker(self.clone(), session, sleep));
    }
}

async fn run_worker(core: Arc<Core>, session: SessionId, mut wakes: mpsc::UnboundedReceiver<()>) {
    loop {
        match core.store.next_turn(&session).await {
            Ok(Some(turn)) => {
                let id = turn.id.clone();
                if let Err(e) = super::turn::drive(&core, turn).await {
                    tracing::error!(session = %session, turn = %id, "turn failed internally: {e:#}");
                    tokio::time::sleep(ERROR_BACKOFF).await;
                }
            }
            Ok(None) => {
                let mut live = core.workers.live.lock().expect("workers lock");
                if wakes.try_recv().is_ok() {
                    while wakes.try_recv().is_ok() {}
                    continue;
                }
                live.remove(&session);
                return;
            }
            Err(e) => {
                tracing::error!(session = %session, "reading the session's queue failed: {e:#}");
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
    }
}
