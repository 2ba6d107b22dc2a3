//! Removing a workspace from its host: an idle session's own, or a GitHub checkout its turns
//! used (the clean-up of idle sessions).
//!
//! A worktree is removed from its shared clone (`git worktree remove`, then `prune`) under the
//! clone's lock, so it never races another worktree being made; the clone itself stays for the
//! other sessions and checkouts of its repository. A session's branch is deleted with it, and
//! the ref of the commit it started from, unless the branch was pushed: then its work lives on
//! the remote, and a later turn of the session makes the worktree again on it
//! (`runner::worktree::prepare`). A checkout's refs (`refs/switchboard/checkouts/<name>/…`) and
//! branch (`switchboard/<name>`) go too, unless the branch has commits after the checkout's
//! base — the agent's, never pushed (pushing moves the base): then the branch and its base stay,
//! and the checkout's next turn makes the worktree again on them (`runner::git::prepare`), the
//! agent continuing where it left off. What was left uncommitted in a worktree goes with it. A
//! scratch directory is simply deleted.
//!
//! Only a directory strictly under the host's workdir is ever removed: the paths come from the
//! store, and a host whose workdir changed in the config since must not lose anything else.
//! Removing is idempotent: a directory that is gone already is fine.

use super::git::{CheckoutAt, GitError};
use super::shell::{quote, quote_path, reported};
use super::transport::Transport;
use super::worktree::base_ref;
use crate::domain::workspace::{GitCheckout, SessionWorkspace};

/// What happens to a worktree's branch when the worktree is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchFate {
    /// Kept in the clone, for the next turn to make the worktree again on it: a session's
    /// pushed branch, a checkout's branch with commits never pushed.
    Kept,
    /// Deleted with the worktree.
    Deleted,
}

/// What removing a GitHub checkout did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutRemoved {
    /// Its directory was there (false: removed before, or never made).
    pub existed: bool,
    /// Its branch: kept when it has commits never pushed.
    pub branch: BranchFate,
}

/// The worktree a removal takes out of its shared clone: the clone, and the script lines run in
/// it, under its lock once the worktree is pruned, for the worktree's branch and refs.
struct FromClone {
    clone: String,
    refs: String,
}

/// Removes the session directory `dir` (absolute or `~/`-relative) of `workspace` from a host
/// whose workdir is `workdir`; a worktree's branch meets `fate`.
pub async fn remove(
    host: &dyn Transport,
    workdir: &str,
    dir: &str,
    workspace: &SessionWorkspace,
    fate: BranchFate,
) -> Result<(), GitError> {
    let from_clone = match workspace {
        SessionWorkspace::Scratch => None,
        SessionWorkspace::Worktree(worktree) => Some(FromClone {
            clone: worktree.clone_path_in(workdir),
            refs: match fate {
                BranchFate::Kept => String::new(),
                BranchFate::Deleted => format!(
                    "  git branch -q -D {branch} > /dev/null 2>&1 || true\n  \
                     git update-ref -d {base} > /dev/null 2>&1 || true\n",
                    branch = quote(&worktree.branch),
                    base = quote(&base_ref(&worktree.branch)),
                ),
            },
        }),
    };
    remove_dir(host, workdir, dir, from_clone).await.map(drop)
}

/// Removes the GitHub checkout `checkout` from a host whose workdir is `workdir`: its worktree,
/// its refs, and its branch unless that has commits after the checkout's base (never pushed).
pub async fn remove_checkout(
    host: &dyn Transport,
    workdir: &str,
    checkout: &GitCheckout,
) -> Result<CheckoutRemoved, GitError> {
    let at = CheckoutAt::of(checkout, workdir);
    let refs = format!(
        r#"  kept=no
  if head=$(git rev-parse -q --verify {branch_ref}); then
    if ! base=$(git rev-parse -q --verify {base}) || [ -n "$(git rev-list -n 1 "$base..$head")" ]; then kept=yes; fi
  fi
  [ $kept = yes ] || git branch -q -D {branch} > /dev/null 2>&1 || true
  git for-each-ref --format='%(refname)' {refs} | while IFS= read -r r; do
    [ $kept = yes ] && [ "$r" = {base} ] || git update-ref -d "$r"
  done
  echo "kept $kept"
"#,
        branch_ref = quote(&format!("refs/heads/{}", at.branch)),
        base = quote(&at.base()),
        branch = quote(&at.branch),
        refs = quote(&at.refs),
    );
    let from_clone = FromClone {
        clone: at.clone,
        refs,
    };
    let out = remove_dir(host, workdir, &at.dir, Some(from_clone)).await?;
    Ok(CheckoutRemoved {
        existed: reported(&out, "existed ").as_deref() == Some("yes"),
        branch: match reported(&out, "kept ").as_deref() {
            Some("yes") => BranchFate::Kept,
            _ => BranchFate::Deleted,
        },
    })
}

