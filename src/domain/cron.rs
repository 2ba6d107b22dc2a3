//! Cron expressions (five fields: minute, hour, day of month, month, day of week) and their
//! next slot in a time zone.
//!
//! Our own small parser rather than a crate: `cron` and `croner` bring chrono-based time-zone
//! handling (chrono-tz embeds the whole tz database, a slow build on CI's two cores), while the
//! grammar is a page of code. Time zones are `jiff`'s (one crate, no bundled database; looked up
//! in the system's tz database, `/usr/share/zoneinfo`, by `config::time_zone`, above this
//! floor, which does no I/O), which also resolve
//! daylight-saving gaps and folds: a wall time that does not exist (02:30 on a spring-forward
//! day) runs shifted by the gap (03:30), a repeated one once, at its first occurrence.
//!
//! Supported per field: `*`, a number, `a-b`, `*/n`, `a-b/n`, `a/n` and comma lists of those;
//! day of week 0-7 (0 and 7 are Sunday). As in classic cron, when both day of month and day of
//! week are restricted, a day matching either runs.

use std::fmt;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The form, for error messages.
pub const FORM: &str = "five fields \"MIN HOUR DAY MONTH WEEKDAY\", each `*`, `5`, `1-5`, \
                        `*/15`, `1-5/2` or a comma list (weekday 0-7, 0 and 7 are Sunday), \
                        e.g. \"0 9 * * 1-5\"";

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Day of month restricted (not `*`).
    days_restricted: bool,
    /// Day of week restricted (not `*`).
    weekdays_restricted: bool,
}

/// Why an expression is not cron.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a cron expression: {FORM}")]
pub struct BadCron(pub String);

impl Cron {
    pub fn parse(text: &str) -> Result<Cron, BadCron> {
        let bad = || BadCron(text.to_owned());
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(bad());
        };
        let mut weekdays = field(weekday, 0, 7).ok_or_else(bad)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Cron {
            text: fields.join(" "),
            minutes: field(minute, 0, 59).ok_or_else(bad)?,
            hours: field(hour, 0, 23).ok_or_else(bad)?,
            days: field(day, 1, 31).ok_or_else(bad)?,
            months: field(month, 1, 12).ok_or_else(bad)?,
            weekdays,
            days_restricted: *day != "*",
            weekdays_restricted: *weekday != "*",
        })
    }

    /// The first slot strictly after `after`, in `zone`; `None` if there is none within about
    /// eight years (`0 0 30 2 *`: February 30th).
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let start = after.to_zoned(zone.clone()).datetime();
        // The next whole minute after `after`, on the wall clock.
        let mut at = start
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        let limit = start.date().checked_add(8.years()).ok()?;
        while at.date() < limit {
            if !self.has(self.months, at.month()) {
                let first = Date::new(at.year(), at.month(), 1).ok()?;
                at = first
                    .checked_add(1.month())
                    .ok()?
                    .to_datetime(Time::midnight());
                continue;
            }
            if !self.runs_on(at.date()) {
                at = at.date().tomorrow().ok()?.to_datetime(Time::midnight());
                continue;
            }
            if !self.has(self.hours, at.hour()) {
                at = DateTime::from_parts(at.date(), Time::new(at.hour(), 0, 0, 0).ok()?)
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if !self.has(self.minutes, at.minute()) {
                at = at.checked_add(1.minute()).ok()?;
                continue;
            }
            let slot = zone.to_ambiguous_timestamp(at).compatible().ok()?;
            if slot > after {
                return Some(slot);
            }
            at = at.checked_add(1.minute()).ok()?;
        }
        None
    }

    fn runs_on(&self, date: Date) -> bool {
        let day = self.has(self.days, date.day());
        let weekday = self.has(self.weekdays, date.weekday().to_sunday_zero_offset());
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => day || weekday,
            _ => day && weekday,
        }
    }

    fn has(&self, set: u64, value: i8) -> bool {
        u32::try_from(value).is_ok_and(|v| v < 64 && set & (1 << v) != 0)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One field as a bit set of the values it allows, within `min..=max`.
fn field(text: &str, min: u32, max: u32) -> Option<u64> {
    let mut set = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let value: u32 = range.parse().ok()?;
            // `5/15` runs from 5 to the end, as in Vixie cron.
            (value, if part.contains('/') { max } else { value })
        };
        if low < min || high > max || low > high {
            return None;
        }
        for value in (low..=high).step_by(step as usize) {
            set |= 1 << value;
        }
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Europe/Berlin's rule, as a POSIX TZ string (no tz database read here).
    fn berlin() -> TimeZone {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_forms_parse_and_others_are_refused() {
        for good in [
            "* * * * *",
            "0 9 * * 1-5",
            "*/15 0-6/2 1,15 1-12 0,7",
            "5/10 * * * *",
        ] {
            Cron::parse(good).unwrap();
        }
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "5-1 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "* * * * * *",
        ] {
            let error = Cron::parse(bad).unwrap_err();
            assert!(
                error.to_string().contains("MIN HOUR DAY MONTH WEEKDAY"),
                "{error}"
            );
        }
    }

    #[test]
    fn the_next_slot_is_strictly_later_and_in_its_zone() {
        let utc = TimeZone::UTC;
        let weekdays = Cron::parse("0 9 * * 1-5").unwrap();
        // Saturday 2026-12-05 → Monday 2026-12-07 09:00.
        assert_eq!(
            weekdays.next_after(at("2026-12-05T10:00:00Z"), &utc),
            Some(at("2026-12-07T09:00:00Z"))
        );
        assert_eq!(
            weekdays.next_after(at("2026-12-07T09:00:00Z"), &utc),
            Some(at("2026-12-08T09:00:00Z"))
        );
        let berlin = berlin();
        assert_eq!(
            weekdays.next_after(at("2026-12-05T10:00:00Z"), &berlin),
            Some(at("2026-12-07T08:00:00Z"))
        );
        let quarter = Cron::parse("*/15 * * * *").unwrap();
        assert_eq!(
            quarter.next_after(at("2026-12-05T10:14:59.5Z"), &utc),
            Some(at("2026-12-05T10:15:00Z"))
        );
        // Day of month or day of week, when both are restricted.
        let either = Cron::parse("0 0 1 * 0").unwrap();
        assert_eq!(
            either.next_after(at("2026-12-02T00:00:00Z"), &utc),
            Some(at("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            Cron::parse("0 0 30 2 *")
                .unwrap()
                .next_after(at("2026-12-02T00:00:00Z"), &utc),
            None
        );
    }

    #[test]
    fn a_wall_time_in_a_daylight_saving_gap_runs_after_it() {
        let berlin = berlin();
        let night = Cron::parse("30 2 * * *").unwrap();
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        assert_eq!(
            night.next_after(at("2026-03-28T12:00:00Z"), &berlin),
            Some(at("2026-03-29T01:30:00Z"))
        );
    }
}
