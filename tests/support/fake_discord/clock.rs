//! Time as Discord shows it: snowflake ids that grow with time, ISO 8601
//! timestamps with microseconds and `+00:00`, and epoch seconds with a
//! fractional part for rate-limit headers. Real time is read from tokio's
//! clock (so a paused test clock moves everything together).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Discord's epoch: the first second of 2015, in Unix milliseconds.
pub(super) const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Real time, mapped from tokio's clock.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    start: Instant,
    start_system: SystemTime,
}

impl Clock {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            start_system: SystemTime::now(),
        }
    }

    pub fn now(&self) -> (Instant, SystemTime) {
        let now = Instant::now();
        (now, self.system_at(now))
    }

    pub fn system_at(&self, at: Instant) -> SystemTime {
        self.start_system + at.saturating_duration_since(self.start)
    }
}

/// Hands out snowflakes: `(ms since the Discord epoch) << 22 | worker 1 <<
/// 17 | process 0 << 12 | increment`, strictly increasing even within one
/// millisecond.
#[derive(Debug, Default)]
pub(super) struct Snowflakes {
    last_ms: u64,
    increment: u64,
}

impl Snowflakes {
    pub fn next(&mut self, at: SystemTime) -> u64 {
        let ms = unix_ms(at).saturating_sub(DISCORD_EPOCH_MS);
        if ms > self.last_ms {
            self.last_ms = ms;
            self.increment = 0;
        } else {
            self.increment += 1;
            if self.increment >= 4096 {
                self.last_ms += 1;
                self.increment = 0;
            }
        }
        (self.last_ms << 22) | (1 << 17) | self.increment
    }
}

/// When a snowflake was made.
pub(super) fn snowflake_time(id: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis((id >> 22) + DISCORD_EPOCH_MS)
}

pub(super) fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch with millisecond precision, as in
/// `X-RateLimit-Reset: 1470173023.123`.
pub(super) fn epoch_seconds(at: SystemTime) -> String {
    let ms = unix_ms(at);
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// A duration in seconds with millisecond precision, rounded up (a client
/// that waits exactly this long is never early): `0.742`.
pub(super) fn seconds_ceil(d: Duration) -> f64 {
    let ms = d.as_nanos().div_ceil(1_000_000) as f64;
    ms / 1000.0
}

/// `2022-10-07T19:44:07.295000+00:00`, the shape of Discord's timestamps.
pub(super) fn iso8601(at: SystemTime) -> String {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let micros = d.subsec_micros();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_discords() {
        let at = UNIX_EPOCH + Duration::from_micros(1_665_171_847_295_000);
        assert_eq!(iso8601(at), "2022-10-07T19:44:07.295000+00:00");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000+00:00");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000000+00:00");
    }

    #[test]
    fn snowflakes_grow_and_carry_their_time() {
        let mut s = Snowflakes::default();
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let a = s.next(at);
        let b = s.next(at);
        let c = s.next(at - Duration::from_secs(1));
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(unix_ms(snowflake_time(a)), 1_700_000_000_123);
        // Discord's documented example: 175928847299117063 was made at
        // 2016-04-30 11:18:25.796 UTC.
        assert_eq!(
            unix_ms(snowflake_time(175_928_847_299_117_063)),
            1_462_015_105_796
        );
    }

    #[test]
    fn header_numbers() {
        let at = UNIX_EPOCH + Duration::from_millis(1_470_173_023_123);
        assert_eq!(epoch_seconds(at), "1470173023.123");
        assert_eq!(seconds_ceil(Duration::from_micros(742_001)), 0.743);
        assert_eq!(seconds_ceil(Duration::from_millis(250)), 0.25);
    }
}
