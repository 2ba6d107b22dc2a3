//! Telegram's flood limits as a pure decision function over instants.
//!
//! Telegram publishes three limits for bots: about one message per second to
//! one chat, 20 per minute to one group, 30 per second overall. It answers
//! excess calls with 429 and `retry_after`, and a client that calls again
//! before `retry_after` has passed is punished with longer waits. This module
//! models exactly that and nothing more, so the server can ask "may this call
//! to this chat happen now?" and tests can see every call that ignored a 429.
//!
//! Rules, for one counted call to `chat` at `now` (`tol` = tolerance):
//! 1. If `chat` has an open window (a 429 was answered and its `retry_after`
//!    has not passed, minus `tol`): a **violation**; answer 429 with the time
//!    remaining. The window is not extended.
//! 2. If a storm is pending for `chat`: answer 429 with the storm's
//!    `retry_after` and open that window, whatever the pacing.
//! 3. Less than `per_chat_min_interval - tol` since the last accepted call to
//!    `chat`: 429.
//! 4. Groups (negative ids): `per_group_per_minute` accepted calls already in
//!    the last 60 s (minus `tol`): 429.
//! 5. `global_per_second` accepted calls already in the last second (minus
//!    `tol`), across all chats: 429.
//! 6. Otherwise accept and remember the call.
//!
//! Every 429 from rules 2–5 opens a window `[now, now + retry_after)` for the
//! chat, `retry_after` being whole seconds rounded up, at least 1, like
//! Telegram's. Rejected calls are not remembered as accepted.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub per_chat_min_interval: Duration,
    pub per_group_per_minute: u32,
    pub global_per_second: u32,
    pub tolerance: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Accept,
    Reject {
        retry_after: u32,
        /// Set when the call broke an open window: the window's end.
        violated_window: Option<Instant>,
    },
}

#[derive(Debug, Default)]
struct ChatHistory {
    last_accepted: Option<Instant>,
    /// Accepted calls of the last minute (groups only).
    recent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
    /// Pending storm answers: (count, retry_after seconds).
    storm: Option<(u32, u32)>,
}

#[derive(Debug)]
pub(super) struct RateLimiter {
    limits: Limits,
    chats: HashMap<i64, ChatHistory>,
    global: VecDeque<Instant>,
}

const MINUTE: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

/// Whole seconds, rounded up, at least one: what `retry_after` carries.
fn whole_seconds(d: Duration) -> u32 {
    let secs = d.as_nanos().div_ceil(1_000_000_000);
    u32::try_from(secs).unwrap_or(u32::MAX).max(1)
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            chats: HashMap::new(),
            global: VecDeque::new(),
        }
    }

    /// The next `count` counted calls to `chat_id` are answered 429 with
    /// `retry_after_secs`.
    pub fn storm(&mut self, chat_id: i64, count: u32, retry_after_secs: u32) {
        self.chats.entry(chat_id).or_default().storm =
            (count > 0).then_some((count, retry_after_secs.max(1)));
    }

    /// Rule 1: a call inside an open window is a violation.
    fn breaks_window(&mut self, chat_id: i64, now: Instant) -> Option<Decision> {
        let until = self.chats.get(&chat_id)?.blocked_until?;
        (now + self.limits.tolerance < until).then(|| Decision::Reject {
            retry_after: whole_seconds(until - now),
            violated_window: Some(until),
        })
    }

    /// A call refused with `retry_after_secs` whatever the pacing (a random fault), opening
    /// that window — unless it breaks an open one, which is a violation as in [`Self::check`].
    pub fn refuse(&mut self, chat_id: i64, now: Instant, retry_after_secs: u32) -> Decision {
        if let Some(violation) = self.breaks_window(chat_id, now) {
            return violation;
        }
        let retry_after = retry_after_secs.max(1);
        self.chats.entry(chat_id).or_default().blocked_until =
            Some(now + Duration::from_secs(retry_after.into()));
        Decision::Reject {
            retry_after,
            violated_window: None,
        }
    }

    pub fn check(&mut self, chat_id: i64, now: Instant) -> Decision {
        if let Some(violation) = self.breaks_window(chat_id, now) {
            return violation;
        }
        let tol = self.limits.tolerance;
        let chat = self.chats.entry(chat_id).or_default();

        let reject = |chat: &mut ChatHistory, wait: Duration| {
            let retry_after = whole_seconds(wait);
            chat.blocked_until = Some(now + Duration::from_secs(retry_after.into()));
            Decision::Reject {
                retry_after,
                violated_window: None,
            }
        };

        if let Some((count, secs)) = chat.storm {
            chat.storm = (count > 1).then_some((count - 1, secs));
            return reject(chat, Duration::from_secs(secs.into()));
        }

        let min_gap = self.limits.per_chat_min_interval.saturating_sub(tol);
        if let Some(last) = chat.last_accepted
            && now.saturating_duration_since(last) < min_gap
        {
            let wait = (last + self.limits.per_chat_min_interval).saturating_duration_since(now);
            return reject(chat, wait);
        }

        let is_group = chat_id < 0;
        if is_group {
            prune(&mut chat.recent, now, MINUTE.saturating_sub(tol));
            if chat.recent.len() >= self.limits.per_group_per_minute as usize {
                let oldest = chat.recent[0];
                return reject(chat, (oldest + MINUTE).saturating_duration_since(now));
            }
        }

        prune(&mut self.global, now, SECOND.saturating_sub(tol));
        if self.global.len() >= self.limits.global_per_second as usize {
            let oldest = self.global[0];
            return reject(chat, (oldest + SECOND).saturating_duration_since(now));
        }

        chat.last_accepted = Some(now);
        if is_group {
            chat.recent.push_back(now);
        }
        self.global.push_back(now);
        Decision::Accept
    }
}

