//! GitHub webhook payloads: the few fields Switchboard reads, typed; everything else ignored.
//!
//! The webhook edge verifies `X-Hub-Signature-256` over the raw body first, then calls [`parse`]
//! with the `X-GitHub-Event` header. Only eight events are typed:
//!
//! - `issue_comment`, `pull_request_review_comment`, `pull_request_review`: @mention triggers.
//!   The bot reads the comment/review body, id and author (to match the handle, skip its own
//!   comments and ask for the author's permission), `created_at`/`updated_at` (thread context only
//!   includes comments created and last edited before the trigger), the issue or PR number, and
//!   for inline comments `path`, `line` and `diff_hunk`. `Issue::pull_request` tells a comment on
//!   a PR from one on a plain issue.
//! - `issues`: an issue `assigned` to the App's bot account or `labeled` with `github.issue_label`
//!   runs the agent on it. The bot reads the action, the `assignee` or `label` (its `name`), the
//!   issue (number, `updated_at`, and `pull_request` to tell a pull request seen as an issue),
//!   and the sender, whose permission is asked as a commenter's is.
//! - `pull_request`: dependency reviews. `action` (opened, reopened, synchronize), the author's
//!   exact `login` and `type` (`"Bot"`, never a `[bot]` suffix match), title and body (Dependabot
//!   and Renovate describe the bump there), head/base refs and shas, and the head repository to
//!   decide whether a push-back may go there.
//! - `check_run`, `check_suite`: CI on a commit moved. Only `action`, the commit (`head_sha`),
//!   the run's or suite's id, status and conclusion (and a run's name) are read, for the log and
//!   to make the watch of that commit due (`core::ci_watch`); what the thread is told is read
//!   from the API, so nothing in these bodies reaches a prompt or a message.
//! - `ping`: answered, nothing more.
//!
//! Every other event becomes [`Event::Other`] without its body even being parsed: GitHub adds
//! events and an App can be subscribed to more than it handles, and those must be acknowledged, not
//! rejected.
//!
//! Parsing is lenient on purpose. GitHub adds fields to payloads all the time, so nothing here uses
//! `deny_unknown_fields`; a field is `Option` wherever GitHub sends `null` or leaves it out (a PR
//! without a description, a review without a body, a deleted fork as the head repository,
//! `line: null` on an outdated review comment, `installation` absent on plain repository hooks).
//! What stays required is what the bot cannot work without, so a payload missing it is an error
//! the edge logs, rather than a half-empty event in the core.
//!
//! The types are tested against every example of `@octokit/webhooks-examples` kept in
//! `tests/fixtures/github/webhooks/` (see its README). They also derive `Serialize`, with the
//! same field names as GitHub's, because the store keeps events as JSON.

use serde::{Deserialize, Serialize};

/// One webhook delivery, by its `X-GitHub-Event` header.
///
/// Serialized as `{"event": "<github event name>", "payload": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "payload", rename_all = "snake_case")]
pub enum Event {
    IssueComment(IssueCommentEvent),
    Issues(IssuesEvent),
    PullRequestReviewComment(PullRequestReviewCommentEvent),
    PullRequestReview(PullRequestReviewEvent),
    PullRequest(PullRequestEvent),
    CheckRun(CheckRunEvent),
    CheckSuite(CheckSuiteEvent),
    Ping(PingEvent),
    /// Any other event: acknowledged and ignored.
    Other {
        name: String,
    },
}

/// Parses a delivery by its `X-GitHub-Event` header.
///
/// An event Switchboard does not consume is [`Event::Other`] whatever its body; a consumed event
/// whose body is not JSON or lacks a required field is an error.
pub fn parse(event: &str, body: &[u8]) -> Result<Event, serde_json::Error> {
    Ok(match event {
        "issue_comment" => Event::IssueComment(serde_json::from_slice(body)?),
        "issues" => Event::Issues(serde_json::from_slice(body)?),
        "pull_request_review_comment" => {
            Event::PullRequestReviewComment(serde_json::from_slice(body)?)
        }
        "pull_request_review" => Event::PullRequestReview(serde_json::from_slice(body)?),
        "pull_request" => Event::PullRequest(serde_json::from_slice(body)?),
        "check_run" => Event::CheckRun(serde_json::from_slice(body)?),
        "check_suite" => Event::CheckSuite(serde_json::from_slice(body)?),
        "ping" => Event::Ping(serde_json::from_slice(body)?),
        other => Event::Other {
            name: other.to_owned(),
        },
    })
}

