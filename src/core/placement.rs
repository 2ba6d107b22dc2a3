//! Where a new session works: its host, its directory and the workspace it owns.
//!
//! Every session gets a directory of its own, so two threads never edit the same files. A thread
//! about a project (named in `/new`, its chat's default, or the only project configured) gets a
//! worktree of that project's shared clone on a branch named after the session; a thread about
//! nothing gets `scratch/<session>`. A GitHub thread keeps the checkout its policy prepares for
//! each turn (a pull request's head), so it owns no workspace here.
//!
//! Everything here is decided from the configuration alone — no host is reached — because it
//! runs while the router holds the thread, and inside `/new`. The worktree is made by the
//! session's first turn (`core::turn`).

use super::Core;
use crate::domain::agent::{AgentChoice, AgentKind};
use crate::domain::ids::SessionId;
use crate::domain::project::Project;
use crate::domain::thread::{Platform, ThreadRef};
use crate::domain::workspace::{
    OpenPr, ProjectWorktree, SessionWorkspace, clone_dir, github_repo_key, session_dir,
};

/// What a new session was asked to be: `/new`'s words, or nothing for a first prompt.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    /// A project's name, `owner/repo[@branch]`, or a host's name.
    pub target: Option<&'a str>,
    pub host: Option<&'a str>,
    /// The agent asked for (`/new … codex`); else the project's, else the host's default.
    pub agent: Option<AgentKind>,
}

/// Why a session could not be placed (the replies word it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unplaced {
    /// A word with `/` that is not `owner/repo[@branch]`.
    NotARepository(String),
    /// `owner/repo` with no project for it, and no GitHub App to fetch it with.
    NoGitHubApp(String),
    /// A word that names neither a project nor a host.
    Unknown {
        word: String,
        projects: Vec<String>,
        hosts: Vec<String>,
    },
    /// Two words that both name hosts.
    TwoHosts,
    /// A host the project is not checked out on.
    NotOnHost {
        host: String,
        hosts: Vec<String>,
    },
    UnknownHost {
        host: String,
        hosts: Vec<String>,
    },
}

/// Where a new session works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub id: SessionId,
    pub host: String,
    /// The directory the agent works in.
    pub workdir: String,
    pub workspace: Option<SessionWorkspace>,
    /// Its agent and model.
    pub agent: AgentChoice,
}

/// What the project part of a request named.
enum Repo<'a> {
    Project(&'a Project, Option<String>),
    /// `owner/repo` on the GitHub App with no project of its own, and a branch.
    Adhoc(String, Option<String>),
}

/// Places a new session of `thread`. `fallback_host` is the host when nothing else names one
/// (the thread's current session's, or a policy's).
pub fn place(
    core: &Core,
    thread: &ThreadRef,
    asked: Asked<'_>,
    fallback_host: Option<&str>,
) -> Result<Placement, Unplaced> {
    let id = SessionId::generate();
    let mut host = asked.host.map(str::to_owned);
    let mut repo = None;
    if let Some(target) = asked.target {
        match resolve(core, target)? {
            Target::Repo(found) => repo = Some(found),
            Target::Host(name) if host.is_none() => host = Some(name),
            Target::Host(_) => return Err(Unplaced::TwoHosts),
        }
    }
    if thread.platform == Platform::GitHub {
        repo = None; // a GitHub thread works in its turn's checkout
    } else if repo.is_none() {
        repo = default_project(core, thread).map(|p| Repo::Project(p, None));
    }
    let hosts = match &repo {
        Some(Repo::Project(project, _)) => project.hosts.clone(),
        _ => Vec::new(),
    };
    let host = match host {
        Some(name) if !hosts.is_empty() && !hosts.contains(&name) => {
            return Err(Unplaced::NotOnHost { host: name, hosts });
        }
        Some(name) => name,
        None => fallback_host
            .filter(|h| hosts.is_empty() || hosts.iter().any(|p| p == h))
            .map(str::to_owned)
            .or_else(|| hosts.first().cloned())
            .unwrap_or_else(|| core.defaults.host.clone()),
    };
    let Some(configured) = core.hosts.get(&host) else {
        return Err(Unplaced::UnknownHost {
            host,
            hosts: core.hosts.names(),
        });
    };
    let project = match &repo {
        Some(Repo::Project(project, _)) => Some(*project),
        _ => None,
    };
    let agent = choose_agent(core, &host, project, asked.agent);
    let root = configured.workdir.trim_end_matches('/');
    let (workspace, dir) = match repo {
        None if thread.platform == Platform::GitHub => (None, None),
        None => (
            Some(SessionWorkspace::Scratch),
            Some(session_dir(None, id.as_str())),
        ),
        Some(repo) => {
            let branch = format!("{}{}", core.workspaces.branch_prefix, id.tag());
            let (key, worktree) = match repo {
                Repo::Project(p, base) => (
                    p.name.clone(),
                    ProjectWorktree {
                        project: p.name.clone(),
                        repo: p.repo.clone(),
                        base: base.or_else(|| p.default_branch.clone()),
                        branch,
                        clone_dir: clone_dir(&p.name),
                        setup: p.setup.clone(),
                        open_pr: p.open_pr,
                    },
                ),
                Repo::Adhoc(repo, base) => {
                    let key = github_repo_key(&repo);
                    let worktree = ProjectWorktree {
                        project: repo.clone(),
                        repo,
                        base,
                        branch,
                        clone_dir: clone_dir(&key),
                        setup: None,
                        open_pr: OpenPr::OnRequest,
                    };
                    (key, worktree)
                }
            };
            (
                Some(SessionWorkspace::Worktree(worktree)),
                Some(session_dir(Some(&key), id.as_str())),
            )
        }
    };
    let workdir = match dir {
        Some(dir) => format!("{root}/{dir}"),
        None => configured.workdir.clone(),
    };
    Ok(Placement {
        id,
        host,
        workdir,
        workspace,
        agent,
    })
}

