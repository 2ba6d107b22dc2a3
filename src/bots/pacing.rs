//! Pacing outbound calls within a platform's published limits (DESIGN invariant 8).
//!
//! Three rules, each checked before a call: a minimum spacing between calls to one chat, a
//! maximum count per rolling window for group chats, and a maximum count per rolling window for
//! the whole bot. Every rule counts a call from its *end* (and a call in flight as one that ends
//! now or later): the platform saw it somewhere between its start and its end, never later, so
//! latency cannot make two calls look closer to the platform than the pacer allowed. A
//! `retry_after` from the platform pauses the chat until it has passed; nothing is sent to that
//! chat inside the window. Some limits are not per chat (Slack's method tiers, Discord's global
//! limit): their `retry_after` pauses every chat.
//!
//! Calls that can wait (progress edits) get a share of each budget, and yield: they may only use
//! the first quarter of a group's window and the first [`DEFERRABLE_SHARE`] of the bot's, and
//! none of it while a call that cannot wait (a post, an answer, a reaction) is waiting for the
//! bot's budget. So busy turns' progress never eats the budget their answers and outcomes need.
//!
//! A pause ends at a wall-clock deadline ([`PauseEnd`]) the outlet stores, so a restarted bot
//! restores it ([`Pacer::restore`]) before its first call: a window the platform opened before a
//! crash is respected after it. A [`Ticket`] marks its chat busy until it is dropped — also when
//! the task holding it panics or is cancelled — so no chat stays busy for good.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::ids::now_ms;

/// A platform's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Minimum time between calls in one chat.
    pub per_chat_interval: Duration,
    /// At most this many calls per `group_window` in one group chat.
    pub per_group: u32,
    pub group_window: Duration,
    /// At most this many calls per `global_window` over all chats.
    pub global: u32,
    pub global_window: Duration,
}

/// Extra room added to every window, against clock granularity.
const MARGIN: Duration = Duration::from_millis(20);

/// The share of the bot's budget (numerator, denominator) calls that can wait may use; the rest
/// is always there for calls that cannot.
pub const DEFERRABLE_SHARE: (u32, u32) = (2, 3);

/// How often a call that is held back by calls in flight (its chat's, or the bot's whole
/// budget) or by waiting posts looks again.
const RECHECK: Duration = Duration::from_millis(10);

#[derive(Debug, Default)]
struct ChatState {
    /// When the last call to the chat finished.
    last_done: Option<Instant>,
    /// Ends of recent calls (group chats).
    recent: VecDeque<Instant>,
    /// No call before this instant (a `retry_after`).
    paused_until: Option<Instant>,
    /// A call is in flight.
    busy: bool,
}

#[derive(Debug)]
pub struct Pacer {
    limits: Limits,
    state: Mutex<PacerState>,
}

#[derive(Debug, Default)]
struct PacerState {
    chats: HashMap<String, ChatState>,
    /// Ends of recent calls over all chats.
    global: VecDeque<Instant>,
    /// Calls in flight over all chats: each counts against the bot's budget until it ends.
    in_flight: usize,
    /// Calls that cannot wait, waiting for the bot's budget: calls that can wait yield to them.
    urgent_waiting: usize,
    /// No call to any chat before this instant (a platform-wide `retry_after`).
    paused_until: Option<Instant>,
}

/// Permission to make one call to a chat, which is busy until the ticket is gone. Dropping it
/// records the call's end, as [`Pacer::done`] does: a call abandoned half-way (a panic, a
/// cancelled task) may have reached the platform, so the spacing after it is kept.
#[derive(Debug)]
#[must_use]
pub struct Ticket<'a> {
    pacer: &'a Pacer,
    chat: String,
    /// Whether a call was made (or may have been): only then does it count.
    called: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.pacer.lock();
        let now = Instant::now();
        state.in_flight = state.in_flight.saturating_sub(1);
        if self.called {
            state.global.push_back(now);
        }
        let c = state
            .chats
            .entry(std::mem::take(&mut self.chat))
            .or_default();
        c.busy = false;
        if self.called {
            c.last_done = Some(now);
            c.recent.push_back(now);
        }
    }
}

/// A call that cannot wait, counted as waiting for the bot's budget while it lives (also when
/// the waiting task is cancelled).
struct UrgentWaiting<'a>(&'a Pacer);

impl Drop for UrgentWaiting<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.urgent_waiting = state.urgent_waiting.saturating_sub(1);
    }
}

