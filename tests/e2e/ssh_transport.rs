//! The `ssh` and `local` transports against real processes: an OpenSSH `sshd` per test
//! (tests/support/sshd.rs) and `sh` on this machine.
//!
//! Behaviour both transports promise is written once (the `shared` functions) and run over both
//! by `on_both_transports!`; SSH-only behaviour (pool, host keys, auth, backoff, dropped
//! connections) follows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard::runner::local::LocalTransport;
use switchboard::runner::shell::quote_path;
use switchboard::runner::ssh::{HostKeyPolicy, SshSettings, SshTransport};
use switchboard::runner::transport::{ExecOutput, StreamEvent, Transport, TransportError};
use tokio::sync::mpsc;

use crate::support::sshd::Sshd;

/// Upper bound for anything a test waits on; a healthy run needs a fraction of it.
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// helpers

fn load_key(path: &Path) -> Arc<russh::keys::PrivateKey> {
    Arc::new(russh::keys::load_secret_key(path, None).expect("load the test client key"))
}

fn public_key(line: &str) -> russh::keys::PublicKey {
    russh::keys::PublicKey::from_openssh(line).expect("parse a public key line")
}

fn settings(sshd: &Sshd, host_keys: HostKeyPolicy) -> SshSettings {
    SshSettings {
        name: "testhost".into(),
        address: sshd.address(),
        user: sshd.user().into(),
        key: load_key(sshd.client_key_path()),
        host_keys,
        connect_timeout: Duration::from_secs(10),
        keepalive_interval: Duration::from_secs(15),
        keepalive_max: 3,
        max_channels_per_connection: 8,
    }
}

fn pinned(sshd: &Sshd) -> HostKeyPolicy {
    HostKeyPolicy::Pinned(vec![public_key(&sshd.host_public_key())])
}

fn ssh(sshd: &Sshd) -> SshTransport {
    SshTransport::new(settings(sshd, pinned(sshd)))
}

