//! A dependency review's facts are a phase of its turn: its tests run under the host's turn
//! limit, detached on the host (a bot killed meanwhile re-attaches and posts the review once),
//! and while they run the router goes on serving the repository — the review's own thread too.
//!
//! Each repository's test command (`sh test.sh`) counts its runs in a file and, where a test
//! must hold it, waits for a `go` file the test writes when it is ready.

use std::path::Path;

use switchboard::domain::thread::{Platform, ThreadRef};
use switchboard::domain::turn::TurnState;
use switchboard::store::TurnRow;

use crate::github::{comment_and_deliver, gh, js_repo_testing, left_pad_bump, open_pr, start};
use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::{FakePr, UserKind};
use crate::support::harness::{GitHubSetup, Harness, Options, WAIT};
use crate::support::waiting;

on_both_databases!(
    a_reviews_tests_wait_for_the_hosts_turn_limit,
    a_bot_killed_while_a_reviews_tests_run_posts_the_review_once,
    the_repository_is_served_while_a_reviews_tests_run,
);

/// A `test.sh` that appends `record`'s output to `runs`, waits for `go` when given, and passes.
fn test_script(runs: &Path, record: &str, go: Option<&Path>) -> String {
    let wait = go.map_or(String::new(), |go| {
        format!("while [ ! -e '{}' ]; do sleep 0.05; done\n", go.display())
    });
    format!(
        "{record} >> '{}'\n{wait}echo 'all 3 tests passed'\n",
        runs.display()
    )
}

/// The lines of a file the tests append to (none before they first run).
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Waits until the tests have started `n` times in all.
async fn wait_test_runs(runs: &Path, n: usize) -> Vec<String> {
    waiting::poll(WAIT, async || {
        let found = lines(runs);
        match found.len() >= n {
            true => Ok(found),
            false => Err(format!("the tests ran {} times, expected {n}", found.len())),
        }
    })
    .await
}

/// The turns of a GitHub thread (`pr/7/deps`, `issue/3`) of `octo/web`, once there are `n`.
async fn wait_turns(t: &Harness, topic: &str, n: usize) -> Vec<TurnRow> {
    let store = t.store().await;
    let thread = ThreadRef {
        platform: Platform::GitHub,
        chat: "octo/web".to_owned(),
        topic: Some(topic.to_owned()),
    };
    let turns = waiting::poll(WAIT, async || {
        let turns = match store.active_session(&thread).await.expect("the store") {
            Some(session) => store.session_turns(&session.id).await.expect("the store"),
            None => Vec::new(),
        };
        match turns.len() >= n {
            true => Ok(turns),
            false => Err(format!("{topic} has {} turns, expected {n}", turns.len())),
        }
    })
    .await;
    store.close().await;
    turns
}

fn deps_topic(pr: &FakePr) -> String {
    format!("pr/{}/deps", pr.number)
}

/// Requests to fetch from the fake's git server (each checkout fetches).
fn fetches(t: &Harness) -> usize {
    gh(t)
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/git-upload-pack"))
        .count()
}

/// With one slot on the host, a review's tests do not start while another turn holds it: the
/// review is a turn like any other, queued behind the slot (before, its tests ran while the
/// event was routed, before its turn existed). They start once the other turn has ended.
async fn a_reviews_tests_wait_for_the_hosts_turn_limit(db: Db) {
    let mut options = Options::new(db);
    options.host_slots = 1;
    options.github = Some(GitHubSetup::default());
    let t = Harness::start_with(options).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let runs = t.host_dir.path().join("test-runs");
    let repo = js_repo_testing(gh, &alice, &test_script(&runs, "date +%s%N", None));

    // Alice's question on an issue holds the host's one slot until `go` is there.
    let go = t.host_dir.path().join("go");
    let issue = gh.create_issue(&repo, "Explain", "How does padding work?", &alice);
    let ask = format!("@switchboard explain\n@fake wait-for {}", go.display());
    comment_and_deliver(&t, &repo, issue.number, &alice, &ask).await;
    t.wait_agent_runs(1).await;

    let pr = left_pad_bump(gh, &repo);
    open_pr(&t, &pr).await;
    let queued = wait_turns(&t, &deps_topic(&pr), 1).await;
    assert_eq!(queued[0].state, TurnState::Queued, "it waits for the slot");
    assert!(
        lines(&runs).is_empty(),
        "the review's tests wait for the host's slot"
    );

    std::fs::write(&go, "").expect("let the question's agent finish");
    let review = gh.wait_for_review(&pr, |r| r.author == app, WAIT).await;
    assert!(
        review.body.contains("**Tests:** ✅ `sh test.sh` passed"),
        "{}",
        review.body
    );
    let started_ns: u128 = lines(&runs)[0].parse().expect("a time in ns");
    let question = wait_turns(&t, &format!("issue/{}", issue.number), 1).await;
    let ended_ms = question[0].finished_at.expect("the question's turn ended");
    assert!(
        started_ns / 1_000_000 >= ended_ms as u128,
        "the tests started ({started_ns} ns) after the turn holding the slot ended ({ended_ms} ms)"
    );
    assert_eq!(lines(&runs).len(), 1);
    assert_eq!(t.agent_runs().len(), 2);
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}

