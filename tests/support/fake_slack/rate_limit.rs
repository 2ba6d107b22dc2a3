//! Slack's Web API rate limits as pure decision functions over instants.
//!
//! Slack limits each Web API method per workspace per app in tiers (Tier 1
//! "1+ per minute", Tier 2 "20+", Tier 3 "50+", Tier 4 "100+") and gives
//! `chat.postMessage` a special limit: "1 message per second per channel,
//! short bursts >1 allowed", plus "a workspace-wide limit". Excess calls get
//! HTTP 429 with `Retry-After: <seconds>` and `{"ok":false,"error":"ratelimited"}`.
//! Slack does not publish what happens to a client that keeps calling inside
//! that window; the fake answers 429 again and records a **violation**.
//!
//! The model, for one counted call at `now` (`tol` = tolerance):
//! 1. Every key the call counts against is found: the method's rolling
//!    minute, or for `chat.postMessage` the channel's token bucket and the
//!    workspace's rolling minute.
//! 2. If any key has an open window (a 429 was answered and its
//!    `Retry-After` has not passed, minus `tol`): a violation; answer 429 with
//!    the time remaining. The window is not extended.
//! 3. If any key is exhausted — the rolling minute already holds its limit,
//!    or the bucket has less than one token — answer 429 with `Retry-After`
//!    = the longest wait among them (whole seconds, rounded up, at least 1)
//!    and open that window on the exhausted keys. Nothing is consumed.
//! 4. Otherwise every key accepts and remembers the call.
//!
//! Rolling minute rather than fixed minute: Slack says its limits allow
//! bursts and are evaluated "per minute" without saying where minutes start,
//! and a rolling window is the stricter reading.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Accept,
    Reject {
        retry_after: u32,
        /// Set when the call broke an open window: the window's end.
        violated_window: Option<Instant>,
    },
}

/// Whole seconds, rounded up, at least one: what `Retry-After` carries.
pub(super) fn whole_seconds(d: Duration) -> u32 {
    let secs = d.as_nanos().div_ceil(1_000_000_000);
    u32::try_from(secs).unwrap_or(u32::MAX).max(1)
}

/// Accepted calls of one key in the last rolling minute.
#[derive(Debug, Default)]
struct Window {
    limit: u32,
    accepted: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Window {
    fn new(limit: u32) -> Self {
        Self {
            limit,
            accepted: VecDeque::new(),
            blocked_until: None,
        }
    }

    /// How long a call at `now` must wait; `None` when it may go now.
    fn wait(&mut self, now: Instant) -> Option<Duration> {
        if self.limit == u32::MAX {
            return None;
        }
        while self
            .accepted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= MINUTE)
        {
            self.accepted.pop_front();
        }
        (self.accepted.len() >= self.limit as usize).then(|| {
            let oldest = self.accepted[self.accepted.len() - self.limit as usize];
            (oldest + MINUTE).saturating_duration_since(now)
        })
    }

    fn accept(&mut self, now: Instant) {
        if self.limit != u32::MAX {
            self.accepted.push_back(now);
        }
    }
}

