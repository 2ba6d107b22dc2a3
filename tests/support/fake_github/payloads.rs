//! Webhook payloads built from the fake's state, shaped like the
//! `@octokit/webhooks-examples` payloads for an App installed on a
//! user-owned repository: `action`, the subject objects, `repository`,
//! `sender`, `installation: {id, node_id}`, and no `organization`.
//!
//! The subject objects come from `json`, the same code the REST answers
//! use, so a payload and a later `GET` of the same thing agree. Where
//! webhooks differ from REST GitHub's way is kept: review `state` is lower
//! case in webhooks (`commented`), and `pull_request` events carry the
//! commit and line counts (`commits`, `additions`, …) that the PR object
//! inside comment events lacks.

use serde_json::{Value, json};

use super::checks::{self, HeadCommit};
use super::json::{self, AppInfo, PrStats};
use super::state::{CommentRec, ReviewRec, Shared, State};
use super::types::CommentKind;

/// `created` or `edited` (`changes.body.from` is the body before the last
/// edit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Created,
    Edited,
}

/// The `pull_request` actions a dependency review reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrAction {
    Opened,
    Reopened,
    /// The head moved from `before` to `after` (GitHub's
    /// `synchronize` carries both).
    Synchronize {
        before: String,
        after: String,
    },
}

/// The `issues` actions that hand an issue to someone: the label added, the login assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueAction {
    Labeled(String),
    Assigned(String),
}

const ZEN: &str = "Anything added dilutes everything else.";

fn installation(sh: &Shared) -> Value {
    let id = sh.config.installation_id;
    json!({"id": id, "node_id": json::node_id("IntegrationInstallation", id)})
}

fn app_info(sh: &Shared) -> AppInfo {
    AppInfo {
        id: sh.config.app_id,
        slug: sh.config.app_slug.clone(),
        bot_login: sh.app_login(),
    }
}

fn envelope(sh: &Shared, st: &State, repo_key: &str, sender: &str, mut v: Value) -> Value {
    let r = &st.repos[repo_key];
    v["repository"] = json::repository(&sh.base_url, st, r);
    v["sender"] = json::user_by_login(&sh.base_url, st, sender);
    v["installation"] = installation(sh);
    v
}

fn previous_body(c: &CommentRec) -> Value {
    let n = c.versions.len();
    assert!(n >= 2, "comment {} was never edited", c.id);
    json!({"body": {"from": c.versions[n - 2].body}})
}

pub(super) fn issue_comment(
    sh: &Shared,
    st: &State,
    c: &CommentRec,
    action: CommentAction,
) -> Value {
    assert_eq!(c.kind, CommentKind::Issue, "not an issue comment");
    let r = &st.repos[&c.repo];
    let issue = &r.issues[&c.number];
    let base = &sh.base_url;
    let mut v = json!({
        "action": match action { CommentAction::Created => "created", CommentAction::Edited => "edited" },
        "issue": json::issue(base, st, r, issue),
        "comment": json::issue_comment(base, st, r, c, &app_info(sh)),
    });
    if action == CommentAction::Edited {
        v["changes"] = previous_body(c);
    }
    envelope(sh, st, &c.repo, &c.author, v)
}

/// `issues` `labeled` (with the `label` added) or `assigned` (with the `assignee`), sent by
/// whoever did it; `issue` shows every label and assignee it has now, this one included.
pub(super) fn issues(
    sh: &Shared,
    st: &State,
    repo_key: &str,
    number: u64,
    action: &IssueAction,
    sender: &str,
) -> Value {
    let r = &st.repos[repo_key];
    let base = &sh.base_url;
    let mut v = json!({"issue": json::issue(base, st, r, &r.issues[&number])});
    match action {
        IssueAction::Labeled(name) => {
            v["action"] = json!("labeled");
            v["label"] = json::label(base, r, name);
        }
        IssueAction::Assigned(login) => {
            v["action"] = json!("assigned");
            v["assignee"] = json::user_by_login(base, st, login);
        }
    }
    envelope(sh, st, repo_key, sender, v)
}

