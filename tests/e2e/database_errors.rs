//! A database that cannot be used stops `serve` at once with the real cause in one line, and
//! `check` gives the fix for that cause — not a pool timeout 30 s later with the same advice
//! for every problem.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::db::{Db, TestDb};
use crate::support::harness::SWITCHBOARD;

/// Runs `switchboard ARGS` in `dir` against `url`, with nothing else configured.
fn switchboard(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(SWITCHBOARD)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SWITCHBOARD_DATABASE_URL", url)
        .output()
        .expect("run switchboard")
}

/// `serve` fails with exactly one error line holding `problem`, and `check`'s database line
/// names the problem and `fix`.
fn assert_refused(dir: &Path, url: &str, problem: &str, fix: &str) {
    let out = switchboard(dir, url, &["serve"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve started: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(problem), "{stderr}");
    assert!(errors[0].contains(fix), "{stderr}");
    assert!(!stderr.contains("timed out"), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "the password is never shown: {stderr}"
    );

    let out = switchboard(dir, url, &["check"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("database:"))
        .unwrap_or_else(|| panic!("no database line: {stdout}"));
    assert!(line.starts_with('✗'), "{line}");
    assert!(line.contains(problem), "{line}");
    assert!(line.contains(&format!("fix: {fix}")), "{line}");
}

#[test]
fn a_damaged_sqlite_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    assert_refused(
        dir.path(),
        &format!("sqlite://{}", path.display()),
        "is damaged or not a SQLite database",
        "restore it from a backup",
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![0x5a; 8192],
        "the file is left as it was"
    );
}

/// Takes the immutable attribute off again, whatever happens (the temp dir must be removable).
struct Immutable<'a>(&'a Path);

impl<'a> Immutable<'a> {
    fn set(path: &'a Path) -> Self {
        let status = Command::new("chattr").arg("+i").arg(path).status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "chattr +i {} failed: this test needs e2fsprogs' chattr and a file system with \
             attributes (the tests run as root, for whom a 0444 file is still writable)",
            path.display()
        );
        Immutable(path)
    }
}

impl Drop for Immutable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
    }
}

#[test]
fn a_read_only_sqlite_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    let url = format!("sqlite://{}", path.display());
    let out = switchboard(dir.path(), &url, &["migrate"]);
    assert!(out.status.success(), "{out:?}");
    let _frozen = Immutable::set(&path);
    assert_refused(
        dir.path(),
        &url,
        "is read-only",
        "let the service's user write the file and its directory",
    );
}

#[test]
fn a_missing_sqlite_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/sb.db", dir.path().display());
    assert_refused(
        dir.path(),
        &url,
        "unable to open database file",
        "create its directory",
    );
}

#[test]
fn a_postgres_that_refuses_connections_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, then given back.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_refused(
        dir.path(),
        &format!("postgres://sb:s3cret-pw@127.0.0.1:{port}/sb"),
        &format!("Postgres at 127.0.0.1:{port}/sb refused the connection"),
        "start the Postgres server",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_postgres_database_or_role_is_named() {
    let real = TestDb::create(Db::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("{}_missing", real.url);
    let name = missing.rsplit('/').next().unwrap().to_owned();
    tokio::task::block_in_place(|| {
        assert_refused(
            dir.path(),
            &missing,
            &format!("database \"{name}\" does not exist"),
            "create the database",
        );
        let no_role = real.url.replacen("postgres@", "nobody_here:pw@", 1);
        assert_ne!(no_role, real.url, "the test Postgres URL names its user");
        assert_refused(
            dir.path(),
            &no_role,
            "refused the login",
            "check the user and password",
        );
    });
}