/// A new session's agent: the one asked for, else its project's, else its host's default; and
/// its project's model when the project's agent is the one chosen (a model is one agent's).
fn choose_agent(
    core: &Core,
    host: &str,
    project: Option<&Project>,
    asked: Option<AgentKind>,
) -> AgentChoice {
    let projects = project.and_then(|p| p.agent);
    let agent = asked.or(projects).unwrap_or_else(|| core.host_agent(host));
    let project_default = projects.unwrap_or_else(|| core.host_agent(host));
    AgentChoice {
        agent,
        model: project
            .filter(|_| agent == project_default)
            .and_then(|p| p.model.clone()),
    }
}

enum Target<'a> {
    Repo(Repo<'a>),
    Host(String),
}

/// What one word of `/new` names.
fn resolve<'a>(core: &'a Core, word: &str) -> Result<Target<'a>, Unplaced> {
    if word.contains('/') {
        let (repo, branch) = match word.split_once('@') {
            Some((repo, branch)) => (repo, Some(branch)),
            None => (word, None),
        };
        if !is_owner_repo(repo) || branch.is_some_and(|b| !is_branch(b)) {
            return Err(Unplaced::NotARepository(word.to_owned()));
        }
        let branch = branch.map(str::to_owned);
        if let Some(project) = core.projects.iter().find(|p| p.repo == repo) {
            return Ok(Target::Repo(Repo::Project(project, branch)));
        }
        if core.policy(Platform::GitHub).is_err() {
            return Err(Unplaced::NoGitHubApp(repo.to_owned()));
        }
        return Ok(Target::Repo(Repo::Adhoc(repo.to_owned(), branch)));
    }
    if let Some(project) = core.projects.iter().find(|p| p.name == word) {
        return Ok(Target::Repo(Repo::Project(project, None)));
    }
    if core.hosts.get(word).is_some() {
        return Ok(Target::Host(word.to_owned()));
    }
    Err(Unplaced::Unknown {
        word: word.to_owned(),
        projects: core.projects.iter().map(|p| p.name.clone()).collect(),
        hosts: core.hosts.names(),
    })
}

/// The project a thread is about when nobody named one: its chat's, or the only one.
fn default_project<'a>(core: &'a Core, thread: &ThreadRef) -> Option<&'a Project> {
    core.projects
        .iter()
        .find(|p| p.is_default_for(thread))
        .or(match core.projects.as_slice() {
            [only] => Some(only),
            _ => None,
        })
}

/// `owner/repo`, each part a GitHub name.
fn is_owner_repo(text: &str) -> bool {
    let part = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(text.split_once('/'), Some((owner, repo)) if part(owner) && part(repo))
}

/// A branch name git accepts and no shell or option parser misreads.
fn is_branch(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 200
        && !text.starts_with(['-', '/', '.'])
        && !text.ends_with(['/', '.'])
        && !text.ends_with(".lock")
        && !text.contains("..")
        && !text.contains("//")
        && !text.contains("@{")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_are_names_git_and_shells_take_as_they_are() {
        for ok in ["main", "fix-1", "release/2.0", "a_b.c"] {
            assert!(is_branch(ok), "{ok}");
        }
        for bad in [
            "", "-x", "/a", "a/", "a..b", "a.lock", "a b", "a;b", "a@{1}", ".a", "a//b", "$(x)",
        ] {
            assert!(!is_branch(bad), "{bad:?}");
        }
        assert!(is_owner_repo("acme/web.rs"));
        for bad in ["acme", "a/b/c", "../x", "a/..", "a /b"] {
            assert!(!is_owner_repo(bad), "{bad:?}");
        }
    }
}
