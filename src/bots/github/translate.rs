//! Webhook events → core inbound events.
//!
//! What becomes an event: a comment, inline review comment or review that mentions the handle
//! as a whole word (`@switchboard`, not `@switchboarder`) when it is *created* — an edit never
//! triggers, because an edited comment can smuggle a request past everyone who read it — an
//! issue assigned to the App's bot account or labeled with `github.issue_label` (a mention
//! whose request is the issue itself, [`RESOLVE_ISSUE`]: the title and description reach the
//! agent as the untrusted context every issue mention gives it), and pull requests opened,
//! reopened or updated by one of the configured dependency bots. The
//! bot's own comments are never events. A completed check run or suite is no event either: it
//! only names the commit whose checks are read again ([`checks_completed`]). Everything else is
//! acknowledged and dropped.
//!
//! A pull request's thread is `owner/repo` + `pr/N`; its dependency review is a thread of its
//! own (`pr/N/deps`), so reviews never mix with the conversation people have with the agent.
//!
//! An event is stored under a key made of what the webhook signature covers ([`signed_key`]):
//! the comment's or review's id and the action; for an issue's assignment or label the
//! repository, number, action, assignee or label and the issue's `updated_at` (the payload has
//! no id of its own, and assigning or labeling again updates the issue); for a dependency bot's
//! pull request the repository, number, head sha and action. Never the `X-GitHub-Delivery` header: it is not
//! signed, so keyed on it the same signed body with a new delivery id would run again.

use serde::{Deserialize, Serialize};

use super::payload::{Event, IssuesEvent, PullRequest, Repository, User};
use crate::domain::command::help_for;
use crate::domain::inbound::after_addressing;
use crate::domain::inbound::{Inbound, InboundBody};
use crate::domain::thread::{Author, Platform, ThreadRef};

/// The command word that asks for a dependency review (`@switchboard review-deps`).
pub const REVIEW_DEPS: &str = "review-deps";

/// The request of an issue handed to the bot by an assignment or a label: the issue itself,
/// which the agent reads (fenced, as anyone may have written it) above the request.
pub const RESOLVE_ISSUE: &str = "Resolve this issue.";

/// Who the bot is on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The mention handle, without `@`.
    pub handle: String,
    /// The App's bot account, `<slug>[bot]`.
    pub bot_login: String,
    /// Exact logins of the dependency bots.
    pub dependency_bots: Vec<String>,
    /// The label that hands an issue to the bot (`github.issue_label`), if any.
    pub issue_label: Option<String>,
}

/// What the GitHub policy needs back about an event (stored with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub installation: u64,
    pub repo: String,
    /// Where the repository is cloned from, and its default branch.
    pub clone_url: String,
    pub default_branch: String,
    pub number: u64,
    pub is_pull_request: bool,
    /// `User`, `Bot` or `Organization`: the sender's account type.
    pub sender_kind: String,
    pub request: Request,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// The handle was mentioned.
    Mention {
        trigger: Trigger,
        /// When the triggering text was created (RFC 3339); only comments created and last
        /// edited before it are given to the agent.
        created_at: String,
    },
    /// A dependency review, asked for by a dependency bot's pull request or by a command.
    DependencyReview { head_sha: String },
}

/// Where the mention was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    IssueComment {
        id: u64,
    },
    ReviewComment {
        id: u64,
        path: String,
        line: Option<u64>,
        diff_hunk: String,
    },
    Review {
        id: u64,
    },
    /// The issue was assigned to the bot or labeled for it: no comment asked.
    Issue,
}

impl Trigger {
    /// The platform message id the outlet understands (`issue-comment:ID` …); `None` when no
    /// comment asked (nothing to react to or reply to).
    pub fn message_id(&self) -> Option<String> {
        match self {
            Trigger::IssueComment { id } => Some(format!("issue-comment:{id}")),
            Trigger::ReviewComment { id, .. } => Some(format!("review-comment:{id}")),
            Trigger::Review { id } => Some(format!("review:{id}")),
            Trigger::Issue => None,
        }
    }
}

