//! Removing a session's workspace from its host (the clean-up of idle sessions).
//!
//! A worktree is removed from its project's shared clone (`git worktree remove`, then `prune`)
//! under the clone's lock, so it never races another session's worktree being made; the clone
//! itself stays for the project's other sessions. The session's branch is deleted with it, and
//! the ref of the commit it started from, unless the branch was pushed: then its work lives on
//! the remote, and a later turn of the session makes the worktree again on it
//! (`runner::worktree::prepare`). A scratch directory is simply deleted.
//!
//! Only a directory strictly under the host's workdir is ever removed: the paths come from the
//! store, and a host whose workdir changed in the config since must not lose anything else.
//! Removing is idempotent: a directory that is gone already is fine.

use super::git::GitError;
use super::shell::{quote, quote_path};
use super::transport::Transport;
use super::worktree::base_ref;
use crate::domain::workspace::SessionWorkspace;

/// What happens to a worktree's branch when the worktree is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchFate {
    /// Pushed: kept in the clone.
    Kept,
    /// Never pushed: deleted with the worktree.
    Deleted,
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
    let outside = |path: &str| {
        GitError::Failed(format!(
            "{path} is not a directory under the host's workdir {workdir}; nothing removed"
        ))
    };
    if !is_under(workdir, dir) {
        return Err(outside(dir));
    }
    let removal = match workspace {
        SessionWorkspace::Scratch => String::new(),
        SessionWorkspace::Worktree(worktree) => {
            let clone = worktree.clone_path_in(workdir);
            if !is_under(workdir, &clone) {
                return Err(outside(&clone));
            }
            let branch = match fate {
                BranchFate::Kept => String::new(),
                BranchFate::Deleted => format!(
                    "  git branch -q -D {branch} > /dev/null 2>&1 || true\n  \
                     git update-ref -d {base} > /dev/null 2>&1 || true\n",
                    branch = quote(&worktree.branch),
                    base = quote(&base_ref(&worktree.branch)),
                ),
            };
            format!(
                r#"c={clone}
if [ -d "$c" ]; then
  cd "$c" || exit 1
  if command -v flock > /dev/null 2>&1; then exec 9> ../clone.lock; flock 9; fi
  git worktree remove --force "$w" > /dev/null 2>&1 || true
  rm -rf "$w"
  git worktree prune
{branch}fi
"#,
                clone = quote_path(&clone),
            )
        }
    };
    let script = format!(
        r#"w={dir}
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
    Ok(())
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
    use crate::runner::local::LocalTransport;
    use crate::runner::test_git::{git, origin, worktree};
    use crate::runner::worktree::prepare;

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
}
