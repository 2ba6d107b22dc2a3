//! Discord's REST rate limits as a pure decision function over instants.
//!
//! Discord limits every route per bucket (one per route family — or group of
//! families sharing a bucket — and major parameter: channel, guild, webhook
//! id + token) and every bot globally
//! (50 requests per second; interaction endpoints exempt). It answers excess
//! with 429, a JSON body whose `retry_after` is fractional seconds, and the
//! `X-RateLimit-*` headers; clients that keep hitting exhausted buckets are
//! banned ("Cloudflare bans"). The fake models each bucket as a fixed window
//! that starts at its first request (what `X-RateLimit-Reset-After` counts
//! down), the global limit as a fixed one-second window, and records every
//! request that ignored a 429 as a **violation**.
//!
//! Rules, for one request at `now` (`tol` = tolerance):
//! 1. its bucket has an open window (a 429 was answered and its
//!    `retry_after` has not passed, minus `tol`): a violation; 429 with the
//!    time remaining; the window is not extended;
//! 2. the same for the global window, for requests the global limit counts;
//! 3. a storm is pending for the request's route kind: 429 with the storm's
//!    `retry_after` (global if the storm is), opening that window;
//! 4. the global window holds `global_per_second` requests: global 429
//!    until it ends;
//! 5. the bucket's window holds `limit` requests: 429 until it ends;
//! 6. otherwise accept and count it (globally too when counted).
//!
//! A window that ends within `tol` of `now` counts as ended, so a client
//! that waits exactly `retry_after` is never refused.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::config::BucketLimit;

const SECOND: Duration = Duration::from_secs(1);

/// One request, as the limiter sees it.
#[derive(Debug, Clone)]
pub(super) struct Request<'a> {
    /// The bucket's name (a route family).
    pub bucket: &'static str,
    /// The major parameter: channel id, guild id, application id, token.
    pub major: &'a str,
    pub limit: BucketLimit,
    /// Whether the global limit counts it.
    pub global: bool,
    /// The storm key: the route kind's name.
    pub kind: &'static str,
}

/// What the `X-RateLimit-*` headers say after the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BucketState {
    pub limit: u32,
    pub remaining: u32,
    pub reset_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    Accept(BucketState),
    Reject {
        retry_after: Duration,
        global: bool,
        /// Set when the request broke an open window: the window's end.
        violated_window: Option<Instant>,
        state: BucketState,
    },
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    started: Option<Instant>,
    used: u32,
}

impl Window {
    /// Starts a new window when the current one is over (within `tol`).
    fn roll(&mut self, per: Duration, now: Instant, tol: Duration) {
        if let Some(s) = self.started
            && s + per <= now + tol
        {
            *self = Self::default();
        }
    }

    fn ends(&self, per: Duration, now: Instant) -> Instant {
        self.started.unwrap_or(now) + per
    }
}

#[derive(Debug, Default)]
struct Bucket {
    window: Window,
    blocked_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Storm {
    count: u32,
    retry_after: Duration,
    global: bool,
}

#[derive(Debug)]
pub(super) struct RateLimiter {
    global_per_second: u32,
    tolerance: Duration,
    global: Window,
    global_blocked_until: Option<Instant>,
    buckets: HashMap<(&'static str, String), Bucket>,
    storms: HashMap<&'static str, Storm>,
}

impl RateLimiter {
    pub fn new(global_per_second: u32, tolerance: Duration) -> Self {
        Self {
            global_per_second,
            tolerance,
            global: Window::default(),
            global_blocked_until: None,
            buckets: HashMap::new(),
            storms: HashMap::new(),
        }
    }

    /// The next `count` requests of route kind `kind` are answered 429 with
    /// `retry_after` (a global 429 when `global`).
    pub fn storm(&mut self, kind: &'static str, count: u32, retry_after: Duration, global: bool) {
        if count == 0 {
            self.storms.remove(kind);
        } else {
            self.storms.insert(
                kind,
                Storm {
                    count,
                    retry_after,
                    global,
                },
            );
        }
    }

