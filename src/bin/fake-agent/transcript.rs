//! A session's file on disk (Claude's transcript, Codex's rollout), appended to line by line.
//!
//! Failures are reported once on stderr and then ignored: the real CLIs also keep answering when
//! they cannot save. Like theirs there is no locking: two concurrent resumes both append.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

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