/// Removes the directory `dir` from a host whose workdir is `workdir`, a worktree of
/// `from_clone` if it says so; returns what the script reported (`existed yes`, say).
async fn remove_dir(
    host: &dyn Transport,
    workdir: &str,
    dir: &str,
    from_clone: Option<FromClone>,
) -> Result<String, GitError> {
    let outside = |path: &str| {
        GitError::Failed(format!(
            "{path} is not a directory under the host's workdir {workdir}; nothing removed"
        ))
    };
    if !is_under(workdir, dir) {
        return Err(outside(dir));
    }
    let removal = match from_clone {
        None => String::new(),
        Some(FromClone { clone, refs }) => {
            if !is_under(workdir, &clone) {
                return Err(outside(&clone));
            }
            format!(
                r#"c={clone}
if [ -d "$c" ]; then
  cd "$c" || exit 1
  if command -v flock > /dev/null 2>&1; then exec 9> ../clone.lock; flock 9; fi
  git worktree remove --force "$w" > /dev/null 2>&1 || true
  rm -rf "$w"
  git worktree prune
{refs}fi
"#,
                clone = quote_path(&clone),
            )
        }
    };
    let script = format!(
        r#"w={dir}
if [ -e "$w" ]; then echo "existed yes"; fi
{removal}rm -rf "$w"
if [ -e "$w" ]; then echo "$w could not be removed" >&2; exit 1; fi"#,
        dir = quote_path(dir),
    );
    let out = host.exec(&script, b"").await?;
    if !out.success() {
        return Err(GitError::Failed(format!(
            "removing the workspace {dir} failed: {}",
            out.stderr_text()
        )));
    }
    Ok(out.stdout_text())
}