/// When a pause ends, in Unix milliseconds: a deadline that means the same after a restart.
pub type PauseEnd = i64;

/// How long a call must wait, and whether the bot's budget (rather than its chat) holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wait {
    total: Duration,
    for_budget: bool,
}

impl Pacer {
    pub fn new(limits: Limits) -> Pacer {
        Pacer {
            limits,
            state: Mutex::default(),
        }
    }

    /// The state, also after a panic elsewhere poisoned the lock: every update to it is a
    /// single assignment or push, so it is never left half-changed, and a ticket dropped while
    /// unwinding must not panic again.
    fn lock(&self) -> MutexGuard<'_, PacerState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until a call to `chat` is allowed, and reserves it. `deferrable` calls (progress
    /// edits) get only a share of the budgets and yield to the others.
    pub async fn acquire(&self, chat: &str, is_group: bool, deferrable: bool) -> Ticket<'_> {
        let mut urgent = None;
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                let wait = self.wait_needed(&mut state, chat, is_group, deferrable, now);
                if wait.total.is_zero() {
                    state.in_flight += 1;
                    state.chats.entry(chat.to_owned()).or_default().busy = true;
                    return Ticket {
                        pacer: self,
                        chat: chat.to_owned(),
                        called: true,
                    };
                }
                if !deferrable && wait.for_budget && urgent.is_none() {
                    state.urgent_waiting += 1;
                    urgent = Some(UrgentWaiting(self));
                }
                wait.total
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn wait_needed(
        &self,
        state: &mut PacerState,
        chat: &str,
        is_group: bool,
        deferrable: bool,
        now: Instant,
    ) -> Wait {
        let l = &self.limits;
        let budget = self.budget_wait(state, deferrable, now);
        let mut wait = budget;
        if let Some(until) = state.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        let c = state.chats.entry(chat.to_owned()).or_default();
        if c.busy {
            wait = wait.max(RECHECK);
        }
        if let Some(until) = c.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        if let Some(last) = c.last_done {
            wait = wait.max((last + l.per_chat_interval + MARGIN).saturating_duration_since(now));
        }
        if is_group {
            prune(&mut c.recent, now, l.group_window + MARGIN);
            let budget = if deferrable {
                (l.per_group / 4).max(1)
            } else {
                l.per_group
            } as usize;
            if c.recent.len() >= budget {
                let frees_up = c.recent[c.recent.len() - budget];
                wait =
                    wait.max((frees_up + l.group_window + MARGIN).saturating_duration_since(now));
            }
        }
        Wait {
            total: wait,
            for_budget: !budget.is_zero() && budget == wait,
        }
    }

    /// How long the bot's budget holds a call back: calls ended within the window and calls in
    /// flight count against it; calls that can wait have their share of it, and none while a
    /// call that cannot wait is waiting.
    fn budget_wait(&self, state: &mut PacerState, deferrable: bool, now: Instant) -> Duration {
        let l = &self.limits;
        prune(&mut state.global, now, l.global_window + MARGIN);
        let cap = if deferrable {
            let (share, of) = DEFERRABLE_SHARE;
            (u64::from(l.global) * u64::from(share) / u64::from(of)).max(1) as usize
        } else {
            l.global as usize
        };
        let used = state.global.len() + state.in_flight;
        let mut wait = Duration::ZERO;
        if used >= cap {
            // The oldest ends must leave the window until one more call fits; if calls in
            // flight alone fill it, look again soon.
            wait = match state.global.get(used - cap) {
                Some(end) => (*end + l.global_window + MARGIN).saturating_duration_since(now),
                None => RECHECK,
            };
        }
        if deferrable && state.urgent_waiting > 0 {
            wait = wait.max(RECHECK);
        }
        wait
    }

    /// How long a call to `chat` would have to wait now (nothing is reserved).
    pub fn wait_for(&self, chat: &str, is_group: bool, deferrable: bool) -> Duration {
        let mut state = self.lock();
        self.wait_needed(&mut state, chat, is_group, deferrable, Instant::now())
            .total
    }

    /// Records the end of a call.
    pub fn done(&self, ticket: Ticket<'_>) {
        drop(ticket);
    }

    /// Gives a ticket back without a call (there was nothing left to send): it counts for
    /// nothing.
    pub fn unused(&self, mut ticket: Ticket<'_>) {
        ticket.called = false;
    }

