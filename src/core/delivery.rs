//! `/pr`: the session's work delivered as a branch and a pull request.
//!
//! What is uncommitted in the session's worktree is committed with the person who asked as its
//! author (`Name <id@platform.invalid>`) and Switchboard as committer, the message taken from the
//! agent's last answer; the branch is pushed with the GitHub App's installation token (on stdin,
//! as every fetch is); then the pull request of the branch is opened, or the open one found.
//! Every step is idempotent on the branch — a branch already pushed pushes nothing, and GitHub
//! is asked for the branch's open pull request before one is created — so a bot killed between
//! the push and the pull request, handling the same `/pr` again after its restart, ends with
//! one pull request. Nothing is pushed while a turn runs: the agent may be half-way through.

use anyhow::Result;

use super::Core;
use super::policy::{OpenedPullRequest, PullRequestAsk};
use super::replies;
use crate::config::Workspaces;
use crate::domain::agent_event::AgentEvent;
use crate::domain::audit::AuditAction;
use crate::domain::ids::now_ms;
use crate::domain::inbound::Inbound;
use crate::domain::thread::Platform;
use crate::domain::workspace::{ProjectWorktree, SessionWorkspace};
use crate::runner::git::{self, CommitAs, GitError};
use crate::runner::worktree;
use crate::store::SessionRow;

/// The longest first line of a commit message or a pull request title.
const TITLE_CHARS: usize = 72;
/// Prompts listed in a pull request's body.
const BODY_PROMPTS: usize = 20;

/// Handles `/pr` in `event`'s thread; returns the reply.
pub async fn pull_request(core: &Core, event: &Inbound) -> Result<String> {
    let spelling = core.spelling(event.platform());
    let Some(session) = core.store.active_session(&event.thread).await? else {
        return Ok(replies::no_session());
    };
    let Some(SessionWorkspace::Worktree(worktree)) = &session.workspace else {
        return Ok(replies::pr_needs_project(&spelling));
    };
    if worktree.repo.contains("://") {
        return Ok(replies::pr_needs_github(&worktree.project));
    }
    if core.store.running_turn(&session.id).await?.is_some() {
        return Ok(replies::pr_while_running(&spelling));
    }
    let person = Person {
        platform: event.platform(),
        id: &event.author.id,
        display: &event.author.display,
    };
    deliver(core, &session, worktree, &person, None).await
}

/// Who asked for a delivery: its commit's author.
pub(super) struct Person<'a> {
    pub platform: Platform,
    pub id: &'a str,
    pub display: &'a str,
}

/// Commits, pushes and opens the pull request of `session`'s `worktree` for `person`; the
/// commit message is `answer`'s (the turn that just ended, for `open_pr = "always"`) or the last
/// answer's. Returns what to tell the thread.
pub(super) async fn deliver(
    core: &Core,
    session: &SessionRow,
    worktree: &ProjectWorktree,
    person: &Person<'_>,
    answer: Option<&str>,
) -> Result<String> {
    let Some(host) = core.hosts.get(&session.host) else {
        return Ok(replies::pr_failed(
            "the session's host is no longer configured",
        ));
    };
    let github = core.policy(Platform::GitHub)?;
    let access = match github.repository(&worktree.repo).await {
        Ok(access) => access,
        Err(e) => return Ok(replies::pr_failed(&format!("{e:#}"))),
    };
    let turns = core.store.session_turns(&session.id).await?;
    let (author_name, author_email) =
        commit_identity(&core.workspaces, person.platform, person.id, person.display);
    let message = match answer {
        Some(answer) => message_from_answer(
            Some(answer),
            replies::session_work_commit(session.id.short()),
        ),
        None => commit_message(core, session, &turns).await?,
    };
    let commit = CommitAs {
        author_name,
        author_email,
        message,
    };
    let pushed = match worktree::push_branch(
        &*host.transport,
        &session.workdir,
        &worktree.branch,
        &access.clone_url,
        &commit,
        &access.token,
    )
    .await
    {
        Ok(pushed) => pushed,
        Err(GitError::Transport(e)) => return Ok(replies::pr_failed(&e.to_string())),
        Err(GitError::Failed(reason)) => return Ok(replies::pr_failed(&reason)),
    };
    if pushed.ahead == 0 {
        return Ok(replies::pr_nothing(&worktree.branch));
    }
    let ask = PullRequestAsk {
        repo: worktree.repo.clone(),
        branch: worktree.branch.clone(),
        base: worktree
            .base
            .clone()
            .unwrap_or_else(|| access.default_branch.clone()),
        title: title(worktree, &turns),
        body: body(session, person, &turns),
    };
    let opened = github.open_pull_request(&ask).await;
    record_push(
        core,
        session,
        &PushRecord {
            by: (person.platform, person.id),
            subject: format!("session {}", session.id),
            branch: &worktree.branch,
            head: &pushed.head,
            commits: format!("{} commit(s) ahead of {}", pushed.ahead, ask.base),
            committed_as: pushed.committed.then_some(commit.author_email.as_str()),
            pr: opened.as_ref().ok(),
        },
    )
    .await?;
    super::ci_watch::watch(core, &session.id, &worktree.repo, &pushed.head).await?;
    Ok(match opened {
        Ok(pr) => replies::pr_opened(&worktree.branch, &pr_view(&pr), pushed.committed),
        Err(e) => replies::pr_pushed_without_pull_request(&worktree.branch, &format!("{e:#}")),
    })
}

