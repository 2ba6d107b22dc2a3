//! Opening the database, eagerly, with the real cause of a failure in one line.
//!
//! A pool connects lazily and retries quietly: a damaged or read-only SQLite file and a Postgres
//! server that refuses or never answers all used to end, 30 seconds later, in "pool timed out",
//! and the advice given was the same for each. So before the pool exists, one connection is
//! opened and tried — a read of the schema (a damaged file fails here) and, on SQLite, a write
//! in a transaction that is rolled back (a read-only file fails here) — within [`CONNECT_TIMEOUT`]. What
//! goes wrong is sorted into a [`DatabaseError`] that names the database (never its password),
//! the problem, and the fix for that problem.

use std::time::Duration;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Connection};

use super::Backend;

/// How long the first connection may take before the database counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite's settings for every connection: WAL (readers never wait for the writer), a busy
/// timeout (writers queue instead of failing), foreign keys on.
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                  PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// Why the database could not be used, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem} — {fix}")]
pub struct DatabaseError {
    pub problem: String,
    pub fix: String,
}

impl DatabaseError {
    fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Where the database is, for messages: the SQLite path, or Postgres' `host:port/db` (no user,
/// no password).
pub fn describe(url: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            format!("the SQLite database {path}")
        }
        Backend::Postgres => match url::Url::parse(url) {
            Ok(parsed) => format!(
                "Postgres at {}:{}{}",
                parsed.host_str().unwrap_or("localhost"),
                parsed.port().unwrap_or(5432),
                parsed.path()
            ),
            Err(_) => "Postgres (database.url is not a URL)".to_owned(),
        },
    }
}

/// Opens one connection and tries it, or says exactly why not.
pub async fn probe(
    options: &AnyConnectOptions,
    url: &str,
    backend: Backend,
) -> Result<(), DatabaseError> {
    let what = describe(url, backend);
    let attempt = async {
        let mut conn = options.connect().await?;
        try_connection(&mut conn, backend).await?;
        conn.close().await
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(explain(&e, &what, backend)),
        Err(_) => Err(DatabaseError::new(
            format!(
                "{what} did not answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            ),
            "check the host and port in database.url (or SWITCHBOARD_DATABASE_URL), and that \
             no firewall drops the connection",
        )),
    }
}

/// Reads the schema, and on SQLite writes in a transaction it rolls back.
async fn try_connection(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    match backend {
        Backend::Sqlite => {
            sqlx::raw_sql(SQLITE_PRAGMAS).execute(&mut *conn).await?;
            sqlx::raw_sql("PRAGMA schema_version")
                .execute(&mut *conn)
                .await?;
            // A read-only file opens without complaint and takes locks; only a write tells.
            sqlx::raw_sql("BEGIN IMMEDIATE; CREATE TABLE sb_write_probe (x); ROLLBACK;")
                .execute(&mut *conn)
                .await?;
        }
        Backend::Postgres => {
            sqlx::raw_sql("SELECT 1").execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// The problem and its fix, from what the driver said.
fn explain(error: &sqlx::Error, what: &str, backend: Backend) -> DatabaseError {
    let url_hint = "database.url (or SWITCHBOARD_DATABASE_URL)";
    if let sqlx::Error::Io(io) = error {
        return match io.kind() {
            std::io::ErrorKind::ConnectionRefused => DatabaseError::new(
                format!("{what} refused the connection"),
                format!("start the Postgres server, or correct the host and port in {url_hint}"),
            ),
            _ => DatabaseError::new(
                format!("cannot reach {what}: {io}"),
                format!("check the host and port in {url_hint} and the network"),
            ),
        };
    }
    let Some(db) = error.as_database_error() else {
        return DatabaseError::new(
            format!("cannot open {what}: {error}"),
            format!("check {url_hint}"),
        );
    };
    let message = db.message();
    let code = db.code().unwrap_or_default();
    match backend {
        // SQLite's primary result codes: 26 NOTADB, 11 CORRUPT, 8 READONLY, 14 CANTOPEN.
        Backend::Sqlite => match code.parse::<i32>().map(|c| c & 0xff) {
            Ok(26) | Ok(11) => DatabaseError::new(
                format!("{what} is damaged or not a SQLite database ({message})"),
                format!("restore it from a backup, or point {url_hint} at a new file"),
            ),
            Ok(8) => DatabaseError::new(
                format!("{what} is read-only ({message})"),
                "let the service's user write the file and its directory (SQLite writes -wal \
                 and -shm files beside it)",
            ),
            Ok(14) => DatabaseError::new(
                format!("cannot open {what} ({message})"),
                "create its directory and let the service's user write there",
            ),
            _ => DatabaseError::new(
                format!("{what} failed: {message}"),
                format!("check the file named in {url_hint}"),
            ),
        },
        // Postgres SQLSTATEs: 28xxx authentication, 3D000 no such database.
        Backend::Postgres if code.starts_with("28") => DatabaseError::new(
            format!("{what} refused the login: {message}"),
            format!("check the user and password in {url_hint}"),
        ),
        Backend::Postgres if code == "3D000" => DatabaseError::new(
            format!("{what}: {message}"),
            format!("create the database (createdb), or name an existing one in {url_hint}"),
        ),
        Backend::Postgres => DatabaseError::new(
            format!("{what} failed: {message}"),
            format!("check {url_hint} and the server's log"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_show_a_password() {
        assert_eq!(
            describe(
                "postgres://sb:hunter2@db.internal:6543/switch",
                Backend::Postgres
            ),
            "Postgres at db.internal:6543/switch"
        );
        assert_eq!(
            describe("postgres://sb@localhost/sb", Backend::Postgres),
            "Postgres at localhost:5432/sb"
        );
        assert_eq!(
            describe("sqlite://data/sb.db?mode=rwc", Backend::Sqlite),
            "the SQLite database data/sb.db"
        );
        assert_eq!(
            describe("sqlite:sb.db", Backend::Sqlite),
            "the SQLite database sb.db"
        );
    }
}
