//! Scheduled prompts (`core::schedules`): made in chat or written from `[[schedules]]` at start.
//!
//! Firing is one transaction: the schedule's `last_fired_at` moves from what the scheduler read
//! to now (a compare-and-set, so two replicas, or a wake-up racing a restart, fire a slot once)
//! together with the stored inbound event that carries its prompt to the router.

use anyhow::{Context, Result};
use sqlx::any::AnyRow;

use super::{Store, bool_col, col, inbound};
use crate::domain::ids::{InboundId, ScheduleId};
use crate::domain::inbound::Inbound;
use crate::domain::thread::ThreadRef;

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub id: ScheduleId,
    pub thread: ThreadRef,
    /// Five cron fields, as validated when it was made.
    pub cron: String,
    /// An IANA time zone name.
    pub time_zone: String,
    pub prompt: String,
    /// The author id of whoever made it, or `config`.
    pub created_by: String,
    /// From `[[schedules]]`: the configuration owns it (`/unschedule` cannot remove it).
    pub from_config: bool,
    pub created_at: i64,
    /// The scheduler's clock when it last fired.
    pub last_fired_at: Option<i64>,
}

const COLUMNS: &str = "id, platform, chat, topic, cron, time_zone, prompt, created_by, \
                       from_config, created_at, last_fired_at";

fn schedule_from_row(row: &AnyRow) -> Result<ScheduleRow> {
    let platform: String = col(row, "platform")?;
    Ok(ScheduleRow {
        id: ScheduleId::from_string(col(row, "id")?),
        thread: ThreadRef {
            platform: platform.parse().map_err(anyhow::Error::msg)?,
            chat: col(row, "chat")?,
            topic: col(row, "topic")?,
        },
        cron: col(row, "cron")?,
        time_zone: col(row, "time_zone")?,
        prompt: col(row, "prompt")?,
        created_by: col(row, "created_by")?,
        from_config: bool_col(row, "from_config")?,
        created_at: col(row, "created_at")?,
        last_fired_at: col(row, "last_fired_at")?,
    })
}

impl Store {
    /// Stores a schedule; one of the configuration's replaces its earlier row's settings but
    /// keeps when it last fired.
    pub async fn put_schedule(&self, schedule: &ScheduleRow) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO schedules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET platform = $2, chat = $3, topic = $4, cron = $5, \
             time_zone = $6, prompt = $7"
        )))
        .bind(schedule.id.as_str())
        .bind(schedule.thread.platform.as_str())
        .bind(&schedule.thread.chat)
        .bind(schedule.thread.topic.as_deref())
        .bind(&schedule.cron)
        .bind(&schedule.time_zone)
        .bind(&schedule.prompt)
        .bind(&schedule.created_by)
        .bind(i64::from(schedule.from_config))
        .bind(schedule.created_at)
        .bind(schedule.last_fired_at)
        .execute(&self.pool)
        .await
        .context("storing a schedule")?;
        Ok(())
    }

    /// Removes the configuration's schedules whose names `kept` does not hold.
    pub async fn drop_config_schedules_except(&self, kept: &[ScheduleId]) -> Result<()> {
        for row in self.schedules().await? {
            if row.from_config && !kept.contains(&row.id) {
                sqlx::query("DELETE FROM schedules WHERE id = $1")
                    .bind(row.id.as_str())
                    .execute(&self.pool)
                    .await
                    .context("removing a schedule")?;
            }
        }
        Ok(())
    }

    /// Every schedule, by id.
    pub async fn schedules(&self) -> Result<Vec<ScheduleRow>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM schedules ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .context("reading schedules")?
        .iter()
        .map(schedule_from_row)
        .collect()
    }

    /// The schedules of one thread, by id.
    pub async fn thread_schedules(&self, thread: &ThreadRef) -> Result<Vec<ScheduleRow>> {
        let all = self.schedules().await?;
        Ok(all.into_iter().filter(|s| &s.thread == thread).collect())
    }

    /// Removes a schedule made in chat in `thread`; whether there was one.
    pub async fn remove_schedule(&self, id: &ScheduleId, thread: &ThreadRef) -> Result<bool> {
        let found = self
            .thread_schedules(thread)
            .await?
            .into_iter()
            .any(|s| &s.id == id && !s.from_config);
        if found {
            sqlx::query("DELETE FROM schedules WHERE id = $1")
                .bind(id.as_str())
                .execute(&self.pool)
                .await
                .context("removing a schedule")?;
        }
        Ok(found)
    }

    /// Fires a schedule last fired at `previous`: it is now fired at `now` and `event` is stored
    /// for the router. `None`: someone fired it since (or the event was stored already).
    pub async fn fire_schedule(
        &self,
        id: &ScheduleId,
        previous: Option<i64>,
        now: i64,
        event: &Inbound,
    ) -> Result<Option<InboundId>> {
        let mut tx = self.write_tx().await?;
        let moved = sqlx::query(
            "UPDATE schedules SET last_fired_at = $1 \
             WHERE id = $2 AND COALESCE(last_fired_at, -1) = $3",
        )
        .bind(now)
        .bind(id.as_str())
        .bind(previous.unwrap_or(-1))
        .execute(&mut *tx)
        .await
        .context("firing a schedule")?;
        if moved.rows_affected() != 1 {
            return Ok(None);
        }
        let stored = inbound::insert(&mut tx, event).await?;
        tx.commit().await?;
        Ok(stored)
    }
}
