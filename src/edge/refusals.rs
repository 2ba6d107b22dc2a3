//! Refusals of requests nobody authenticated: audited, without letting a flood fill the store.
//!
//! A forged request costs its sender next to nothing, and one audit row each turned 4,000 forged
//! webhook calls in 3 s into 4,000 rows. So each source — a client address; an IPv6 client by
//! its /64, which one machine usually holds whole — has its first [`RECORDED_ONE_BY_ONE`]
//! refusals of a minute audited one by one (what an operator wants to read), and the rest are
//! only counted in memory and written every [`FLUSH_INTERVAL`] as one row per source and minute,
//! whose `times` says how many refusals it stands for. The trail still accounts for every
//! refusal, and a flood costs one upsert per source every few seconds instead of one insert per
//! request.
//!
//! Bounds, whatever the flood: at most [`RECORDED_PER_MINUTE`] rows a minute one by one over all
//! sources, and at most [`SOURCES_PER_MINUTE`] sources told apart; the rest share one counting
//! row, `other sources`. A source's count in its minute is also what a caller may throttle on
//! (the console's sign-in answers 429 past the first few wrong tokens from one address).
//!
//! The log follows the same rule: a line per refusal recorded one by one, a line per count
//! written.
//!
//! Known limit: counts not yet written when the process dies are lost (at most one
//! [`FLUSH_INTERVAL`]'s worth).

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::client::ClientAddr;
use crate::domain::audit::AuditAction;
use crate::domain::ids::{new_id, now_ms};
use crate::domain::thread::Platform;
use crate::store::Store;

/// Refusals a source has audited one by one each minute.
pub const RECORDED_ONE_BY_ONE: u64 = 5;
/// Refusals audited one by one each minute, over all sources.
const RECORDED_PER_MINUTE: u32 = 50;
/// Sources told apart each minute; later ones are counted together.
const SOURCES_PER_MINUTE: usize = 256;
/// How often the counts are written.
const FLUSH_INTERVAL: Duration = Duration::from_secs(2);
const MINUTE: Duration = Duration::from_secs(60);

/// Who a refusal is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    /// An IPv4 address, or an IPv6 /64 (its host bits zero).
    Address(IpAddr),
    /// Everyone beyond [`SOURCES_PER_MINUTE`].
    Others,
}

impl Source {
    fn of(client: ClientAddr) -> Source {
        match client.0 {
            IpAddr::V4(_) => Source::Address(client.0),
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Source::Address(IpAddr::from(octets))
            }
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Address(IpAddr::V6(prefix)) => write!(f, "{prefix}/64"),
            Source::Address(address) => address.fmt(f),
            Source::Others => f.write_str("other sources"),
        }
    }
}

/// What became of one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The source's refusals in its current minute, this one included.
    pub this_minute: u64,
    /// Audited on its own (else counted).
    recorded: bool,
}

impl Refused {
    /// Past the refusals a source has recorded one by one: a caller's cue to throttle.
    pub fn over_limit(&self) -> bool {
        self.this_minute > RECORDED_ONE_BY_ONE
    }
}

/// One source's current minute.
#[derive(Debug)]
struct Window {
    started: Instant,
    /// The same moment as wall-clock milliseconds: the counting row's time.
    started_ms: i64,
    refusals: u64,
    /// Counted and not written yet.
    pending: u64,
    /// The counting row, once it has been written.
    row: Option<String>,
}

/// A count to add to a row.
#[derive(Debug, PartialEq, Eq)]
struct Flush {
    row: String,
    source: Source,
    at_ms: i64,
    times: u64,
}

/// The counting, without the store: what the tests drive with their own clock.
#[derive(Debug)]
struct Tally {
    minute_started: Instant,
    recorded_this_minute: u32,
    sources: HashMap<Source, Window>,
    /// Windows whose minute ended with counts not written yet.
    closed: Vec<(Source, Window)>,
}