    pub fn check(&mut self, req: &Request<'_>, now: Instant) -> Decision {
        let tol = self.tolerance;
        let per = req.limit.per;
        let bucket = self
            .buckets
            .entry((req.bucket, req.major.to_string()))
            .or_default();
        bucket.window.roll(per, now, tol);
        let state_now = |b: &Bucket, remaining: u32| BucketState {
            limit: req.limit.limit,
            remaining,
            reset_after: b.window.ends(per, now).saturating_duration_since(now),
        };
        let left = |b: &Bucket| req.limit.limit.saturating_sub(b.window.used);

        if let Some(until) = bucket.blocked_until
            && now + tol < until
        {
            return Decision::Reject {
                retry_after: until - now,
                global: false,
                violated_window: Some(until),
                state: state_now(bucket, left(bucket)),
            };
        }
        if req.global
            && let Some(until) = self.global_blocked_until
            && now + tol < until
        {
            return Decision::Reject {
                retry_after: until - now,
                global: true,
                violated_window: Some(until),
                state: state_now(bucket, left(bucket)),
            };
        }

        if let Some(storm) = self.storms.get_mut(req.kind) {
            let s = *storm;
            storm.count -= 1;
            if storm.count == 0 {
                self.storms.remove(req.kind);
            }
            let until = now + s.retry_after;
            if s.global {
                self.global_blocked_until = Some(until);
            } else {
                bucket.blocked_until = Some(until);
            }
            return Decision::Reject {
                retry_after: s.retry_after,
                global: s.global,
                violated_window: None,
                state: state_now(bucket, left(bucket)),
            };
        }

        if req.global {
            self.global.roll(SECOND, now, tol);
            if self.global.used >= self.global_per_second {
                let until = self.global.ends(SECOND, now);
                self.global_blocked_until = Some(until);
                return Decision::Reject {
                    retry_after: until.saturating_duration_since(now),
                    global: true,
                    violated_window: None,
                    state: state_now(bucket, left(bucket)),
                };
            }
        }

        if bucket.window.used >= req.limit.limit {
            let until = bucket.window.ends(per, now);
            bucket.blocked_until = Some(until);
            return Decision::Reject {
                retry_after: until.saturating_duration_since(now),
                global: false,
                violated_window: None,
                state: state_now(bucket, 0),
            };
        }

        if req.global {
            self.global.started.get_or_insert(now);
            self.global.used += 1;
        }
        bucket.window.started.get_or_insert(now);
        bucket.window.used += 1;
        Decision::Accept(state_now(bucket, left(bucket)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn req<'a>(major: &'a str, limit: u32, per: Duration) -> Request<'a> {
        Request {
            bucket: "messages",
            major,
            limit: BucketLimit::new(limit, per),
            global: true,
            kind: "create_message",
        }
    }

    fn accepted(d: Decision) -> BucketState {
        match d {
            Decision::Accept(s) => s,
            other => panic!("expected Accept, got {other:?}"),
        }
    }

    fn rejected(d: Decision) -> (Duration, bool, Option<Instant>) {
        match d {
            Decision::Reject {
                retry_after,
                global,
                violated_window,
                ..
            } => (retry_after, global, violated_window),
            other => panic!("expected Reject, got {other:?}"),
        }
    }

    #[test]
    fn five_per_five_seconds_per_channel_with_headers() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(50, ms(0));
        let r = req("c1", 5, Duration::from_secs(5));
        for i in 0..5u32 {
            let s = accepted(l.check(&r, t0 + ms(100 * u64::from(i))));
            assert_eq!(s.limit, 5);
            assert_eq!(s.remaining, 4 - i);
            assert_eq!(s.reset_after, ms(5000 - 100 * u64::from(i)));
        }
        let (retry, global, violated) = rejected(l.check(&r, t0 + ms(1258)));
        assert_eq!((retry, global, violated), (ms(3742), false, None));
        // Another channel has its own bucket.
        accepted(l.check(&req("c2", 5, Duration::from_secs(5)), t0 + ms(1300)));
        // Asking again inside the window is a violation; the window stays.
        let (retry, _, violated) = rejected(l.check(&r, t0 + ms(2000)));
        assert_eq!(retry, ms(3000));
        assert_eq!(violated, Some(t0 + ms(5000)));
        // At the window's end everything is fresh.
        assert_eq!(accepted(l.check(&r, t0 + ms(5000))).remaining, 4);
    }

    #[test]
    fn the_global_limit_counts_across_buckets_and_spares_exempt_routes() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(3, ms(0));
        for (i, ch) in ["a", "b", "c"].iter().enumerate() {
            accepted(l.check(&req(ch, 5, Duration::from_secs(5)), t0 + ms(i as u64)));
        }
        let (retry, global, _) =
            rejected(l.check(&req("d", 5, Duration::from_secs(5)), t0 + ms(400)));
        assert_eq!((retry, global), (ms(600), true));
        let mut exempt = req("token", 5, Duration::from_secs(2));
        exempt.global = false;
        accepted(l.check(&exempt, t0 + ms(500)));
        // Inside the global window: a violation.
        let (_, global, violated) =
            rejected(l.check(&req("e", 5, Duration::from_secs(5)), t0 + ms(700)));
        assert!(global);
        assert_eq!(violated, Some(t0 + ms(1000)));
        accepted(l.check(&req("e", 5, Duration::from_secs(5)), t0 + ms(1000)));
    }

    #[test]
    fn reactions_one_per_quarter_second() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(50, ms(0));
        let r = req("c", 1, ms(250));
        assert_eq!(accepted(l.check(&r, t0)).remaining, 0);
        assert_eq!(rejected(l.check(&r, t0 + ms(100))).0, ms(150));
        accepted(l.check(&r, t0 + ms(250)));
    }

    #[test]
    fn tolerance_forgives_a_slightly_early_retry() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(50, ms(30));
        let r = req("c", 1, ms(1000));
        accepted(l.check(&r, t0));
        rejected(l.check(&r, t0 + ms(10)));
        accepted(l.check(&r, t0 + ms(980)));
    }

    #[test]
    fn storms_answer_429_whatever_the_pacing_and_their_windows_count() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(50, ms(0));
        let r = req("c", 5, Duration::from_secs(5));
        l.storm("create_message", 2, ms(742), false);
        assert_eq!(rejected(l.check(&r, t0)), (ms(742), false, None));
        let (_, _, violated) = rejected(l.check(&r, t0 + ms(100)));
        assert_eq!(violated, Some(t0 + ms(742)), "ignoring a storm's window");
        assert_eq!(rejected(l.check(&r, t0 + ms(742))), (ms(742), false, None));
        accepted(l.check(&r, t0 + ms(1484)));
        // A global storm blocks every counted route.
        l.storm("create_message", 1, ms(1500), true);
        assert_eq!(rejected(l.check(&r, t0 + ms(2000))), (ms(1500), true, None));
        let other = Request {
            kind: "typing",
            ..req("x", 5, Duration::from_secs(5))
        };
        let (_, global, violated) = rejected(l.check(&other, t0 + ms(2500)));
        assert!(global);
        assert_eq!(violated, Some(t0 + ms(3500)));
    }
}
