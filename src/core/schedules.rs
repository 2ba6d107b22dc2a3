//! The scheduler: queues each schedule's prompt into its thread when its cron slot comes.
//!
//! A due schedule's prompt is stored as an inbound event ([`InboundBody::Triggered`]) in the
//! same transaction that records the firing (`Store::fire_schedule`), and the router queues it
//! like a typed prompt: the session's FIFO, the queue limit, the budgets checked when its turn
//! starts (a spent budget ends it with the usual reply), all as for anyone's prompt; the turn's
//! author and the audit line's actor are `schedule:ID`.
//!
//! Missed slots run once: a schedule is due when the first slot after its last firing (or its
//! making) has passed, and firing moves that mark to now, so a bot that was down across several
//! slots fires it once when it is back, not once per slot.
//!
//! Time is the scheduler's [`Clock`]: the real one, or for tests one that starts at
//! `scheduling.clock_start`, so a test makes a slot come due without waiting for it. The loop
//! sleeps until the next slot (at most a minute) or until a schedule is made or removed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use jiff::Timestamp;

use super::Core;
use crate::config::{self, ScheduleConfig};
use crate::domain::audit::AuditAction;
use crate::domain::cron::Cron;
use crate::domain::ids::{ScheduleId, now_ms};
use crate::domain::inbound::{Inbound, InboundBody};
use crate::domain::thread::Author;
use crate::domain::trigger::Trigger;
use crate::store::schedules::ScheduleRow;

/// The longest sleep between looks (schedules made by another replica are seen then).
const MAX_WAIT: Duration = Duration::from_secs(60);
/// How soon a schedule whose firing failed is tried again.
const RETRY_MS: i64 = 5_000;
/// Audit detail: how much of the prompt is kept.
const AUDIT_PROMPT_CHARS: usize = 200;

/// The scheduler's time: the real clock shifted so that it read `clock_start` when made.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset_ms: i64,
    /// What it read when made (the service's start).
    started_ms: i64,
}

impl Clock {
    pub fn new(start: Option<Timestamp>) -> Clock {
        let now = now_ms();
        let offset_ms = start.map_or(0, |start| start.as_millisecond() - now);
        Clock {
            offset_ms,
            started_ms: now + offset_ms,
        }
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.offset_ms
    }
}

/// Writes `[[schedules]]` into the store (their last firing kept) and drops those no longer
/// configured. One seen for the first time counts from the service's start.
pub async fn store_configured(core: &Core, configured: &[ScheduleConfig]) -> Result<()> {
    let now = core.schedule_clock.started_ms;
    for schedule in configured {
        let row = ScheduleRow {
            id: ScheduleId::from_string(schedule.name.clone()),
            thread: schedule.thread(),
            cron: schedule.cron.clone(),
            time_zone: schedule
                .time_zone
                .clone()
                .unwrap_or_else(|| core.schedule_zone.clone()),
            prompt: schedule.prompt.clone(),
            created_by: "config".to_owned(),
            from_config: true,
            created_at: now,
            last_fired_at: None,
        };
        core.store.put_schedule(&row).await?;
    }
    let kept: Vec<ScheduleId> = configured
        .iter()
        .map(|s| ScheduleId::from_string(s.name.clone()))
        .collect();
    core.store.drop_config_schedules_except(&kept).await
}

/// Fires due schedules, forever.
pub async fn run(core: Arc<Core>) -> Result<()> {
    let mut changed = core.watch_schedules();
    loop {
        changed.borrow_and_update();
        let wait = match fire_due(&core).await {
            Ok(Some(next)) => {
                let ms = u64::try_from(next - core.schedule_clock.now_ms()).unwrap_or(0);
                Duration::from_millis(ms).min(MAX_WAIT)
            }
            Ok(None) => MAX_WAIT,
            Err(e) => {
                tracing::warn!("firing due schedules failed: {e:#}");
                MAX_WAIT
            }
        };
        tokio::select! {
            _ = changed.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Fires every due schedule once; returns when the next one is due (clock milliseconds). A
/// schedule that fails to fire (the store unreachable) is logged and does not hold up the rest.
async fn fire_due(core: &Core) -> Result<Option<i64>> {
    let now = core.schedule_clock.now_ms();
    let mut earliest: Option<i64> = None;
    for schedule in core.store.schedules().await? {
        let Some(slot) = next_slot(
            &schedule,
            schedule.last_fired_at.unwrap_or(schedule.created_at),
        ) else {
            continue;
        };
        let next = if slot > now {
            Some(slot)
        } else if let Err(e) = fire(core, &schedule, now).await {
            // Still due: tried again soon, the others fired meanwhile.
            tracing::warn!(schedule = %schedule.id, "firing a schedule failed: {e:#}");
            Some(now + RETRY_MS)
        } else {
            next_slot(&schedule, now)
        };
        if let Some(next) = next {
            earliest = Some(earliest.map_or(next, |e| e.min(next)));
        }
    }
    Ok(earliest)
}

/// The first slot of `schedule` after `after_ms`; `None` (and a warning) for a stored schedule
/// that no longer reads, or one with no slot ahead.
pub fn next_slot(schedule: &ScheduleRow, after_ms: i64) -> Option<i64> {
    let read = Cron::parse(&schedule.cron)
        .map_err(|e| e.to_string())
        .and_then(|cron| {
            Ok((
                cron,
                config::time_zone(&schedule.time_zone).map_err(|e| e.to_string())?,
            ))
        });
    let (cron, zone) = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::warn!(schedule = %schedule.id, "skipping a schedule: {e}");
            return None;
        }
    };
    let after = Timestamp::from_millisecond(after_ms).ok()?;
    cron.next_after(after, &zone)
        .map(|slot| slot.as_millisecond())
}

/// Queues `schedule`'s prompt (unless another replica fired it meanwhile) and audits it.
async fn fire(core: &Core, schedule: &ScheduleRow, now: i64) -> Result<()> {
    let trigger = Trigger::Schedule(schedule.id.clone());
    let actor = trigger.actor();
    let event = Inbound {
        external_id: format!("{actor}:{now}"),
        thread: schedule.thread.clone(),
        author: Author {
            id: actor.clone(),
            display: format!("schedule {}", schedule.id),
        },
        message_id: None,
        body: InboundBody::Triggered {
            trigger,
            text: schedule.prompt.clone(),
        },
        context: None,
        files: Vec::new(),
    };
    let fired = core
        .store
        .fire_schedule(&schedule.id, schedule.last_fired_at, now, &event)
        .await?;
    if fired.is_none() {
        return Ok(());
    }
    let head: String = schedule.prompt.chars().take(AUDIT_PROMPT_CHARS).collect();
    let detail = format!("{} {}: {head}", schedule.cron, schedule.time_zone);
    core.store
        .audit(
            schedule.thread.platform,
            &actor,
            &schedule.thread.key(),
            AuditAction::ScheduleFired,
            &detail,
        )
        .await?;
    tracing::info!(schedule = %schedule.id, thread = %schedule.thread.key(), "schedule fired");
    core.inbound_stored();
    Ok(())
}
