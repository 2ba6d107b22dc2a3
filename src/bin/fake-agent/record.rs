//! What a fake agent records for the tests: what reached it and when it ended.
//!
//! A test can only see an agent's run through the chat, so each run leaves, in a directory its
//! environment names, `<started_at_ns>-<pid>.json` (argv, cwd, session id, whether it resumed),
//! `<same>.prompt` (the exact stdin bytes), both before any output, and `<same>.exited` (the
//! nanosecond it exits at). Every fake writes the same files, so the harness reads any agent's.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

/// What the record directory (`FAKE_CLAUDE_RECORD_DIR`, `FAKE_CODEX_RECORD_DIR`,
/// `FAKE_OPENCODE_RECORD_DIR`) gets for one run.
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

/// An environment variable, unset when empty.
pub fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// A fake's whole run: `body` gets the start (nanoseconds since the epoch, taken first: what
/// start-up benchmarks measure against) and the record directory `record_env` names; its exit
/// is recorded last (for benchmarks that time what follows an agent's end), then the process
/// exits with `body`'s code.
pub fn run_recorded(record_env: &str, body: impl FnOnce(u128, Option<&Path>) -> i32) -> ! {
    let started_at_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let record_dir = var(record_env).map(PathBuf::from);
    let code = body(started_at_ns, record_dir.as_deref());
    if let Some(dir) = &record_dir {
        write_exit(dir, started_at_ns);
    }
    std::process::exit(code)
}

/// A run's arguments as text, for its record.
pub fn argv_text(argv: &[OsString]) -> Vec<String> {
    argv.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
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
            "fake agent: cannot record the exit in {}: {e}",
            dir.display()
        );
    }
}

/// Writes and flushes stdout, ignoring a closed pipe (a dropped SSH client).
pub fn print_raw(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}
