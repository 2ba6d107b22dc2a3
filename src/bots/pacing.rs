//! Pacing outbound calls within a platform's published limits (DESIGN invariant 8).
//!
//! Three rules, each checked before a call: a minimum spacing between calls to one chat, a
//! maximum count per rolling window for group chats, and a maximum count per rolling window for
//! the whole bot. Spacing is measured from the *end* of the previous call to the chat, which is
//! never earlier than the platform saw it, so jitter cannot make two calls look closer than
//! allowed. A `retry_after` from the platform pauses the chat until it has passed; nothing is
//! sent to that chat inside the window. Some limits are not per chat (Slack's method tiers,
//! Discord's global limit): their `retry_after` pauses every chat.
//!
//! Calls that can wait (progress edits) may only use the first quarter of a group's window, so
//! busy turns' progress never eats the budget their answers and outcomes need.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

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
    /// Starts of recent calls over all chats.
    global: VecDeque<Instant>,
    /// No call to any chat before this instant (a platform-wide `retry_after`).
    paused_until: Option<Instant>,
}

/// Permission to make one call; report its end with [`Pacer::done`] (or a pause). A ticket
/// dropped otherwise — its call panicked — counts as done too, so the chat is never left busy.
#[derive(Debug)]
#[must_use]
pub struct Ticket<'a> {
    pacer: &'a Pacer,
    chat: String,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.pacer.finished(&self.chat);
    }
}

impl Pacer {
    pub fn new(limits: Limits) -> Pacer {
        Pacer {
            limits,
            state: Mutex::default(),
        }
    }

    /// Waits until a call to `chat` is allowed, and reserves it. `deferrable` calls (progress
    /// edits) get only a quarter of a group's budget.
    pub async fn acquire(&self, chat: &str, is_group: bool, deferrable: bool) -> Ticket<'_> {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                let wait = self.wait_needed(&mut state, chat, is_group, deferrable, now);
                if wait.is_zero() {
                    state.global.push_back(now);
                    state.chats.entry(chat.to_owned()).or_default().busy = true;
                    return Ticket {
                        pacer: self,
                        chat: chat.to_owned(),
                    };
                }
                wait
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
    ) -> Duration {
        let l = &self.limits;
        while state
            .global
            .front()
            .is_some_and(|t| now.duration_since(*t) >= l.global_window + MARGIN)
        {
            state.global.pop_front();
        }
        let mut wait = Duration::ZERO;
        if state.global.len() >= l.global as usize
            && let Some(oldest) = state.global.front()
        {
            wait = wait.max((*oldest + l.global_window + MARGIN).saturating_duration_since(now));
        }
        if let Some(until) = state.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        let c = state.chats.entry(chat.to_owned()).or_default();
        if c.busy {
            wait = wait.max(Duration::from_millis(10));
        }
        if let Some(until) = c.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        if let Some(last) = c.last_done {
            wait = wait.max((last + l.per_chat_interval + MARGIN).saturating_duration_since(now));
        }
        if is_group {
            while c
                .recent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= l.group_window + MARGIN)
            {
                c.recent.pop_front();
            }
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
        wait
    }

    /// How long a call to `chat` would have to wait now (nothing is reserved).
    pub fn wait_for(&self, chat: &str, is_group: bool, deferrable: bool) -> Duration {
        let mut state = self.lock();
        self.wait_needed(&mut state, chat, is_group, deferrable, Instant::now())
    }

    /// Records the end of a call.
    pub fn done(&self, ticket: Ticket<'_>) {
        drop(ticket);
    }

    /// The platform said to wait `retry_after` before calling `chat` again.
    pub fn pause(&self, ticket: Ticket<'_>, retry_after: Duration) {
        let until = Instant::now() + retry_after + MARGIN;
        {
            let mut state = self.lock();
            let c = state.chats.entry(ticket.chat.clone()).or_default();
            c.paused_until = Some(c.paused_until.map_or(until, |u| u.max(until)));
        }
        drop(ticket);
    }

    /// The platform said to wait `retry_after` before calling it again at all.
    pub fn pause_all(&self, ticket: Ticket<'_>, retry_after: Duration) {
        let until = Instant::now() + retry_after + MARGIN;
        {
            let mut state = self.lock();
            state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
        }
        drop(ticket);
    }

    /// A call to `chat` ended (its ticket was dropped).
    fn finished(&self, chat: &str) {
        let now = Instant::now();
        let mut state = self.lock();
        let c = state.chats.entry(chat.to_owned()).or_default();
        c.busy = false;
        c.last_done = Some(now);
        c.recent.push_back(now);
    }

    /// The state; nothing panics while holding it, and a ticket must still be returned from a
    /// panicking call's drop, so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
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
    async fn a_call_that_panicked_leaves_the_chat_free() {
        let pacer = Pacer::new(limits());
        let ticket = pacer.acquire("1", false, false).await;
        let panicked = crate::panics::catch(move || {
            let _ticket = ticket;
            panic!("the call panicked");
        });
        assert!(panicked.is_err());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(pacer.wait_for("1", false, false), Duration::ZERO);
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

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_the_chat_only() {
        let pacer = Pacer::new(Limits {
            global: 100,
            ..limits()
        });
        let start = Instant::now();
        let t = pacer.acquire("1", false, false).await;
        pacer.pause(t, Duration::from_secs(7));
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
        pacer.pause_all(t, Duration::from_secs(7));
        let t = pacer.acquire("2", false, false).await;
        assert!(start.elapsed() >= Duration::from_secs(7));
        pacer.done(t);
    }
}
