//! Every process on the machine as `/proc` shows it: what `ps` shows anyone (the command line)
//! and what its owner and root can read (the environment). Tests look there for secrets.

use std::fs;

pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    /// The executable's name, as in `/proc/PID/stat`.
    pub comm: String,
    /// NUL-separated arguments.
    pub cmdline: Vec<u8>,
    /// NUL-separated `NAME=value` entries; `None` when it could not be read (another user's
    /// process, without root).
    pub environ: Option<Vec<u8>>,
}

impl Process {
    /// The environment's entries (empty when it could not be read).
    pub fn env_entries(&self) -> Vec<String> {
        self.environ
            .as_deref()
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    /// The command line with spaces for NULs, for messages.
    pub fn command(&self) -> String {
        String::from_utf8_lossy(&self.cmdline).replace('\0', " ")
    }
}

/// Every process alive now (those that end while being read are left out).
pub fn snapshot() -> Vec<Process> {
    let mut all = Vec::new();
    for entry in fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let dir = entry.path();
        let Ok(stat) = fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let Some(ppid) = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
        else {
            continue;
        };
        let Ok(cmdline) = fs::read(dir.join("cmdline")) else {
            continue;
        };
        all.push(Process {
            pid,
            ppid,
            comm: stat[open + 1..close].to_owned(),
            cmdline,
            environ: fs::read(dir.join("environ")).ok(),
        });
    }
    all
}
