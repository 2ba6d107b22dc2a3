//! A GitHub issue mention delivers its work as a pull request (issue 14, test 4): the agent works
//! on the issue's branch `switchboard/issue-N`, what it changed is committed for the person who
//! asked and pushed, one pull request that says `Fixes #N` is opened, and the answer in the issue
//! links it. Later mentions update the same branch and pull request; a mention that changes
//! nothing opens nothing; with pushing off, nothing is pushed and the answer says why.

use std::path::Path;

use crate::github::{assert_tokens_kept_secret, comment_and_deliver, gh, start};
use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::{CommentState, FakeGitHub, FakeRepo, UserKind};
use crate::support::harness::{Harness, WAIT};

on_both_databases!(
    an_issue_mention_opens_one_pull_request_that_fixes_it,
    with_pushing_off_an_issue_mention_says_no_pull_request_was_opened,
    a_pull_request_github_refused_is_opened_by_the_next_mention,
    a_bot_killed_between_the_push_and_the_pull_request_opens_it_after_its_restart,
);

const BRANCH: &str = "switchboard/issue-1";

fn git(dir: &Path, args: &[&str]) -> String {
    crate::support::git::git(dir, args).trim().to_owned()
}

/// `octo/app` with an issue (#1) that alice, a writer, may ask about.
fn repo_with_issue(gh: &FakeGitHub) -> (FakeRepo, u64) {
    let alice = gh.user("alice", UserKind::User);
    let repo = gh.create_repo("octo", "app", &[("README.md", "hello\n")]);
    gh.set_permission(&repo, &alice, "write");
    let issue = gh.create_issue(&repo, "Add a changelog", "We need one.", &alice);
    (repo, issue.number)
}

/// Alice asks `text` in the issue (the answer is awaited by [`answered`]).
async fn mention(t: &Harness, repo: &FakeRepo, issue: u64, text: &str) {
    let gh = gh(t);
    let alice = gh.user("alice", UserKind::User);
    comment_and_deliver(t, repo, issue, &alice, text).await;
}

/// The App's answer in the issue that contains `needle`.
async fn answered(t: &Harness, repo: &FakeRepo, issue: u64, needle: &str) -> CommentState {
    let gh = gh(t);
    let app = gh.app_user().login;
    gh.wait_for_comment(
        repo,
        issue,
        |c| c.author == app && c.body.starts_with("✅") && c.body.contains(needle),
        WAIT,
    )
    .await
}

/// Alice asks `text` in the issue; returns the App's answer, the one that contains `needle`.
async fn ask(t: &Harness, repo: &FakeRepo, issue: u64, text: &str, needle: &str) -> CommentState {
    mention(t, repo, issue, text).await;
    answered(t, repo, issue, needle).await
}

async fn an_issue_mention_opens_one_pull_request_that_fixes_it(db: Db) {
    let t = start(db, true).await;
    let gh = gh(&t);
    let (repo, issue) = repo_with_issue(gh);
    assert_eq!(issue, 1);
    let bare = gh.bare_repo_path(&repo);
    let main = gh.branch_sha(&repo, "main").expect("main");

    // The first mention: the agent writes a file and commits nothing; Switchboard commits it
    // for alice, pushes the issue's branch and opens its pull request.
    let answer = ask(
        &t,
        &repo,
        issue,
        "@switchboard add a changelog\n@fake write CHANGELOG.md first entry",
        "Echo #1",
    )
    .await;
    let pulls = gh.pull_requests(&repo);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pr = &pulls[0];
    assert_eq!(
        (
            pr.head_ref.as_str(),
            pr.base_ref.as_str(),
            pr.state.as_str()
        ),
        (BRANCH, "main", "open")
    );
    assert_eq!(pr.title, "Add a changelog");
    assert!(pr.body.contains("Fixes #1"), "{}", pr.body);
    let link = format!("/octo/app/pull/{}", pr.number);
    assert!(
        answer.body.contains(&link) && answer.body.contains("opened pull request"),
        "the answer links the pull request: {}",
        answer.body
    );
    let first = gh.branch_sha(&repo, BRANCH).expect("the issue's branch");
    assert_eq!(pr.head_sha, first);
    assert_eq!(
        git(&bare, &["show", &format!("{first}:CHANGELOG.md")]),
        "first entry"
    );
    assert_eq!(
        git(&bare, &["log", "-1", "--format=%an <%ae>|%cn", &first]),
        "alice <alice@github.invalid>|Switchboard",
        "the person who asked is the author"
    );
    assert_eq!(git(&bare, &["rev-parse", &format!("{first}^")]), main);
    assert_eq!(gh.branch_sha(&repo, "main"), Some(main.clone()));

    // A later mention continues on the branch: the same pull request, updated.
    let answer = ask(
        &t,
        &repo,
        issue,
        "@switchboard add notes too\n@fake write NOTES.md second change",
        "Echo #2",
    )
    .await;
    let pulls = gh.pull_requests(&repo);
    assert_eq!(pulls.len(), 1, "still one pull request: {pulls:#?}");
    let second = gh.branch_sha(&repo, BRANCH).expect("the issue's branch");
    assert_ne!(second, first);
    assert_eq!(git(&bare, &["rev-parse", &format!("{second}^")]), first);
    assert_eq!(pulls[0].head_sha, second, "the pull request follows");
    assert_eq!(
        git(&bare, &["show", &format!("{second}:NOTES.md")]),
        "second change"
    );
    assert!(
        answer.body.contains(&link) && answer.body.contains("is updated"),
        "{}",
        answer.body
    );

    // A mention whose agent changes nothing pushes nothing and names no pull request.
    let answer = ask(&t, &repo, issue, "@switchboard what is left?", "Echo #3").await;
    assert!(!answer.body.contains("/pull/"), "{}", answer.body);
    assert_eq!(gh.pull_requests(&repo).len(), 1);
    assert_eq!(gh.branch_sha(&repo, BRANCH), Some(second));
    assert_eq!(gh.pushes().len(), 2, "{:?}", gh.pushes());

    assert_tokens_kept_secret(&t);
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}

