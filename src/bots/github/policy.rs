//! GitHub's decisions.
//!
//! - Admission: a mention — or an issue's label or assignment that hands it to the bot, whose
//!   sender is the one asking — counts only from someone with write, maintain or admin
//!   permission on the repository (asked from the API, never guessed from the payload); accounts
//!   of type Bot cannot ask. A dependency review runs for pull requests of the configured bots
//!   only when the author's login matches exactly *and* its account type is `Bot` — a `[bot]`
//!   suffix proves nothing.
//! - Preparation: the request plus the thread's context (title, description, diff, earlier
//!   comments created and last edited before the request), and a checkout of the pull request's
//!   head (`refs/pull/N/head`, which also covers forks) or of an issue's branch, with the pull
//!   request that delivers it planned (`on_issue_branch`) — or, for a dependency review, the plan
//!   read from the pull request's text and changed files, whose facts the turn gathers on the
//!   host (see `reviews`). Preparing only calls the API: the router holds the thread meanwhile.
//! - Acknowledgement: 👀 on the comment that asked (none when a label or an assignment did) and
//!   a tracking comment; a dependency review posts nothing until its review.
//! - Presentation: the tracking comment becomes the answer, its patch collapsed under it while
//!   it fits (see `answer`); a dependency review becomes the pull request review (or, when the
//!   turn ended before it found anything, a review saying what went wrong).

use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};

use super::answer;
use super::client::GitHubClient;
use super::outlet::{COMMENT_ROOM, Target};
use super::prompt::{self, InlineSpot, MentionContext, PastComment, PullRefs};
use super::translate::{Context, Identity, Request, Trigger};
use crate::config::{GitHubConfig, Secret};
use crate::core::policy::{
    Ending, OpenedPullRequest, Policy, Prepared, PullRequestAsk, RepositoryAccess,
};
use crate::core::replies;
use crate::domain::admission::{Admission, Refusal};
use crate::domain::checks::ChecksSummary;
use crate::domain::command::Spelling;
use crate::domain::ids::TurnId;
use crate::domain::inbound::Inbound;
use crate::domain::outbound::{Outbound, OutboundOp, Post, Reaction};
use crate::domain::outbox_key::OutboxKey;
use crate::domain::outcome::Outcome;
use crate::domain::thread::Platform;
use crate::domain::workspace::{
    Credential, GitCheckout, PullRequestPlan, PushTarget, Workspace, github_repo_key,
};
use crate::render::untrusted;
use crate::reviews::{self, deps::ChangedFile};
use futures_util::future::BoxFuture;

pub struct GitHubPolicy {
    client: Arc<GitHubClient>,
    me: Identity,
    config: GitHubConfig,
    /// The host GitHub's turns run on (`github.host`, checked to be configured).
    host: String,
    /// The start of an issue's branch name (`[workspaces] branch_prefix`).
    branch_prefix: String,
}

impl GitHubPolicy {
    pub fn new(
        client: Arc<GitHubClient>,
        me: Identity,
        config: GitHubConfig,
        host: String,
        branch_prefix: String,
    ) -> GitHubPolicy {
        GitHubPolicy {
            client,
            me,
            config,
            host,
            branch_prefix,
        }
    }

    async fn has_write_access(&self, repo: &str, login: &str) -> Result<Admission> {
        let permission = self.client.permission(repo, login).await?;
        Ok(match permission.can_write() {
            true => Admission::Allowed,
            false => Admission::Refused(Refusal::NoWriteAccess {
                login: login.to_owned(),
                permission: permission.to_string(),
            }),
        })
    }

    fn checkout(
        &self,
        ctx: &Context,
        pull: Option<&super::payload::PullRequest>,
        dir: String,
    ) -> GitCheckout {
        let (fetch_ref, base_ref) = match pull {
            Some(pr) => (
                format!("refs/pull/{}/head", ctx.number),
                Some(format!("refs/heads/{}", pr.base.ref_name)),
            ),
            None => (format!("refs/heads/{}", ctx.default_branch), None),
        };
        let push = pull
            .filter(|_| self.config.allow_push)
            .and_then(|pr| push_target(ctx, pr));
        GitCheckout {
            clone_url: ctx.clone_url.clone(),
            fetch_ref,
            base_ref,
            dir,
            credential: Credential::GitHubInstallation(ctx.installation),
            push,
            resume_ref: None,
            pull_request: None,
        }
    }

