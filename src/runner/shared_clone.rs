//! The bare clone a host keeps of one repository, shared by every worktree made of it.
//!
//! A project's sessions (`runner::worktree`) and a GitHub repository's pull-request and issue
//! checkouts (`runner::git`) are `git worktree`s of one bare clone per host and repository, so
//! the objects are fetched once per host. The pieces here are the script lines both use: entering
//! the clone with the token read from stdin, taking the clone's lock (`flock` on `clone.lock`
//! beside it, so two worktrees being made at once never race on its refs or its `git init`),
//! fetching with the token, and putting a new worktree where files may already be.
//!
//! The fetch takes the token the way `runner::git` says: on stdin, into the credential helper,
//! never into a URL, a config file or a command line.

use super::git::prelude;
use super::shell::quote;

/// The first lines of a script working on the shared clone at `clone` (absolute or
/// `~/`-relative) with the repository at `url`: reads the token, defines `gitc`, makes and enters
/// the clone's directory, and keeps git from asking for a password.
pub(super) fn enter(clone: &str, url: &str) -> String {
    format!("{}export GIT_TERMINAL_PROMPT=0\n", prelude(clone, url))
}

/// Takes the clone's lock (held until the script ends) and makes the bare repository if it is
/// not there yet. The lock comes first: two first turns at once would race even on `git init`.
pub(super) const LOCK_AND_INIT: &str = r#"if command -v flock > /dev/null 2>&1; then exec 9> ../clone.lock; flock 9; fi
[ -f HEAD ] || git init -q --bare
"#;

/// Fetches the already quoted `refspecs` from `url` into the clone with the token, showing the
/// last lines of git's complaint and exiting 1 when it fails.
pub(super) fn fetch(url: &str, refspecs: &str) -> String {
    format!(
        r#"if ! out=$(gitc fetch -q --no-tags {url} {refspecs} 2>&1); then
  printf '%s\n' "$out" | tail -n 5 >&2; exit 1
fi
"#,
        url = quote(url),
    )
}

/// Puts a new worktree at `$w` with the script's `add <path>` (a `git worktree add`): files
/// already there (sent before the first turn) move into the new tree. What an interrupted
/// placement left beside it goes first.
pub(super) const PLACE_WORKTREE: &str = r#"rm -rf "$w.sb-new"
git worktree prune
if [ -e "$w" ]; then
  add "$w.sb-new"
  cp -a "$w"/. "$w.sb-new"/ && rm -rf "$w" && git worktree move "$w.sb-new" "$w"
else
  add "$w"
fi
"#;