async fn with_pushing_off_an_issue_mention_says_no_pull_request_was_opened(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let (repo, issue) = repo_with_issue(gh);
    let answer = ask(
        &t,
        &repo,
        issue,
        "@switchboard add a changelog\n@fake write CHANGELOG.md first entry",
        "Echo #1",
    )
    .await;
    assert!(
        answer
            .body
            .contains("No pull request was opened: pushing is off"),
        "{}",
        answer.body
    );
    assert!(gh.pull_requests(&repo).is_empty());
    assert!(gh.pushes().is_empty(), "{:?}", gh.pushes());
    assert_eq!(gh.branch_sha(&repo, BRANCH), None);

    // Asking for nothing to change says nothing about pull requests.
    let answer = ask(&t, &repo, issue, "@switchboard what is left?", "Echo #2").await;
    assert!(!answer.body.contains("pull request"), "{}", answer.body);
}

/// GitHub refuses the pull request after the push: the answer says so, and the next mention —
/// though it changes nothing — opens it.
async fn a_pull_request_github_refused_is_opened_by_the_next_mention(db: Db) {
    let t = start(db, true).await;
    let gh = gh(&t);
    let (repo, issue) = repo_with_issue(gh);
    gh.hold_pull_creations();
    mention(
        &t,
        &repo,
        issue,
        "@switchboard add a changelog\n@fake write CHANGELOG.md first entry",
    )
    .await;
    gh.wait_for(WAIT, |f| (f.held_pull_creations() == 1).then_some(()))
        .await
        .expect("the pull request's creation at the door");
    gh.release_pull_creations(false);
    let answer = answered(&t, &repo, issue, "Echo #1").await;
    assert!(
        answer.body.contains("could not be opened"),
        "{}",
        answer.body
    );
    let pushed = gh.branch_sha(&repo, BRANCH).expect("the branch was pushed");
    assert!(gh.pull_requests(&repo).is_empty());

    let answer = ask(&t, &repo, issue, "@switchboard is it there?", "Echo #2").await;
    let pulls = gh.pull_requests(&repo);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(pulls[0].head_sha, pushed);
    assert!(pulls[0].body.contains("Fixes #1"), "{}", pulls[0].body);
    assert!(
        answer
            .body
            .contains(&format!("opened pull request #{}", pulls[0].number)),
        "{}",
        answer.body
    );
    assert_eq!(gh.pushes().len(), 1, "nothing new was pushed");
}

/// The bot dies after pushing the issue's branch, before GitHub has its pull request: the
/// restarted bot, following the turn's end again, opens exactly one.
async fn a_bot_killed_between_the_push_and_the_pull_request_opens_it_after_its_restart(db: Db) {
    let mut t = start(db, true).await;
    let (repo, issue) = repo_with_issue(gh(&t));
    gh(&t).hold_pull_creations();
    mention(
        &t,
        &repo,
        issue,
        "@switchboard add a changelog\n@fake write CHANGELOG.md first entry",
    )
    .await;
    let held = gh(&t)
        .wait_for(WAIT, |f| (f.held_pull_creations() == 1).then_some(()))
        .await;
    assert!(held.is_some(), "the pull request was never asked for");
    let pushed = gh(&t)
        .branch_sha(&repo, BRANCH)
        .expect("the branch was pushed");
    t.kill_bot();
    // The creation the dead bot asked for never reaches GitHub.
    gh(&t).release_pull_creations(false);
    assert!(gh(&t).pull_requests(&repo).is_empty());
    t.start_bot().await;
    let answer = answered(&t, &repo, issue, "Echo #1").await;
    let pulls = gh(&t).pull_requests(&repo);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(
        (pulls[0].head_ref.as_str(), pulls[0].head_sha.as_str()),
        (BRANCH, pushed.as_str())
    );
    assert!(
        answer
            .body
            .contains(&format!("opened pull request #{}", pulls[0].number)),
        "{}",
        answer.body
    );
    assert_eq!(gh(&t).pushes().len(), 1, "{:?}", gh(&t).pushes());
}