pub(super) fn review_comment(
    sh: &Shared,
    st: &State,
    c: &CommentRec,
    action: CommentAction,
) -> Value {
    assert_eq!(c.kind, CommentKind::Review, "not a review comment");
    let r = &st.repos[&c.repo];
    let issue = &r.issues[&c.number];
    let base = &sh.base_url;
    let mut v = json!({
        "action": match action { CommentAction::Created => "created", CommentAction::Edited => "edited" },
        "comment": json::review_comment(base, st, r, c),
        "pull_request": json::pull_request(base, st, r, issue, None),
    });
    if action == CommentAction::Edited {
        v["changes"] = previous_body(c);
    }
    envelope(sh, st, &c.repo, &c.author, v)
}

pub(super) fn review(sh: &Shared, st: &State, rv: &ReviewRec) -> Value {
    let r = &st.repos[&rv.repo];
    let issue = &r.issues[&rv.number];
    let base = &sh.base_url;
    let mut review = json::review(base, st, r, rv);
    review["state"] = json!(rv.state.to_ascii_lowercase());
    // Webhooks send `null` for an empty review body.
    if rv.body().is_empty() {
        review["body"] = Value::Null;
    }
    let v = json!({
        "action": "submitted",
        "review": review,
        "pull_request": json::pull_request(base, st, r, issue, None),
    });
    envelope(sh, st, &rv.repo, &rv.author, v)
}

pub(super) fn pull_request(
    sh: &Shared,
    st: &State,
    repo_key: &str,
    number: u64,
    action: &PrAction,
    stats: &PrStats,
) -> Value {
    let r = &st.repos[repo_key];
    let issue = &r.issues[&number];
    let mut v = json!({
        "action": match action {
            PrAction::Opened => "opened",
            PrAction::Reopened => "reopened",
            PrAction::Synchronize { .. } => "synchronize",
        },
        "number": number,
        "pull_request": json::pull_request(&sh.base_url, st, r, issue, Some(stats)),
    });
    if let PrAction::Synchronize { before, after } = action {
        v["before"] = json!(before);
        v["after"] = json!(after);
    }
    envelope(sh, st, repo_key, &issue.author, v)
}

/// `check_run`: `created` while the run has not ended, `completed` once it
/// has; the run carries its whole suite (whose status may still be
/// `in_progress`), and the sender is whoever pushed the commit.
pub(super) fn check_run(sh: &Shared, st: &State, run_id: u64) -> Value {
    let run = checks::run_rec(st, run_id);
    let suite = checks::suite_rec(st, run.suite_id);
    let mut check_run = checks::check_run(&sh.base_url, st, run);
    check_run["check_suite"] = checks::check_suite(&sh.base_url, st, suite);
    let action = if run.status == "completed" {
        "completed"
    } else {
        "created"
    };
    let v = json!({"action": action, "check_run": check_run});
    envelope(sh, st, &run.repo, &suite.sender, v)
}

/// `check_suite` `completed`, for the suite of a run, once every latest
/// run of it has completed.
pub(super) fn check_suite(sh: &Shared, st: &State, run_id: u64, commit: &HeadCommit) -> Value {
    assert!(
        checks::suite_completed(st, run_id),
        "the suite of check run {run_id} has runs that have not completed"
    );
    let suite = checks::suite_rec(st, checks::run_rec(st, run_id).suite_id);
    let base = &sh.base_url;
    let check_suite = json::merge(
        checks::check_suite(base, st, suite),
        checks::check_suite_event_fields(base, st, suite, commit),
    );
    let v = json!({"action": "completed", "check_suite": check_suite});
    envelope(sh, st, &suite.repo, &suite.sender, v)
}

/// The ping GitHub sends when an App's webhook is set up.
pub(super) fn ping(sh: &Shared, st: &State) -> Value {
    let c = &sh.config;
    let base = &sh.base_url;
    json!({
        "zen": ZEN,
        "hook_id": c.hook_id,
        "hook": {
            "type": "App",
            "id": c.hook_id,
            "name": "web",
            "active": true,
            "events": [
                "check_run", "check_suite", "issue_comment", "issues", "pull_request",
                "pull_request_review", "pull_request_review_comment",
            ],
            "config": {"content_type": "json", "insecure_ssl": "0", "secret": "********"},
            "app_id": c.app_id,
            "deliveries_url": format!("{base}/app/hook/deliveries"),
        },
        "sender": json::user_by_login(base, st, &sh.app_login()),
    })
}