/// A push, as the session and the audit trail record it.
pub(super) struct PushRecord<'a> {
    /// Who asked for it.
    pub by: (Platform, &'a str),
    /// What pushed: `session <id>`, `turn <id>`.
    pub subject: String,
    pub branch: &'a str,
    pub head: &'a str,
    /// How many commits, said in words (`2 commit(s) ahead of main`).
    pub commits: String,
    /// The author of the commit made of the uncommitted work, when one was made.
    pub committed_as: Option<&'a str>,
    pub pr: Option<&'a OpenedPullRequest>,
}

/// Records a push on its session (when, its pull request) and in the audit trail (who asked,
/// the commit made for them): `/pr`, `open_pr = "always"` and an issue's pull request alike.
pub(super) async fn record_push(
    core: &Core,
    session: &SessionRow,
    push: &PushRecord<'_>,
) -> Result<()> {
    core.store
        .record_delivery(
            &session.id,
            now_ms(),
            push.pr.map(|pr| (pr.number as i64, pr.url.as_str())),
        )
        .await?;
    let committed = push
        .committed_as
        .map(|author| format!(", committing the uncommitted work as {author}"))
        .unwrap_or_default();
    let pr = match push.pr {
        Some(pr) => format!("pull request #{} {}", pr.number, pr.url),
        None => "no pull request".to_owned(),
    };
    let detail = format!(
        "{} pushed {} at {} ({}{committed}); {pr}",
        push.subject, push.branch, push.head, push.commits
    );
    let (platform, actor) = push.by;
    core.store
        .audit(
            platform,
            actor,
            &session.thread.key(),
            AuditAction::BranchPushed,
            &detail,
        )
        .await
}

