//! A session's worktree on its host, made before its first turn.
//!
//! Every session of a project on one host shares one bare clone (`projects/<key>/clone`): the
//! objects are fetched once per host, and each session gets `git worktree add` of its own on
//! its own branch, cut from the base the session chose. Two sessions preparing at once take
//! turns on the clone (`flock` on a lock file beside it), so their fetches never race on its
//! refs. The clone, its lock and its fetch are `runner::shared_clone`'s, which GitHub's
//! pull-request checkouts share: the token goes on stdin, into the helper, never into a URL, a
//! config file or a command line.
//!
//! Preparing is idempotent and cheap once done: a worktree that exists is used as it is (the
//! agent's work in it is the session's), and the project's `setup` command runs once per
//! worktree — a marker in the worktree's own git directory records that it finished, so a bot
//! restarted in the middle runs it again rather than never. A worktree the clean-up removed is
//! made again the same way when its session has another turn: from a fresh fetch of the base,
//! or on the session's branch as it is when that was kept (it had been pushed).

use super::git::{CommitAs, GitError, commit_uncommitted, prelude, stdin, stdin_with_commit};
use super::shared_clone::{self, LOCK_AND_INIT, PLACE_WORKTREE};
use super::shell::{quote, quote_path, reported};
use super::transport::Transport;
use crate::config::Secret;
use crate::domain::workspace::ProjectWorktree;

/// Lines of a failed setup's output shown to the user.
const SETUP_TAIL_LINES: usize = 20;

/// A worktree ready for a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The commit the worktree is at.
    pub head: String,
    /// Whether this call made it (its first turn); later turns find it made.
    pub created: bool,
}

/// Whether the worktree at `dir` is made and set up (the common case: every turn after the
/// first), so nothing needs fetching and no token is needed.
pub async fn is_ready(host: &dyn Transport, dir: &str) -> Result<bool, GitError> {
    let script = format!(
        r#"w={dir}
[ -e "$w/.git" ] && gd=$(cd "$w" && git rev-parse --absolute-git-dir 2> /dev/null) && [ -e "$gd/switchboard-ready" ]"#,
        dir = quote_path(dir)
    );
    Ok(host.exec(&script, b"").await?.success())
}

/// Makes `worktree`'s directory `dir` (absolute or `~/`-relative) ready: fetches `base` (a
/// branch, or `HEAD` for the remote's default) from `clone_url` into the shared clone at
/// `clone`, adds the worktree on the session's branch, runs the setup.
pub async fn prepare(
    host: &dyn Transport,
    clone: &str,
    dir: &str,
    worktree: &ProjectWorktree,
    clone_url: &str,
    base: &str,
    token: &Secret,
) -> Result<Ready, GitError> {
    let base_ref = base_ref(&worktree.branch);
    let source = if base == "HEAD" {
        "HEAD".to_owned()
    } else {
        format!("refs/heads/{base}")
    };
    let setup = match &worktree.setup {
        Some(command) => format!(
            r#"  if ! (cd "$w" && sh -c {command}) > "$gd/switchboard-setup.log" 2>&1 < /dev/null; then
    echo "the project's setup failed; its last lines:" >&2
    tail -n {SETUP_TAIL_LINES} "$gd/switchboard-setup.log" >&2; exit 4
  fi
"#,
            command = quote(command),
        ),
        None => String::new(),
    };
    let script = format!(
        r#"{enter}w={dir}
created=no
if [ ! -e "$w/.git" ]; then
{lock_and_init}  if git show-ref -q --verify {branch_ref}; then
    # A pushed branch whose worktree the clean-up removed: the tree is made again on it.
    add() {{ git worktree add -q -f "$1" {branch} > /dev/null; }}
  else
{fetch}    add() {{ git worktree add -q -f -B {branch} "$1" {base_ref} > /dev/null; }}
  fi
{place}  created=yes
fi
gd=$(cd "$w" && git rev-parse --absolute-git-dir)
if [ ! -e "$gd/switchboard-ready" ]; then
{setup}  : > "$gd/switchboard-ready"
fi
echo "head $(cd "$w" && git rev-parse HEAD)"
echo "created $created""#,
        enter = shared_clone::enter(clone, clone_url),
        lock_and_init = LOCK_AND_INIT,
        fetch = shared_clone::fetch(clone_url, &quote(&format!("+{source}:{base_ref}"))),
        place = PLACE_WORKTREE,
        dir = quote_path(dir),
        branch = quote(&worktree.branch),
        branch_ref = quote(&format!("refs/heads/{}", worktree.branch)),
        base_ref = quote(&base_ref),
    );
    let out = host.exec(&script, &stdin(token)).await?;
    if !out.success() {
        let what = match out.status {
            Some(4) => "setting up the workspace".to_owned(),
            _ => format!("fetching {base} of {}", worktree.project),
        };
        return Err(GitError::Failed(format!(
            "{what} failed: {}",
            out.stderr_text()
        )));
    }
    let text = out.stdout_text();
    let field = |name: &str| reported(&text, name);
    Ok(Ready {
        head: field("head ").ok_or_else(|| GitError::Failed(format!("no head in {text:?}")))?,
        created: field("created ").as_deref() == Some("yes"),
    })
}

