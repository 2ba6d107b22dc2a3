//! An issue handed to the bot without a mention (issue 14): labeled with `github.issue_label`
//! or assigned to the App's bot account by someone with write access, it runs the agent on the
//! issue's branch with the issue as the request, and ends with one pull request that says
//! `Fixes #N`, linked in the issue. A redelivered event runs nothing again; another label,
//! another assignee, a reader, a bot account or an event older than `github.max_event_age`
//! runs nothing at all.

use serde_json::Value;

use crate::github::{assert_tokens_kept_secret, gh};
use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::{FakeGitHub, FakeIssue, FakeRepo, FakeUser, UserKind};
use crate::support::harness::{GitHubSetup, Harness, Options, WAIT};
use crate::support::waiting;

on_both_databases!(
    an_issue_labeled_for_the_bot_gets_one_pull_request_that_fixes_it,
    an_issue_assigned_to_the_bot_gets_one_pull_request_that_fixes_it,
    other_labels_assignees_readers_and_bots_run_nothing,
);

const LABEL: &str = "agent";
const BRANCH: &str = "switchboard/issue-1";

/// The bot with pushing on and `github.issue_label = "agent"`.
async fn start(db: Db) -> Harness {
    let mut options = Options::new(db);
    options.github = Some(GitHubSetup {
        allow_push: true,
        issue_label: Some(LABEL.to_owned()),
        ..GitHubSetup::default()
    });
    Harness::start_with(options).await
}

/// `octo/app` with issue #1, whose description steers the fake agent to write a changelog;
/// alice may write to the repository.
fn repo_with_issue(gh: &FakeGitHub) -> (FakeRepo, FakeIssue, FakeUser) {
    let alice = gh.user("alice", UserKind::User);
    let repo = gh.create_repo("octo", "app", &[("README.md", "hello\n")]);
    gh.set_permission(&repo, &alice, "write");
    let issue = gh.create_issue(
        &repo,
        "Add a changelog",
        "We need one.\n@fake write CHANGELOG.md first entry",
        &alice,
    );
    assert_eq!(issue.number, 1);
    (repo, issue, alice)
}

async fn an_issue_labeled_for_the_bot_gets_one_pull_request_that_fixes_it(db: Db) {
    handed_over_gets_one_pull_request(db, |gh, issue, alice| gh.label_issue(issue, LABEL, alice))
        .await;
}

async fn an_issue_assigned_to_the_bot_gets_one_pull_request_that_fixes_it(db: Db) {
    handed_over_gets_one_pull_request(db, |gh, issue, alice| {
        gh.assign_issue(issue, &gh.app_user(), alice)
    })
    .await;
}

/// Alice hands the issue over with `hand_over` (which returns the `issues` payload): one run,
/// one pull request that fixes the issue, its link in the issue; the same delivery again (or
/// its body under a new delivery id) is a duplicate.
async fn handed_over_gets_one_pull_request(
    db: Db,
    hand_over: impl FnOnce(&FakeGitHub, &FakeIssue, &FakeUser) -> Value,
) {
    let t = start(db).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let (repo, issue, alice) = repo_with_issue(gh);
    let main = gh.branch_sha(&repo, "main").expect("main");

    let payload = hand_over(gh, &issue, &alice);
    let delivery = gh.deliver(&t.github_webhook(), "issues", payload).await;
    assert_eq!(
        (delivery.status, delivery.response.as_str()),
        (202, "accepted\n")
    );
    let answer = gh
        .wait_for_comment(
            &repo,
            issue.number,
            |c| c.author == app && c.body.starts_with("✅"),
            WAIT,
        )
        .await;

    let pulls = gh.pull_requests(&repo);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pr = &pulls[0];
    assert_eq!(
        (pr.head_ref.as_str(), pr.base_ref.as_str()),
        (BRANCH, "main")
    );
    assert_eq!(pr.title, "Add a changelog");
    assert!(pr.body.contains("Fixes #1"), "{}", pr.body);
    assert!(pr.body.contains("@alice"), "{}", pr.body);
    assert!(
        answer
            .body
            .contains(&format!("/octo/app/pull/{}", pr.number))
            && answer.body.contains("opened pull request"),
        "the issue gets the link: {}",
        answer.body
    );
    let bare = gh.bare_repo_path(&repo);
    let git = |args: &[&str]| crate::support::git::git(&bare, args).trim().to_owned();
    assert_eq!(
        git(&["show", &format!("{}:CHANGELOG.md", pr.head_sha)]),
        "first entry"
    );
    assert_eq!(
        git(&["log", "-1", "--format=%an|%cn", &pr.head_sha]),
        "alice|Switchboard",
        "the person who handed the issue over is the author"
    );
    assert_eq!(git(&["rev-parse", &format!("{}^", pr.head_sha)]), main);

    // The agent was asked to resolve the issue, whose text came fenced as anyone's words.
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 1);
    let prompt = String::from_utf8_lossy(&runs[0].prompt).into_owned();
    let request = prompt
        .find("The request, from @alice (write access to the repository):\n\nResolve this issue.")
        .unwrap_or_else(|| panic!("{prompt}"));
    let fenced = prompt
        .find("title and description by @alice\">\nAdd a changelog\n\nWe need one.")
        .unwrap_or_else(|| panic!("{prompt}"));
    assert!(fenced < request, "{prompt}");
    assert!(
        prompt.contains("opened as a pull request that fixes issue #1"),
        "{prompt}"
    );

    // No comment asked, so nothing got 👀; the tracking comment became the answer.
    let from_app: Vec<_> = gh
        .comments(&repo, issue.number)
        .into_iter()
        .filter(|c| c.author == app)
        .collect();
    assert_eq!(from_app.len(), 1, "{from_app:#?}");

    // GitHub's "Redeliver", and the signed body under a new delivery id: duplicates, stored
    // nowhere, so nothing can run again.
    let again = gh.redeliver(&delivery).await;
    assert_eq!(
        (again.status, again.response.as_str()),
        (200, "duplicate delivery\n")
    );
    let replayed = gh.replay_as_new(&delivery).await;
    assert_eq!(
        (replayed.status, replayed.response.as_str()),
        (200, "duplicate delivery\n")
    );
    assert_eq!(gh.pull_requests(&repo).len(), 1);
    assert_eq!(gh.pushes().len(), 1, "{:?}", gh.pushes());

    assert_tokens_kept_secret(&t);
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}