/// The store's key for an event: only what the signature covers, so a signed body delivered
/// again under any delivery id is the same event. `None` for events the bot never stores.
fn signed_key(event: &Event) -> Option<String> {
    Some(match event {
        Event::IssueComment(e) => format!("issue-comment:{}:{}", e.comment.id, e.action),
        Event::Issues(e) => format!(
            "issues:{}:{}:{}:{}:{}",
            e.repository.id,
            e.issue.number,
            e.action,
            e.label
                .as_ref()
                .map(|l| l.name.as_str())
                .or(e.assignee.as_ref().map(|a| a.login.as_str()))
                .unwrap_or_default(),
            e.issue.updated_at
        ),
        Event::PullRequestReviewComment(e) => {
            format!("review-comment:{}:{}", e.comment.id, e.action)
        }
        Event::PullRequestReview(e) => format!("review:{}:{}", e.review.id, e.action),
        Event::PullRequest(e) => format!(
            "pull-request:{}:{}:{}:{}",
            e.repository.id, e.pull_request.number, e.pull_request.head.sha, e.action
        ),
        Event::CheckRun(_) | Event::CheckSuite(_) | Event::Ping(_) | Event::Other { .. } => {
            return None;
        }
    })
}

/// The repository and commit whose CI checks a `check_run` or `check_suite` delivery says ended:
/// their watch is read again (`core::ci_watch`). Such deliveries are never prompts.
pub fn checks_completed(event: &Event) -> Option<(&str, &str)> {
    match event {
        Event::CheckRun(e) if e.action == "completed" => {
            Some((&e.repository.full_name, &e.check_run.head_sha))
        }
        Event::CheckSuite(e) if e.action == "completed" => {
            Some((&e.repository.full_name, &e.check_suite.head_sha))
        }
        _ => None,
    }
}

/// The core event for a webhook delivery, or `None` when it is not for the bot.
pub fn translate(event: &Event, me: &Identity) -> Option<Inbound> {
    let key = signed_key(event)?;
    let key = key.as_str();
    match event {
        Event::IssueComment(e) if e.action == "created" => {
            let body = asked(&e.comment.body, &me.handle)?;
            let kind = if e.issue.pull_request.is_some() {
                "pr"
            } else {
                "issue"
            };
            request(
                me,
                key,
                &e.repository,
                &e.sender,
                e.installation.as_ref()?.id,
                (e.issue.number, kind == "pr"),
                body,
                Trigger::IssueComment { id: e.comment.id },
                &e.comment.created_at,
                None,
            )
        }
        Event::Issues(e) if e.issue.pull_request.is_none() && handed_over(e, me) => request(
            me,
            key,
            &e.repository,
            &e.sender,
            e.installation.as_ref()?.id,
            (e.issue.number, false),
            InboundBody::Prompt {
                text: RESOLVE_ISSUE.to_owned(),
            },
            Trigger::Issue,
            &e.issue.updated_at,
            None,
        ),
        Event::PullRequestReviewComment(e) if e.action == "created" => {
            let body = asked(&e.comment.body, &me.handle)?;
            let c = &e.comment;
            request(
                me,
                key,
                &e.repository,
                &e.sender,
                e.installation.as_ref()?.id,
                (e.pull_request.number, true),
                body,
                Trigger::ReviewComment {
                    id: c.id,
                    path: c.path.clone(),
                    line: c.line.or(c.original_line),
                    diff_hunk: c.diff_hunk.clone(),
                },
                &c.created_at,
                Some(&e.pull_request),
            )
        }
        Event::PullRequestReview(e) if e.action == "submitted" => {
            let body = asked(e.review.body.as_deref()?, &me.handle)?;
            request(
                me,
                key,
                &e.repository,
                &e.sender,
                e.installation.as_ref()?.id,
                (e.pull_request.number, true),
                body,
                Trigger::Review { id: e.review.id },
                e.review.submitted_at.as_deref().unwrap_or_default(),
                Some(&e.pull_request),
            )
        }
        Event::PullRequest(e)
            if matches!(e.action.as_str(), "opened" | "reopened" | "synchronize")
                && me.dependency_bots.contains(&e.pull_request.user.login) =>
        {
            Some(dependency_review_inbound(
                key,
                &e.repository,
                &e.pull_request.user,
                e.installation.as_ref()?.id,
                e.pull_request.number,
                Request::DependencyReview {
                    head_sha: e.pull_request.head.sha.clone(),
                },
            ))
        }
        _ => None,
    }
}