/// Whether `path` names something strictly inside `workdir`, with no `.`, `..` or empty step.
fn is_under(workdir: &str, path: &str) -> bool {
    let root = workdir.trim_end_matches('/');
    path.strip_prefix(root)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| rest.split('/').all(|step| !matches!(step, "" | "." | "..")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::domain::workspace::PushTarget;
    use crate::runner::git;
    use crate::runner::local::LocalTransport;
    use crate::runner::test_git::{git, origin, pull_checkout, worktree};
    use crate::runner::worktree::prepare;
    use std::path::Path;

    #[test]
    fn only_paths_strictly_under_the_workdir_are_removable() {
        for ok in ["/w/scratch/1", "~/w/projects/p/ws/2"] {
            let workdir = if ok.starts_with('~') { "~/w/" } else { "/w" };
            assert!(is_under(workdir, ok), "{ok}");
        }
        for bad in [
            "/w",
            "/w/",
            "/wx/scratch/1",
            "/w/../etc",
            "/w/scratch/../../etc",
            "/w//x",
            "/w/./x",
            "/other",
            "",
        ] {
            assert!(!is_under("/w", bad), "{bad}");
        }
    }

    /// An idle session's worktree goes, with its branch unless it was pushed; the shared clone
    /// and the other sessions' worktrees stay; removing again is fine; a worktree removed with
    /// its branch kept is made again on that branch, its commits there.
    #[tokio::test]
    async fn a_worktree_is_removed_from_the_shared_clone_that_stays() {
        let root = tempfile::tempdir().unwrap();
        let origin = origin(root.path());
        let host = LocalTransport::new("local");
        let workdir = root.path().display().to_string();
        let url = origin.display().to_string();
        let clone_path = root.path().join("projects/web/clone");
        let clone = clone_path.display().to_string();
        let ws = |name: &str| root.path().join("projects/web/ws").join(name);
        let token = Secret::new("");
        let (one, two) = (
            worktree("switchboard/aaa", None),
            worktree("switchboard/bbb", None),
        );
        for (tree, name) in [(&one, "one"), (&two, "two")] {
            let dir = ws(name).display().to_string();
            prepare(&host, &clone, &dir, tree, &url, "HEAD", &token)
                .await
                .unwrap();
        }
        std::fs::write(ws("one").join("dirty.txt"), "not committed\n").unwrap();
        let refs = || git(&clone_path, &["for-each-ref", "--format=%(refname)"]);
        assert!(refs().contains("refs/switchboard/bases/aaa"), "{}", refs());

        let dir_one = ws("one").display().to_string();
        let workspace = SessionWorkspace::Worktree(one.clone());
        for _ in 0..2 {
            remove(&host, &workdir, &dir_one, &workspace, BranchFate::Deleted)
                .await
                .unwrap();
        }
        assert!(!ws("one").exists());
        assert!(ws("two").join("a.txt").exists());
        assert!(clone_path.join("HEAD").exists(), "the shared clone stays");
        let refs = refs();
        assert!(!refs.contains("switchboard/aaa"), "{refs}");
        assert!(!refs.contains("bases/aaa"), "{refs}");
        assert!(refs.contains("refs/heads/switchboard/bbb"), "{refs}");
        let listed = git(&clone_path, &["worktree", "list"]);
        assert!(!listed.contains("/ws/one"), "{listed}");

        git(
            &ws("two"),
            &["commit", "-qm", "pushed work", "--allow-empty"],
        );
        let pushed = git(&ws("two"), &["rev-parse", "HEAD"]);
        let dir_two = ws("two").display().to_string();
        let workspace = SessionWorkspace::Worktree(two.clone());
        remove(&host, &workdir, &dir_two, &workspace, BranchFate::Kept)
            .await
            .unwrap();
        assert!(!ws("two").exists());
        assert_eq!(git(&clone_path, &["rev-parse", "switchboard/bbb"]), pushed);
        let again = prepare(&host, &clone, &dir_two, &two, &url, "HEAD", &token)
            .await
            .unwrap();
        assert!(again.created);
        assert_eq!(again.head, pushed, "made again on the kept branch");
        assert_eq!(
            git(&ws("two"), &["branch", "--show-current"]),
            "switchboard/bbb"
        );
    }

    #[tokio::test]
    async fn a_scratch_directory_is_removed_and_nothing_outside_the_workdir_is() {
        let root = tempfile::tempdir().unwrap();
        let host = LocalTransport::new("local");
        let workdir = root.path().join("work");
        let dir = workdir.join("scratch/s1");
        std::fs::create_dir_all(dir.join(".switchboard/inbox")).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine\n").unwrap();
        let workdir_text = workdir.display().to_string();
        for _ in 0..2 {
            remove(
                &host,
                &workdir_text,
                &dir.display().to_string(),
                &SessionWorkspace::Scratch,
                BranchFate::Deleted,
            )
            .await
            .unwrap();
        }
        assert!(!dir.exists() && workdir.join("scratch").exists());

        let outside = root.path().join("elsewhere");
        std::fs::create_dir_all(&outside).unwrap();
        let err = remove(
            &host,
            &workdir_text,
            &format!("{workdir_text}/../elsewhere"),
            &SessionWorkspace::Scratch,
            BranchFate::Deleted,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("nothing removed"), "{err}");
        assert!(outside.exists());
    }

    /// A GitHub checkout goes from the shared clone, which stays with the repository's other
    /// checkouts: its worktree, its refs, and its branch once everything on it was pushed. A
    /// branch with commits never pushed stays with its base, and the checkout's next turn makes
    /// the worktree again on it, the agent's commits there. Removing again finds nothing; a
    /// checkout whose path leaves the workdir is refused.
    #[tokio::test]
    async fn a_checkout_goes_with_its_refs_and_its_branch_unless_that_has_unpushed_commits() {
        let root = tempfile::tempdir().unwrap();
        let origin = origin(root.path());
        let host = LocalTransport::new("local");
        let workdir = root.path().join("work").display().to_string();
        let token = Secret::new("");
        // `pr-1-deps` shares `pr-1`'s prefix: its refs must survive `pr-1`'s removal.
        let (one, deps) = (
            pull_checkout(&origin, "pr-1", "refs/heads/main"),
            pull_checkout(&origin, "pr-1-deps", "refs/heads/main"),
        );
        let (at_one, at_deps) = (
            git::CheckoutAt::of(&one, &workdir),
            git::CheckoutAt::of(&deps, &workdir),
        );
        for (checkout, at) in [(&one, &at_one), (&deps, &at_deps)] {
            git::prepare(&host, at, checkout, &token).await.unwrap();
        }
        let clone = Path::new(&at_one.clone);
        let refs = || git(clone, &["for-each-ref", "--format=%(refname)"]);
        assert!(refs().contains("refs/switchboard/checkouts/pr-1/fetched"));

        // The agent's commit, pushed: nothing on the branch is the checkout's alone.
        let dir_one = Path::new(&at_one.dir);
        std::fs::write(dir_one.join("b.txt"), "agent\n").unwrap();
        git(dir_one, &["add", "."]);
        git(dir_one, &["commit", "-qm", "agent work"]);
        let target = PushTarget {
            url: origin.display().to_string(),
            branch: "feature".into(),
        };
        git::push(&host, &at_one, &target, None, &token)
            .await
            .unwrap();
        for existed in [true, false] {
            let removed = remove_checkout(&host, &workdir, &one).await.unwrap();
            assert_eq!(
                removed,
                CheckoutRemoved {
                    existed,
                    branch: BranchFate::Deleted
                }
            );
        }
        assert!(!dir_one.exists());
        assert!(clone.join("HEAD").exists(), "the shared clone stays");
        let refs_now = refs();
        assert!(!refs_now.contains("checkouts/pr-1/"), "{refs_now}");
        assert!(!refs_now.contains("heads/switchboard/pr-1\n"), "{refs_now}");
        assert!(!refs_now.ends_with("heads/switchboard/pr-1"), "{refs_now}");
        for kept in [
            "refs/switchboard/checkouts/pr-1-deps/base",
            "refs/switchboard/checkouts/pr-1-deps/fetched",
            "refs/heads/switchboard/pr-1-deps",
        ] {
            assert!(refs_now.contains(kept), "{kept} in {refs_now}");
        }
        let listed = git(clone, &["worktree", "list"]);
        assert!(
            !listed.contains("/pr-1\n") && !listed.contains("/pr-1 "),
            "{listed}"
        );
        assert!(Path::new(&at_deps.dir).join("a.txt").exists());

        // Commits never pushed (and a file never committed): the branch and its base stay.
        let dir_deps = Path::new(&at_deps.dir);
        git(dir_deps, &["commit", "-qm", "unpushed", "--allow-empty"]);
        let unpushed = git(dir_deps, &["rev-parse", "HEAD"]);
        std::fs::write(dir_deps.join("loose.txt"), "uncommitted\n").unwrap();
        let removed = remove_checkout(&host, &workdir, &deps).await.unwrap();
        assert_eq!(removed.branch, BranchFate::Kept);
        assert!(!dir_deps.exists());
        assert_eq!(
            git(clone, &["rev-parse", "switchboard/pr-1-deps"]),
            unpushed
        );
        let refs_now = refs();
        assert!(
            refs_now.contains("checkouts/pr-1-deps/base")
                && !refs_now.contains("pr-1-deps/fetched"),
            "{refs_now}"
        );
        let again = git::prepare(&host, &at_deps, &deps, &token).await.unwrap();
        assert_eq!((again.head, again.moved), (unpushed, false), "continued");
        assert!(
            !dir_deps.join("loose.txt").exists(),
            "what was uncommitted went"
        );

        let outside = root.path().join("outside/pr-1");
        std::fs::create_dir_all(&outside).unwrap();
        let escaping = GitCheckout {
            dir: "github/octo/../../../outside/pr-1".into(),
            ..one
        };
        let err = remove_checkout(&host, &workdir, &escaping)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing removed"), "{err}");
        assert!(outside.exists());
    }
}
