//! A fresh database per test: a SQLite file in a temp dir, or a new database on the Postgres
//! server at 127.0.0.1:5432 (dropped afterwards). A missing Postgres fails the test loudly.

use std::process::Command;

use sqlx::Connection;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Where the Postgres server is; `SWITCHBOARD_TEST_POSTGRES` overrides it.
fn postgres_base() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    postgres_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn create(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDb {
                    url: format!("sqlite://{}", dir.path().join("switchboard.db").display()),
                    postgres_name: None,
                    _dir: Some(dir),
                }
            }
            Db::Postgres => {
                let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
                let admin = format!("{}/postgres", postgres_base());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "Postgres is not reachable at {admin}: {e}. Start it (.ci/run does: \
                         pg_ctlcluster 15 main start) or set SWITCHBOARD_TEST_POSTGRES"
                        )
                    });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create the test database");
                TestDb {
                    url: format!("{}/{name}", postgres_base()),
                    postgres_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            let url = format!("{}/postgres", postgres_base());
            let _ = Command::new("psql")
                .arg(url)
                .arg("-q")
                .arg("-c")
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

/// Generates one `#[tokio::test]` per database for each named `async fn(Db)` in scope.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::db::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::db::Db::Postgres).await
                }
            )*
        }
    };
}
pub(crate) use on_both_databases;
