//! A real OpenSSH `sshd` for tests, on a random loopback port with throwaway keys.
//!
//! Each [`Sshd`] has its own temporary directory holding an ed25519 host key, an ed25519 client
//! key (authorized for the login user), the config and the log. The login user is `sbtest`
//! when the tests run as root (created by `scripts/test-setup.sh`, shell `/bin/sh` so no rc
//! file slows down every exec) and the current user otherwise. Nothing is skipped: a missing
//! `sshd` or login user panics with the command that fixes it.
//!
//! Several instances stand for several hosts. [`Sshd::kill_connections`] cuts every live
//! connection the way a network drop would (the per-connection sshd processes die, the commands
//! they ran are orphaned, not signalled); [`Sshd::restart`] restarts the listener on the same
//! port with the same keys. [`Sshd::start_recording`] starts one that also keeps every command
//! it runs ([`Sshd::commands`]), to count what a turn costs the host.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The login user the tests use when they run as root.
pub const TEST_USER: &str = "sbtest";
const SSHD: &str = "/usr/sbin/sshd";
/// How long sshd may take to start accepting connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many fresh ports to try when the chosen one turns out to be taken.
const PORT_ATTEMPTS: usize = 5;

pub struct Sshd {
    dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    port: u16,
    user: String,
    /// uid/gid of the login user, to chown workspaces (only when running as root).
    owner: Option<(u32, u32)>,
    client_key: PathBuf,
    host_public_key: String,
    host_key_fingerprint: String,
    child: Child,
    /// Commands orphaned by [`Sshd::kill_connections`], killed on drop so tests leave nothing.
    orphans: Mutex<Vec<u32>>,
    /// Where [`Sshd::start_recording`] keeps the commands run, one file each.
    recorded: Option<PathBuf>,
}

impl Sshd {
    /// Starts a fresh sshd and waits until it accepts connections.
    pub fn start() -> Sshd {
        Sshd::start_with(false)
    }

    /// [`Sshd::start`], keeping every command run (see [`Sshd::commands`]). Each command then
    /// goes through a recording `ForceCommand`, a few processes more per exec.
    pub fn start_recording() -> Sshd {
        Sshd::start_with(true)
    }

