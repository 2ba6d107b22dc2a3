//! The store: one cloneable façade over a `sqlx::Any` pool, SQLite by default, Postgres when
//! `database.url` says so.
//!
//! One portable schema (migrations/) and runtime-checked queries serve both databases; the test
//! suite runs against each. Queries use `$N` placeholders and `ON CONFLICT`, which both accept.
//! Times are Unix milliseconds, JSON is text (what `Any` can carry).
//!
//! Methods are grouped by table in the submodules. A method that changes several tables does
//! so in one transaction: that is how "stored before anything happens" (invariant 1) and "posted
//! exactly once" (invariant 4) hold across crashes. Write transactions on SQLite start with
//! `BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of failing on a lock
//! upgrade.

mod attachments;
mod audit;
pub mod check_watches;
pub mod connect;
pub mod inbound;
mod migrations;
pub mod outbox;
mod pauses;
mod platform_state;
pub mod schedules;
pub mod sessions;
pub mod turns;
mod web;
mod workspaces;

use std::str::FromStr;

use anyhow::{Context, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Transaction};

pub use audit::AuditRow;
pub use check_watches::CheckWatch;
pub use outbox::{OutboxRow, SendingPart};
pub use pauses::{PauseScope, RetryPause};
pub use sessions::{Delivery, NewSession, SessionRow, SessionSummary};
pub use turns::{NewTurn, SessionTotals, TurnEventRow, TurnRow, TurnStats};
pub use web::{StoredPost, WebLogin};

/// A write transaction; the free functions in the submodules take `&mut *tx`.
pub type Tx = Transaction<'static, Any>;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects (creating a SQLite file if needed) without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).context("invalid database.url")?;
        // Fail fast with the real cause, rather than in a pool's timeout (see `connect`).
        connect::probe(&options, &url, backend).await?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::raw_sql(connect::SQLITE_PRAGMAS).execute(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open {}", connect::describe(&url, backend)))?;
        Ok(Store { pool, backend })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        let store = Store::connect(url, max_connections).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        migrations::migrator()
            .run(&self.pool)
            .await
            .context("database migration failed")
    }

    /// A write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn write_tx(&self) -> Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads a column, naming it in the error.
fn col<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name)
        .with_context(|| format!("reading column {name}"))
}

fn bool_col(row: &sqlx::any::AnyRow, name: &str) -> Result<bool> {
    Ok(col::<i64>(row, name)? != 0)
}
