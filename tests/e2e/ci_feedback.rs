//! CI feedback, end to end: after `/pr` pushes a session's branch, the thread is told how the
//! pull request's checks ended — at once when the fake GitHub delivers the `check_run` and
//! `check_suite` webhooks, or by polling the commit's check runs when no webhook comes — and
//! `/fix-ci` gives the agent the failing check's name, link and report.

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::hub_signature_256;
use crate::support::harness::Harness;
use crate::workspaces::{a_turn_on_the_only_project, gh};

on_both_databases!(
    a_failing_check_reported_by_webhook_is_told_and_fix_ci_gives_the_agent_its_report,
    checks_that_pass_without_a_webhook_are_found_by_polling,
);

/// The only project's session after its first turn and `/pr`, the bot reading checks first
/// `checks_poll` after a push: the harness, the repository, the pull request's number and the
/// pushed commit.
async fn a_pushed_session(
    db: Db,
    checks_poll: &str,
) -> (Harness, crate::support::fake_github::FakeRepo, u64, String) {
    let config = format!("\n[workspaces]\nchecks_poll = \"{checks_poll}\"\n");
    let (t, repo, _) = a_turn_on_the_only_project(db, &config).await;
    t.say("/pr");
    let reply = t.next().await.text;
    assert!(reply.contains(" and opened pull request #"), "{reply}");
    let prs = gh(&t).pull_requests(&repo);
    assert_eq!(prs.len(), 1, "{prs:#?}");
    let (number, sha) = (prs[0].number, prs[0].head_sha.clone());
    (t, repo, number, sha)
}

/// A failing check run on the pushed commit, reported by the App's webhooks: the thread is told
/// which check failed, with its link, and no turn runs for the delivery; a forged delivery is
/// refused. `/fix-ci` then queues a turn whose prompt names the check and holds its link and
/// report, fenced as untrusted; so does the prompt "fix the failing checks", and no other.
async fn a_failing_check_reported_by_webhook_is_told_and_fix_ci_gives_the_agent_its_report(db: Db) {
    // Polling would first look after ten minutes: what the thread is told came by webhook.
    let (t, repo, number, sha) = a_pushed_session(db, "5m").await;
    let gh = gh(&t);
    gh.add_check_run(&repo, &sha, "build", "completed", Some("success"));
    let test = gh.add_check_run(&repo, &sha, "test", "in_progress", None);
    gh.set_check_run_output(
        &test,
        Some("1 test failed"),
        Some("tests/cart.rs: 1 failed, 41 passed"),
        Some("thread 'totals' panicked: assertion failed: expected 42, got 41"),
    );
    gh.complete_check_run(&test, "failure");
    // A check delivery is signed like any other: a forged one is refused.
    let body = serde_json::to_vec(&gh.payload_check_run(&test)).unwrap();
    let forged = gh
        .deliver_raw(
            &t.github_webhook(),
            &[
                ("X-GitHub-Event", "check_run"),
                ("X-GitHub-Delivery", "forged-check"),
                (
                    "X-Hub-Signature-256",
                    &hub_signature_256("not-the-secret", &body),
                ),
                ("Content-Type", "application/json"),
            ],
            body,
        )
        .await;
    assert_eq!(forged.0, 401);
    let deliveries = gh.report_check_run(&t.github_webhook(), &test).await;
    let events: Vec<(&str, u16)> = deliveries
        .iter()
        .map(|d| (d.event.as_str(), d.status))
        .collect();
    assert_eq!(events, [("check_run", 202), ("check_suite", 202)]);

    let link = gh.payload_check_run(&test)["check_run"]["details_url"]
        .as_str()
        .expect("the run's link")
        .to_owned();
    let told = t.next().await.text;
    assert!(
        told.starts_with(&format!("❌ check test failed on #{number}: {link}")),
        "{told}"
    );
    assert!(!told.contains("build"), "only the failing check: {told}");
    assert!(told.contains("/fix_ci"), "{told}");
    assert_eq!(t.agent_runs().len(), 1, "a delivery is no prompt");

    t.say("/fix-ci");
    let runs = t.wait_agent_runs(2).await;
    let prompt = String::from_utf8_lossy(&runs[1].prompt).into_owned();
    for expected in [
        format!("Check \"test\" ended failure, see {link}."),
        "1 test failed".to_owned(),
        "tests/cart.rs: 1 failed, 41 passed".to_owned(),
        "assertion failed: expected 42, got 41".to_owned(),
        format!("commit {} (#{number})", &sha[..7]),
    ] {
        assert!(prompt.contains(&expected), "{expected:?} in {prompt}");
    }
    assert!(
        prompt.contains("<untrusted-") && prompt.contains("source=\"text of check test\""),
        "{prompt}"
    );
    assert!(!prompt.contains("\"build\""), "{prompt}");
    assert_eq!(runs[1].cwd, runs[0].cwd, "in the session's worktree");
    t.next().await; // the turn's status
    t.next().await; // its answer

    // The same in so many words; another prompt goes as typed.
    t.say("Fix the failing checks.");
    let runs = t.wait_agent_runs(3).await;
    let asked = String::from_utf8_lossy(&runs[2].prompt).into_owned();
    assert!(
        asked.contains("assertion failed: expected 42, got 41") && asked.contains(&link),
        "{asked}"
    );
    t.next().await;
    t.next().await;
    t.say("fix the failing checks in the docs too");
    let runs = t.wait_agent_runs(4).await;
    let typed = String::from_utf8_lossy(&runs[3].prompt).into_owned();
    assert!(!typed.contains("expected 42"), "{typed}");
    t.next().await;
    t.next().await;
    t.tg.assert_all_read();
}

/// No webhook comes: the bot reads the pushed commit's check runs itself, waits while there are
/// none, and tells the thread once they all passed.
async fn checks_that_pass_without_a_webhook_are_found_by_polling(db: Db) {
    let (t, repo, number, sha) = a_pushed_session(db, "200ms").await;
    let gh = gh(&t);
    gh.add_check_run(&repo, &sha, "build", "completed", Some("success"));
    gh.add_check_run(&repo, &sha, "lint", "completed", Some("neutral"));
    let told = t.next().await.text;
    assert_eq!(told, format!("✅ Checks passed on #{number}."));
    t.tg.assert_all_read();
}