impl Event {
    /// When what the delivery reports happened, as the signed body says (RFC 3339): a
    /// comment's last change, a review's submission, an issue's or a pull request's last update
    /// (assigning or labeling an issue updates it). `None` for
    /// events that carry no such time (`ping`, checks, events not consumed): checks only make
    /// the bot read the API again, so a replayed one runs nothing.
    pub fn signed_time(&self) -> Option<&str> {
        match self {
            Event::IssueComment(e) => Some(&e.comment.updated_at),
            Event::Issues(e) => Some(&e.issue.updated_at),
            Event::PullRequestReviewComment(e) => Some(&e.comment.updated_at),
            Event::PullRequestReview(e) => Some(
                e.review
                    .submitted_at
                    .as_deref()
                    .unwrap_or(&e.pull_request.updated_at),
            ),
            Event::PullRequest(e) => Some(&e.pull_request.updated_at),
            Event::CheckRun(_) | Event::CheckSuite(_) | Event::Ping(_) | Event::Other { .. } => {
                None
            }
        }
    }
}

/// A comment on an issue or a pull request's conversation tab was created, edited or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCommentEvent {
    pub action: String,
    pub issue: Issue,
    pub comment: Comment,
    pub repository: Repository,
    pub sender: User,
    /// Present on deliveries to a GitHub App.
    pub installation: Option<InstallationRef>,
}

/// Something happened to an issue (opened, assigned, labeled, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuesEvent {
    pub action: String,
    pub issue: Issue,
    /// The label added or removed (`labeled`, `unlabeled`); absent for other actions.
    pub label: Option<Label>,
    /// The account assigned or unassigned (`assigned`, `unassigned`); absent for other actions.
    pub assignee: Option<User>,
    pub repository: Repository,
    pub sender: User,
    pub installation: Option<InstallationRef>,
}

/// An issue's label: only its name is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
}

/// An inline comment on a pull request's diff was created, edited or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestReviewCommentEvent {
    pub action: String,
    pub comment: ReviewComment,
    pub pull_request: PullRequest,
    pub repository: Repository,
    pub sender: User,
    pub installation: Option<InstallationRef>,
}

/// A review was submitted, edited or dismissed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestReviewEvent {
    pub action: String,
    pub review: Review,
    pub pull_request: PullRequest,
    pub repository: Repository,
    pub sender: User,
    pub installation: Option<InstallationRef>,
}

/// Something happened to a pull request (opened, synchronize, closed, labeled, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub number: u64,
    pub pull_request: PullRequest,
    pub repository: Repository,
    pub sender: User,
    pub installation: Option<InstallationRef>,
    /// Head sha before a `synchronize`; absent for other actions.
    pub before: Option<String>,
    /// Head sha after a `synchronize`; absent for other actions.
    pub after: Option<String>,
}

/// A check run was created, completed, re-requested, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunEvent {
    pub action: String,
    pub check_run: CheckRun,
    pub repository: Repository,
    pub sender: User,
    pub installation: Option<InstallationRef>,
}

/// A check suite completed or was (re-)requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSuiteEvent {
    pub action: String,
    pub check_suite: CheckSuite,
    pub repository: Repository,
    pub sender: User,
    pub installation: Option<InstallationRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    /// `queued`, `in_progress`, `completed`, …
    pub status: String,
    /// `null` until completed.
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSuite {
    pub id: u64,
    pub head_sha: String,
    pub status: Option<String>,
    pub conclusion: Option<String>,
}

/// Sent once when a hook is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingEvent {
    pub zen: Option<String>,
    pub hook_id: Option<u64>,
}

