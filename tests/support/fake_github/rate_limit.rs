//! GitHub's rate limits as pure decision functions over instants.
//!
//! **Secondary limits** (enforced): GitHub documents that content-creating
//! requests are limited to about 80 per minute and 500 per hour, and answers
//! excess with 403 (or 429) plus `retry-after`; continuing to send while
//! blocked "may result in the banning of your integration". The fake models a
//! rolling minute and a rolling hour per installation:
//! 1. inside an open window (a 403 was answered and its `retry-after` has not
//!    passed): a **violation**; answer 403 with the time remaining, the window
//!    is not extended;
//! 2. `per_minute` accepted requests in the last 60 s, or `per_hour` in the
//!    last 3600 s: answer 403 with `retry-after` = until the oldest of them
//!    leaves its window (whole seconds, rounded up, at least 1), and open that
//!    window;
//! 3. otherwise accept and remember.
//!
//! **Primary limit** (only counted): `x-ratelimit-*` headers report a fixed
//! hourly window per credential; nothing is refused on it, the bot's traffic
//! in tests is far below 5000 an hour.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Accept,
    Reject {
        retry_after: u32,
        /// Set when the request broke an open window: the window's end.
        violated_window: Option<Instant>,
    },
}

/// Whole seconds, rounded up, at least one: what `retry-after` carries.
pub(super) fn whole_seconds(d: Duration) -> u32 {
    let secs = d.as_nanos().div_ceil(1_000_000_000);
    u32::try_from(secs).unwrap_or(u32::MAX).max(1)
}

#[derive(Debug)]
pub(super) struct SecondaryLimiter {
    per_minute: u32,
    per_hour: u32,
    /// Accepted requests of the last hour, oldest first.
    accepted: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl SecondaryLimiter {
    pub fn new(per_minute: u32, per_hour: u32) -> Self {
        Self {
            per_minute,
            per_hour,
            accepted: VecDeque::new(),
            blocked_until: None,
        }
    }

    pub fn check(&mut self, now: Instant) -> Decision {
        if let Some(until) = self.blocked_until
            && now < until
        {
            return Decision::Reject {
                retry_after: whole_seconds(until - now),
                violated_window: Some(until),
            };
        }
        while self
            .accepted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= HOUR)
        {
            self.accepted.pop_front();
        }
        let in_last_minute = self
            .accepted
            .iter()
            .rev()
            .take_while(|t| now.saturating_duration_since(**t) < MINUTE)
            .count();
        let wait = if in_last_minute >= self.per_minute as usize {
            let oldest = self.accepted[self.accepted.len() - in_last_minute];
            Some((oldest + MINUTE).saturating_duration_since(now))
        } else if self.accepted.len() >= self.per_hour as usize {
            let oldest = self.accepted[0];
            Some((oldest + HOUR).saturating_duration_since(now))
        } else {
            None
        };
        match wait {
            Some(wait) => {
                let retry_after = whole_seconds(wait);
                self.blocked_until = Some(now + Duration::from_secs(retry_after.into()));
                Decision::Reject {
                    retry_after,
                    violated_window: None,
                }
            }
            None => {
                self.accepted.push_back(now);
                Decision::Accept
            }
        }
    }
}

/// The primary limit's fixed hourly window for one credential.
#[derive(Debug, Clone, Copy)]
pub(super) struct PrimaryWindow {
    pub started: Instant,
    pub used: u32,
}

impl PrimaryWindow {
    /// Counts a request; returns `(used, reset_in)`.
    pub fn count(window: &mut Option<Self>, now: Instant) -> (u32, Duration) {
        let w = match window {
            Some(w) if now.saturating_duration_since(w.started) < HOUR => w,
            _ => window.insert(Self {
                started: now,
                used: 0,
            }),
        };
        w.used = w.used.saturating_add(1);
        (w.used, (w.started + HOUR).saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn rejected(retry_after: u32) -> Decision {
        Decision::Reject {
            retry_after,
            violated_window: None,
        }
    }

    #[test]
    fn eighty_per_rolling_minute_then_a_window() {
        let t0 = Instant::now();
        let mut l = SecondaryLimiter::new(80, 500);
        for i in 0..80 {
            assert_eq!(
                l.check(t0 + Duration::from_millis(i * 100)),
                Decision::Accept
            );
        }
        // The 81st at 10 s: the first leaves the minute at 60 s.
        assert_eq!(l.check(t0 + s(10)), rejected(50));
        // Inside the window: a violation, the window is not extended.
        let end = t0 + s(60);
        assert_eq!(
            l.check(t0 + s(30)),
            Decision::Reject {
                retry_after: 30,
                violated_window: Some(end)
            }
        );
        assert_eq!(l.check(end), Decision::Accept);
    }

    #[test]
    fn five_hundred_per_rolling_hour() {
        let t0 = Instant::now();
        let mut l = SecondaryLimiter::new(80, 500);
        // 50 a minute stays under the minute limit; the hour fills at 500.
        for i in 0..500u64 {
            assert_eq!(
                l.check(t0 + Duration::from_millis(i * 1200)),
                Decision::Accept
            );
        }
        let at = t0 + s(600);
        assert_eq!(l.check(at), rejected(3000));
        assert_eq!(
            l.check(t0 + HOUR),
            Decision::Accept,
            "the first one left the hour"
        );
    }

    #[test]
    fn primary_window_resets_after_an_hour() {
        let t0 = Instant::now();
        let mut w = None;
        assert_eq!(PrimaryWindow::count(&mut w, t0), (1, HOUR));
        assert_eq!(PrimaryWindow::count(&mut w, t0 + s(10)), (2, HOUR - s(10)));
        assert_eq!(PrimaryWindow::count(&mut w, t0 + HOUR), (1, HOUR));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
