//! Threads on disk, where the real CLI keeps them:
//! `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<timestamp>-<thread_id>.jsonl`.
//!
//! `resume ID` finds the file by its name's end from any cwd, and an id with no file is the
//! measured "no rollout found" failure, so a test can delete the file to lose the thread. The
//! file holds one line per prompt (`transcript::Transcript::append_prompt`) and every line the
//! runs printed.

use std::fs;
use std::path::{Path, PathBuf};

/// The rollout of `thread_id` under `home`, if there is one.
pub fn find(home: &Path, thread_id: &str) -> Option<PathBuf> {
    // An id is part of a file name; anything that could walk out of the directory is unknown.
    if thread_id.is_empty() || thread_id.contains(['/', '\\', '\0', '.']) {
        return None;
    }
    let suffix = format!("-{thread_id}.jsonl");
    let mut found = None;
    visit(&home.join("sessions"), &mut |path| {
        if path.to_string_lossy().ends_with(&suffix) {
            found = Some(path.to_owned());
        }
    });
    found
}

fn visit(dir: &Path, each: &mut dyn FnMut(&Path)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match path.is_dir() {
            true => visit(&path, each),
            false => each(&path),
        }
    }
}

/// Where a new thread's rollout goes, named with today's UTC date and time.
pub fn new_path(home: &Path, thread_id: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let time = format!("{:02}-{:02}-{:02}", rest / 3600, rest / 60 % 60, rest % 60);
    home.join(format!("sessions/{y:04}/{m:02}/{d:02}"))
        .join(format!(
            "rollout-{y:04}-{m:02}-{d:02}T{time}-{thread_id}.jsonl"
        ))
}

/// Days since 1970-01-01 as a (year, month, day) date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_792), (2026, 12, 5));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