    /// An issue's checkout works on the issue's branch (`<prefix>issue-N`): cut from the default
    /// branch, resumed once pushed, and delivered as a pull request that fixes the issue, with
    /// `requester` as the author of the commits made for them — pushed only when pushing is
    /// allowed.
    fn on_issue_branch(
        &self,
        checkout: GitCheckout,
        ctx: &Context,
        title: &str,
        requester: &str,
    ) -> GitCheckout {
        let branch = format!("{}issue-{}", self.branch_prefix, ctx.number);
        GitCheckout {
            resume_ref: Some(format!("refs/heads/{branch}")),
            push: self.config.allow_push.then(|| PushTarget {
                url: ctx.clone_url.clone(),
                branch,
            }),
            pull_request: Some(PullRequestPlan {
                repo: ctx.repo.clone(),
                base: ctx.default_branch.clone(),
                title: title.to_owned(),
                body: format!(
                    "Fixes #{n}\n\nOpened by Switchboard at the request of @{requester} in #{n}.",
                    n = ctx.number
                ),
                author_name: requester.to_owned(),
                author_email: format!("{requester}@github.invalid"),
            }),
            ..checkout
        }
    }

    async fn prepare_mention(
        &self,
        ctx: &Context,
        event: &Inbound,
        request: &str,
    ) -> Result<Prepared> {
        let Request::Mention {
            trigger,
            created_at,
        } = &ctx.request
        else {
            return Err(anyhow!("not a mention"));
        };
        let repo = ctx.repo.as_str();
        let issue = self.client.issue(repo, ctx.number).await?;
        let pull = match ctx.is_pull_request {
            true => Some(self.client.pull_request(repo, ctx.number).await?),
            false => None,
        };
        let diff = match &pull {
            Some(_) => Some(self.client.pull_diff(repo, ctx.number).await?),
            None => None,
        };
        let trigger_id = match trigger {
            Trigger::IssueComment { id } => Some(*id),
            _ => None,
        };
        let before = |t: &str| timestamp(t) <= timestamp(created_at);
        let mut comments: Vec<PastComment> = self
            .client
            .issue_comments(repo, ctx.number)
            .await?
            .into_iter()
            .filter(|c| Some(c.id) != trigger_id && c.user.login != self.me.bot_login)
            .filter(|c| before(&c.created_at) && before(&c.updated_at))
            .map(|c| PastComment {
                author: c.user.login,
                created_at: c.created_at,
                body: c.body,
            })
            .collect();
        let keep = comments.len().saturating_sub(self.config.context_comments);
        comments.drain(..keep);

        let inline = match trigger {
            Trigger::ReviewComment {
                path,
                line,
                diff_hunk,
                ..
            } => Some(InlineSpot {
                path: path.clone(),
                line: *line,
                diff_hunk: diff_hunk.clone(),
            }),
            _ => None,
        };
        let kind = if ctx.is_pull_request { "pr" } else { "issue" };
        let dir = format!("{}/{kind}-{}", github_repo_key(repo), ctx.number);
        let checkout = self.checkout(ctx, pull.as_ref(), dir);
        let checkout = match &pull {
            Some(_) => checkout,
            None => self.on_issue_branch(checkout, ctx, &issue.title, &event.author.id),
        };
        let refs = pull.as_ref().map(|pr| PullRefs {
            head_ref: pr.head.ref_name.clone(),
            head_sha: pr.head.sha.clone(),
            base_ref: pr.base.ref_name.clone(),
            base_in_checkout: checkout.base_branch_ref(),
        });
        let diff_text = diff
            .as_deref()
            .map(|d| &d[..d.floor_char_boundary(self.config.diff_max_bytes)]);
        let text = prompt::mention(
            &MentionContext {
                repo,
                number: ctx.number,
                title: &issue.title,
                body: issue.body.as_deref(),
                author: &issue.user.login,
                pull: refs.as_ref(),
                diff: diff_text.zip(diff.as_ref().map(String::len)),
                comments: &comments,
                inline: inline.as_ref(),
                requester: &event.author.id,
                request,
                push_branch: checkout.push.as_ref().map(|p| p.branch.as_str()),
                opens_pull_request: checkout.pull_request.is_some(),
            },
            &untrusted::nonce(),
        );
        Ok(Prepared {
            prompt: text,
            workspace: Some(Workspace::Git(checkout)),
            review: None,
            host: Some(self.host.clone()),
        })
    }