/// Whether an `issues` event hands the issue to the bot: assigned to its bot account, or
/// labeled with the configured label (label names compare as GitHub's do, in any case).
fn handed_over(e: &IssuesEvent, me: &Identity) -> bool {
    match e.action.as_str() {
        "assigned" => e
            .assignee
            .as_ref()
            .is_some_and(|a| a.login.eq_ignore_ascii_case(&me.bot_login)),
        "labeled" => match (&me.issue_label, &e.label) {
            (Some(wanted), Some(label)) => label.name.to_lowercase() == wanted.to_lowercase(),
            _ => false,
        },
        _ => false,
    }
}

/// A mention request, or a dependency review asked for with `@handle review-deps`.
#[allow(clippy::too_many_arguments)]
fn request(
    me: &Identity,
    key: &str,
    repo: &Repository,
    sender: &User,
    installation: u64,
    (number, is_pull_request): (u64, bool),
    body: InboundBody,
    trigger: Trigger,
    created_at: &str,
    pull_request: Option<&PullRequest>,
) -> Option<Inbound> {
    if sender.login == me.bot_login {
        return None;
    }
    let review_deps = matches!(&body, InboundBody::Prompt { text } if text.trim().eq_ignore_ascii_case(REVIEW_DEPS));
    if is_pull_request && review_deps {
        let head_sha = pull_request
            .map(|pr| pr.head.sha.clone())
            .unwrap_or_default();
        let mut inbound = dependency_review_inbound(
            key,
            repo,
            sender,
            installation,
            number,
            Request::DependencyReview { head_sha },
        );
        inbound.message_id = trigger.message_id();
        return Some(inbound);
    }
    let topic = if is_pull_request { "pr" } else { "issue" };
    Some(Inbound {
        external_id: key.to_owned(),
        thread: ThreadRef {
            platform: Platform::GitHub,
            chat: repo.full_name.clone(),
            topic: Some(format!("{topic}/{number}")),
        },
        author: author(sender),
        message_id: trigger.message_id(),
        body,
        files: Vec::new(),
        context: Some(context(Context {
            installation,
            repo: repo.full_name.clone(),
            clone_url: clone_url(repo),
            default_branch: repo
                .default_branch
                .clone()
                .unwrap_or_else(|| "main".to_owned()),
            number,
            is_pull_request,
            sender_kind: sender.kind.clone(),
            request: Request::Mention {
                trigger,
                created_at: created_at.to_owned(),
            },
        })),
    })
}

fn dependency_review_inbound(
    key: &str,
    repo: &Repository,
    by: &User,
    installation: u64,
    number: u64,
    request: Request,
) -> Inbound {
    Inbound {
        external_id: key.to_owned(),
        thread: ThreadRef {
            platform: Platform::GitHub,
            chat: repo.full_name.clone(),
            topic: Some(format!("pr/{number}/deps")),
        },
        author: author(by),
        message_id: None,
        body: InboundBody::Prompt {
            text: REVIEW_DEPS.to_owned(),
        },
        files: Vec::new(),
        context: Some(context(Context {
            installation,
            repo: repo.full_name.clone(),
            clone_url: clone_url(repo),
            default_branch: repo
                .default_branch
                .clone()
                .unwrap_or_else(|| "main".to_owned()),
            number,
            is_pull_request: true,
            sender_kind: by.kind.clone(),
            request,
        })),
    }
}

fn clone_url(repo: &Repository) -> String {
    repo.clone_url
        .clone()
        .unwrap_or_else(|| format!("https://github.com/{}.git", repo.full_name))
}

fn author(user: &User) -> Author {
    Author {
        id: user.login.clone(),
        display: format!("@{}", user.login),
    }
}

fn context(context: Context) -> serde_json::Value {
    serde_json::to_value(context).expect("the GitHub context serializes")
}

/// The request in a comment that mentions `@handle` (as a whole word), or `None` without one.
/// The request is the comment as written: a mention that opens it is what addresses the bot
/// and is removed (with the blanks after it, and its line if it stands alone); a mention
/// elsewhere stays where it is, and nothing is trimmed (pasted code keeps its indentation).
pub fn mention(text: &str, handle: &str) -> Option<String> {
    let (start, end) = find_mention(text, handle)?;
    Some(if text[..start].trim().is_empty() {
        after_addressing(&text[end..]).to_owned()
    } else {
        text.to_owned()
    })
}

