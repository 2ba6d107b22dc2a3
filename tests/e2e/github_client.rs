//! The bot's GitHub REST client against the fake GitHub: App authentication, token reuse, how
//! GitHub's secondary rate limit reaches the outbox, opening a branch's pull request exactly once,
//! and reading how a commit's checks ended.

use std::time::Duration;

use switchboard::bots::github::app_auth::AppKey;
use switchboard::bots::github::client::{ApiError, CheckOutput, FailingCheck, GitHubClient};
use switchboard::config::Secret;

use crate::support::fake_github::{CallAuth, FakeGitHub, FakeGitHubConfig, FakeRepo, UserKind};

/// The App's client, on the fake.
fn client_of(fake: &FakeGitHub) -> GitHubClient {
    let key = AppKey::new(fake.app_id(), &Secret::new(fake.app_private_key_pem())).unwrap();
    GitHubClient::new(&fake.api_url(), key).unwrap()
}

/// A session's branch as `/pr` leaves it: `alice/widgets` with a commit on `switchboard/ab12`.
fn session_branch(fake: &FakeGitHub) -> (FakeRepo, String) {
    let alice = fake.user("alice", UserKind::User);
    let repo = fake.create_repo("alice", "widgets", &[("README.md", "hi\n")]);
    let sha = fake.commit(
        &repo,
        "switchboard/ab12",
        &[("README.md", Some("hello\n"))],
        "Say hello",
        &alice,
    );
    (repo, sha)
}

#[tokio::test]
async fn tokens_are_reused_and_the_secondary_limit_becomes_a_retry_after() {
    let fake = FakeGitHub::start(FakeGitHubConfig {
        content_per_minute: 2,
        ..FakeGitHubConfig::default()
    })
    .await;
    let alice = fake.user("alice", UserKind::User);
    let repo = fake.create_repo("alice", "widgets", &[("README.md", "hi\n")]);
    let issue = fake.create_issue(&repo, "Widgets", "Make them.", &alice);
    let client = client_of(&fake);
    let full = "alice/widgets";

    assert_eq!(client.app_slug().await.unwrap(), fake.app_slug());
    for body in ["one", "two"] {
        client
            .create_comment(full, issue.number, body)
            .await
            .unwrap();
    }
    match client.create_comment(full, issue.number, "three").await {
        Err(ApiError::RateLimited { retry_after }) => assert!(
            retry_after >= Duration::from_secs(1) && retry_after <= Duration::from_secs(60),
            "{retry_after:?}"
        ),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    assert_eq!(fake.comments(&repo, issue.number).len(), 2);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());

    let calls = fake.calls();
    let minted = calls
        .iter()
        .filter(|c| c.path.ends_with("/access_tokens"))
        .count();
    assert_eq!(minted, 1, "one installation token for every request");
    assert!(
        calls
            .iter()
            .filter(|c| c.path.ends_with("/comments"))
            .all(|c| matches!(c.auth, CallAuth::Installation)),
        "{calls:#?}"
    );
}

#[tokio::test]
async fn a_branch_gets_one_pull_request_however_often_it_is_opened() {
    let fake = FakeGitHub::start(FakeGitHubConfig::default()).await;
    let (repo, sha) = session_branch(&fake);
    let client = client_of(&fake);

    let first = client
        .open_pull_request(
            "alice/widgets",
            "switchboard/ab12",
            "main",
            "Say hello",
            "From the thread.",
        )
        .await
        .unwrap();
    assert!(first.created);
    assert!(
        first
            .html_url
            .ends_with(&format!("/alice/widgets/pull/{}", first.number)),
        "{}",
        first.html_url
    );
    let again = client
        .open_pull_request(
            "alice/widgets",
            "switchboard/ab12",
            "main",
            "Say hello again",
            "",
        )
        .await
        .unwrap();
    assert_eq!((again.number, again.created), (first.number, false));
    assert_eq!(again.html_url, first.html_url);

    let pulls = fake.pull_requests(&repo);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pull = &pulls[0];
    assert_eq!(pull.number, first.number);
    assert_eq!(
        (pull.head_ref.as_str(), pull.base_ref.as_str()),
        ("switchboard/ab12", "main")
    );
    assert_eq!(
        (pull.title.as_str(), pull.body.as_str()),
        ("Say hello", "From the thread.")
    );
    assert_eq!(pull.author, fake.app_user().login);
    assert_eq!(pull.head_sha, sha);
    let creates = fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path == "/repos/alice/widgets/pulls")
        .count();
    assert_eq!(creates, 1, "the second call found the open pull request");
}

