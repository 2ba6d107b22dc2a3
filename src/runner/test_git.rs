//! Helpers of the runner's tests that drive real git: running it with a fixed identity, a
//! project worktree and a pull request's checkout to prepare.

use std::path::Path;
use std::process::Command;

use crate::domain::workspace::{Credential, GitCheckout, ProjectWorktree};

/// Runs `git ARGS` in `dir` as a fixed person, on `main` for new repositories; fails the test
/// on an error and returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository at `root/origin` with `a.txt` ("one") in its first commit, on `main`.
pub fn origin(root: &Path) -> std::path::PathBuf {
    let origin = root.join("origin");
    std::fs::create_dir(&origin).expect("the origin's directory");
    git(&origin, &["init", "-q"]);
    std::fs::write(origin.join("a.txt"), "one\n").expect("a.txt");
    git(&origin, &["add", "."]);
    git(&origin, &["commit", "-qm", "first"]);
    origin
}

/// The project `web`'s worktree on `branch`, with `setup`.
pub fn worktree(branch: &str, setup: Option<&str>) -> ProjectWorktree {
    ProjectWorktree {
        project: "web".into(),
        repo: "acme/web".into(),
        base: None,
        branch: branch.into(),
        clone_dir: "projects/web/clone".into(),
        setup: setup.map(str::to_owned),
        open_pr: Default::default(),
    }
}

/// A pull request's checkout `github/octo/app/<name>` of the repository at `url`, with its base
/// branch `main`.
pub fn pull_checkout(url: &Path, name: &str, fetch_ref: &str) -> GitCheckout {
    GitCheckout {
        clone_url: url.display().to_string(),
        fetch_ref: fetch_ref.into(),
        base_ref: Some("refs/heads/main".into()),
        dir: format!("github/octo/app/{name}"),
        credential: Credential::GitHubInstallation(1),
        push: None,
        resume_ref: None,
        pull_request: None,
    }
}