    fn start_with(record: bool) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "OpenSSH's sshd is missing ({SSHD}); the SSH tests need it: run `scripts/test` (or `scripts/test-setup.sh` as root)"
        );
        let root = command_output("id", &["-u"]) == "0";
        let (user, owner) = if root {
            let ids = (
                Command::new("id").args(["-u", TEST_USER]).output(),
                Command::new("id").args(["-g", TEST_USER]).output(),
            );
            let (Ok(uid), Ok(gid)) = ids else {
                panic!("cannot run `id`");
            };
            assert!(
                uid.status.success() && gid.status.success(),
                "the test SSH user `{TEST_USER}` is missing: run `scripts/test` (or `scripts/test-setup.sh` as root)"
            );
            let parse = |out: Vec<u8>| String::from_utf8(out).unwrap().trim().parse().unwrap();
            (
                TEST_USER.to_owned(),
                Some((parse(uid.stdout), parse(gid.stdout))),
            )
        } else {
            (command_output("id", &["-un"]), None)
        };

        let dir = tempfile::Builder::new()
            .prefix("switchboard-sshd-")
            .tempdir()
            .expect("create the sshd temp dir");
        // The login user must reach authorized_keys; private keys stay 0600.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let host_key = keygen(dir.path(), "host_ed25519", "switchboard-test-host");
        let client_key = keygen(dir.path(), "client_ed25519", "switchboard-test-client");
        let authorized_keys = dir.path().join("authorized_keys");
        fs::copy(client_key.with_extension("pub"), &authorized_keys).unwrap();
        fs::set_permissions(&authorized_keys, fs::Permissions::from_mode(0o644)).unwrap();

        let host_pub = fs::read_to_string(host_key.with_extension("pub")).unwrap();
        let host_public_key = host_pub
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        // "256 SHA256:… comment (ED25519)"
        let host_key_fingerprint = command_output(
            "ssh-keygen",
            &["-lf", host_key.with_extension("pub").to_str().unwrap()],
        )
        .split_whitespace()
        .nth(1)
        .expect("ssh-keygen -lf prints a fingerprint")
        .to_owned();

        if root {
            // sshd's privilege separation directory; absent on a machine where sshd never ran.
            fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        let recorded = record.then(|| recorder(dir.path(), owner));
        let force_command = match &recorded {
            Some(commands) => format!("ForceCommand {}\n", commands.with_extension("sh").display()),
            None => String::new(),
        };
        let config = dir.path().join("sshd_config");
        let log = dir.path().join("sshd.log");
        let mut last_failure = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            fs::write(
                &config,
                format!(
                    "ListenAddress 127.0.0.1\n\
                     Port {port}\n\
                     HostKey {host_key}\n\
                     AuthorizedKeysFile {authorized_keys}\n\
                     StrictModes no\n\
                     UsePAM no\n\
                     PasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\n\
                     PermitRootLogin no\n\
                     PidFile none\n\
                     LogLevel ERROR\n\
                     MaxStartups 100\n\
                     {force_command}",
                    host_key = host_key.display(),
                    authorized_keys = authorized_keys.display(),
                ),
            )
            .unwrap();
            match spawn_ready(&config, &log, port) {
                Ok(child) => {
                    return Sshd {
                        dir,
                        config,
                        log,
                        port,
                        user,
                        owner,
                        client_key,
                        host_public_key,
                        host_key_fingerprint,
                        child,
                        orphans: Mutex::new(Vec::new()),
                        recorded,
                    };
                }
                Err(failure) => last_failure = failure,
            }
        }
        panic!("sshd did not start after {PORT_ATTEMPTS} attempts: {last_failure}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The private key (OpenSSH format, ed25519) this sshd accepts for [`Sshd::user`].
    pub fn client_key_path(&self) -> &Path {
        &self.client_key
    }

    /// `ssh-ed25519 AAAA…` — the host key as a config `host_key` line.
    pub fn host_public_key(&self) -> String {
        self.host_public_key.clone()
    }

    /// `SHA256:…` as printed by `ssh-keygen -lf`.
    pub fn host_key_fingerprint(&self) -> String {
        self.host_key_fingerprint.clone()
    }

    /// A fresh directory owned by the login user, for workdirs and state dirs.
    pub fn workspace(&self) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("switchboard-ws-")
            .tempdir()
            .expect("create a workspace dir");
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown workspace");
        }
        dir
    }

    /// The sshd log so far (errors only), for assertion messages.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The commands run so far, oldest first (only for [`Sshd::start_recording`]).
    pub fn commands(&self) -> Vec<String> {
        let dir = self.recorded.as_ref().expect("an sshd started recording");
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .expect("the recorded commands")
            .map(|e| e.expect("entry").path())
            .collect();
        // Named by the nanosecond they started at (same number of digits until 2286).
        files.sort();
        files
            .iter()
            .map(|f| fs::read_to_string(f).expect("a recorded command"))
            .collect()
    }

    /// Live connections: the per-connection sshd processes forked by the listener.
    pub fn connection_count(&self) -> usize {
        let procs = processes();
        procs
            .iter()
            .filter(|(_, p)| p.ppid == self.child.id() && p.is_sshd())
            .count()
    }

    /// SIGKILLs every per-connection sshd process (not the listener, not the commands): every
    /// live SSH connection is cut at once, like a network drop. Returns when they are gone.
    pub fn kill_connections(&self) {
        let procs = processes();
        let (victims, orphans): (Vec<u32>, Vec<u32>) = descendants(&procs, self.child.id())
            .into_iter()
            .partition(|pid| procs[pid].is_sshd());
        kill(&victims);
        wait_gone(&victims);
        self.orphans.lock().unwrap().extend(orphans);
    }

    /// Stops sshd and starts it again on the same port with the same keys. Live connections
    /// survive, as with a real `systemctl restart ssh`.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_ready(&self.config, &self.log, self.port)
            .unwrap_or_else(|e| panic!("restarting sshd on port {}: {e}", self.port));
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // Everything this sshd started (connections, the commands they ran, commands orphaned
        // by `kill_connections`); detached work started by a finished command has been
        // reparented away and is left alone.
        let procs = processes();
        let mut all = descendants(&procs, self.child.id());
        all.extend(
            self.orphans
                .lock()
                .unwrap()
                .drain(..)
                .filter(|pid| procs.contains_key(pid)),
        );
        kill(&all);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts sshd on `port` and waits until it greets on it. `Err` (with the log) when it exits
