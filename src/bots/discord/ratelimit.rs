//! The REST client's rate-limit book, kept the way Discord documents its limits.
//!
//! Discord limits each request by a **bucket** and by the **global** limit. A bucket is not a
//! route: several routes (or one path under two methods) may share one, and Discord names it in
//! `X-RateLimit-Bucket`, an opaque hash, "to group up these shared limits as you discover them".
//! Within a bucket each top-level resource — the route's major parameter: a channel, a guild, a
//! webhook and its token — has its own count. So the book keys a request by its route (method
//! and path template) and major parameter, maps the route to the bucket hash once an answer has
//! named it, and keeps per (bucket, major) what the last answer said was `remaining` and when
//! the window resets (`X-RateLimit-Reset-After`). Two routes of one bucket thus draw from one
//! count: a channel's edits wait when its posts used the window up, and the other way round.
//!
//! Every request takes its slot before it is sent (one less remaining), so requests in flight
//! together cannot overdraw a bucket; an answer's `remaining` is reduced by the requests still
//! in flight on that bucket (Discord may not have counted them yet). Globally counted requests
//! (all but interaction routes) are kept under 50 in any second. A 429 closes its bucket —
//! or, when `global`, every globally counted route — for its `retry_after`.
//!
//! A route's bucket is known only after its first answer, so a route's very first request can
//! still meet a bucket its sibling emptied: one 429 per route and process at most, as Discord
//! expects of a client discovering its buckets. The book only ever delays calls: it can make
//! the bot slower than Discord allows, never faster.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// Added to every wait, against clock granularity on either side.
pub const MARGIN: Duration = Duration::from_millis(50);
/// Discord's global limit: requests a second per bot (interaction routes exempt).
const GLOBAL_PER_SECOND: usize = 50;
const SECOND: Duration = Duration::from_secs(1);

/// A route as rate limits see it: method and path template, e.g.
/// `"PATCH /channels/{channel}/messages/{message}"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route(pub &'static str);

/// What limits one request: its route, major parameter, and whether the global limit counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    pub route: Route,
    pub major: String,
    pub global: bool,
}