/// What pushing a session's branch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The branch's commit now.
    pub head: String,
    /// Whether uncommitted work was committed first.
    pub committed: bool,
    /// Commits on the branch after the commit the session started from.
    pub ahead: u64,
}

/// Commits what is uncommitted in the worktree at `dir` (as `commit` says), then pushes its
/// branch to `url` with `token` — unless it has no commits of its own, when nothing is pushed
/// (`ahead` 0). Pushing a branch that is already there is a no-op, so a repeated call after a
/// crash pushes nothing twice.
pub async fn push_branch(
    host: &dyn Transport,
    dir: &str,
    branch: &str,
    url: &str,
    commit: &CommitAs,
    token: &Secret,
) -> Result<Pushed, GitError> {
    let script = format!(
        r#"{prelude}export GIT_TERMINAL_PROMPT=0
[ -e .git ] || {{ echo "the session's workspace is not on the host (removed, or not made yet)" >&2; exit 5; }}
{commit}
ahead=$(git rev-list --count {base}..HEAD)
echo "head $(git rev-parse HEAD)"
echo "committed $committed"
echo "ahead $ahead"
[ "$ahead" -gt 0 ] || exit 0
if ! out=$(gitc push -q {url} {refspec} 2>&1 < /dev/null); then
  printf '%s
' "$out" | tail -n 5 >&2; exit 1
fi"#,
        prelude = prelude(dir, url),
        commit = commit_uncommitted(),
        base = quote(&base_ref(branch)),
        url = quote(url),
        refspec = quote(&format!("HEAD:refs/heads/{branch}")),
    );
    let out = host
        .exec(&script, &stdin_with_commit(token, commit))
        .await?;
    if !out.success() {
        return Err(GitError::Failed(format!(
            "pushing {branch} failed: {}",
            out.stderr_text()
        )));
    }
    let text = out.stdout_text();
    let field = |name: &str| reported(&text, name);
    Ok(Pushed {
        head: field("head ").ok_or_else(|| GitError::Failed(format!("no head in {text:?}")))?,
        committed: field("committed ").as_deref() == Some("yes"),
        ahead: field("ahead ").and_then(|n| n.parse().ok()).unwrap_or(0),
    })
}

/// What `/status` shows of a session's directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceState {
    /// False when the directory is not there (not made yet, or cleaned up).
    pub exists: bool,
    /// The checked-out branch, when it is a repository on one.
    pub branch: Option<String>,
    /// Commits on the branch after the commit the session started from, and the other way.
    pub ahead: Option<u64>,
    pub behind: Option<u64>,
    /// Files `git status` lists (changed, new or deleted, not committed).
    pub dirty: Option<u64>,
    /// Disk use of the directory, in KiB.
    pub disk_kib: Option<u64>,
}