/// A fresh ed25519 key pair in `dir`; returns the private key path (`.pub` next to it).
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("ssh-keygen")
        .args(["-t", "ed25519", "-N", "", "-q", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

fn public_line(private_key: &Path) -> String {
    let text = std::fs::read_to_string(private_key.with_extension("pub")).unwrap();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `exec` with the test deadline: a hang fails the test instead of stalling it.
async fn run<T: Transport + ?Sized>(
    t: &T,
    command: &str,
    stdin: &[u8],
) -> Result<ExecOutput, TransportError> {
    tokio::time::timeout(WAIT, t.exec(command, stdin))
        .await
        .unwrap_or_else(|_| panic!("`{command}` did not finish within {WAIT:?}"))
}

async fn next_event(rx: &mut mpsc::Receiver<StreamEvent>) -> Option<StreamEvent> {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no stream event within the deadline")
}

/// Reads until the stream ends; returns stdout and the final event (`None`: closed without
/// `Exit`). Fails if anything follows `Exit`.
async fn drain(rx: &mut mpsc::Receiver<StreamEvent>) -> (Vec<u8>, Option<Option<u32>>) {
    let mut stdout = Vec::new();
    loop {
        match next_event(rx).await {
            Some(StreamEvent::Stdout(chunk)) => stdout.extend_from_slice(&chunk),
            Some(StreamEvent::Exit(status)) => {
                assert_eq!(next_event(rx).await, None, "an event followed Exit");
                return (stdout, Some(status));
            }
            None => return (stdout, None),
        }
    }
}

/// Reads stdout until it contains `needle`.
async fn read_until(rx: &mut mpsc::Receiver<StreamEvent>, needle: &str) -> String {
    let mut seen = Vec::new();
    loop {
        match next_event(rx).await {
            Some(StreamEvent::Stdout(chunk)) => {
                seen.extend_from_slice(&chunk);
                let text = String::from_utf8_lossy(&seen);
                if text.contains(needle) {
                    return text.into_owned();
                }
            }
            other => panic!(
                "stream ended ({other:?}) before {needle:?}; got {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
}

/// Polls `cond` until it holds or the deadline passes.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// True while `pid` is a live (non-zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 1..]
                .split_whitespace()
                .next();
            state != Some("Z")
        }
        Err(_) => false,
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), seeded per run.
fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    seed |= 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `sha256sum` of `data` computed on this machine: the oracle for what the host saw.
fn local_sha256(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

// ---------------------------------------------------------------------------------------------
// behaviour both transports promise

/// What a shared test gets: a transport and a directory its commands may write to.
struct Fixture<'a> {
    t: &'a dyn Transport,
    dir: &'a Path,
}

impl Fixture<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `name` inside the workspace, quoted for a command line.
    fn q(&self, name: &str) -> String {
        quote_path(self.path(name).to_str().unwrap())
    }
}

mod shared {
    use super::*;

    pub async fn exec_round_trip(f: Fixture<'_>) {
        let out = run(f.t, "echo out; echo err >&2; exit 3", b"")
            .await
            .unwrap();
        assert_eq!(
            (out.status, out.stdout_text(), out.stderr_text()),
            (Some(3), "out".into(), "err".into())
        );
        assert!(!out.success());

        let out = run(f.t, "printf 'a\\nb'", b"").await.unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, b"a\nb");
        assert!(out.stderr.is_empty());

        // Killed by a signal: no exit status.
        let out = run(f.t, "echo before; kill -9 $$", b"").await.unwrap();
        assert_eq!(out.status, None, "{out:?}");
        assert_eq!(out.stdout_text(), "before");

        // Never a terminal.
        let out = run(f.t, "test -t 0 || test -t 1 || echo no-tty", b"")
            .await
            .unwrap();
        assert_eq!(out.stdout_text(), "no-tty");
    }

    pub async fn large_random_stdin_arrives_intact(f: Fixture<'_>) {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let data = random_bytes(1 << 20, seed);
        let expected = local_sha256(&data);

        let out = run(f.t, "sha256sum", &data).await.unwrap();
        assert!(out.success(), "{out:?}");
        assert_eq!(&out.stdout_text()[..64], expected, "seed {seed}");

        // The same megabyte back through stdout, while it is still being written.
        let out = run(f.t, "cat", &data).await.unwrap();
        assert!(out.success());
        assert!(
            out.stdout == data,
            "cat returned different bytes (seed {seed})"
        );

        // A command that never reads its stdin does not hang the writer.
        let out = run(f.t, "exit 0", &data).await.unwrap();
        assert_eq!(out.status, Some(0));
    }

    pub async fn hostile_stdin_is_only_data(f: Fixture<'_>) {
        let marker = f.path("pwned");
        let mut text = format!(
            "$(touch {m})\n`touch {m}`\n'; touch {m}; '\n\"$HOME\" ~. ~? \r\n",
            m = marker.display()
        )
        .into_bytes();
        // NUL, ^C, ^D, ^Z, ^\, escape sequences and invalid UTF-8: a pty would act on these.
        text.extend_from_slice(b"\x00\x03\x04\x1a\x1c\x1b[2J\xff\xfe tail\n\x04");

        let file = f.q("stdin.bin");
        let out = run(f.t, &format!("cat > {file} && cat {file}"), &text)
            .await
            .unwrap();
        assert!(out.success(), "{out:?}");
        assert_eq!(out.stdout, text);
        assert_eq!(std::fs::read(f.path("stdin.bin")).unwrap(), text);
        assert!(!marker.exists(), "a shell interpreted stdin");
    }

    pub async fn stream_delivers_in_order_and_ends_with_exit(f: Fixture<'_>) {
        let mut rx =
            f.t.stream("seq 1 20000; echo gone >&2; exit 4")
                .await
                .unwrap();
        let (stdout, exit) = drain(&mut rx).await;
        let expected: String = (1..=20000).map(|n| format!("{n}\n")).collect();
        assert!(
            stdout == expected.as_bytes(),
            "stream out of order or incomplete"
        );
        assert_eq!(exit, Some(Some(4)), "stderr is discarded, Exit comes last");
    }

    pub async fn stream_delivers_output_as_it_is_produced(f: Fixture<'_>) {
        // The second line is only printed once the test has seen the first one.
        let go = f.q("go");
        let mut rx =
            f.t.stream(&format!(
                "echo first; while [ ! -e {go} ]; do sleep 0.02; done; echo second"
            ))
            .await
            .unwrap();
        assert_eq!(read_until(&mut rx, "first\n").await, "first\n");
        std::fs::write(f.path("go"), b"").unwrap();
        let (rest, exit) = drain(&mut rx).await;
        assert_eq!(rest, b"second\n");
        assert_eq!(exit, Some(Some(0)));
    }

    pub async fn dropping_the_receiver_stops_the_command(f: Fixture<'_>) {
        let mut rx = f.t.stream("echo $$; exec sleep 60").await.unwrap();
        let pid: u32 = read_until(&mut rx, "\n").await.trim().parse().unwrap();
        assert!(alive(pid));
        drop(rx);
        eventually("the streamed command to die", || !alive(pid)).await;
    }
}

/// Runs each shared test body once over `local` and once over `ssh`.
macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let t = super::LocalTransport::new("local");
                    super::shared::$name(super::Fixture { t: &t, dir: dir.path() }).await;
                }
            )*
        }
        mod ssh {
            $(
                #[tokio::test]
                async fn $name() {
                    let sshd = super::Sshd::start();
                    let dir = sshd.workspace();
                    let t = super::ssh(&sshd);
                    super::shared::$name(super::Fixture { t: &t, dir: dir.path() }).await;
                }
            )*
        }
    };
}

