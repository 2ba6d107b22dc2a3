//! A session's file on disk (Claude's transcript, Codex's rollout, OpenCode's session),
//! appended to line by line.
//!
//! Failures are reported once on stderr and then ignored: the real CLIs also keep answering when
//! they cannot save. Like theirs there is no locking: two concurrent resumes both append.
//!
//! The fakes whose sessions hold only the printed lines (Codex's, OpenCode's) keep each prompt
//! as a `fake_prompt` line marked `fake_turn`: how a resumed run knows its turn number.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::tree::Node;

/// How many prompts the session file at `path` has had (`fake_turn` lines).
// Not every fake counts its turns this way (fake-claude reads its transcript's history).
#[allow(dead_code)]
pub fn turns(path: &Path) -> u64 {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("fake_turn").is_some())
        .count() as u64
}

pub struct Transcript {
    file: Option<File>,
}

impl Transcript {
    pub fn open(path: &Path) -> Transcript {
        let opened = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| OpenOptions::new().create(true).append(true).open(path));
        match opened {
            Ok(file) => Transcript { file: Some(file) },
            Err(e) => {
                eprintln!("fake agent: cannot write {}: {e}", path.display());
                Transcript { file: None }
            }
        }
    }

    /// Keeps the prompt of turn `turn`, run in `cwd` (see [`turns`]).
    #[allow(dead_code)]
    pub fn append_prompt(&mut self, text: &str, cwd: &Path, turn: u64) {
        let line = Node::obj([
            ("type", "fake_prompt".into()),
            ("text", text.into()),
            ("cwd", cwd.to_string_lossy().as_ref().into()),
            ("fake_turn", turn.into()),
        ]);
        self.append(&line.to_json());
    }

    pub fn append(&mut self, line: &str) {
        if let Some(file) = &mut self.file {
            let mut buf = Vec::with_capacity(line.len() + 1);
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
            if file.write_all(&buf).is_err() {
                self.file = None;
            }
        }
    }
}