/// instead, e.g. because the port was taken meanwhile.
fn spawn_ready(config: &Path, log: &Path, port: u16) -> Result<Child, String> {
    let _ = fs::remove_file(log);
    let mut child = Command::new(SSHD)
        .arg("-D")
        .arg("-f")
        .arg(config)
        .arg("-E")
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {SSHD}: {e}"));
    let deadline = Instant::now() + READY_TIMEOUT;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!(
                "sshd exited with {status} on port {port}; its log:\n{}",
                fs::read_to_string(log).unwrap_or_default()
            ));
        }
        if greets(&addr) && child.try_wait().unwrap().is_none() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "sshd did not accept connections on port {port} within {READY_TIMEOUT:?}; its log:\n{}",
                fs::read_to_string(log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Writes the `ForceCommand` that keeps each command in a file of its own (named by the
/// nanosecond it started at and its pid) before running it as sshd would have; returns the
/// directory of those files (the script sits beside it, `.sh`).
fn recorder(dir: &Path, owner: Option<(u32, u32)>) -> PathBuf {
    let commands = dir.join("commands");
    fs::create_dir(&commands).unwrap();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&commands, Some(uid), Some(gid)).expect("chown the record dir");
    }
    let script = commands.with_extension("sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh
             printf '%s' \"$SSH_ORIGINAL_COMMAND\" > {dir}/\"$(date +%s%N).$$\"
             exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"
",
            dir = commands.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    commands
}

/// True when something on `addr` answers with an SSH banner.
fn greets(addr: &SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut banner = [0u8; 8];
    stream.read_exact(&mut banner).is_ok() && banner.starts_with(b"SSH-2.0-")
}

/// A port for sshd to listen on (see `ports`: no parallel test takes it).
fn free_port() -> u16 {
    super::ports::reserve()
}

fn keygen(dir: &Path, name: &str, comment: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-t", "ed25519", "-N", "", "-q", "-C", comment, "-f"])
        .arg(&path)
        .status()
        .expect("run ssh-keygen (package openssh-client)");
    assert!(status.success(), "ssh-keygen failed for {}", path.display());
    path
}

fn command_output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(out.status.success(), "{program} {args:?} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Proc {
    ppid: u32,
    comm: String,
}

impl Proc {
    fn is_sshd(&self) -> bool {
        // "sshd", or "sshd-session" on OpenSSH ≥ 9.8.
        self.comm.starts_with("sshd")
    }
}

/// Every process, from /proc/<pid>/stat.
fn processes() -> HashMap<u32, Proc> {
    let mut procs = HashMap::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let (Some(state), Some(ppid)) = (rest.next(), rest.next()) else {
            continue;
        };
        if state == "Z" {
            continue;
        }
        if let Ok(ppid) = ppid.parse() {
            procs.insert(pid, Proc { ppid, comm });
        }
    }
    procs
}

fn descendants(procs: &HashMap<u32, Proc>, root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, p) in procs {
            if p.ppid == parent {
                found.push(*pid);
                frontier.push(*pid);
            }
        }
    }
    found
}

fn kill(pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-KILL")
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

/// Waits until none of `pids` is alive (gone or a zombie).
fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let procs = processes();
        if pids.iter().all(|pid| !procs.contains_key(pid)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("processes {pids:?} survived SIGKILL");
}