/// An issue, or a pull request seen through the issues API (then `pull_request` is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub user: User,
    /// `open` or `closed`; absent from `issues` `pinned` and `unpinned` payloads.
    pub state: Option<String>,
    pub html_url: String,
    /// When the issue last changed: an assignment or a label changes it too.
    pub updated_at: String,
    /// Set when the issue is a pull request: how an `issue_comment` on a PR is told apart.
    pub pull_request: Option<IssuePullRequestLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuePullRequestLink {
    pub url: Option<String>,
    pub html_url: Option<String>,
}

/// A comment in an issue's or a pull request's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: u64,
    pub body: String,
    pub user: User,
    pub created_at: String,
    pub updated_at: String,
    pub html_url: String,
}

/// An inline comment on a pull request's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewComment {
    pub id: u64,
    pub body: String,
    pub user: User,
    pub path: String,
    /// `null` once the commented line is outdated; missing in payloads from before GitHub added it.
    pub line: Option<u64>,
    pub original_line: Option<u64>,
    pub diff_hunk: String,
    pub commit_id: String,
    /// The thread's first comment, when this is a reply.
    pub in_reply_to_id: Option<u64>,
    pub created_at: String,
    pub updated_at: String,
    pub html_url: String,
}

/// A pull request review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: u64,
    /// `null` for a review submitted without a summary.
    pub body: Option<String>,
    pub user: User,
    /// `approved`, `changes_requested`, `commented`, `dismissed`, … (lowercase in webhooks).
    pub state: String,
    pub submitted_at: Option<String>,
    pub html_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    /// `null` when the PR has no description.
    pub body: Option<String>,
    pub user: User,
    pub state: String,
    pub draft: Option<bool>,
    pub html_url: String,
    /// Whether maintainers may push to a fork's head branch; absent for some actions.
    pub maintainer_can_modify: Option<bool>,
    /// When the pull request last changed (a push, an edit, a reopening).
    pub updated_at: String,
    pub head: Branch,
    pub base: Branch,
}

/// A pull request's head or base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    /// The branch name, without `refs/heads/`.
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub sha: String,
    /// `owner:branch`.
    pub label: Option<String>,
    /// `null` when the head's fork has been deleted.
    pub repo: Option<Repository>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub id: u64,
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    pub owner: User,
    pub private: bool,
    pub fork: bool,
    pub default_branch: Option<String>,
    pub clone_url: Option<String>,
}

/// A user, organization or bot account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    pub id: u64,
    /// `User`, `Organization` or `Bot`. Dependabot and Renovate are recognised by their exact
    /// login *and* `Bot` here, never by a `[bot]` suffix.
    #[serde(rename = "type")]
    pub kind: String,
}