#[tokio::test]
async fn a_pull_request_opened_in_between_is_read_back_after_githubs_422() {
    let fake = FakeGitHub::start(FakeGitHubConfig::default()).await;
    let (repo, _) = session_branch(&fake);
    let client = client_of(&fake);
    let open = || client.open_pull_request("alice/widgets", "switchboard/ab12", "main", "Hi", "");
    let first = open().await.unwrap();

    // The next list runs before the first create has landed, as for a second `/pr` racing the
    // first, or a restart after a create whose answer was lost.
    fake.lag_pull_lists(1);
    let raced = open().await.unwrap();
    assert_eq!((raced.number, raced.created), (first.number, false));
    assert_eq!(fake.pull_requests(&repo).len(), 1);
    let refused = fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path == "/repos/alice/widgets/pulls")
        .map(|c| c.status)
        .collect::<Vec<_>>();
    assert_eq!(refused, [201, 422], "the second create met GitHub's 422");

    // Any other refusal is the caller's to see, with GitHub's reason.
    match client
        .open_pull_request("alice/widgets", "no-such-branch", "main", "Hi", "")
        .await
    {
        Err(ApiError::Status {
            status: 422,
            message,
        }) => {
            assert!(message.contains("head invalid"), "{message}")
        }
        other => panic!("expected GitHub's 422, got {other:?}"),
    }
}

#[tokio::test]
async fn checks_for_names_the_failing_check_and_its_link() {
    let fake = FakeGitHub::start(FakeGitHubConfig::default()).await;
    let (repo, sha) = session_branch(&fake);
    let client = client_of(&fake);

    let none = client.checks_for("alice/widgets", &sha).await.unwrap();
    assert_eq!((none.total, none.failing.len()), (0, 0));

    fake.add_check_run(&repo, &sha, "build", "completed", Some("success"));
    let test = fake.add_check_run(&repo, &sha, "test", "completed", Some("failure"));
    let lint = fake.add_check_run(&repo, &sha, "lint", "in_progress", None);
    fake.set_check_run_output(
        &test,
        Some("1 test failed"),
        None,
        Some("expected 2, got 3"),
    );
    let summary = client.checks_for("alice/widgets", &sha).await.unwrap();
    assert_eq!(summary.total, 3);
    assert_eq!(summary.pending, ["lint"]);
    assert!(!summary.all_completed());
    let link = fake.payload_check_run(&test)["check_run"]["details_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        summary.failing,
        [FailingCheck {
            name: "test".into(),
            conclusion: "failure".into(),
            url: Some(link),
            output: CheckOutput {
                title: Some("1 test failed".into()),
                summary: None,
                text: Some("expected 2, got 3".into()),
            },
        }]
    );

    // The branch's name reads the same commit; a re-run that passes replaces the failure.
    fake.complete_check_run(&lint, "neutral");
    fake.add_check_run(&repo, &sha, "test", "completed", Some("success"));
    let rerun = client
        .checks_for("alice/widgets", "switchboard/ab12")
        .await
        .unwrap();
    assert!(rerun.all_completed());
    assert_eq!((rerun.total, rerun.failing.len()), (3, 0), "{rerun:?}");
}