on_both_transports!(
    exec_round_trip,
    large_random_stdin_arrives_intact,
    hostile_stdin_is_only_data,
    stream_delivers_in_order_and_ends_with_exit,
    stream_delivers_output_as_it_is_produced,
    dropping_the_receiver_stops_the_command,
);

// ---------------------------------------------------------------------------------------------
// ssh only: the pool

#[tokio::test]
async fn twenty_concurrent_streams_grow_the_pool_past_max_sessions() {
    let sshd = Sshd::start(); // OpenSSH's default MaxSessions: 10 channels per connection
    let t = Arc::new(ssh(&sshd)); // at most 8 channels per connection
    let mut tasks = Vec::new();
    for i in 0..20 {
        let t = Arc::clone(&t);
        tasks.push(tokio::spawn(async move {
            let mut rx = t
                .stream(&format!("echo ready-{i}; exec sleep 60"))
                .await
                .unwrap();
            read_until(&mut rx, &format!("ready-{i}\n")).await;
            rx
        }));
    }
    let mut streams = Vec::new();
    for task in tasks {
        streams.push(task.await.unwrap());
    }
    // 20 live channels at 8 per connection: 3 connections, on both sides.
    assert_eq!(t.connection_count(), 3);
    assert_eq!(sshd.connection_count(), 3, "{}", sshd.log());

    // Still usable: a 21st channel fits in the third connection.
    assert_eq!(
        run(&*t, "echo more", b"").await.unwrap().stdout_text(),
        "more"
    );
    drop(streams);
}

#[tokio::test]
async fn a_live_connection_is_reused_and_dropped_streams_free_their_slots() {
    let sshd = Sshd::start();
    let mut s = settings(&sshd, pinned(&sshd));
    s.max_channels_per_connection = 2;
    let t = SshTransport::new(s);

    let timed = || async {
        let started = std::time::Instant::now();
        assert!(run(&t, "true", b"").await.unwrap().success());
        started.elapsed()
    };
    let connect = timed().await;
    let mut live = Vec::new();
    for _ in 0..30 {
        live.push(timed().await);
    }
    live.sort();
    eprintln!(
        "ssh timings: connect + auth + `true` {connect:?}; `true` on a live connection: median {:?}, max {:?}",
        live[live.len() / 2],
        live[live.len() - 1]
    );
    assert_eq!(t.connection_count(), 1);

    // Slots of abandoned streams come back: without that, every second iteration would need
    // a new connection.
    for _ in 0..10 {
        let mut rx = t.stream("echo up; exec sleep 60").await.unwrap();
        read_until(&mut rx, "up\n").await;
        drop(rx);
    }
    assert!(t.connection_count() <= 2, "{}", t.connection_count());
}

// ---------------------------------------------------------------------------------------------
// ssh only: host keys and auth

async fn marker_test(sshd: &Sshd, policy: HostKeyPolicy) -> (Result<(), TransportError>, bool) {
    let ws = sshd.workspace();
    let marker = ws.path().join("ran");
    let t = SshTransport::new(settings(sshd, policy));
    let cmd = format!("touch {}", quote_path(marker.to_str().unwrap()));
    let result = run(&t, &cmd, b"").await.map(|out| assert!(out.success()));
    (result, marker.exists())
}

fn mismatch(sshd: &Sshd) -> Result<(), TransportError> {
    Err(TransportError::HostKeyMismatch {
        host: "testhost".into(),
        presented: sshd.host_key_fingerprint(),
    })
}