/// The bot is SIGKILLed while a review's tests run on the host: they go on, the restarted bot
/// re-attaches to them — not checking the workspace out again nor starting them again — and
/// the review is posted once.
async fn a_bot_killed_while_a_reviews_tests_run_posts_the_review_once(db: Db) {
    let mut t = start(db, false).await;
    let app = gh(&t).app_user().login;
    let alice = gh(&t).user("alice", UserKind::User);
    let runs = t.host_dir.path().join("test-runs");
    let go = t.host_dir.path().join("go");
    let repo = js_repo_testing(gh(&t), &alice, &test_script(&runs, "echo run", Some(&go)));
    let pr = left_pad_bump(gh(&t), &repo);
    open_pr(&t, &pr).await;
    wait_test_runs(&runs, 1).await;
    let fetched = fetches(&t);
    assert!(fetched > 0, "the review's checkout was fetched");

    t.kill_bot();
    t.start_bot().await;
    std::fs::write(&go, "").expect("let the tests finish");
    let review = gh(&t).wait_for_review(&pr, |r| r.author == app, WAIT).await;
    for expected in [
        "### Dependency review: ✅ **Safe to merge**",
        "| left-pad | npm | `1.1.0` | `1.3.0` | direct |",
        "- `src/index.js` (left-pad)",
        "**Tests:** ✅ `sh test.sh` passed",
    ] {
        assert!(
            review.body.contains(expected),
            "{expected:?}:\n{}",
            review.body
        );
    }
    let turns = wait_turns(&t, &deps_topic(&pr), 1).await;
    assert_eq!(turns.len(), 1, "one review turn");
    assert_eq!(turns[0].state, TurnState::Done);
    assert_eq!(lines(&runs), ["run"], "the tests ran once");
    assert_eq!(fetches(&t), fetched, "the checkout was not fetched again");
    assert_eq!(t.agent_runs().len(), 1, "the agent ran once");
    assert_eq!(gh(&t).reviews(&pr).len(), 1);
    assert_eq!(review.edits(), 0, "posted once");
    assert!(gh(&t).violations().is_empty(), "{:?}", gh(&t).violations());
}

/// While a review's tests run, the router serves the repository: a question on another issue is
/// answered, and the review's own thread takes a new request (asked again, a review queues
/// behind the one under way) — before, the thread stayed claimed until the tests were over.
async fn the_repository_is_served_while_a_reviews_tests_run(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let runs = t.host_dir.path().join("test-runs");
    let go = t.host_dir.path().join("go");
    let repo = js_repo_testing(gh, &alice, &test_script(&runs, "echo run", Some(&go)));
    let pr = left_pad_bump(gh, &repo);
    open_pr(&t, &pr).await;
    wait_test_runs(&runs, 1).await;

    let issue = gh.create_issue(&repo, "Explain", "How does padding work?", &alice);
    comment_and_deliver(
        &t,
        &repo,
        issue.number,
        &alice,
        "@switchboard explain padding",
    )
    .await;
    gh.wait_for_comment(
        &repo,
        issue.number,
        |c| c.author == app && c.body.contains("Echo #1"),
        WAIT,
    )
    .await;

    comment_and_deliver(&t, &repo, pr.number, &alice, "@switchboard review-deps").await;
    let turns = wait_turns(&t, &deps_topic(&pr), 2).await;
    assert_eq!(turns[1].state, TurnState::Queued);
    assert_eq!(lines(&runs), ["run"], "the first review's tests still run");
    assert!(gh.reviews(&pr).is_empty(), "no review before its tests end");

    std::fs::write(&go, "").expect("let the tests finish");
    let review = gh
        .wait_for_review(&pr, |r| r.author == app && r.edits() == 1, WAIT)
        .await;
    assert!(
        review.body.contains("**Tests:** ✅ `sh test.sh` passed"),
        "{}",
        review.body
    );
    assert_eq!(lines(&runs), ["run", "run"], "each review ran the tests");
    assert_eq!(
        gh.reviews(&pr).len(),
        1,
        "the second review updated the first"
    );
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}
