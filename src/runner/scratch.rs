//! A session's scratch directory: the workspace of a session without a project.
//!
//! Made by its first turn's launch (this is a part of the launch script, so a turn stays three
//! commands on the host) as a git repository with one empty commit, so the changes of every
//! turn show like a project's (`runner::changes` compares against it). A directory that already
//! holds something else — a repository someone put there, plain files — is left as it is: only
//! an empty one (or one holding just the files sent before the first turn, `.switchboard/`) is
//! made a repository.

use super::shell::quote_path;

/// What a scratch directory is made as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scratch {
    /// A git repository (`workspaces.scratch_git`, the default).
    Git,
    /// A plain directory.
    Plain,
}

/// Shell lines that make `dir` (absolute or `~/`-relative) if it is missing, and a repository
/// when `scratch` says so and the directory holds nothing of its own yet. Runs in a subshell;
/// fails (exit 7) only when the directory cannot be made.
pub fn script(dir: &str, scratch: Scratch) -> String {
    let init = match scratch {
        Scratch::Git => {
            r#"
  if [ ! -e .git ] && [ -z "$(ls -A | grep -vx .switchboard)" ]; then
    git init -q && git -c user.name=Switchboard -c user.email=switchboard@localhost commit -q --allow-empty -m "The session's workspace" || exit 7
  fi"#
        }
        Scratch::Plain => "",
    };
    format!(
        "(sb_w={dir}\n  mkdir -p \"$sb_w\" && cd \"$sb_w\" || exit 7{init}\n) || exit 7\n",
        dir = quote_path(dir)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::local::LocalTransport;
    use crate::runner::transport::Transport;

    async fn make(dir: &std::path::Path, scratch: Scratch) {
        let host = LocalTransport::new("local");
        let out = host
            .exec(&script(&dir.display().to_string(), scratch), b"")
            .await
            .unwrap();
        assert!(out.success(), "{out:?}");
    }

    #[tokio::test]
    async fn an_empty_directory_becomes_a_repository_and_others_stay_as_they_are() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("scratch/one");
        make(&fresh, Scratch::Git).await;
        let log = std::process::Command::new("git")
            .args(["log", "--format=%an %s"])
            .current_dir(&fresh)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&log.stdout),
            "Switchboard The session's workspace\n"
        );
        // Again: nothing changes.
        make(&fresh, Scratch::Git).await;

        let sent = root.path().join("scratch/two");
        std::fs::create_dir_all(sent.join(".switchboard/inbox")).unwrap();
        make(&sent, Scratch::Git).await;
        assert!(sent.join(".git").is_dir(), "sent files do not count");

        let plain = root.path().join("scratch/three");
        std::fs::create_dir_all(&plain).unwrap();
        std::fs::write(plain.join("notes.txt"), "mine\n").unwrap();
        make(&plain, Scratch::Git).await;
        assert!(!plain.join(".git").exists());

        let off = root.path().join("scratch/four");
        make(&off, Scratch::Plain).await;
        assert!(off.is_dir() && !off.join(".git").exists());
    }
}
