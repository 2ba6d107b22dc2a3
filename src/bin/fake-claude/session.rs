//! Sessions on disk, laid out like the real CLI's, and the test recording.
//!
//! The real `claude` keeps one transcript per session at
//! `$CLAUDE_CONFIG_DIR/projects/<sanitised cwd>/<session_id>.jsonl` and `--resume` finds it from
//! any cwd. Switchboard's resume, "unknown session" and cost reporting all depend on that, so the
//! fake keeps real files in the same places: a test can delete one to simulate a lost session.
//!
//! The file holds one line per prompt (marked with `fake_turn`, so a resumed run knows its turn
//! number) and every line the run produced in stream-json form, whatever `--output-format` was
//! asked for. The running cost and per-model totals are read back from the last `result` line,
//! which is where the real CLI reports them too. A run that ends without a result (signals,
//! crashes) adds nothing to the totals. Like the real CLI there is no locking: two concurrent
//! resumes of one session both append.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// `projects/` directory name for a cwd: every char outside `[A-Za-z0-9]` becomes `-`.
pub fn project_dir_name(cwd: &Path) -> String {
    cwd.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Finds `<id>.jsonl` under any `projects/*` directory.
pub fn find_transcript(config_dir: &Path, session_id: &str) -> Option<PathBuf> {
    // An id is a file name; anything that could walk out of the directory is simply unknown.
    if session_id.is_empty()
        || session_id.contains(['/', '\\', '\0'])
        || session_id.starts_with('.')
    {
        return None;
    }
    let file_name = format!("{session_id}.jsonl");
    let mut dirs: Vec<PathBuf> = fs::read_dir(config_dir.join("projects"))
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| dir.join(&file_name))
        .find(|path| path.is_file())
}

/// Token and cost totals of one model over a session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelTotals {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_micro_usd: u64,
}

/// What earlier runs of the session left behind.
#[derive(Debug, Default)]
pub struct History {
    /// How many prompts the session has had.
    pub turns: u64,
    pub total_cost_micro_usd: u64,
    /// Per model, in first-use order.
    pub models: Vec<(String, ModelTotals)>,
}

pub fn read_history(transcript: &Path) -> History {
    let mut history = History::default();
    let Ok(text) = fs::read_to_string(transcript) else {
        return history;
    };
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if value.get("fake_turn").is_some() {
            history.turns += 1;
        }
        if value["type"] != "result" {
            continue;
        }
        history.total_cost_micro_usd = to_micro(&value["total_cost_usd"]);
        if let Some(models) = value["modelUsage"].as_object() {
            history.models = models
                .iter()
                .map(|(model, usage)| {
                    let totals = ModelTotals {
                        input_tokens: usage["inputTokens"].as_u64().unwrap_or(0),
                        output_tokens: usage["outputTokens"].as_u64().unwrap_or(0),
                        cost_micro_usd: to_micro(&usage["costUSD"]),
                    };
                    (model.clone(), totals)
                })
                .collect();
        }
    }
    history
}

fn to_micro(usd: &Value) -> u64 {
    (usd.as_f64().unwrap_or(0.0) * 1e6).round() as u64
}

/// Appends lines to the session transcript. Failures are reported once on stderr and then
/// ignored: the real CLI also keeps answering when it cannot save.
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
                eprintln!(
                    "fake-claude: cannot write transcript {}: {e}",
                    path.display()
                );
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

/// What `FAKE_CLAUDE_RECORD_DIR` gets for one run.
pub struct Record<'a> {
    pub dir: &'a Path,
    pub started_at_ns: u128,
    pub argv: &'a [String],
    pub cwd: &'a Path,
    pub session_id: &'a str,
    pub resumed: bool,
    pub prompt: &'a [u8],
}

/// Writes `<ns>-<pid>.prompt` (exact bytes), then `<ns>-<pid>.json` through a rename, so a test
/// that sees the JSON file can read both completely.
pub fn write_record(record: &Record<'_>) -> std::io::Result<()> {
    fs::create_dir_all(record.dir)?;
    let base = format!("{}-{}", record.started_at_ns, std::process::id());
    let prompt_file = format!("{base}.prompt");
    fs::write(record.dir.join(&prompt_file), record.prompt)?;
    let json = serde_json::json!({
        "argv": record.argv,
        "cwd": record.cwd.to_string_lossy(),
        "session_id": record.session_id,
        "resumed": record.resumed,
        "started_at_ns": record.started_at_ns as u64,
        "prompt_file": prompt_file,
    });
    let tmp = record.dir.join(format!(".{base}.json.tmp"));
    fs::write(&tmp, json.to_string())?;
    fs::rename(&tmp, record.dir.join(format!("{base}.json")))
}

/// Records when this run exits (`<started_at_ns>-<pid>.exited`: nanoseconds since the epoch);
/// a failure to write it is only said.
pub fn write_exit(dir: &Path, started_at_ns: u128) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let file = dir.join(format!("{started_at_ns}-{}.exited", std::process::id()));
    if let Err(e) = fs::write(&file, now.to_string()) {
        eprintln!(
            "fake-claude: cannot record the exit in {}: {e}",
            dir.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_dir_replaces_every_other_char() {
        assert_eq!(
            project_dir_name(Path::new("/home/dev/my_proj.v2")),
            "-home-dev-my-proj-v2"
        );
        assert_eq!(project_dir_name(Path::new("/tmp/é")), "-tmp--");
    }
}