/// The git identity of a person of `platform`: the one `workspaces.authors` gives them, else
/// their name (a chat handle without its `@`: a name here, not a mention) and
/// `id@platform.invalid`, an address that reaches nobody.
pub(super) fn commit_identity(
    workspaces: &Workspaces,
    platform: Platform,
    id: &str,
    display: &str,
) -> (String, String) {
    if let Some(configured) = workspaces.author(platform, id) {
        return configured;
    }
    let clean = |text: &str| -> String {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    (
        clean(display.trim_start_matches('@')),
        clean(&format!("{id}@{platform}.invalid")),
    )
}

/// The environment that makes the agent's own commits in a turn the prompting person's, with
/// Switchboard as committer (git's variables win over the host's git config).
pub(super) fn commit_env(
    workspaces: &Workspaces,
    platform: Platform,
    id: &str,
    display: &str,
) -> Vec<(String, String)> {
    let (name, email) = commit_identity(workspaces, platform, id, display);
    let (committer, committer_email) = git::COMMITTER;
    [
        ("GIT_AUTHOR_NAME", name),
        ("GIT_AUTHOR_EMAIL", email),
        ("GIT_COMMITTER_NAME", committer.to_owned()),
        ("GIT_COMMITTER_EMAIL", committer_email.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub(super) fn pr_view(pr: &OpenedPullRequest) -> replies::PullRequestView<'_> {
    replies::PullRequestView {
        number: pr.number,
        url: &pr.url,
        created: pr.created,
    }
}

/// The commit message of the uncommitted work: the first line of the agent's last answer, the
/// rest of it below; or a plain line when the agent said nothing.
async fn commit_message(
    core: &Core,
    session: &SessionRow,
    turns: &[crate::store::TurnRow],
) -> Result<String> {
    let mut answer = None;
    if let Some(last) = turns.iter().rev().find(|t| t.finished_at.is_some()) {
        answer = core
            .store
            .turn_events(&last.id)
            .await?
            .into_iter()
            .rev()
            .find_map(|row| match row.event {
                AgentEvent::Text { text } if !text.trim().is_empty() => Some(text),
                _ => None,
            });
    }
    Ok(message_from_answer(
        answer.as_deref(),
        replies::session_work_commit(session.id.short()),
    ))
}

/// A commit message from the agent's answer: its first line, shortened, as the subject, the
/// whole answer below when there is more; `fallback` when the agent said nothing.
pub(super) fn message_from_answer(answer: Option<&str>, fallback: String) -> String {
    let Some(text) = answer.map(str::trim).filter(|t| !t.is_empty()) else {
        return fallback;
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let subject = shorten(first.trim(), TITLE_CHARS);
    if rest.trim().is_empty() && subject == first.trim() {
        subject
    } else {
        format!("{subject}\n\n{text}")
    }
}

/// The pull request's title: the first line of the session's first prompt.
fn title(worktree: &ProjectWorktree, turns: &[crate::store::TurnRow]) -> String {
    turns
        .first()
        .and_then(|t| t.prompt.lines().find(|l| !l.trim().is_empty()))
        .map(|line| shorten(line.trim(), TITLE_CHARS))
        .unwrap_or_else(|| replies::pr_title_without_prompt(&worktree.project))
}

/// The pull request's body: where it came from, who asked, and the prompts that made it. A
/// prompt's or a chat handle's `@name` would notify that GitHub user; it is shown without doing
/// so.
fn body(session: &SessionRow, person: &Person<'_>, turns: &[crate::store::TurnRow]) -> String {
    let prompts: Vec<(String, String)> = turns
        .iter()
        .take(BODY_PROMPTS)
        .map(|turn| {
            let line = turn.prompt.lines().next().unwrap_or("").trim();
            (
                unmentioned(&turn.author_name),
                unmentioned(&shorten(line, 200)),
            )
        })
        .collect();
    replies::pr_body(&replies::PullRequestBody {
        platform: session.thread.platform,
        thread: &session.thread.key(),
        session: session.id.short(),
        requester: &unmentioned(person.display),
        prompts: &prompts,
        more: turns.len().saturating_sub(BODY_PROMPTS),
    })
}

/// `text` with each `@` followed by a zero-width space: GitHub notifies nobody it names.
fn unmentioned(text: &str) -> String {
    text.replace('@', "@\u{200b}")
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_a_name_and_an_address_that_reaches_nobody() {
        let none = Workspaces::default();
        assert_eq!(
            commit_identity(&none, Platform::Telegram, "1001", "@alice"),
            ("alice".to_owned(), "1001@telegram.invalid".to_owned())
        );
        assert_eq!(
            commit_identity(&none, Platform::Slack, "U1\n", "Ann\nEvil: x"),
            ("Ann Evil: x".to_owned(), "U1 @slack.invalid".to_owned())
        );
        let mapped = Workspaces {
            authors: [(
                "slack:U1".to_owned(),
                "Ann Lee <ann@example.com>".to_owned(),
            )]
            .into(),
            ..Workspaces::default()
        };
        assert_eq!(
            commit_identity(&mapped, Platform::Slack, "U1", "ann"),
            ("Ann Lee".to_owned(), "ann@example.com".to_owned())
        );
    }

    #[test]
    fn titles_are_one_short_line() {
        assert_eq!(shorten("fix it", 72), "fix it");
        let long = "x".repeat(100);
        let short = shorten(&long, 72);
        assert_eq!(short.chars().count(), 72);
        assert!(short.ends_with('…'));
    }
}