    /// Plans a dependency review from the pull request's text and changed files; `None` when
    /// the dependency set is the one already reviewed (unless a person asked again). The facts
    /// are gathered by the turn, on the host, once it holds a slot there (see `reviews`).
    async fn prepare_review(&self, ctx: &Context, asked: bool) -> Result<Option<Prepared>> {
        let repo = ctx.repo.as_str();
        let pr = self.client.pull_request(repo, ctx.number).await?;
        let files: Vec<ChangedFile> = self
            .client
            .pull_files(repo, ctx.number)
            .await?
            .into_iter()
            .map(|f| ChangedFile {
                filename: f.filename,
                patch: f.patch,
            })
            .collect();
        let body = pr.body.clone().unwrap_or_default();
        let pull = reviews::PullRequest {
            repo,
            number: ctx.number,
            title: &pr.title,
            body: &body,
            head_sha: &pr.head.sha,
            files: &files,
        };
        let plan = reviews::plan(pull, self.config.test_timeout, asked);
        if !asked {
            let reviews = self.client.reviews(repo, ctx.number).await?;
            let already = reviews.iter().any(|r| {
                r.user
                    .as_ref()
                    .is_some_and(|u| u.login == self.me.bot_login)
                    && r.body
                        .as_deref()
                        .and_then(reviews::reviewed_fingerprint)
                        .is_some_and(|f| f == plan.fingerprint)
            });
            if already {
                tracing::info!(
                    repo,
                    pr = ctx.number,
                    "dependency set unchanged; no new review"
                );
                return Ok(None);
            }
        }
        let checkout = GitCheckout {
            push: None,
            ..self.checkout(
                ctx,
                Some(&pr),
                format!("{}/pr-{}-deps", github_repo_key(repo), ctx.number),
            )
        };
        Ok(Some(Prepared {
            prompt: reviews::pending_prompt(&plan),
            workspace: Some(Workspace::Git(checkout)),
            review: Some(plan),
            host: Some(self.host.clone()),
        }))
    }
}

/// The GitHub context the edge stored with an event.
fn context(event: &Inbound) -> Result<Context> {
    let value = event
        .context
        .clone()
        .context("a GitHub event without its context")?;
    Ok(serde_json::from_value(value)?)
}

fn timestamp(text: &str) -> std::time::SystemTime {
    humantime::parse_rfc3339(text).unwrap_or(std::time::UNIX_EPOCH)
}

/// Where the agent's commits may go: the pull request's head branch, unless that is the default
/// branch, or a fork whose author did not allow maintainers to edit it, or a deleted fork.
fn push_target(ctx: &Context, pr: &super::payload::PullRequest) -> Option<PushTarget> {
    let head_repo = pr.head.repo.as_ref()?;
    let same_repo = head_repo.full_name == ctx.repo;
    let may_modify = same_repo || pr.maintainer_can_modify == Some(true);
    let default_branch = same_repo && pr.head.ref_name == ctx.default_branch;
    (may_modify && !default_branch).then(|| PushTarget {
        url: head_repo
            .clone_url
            .clone()
            .unwrap_or_else(|| ctx.clone_url.clone()),
        branch: pr.head.ref_name.clone(),
    })
}

impl Policy for GitHubPolicy {
    fn platform(&self) -> Platform {
        Platform::GitHub
    }

    /// GitHub has no commands of its own: a comment that opens with the App's mention and is
    /// exactly a command is one (`@switchboard new`).
    fn spelling(&self) -> Spelling {
        Spelling::Mention(self.me.handle.clone())
    }

    /// GitHub's turns run where `github.host` says: text from strangers must not move them to
    /// another host (a local one, say).
    fn pinned_host(&self) -> Option<&str> {
        Some(&self.host)
    }

