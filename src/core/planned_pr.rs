//! A turn's work delivered as the pull request its checkout planned: a GitHub issue's mention.
//!
//! The GitHub policy plans it when it prepares the turn (`GitCheckout::pull_request`: the
//! issue's branch to push to, the title, a body that says `Fixes #N`, the person who asked).
//! After a successful turn, what the agent left uncommitted is committed with that person as
//! author and Switchboard as committer, the branch is pushed with the installation token, and
//! the branch's pull request is opened or found — the same call `/pr` makes, idempotent on the
//! branch, so a later mention in the issue pushes to the branch and updates its one pull
//! request. A turn that changed nothing opens nothing, with one exception: a branch pushed
//! before without its pull request (GitHub refused, or the bot died between the two) gets it
//! now. Who asked for each commit is in the audit trail.

use super::Core;
use super::delivery::{PushRecord, message_from_answer, pr_view, record_push};
use super::policy::PullRequestAsk;
use super::replies;
use crate::config::Secret;
use crate::domain::thread::Platform;
use crate::domain::workspace::{PullRequestPlan, PushTarget};
use crate::runner::git::{self, CheckoutAt, CommitAs};
use crate::runner::hosts::Host;
use crate::store::{SessionRow, TurnRow};

/// Where a planned pull request's work is: the checkout on its host, its branch, the plan.
pub(super) struct Planned<'a> {
    pub host: &'a Host,
    /// Where the checkout is on the host.
    pub at: &'a CheckoutAt,
    pub target: &'a PushTarget,
    pub plan: &'a PullRequestPlan,
}

/// Commits, pushes and opens the pull request of `turn`'s checkout (after the agent answered
/// `answer`); returns what to tell in the answer, nothing when the turn changed nothing.
pub(super) async fn deliver(
    core: &Core,
    session: &SessionRow,
    turn: &TurnRow,
    work: Planned<'_>,
    answer: &str,
    token: &Secret,
) -> Option<String> {
    let Planned {
        host,
        at,
        target,
        plan,
    } = work;
    let (author_name, author_email) = core
        .workspaces
        .author(Platform::GitHub, &turn.author_id)
        .unwrap_or_else(|| (plan.author_name.clone(), plan.author_email.clone()));
    let commit = CommitAs {
        author_name,
        author_email,
        message: message_from_answer(Some(answer), plan.title.clone()),
    };
    let pushed = match git::push(&*host.transport, at, target, Some(&commit), token).await {
        Ok(pushed) => pushed,
        Err(e) => return Some(replies::push_failed(&target.branch, &e.to_string())),
    };
    let changed =
        !pushed.commits.is_empty() || turn.workspace_head.as_deref() != Some(pushed.head.as_str());
    let unopened = session.delivery.pushed_at.is_some() && session.delivery.pr_number.is_none();
    if !changed && !unopened {
        return None;
    }
    let ask = PullRequestAsk {
        repo: plan.repo.clone(),
        branch: target.branch.clone(),
        base: plan.base.clone(),
        title: plan.title.clone(),
        body: plan.body.clone(),
    };
    let opened = match core.policy(session.thread.platform) {
        Ok(policy) => policy.open_pull_request(&ask).await,
        Err(e) => Err(e),
    };
    let push = PushRecord {
        by: (session.thread.platform, &turn.author_id),
        subject: format!("turn {}", turn.id),
        branch: &ask.branch,
        head: &pushed.head,
        commits: format!("{} new commit(s)", pushed.commits.len()),
        committed_as: pushed.committed.then_some(commit.author_email.as_str()),
        pr: opened.as_ref().ok(),
    };
    // The push stands whatever: a failure to record it is logged.
    if let Err(e) = record_push(core, session, &push).await {
        tracing::warn!(turn = %turn.id, "could not record the push: {e:#}");
    }
    Some(match opened {
        Ok(pr) => replies::pr_opened(&target.branch, &pr_view(&pr), pushed.committed),
        Err(e) => replies::planned_pr_not_opened(&target.branch, &format!("{e:#}")),
    })
}
