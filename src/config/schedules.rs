//! `[scheduling]` and `[[schedules]]`: prompts queued into a thread at cron times
//! (`core::schedules`). Schedules made in chat (`/schedule`) live in the store only; those here
//! are written into the store at start, under their `name`, so their last run survives a
//! restart like the others'.

use anyhow::{Result, bail};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::domain::cron::Cron;
use crate::domain::thread::{Platform, ThreadRef};

/// A time zone by its IANA name (`Europe/Berlin`, `UTC`), from the system's tz database.
pub fn time_zone(name: &str) -> Result<TimeZone, BadZone> {
    TimeZone::get(name).map_err(|_| BadZone(name.to_owned()))
}

/// A name the tz database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a time zone: give an IANA name such as UTC, Europe/Berlin or America/New_York"
)]
pub struct BadZone(pub String);

/// How schedules tell time.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scheduling {
    /// The time zone of schedules that name none. Default `UTC`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// For tests: the scheduler's clock reads this instant (RFC 3339) when the service starts,
    /// and runs on from there at the real pace. Default: the real clock.
    #[serde(default)]
    pub clock_start: Option<Timestamp>,
}

impl Default for Scheduling {
    fn default() -> Self {
        Scheduling {
            time_zone: default_time_zone(),
            clock_start: None,
        }
    }
}

fn default_time_zone() -> String {
    "UTC".to_owned()
}

/// One `[[schedules]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Its id (`/schedules` shows it): letters, digits, `-` and `_`.
    pub name: String,
    /// Five cron fields.
    pub cron: String,
    /// Default: `scheduling.time_zone`.
    #[serde(default)]
    pub time_zone: Option<String>,
    pub platform: Platform,
    pub chat: String,
    #[serde(default)]
    pub topic: Option<String>,
    pub prompt: String,
}

impl ScheduleConfig {
    pub fn thread(&self) -> ThreadRef {
        ThreadRef {
            platform: self.platform,
            chat: self.chat.clone(),
            topic: self.topic.clone(),
        }
    }
}

/// Names chat-made schedules get (`s-` and hex) are not configurable, so the two never meet.
pub const CHAT_ID_PREFIX: &str = "s-";

pub(super) fn validate(scheduling: &Scheduling, schedules: &[ScheduleConfig]) -> Result<()> {
    time_zone(&scheduling.time_zone).map_err(|e| anyhow::anyhow!("scheduling.time_zone: {e}"))?;
    let mut names = std::collections::HashSet::new();
    for schedule in schedules {
        let name = &schedule.name;
        let fine = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if name.is_empty() || name.len() > 40 || !fine || name.starts_with(CHAT_ID_PREFIX) {
            bail!(
                "schedules: the name {name:?} must be 1 to 40 letters, digits, '-' or '_', not \
                 starting with {CHAT_ID_PREFIX:?}"
            );
        }
        if !names.insert(name) {
            bail!("schedules: the name {name:?} is used twice");
        }
        Cron::parse(&schedule.cron).map_err(|e| anyhow::anyhow!("schedules.{name}.cron: {e}"))?;
        if let Some(zone) = &schedule.time_zone {
            time_zone(zone).map_err(|e| anyhow::anyhow!("schedules.{name}.time_zone: {e}"))?;
        }
        if schedule.prompt.trim().is_empty() || schedule.prompt.contains('\0') {
            bail!("schedules.{name}.prompt must be text (not empty, no NUL)");
        }
        if schedule.platform == Platform::GitHub {
            bail!(
                "schedules.{name}.platform: a GitHub thread takes no scheduled prompts (its \
                 turns answer a comment); use telegram, slack, discord or web"
            );
        }
        if schedule.chat.is_empty() {
            bail!("schedules.{name}.chat must name the chat");
        }
    }
    Ok(())
}