/// The App installation a delivery belongs to: the key to an installation token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationRef {
    pub id: u64,
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::{Value, json};

    use super::*;

    const CONSUMED: [&str; 8] = [
        "issue_comment",
        "issues",
        "pull_request_review_comment",
        "pull_request_review",
        "pull_request",
        "check_run",
        "check_suite",
        "ping",
    ];

    fn fixtures_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github/webhooks")
    }

    /// Every `(event name, examples)` in the fixtures, sorted by name.
    fn fixtures() -> Vec<(String, Vec<Value>)> {
        let dir = fixtures_dir();
        let mut all = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let examples: Vec<Value> = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not an array of examples: {e}", path.display()));
            all.push((name, examples));
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn examples_of(event: &str) -> Vec<Value> {
        let path = fixtures_dir().join(format!("{event}.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn str_at<'a>(raw: &'a Value, pointer: &str) -> &'a str {
        raw.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer} is not a string in the payload"))
    }

    fn u64_at(raw: &Value, pointer: &str) -> u64 {
        raw.pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("{pointer} is not an unsigned integer in the payload"))
    }

    /// Asserts that every field our type keeps holds the same value as in the raw payload, `None`
    /// standing for a `null` or missing field. Serialize uses GitHub's field names, so this checks
    /// every kept field, renames included, against the real JSON.
    fn assert_kept_fields_match(ours: &Value, raw: &Value, at: &str) {
        match (ours, raw) {
            (Value::Object(fields), Value::Object(_)) => {
                for (key, value) in fields {
                    let at = format!("{at}.{key}");
                    match raw.get(key) {
                        Some(raw_value) => assert_kept_fields_match(value, raw_value, &at),
                        None => assert!(value.is_null(), "{at}: parsed {value}, payload has none"),
                    }
                }
            }
            _ => assert_eq!(ours, raw, "{at}: parsed value differs from the payload"),
        }
    }

    fn check_common(
        action: &str,
        repository: &Repository,
        sender: &User,
        installation: Option<&InstallationRef>,
        raw: &Value,
    ) {
        assert_eq!(action, str_at(raw, "/action"));
        assert_eq!(repository.id, u64_at(raw, "/repository/id"));
        assert_eq!(repository.full_name, str_at(raw, "/repository/full_name"));
        assert_eq!(
            repository.owner.login,
            str_at(raw, "/repository/owner/login")
        );
        assert_eq!(sender.login, str_at(raw, "/sender/login"));
        assert_eq!(sender.id, u64_at(raw, "/sender/id"));
        assert_eq!(sender.kind, str_at(raw, "/sender/type"));
        let raw_installation = raw
            .pointer("/installation/id")
            .map(|id| id.as_u64().unwrap());
        assert_eq!(installation.map(|i| i.id), raw_installation);
    }

    fn check_pull_request(pr: &PullRequest, raw: &Value) {
        assert_eq!(pr.number, u64_at(raw, "/pull_request/number"));
        assert_eq!(pr.user.login, str_at(raw, "/pull_request/user/login"));
        assert_eq!(pr.user.kind, str_at(raw, "/pull_request/user/type"));
        assert_eq!(pr.head.sha, str_at(raw, "/pull_request/head/sha"));
        assert_eq!(pr.updated_at, str_at(raw, "/pull_request/updated_at"));
        assert_eq!(pr.head.ref_name, str_at(raw, "/pull_request/head/ref"));
        assert_eq!(pr.base.ref_name, str_at(raw, "/pull_request/base/ref"));
        let head_repo = raw
            .pointer("/pull_request/head/repo/full_name")
            .and_then(Value::as_str);
        assert_eq!(
            pr.head.repo.as_ref().map(|r| r.full_name.as_str()),
            head_repo
        );
    }

    /// Checks a consumed event against its raw payload; returns the payload as the event sees it.
    fn check_consumed(event: &Event, raw: &Value) -> Value {
        match event {
            Event::IssueComment(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                assert_eq!(e.issue.number, u64_at(raw, "/issue/number"));
                assert_eq!(e.issue.user.login, str_at(raw, "/issue/user/login"));
                assert_eq!(e.comment.id, u64_at(raw, "/comment/id"));
                assert_eq!(e.comment.user.login, str_at(raw, "/comment/user/login"));
                assert_eq!(e.comment.body, str_at(raw, "/comment/body"));
                let on_pr = raw
                    .pointer("/issue/pull_request")
                    .is_some_and(|v| !v.is_null());
                assert_eq!(e.issue.pull_request.is_some(), on_pr);
                serde_json::to_value(e).unwrap()
            }
            Event::Issues(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                assert_eq!(e.issue.number, u64_at(raw, "/issue/number"));
                assert_eq!(e.issue.updated_at, str_at(raw, "/issue/updated_at"));
                assert_eq!(
                    e.label.as_ref().map(|l| l.name.as_str()),
                    raw.pointer("/label/name").and_then(Value::as_str)
                );
                assert_eq!(
                    e.assignee.as_ref().map(|a| a.login.as_str()),
                    raw.pointer("/assignee/login").and_then(Value::as_str)
                );
                serde_json::to_value(e).unwrap()
            }
            Event::PullRequestReviewComment(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                check_pull_request(&e.pull_request, raw);
                assert_eq!(e.comment.id, u64_at(raw, "/comment/id"));
                assert_eq!(e.comment.user.login, str_at(raw, "/comment/user/login"));
                assert_eq!(e.comment.path, str_at(raw, "/comment/path"));
                assert_eq!(
                    e.comment.line,
                    raw.pointer("/comment/line").and_then(Value::as_u64)
                );
                serde_json::to_value(e).unwrap()
            }
            Event::PullRequestReview(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                check_pull_request(&e.pull_request, raw);
                assert_eq!(e.review.id, u64_at(raw, "/review/id"));
                assert_eq!(e.review.user.login, str_at(raw, "/review/user/login"));
                assert_eq!(e.review.state, str_at(raw, "/review/state"));
                serde_json::to_value(e).unwrap()
            }
            Event::PullRequest(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                check_pull_request(&e.pull_request, raw);
                assert_eq!(e.number, u64_at(raw, "/number"));
                assert_eq!(e.number, e.pull_request.number);
                assert_eq!(e.after.as_deref(), raw.get("after").and_then(Value::as_str));
                serde_json::to_value(e).unwrap()
            }
            Event::CheckRun(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                assert_eq!(e.check_run.head_sha, str_at(raw, "/check_run/head_sha"));
                assert_eq!(e.check_run.name, str_at(raw, "/check_run/name"));
                serde_json::to_value(e).unwrap()
            }
            Event::CheckSuite(e) => {
                check_common(
                    &e.action,
                    &e.repository,
                    &e.sender,
                    e.installation.as_ref(),
                    raw,
                );
                assert_eq!(e.check_suite.head_sha, str_at(raw, "/check_suite/head_sha"));
                serde_json::to_value(e).unwrap()
            }
            Event::Ping(e) => {
                assert_eq!(e.zen.as_deref(), Some(str_at(raw, "/zen")));
                assert_eq!(e.hook_id, Some(u64_at(raw, "/hook_id")));
                serde_json::to_value(e).unwrap()
            }
            Event::Other { name } => panic!("a consumed event came out as Other {{ {name} }}"),
        }
    }

    fn variant_name(event: &Event) -> &'static str {
        match event {
            Event::IssueComment(_) => "issue_comment",
            Event::Issues(_) => "issues",
            Event::PullRequestReviewComment(_) => "pull_request_review_comment",
            Event::PullRequestReview(_) => "pull_request_review",
            Event::PullRequest(_) => "pull_request",
            Event::CheckRun(_) => "check_run",
            Event::CheckSuite(_) => "check_suite",
            Event::Ping(_) => "ping",
            Event::Other { .. } => "other",
        }
    }

    /// The App manifest (and the registration page's copy of it) subscribes to exactly the
    /// events the bot consumes (`ping` comes unasked) with the permissions it needs.
    #[test]
    fn the_app_manifest_matches_what_the_bot_consumes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bots/github");
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("app-manifest.json")).unwrap())
                .unwrap();
        let mut events: Vec<&str> = manifest["default_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        events.push("ping");
        events.sort_unstable();
        let mut consumed = CONSUMED.to_vec();
        consumed.sort_unstable();
        assert_eq!(events, consumed);
        assert_eq!(
            manifest["default_permissions"],
            json!({
                "checks": "read",
                "contents": "write",
                "pull_requests": "write",
                "issues": "write",
                "metadata": "read",
            })
        );
        let page = std::fs::read_to_string(dir.join("create-app.html")).unwrap();
        let start = page.find("const manifest = ").unwrap() + "const manifest = ".len();
        let end = start + page[start..].find("};").unwrap() + 1;
        let copy: Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(
            copy, manifest,
            "create-app.html's manifest is app-manifest.json"
        );
    }

    #[test]
    fn every_fixture_example_parses() {
        let fixtures = fixtures();
        let (mut consumed, mut ignored) = (0, 0);
        for (name, examples) in &fixtures {
            assert!(!examples.is_empty(), "{name}.json has no examples");
            for (i, raw) in examples.iter().enumerate() {
                let at = format!("{name}.json[{i}]");
                let body = serde_json::to_vec(raw).unwrap();
                let event = parse(name, &body).unwrap_or_else(|e| panic!("{at}: {e}"));
                if CONSUMED.contains(&name.as_str()) {
                    assert_eq!(variant_name(&event), name, "{at}");
                    let ours = check_consumed(&event, raw);
                    assert_kept_fields_match(&ours, raw, &at);
                    consumed += 1;
                } else {
                    assert_eq!(event, Event::Other { name: name.clone() }, "{at}");
                    ignored += 1;
                }
            }
        }
        for name in CONSUMED {
            assert!(
                fixtures.iter().any(|(n, _)| n == name),
                "no fixture for {name}"
            );
        }
        // The package documents every webhook event; far fewer files means the fixtures broke.
        assert!(fixtures.len() >= 50, "only {} event files", fixtures.len());
        assert!(
            consumed >= 50 && ignored >= 100,
            "{consumed} consumed, {ignored} ignored"
        );
    }

    #[test]
    fn consumed_events_reject_malformed_json() {
        for name in CONSUMED {
            let good = serde_json::to_vec(&examples_of(name)[0]).unwrap();
            let truncated = &good[..good.len() / 2];
            let trailing = [good.as_slice(), b"}"].concat();
            for body in [
                &b""[..],
                b"{",
                b"not json",
                b"{\"action\": }",
                truncated,
                &trailing,
            ] {
                let result = parse(name, body);
                assert!(
                    result.is_err(),
                    "{name}: {:?} parsed as {result:?}",
                    String::from_utf8_lossy(body)
                );
            }
        }
        // Valid JSON without the fields the bot relies on is an error too.
        for name in CONSUMED.iter().filter(|&&n| n != "ping") {
            assert!(parse(name, b"{}").is_err(), "{name}: {{}} parsed");
        }
        let mut no_sender = examples_of("pull_request")[0].clone();
        no_sender.as_object_mut().unwrap().remove("sender");
        assert!(parse("pull_request", &serde_json::to_vec(&no_sender).unwrap()).is_err());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let extra = json!({ "added_by_github_next_year": [1, { "nested": null }] });
        for name in CONSUMED {
            for raw in examples_of(name) {
                let expected = parse(name, &serde_json::to_vec(&raw).unwrap()).unwrap();
                let mut noisy = raw.clone();
                noisy["surprise"] = extra.clone();
                for object in [
                    "sender",
                    "repository",
                    "comment",
                    "review",
                    "pull_request",
                    "issue",
                ] {
                    if let Some(Value::Object(fields)) = noisy.get_mut(object) {
                        fields.insert("surprise".into(), extra.clone());
                    }
                }
                let parsed = parse(name, &serde_json::to_vec(&noisy).unwrap()).unwrap();
                assert_eq!(parsed, expected, "{name}");
            }
        }
        // Only what the types name, plus unknown fields: the smallest comment GitHub could send.
        let user = json!({ "login": "octocat", "id": 1, "type": "User", "site_admin": false });
        let minimal = json!({
            "action": "created",
            "issue": { "number": 7, "title": "t", "user": user, "state": "open",
                       "html_url": "https://github.com/o/r/issues/7", "locked": false,
                       "updated_at": "2024-01-01T00:00:00Z" },
            "comment": { "id": 9, "body": "@switchboard hi", "user": user,
                         "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
                         "html_url": "https://github.com/o/r/issues/7#issuecomment-9",
                         "reactions": { "+1": 0 } },
            "repository": { "id": 3, "name": "r", "full_name": "o/r", "owner": user,
                            "private": false, "fork": false, "topics": [] },
            "sender": user,
            "enterprise": { "id": 5 },
        });
        let Event::IssueComment(event) =
            parse("issue_comment", &serde_json::to_vec(&minimal).unwrap()).unwrap()
        else {
            panic!("not an issue_comment");
        };
        assert_eq!((event.issue.number, event.comment.id), (7, 9));
        assert_eq!((event.issue.body, event.installation), (None, None));
    }

    #[test]
    fn other_events_are_acknowledged_without_reading_the_body() {
        for (name, body) in [
            ("star", &b"not json"[..]),
            ("workflow_job", b""),
            ("brand_new_event", b"{}"),
        ] {
            assert_eq!(
                parse(name, body).unwrap(),
                Event::Other {
                    name: name.to_owned()
                }
            );
        }
        // The header is matched exactly, as GitHub sends it.
        assert!(matches!(
            parse("Issue_Comment", b"x").unwrap(),
            Event::Other { .. }
        ));
    }

    /// Shapes the bot depends on that no example in the package shows, made from a real example.
    #[test]
    fn shapes_missing_from_the_examples() {
        // An issue_comment on a pull request, written by a bot.
        let mut raw = examples_of("issue_comment")[0].clone();
        raw["issue"]["pull_request"] = json!({
            "url": "https://api.github.com/repos/o/r/pulls/1",
            "html_url": "https://github.com/o/r/pull/1",
            "diff_url": "https://github.com/o/r/pull/1.diff",
            "merged_at": null,
        });
        raw["comment"]["user"]["login"] = json!("dependabot[bot]");
        raw["comment"]["user"]["type"] = json!("Bot");
        let Event::IssueComment(event) =
            parse("issue_comment", &serde_json::to_vec(&raw).unwrap()).unwrap()
        else {
            panic!("not an issue_comment");
        };
        let link = event.issue.pull_request.expect("a PR link");
        assert_eq!(
            link.html_url.as_deref(),
            Some("https://github.com/o/r/pull/1")
        );
        assert_eq!(
            (
                event.comment.user.login.as_str(),
                event.comment.user.kind.as_str()
            ),
            ("dependabot[bot]", "Bot")
        );

        // A PR whose head fork was deleted, with no description.
        let mut raw = examples_of("pull_request")[0].clone();
        raw["pull_request"]["head"]["repo"] = Value::Null;
        raw["pull_request"]["body"] = Value::Null;
        let Event::PullRequest(event) =
            parse("pull_request", &serde_json::to_vec(&raw).unwrap()).unwrap()
        else {
            panic!("not a pull_request");
        };
        assert_eq!(
            (event.pull_request.head.repo, event.pull_request.body),
            (None, None)
        );

        // A review with a body, and an outdated reply in a review thread.
        let mut raw = examples_of("pull_request_review")[0].clone();
        raw["review"]["body"] = json!("@switchboard why?");
        let Event::PullRequestReview(event) =
            parse("pull_request_review", &serde_json::to_vec(&raw).unwrap()).unwrap()
        else {
            panic!("not a pull_request_review");
        };
        assert_eq!(event.review.body.as_deref(), Some("@switchboard why?"));
        let mut raw = examples_of("pull_request_review_comment")[0].clone();
        raw["comment"]["line"] = Value::Null;
        raw["comment"]["in_reply_to_id"] = json!(42);
        let Event::PullRequestReviewComment(event) = parse(
            "pull_request_review_comment",
            &serde_json::to_vec(&raw).unwrap(),
        )
        .unwrap() else {
            panic!("not a pull_request_review_comment");
        };
        assert_eq!(
            (event.comment.line, event.comment.in_reply_to_id),
            (None, Some(42))
        );
    }

    /// The store keeps events as JSON: they must come back equal, under GitHub's event names.
    #[test]
    fn events_round_trip_through_the_store_format() {
        for name in CONSUMED {
            for raw in examples_of(name) {
                let event = parse(name, &serde_json::to_vec(&raw).unwrap()).unwrap();
                let stored = serde_json::to_value(&event).unwrap();
                assert_eq!(stored["event"], name);
                assert_eq!(serde_json::from_value::<Event>(stored).unwrap(), event);
            }
        }
        let other = Event::Other {
            name: "star".into(),
        };
        let stored = serde_json::to_value(&other).unwrap();
        assert_eq!(
            stored,
            json!({ "event": "other", "payload": { "name": "star" } })
        );
        assert_eq!(serde_json::from_value::<Event>(stored).unwrap(), other);
    }
}