impl Tally {
    fn new(now: Instant) -> Tally {
        Tally {
            minute_started: now,
            recorded_this_minute: 0,
            sources: HashMap::new(),
            closed: Vec::new(),
        }
    }

    fn note(&mut self, client: ClientAddr, now: Instant, now_ms: i64) -> Refused {
        if now.duration_since(self.minute_started) >= MINUTE {
            self.minute_started = now;
            self.recorded_this_minute = 0;
        }
        let mut source = Source::of(client);
        if !self.sources.contains_key(&source) && self.sources.len() >= SOURCES_PER_MINUTE {
            source = Source::Others;
        }
        let fresh = || Window {
            started: now,
            started_ms: now_ms,
            refusals: 0,
            pending: 0,
            row: None,
        };
        let window = self.sources.entry(source).or_insert_with(fresh);
        if now.duration_since(window.started) >= MINUTE {
            let ended = std::mem::replace(window, fresh());
            if ended.pending > 0 {
                self.closed.push((source, ended));
            }
        }
        window.refusals += 1;
        let recorded = window.refusals <= RECORDED_ONE_BY_ONE
            && self.recorded_this_minute < RECORDED_PER_MINUTE;
        if recorded {
            self.recorded_this_minute += 1;
        } else {
            window.pending += 1;
        }
        Refused {
            this_minute: window.refusals,
            recorded,
        }
    }

    /// The counts to write now; windows whose minute is over and whose counts are written are
    /// forgotten.
    fn take_pending(&mut self, now: Instant) -> Vec<Flush> {
        let mut flushes = Vec::new();
        let mut take = |source: Source, window: &mut Window| {
            if window.pending > 0 {
                flushes.push(Flush {
                    row: window.row.get_or_insert_with(new_id).clone(),
                    source,
                    at_ms: window.started_ms,
                    times: std::mem::take(&mut window.pending),
                });
            }
        };
        for (source, mut window) in std::mem::take(&mut self.closed) {
            take(source, &mut window);
        }
        for (source, window) in &mut self.sources {
            take(*source, window);
        }
        self.sources
            .retain(|_, window| now.duration_since(window.started) < MINUTE);
        flushes
    }
}

/// Refusals of one kind (`action`) on one platform's endpoint. Cloning shares the counts.
#[derive(Clone)]
pub struct Refusals {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    platform: Platform,
    action: AuditAction,
    tally: Mutex<Tally>,
}

impl Refusals {
    /// Starts counting; the counts are written by a task that ends with the last clone.
    pub fn new(store: Store, platform: Platform, action: AuditAction) -> Refusals {
        let inner = Arc::new(Inner {
            store,
            platform,
            action,
            tally: Mutex::new(Tally::new(Instant::now())),
        });
        tokio::spawn(write_counts(Arc::downgrade(&inner)));
        Refusals { inner }
    }

    /// Records that a request from `client` was refused because of `detail`: audited on its
    /// own, or counted (see the module docs).
    pub async fn refuse(&self, client: ClientAddr, detail: &str) -> Refused {
        let inner = &self.inner;
        let refused = inner.tally.lock().unwrap_or_else(|e| e.into_inner()).note(
            client,
            Instant::now(),
            now_ms(),
        );
        if refused.recorded {
            let actor = client.to_string();
            let platform = inner.platform;
            tracing::warn!(%client, "refused a {platform} request: {detail}");
            if let Err(e) = inner
                .store
                .audit(platform, &actor, "", inner.action, detail)
                .await
            {
                tracing::error!("auditing a refused {platform} request failed: {e:#}");
            }
        }
        refused
    }
}