async fn other_labels_assignees_readers_and_bots_run_nothing(db: Db) {
    let t = start(db).await;
    let gh = gh(&t);
    let url = t.github_webhook();
    let app = gh.app_user();
    let (repo, issue, alice) = repo_with_issue(gh);

    // Another label, or the issue assigned to someone else: not for the bot, stored nowhere.
    let bob = gh.user("bob", UserKind::User);
    gh.set_permission(&repo, &bob, "write");
    for payload in [
        gh.label_issue(&issue, "bug", &alice),
        gh.assign_issue(&issue, &bob, &alice),
    ] {
        let delivery = gh.deliver(&url, "issues", payload).await;
        assert_eq!(
            (delivery.status, delivery.response.as_str()),
            (202, "not for the bot\n")
        );
    }

    // Alice's label, but older than github.max_event_age by the issue's time in the signed
    // body: refused (403) and audited, so a captured delivery cannot be replayed later.
    let mut old = gh.label_issue(&issue, LABEL, &alice);
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    old["issue"]["updated_at"] = humantime::format_rfc3339_seconds(two_hours_ago)
        .to_string()
        .into();
    let stale = gh.deliver(&url, "issues", old).await;
    assert_eq!(stale.status, 403, "{stale:?}");

    // A bot account with write access labels it: refused without a word. A reader assigns it
    // to the bot: refused as a reader's mention is, with one short reply in the issue.
    let bot = gh.user("helper[bot]", UserKind::Bot);
    gh.set_permission(&repo, &bot, "write");
    let reader = gh.user("reader", UserKind::User);
    gh.set_permission(&repo, &reader, "read");
    for payload in [
        gh.label_issue(&issue, LABEL, &bot),
        gh.assign_issue(&issue, &app, &reader),
    ] {
        let delivery = gh.deliver(&url, "issues", payload).await;
        assert_eq!(delivery.status, 202, "{delivery:?}");
    }
    let refusal = gh
        .wait_for_comment(&repo, issue.number, |c| c.author == app.login, WAIT)
        .await;
    assert!(
        refusal.body.contains("only people with write access"),
        "{}",
        refusal.body
    );
    let store = t.store().await;
    let refused = waiting::poll(WAIT, async || {
        let audit = store.audit_log(100).await.map_err(|e| e.to_string())?;
        let refused: Vec<_> = audit
            .into_iter()
            .filter(|a| a.action == "refused")
            .collect();
        match refused.len() {
            2 => Ok(refused),
            _ => Err(format!("two refusals expected: {refused:#?}")),
        }
    })
    .await;
    assert!(
        refused
            .iter()
            .any(|a| a.actor == "reader" && a.detail.contains("NoWriteAccess")),
        "{refused:#?}"
    );
    assert!(
        refused
            .iter()
            .any(|a| a.actor == bot.login && a.detail.contains("bot account")),
        "{refused:#?}"
    );

    let rejected = store.audit_log(100).await.unwrap();
    assert!(
        rejected
            .iter()
            .any(|a| a.action == "webhook_rejected" && a.detail.contains("max_event_age")),
        "{rejected:#?}"
    );
    assert!(t.agent_runs().is_empty(), "nothing ran");
    assert!(gh.pull_requests(&repo).is_empty());
    assert!(gh.pushes().is_empty(), "{:?}", gh.pushes());
    let from_app = gh
        .comments(&repo, issue.number)
        .into_iter()
        .filter(|c| c.author == app.login)
        .count();
    assert_eq!(from_app, 1, "only the reader's refusal");
}
