//! Changes that involve both git and the state: creating repositories,
//! test commits, opening pull requests, and keeping pull requests in step
//! with their branches after a commit or a push (GitHub moves a PR's head
//! and `refs/pull/N/head` when its head branch moves).
//!
//! These block on `git`; the state lock is taken only between git calls.

use std::path::PathBuf;

use super::git::{self, Signature};
use super::state::{NewPull, RepoState, Shared, repo_key};
use super::types::{FakePr, FakeRepo, FakeUser, UserKind};

pub(super) fn git_dir(sh: &Shared, owner: &str, name: &str) -> PathBuf {
    sh.root.join(owner).join(format!("{name}.git"))
}

fn signature_of(
    user: &FakeUser,
    at: std::time::SystemTime,
) -> (String, String, std::time::SystemTime) {
    (
        user.login.clone(),
        format!("{}+{}@users.noreply.github.com", user.id, user.login),
        at,
    )
}

pub(super) fn create_repo(
    sh: &Shared,
    owner: &str,
    name: &str,
    files: &[(&str, &str)],
) -> FakeRepo {
    let key = repo_key(owner, name);
    let dir = git_dir(sh, owner, name);
    let (repo, owner_user, at) = {
        let mut st = sh.lock();
        assert!(
            !st.repos.contains_key(&key),
            "repository {owner}/{name} already exists"
        );
        let owner_user = match st.user(owner) {
            Some(u) => u.clone(),
            None => st.add_user(owner, UserKind::User),
        };
        let repo = FakeRepo {
            owner: owner_user.login.clone(),
            name: name.to_string(),
            id: st.next_repo_id(),
        };
        (repo, owner_user, st.tick())
    };
    git::init_bare(&dir);
    let files: Vec<(&str, Option<&str>)> = files.iter().map(|(p, c)| (*p, Some(*c))).collect();
    let (n, e, t) = signature_of(&owner_user, at);
    let who = Signature {
        name: &n,
        email: &e,
        at: t,
    };
    git::commit(
        &dir,
        &sh.scratch,
        "refs/heads/main",
        None,
        &files,
        "Initial commit",
        &who,
    );
    let branches = git::branches(&dir);
    sh.lock().repos.insert(
        key,
        RepoState {
            repo: repo.clone(),
            default_branch: "main".to_string(),
            private: true,
            git_dir: dir,
            roles: Default::default(),
            branches,
            next_number: 1,
            issues: Default::default(),
            created_at: at,
            pushed_at: at,
        },
    );
    repo
}

/// Commits on `branch`, creating it from the default branch if needed.
pub(super) fn commit(
    sh: &Shared,
    repo: &FakeRepo,
    branch: &str,
    files: &[(&str, Option<&str>)],
    message: &str,
    author: &FakeUser,
) -> String {
    let key = repo_key(&repo.owner, &repo.name);
    let (dir, parent, at) = {
        let mut st = sh.lock();
        let at = st.tick();
        let r = st
            .repo(&key)
            .unwrap_or_else(|| panic!("unknown repository {key}"));
        let parent = r
            .branches
            .get(branch)
            .or_else(|| r.branches.get(&r.default_branch))
            .cloned();
        (r.git_dir.clone(), parent, at)
    };
    let current = git::resolve(&dir, &format!("refs/heads/{branch}"));
    let (n, e, t) = signature_of(author, at);
    let who = Signature {
        name: &n,
        email: &e,
        at: t,
    };
    let refname = format!("refs/heads/{branch}");
    let sha = match current {
        Some(cur) => git::commit(
            &dir,
            &sh.scratch,
            &refname,
            Some(&cur),
            files,
            message,
            &who,
        ),
        None => {
            // A new branch: create it at the parent, then commit on it.
            let base = parent.expect("the default branch exists");
            git::update_ref(&dir, &refname, &base);
            git::commit(
                &dir,
                &sh.scratch,
                &refname,
                Some(&base),
                files,
                message,
                &who,
            )
        }
    };
    sync_refs(sh, &key);
    sha
}

pub(super) fn open_pr(
    sh: &Shared,
    repo: &FakeRepo,
    head: &str,
    base: &str,
    title: &str,
    body: &str,
    author: &FakeUser,
) -> FakePr {
    let key = repo_key(&repo.owner, &repo.name);
    let number = {
        let mut st = sh.lock();
        let r = st.repo_mut(&key);
        assert!(
            r.branches.contains_key(head),
            "{key} has no branch {head} (commit to it first)"
        );
        assert!(r.branches.contains_key(base), "{key} has no branch {base}");
        let pull = NewPull {
            head,
            base,
            title,
            body,
            author: &author.login,
            draft: false,
        };
        st.add_pull(&key, pull)
    };
    point_pull_ref(sh, &key, number);
    FakePr {
        repo: repo.clone(),
        number,
        head_ref: head.to_string(),
        base_ref: base.to_string(),
    }
}

/// Points `refs/pull/N/head` at the pull request's head, as GitHub does
/// when it opens one.
pub(super) fn point_pull_ref(sh: &Shared, key: &str, number: u64) {
    let (dir, head_sha) = {
        let st = sh.lock();
        let r = st
            .repo(key)
            .unwrap_or_else(|| panic!("unknown repository {key}"));
        let pr = r.issues[&number].pr.as_ref().expect("a pull request");
        (r.git_dir.clone(), pr.head_sha.clone())
    };
    git::update_ref(&dir, &format!("refs/pull/{number}/head"), &head_sha);
    sh.notify_changed();
}

/// Re-reads the branches from git; every open pull request whose head
/// branch moved gets the new head sha and `refs/pull/N/head`.
pub(super) fn sync_refs(sh: &Shared, key: &str) {
    let dir = sh
        .lock()
        .repo(key)
        .map(|r| r.git_dir.clone())
        .unwrap_or_else(|| panic!("unknown repository {key}"));
    let branches = git::branches(&dir);
    let moved: Vec<(u64, String)> = {
        let mut st = sh.lock();
        if st.repo(key).is_some_and(|r| r.branches == branches) {
            return;
        }
        let at = st.tick();
        let r = st.repo_mut(key);
        let mut moved = Vec::new();
        for issue in r.issues.values_mut() {
            let Some(pr) = issue.pr.as_mut() else {
                continue;
            };
            if let Some(sha) = branches.get(&pr.head_ref)
                && *sha != pr.head_sha
            {
                pr.head_sha = sha.clone();
                issue.updated_at = at;
                moved.push((issue.number, sha.clone()));
            }
        }
        r.pushed_at = at;
        r.branches = branches;
        moved
    };
    for (number, sha) in moved {
        git::update_ref(&dir, &format!("refs/pull/{number}/head"), &sha);
    }
    sh.notify_changed();
}