/// The rate-limit headers of an answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headers {
    /// `X-RateLimit-Bucket`.
    pub bucket: Option<String>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset-After`.
    pub reset_after: Option<Duration>,
}

/// A bucket: the hash Discord named, or the route alone until it has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum BucketId {
    Named(String),
    Unnamed(Route),
}

/// The count of one (bucket, major parameter).
#[derive(Debug, Default)]
struct Count {
    /// Requests left in the window, and when it resets; `None` when unknown or reset.
    window: Option<(u32, Instant)>,
    /// Requests sent and not yet answered.
    in_flight: u32,
}

/// A request's slot, returned with its answer.
#[derive(Debug)]
pub struct Slot {
    key: (BucketId, String),
}

#[derive(Debug, Default)]
pub struct Book {
    /// The bucket each route has been seen to belong to.
    buckets: HashMap<Route, String>,
    counts: HashMap<(BucketId, String), Count>,
    /// No globally counted request before this instant (a global 429).
    global_until: Option<Instant>,
    /// When the globally counted requests of the last second were sent.
    global_sent: VecDeque<Instant>,
}

impl Book {
    fn key(&self, limited: &Limited) -> (BucketId, String) {
        let id = match self.buckets.get(&limited.route) {
            Some(hash) => BucketId::Named(hash.clone()),
            None => BucketId::Unnamed(limited.route),
        };
        (id, limited.major.clone())
    }

    /// Takes a slot for a request about to be sent, or says how long it must wait first.
    pub fn acquire(&mut self, limited: &Limited, now: Instant) -> Result<Slot, Duration> {
        if limited.global {
            if let Some(until) = self.global_until.filter(|u| *u > now) {
                return Err(until - now);
            }
            while self
                .global_sent
                .front()
                .is_some_and(|t| *t + SECOND + MARGIN <= now)
            {
                self.global_sent.pop_front();
            }
            if self.global_sent.len() >= GLOBAL_PER_SECOND
                && let Some(oldest) = self.global_sent.front()
            {
                return Err(*oldest + SECOND + MARGIN - now);
            }
        }
        let key = self.key(limited);
        let count = self.counts.entry(key.clone()).or_default();
        if count.window.is_some_and(|(_, reset)| reset <= now) {
            count.window = None;
        }
        if let Some((remaining, reset)) = &mut count.window {
            if *remaining == 0 {
                return Err(*reset - now);
            }
            *remaining -= 1;
        }
        count.in_flight += 1;
        if limited.global {
            self.global_sent.push_back(now);
        }
        Ok(Slot { key })
    }

    /// Reads an answer's headers (of any status) into the book; `None` when no answer came.
    pub fn answered(
        &mut self,
        limited: &Limited,
        slot: Slot,
        headers: Option<&Headers>,
        now: Instant,
    ) {
        if let Some(count) = self.counts.get_mut(&slot.key) {
            count.in_flight = count.in_flight.saturating_sub(1);
        }
        if let Some(h) = headers {
            if let Some(hash) = &h.bucket {
                self.buckets.insert(limited.route, hash.clone());
            }
            if let (Some(remaining), Some(reset_after)) = (h.remaining, h.reset_after) {
                let count = self.counts.entry(self.key(limited)).or_default();
                let remaining = remaining.saturating_sub(count.in_flight);
                count.window = Some((remaining, now + reset_after + MARGIN));
            }
        }
        self.counts
            .retain(|_, c| c.in_flight > 0 || c.window.is_some_and(|(_, reset)| reset > now));
    }

    /// A 429: the request's bucket, or when `global` every globally counted route, is closed
    /// for `retry_after`.
    pub fn refused(
        &mut self,
        limited: &Limited,
        retry_after: Duration,
        global: bool,
        now: Instant,
    ) {
        let until = now + retry_after + MARGIN;
        if global {
            self.global_until = Some(self.global_until.map_or(until, |u| u.max(until)));
        } else {
            let count = self.counts.entry(self.key(limited)).or_default();
            let reset = count.window.map_or(until, |(_, r)| r.max(until));
            count.window = Some((0, reset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: Route = Route("POST /channels/{channel}/messages");
    const EDIT: Route = Route("PATCH /channels/{channel}/messages/{message}");

    fn limited(route: Route, major: &str) -> Limited {
        Limited {
            route,
            major: major.into(),
            global: true,
        }
    }

    fn headers(bucket: &str, remaining: u32, reset_after_ms: u64) -> Headers {
        Headers {
            bucket: Some(bucket.into()),
            remaining: Some(remaining),
            reset_after: Some(Duration::from_millis(reset_after_ms)),
        }
    }

    /// Sends one request now and reads `h` as its answer.
    fn call(book: &mut Book, l: &Limited, h: Headers, now: Instant) {
        let slot = book.acquire(l, now).expect("a free slot");
        book.answered(l, slot, Some(&h), now);
    }

    #[test]
    fn routes_that_discord_names_one_bucket_share_its_count() {
        let t0 = Instant::now();
        let mut book = Book::default();
        let create = limited(CREATE, "1");
        let edit = limited(EDIT, "1");
        call(&mut book, &create, headers("abc", 3, 5000), t0);
        call(&mut book, &edit, headers("abc", 2, 4900), t0);
        call(&mut book, &create, headers("abc", 1, 4800), t0);
        call(&mut book, &edit, headers("abc", 0, 4700), t0);
        let wait = book
            .acquire(&create, t0)
            .expect_err("the shared bucket is empty");
        assert_eq!(wait, Duration::from_millis(4700) + MARGIN);
        // The same bucket in another channel has its own count.
        assert!(book.acquire(&limited(EDIT, "2"), t0).is_ok());
        // Once the window has reset, both routes go again.
        let later = t0 + Duration::from_millis(4800);
        assert!(book.acquire(&edit, later).is_ok());
    }

    #[test]
    fn routes_in_different_buckets_keep_their_own_counts() {
        let t0 = Instant::now();
        let mut book = Book::default();
        call(
            &mut book,
            &limited(CREATE, "1"),
            headers("abc", 0, 5000),
            t0,
        );
        assert!(book.acquire(&limited(CREATE, "1"), t0).is_err());
        call(&mut book, &limited(EDIT, "1"), headers("def", 4, 5000), t0);
    }

    #[test]
    fn requests_in_flight_together_cannot_overdraw_a_bucket() {
        let t0 = Instant::now();
        let mut book = Book::default();
        let create = limited(CREATE, "1");
        call(&mut book, &create, headers("abc", 2, 5000), t0);
        let a = book.acquire(&create, t0).unwrap();
        let b = book.acquire(&create, t0).unwrap();
        assert!(
            book.acquire(&create, t0).is_err(),
            "two in flight use up the two left"
        );
        // `a`'s answer was counted before `b` reached Discord: `b` is still owed.
        book.answered(&create, a, Some(&headers("abc", 1, 4900)), t0);
        assert!(book.acquire(&create, t0).is_err());
        book.answered(&create, b, None, t0);
    }

    #[test]
    fn a_429_closes_its_bucket_or_everything_global() {
        let t0 = Instant::now();
        let mut book = Book::default();
        let create = limited(CREATE, "1");
        call(&mut book, &create, headers("abc", 4, 5000), t0);
        book.refused(&create, Duration::from_secs(2), false, t0);
        assert_eq!(
            book.acquire(&create, t0),
            Err(Duration::from_millis(5000) + MARGIN),
            "the longer of the window and the 429"
        );
        let other = limited(EDIT, "2");
        book.refused(&other, Duration::from_secs(3), true, t0);
        assert_eq!(
            book.acquire(&other, t0),
            Err(Duration::from_secs(3) + MARGIN)
        );
        let interaction = Limited {
            global: false,
            ..limited(Route("POST /interactions/{id}/{token}/callback"), "9")
        };
        assert!(
            book.acquire(&interaction, t0).is_ok(),
            "interaction routes ignore the global limit"
        );
    }

    #[test]
    fn at_most_fifty_globally_counted_requests_a_second() {
        let t0 = Instant::now();
        let mut book = Book::default();
        for i in 0..GLOBAL_PER_SECOND {
            let l = limited(CREATE, &i.to_string());
            assert!(
                book.acquire(&l, t0 + Duration::from_millis(i as u64))
                    .is_ok()
            );
        }
        let next = limited(CREATE, "next");
        let now = t0 + Duration::from_millis(500);
        assert_eq!(
            book.acquire(&next, now),
            Err(Duration::from_millis(500) + MARGIN)
        );
        assert!(book.acquire(&next, t0 + SECOND + MARGIN).is_ok());
    }

    impl PartialEq for Slot {
        fn eq(&self, other: &Slot) -> bool {
            self.key == other.key
        }
    }
}