/// What a comment that mentions `@handle` asks, or `None` without a mention: a command when the
/// mention opens the comment and the rest is exactly one GitHub has (`@switchboard stop all`);
/// otherwise the request, for the agent ("@switchboard stop using unwrap here" is a request).
pub fn asked(text: &str, handle: &str) -> Option<InboundBody> {
    let request = mention(text, handle)?;
    let opens =
        find_mention(text, handle).is_some_and(|(start, _)| text[..start].trim().is_empty());
    if !opens {
        return Some(InboundBody::Prompt { text: request });
    }
    Some(match InboundBody::of_mention(&request) {
        InboundBody::Command(command)
            if !help_for(command.name()).is_some_and(|h| h.offered_on(Platform::GitHub)) =>
        {
            InboundBody::Prompt { text: request }
        }
        body => body,
    })
}

/// The first whole-word mention of `@handle` (any case): its start and end in `text`.
fn find_mention(text: &str, handle: &str) -> Option<(usize, usize)> {
    let needle = format!("@{}", handle.to_ascii_lowercase());
    let lower = text.to_ascii_lowercase();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut search = 0;
    while let Some(at) = lower[search..].find(&needle) {
        let start = search + at;
        let end = start + needle.len();
        let before_ok = text[..start].chars().next_back().is_none_or(|c| !word(c));
        let after_ok = text[end..].chars().next().is_none_or(|c| !word(c));
        if before_ok && after_ok {
            return Some((start, end));
        }
        search = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bots::github::payload;

    /// Example `index` of `event` from the fixtures, with `edit` applied, parsed.
    fn example(event: &str, index: usize, edit: impl FnOnce(&mut serde_json::Value)) -> Event {
        let path = format!(
            "{}/tests/fixtures/github/webhooks/{event}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let examples: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut raw = examples[index].clone();
        edit(&mut raw);
        payload::parse(event, &serde_json::to_vec(&raw).unwrap()).unwrap()
    }

    #[test]
    fn events_are_keyed_on_what_the_signature_covers() {
        let created = example("issue_comment", 0, |_| {});
        let key = signed_key(&created).unwrap();
        assert_eq!(key, "issue-comment:492700400:created");
        let edited = example("issue_comment", 0, |raw| raw["action"] = "edited".into());
        assert_ne!(
            signed_key(&edited).unwrap(),
            key,
            "an edit is another event"
        );
        let other = example("issue_comment", 0, |raw| raw["comment"]["id"] = 7.into());
        assert_ne!(signed_key(&other).unwrap(), key);

        let opened = example("pull_request", 0, |_| {});
        let pushed = example("pull_request", 0, |raw| {
            raw["pull_request"]["head"]["sha"] = "0123abc".into();
        });
        assert_ne!(signed_key(&opened), signed_key(&pushed), "a new head");
        assert!(signed_key(&opened).unwrap().ends_with(":opened"));
        assert_eq!(signed_key(&payload::parse("ping", b"{}").unwrap()), None);
    }

    /// An issue is handed over by the configured label (any case) or by its assignment to the
    /// bot's account; its request is the issue itself, with no comment to react to.
    #[test]
    fn an_issue_is_handed_over_by_the_label_or_an_assignment_to_the_bot() {
        let me = Identity {
            handle: "switchboard".into(),
            bot_login: "switchboard[bot]".into(),
            dependency_bots: Vec::new(),
            issue_label: Some("Agent".into()),
        };
        let installed = |raw: &mut serde_json::Value| raw["installation"] = json!({"id": 1});
        let labeled = |action: &str, name: &str| {
            example("issues", 9, |raw| {
                raw["action"] = action.into();
                raw["label"]["name"] = name.into();
                installed(raw);
            })
        };
        let inbound = translate(&labeled("labeled", "agent"), &me).unwrap();
        assert_eq!(inbound.thread.topic.as_deref(), Some("issue/1"));
        assert_eq!(inbound.author.id, "Codertocat");
        assert_eq!(inbound.message_id, None, "no comment asked");
        assert_eq!(
            inbound.body,
            InboundBody::Prompt {
                text: RESOLVE_ISSUE.into()
            }
        );
        assert!(translate(&labeled("labeled", "bug"), &me).is_none());
        assert!(translate(&labeled("unlabeled", "agent"), &me).is_none());
        let unset = Identity {
            issue_label: None,
            ..me.clone()
        };
        assert!(translate(&labeled("labeled", "agent"), &unset).is_none());

        let assigned = |login: &str| {
            example("issues", 2, |raw| {
                raw["assignee"]["login"] = login.into();
                installed(raw);
            })
        };
        assert!(translate(&assigned("switchboard[bot]"), &me).is_some());
        assert!(translate(&assigned("Codertocat"), &me).is_none());
        let on_a_pull_request = example("issues", 2, |raw| {
            raw["assignee"]["login"] = "switchboard[bot]".into();
            raw["issue"]["pull_request"] = json!({"url": null, "html_url": null});
            installed(raw);
        });
        assert!(translate(&on_a_pull_request, &me).is_none());
    }

    #[test]
    fn an_issue_event_is_keyed_on_its_subject_and_the_issues_update() {
        let labeled = |name: &str, updated_at: &str| {
            let event = example("issues", 9, |raw| {
                raw["label"]["name"] = name.into();
                raw["issue"]["updated_at"] = updated_at.into();
            });
            signed_key(&event).unwrap()
        };
        let key = labeled("agent", "2024-01-01T00:00:00Z");
        assert_eq!(
            key,
            labeled("agent", "2024-01-01T00:00:00Z"),
            "a redelivery"
        );
        assert!(key.contains(":labeled:agent:"), "{key}");
        assert_ne!(key, labeled("bug", "2024-01-01T00:00:00Z"));
        assert_ne!(
            key,
            labeled("agent", "2024-01-02T00:00:00Z"),
            "labeled again later"
        );
        let assigned = signed_key(&example("issues", 2, |_| {})).unwrap();
        assert!(assigned.contains(":assigned:Codertocat:"), "{assigned}");
    }

    #[test]
    fn mentions_count_only_as_whole_words() {
        assert_eq!(
            mention("@switchboard fix it", "switchboard").as_deref(),
            Some("fix it")
        );
        assert_eq!(
            mention("hey @SwitchBoard, please", "switchboard").as_deref(),
            Some("hey @SwitchBoard, please"),
            "a mention inside the text stays"
        );
        assert_eq!(mention("@switchboarder fix it", "switchboard"), None);
        assert_eq!(mention("me@switchboard.dev", "switchboard"), None);
        assert_eq!(mention("@switchboard-bot", "switchboard"), None);
        assert_eq!(mention("no mention", "switchboard"), None);
        assert_eq!(
            mention("(@switchboard)", "switchboard").as_deref(),
            Some("(@switchboard)")
        );
    }

    /// A comment that opens with the mention and is exactly a command GitHub has is that
    /// command; anything else is a request for the agent.
    #[test]
    fn a_mention_that_is_exactly_a_command_is_one() {
        use crate::domain::command::Command;
        use crate::domain::inbound::Invalid;
        let prompt = |text: &str| Some(InboundBody::Prompt { text: text.into() });
        assert_eq!(
            asked("@switchboard new", "switchboard"),
            Some(InboundBody::Command(Command::New {
                target: None,
                host: None,
                agent: None,
            }))
        );
        assert_eq!(
            asked(" @Switchboard  stop all\n", "switchboard"),
            Some(InboundBody::Command(Command::Stop { all: true }))
        );
        assert_eq!(
            asked("@switchboard stop using unwrap here", "switchboard"),
            prompt("stop using unwrap here")
        );
        assert_eq!(
            asked("please @switchboard new", "switchboard"),
            prompt("please @switchboard new"),
            "a mention inside the text is a request"
        );
        assert_eq!(
            asked("@switchboard screenshot", "switchboard"),
            prompt("screenshot"),
            "GitHub has no screenshot command"
        );
        assert_eq!(
            asked("@switchboard \n", "switchboard"),
            Some(InboundBody::Invalid(Invalid::EmptyMention))
        );
        assert_eq!(asked("no mention", "switchboard"), None);
    }

    /// Only the mention that opens the comment goes; the rest is byte-exact.
    #[test]
    fn the_request_is_kept_as_written() {
        assert_eq!(
            mention("@switchboard\n    indented code\n\n", "switchboard").as_deref(),
            Some("    indented code\n\n")
        );
        assert_eq!(
            mention("  @switchboard  fix  it  ", "switchboard").as_deref(),
            Some("fix  it  ")
        );
        assert_eq!(
            mention("@switchboard ask @switchboard", "switchboard").as_deref(),
            Some("ask @switchboard")
        );
    }
}