#[tokio::test]
async fn pinned_key_mismatch_refuses_before_anything_runs() {
    let sshd = Sshd::start();
    let other = tempfile::tempdir().unwrap();
    let other_key = public_line(&keygen(other.path(), "other"));
    let policy = HostKeyPolicy::Pinned(vec![public_key(&other_key)]);

    let (result, ran) = marker_test(&sshd, policy.clone()).await;
    assert_eq!(result, mismatch(&sshd));
    assert!(!ran, "a command ran on a host with the wrong key");
    let message = result.unwrap_err().to_string();
    assert!(message.contains(&sshd.host_key_fingerprint()), "{message}");

    // The pinned key itself, with a comment, is accepted.
    let policy = HostKeyPolicy::Pinned(vec![
        public_key(&other_key),
        public_key(&format!("{} ops@example", sshd.host_public_key())),
    ]);
    assert_eq!(marker_test(&sshd, policy).await, (Ok(()), true));
}

#[tokio::test]
async fn fingerprint_policy_accepts_the_right_one_only() {
    let sshd = Sshd::start();
    let good = HostKeyPolicy::Fingerprints(vec![sshd.host_key_fingerprint()]);
    assert_eq!(marker_test(&sshd, good).await, (Ok(()), true));

    let bad = HostKeyPolicy::Fingerprints(vec![
        "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU".into(),
    ]);
    let (result, ran) = marker_test(&sshd, bad).await;
    assert_eq!(result, mismatch(&sshd));
    assert!(!ran);
}

#[tokio::test]
async fn known_hosts_accepts_refuses_and_learns_on_first_use() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let entry = |key: &str| format!("[127.0.0.1]:{} {key}\n", sshd.port());

    // A recorded, matching key (among unrelated entries).
    let file = dir.path().join("known_hosts");
    std::fs::write(
        &file,
        format!(
            "# comment\nother.example {}\n{}",
            public_line(&keygen(dir.path(), "k1")),
            entry(&sshd.host_public_key())
        ),
    )
    .unwrap();
    let policy = |path: &Path, trust_on_first_use| HostKeyPolicy::KnownHosts {
        path: path.to_owned(),
        trust_on_first_use,
    };
    assert_eq!(
        marker_test(&sshd, policy(&file, false)).await,
        (Ok(()), true)
    );

    // A recorded, different key: refused, even with trust-on-first-use.
    let changed = dir.path().join("known_hosts_changed");
    std::fs::write(&changed, entry(&public_line(&keygen(dir.path(), "k2")))).unwrap();
    let (result, ran) = marker_test(&sshd, policy(&changed, true)).await;
    assert_eq!(result, mismatch(&sshd));
    assert!(!ran);

    // An unknown host without trust-on-first-use: refused, nothing written.
    let fresh = dir.path().join("sub").join("known_hosts");
    let (result, ran) = marker_test(&sshd, policy(&fresh, false)).await;
    assert_eq!(result, mismatch(&sshd));
    assert!(!ran);
    assert!(!fresh.exists());

    // With trust-on-first-use: learned, written, and used by the next connection.
    assert_eq!(
        marker_test(&sshd, policy(&fresh, true)).await,
        (Ok(()), true)
    );
    let learned = std::fs::read_to_string(&fresh).unwrap();
    // (russh's learn_known_hosts_path starts a new file with an empty line)
    assert_eq!(learned.trim_start(), entry(&sshd.host_public_key()));
    assert_eq!(
        marker_test(&sshd, policy(&fresh, false)).await,
        (Ok(()), true)
    );
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), learned);
}

#[tokio::test]
async fn a_refused_client_key_is_auth_failed() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&sshd, pinned(&sshd));
    s.key = load_key(&keygen(dir.path(), "stranger"));
    let t = SshTransport::new(s);
    assert_eq!(
        run(&t, "true", b"").await,
        Err(TransportError::AuthFailed {
            host: "testhost".into(),
            user: sshd.user().into()
        })
    );
}