    /// The platform said to wait `retry_after` before calling `chat` again. Returns when the
    /// pause ends, for the outlet to store.
    pub fn pause(&self, chat: &str, retry_after: Duration) -> PauseEnd {
        let end = pause_end(retry_after);
        self.restore(Some(chat), end);
        end
    }

    /// The platform said to wait `retry_after` before calling it again at all. Returns when the
    /// pause ends, for the outlet to store.
    pub fn pause_all(&self, retry_after: Duration) -> PauseEnd {
        let end = pause_end(retry_after);
        self.restore(None, end);
        end
    }

    /// No call to `chat` (to any chat, when `None`) before `end`: a pause stored before a
    /// restart, or one just received. A pause never shortens a longer one.
    pub fn restore(&self, chat: Option<&str>, end: PauseEnd) {
        let remaining = u64::try_from(end - now_ms()).unwrap_or(0);
        let until = Instant::now() + Duration::from_millis(remaining);
        let mut state = self.lock();
        let paused_until = match chat {
            Some(chat) => &mut state.chats.entry(chat.to_owned()).or_default().paused_until,
            None => &mut state.paused_until,
        };
        *paused_until = Some(paused_until.map_or(until, |u| u.max(until)));
    }
}

/// Drops entries that are `span` or more in the past.
fn prune(ends: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while ends.front().is_some_and(|t| now.duration_since(*t) >= span) {
        ends.pop_front();
    }
}

