//! Loopback ports for the servers the tests start as child processes (the bot, sshd), which are
//! told their port before they bind it.
//!
//! A port the kernel hands out for `127.0.0.1:0` lies in its ephemeral range, where any outgoing
//! connection of a test running in parallel may take it in the moment before the child binds
//! it ("Address already in use"). So these come from below that range, where the kernel never
//! picks on its own, and each is held for the life of the test process by an exclusive `flock`
//! on a file named after it: two test processes never pick the same port, and a process that
//! dies lets its ports go with its locks. A port some other program listens on is skipped (it
//! is bound once to check).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::Mutex;

/// The range ports are taken from: below Linux's ephemeral range (32768–60999 by default).
const FIRST: u16 = 20_000;
const LAST: u16 = 32_000;

/// The lock files of the ports this process holds (their locks last as long as the files).
static HELD: Mutex<Vec<File>> = Mutex::new(Vec::new());

/// A loopback port no other test process holds and nothing listens on.
pub fn reserve() -> u16 {
    let dir = std::env::temp_dir().join("switchboard-test-ports");
    std::fs::create_dir_all(&dir).expect("create the port lock folder");
    let span = u32::from(LAST - FIRST);
    // Start somewhere different in each process, so processes rarely meet at all.
    let seed = std::process::id().wrapping_mul(2_654_435_761).wrapping_add(
        std::time::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.subsec_nanos()),
    );
    for step in 0..span {
        let port = FIRST + ((seed.wrapping_add(step)) % span) as u16;
        let lock = File::create(dir.join(port.to_string())).expect("create a port lock file");
        // SAFETY: flock on a file descriptor this function owns; no memory is shared.
        let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked || std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        HELD.lock().unwrap_or_else(|e| e.into_inner()).push(lock);
        return port;
    }
    panic!("no loopback port free in {FIRST}..{LAST}");
}

#[test]
fn ports_held_by_this_process_are_not_handed_out_twice() {
    let ports: Vec<u16> = (0..20).map(|_| reserve()).collect();
    let mut unique = ports.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ports.len(), "{ports:?}");
    assert!(ports.iter().all(|p| (FIRST..LAST).contains(p)), "{ports:?}");
}
