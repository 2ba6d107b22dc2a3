//! The bot's GitHub REST client against the fake GitHub: App authentication, token reuse, and
//! how GitHub's secondary rate limit reaches the outbox.

use std::time::Duration;

use switchboard::bots::github::app_auth::AppKey;
use switchboard::bots::github::client::{ApiError, GitHubClient};
use switchboard::config::Secret;

use crate::support::fake_github::{CallAuth, FakeGitHub, FakeGitHubConfig, UserKind};

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
    let key = AppKey::new(fake.app_id(), &Secret::new(fake.app_private_key_pem())).unwrap();
    let client = GitHubClient::new(&fake.api_url(), key).unwrap();
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