/// Reads the state of the session directory `dir`; `base` is the ref of the commit the session
/// started from, when it has one (a worktree's `refs/switchboard/bases/<tag>`).
pub async fn state(
    host: &dyn Transport,
    dir: &str,
    base: Option<&str>,
) -> Result<WorkspaceState, GitError> {
    let counts = base
        .map(|base| {
            format!(
                "c=$(git rev-list --left-right --count {}...HEAD 2> /dev/null) && echo \"counts $c\"\n",
                quote(base)
            )
        })
        .unwrap_or_default();
    let script = format!(
        r#"cd {dir} 2> /dev/null || exit 0
echo exists
echo "disk $(du -sk . 2> /dev/null | cut -f1)"
if git rev-parse -q --verify HEAD > /dev/null 2>&1; then
  b=$(git branch --show-current) && [ -n "$b" ] && echo "branch $b"
  echo "dirty $(git status --porcelain 2> /dev/null | wc -l)"
  {counts}fi"#,
        dir = quote_path(dir),
    );
    let out = host.exec(&script, b"").await?;
    let text = out.stdout_text();
    let field = |name: &str| reported(&text, name);
    let number = |name: &str| field(name).and_then(|v| v.parse().ok());
    let counts = field("counts ");
    let mut counts = counts.iter().flat_map(|c| c.split_whitespace());
    Ok(WorkspaceState {
        exists: text.lines().any(|l| l == "exists"),
        branch: field("branch "),
        behind: counts.next().and_then(|n| n.parse().ok()),
        ahead: counts.next().and_then(|n| n.parse().ok()),
        dirty: number("dirty "),
        disk_kib: number("disk "),
    })
}