/// Drops entries that are `span` or more in the past.
fn prune(calls: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while calls
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= span)
    {
        calls.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            per_chat_min_interval: SECOND,
            per_group_per_minute: 20,
            global_per_second: 30,
            tolerance: Duration::from_millis(50),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn rejected(retry_after: u32) -> Decision {
        Decision::Reject {
            retry_after,
            violated_window: None,
        }
    }

    #[test]
    fn per_chat_pacing_with_tolerance() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(limits());
        assert_eq!(l.check(1, t0), Decision::Accept);
        assert_eq!(
            l.check(2, t0),
            Decision::Accept,
            "other chats are independent"
        );
        assert_eq!(
            l.check(1, t0 + ms(960)),
            Decision::Accept,
            "within tolerance"
        );
        assert_eq!(l.check(1, t0 + ms(1500)), rejected(1));
    }

    #[test]
    fn a_call_inside_the_window_is_a_violation_and_does_not_extend_it() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(limits());
        assert_eq!(l.check(1, t0), Decision::Accept);
        assert_eq!(l.check(1, t0 + ms(100)), rejected(1));
        let window_end = t0 + ms(1100);
        assert_eq!(
            l.check(1, t0 + ms(500)),
            Decision::Reject {
                retry_after: 1,
                violated_window: Some(window_end)
            }
        );
        assert_eq!(l.check(1, window_end), Decision::Accept);
    }

    #[test]
    fn groups_get_twenty_per_rolling_minute() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(limits());
        for i in 0..20 {
            assert_eq!(
                l.check(-5, t0 + SECOND * 2 * i),
                Decision::Accept,
                "call {i}"
            );
        }
        // The 21st, 40 s after the first: wait until the first is a minute old.
        assert_eq!(l.check(-5, t0 + SECOND * 40), rejected(20));
        assert_eq!(l.check(-5, t0 + SECOND * 60), Decision::Accept);
        // Private chats have no per-minute cap.
        for i in 0..25 {
            assert_eq!(l.check(7, t0 + SECOND * 100 + SECOND * i), Decision::Accept);
        }
    }

    #[test]
    fn global_thirty_per_second() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(limits());
        for chat in 0..30 {
            assert_eq!(l.check(chat + 1, t0 + ms(chat as u64)), Decision::Accept);
        }
        assert_eq!(l.check(99, t0 + ms(100)), rejected(1));
        assert_eq!(l.check(100, t0 + ms(1000)), Decision::Accept);
    }

    #[test]
    fn storm_answers_429_regardless_of_pacing() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(limits());
        l.storm(1, 2, 3);
        assert_eq!(l.check(1, t0), rejected(3));
        assert_eq!(l.check(1, t0 + SECOND * 3), rejected(3));
        assert_eq!(l.check(1, t0 + SECOND * 6), Decision::Accept);
        // Ignoring a storm's window is a violation too.
        l.storm(1, 1, 5);
        assert_eq!(l.check(1, t0 + SECOND * 10), rejected(5));
        assert!(matches!(
            l.check(1, t0 + SECOND * 11),
            Decision::Reject {
                retry_after: 4,
                violated_window: Some(_)
            }
        ));
    }

    #[test]
    fn a_refusal_opens_its_window_and_one_inside_a_window_is_a_violation() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(limits());
        assert_eq!(l.refuse(1, t0, 2), rejected(2));
        assert!(matches!(
            l.refuse(1, t0 + SECOND, 1),
            Decision::Reject {
                retry_after: 1,
                violated_window: Some(_)
            }
        ));
        assert!(matches!(
            l.check(1, t0 + ms(1500)),
            Decision::Reject {
                violated_window: Some(_),
                ..
            }
        ));
        assert_eq!(l.check(1, t0 + SECOND * 2), Decision::Accept);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(ms(1)), 1);
        assert_eq!(whole_seconds(ms(1000)), 1);
        assert_eq!(whole_seconds(ms(1001)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
