//! `/schedule`, `/schedules` and `/unschedule`: schedules made, listed and removed in a thread.
//!
//! Only someone the thread's policy admits reaches these (the router checks before any
//! command), so only people allowed in a thread can make its schedules. A schedule from
//! `[[schedules]]` is listed too but belongs to the configuration: `/unschedule` says so.

use anyhow::Result;
use jiff::Timestamp;

use super::Core;
use super::replies;
use super::schedules::next_slot;
use crate::config::{self, CHAT_ID_PREFIX};
use crate::domain::audit::AuditAction;
use crate::domain::command::CommandError;
use crate::domain::ids::ScheduleId;
use crate::domain::inbound::{Inbound, Invalid};
use crate::store::schedules::ScheduleRow;

/// The most schedules one thread may hold.
const PER_THREAD: usize = 20;

/// `/schedule "CRON" [tz=ZONE] prompt` (its cron checked when parsed, its zone here).
pub(super) async fn make(
    core: &Core,
    event: &Inbound,
    cron: &str,
    time_zone: Option<&str>,
    prompt: &str,
) -> Result<String> {
    let time_zone = time_zone.unwrap_or(&core.schedule_zone);
    if let Err(e) = config::time_zone(time_zone) {
        let bad = Invalid::Command(CommandError::BadSchedule(e.to_string()));
        return Ok(replies::invalid(&core.spelling(event.platform()), &bad));
    }
    if core.store.thread_schedules(&event.thread).await?.len() >= PER_THREAD {
        return Ok(replies::schedules_full(PER_THREAD));
    }
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let row = ScheduleRow {
        id: ScheduleId::from_string(format!("{CHAT_ID_PREFIX}{}", &hex[..6])),
        thread: event.thread.clone(),
        cron: cron.to_owned(),
        time_zone: time_zone.to_owned(),
        prompt: prompt.to_owned(),
        created_by: event.author.id.clone(),
        from_config: false,
        created_at: core.schedule_clock.now_ms(),
        last_fired_at: None,
    };
    core.store.put_schedule(&row).await?;
    let detail = format!("{} {} {}: {}", row.id, row.cron, row.time_zone, row.prompt);
    audit(core, event, AuditAction::ScheduleMade, &detail).await?;
    core.schedules_changed();
    Ok(replies::scheduled(
        row.id.as_str(),
        &describe(core, &row),
        &core
            .spelling(event.platform())
            .command(&format!("unschedule {}", row.id)),
    ))
}

/// `/schedules`: the thread's schedules, with their next runs.
pub(super) async fn list(core: &Core, event: &Inbound) -> Result<String> {
    let schedules = core.store.thread_schedules(&event.thread).await?;
    if schedules.is_empty() {
        return Ok(replies::no_schedules(
            &core
                .spelling(event.platform())
                .command("schedule \"0 9 * * 1-5\" run the nightly checks"),
        ));
    }
    let listed: Vec<(&str, bool, String)> = schedules
        .iter()
        .map(|row| (row.id.as_str(), row.from_config, describe(core, row)))
        .collect();
    Ok(replies::schedules(&listed))
}

/// `/unschedule ID`.
pub(super) async fn remove(core: &Core, event: &Inbound, id: &str) -> Result<String> {
    let id = ScheduleId::from_string(id.to_owned());
    if core.store.remove_schedule(&id, &event.thread).await? {
        audit(core, event, AuditAction::ScheduleRemoved, id.as_str()).await?;
        core.schedules_changed();
        return Ok(replies::schedule_removed(id.as_str()));
    }
    let configured = core
        .store
        .thread_schedules(&event.thread)
        .await?
        .iter()
        .any(|s| s.id == id);
    let list = core.spelling(event.platform()).command("schedules");
    Ok(if configured {
        replies::schedule_configured(id.as_str())
    } else {
        replies::no_such_schedule(id.as_str(), &list)
    })
}

/// "`0 9 * * 1-5` (Europe/Berlin), next 2026-12-07 09:00 CET: run the checks".
fn describe(core: &Core, row: &ScheduleRow) -> String {
    let after = row
        .last_fired_at
        .unwrap_or(row.created_at)
        .max(core.schedule_clock.now_ms());
    let next = next_slot(row, after)
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .and_then(|at| {
            Some(
                at.in_tz(&row.time_zone)
                    .ok()?
                    .strftime("%Y-%m-%d %H:%M %Z")
                    .to_string(),
            )
        });
    let prompt: String = row.prompt.chars().take(80).collect();
    replies::schedule_description(&row.cron, &row.time_zone, next.as_deref(), &prompt)
}

async fn audit(core: &Core, event: &Inbound, action: AuditAction, detail: &str) -> Result<()> {
    core.store
        .audit(
            event.platform(),
            &event.author.id,
            &event.thread.key(),
            action,
            detail,
        )
        .await
}