/// The ref naming the commit a worktree on `branch` started from.
pub fn base_ref(branch: &str) -> String {
    let tag = branch.rsplit('/').next().unwrap_or(branch);
    format!("refs/switchboard/bases/{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::local::LocalTransport;
    use crate::runner::test_git::{git, origin, worktree};
    use std::path::Path;
    use std::process::Command;

    /// Two sessions share the clone's objects, each on its own branch and tree; setup runs once
    /// per worktree, and a worktree made is used as it is.
    #[tokio::test]
    async fn sessions_get_worktrees_of_one_clone() {
        let root = tempfile::tempdir().unwrap();
        let origin = origin(root.path());
        git(&origin, &["checkout", "-qb", "dev"]);
        std::fs::write(origin.join("a.txt"), "dev\n").unwrap();
        git(&origin, &["commit", "-qam", "on dev"]);
        git(&origin, &["checkout", "-q", "main"]);
        let host = LocalTransport::new("local");
        let url = origin.display().to_string();
        let clone = root.path().join("projects/web/clone").display().to_string();
        let ws = |name: &str| root.path().join("projects/web/ws").join(name);
        let token = Secret::new("t0ken-not-in-files");
        let setup = Some("echo ran >> setup.count; echo noise");

        let one = worktree("switchboard/aaa", setup);
        let dir_one = ws("one").display().to_string();
        assert!(!is_ready(&host, &dir_one).await.unwrap());
        let first = prepare(&host, &clone, &dir_one, &one, &url, "HEAD", &token)
            .await
            .unwrap();
        assert!(is_ready(&host, &dir_one).await.unwrap());
        assert!(first.created);
        assert_eq!(first.head, git(&origin, &["rev-parse", "main"]));
        let two = worktree("switchboard/bbb", setup);
        let dir_two = ws("two").display().to_string();
        // A file sent before the first turn is in the tree it gets.
        std::fs::create_dir_all(ws("two").join(".switchboard/inbox")).unwrap();
        std::fs::write(ws("two").join(".switchboard/inbox/sent.txt"), "sent\n").unwrap();
        let second = prepare(&host, &clone, &dir_two, &two, &url, "dev", &token)
            .await
            .unwrap();
        assert_eq!(second.head, git(&origin, &["rev-parse", "dev"]));
        assert_eq!(
            std::fs::read_to_string(ws("two").join("a.txt")).unwrap(),
            "dev\n"
        );
        assert!(ws("two").join(".switchboard/inbox/sent.txt").exists());
        assert_eq!(
            git(&ws("one"), &["branch", "--show-current"]),
            "switchboard/aaa"
        );
        assert_eq!(
            git(&ws("two"), &["branch", "--show-current"]),
            "switchboard/bbb"
        );

        // The agent's work stays; the setup does not run again.
        std::fs::write(ws("one").join("mine.txt"), "work\n").unwrap();
        let again = prepare(&host, &clone, &dir_one, &one, &url, "HEAD", &token)
            .await
            .unwrap();
        assert!(!again.created);
        assert!(ws("one").join("mine.txt").exists());
        assert!(!ws("two").join("mine.txt").exists());
        assert_eq!(
            std::fs::read_to_string(ws("one").join("setup.count")).unwrap(),
            "ran\n"
        );
        let seen = state(&host, &dir_one, Some(&base_ref(&one.branch)))
            .await
            .unwrap();
        assert_eq!(
            (seen.exists, seen.branch.as_deref(), seen.ahead, seen.behind),
            (true, Some("switchboard/aaa"), Some(0), Some(0))
        );
        // mine.txt and setup.count.
        assert_eq!(seen.dirty, Some(2));
        assert!(seen.disk_kib.is_some_and(|kib| kib > 0));
        git(&ws("one"), &["add", "mine.txt"]);
        git(&ws("one"), &["commit", "-qm", "mine"]);
        let seen = state(&host, &dir_one, Some(&base_ref(&one.branch)))
            .await
            .unwrap();
        assert_eq!((seen.ahead, seen.dirty), (Some(1), Some(1)));
        let gone = state(&host, &ws("none").display().to_string(), None)
            .await
            .unwrap();
        assert_eq!(gone, WorkspaceState::default());
        let branches = git(Path::new(&clone), &["branch", "--format=%(refname:short)"]);
        assert_eq!(branches, "switchboard/aaa\nswitchboard/bbb");

        // Pushing: the uncommitted work is committed as the person, then the branch is pushed;
        // again, nothing new happens; a session with no work of its own pushes nothing.
        let by = CommitAs {
            author_name: "Alice\nEvil: x".into(),
            author_email: "1001@telegram.invalid".into(),
            message: "Add mine\n\n$(touch pwned) `x` 'q'\n".into(),
        };
        let pushed = push_branch(&host, &dir_one, &one.branch, &url, &by, &token)
            .await
            .unwrap();
        assert_eq!((pushed.committed, pushed.ahead), (true, 2));
        assert_eq!(
            git(&origin, &["rev-parse", "switchboard/aaa"]),
            pushed.head,
            "the branch is on the remote"
        );
        assert_eq!(
            git(
                &origin,
                &["log", "-1", "--format=%an <%ae>|%cn|%B", "switchboard/aaa"]
            ),
            "Alice Evil: x <1001@telegram.invalid>|Switchboard|Add mine\n\n$(touch pwned) `x` 'q'"
        );
        assert!(!ws("one").join("pwned").exists());
        let again = push_branch(&host, &dir_one, &one.branch, &url, &by, &token)
            .await
            .unwrap();
        assert_eq!(
            (again.committed, again.ahead, again.head),
            (false, 2, pushed.head)
        );
        let idle = push_branch(&host, &dir_two, &two.branch, &url, &by, &token).await;
        // setup.count is the only change there: committed, and so one commit ahead.
        assert_eq!(idle.unwrap().ahead, 1);
        let gone = push_branch(
            &host,
            &ws("none").display().to_string(),
            "switchboard/x",
            &url,
            &by,
            &token,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(gone.contains("not on the host"), "{gone}");
        assert_eq!(branches, "switchboard/aaa\nswitchboard/bbb");

        // A failing setup says so with its output, and runs again on the next turn.
        let broken = worktree("switchboard/ccc", Some("echo missing-tool >&2; exit 3"));
        let dir_three = ws("three").display().to_string();
        let err = prepare(&host, &clone, &dir_three, &broken, &url, "HEAD", &token)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("setting up the workspace failed"), "{err}");
        assert!(err.contains("missing-tool"), "{err}");
        assert!(!is_ready(&host, &dir_three).await.unwrap());

        let missing = worktree("switchboard/ddd", None);
        let dir_four = ws("four").display().to_string();
        let err = prepare(&host, &clone, &dir_four, &missing, &url, "nope", &token)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("fetching nope of web failed"), "{err}");

        let grep = Command::new("grep")
            .args(["-r", "-l", token.expose()])
            .arg(root.path())
            .output()
            .unwrap();
        assert!(grep.stdout.is_empty(), "{grep:?}");
    }
}
