//! Sessions on disk, laid out like the real CLI's.
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

use std::fs;
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