#[tokio::test]
async fn settings_debug_hides_the_private_key() {
    let sshd = Sshd::start();
    let s = settings(&sshd, pinned(&sshd));
    let debug = format!("{s:?}");
    let pem = std::fs::read_to_string(sshd.client_key_path()).unwrap();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!debug.contains(line), "Debug shows key material: {debug}");
    }
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    assert!(debug.contains("hidden"), "{debug}");
    assert!(debug.contains(&sshd.address()), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// ssh only: unreachable hosts and dropped connections

#[tokio::test]
async fn an_unreachable_host_backs_off_and_fails_fast() {
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sshd = Sshd::start(); // only for a key
    let mut s = settings(&sshd, pinned(&sshd));
    s.address = format!("127.0.0.1:{port}");
    let t = SshTransport::new(s);

    let first = run(&t, "true", b"").await.unwrap_err();
    let TransportError::Unreachable { reason, .. } = &first else {
        panic!("{first:?}")
    };
    assert!(!reason.contains("retrying"), "{reason}");

    // Within the 500 ms backoff window: no new attempt, the last error is repeated.
    let started = Instant::now();
    let second = run(&t, "true", b"").await.unwrap_err();
    let elapsed = started.elapsed();
    let TransportError::Unreachable { reason, .. } = &second else {
        panic!("{second:?}")
    };
    assert!(reason.contains("retrying in"), "{reason}");
    assert!(reason.contains("last error"), "{reason}");
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
}

#[tokio::test]
async fn a_server_that_never_speaks_times_out_as_unreachable() {
    // The kernel completes the TCP handshake for the backlog; nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sshd = Sshd::start(); // only for a key
    let mut s = settings(&sshd, pinned(&sshd));
    s.address = silent.local_addr().unwrap().to_string();
    s.connect_timeout = Duration::from_millis(300);
    let t = SshTransport::new(s);
    let err = run(&t, "true", b"").await.unwrap_err();
    let TransportError::Unreachable { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("within 300ms"), "{reason}");
}

#[tokio::test]
async fn a_dropped_connection_ends_streams_without_exit_and_the_next_exec_reconnects() {
    let sshd = Sshd::start();
    let t = ssh(&sshd);
    let mut rx = t.stream("echo ready; exec sleep 60").await.unwrap();
    read_until(&mut rx, "ready\n").await;

    sshd.kill_connections();
    let (rest, exit) = drain(&mut rx).await;
    assert_eq!(
        (rest.as_slice(), exit),
        (&b""[..], None),
        "no Exit after a drop"
    );

    let out = run(&t, "echo back", b"").await.unwrap();
    assert_eq!(out.stdout_text(), "back");
    assert_eq!(t.connection_count(), 1, "the dead connection was replaced");
}

#[tokio::test]
async fn a_dropped_connection_mid_exec_is_disconnected() {
    let sshd = Sshd::start();
    let ws = sshd.workspace();
    let t = Arc::new(ssh(&sshd));
    let started = ws.path().join("started");
    let cmd = format!(
        "touch {}; exec sleep 60",
        quote_path(started.to_str().unwrap())
    );
    let exec = tokio::spawn({
        let t = Arc::clone(&t);
        async move { run(&*t, &cmd, b"").await }
    });
    eventually("the command to start", || started.exists()).await;
    sshd.kill_connections();
    let result = tokio::time::timeout(WAIT, exec).await.unwrap().unwrap();
    assert!(
        matches!(result, Err(TransportError::Disconnected { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn detached_work_survives_a_dropped_connection() {
    let sshd = Sshd::start();
    let ws = sshd.workspace();
    let t = ssh(&sshd);
    let done = ws.path().join("done");
    let cmd = format!(
        "setsid sh -c 'sleep 2; echo done > {}' </dev/null >/dev/null 2>&1 &",
        done.display()
    );
    let out = run(&t, &cmd, b"").await.unwrap();
    assert!(out.success(), "{out:?}");
    sshd.kill_connections();
    assert!(!done.exists(), "the detached job finished before the drop");
    eventually("the detached job to finish", || done.exists()).await;
    assert_eq!(std::fs::read_to_string(&done).unwrap(), "done\n");
}

#[tokio::test]
async fn a_restarted_sshd_is_reconnected_to() {
    let mut sshd = Sshd::start();
    let t = ssh(&sshd);
    assert!(run(&t, "true", b"").await.unwrap().success());
    sshd.restart();
    // The old connection survives a listener restart, like with systemd.
    assert_eq!(run(&t, "echo old", b"").await.unwrap().stdout_text(), "old");
    sshd.kill_connections();
    assert_eq!(run(&t, "echo new", b"").await.unwrap().stdout_text(), "new");
}
