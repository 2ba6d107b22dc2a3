//! The schema's migrations (`migrations/`), compiled into the binary.
//!
//! `sqlx::migrate!` would embed them too, but it is a procedural macro: sqlx's `macros`
//! feature makes the build compile sqlx's drivers, tokio and the bundled SQLite a second time,
//! for the compiler — about a sixth of a clean release build. So the files are listed here and
//! made into migrations exactly as the macro makes them (version and description from the file
//! name, `-- no-transaction` opting out of a transaction, the SHA-384 checksum that applied
//! migrations are checked against). A test keeps the list equal to the directory, and one
//! compares the result with what `sqlx::migrate!` builds, so databases migrated before keep
//! validating.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};

/// `(file name, contents)` of every file in `migrations/`, in order.
macro_rules! files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../migrations/", $name)))),*]
    };
}

const FILES: &[(&str, &str)] = files![
    "20261122000001_initial.sql",
    "20261123000001_turn_workspaces.sql",
    "20261124000001_platform_state.sql",
    "20261125000001_turn_changes.sql",
    "20261126000001_web_logins.sql",
    "20261127000042_audit_times_for_refusal_floods.sql",
    "20261127000811_retry_pauses.sql",
    "20261127000911_outbox_sending.sql",
    "20261205090000_outbox_pending_posts.sql",
    "20261205120000_outbox_attachments.sql",
    "20261205130000_turn_review_plans.sql",
    "20261205140000_session_workspaces.sql",
    "20261205150000_session_delivery.sql",
    "20261205170000_check_watches.sql",
    "20261205200000_session_agents.sql",
    "20261205220001_schedules.sql",
];

/// The migrator over every migration.
pub fn migrator() -> Migrator {
    Migrator::with_migrations(
        FILES
            .iter()
            .map(|(name, sql)| migration(name, sql))
            .collect(),
    )
}

/// One migration from its file, as `sqlx::migrate!` reads it: `<VERSION>_<DESCRIPTION>.sql`.
fn migration(name: &str, sql: &'static str) -> Migration {
    let (version, rest) = name
        .split_once('_')
        .expect("a migration is named <VERSION>_<DESCRIPTION>.sql");
    let version = version.parse().expect("a migration's version is a number");
    let description = rest.trim_end_matches(".sql").replace('_', " ");
    Migration::new(
        version,
        Cow::Owned(description),
        MigrationType::Simple,
        AssertSqlSafe(sql).into_sql_str(),
        sql.starts_with("-- no-transaction"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_migrations_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut found: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations/")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let listed: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            found, listed,
            "list every file of migrations/ in FILES, in order"
        );
    }

    #[test]
    fn the_migrations_are_what_sqlx_migrate_builds() {
        let ours = migrator();
        let macro_built = sqlx::migrate!("./migrations");
        assert_eq!(ours.migrations.len(), macro_built.migrations.len());
        for (a, b) in ours.migrations.iter().zip(macro_built.migrations.iter()) {
            assert_eq!(a.version, b.version);
            assert_eq!(a.description, b.description);
            assert_eq!(a.migration_type, b.migration_type);
            assert_eq!(a.sql.as_str(), b.sql.as_str());
            assert_eq!(a.checksum, b.checksum, "version {}", a.version);
            assert_eq!(a.no_tx, b.no_tx);
        }
        assert_eq!(ours.locking, macro_built.locking);
        assert_eq!(ours.no_tx, macro_built.no_tx);
        assert_eq!(ours.table_name, macro_built.table_name);
    }
}