    fn admit<'a>(&'a self, event: &'a Inbound) -> BoxFuture<'a, Result<Admission>> {
        Box::pin(async move {
            let ctx = context(event)?;
            let login = event.author.id.as_str();
            match &ctx.request {
                Request::DependencyReview { .. } if event.message_id.is_none() => {
                    let known = self.me.dependency_bots.iter().any(|b| b == login);
                    Ok(if known && ctx.sender_kind == "Bot" {
                        Admission::Allowed
                    } else {
                        Admission::Refused(Refusal::Silent {
                            reason: format!(
                                "{login} ({}) is not one of the configured dependency bots",
                                ctx.sender_kind
                            ),
                        })
                    })
                }
                _ if ctx.sender_kind == "Bot" => Ok(Admission::Refused(Refusal::Silent {
                    reason: format!("{login} is a bot account; bots cannot ask"),
                })),
                _ => self.has_write_access(&ctx.repo, login).await,
            }
        })
    }

    fn prepare<'a>(
        &'a self,
        event: &'a Inbound,
        text: &'a str,
        _opens_session: bool,
    ) -> BoxFuture<'a, Result<Option<Prepared>>> {
        Box::pin(async move {
            let ctx = context(event)?;
            match &ctx.request {
                Request::Mention { .. } => self.prepare_mention(&ctx, event, text).await.map(Some),
                Request::DependencyReview { .. } => {
                    self.prepare_review(&ctx, event.message_id.is_some()).await
                }
            }
        })
    }

    fn acknowledge(&self, event: &Inbound, turn: &TurnId, ahead: i64) -> Vec<Outbound> {
        let Ok(ctx) = context(event) else {
            return Vec::new();
        };
        if matches!(ctx.request, Request::DependencyReview { .. }) {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(message) = &event.message_id {
            out.push(Outbound {
                key: OutboxKey::Reaction(turn.clone()),
                thread: event.thread.clone(),
                op: OutboundOp::React {
                    message_id: message.clone(),
                    reaction: Reaction::Eyes,
                },
            });
        }
        out.push(Outbound {
            key: OutboxKey::Status(turn.clone()),
            thread: event.thread.clone(),
            op: OutboundOp::Post(
                Post::text(replies::github_working(ahead)).replying_to(event.message_id.clone()),
            ),
        });
        out
    }

    fn present(&self, ending: &Ending<'_>) -> Vec<Outbound> {
        let turn = ending.turn;
        let whole = format!("{}\n\n{}", ending.status, ending.message);
        let review_thread = Target::of(ending.thread).is_some_and(|t| t.review);
        if review_thread {
            let memo: Option<reviews::Reviewed> = turn
                .memo
                .clone()
                .and_then(|m| serde_json::from_value(m).ok());
            let Some(memo) = memo else {
                // The turn ended before its review phase found anything (the checkout failed,
                // the host could not be reached): the review says what went wrong.
                tracing::warn!(turn = %turn.id, "a dependency review ended without its findings");
                return vec![Outbound {
                    key: OutboxKey::Result(turn.id.clone()),
                    thread: ending.thread.clone(),
                    op: OutboundOp::Post(Post::text(whole)),
                }];
            };
            let (verdict, assessment) = match ending.outcome {
                Outcome::Success { .. } => reviews::verdict(&ending.message),
                _ => (reviews::Verdict::NeedsAttention, ending.message.clone()),
            };
            let body = reviews::body(
                &memo.findings,
                verdict,
                &assessment,
                &memo.head_sha,
                COMMENT_ROOM,
            );
            return vec![Outbound {
                key: OutboxKey::Result(turn.id.clone()),
                thread: ending.thread.clone(),
                op: OutboundOp::Post(Post::text(body)),
            }];
        }
        let laid = answer::lay_out(&whole, &ending.attachments);
        let status_key = OutboxKey::StatusEdit(turn.id.clone());
        let mut out = vec![Outbound {
            key: status_key.clone(),
            thread: ending.thread.clone(),
            op: OutboundOp::Edit {
                target: OutboxKey::Status(turn.id.clone()),
                markdown: laid.tracking,
                progress: false,
                buttons: Vec::new(),
            },
        }];
        if !laid.rest.is_empty() || !laid.files.is_empty() {
            // What does not fit continues in comments of its own, after the answer.
            out.push(Outbound {
                key: OutboxKey::Result(turn.id.clone()),
                thread: ending.thread.clone(),
                op: OutboundOp::Post(
                    Post::text(laid.rest)
                        .replying_to(turn.reply_to.clone())
                        .attach(laid.files)
                        .with_status(status_key, 0),
                ),
            });
        }
        out
    }

    fn credential<'a>(&'a self, credential: &'a Credential) -> BoxFuture<'a, Result<Secret>> {
        Box::pin(async move {
            let Credential::GitHubInstallation(installation) = *credential;
            Ok(self.client.installation_token(installation).await?)
        })
    }

    fn open_pull_request<'a>(
        &'a self,
        ask: &'a PullRequestAsk,
    ) -> BoxFuture<'a, Result<OpenedPullRequest>> {
        Box::pin(async move {
            let opened = self
                .client
                .open_pull_request(&ask.repo, &ask.branch, &ask.base, &ask.title, &ask.body)
                .await
                .with_context(|| format!("opening the pull request of {}", ask.branch))?;
            Ok(OpenedPullRequest {
                number: opened.number,
                url: opened.html_url,
                created: opened.created,
            })
        })
    }

    fn commit_checks<'a>(
        &'a self,
        repo: &'a str,
        sha: &'a str,
    ) -> BoxFuture<'a, Result<ChecksSummary>> {
        Box::pin(async move {
            self.client
                .checks_for(repo, sha)
                .await
                .with_context(|| format!("reading the checks of {repo}@{sha}"))
        })
    }

    fn repository<'a>(&'a self, repo: &'a str) -> BoxFuture<'a, Result<RepositoryAccess>> {
        Box::pin(async move {
            let found = self
                .client
                .repository(repo)
                .await
                .with_context(|| format!("reading {repo} with the GitHub App"))?;
            let clone_url = found
                .clone_url
                .with_context(|| format!("GitHub gave no clone URL for {repo}"))?;
            Ok(RepositoryAccess {
                clone_url,
                default_branch: found.default_branch.unwrap_or_else(|| "main".to_owned()),
                token: self.client.token_for(repo).await?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bots::github::payload::PullRequest;

    fn ctx() -> Context {
        Context {
            installation: 1,
            repo: "octo/app".into(),
            clone_url: "https://github.com/octo/app.git".into(),
            default_branch: "main".into(),
            number: 7,
            is_pull_request: true,
            sender_kind: "User".into(),
            request: Request::DependencyReview {
                head_sha: "abc".into(),
            },
        }
    }

    /// A pull request from `head_repo` (`None`: its fork was deleted), branch `branch`.
    fn pr(head_repo: Option<&str>, branch: &str, maintainer_can_modify: bool) -> PullRequest {
        let user = json!({"login": "alice", "id": 1, "type": "User"});
        let repo = head_repo.map(|name| {
            json!({
                "id": 2, "name": "app", "full_name": name, "owner": user, "private": false,
                "fork": name != "octo/app", "default_branch": "main",
                "clone_url": format!("https://github.com/{name}.git"),
            })
        });
        serde_json::from_value(json!({
            "number": 7, "title": "t", "body": null, "user": user, "state": "open",
            "draft": false, "html_url": "https://github.com/octo/app/pull/7",
            "maintainer_can_modify": maintainer_can_modify,
            "updated_at": "2024-01-01T00:00:00Z",
            "head": {"ref": branch, "sha": "abc", "label": "alice:x", "repo": repo},
            "base": {"ref": "main", "sha": "def", "label": "octo:main", "repo": null},
        }))
        .unwrap()
    }

    #[test]
    fn commits_go_only_where_they_may() {
        let ctx = ctx();
        let same = push_target(&ctx, &pr(Some("octo/app"), "feature", false)).unwrap();
        assert_eq!(same.url, "https://github.com/octo/app.git");
        assert_eq!(same.branch, "feature");
        assert_eq!(push_target(&ctx, &pr(Some("octo/app"), "main", true)), None);
        assert_eq!(
            push_target(&ctx, &pr(Some("alice/app"), "fix", false)),
            None
        );
        let fork = push_target(&ctx, &pr(Some("alice/app"), "main", true)).unwrap();
        assert_eq!(fork.url, "https://github.com/alice/app.git");
        assert_eq!(
            fork.branch, "main",
            "a fork's own main is its author's branch"
        );
        assert_eq!(push_target(&ctx, &pr(None, "fix", true)), None);
    }
}