/// The end of a `retry_after` starting now, with the margin, on the wall clock.
fn pause_end(retry_after: Duration) -> PauseEnd {
    now_ms() + i64::try_from((retry_after + MARGIN).as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn limits() -> Limits {
        Limits {
            per_chat_interval: Duration::from_secs(1),
            per_group: 3,
            group_window: Duration::from_secs(60),
            global: 2,
            global_window: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn spaces_calls_in_one_chat() {
        let pacer = Pacer::new(limits());
        let start = Instant::now();
        let t = pacer.acquire("1", false, false).await;
        pacer.done(t);
        let t = pacer.acquire("1", false, false).await;
        assert!(start.elapsed() >= Duration::from_secs(1));
        pacer.done(t);
    }

    #[tokio::test(start_paused = true)]
    async fn limits_the_whole_bot_and_groups() {
        let pacer = Pacer::new(limits());
        let start = Instant::now();
        for chat in ["1", "2"] {
            let t = pacer.acquire(chat, false, false).await;
            pacer.done(t);
        }
        let t = pacer.acquire("3", false, false).await;
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "third call within the global window"
        );
        pacer.done(t);

        let pacer = Pacer::new(Limits {
            global: 100,
            ..limits()
        });
        let start = Instant::now();
        for _ in 0..4 {
            let t = pacer.acquire("-5", true, false).await;
            pacer.done(t);
        }
        assert!(
            start.elapsed() >= Duration::from_secs(60),
            "fourth group call within a minute"
        );

        // Deferrable calls (progress) use a quarter of a group's budget; the rest stays for
        // posts.
        let pacer = Pacer::new(Limits {
            global: 100,
            per_group: 8,
            ..limits()
        });
        let start = Instant::now();
        for _ in 0..2 {
            let t = pacer.acquire("-5", true, true).await;
            pacer.done(t);
        }
        let t = pacer.acquire("-5", true, false).await;
        pacer.done(t);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "posts keep their half"
        );
        let t = pacer.acquire("-5", true, true).await;
        assert!(
            start.elapsed() >= Duration::from_secs(60),
            "progress used its half"
        );
        pacer.done(t);
    }

    /// A call counts against the bot's budget from when it ends: a slow call the platform may
    /// have received late still fills the window after it.
    #[tokio::test(start_paused = true)]
    async fn the_bot_budget_counts_calls_from_their_end() {
        let pacer = Pacer::new(limits()); // two calls a second over the bot
        let start = Instant::now();
        let slow = pacer.acquire("1", false, false).await;
        let fast = pacer.acquire("2", false, false).await;
        pacer.done(fast);
        // Both in flight or just ended: the window is full.
        assert!(pacer.wait_for("3", false, false) > Duration::ZERO);
        tokio::time::sleep(Duration::from_millis(700)).await;
        pacer.done(slow); // ends at 0.7 s
        pacer.done(pacer.acquire("3", false, false).await); // the fast one's window ended
        assert!(start.elapsed() >= Duration::from_secs(1));
        let t = pacer.acquire("4", false, false).await;
        assert!(
            start.elapsed() >= Duration::from_millis(1_700),
            "a second after the slow call's end, not its start: {:?}",
            start.elapsed()
        );
        pacer.done(t);
    }

    /// Progress edits get their share of the bot's budget and wait while an answer waits for
    /// it; answers may use all of it.
    #[tokio::test(start_paused = true)]
    async fn calls_that_can_wait_keep_to_their_share_and_yield() {
        let pacer = Arc::new(Pacer::new(Limits {
            global: 3, // edits may use two
            ..limits()
        }));
        let start = Instant::now();
        for chat in ["1", "2"] {
            pacer.done(pacer.acquire(chat, false, true).await);
        }
        assert!(
            pacer.wait_for("3", false, true) > Duration::ZERO,
            "edits' share used"
        );
        pacer.done(pacer.acquire("3", false, false).await);
        assert_eq!(start.elapsed(), Duration::ZERO, "an answer takes the rest");

        // The window is full: an edit and then an answer wait for it; the answer goes first.
        let (order, mut went) = tokio::sync::mpsc::unbounded_channel();
        let edit = {
            let (pacer, order) = (pacer.clone(), order.clone());
            tokio::spawn(async move {
                pacer.done(pacer.acquire("4", false, true).await);
                order.send("edit").unwrap();
            })
        };
        tokio::task::yield_now().await;
        let answer = {
            let pacer = pacer.clone();
            tokio::spawn(async move {
                pacer.done(pacer.acquire("5", false, false).await);
                order.send("answer").unwrap();
            })
        };
        edit.await.unwrap();
        answer.await.unwrap();
        assert_eq!(went.recv().await, Some("answer"));
        assert_eq!(went.recv().await, Some("edit"));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_the_chat_only() {
        let pacer = Pacer::new(Limits {
            global: 100,
            ..limits()
        });
        let start = Instant::now();
        let t = pacer.acquire("1", false, false).await;
        pacer.pause("1", Duration::from_secs(7));
        pacer.done(t);
        let t = pacer.acquire("2", false, false).await;
        assert!(start.elapsed() < Duration::from_secs(1));
        pacer.done(t);
        let t = pacer.acquire("1", false, false).await;
        assert!(start.elapsed() >= Duration::from_secs(7));
        pacer.done(t);
    }

    #[tokio::test(start_paused = true)]
    async fn a_platform_wide_retry_after_pauses_every_chat() {
        let pacer = Pacer::new(Limits {
            global: 100,
            ..limits()
        });
        let start = Instant::now();
        let t = pacer.acquire("1", false, false).await;
        pacer.pause_all(Duration::from_secs(7));
        pacer.done(t);
        let t = pacer.acquire("2", false, false).await;
        assert!(start.elapsed() >= Duration::from_secs(7));
        pacer.done(t);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stored_pause_holds_a_fresh_pacer() {
        let pacer = Pacer::new(Limits {
            global: 100,
            ..limits()
        });
        let start = Instant::now();
        pacer.restore(Some("1"), now_ms() + 7_000);
        pacer.restore(None, now_ms() + 3_000);
        let t = pacer.acquire("2", false, false).await;
        assert!(
            start.elapsed() >= Duration::from_millis(2_900),
            "platform-wide"
        );
        pacer.done(t);
        let t = pacer.acquire("1", false, false).await;
        assert!(
            start.elapsed() >= Duration::from_millis(6_900),
            "the chat's own"
        );
        pacer.done(t);
        // A pause already over holds nothing.
        pacer.restore(Some("3"), now_ms() - 1_000);
        let before = Instant::now();
        pacer.done(pacer.acquire("3", false, false).await);
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_ticket_dropped_by_a_panicking_task_frees_its_chat() {
        let pacer = Arc::new(Pacer::new(Limits {
            global: 100,
            ..limits()
        }));
        let holder = pacer.clone();
        let task = tokio::spawn(async move {
            let _ticket = holder.acquire("1", false, false).await;
            panic!("the delivery task dies holding the chat");
        });
        assert!(task.await.unwrap_err().is_panic());
        let start = Instant::now();
        let t = tokio::time::timeout(Duration::from_secs(60), pacer.acquire("1", false, false))
            .await
            .expect("the chat is free again");
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "the abandoned call still counts for the spacing"
        );
        pacer.done(t);
    }
}
