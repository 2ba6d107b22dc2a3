//! What a fake agent's tool directives really do to the workspace, the same for every fake:
//! only how each CLI reports it differs.

use std::path::Path;
use std::process::Output;

/// Writes `bytes` to `target`, making its directories first.
pub fn write_file(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(target, bytes))
}

/// Commits everything in `cwd`'s repository as `author` (a name; the address is made up), like
/// an agent running `git add -A && git commit` with its shell tool, but without a shell. The
/// output of the step that failed, or of the commit.
pub fn commit(cwd: &Path, author: &str, message: &str) -> std::io::Result<Output> {
    let email = format!(
        "{}@example.invalid",
        author.to_lowercase().replace(' ', "-")
    );
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-c", &format!("user.name={author}")])
            .args(["-c", &format!("user.email={email}")])
            .args(args)
            .current_dir(cwd)
            .output()
    };
    let added = git(&["add", "-A"])?;
    match added.status.success() {
        true => git(&["commit", "-q", "-m", message]),
        false => Ok(added),
    }
}