/// A token bucket: `capacity` tokens, one more every `refill`.
#[derive(Debug)]
struct Bucket {
    capacity: u32,
    refill: Duration,
    tokens: f64,
    last: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl Bucket {
    fn new(capacity: u32, refill: Duration) -> Self {
        Self {
            capacity,
            refill,
            tokens: f64::from(capacity),
            last: None,
            blocked_until: None,
        }
    }

    fn unlimited(&self) -> bool {
        self.capacity == u32::MAX || self.refill.is_zero()
    }

    fn wait(&mut self, now: Instant) -> Option<Duration> {
        if self.unlimited() {
            return None;
        }
        if let Some(last) = self.last {
            let earned =
                now.saturating_duration_since(last).as_secs_f64() / self.refill.as_secs_f64();
            self.tokens = (self.tokens + earned).min(f64::from(self.capacity));
        }
        self.last = Some(now);
        (self.tokens < 1.0).then(|| self.refill.mul_f64(1.0 - self.tokens))
    }

    fn accept(&mut self) {
        if !self.unlimited() {
            self.tokens -= 1.0;
        }
    }
}

/// What a call counts against.
pub(super) enum Keys<'a> {
    /// A tiered method: its own rolling minute with this limit.
    Method { name: &'a str, per_minute: u32 },
    /// `chat.postMessage` to `channel`.
    Post { channel: &'a str },
}

#[derive(Debug, Default)]
pub(super) struct Limiter {
    tolerance: Duration,
    post_burst: u32,
    post_refill: Duration,
    methods: HashMap<String, Window>,
    channels: HashMap<String, Bucket>,
    workspace_posts: Window,
}

impl Limiter {
    pub fn new(
        tolerance: Duration,
        post_burst: u32,
        post_refill: Duration,
        post_workspace_per_minute: u32,
    ) -> Self {
        Self {
            tolerance,
            post_burst,
            post_refill,
            methods: HashMap::new(),
            channels: HashMap::new(),
            workspace_posts: Window::new(post_workspace_per_minute),
        }
    }

    pub fn check(&mut self, keys: Keys<'_>, now: Instant) -> Decision {
        let tol = self.tolerance;
        let (burst, refill) = (self.post_burst, self.post_refill);
        // (blocked_until, wait, accept) per key, borrowed one at a time.
        let mut slots: Vec<Slot<'_>> = match keys {
            Keys::Method { name, per_minute } => {
                let w = self
                    .methods
                    .entry(name.to_string())
                    .or_insert_with(|| Window::new(per_minute));
                w.limit = per_minute;
                vec![Slot::Window(w)]
            }
            Keys::Post { channel } => {
                let b = self
                    .channels
                    .entry(channel.to_string())
                    .or_insert_with(|| Bucket::new(burst, refill));
                vec![Slot::Bucket(b), Slot::Window(&mut self.workspace_posts)]
            }
        };
        let open = slots
            .iter_mut()
            .filter_map(|s| *s.blocked_until())
            .filter(|until| now + tol < *until)
            .max();
        if let Some(until) = open {
            return Decision::Reject {
                retry_after: whole_seconds(until - now),
                violated_window: Some(until),
            };
        }
        let waits: Vec<Option<Duration>> = slots.iter_mut().map(|s| s.wait(now)).collect();
        if let Some(longest) = waits.iter().flatten().max() {
            let retry_after = whole_seconds(*longest);
            let until = now + Duration::from_secs(retry_after.into());
            for (slot, wait) in slots.iter_mut().zip(&waits) {
                if wait.is_some() {
                    *slot.blocked_until() = Some(until);
                }
            }
            return Decision::Reject {
                retry_after,
                violated_window: None,
            };
        }
        for slot in &mut slots {
            slot.accept(now);
        }
        Decision::Accept
    }
}

enum Slot<'a> {
    Window(&'a mut Window),
    Bucket(&'a mut Bucket),
}

impl Slot<'_> {
    fn blocked_until(&mut self) -> &mut Option<Instant> {
        match self {
            Slot::Window(w) => &mut w.blocked_until,
            Slot::Bucket(b) => &mut b.blocked_until,
        }
    }

    fn wait(&mut self, now: Instant) -> Option<Duration> {
        match self {
            Slot::Window(w) => w.wait(now),
            Slot::Bucket(b) => b.wait(now),
        }
    }

    fn accept(&mut self, now: Instant) {
        match self {
            Slot::Window(w) => w.accept(now),
            Slot::Bucket(b) => b.accept(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
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

    fn limiter() -> Limiter {
        Limiter::new(ms(50), 3, s(1), 300)
    }

    fn method(per_minute: u32) -> Keys<'static> {
        Keys::Method {
            name: "chat.update",
            per_minute,
        }
    }

    #[test]
    fn a_tier_is_a_rolling_minute_per_method() {
        let t0 = Instant::now();
        let mut l = limiter();
        for i in 0..3 {
            assert_eq!(l.check(method(3), t0 + s(i)), Decision::Accept);
        }
        // The 4th at 10 s: the first leaves the minute at 60 s.
        assert_eq!(l.check(method(3), t0 + s(10)), rejected(50));
        // Another method has its own minute.
        let other = Keys::Method {
            name: "reactions.add",
            per_minute: 3,
        };
        assert_eq!(l.check(other, t0 + s(10)), Decision::Accept);
        // Inside the window: a violation; the window is not extended.
        assert_eq!(
            l.check(method(3), t0 + s(30)),
            Decision::Reject {
                retry_after: 30,
                violated_window: Some(t0 + s(60)),
            }
        );
        assert_eq!(l.check(method(3), t0 + s(60)), Decision::Accept);
        // The 2nd and 3rd (at 1 s, 2 s) still count until 61 s, 62 s.
        assert_eq!(l.check(method(3), t0 + s(60) + ms(500)), rejected(1));
    }

    #[test]
    fn the_window_end_has_tolerance_for_jitter() {
        let t0 = Instant::now();
        let mut l = limiter();
        assert_eq!(l.check(method(1), t0), Decision::Accept);
        assert_eq!(l.check(method(1), t0 + ms(100)), rejected(60));
        // 30 ms before the window's end is within the 50 ms tolerance: not a
        // violation, and the first call has left the minute by then.
        let early = t0 + ms(100) + s(60) - ms(30);
        assert_eq!(l.check(method(1), early), Decision::Accept);
    }

    #[test]
    fn post_message_is_a_burst_then_one_per_second_per_channel() {
        let t0 = Instant::now();
        let mut l = limiter();
        let post = |c| Keys::Post { channel: c };
        for _ in 0..3 {
            assert_eq!(l.check(post("C1"), t0), Decision::Accept);
        }
        assert_eq!(l.check(post("C1"), t0 + ms(10)), rejected(1));
        // Another channel has its own bucket.
        assert_eq!(l.check(post("C2"), t0 + ms(10)), Decision::Accept);
        // Inside the 1 s window: a violation.
        assert!(matches!(
            l.check(post("C1"), t0 + ms(500)),
            Decision::Reject {
                violated_window: Some(_),
                ..
            }
        ));
        // After the window one token has come back, not more.
        assert_eq!(l.check(post("C1"), t0 + ms(1010)), Decision::Accept);
        assert_eq!(l.check(post("C1"), t0 + ms(1100)), rejected(1));
        // Steady one per second is fine.
        for i in 3..10 {
            assert_eq!(l.check(post("C1"), t0 + s(i)), Decision::Accept);
        }
    }

    #[test]
    fn post_message_has_a_workspace_cap_across_channels() {
        let t0 = Instant::now();
        let mut l = Limiter::new(ms(50), 3, s(1), 4);
        for c in ["C1", "C2", "C3", "C4"] {
            assert_eq!(l.check(Keys::Post { channel: c }, t0), Decision::Accept);
        }
        assert_eq!(
            l.check(Keys::Post { channel: "C5" }, t0 + s(1)),
            rejected(59)
        );
        // The rejection consumed nothing from C5's bucket: three still fit
        // once the workspace minute has room.
        for i in 0..3 {
            assert_eq!(
                l.check(Keys::Post { channel: "C5" }, t0 + s(60) + ms(i)),
                Decision::Accept
            );
        }
    }

    #[test]
    fn unlimited_keys_never_refuse() {
        let t0 = Instant::now();
        let mut l = Limiter::new(ms(50), u32::MAX, Duration::ZERO, u32::MAX);
        for i in 0..1000 {
            assert_eq!(
                l.check(Keys::Post { channel: "C1" }, t0 + ms(i)),
                Decision::Accept
            );
            assert_eq!(l.check(method(u32::MAX), t0 + ms(i)), Decision::Accept);
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(ms(1)), 1);
        assert_eq!(whole_seconds(ms(1001)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