impl Inner {
    async fn write_counts(&self) {
        let flushes = self
            .tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_pending(Instant::now());
        let platform = self.platform;
        for flush in flushes {
            let detail = format!(
                "more refusals from {} within a minute than are recorded one by one \
                 ({RECORDED_ONE_BY_ONE}): counted here",
                flush.source
            );
            let actor = flush.source.to_string();
            tracing::warn!(
                "refused {} more {platform} requests from {actor} ({})",
                flush.times,
                self.action
            );
            let times = i64::try_from(flush.times).unwrap_or(i64::MAX);
            if let Err(e) = self
                .store
                .count_refusals(
                    &flush.row,
                    flush.at_ms,
                    platform,
                    &actor,
                    self.action,
                    &detail,
                    times,
                )
                .await
            {
                tracing::error!(
                    "writing {} refusals of {platform} requests failed: {e:#}",
                    flush.times
                );
            }
        }
    }
}

async fn write_counts(inner: Weak<Inner>) {
    let mut ticks = tokio::time::interval(FLUSH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        inner.write_counts().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(text: &str) -> ClientAddr {
        ClientAddr(text.parse().unwrap())
    }

    #[test]
    fn a_source_has_a_few_refusals_recorded_and_the_rest_counted() {
        let start = Instant::now();
        let mut tally = Tally::new(start);
        let noted: Vec<Refused> = (0..12)
            .map(|_| tally.note(client("192.0.2.1"), start, 1_000))
            .collect();
        assert_eq!(noted.iter().filter(|r| r.recorded).count(), 5);
        assert!(!noted[4].over_limit() && noted[5].over_limit());
        assert_eq!(noted[11].this_minute, 12);
        // Another address is unaffected.
        assert!(tally.note(client("192.0.2.2"), start, 1_000).recorded);

        let flushes = tally.take_pending(start);
        assert_eq!(flushes.len(), 1);
        assert_eq!((flushes[0].times, flushes[0].at_ms), (7, 1_000));
        let row = flushes[0].row.clone();
        assert!(tally.take_pending(start).is_empty(), "nothing new to write");

        // More in the same minute add to the same row; the next minute starts afresh.
        tally.note(client("192.0.2.1"), start + Duration::from_secs(30), 0);
        let later = start + Duration::from_secs(61);
        for _ in 0..6 {
            tally.note(client("192.0.2.1"), later, 61_000);
        }
        let flushes = tally.take_pending(later);
        assert_eq!(flushes.len(), 2, "{flushes:?}");
        assert_eq!((flushes[0].row.as_str(), flushes[0].times), (&*row, 1));
        assert_ne!(flushes[1].row, row);
        assert_eq!((flushes[1].times, flushes[1].at_ms), (1, 61_000));
    }

    #[test]
    fn floods_from_many_addresses_stay_bounded() {
        let start = Instant::now();
        let mut tally = Tally::new(start);
        let mut recorded = 0;
        for a in 0..300u32 {
            for _ in 0..3 {
                let address = std::net::Ipv4Addr::from(0x0a00_0000 + a);
                if tally
                    .note(ClientAddr(IpAddr::V4(address)), start, 0)
                    .recorded
                {
                    recorded += 1;
                }
            }
        }
        assert_eq!(recorded, RECORDED_PER_MINUTE as usize);
        let flushes = tally.take_pending(start);
        assert!(flushes.len() <= SOURCES_PER_MINUTE + 1, "{}", flushes.len());
        let counted: u64 = flushes.iter().map(|f| f.times).sum();
        assert_eq!(
            counted as usize + recorded,
            900,
            "every refusal is accounted for"
        );
        assert!(flushes.iter().any(|f| f.source == Source::Others));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let start = Instant::now();
        let mut tally = Tally::new(start);
        for host in 1..=6 {
            tally.note(client(&format!("2001:db8:1:2::{host}")), start, 0);
        }
        assert!(!tally.note(client("2001:db8:1:2::ff"), start, 0).recorded);
        assert!(tally.note(client("2001:db8:1:3::1"), start, 0).recorded);
        assert_eq!(
            Source::of(client("2001:db8:1:2::9")).to_string(),
            "2001:db8:1:2::/64"
        );
    }
}
