//! Sessions on disk, one file each: `$XDG_DATA_HOME/opencode/sessions/<session id>.jsonl`
//! (`XDG_DATA_HOME` defaulting to `$HOME/.local/share`).
//!
//! The real CLI keeps its sessions in SQLite (`…/opencode/opencode.db`); one file per session is
//! the fake's own layout (nothing outside the CLI reads either), chosen so that a test loses a
//! conversation by deleting its file. `--session` of an id with no file is the measured
//! `Session not found`. The file holds one line per prompt
//! (`transcript::Transcript::append_prompt`) and every line the runs printed.

use std::path::{Path, PathBuf};

/// Where the sessions of the data directory `data_home` are.
pub fn dir(data_home: &Path) -> PathBuf {
    data_home.join("opencode/sessions")
}

/// The file of `session_id`, if there is one.
pub fn find(data_home: &Path, session_id: &str) -> Option<PathBuf> {
    // An id is a file name; anything that could walk out of the directory is unknown.
    let plain = session_id.starts_with("ses_")
        && session_id[4..].chars().all(|c| c.is_ascii_alphanumeric());
    let path = dir(data_home).join(format!("{session_id}.jsonl"));
    (plain && path.is_file()).then_some(path)
}

/// A new session id shaped like the real ones: `ses_`, 12 hex digits, 14 letters and digits.
pub fn new_id() -> String {
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let hex = uuid::Uuid::now_v7().simple().to_string();
    let random = uuid::Uuid::new_v4();
    let tail: String = random.as_bytes()[..14]
        .iter()
        .map(|b| ALNUM[usize::from(*b) % ALNUM.len()] as char)
        .collect();
    format!("ses_{}{tail}", &hex[..12])
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn ids_look_real_and_only_plain_ones_are_found() {
        let id = new_id();
        assert_eq!(id.len(), "ses_db8bfcf40ffeK2gc9zZ0MNDOG1".len(), "{id}");
        assert!(id[4..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        let home = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir(home.path())).unwrap();
        fs::write(dir(home.path()).join(format!("{id}.jsonl")), "").unwrap();
        assert!(find(home.path(), &id).is_some());
        assert!(find(home.path(), "ses_../../x").is_none());
        assert!(find(home.path(), "ses_missing").is_none());
    }
}
