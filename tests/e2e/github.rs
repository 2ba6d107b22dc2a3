//! The GitHub App end to end: signed webhooks through the bot's real HTTP server, the fake
//! GitHub (REST, git over HTTP with installation tokens), the agent on an sshd host.

use std::path::Path;
use std::process::Command;

use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::{
    CommentAction, FakeGitHub, FakePr, FakeRepo, FakeUser, PrAction, UserKind,
};
use crate::support::harness::{GitHubSetup, Harness, Options, WAIT};

on_both_databases!(
    a_mention_runs_the_agent_on_the_pr_head_and_answers_in_place,
    nothing_runs_for_the_wrong_people_or_deliveries,
    dependency_prs_get_one_review_that_updates,
    the_agents_commits_are_pushed_only_when_allowed,
    issues_reviews_and_long_answers,
    grouped_and_renovate_updates_are_reviewed,
    a_comment_whose_answer_was_lost_is_found_not_repeated,
    an_answer_whose_fence_is_longer_than_a_comment_stays_within_the_limit,
    a_thread_over_budget_is_told_a_command_github_has_and_it_works,
    the_patch_goes_in_the_answers_comment_while_it_fits,
    pull_requests_of_one_repository_share_the_hosts_clone,
);

pub(crate) async fn start(db: Db, allow_push: bool) -> Harness {
    let mut options = Options::new(db);
    options.github = Some(GitHubSetup {
        allow_push,
        ..GitHubSetup::default()
    });
    Harness::start_with(options).await
}

pub(crate) fn gh(t: &Harness) -> &FakeGitHub {
    t.gh.as_ref().expect("the fake GitHub")
}

/// A repository with a feature branch and its pull request, opened by `author`.
pub(crate) fn repo_with_pr(gh: &FakeGitHub, author: &FakeUser) -> (FakeRepo, FakePr, String) {
    let repo = gh.create_repo(
        "octo",
        "app",
        &[
            ("README.md", "hello\n"),
            ("src/lib.rs", "pub fn f() -> u8 { 0 }\n"),
        ],
    );
    gh.set_permission(&repo, author, "write");
    let head = gh.commit(
        &repo,
        "feature",
        &[("src/lib.rs", Some("pub fn f() -> u8 { 1 }\n"))],
        "make f return 1",
        author,
    );
    let pr = gh.open_pr(
        &repo,
        "feature",
        "main",
        "Make f return 1",
        "So that f is truthy.",
        author,
    );
    (repo, pr, head)
}

fn git(dir: &Path, args: &[&str]) -> String {
    crate::support::git::git(dir, args).trim().to_owned()
}

/// Every token the fake issued is absent from the bot's log and from the host's disk (the
/// checkouts and their git config included).
pub(crate) fn assert_tokens_kept_secret(t: &Harness) {
    let tokens = gh(t).issued_tokens();
    assert!(!tokens.is_empty(), "the bot used installation tokens");
    let log = t.log();
    for token in &tokens {
        assert!(
            !log.contains(token.as_str()),
            "an installation token is in the bot's log"
        );
        let grep = Command::new("grep")
            .args(["-r", "-l", "-F", token])
            .arg(t.host_dir.path())
            .output()
            .expect("grep");
        assert!(
            grep.stdout.is_empty(),
            "an installation token is on the host's disk: {}",
            String::from_utf8_lossy(&grep.stdout)
        );
    }
}

async fn a_mention_runs_the_agent_on_the_pr_head_and_answers_in_place(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let (repo, pr, head) = repo_with_pr(gh, &alice);
    let earlier = gh.comment(&repo, pr.number, &alice, "Context from before the request.");
    let ask = gh.comment(&repo, pr.number, &alice, "@switchboard what does f return?");
    gh.comment(&repo, pr.number, &alice, "Written after the request.");
    gh.edit_comment(&earlier, "Context from before, edited after the request.");
    let delivery = gh
        .deliver(
            &t.github_webhook(),
            "issue_comment",
            gh.payload_issue_comment(&ask, CommentAction::Created),
        )
        .await;
    assert_eq!(delivery.status, 202, "{delivery:?}");

    gh.wait_for_reaction(&ask, &app, "eyes", WAIT).await;
    let answer = gh
        .wait_for_comment(
            &repo,
            pr.number,
            |c| c.author == app && c.body.contains("Echo #1"),
            WAIT,
        )
        .await;
    assert!(
        answer.versions[0].body.contains("Working on it"),
        "{:#?}",
        answer.versions
    );
    assert!(answer.body.starts_with("✅ Done in"), "{}", answer.body);
    assert!(
        answer.body.contains("<!-- switchboard:turn "),
        "the tracking marker: {}",
        answer.body
    );
    assert_eq!(
        gh.comments(&repo, pr.number)
            .iter()
            .filter(|c| c.author == app)
            .count(),
        1
    );

    let runs = t.wait_agent_runs(1).await;
    let checkout = &runs[0].cwd;
    assert!(
        checkout.ends_with("work/github/octo/app/pr-1"),
        "{}",
        checkout.display()
    );
    assert_eq!(
        git(checkout, &["rev-parse", "HEAD"]),
        head,
        "the agent ran on the PR head"
    );
    let prompt = String::from_utf8_lossy(&runs[0].prompt).into_owned();
    assert!(
        prompt.contains("pull request #1 (branch `feature`"),
        "{prompt}"
    );
    assert!(prompt.contains("So that f is truthy."));
    assert!(
        prompt.contains("+pub fn f() -> u8 { 1 }"),
        "the diff is given"
    );
    assert!(
        !prompt.contains("Context from before"),
        "a comment edited after the request is left out"
    );
    assert!(!prompt.contains("Written after the request"));
    assert!(prompt.trim_end().ends_with("what does f return?"));

    // A second mention continues the same agent conversation; the tracking comment shows the
    // agent's progress on the way (the agent holds on after its tool call until it is shown).
    let go = t.host_dir.path().join("go");
    let again = gh.comment(
        &repo,
        pr.number,
        &alice,
        &format!(
            "@switchboard and now?\n@fake tool Bash {{\"command\":\"cargo test\"}}\n@fake wait-for {}",
            go.display()
        ),
    );
    gh.deliver(
        &t.github_webhook(),
        "issue_comment",
        gh.payload_issue_comment(&again, CommentAction::Created),
    )
    .await;
    gh.wait_for_comment(
        &repo,
        pr.number,
        |c| {
            c.author == app && c.body.contains("Working on remote") && c.body.contains("cargo test")
        },
        WAIT,
    )
    .await;
    std::fs::write(&go, "").unwrap();
    let second = gh
        .wait_for_comment(
            &repo,
            pr.number,
            |c| c.author == app && c.body.contains("Echo #2"),
            WAIT,
        )
        .await;
    assert!(
        second
            .versions
            .iter()
            .any(|v| v.body.contains("Working on remote") && v.body.contains("cargo test")),
        "progress showed the tool call: {:#?}",
        second.versions
    );
    let runs = t.agent_runs();
    assert_eq!(runs[1].resume_id(), Some(runs[0].session_id.as_str()));

    // An inline review comment is answered in its review thread.
    let inline = gh.review_comment(&pr, &alice, "src/lib.rs", 1, "@switchboard why 1 here?");
    gh.deliver(
        &t.github_webhook(),
        "pull_request_review_comment",
        gh.payload_review_comment(&inline, CommentAction::Created),
    )
    .await;
    let reply = gh
        .wait_for(WAIT, |f| {
            f.review_comments(&pr).into_iter().find(|c| {
                c.author == app && c.in_reply_to_id == Some(inline.id) && c.body.contains("Echo #3")
            })
        })
        .await
        .expect("a reply in the review thread");
    assert!(reply.body.contains("✅ Done in"));
    let prompt = String::from_utf8_lossy(&t.agent_runs()[2].prompt).into_owned();
    assert!(
        prompt.contains("the diff hunk the request was made on: src/lib.rs, line 1"),
        "{prompt}"
    );
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
    assert_tokens_kept_secret(&t);
}

async fn nothing_runs_for_the_wrong_people_or_deliveries(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let url = t.github_webhook();
    let alice = gh.user("alice", UserKind::User);
    let (repo, pr, _) = repo_with_pr(gh, &alice);

    // A read-only user gets one short reply.
    let reader = gh.user("reader", UserKind::User);
    gh.set_permission(&repo, &reader, "read");
    let asked = gh.comment(&repo, pr.number, &reader, "@switchboard delete everything");
    gh.deliver(
        &url,
        "issue_comment",
        gh.payload_issue_comment(&asked, CommentAction::Created),
    )
    .await;
    let refusal = gh
        .wait_for_comment(&repo, pr.number, |c| c.author == app, WAIT)
        .await;
    assert!(
        refusal.body.contains("only people with write access"),
        "{}",
        refusal.body
    );

    // A bot account whose login merely ends in [bot] is not a dependency bot, and bots cannot
    // mention the bot.
    let impostor = gh.user("dependabot-preview[bot]", UserKind::Bot);
    gh.commit(&repo, "bump", &[("x.txt", Some("x"))], "Bump x", &impostor);
    let bump = gh.open_pr(
        &repo,
        "bump",
        "main",
        "Bump x from 1 to 2",
        "Bumps x from 1 to 2.",
        &impostor,
    );
    let opened = gh
        .deliver(
            &url,
            "pull_request",
            gh.payload_pull_request(&bump, PrAction::Opened),
        )
        .await;
    assert_eq!(opened.status, 202);
    gh.set_permission(&repo, &impostor, "write");
    let bot_mention = gh.comment(&repo, pr.number, &impostor, "@switchboard run this");
    gh.deliver(
        &url,
        "issue_comment",
        gh.payload_issue_comment(&bot_mention, CommentAction::Created),
    )
    .await;

    // A comment edited to add a mention does not trigger.
    let quiet = gh.comment(&repo, pr.number, &alice, "nothing to see");
    gh.edit_comment(&quiet, "@switchboard nothing to see");
    let edited = gh
        .deliver(
            &url,
            "issue_comment",
            gh.payload_issue_comment(&quiet, CommentAction::Edited),
        )
        .await;
    assert_eq!(edited.status, 202);

    // Forged and unsigned deliveries are refused before anything is read.
    let good = gh.comment(&repo, pr.number, &alice, "@switchboard hello");
    let body =
        serde_json::to_vec(&gh.payload_issue_comment(&good, CommentAction::Created)).unwrap();
    let forged_signature = crate::support::fake_github::hub_signature_256("not-the-secret", &body);
    let forged = gh
        .deliver_raw(
            &url,
            &[
                ("X-GitHub-Event", "issue_comment"),
                ("X-GitHub-Delivery", "forged-1"),
                ("X-Hub-Signature-256", &forged_signature),
                ("Content-Type", "application/json"),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(forged.0, 401);
    let unsigned = gh
        .deliver_raw(
            &url,
            &[
                ("X-GitHub-Event", "issue_comment"),
                ("X-GitHub-Delivery", "unsigned-1"),
            ],
            body,
        )
        .await;
    assert_eq!(unsigned.0, 401);

    // A real delivery runs once; its replay is recognised.
    let real = gh
        .deliver(
            &url,
            "issue_comment",
            gh.payload_issue_comment(&good, CommentAction::Created),
        )
        .await;
    assert_eq!(real.status, 202);
    gh.wait_for_comment(
        &repo,
        pr.number,
        |c| c.author == app && c.body.contains("Echo #1"),
        WAIT,
    )
    .await;
    let replay = gh.redeliver(&real).await;
    assert_eq!(replay.status, 200, "{replay:?}");
    assert_eq!(replay.id, real.id);
    // The same signed body under a new delivery id (which the signature does not cover) is the
    // same event: a duplicate too.
    let captured = gh.replay_as_new(&real).await;
    assert_ne!(captured.id, real.id);
    assert_eq!(
        (captured.status, captured.response.as_str()),
        (200, "duplicate delivery\n")
    );

    // A signed event older than github.max_event_age (by the times inside the body) is
    // refused and audited: a captured delivery cannot be replayed after the window.
    let old = gh.comment(&repo, pr.number, &alice, "@switchboard from long ago");
    let mut payload = gh.payload_issue_comment(&old, CommentAction::Created);
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let then = humantime::format_rfc3339_seconds(two_hours_ago).to_string();
    payload["comment"]["created_at"] = then.clone().into();
    payload["comment"]["updated_at"] = then.clone().into();
    let stale = gh.deliver(&url, "issue_comment", payload).await;
    assert_eq!(stale.status, 403, "{stale:?}");

    // Only alice's real request reached the agent.
    assert_eq!(t.wait_agent_runs(1).await.len(), 1);
    let audit = t.store().await.audit_log(100).await.unwrap();
    let refused: Vec<_> = audit.iter().filter(|a| a.action == "refused").collect();
    assert_eq!(
        refused.len(),
        2,
        "the reader and the bot mention: {audit:#?}"
    );
    assert!(
        refused
            .iter()
            .any(|a| a.actor == "reader" && a.detail.contains("NoWriteAccess"))
    );
    assert!(
        refused
            .iter()
            .any(|a| a.actor == impostor.login && a.detail.contains("bot account"))
    );
    let rejected: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "webhook_rejected")
        .collect();
    assert_eq!(rejected.len(), 3, "{audit:#?}");
    assert!(
        rejected.iter().all(|a| a.actor == "127.0.0.1"),
        "each refusal names its source: {rejected:#?}"
    );
    assert!(
        rejected[2].detail.contains(&then) && rejected[2].detail.contains("max_event_age"),
        "{rejected:#?}"
    );
    assert!(
        gh.reviews(&bump).is_empty(),
        "the impostor's PR got no review"
    );
    assert_eq!(
        gh.comments(&repo, pr.number)
            .iter()
            .filter(|c| c.author == app)
            .count(),
        2,
        "one refusal and one answer"
    );
}

/// A package-lock.json (v3) pinning left-pad at `version`.
fn npm_lock(version: &str) -> String {
    format!(
        "{{\n  \"name\": \"app\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{\n    \"\": {{\n      \"dependencies\": {{\n        \"left-pad\": \"^{version}\"\n      }}\n    }},\n    \"node_modules/left-pad\": {{\n      \"version\": \"{version}\",\n      \"resolved\": \"https://registry.npmjs.org/left-pad/-/left-pad-{version}.tgz\"\n    }}\n  }}\n}}\n"
    )
}

/// A JavaScript project using left-pad, whose tests pass.
fn js_repo(gh: &FakeGitHub, owner: &FakeUser) -> FakeRepo {
    js_repo_testing(gh, owner, "echo 'all 3 tests passed'\n")
}

/// A JavaScript project using left-pad, whose test command (`sh test.sh`) runs `test_sh`.
pub(crate) fn js_repo_testing(gh: &FakeGitHub, owner: &FakeUser, test_sh: &str) -> FakeRepo {
    let repo = gh.create_repo(
        "octo",
        "web",
        &[
            ("package.json", "{\n  \"name\": \"app\",\n  \"dependencies\": {\n    \"left-pad\": \"^1.1.0\"\n  }\n}\n"),
            ("package-lock.json", &npm_lock("1.1.0")),
            ("src/index.js", "const leftPad = require('left-pad');\nmodule.exports = (s) => leftPad(s, 5);\n"),
            ("test.sh", test_sh),
            (".switchboard.toml", "[review]\ntest_command = \"sh test.sh\"\n"),
        ],
    );
    gh.set_permission(&repo, owner, "write");
    repo
}

/// Dependabot's pull request bumping left-pad from 1.1.0 to 1.3.0 in `repo`, whose agent
/// answers that it is safe to merge.
pub(crate) fn left_pad_bump(gh: &FakeGitHub, repo: &FakeRepo) -> FakePr {
    let dependabot = gh.user("dependabot[bot]", UserKind::Bot);
    gh.commit(
        repo,
        "dependabot/npm_and_yarn/left-pad-1.3.0",
        &[("package-lock.json", Some(&npm_lock("1.3.0")))],
        "Bump left-pad from 1.1.0 to 1.3.0",
        &dependabot,
    );
    let body = "Bumps [left-pad](https://github.com/stevemao/left-pad) from 1.1.0 to 1.3.0.\n\
                <details>\n<summary>Commits</summary>\n\n- See full diff\n</details>\n\n\
                Dependabot will resolve any conflicts with this PR as long as you don't alter it yourself.\n\
                @fake answer Verdict: Safe to merge\\nleft-pad 1.3 only adds a TypeScript definition.\n";
    gh.open_pr(
        repo,
        "dependabot/npm_and_yarn/left-pad-1.3.0",
        "main",
        "Bump left-pad from 1.1.0 to 1.3.0",
        body,
        &dependabot,
    )
}

async fn dependency_prs_get_one_review_that_updates(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let url = t.github_webhook();
    let alice = gh.user("alice", UserKind::User);
    let repo = js_repo(gh, &alice);
    let dependabot = gh.user("dependabot[bot]", UserKind::Bot);
    let pr = left_pad_bump(gh, &repo);
    let opened = gh
        .deliver(
            &url,
            "pull_request",
            gh.payload_pull_request(&pr, PrAction::Opened),
        )
        .await;
    assert_eq!(opened.status, 202);
    let review = gh.wait_for_review(&pr, |r| r.author == app, WAIT).await;
    assert_eq!(review.state, "COMMENTED");
    for expected in [
        "### Dependency review: ✅ **Safe to merge**",
        "| left-pad | npm | `1.1.0` | `1.3.0` | direct |",
        "- `src/index.js` (left-pad)",
        "**Tests:** ✅ `sh test.sh` passed",
        "left-pad 1.3 only adds a TypeScript definition.",
    ] {
        assert!(
            review.body.contains(expected),
            "the review lacks {expected:?}:\n{}",
            review.body
        );
    }
    assert!(
        gh.comments(&repo, pr.number).is_empty(),
        "a review, no comments"
    );

    // A synchronize with the same dependency set posts nothing new.
    let head = gh.commit(
        &repo,
        "dependabot/npm_and_yarn/left-pad-1.3.0",
        &[("README.md", Some("rebased\n"))],
        "Merge main",
        &dependabot,
    );
    let same = gh
        .deliver(
            &url,
            "pull_request",
            gh.payload_pull_request(
                &pr,
                PrAction::Synchronize {
                    before: review.commit_id.clone(),
                    after: head.clone(),
                },
            ),
        )
        .await;
    assert_eq!(same.status, 202);
    // The next delivery is the sync point: its review update comes after this one was handled.
    gh.commit(
        &repo,
        "dependabot/npm_and_yarn/left-pad-1.3.0",
        &[("package-lock.json", Some(&npm_lock("1.3.1")))],
        "Bump left-pad from 1.1.0 to 1.3.1",
        &dependabot,
    );
    let after = gh.head_sha(&pr);
    gh.deliver(
        &url,
        "pull_request",
        gh.payload_pull_request(
            &pr,
            PrAction::Synchronize {
                before: head,
                after,
            },
        ),
    )
    .await;
    let updated = gh
        .wait_for_review(&pr, |r| r.author == app && r.body.contains("`1.3.1`"), WAIT)
        .await;
    assert_eq!(
        updated.id, review.id,
        "the review was updated, not a new one added"
    );
    assert_eq!(
        updated.edits(),
        1,
        "exactly one update: the unchanged synchronize posted nothing"
    );
    assert_eq!(gh.reviews(&pr).len(), 1);
    assert_eq!(
        t.agent_runs().len(),
        2,
        "two reviews ran the agent, the unchanged one did not"
    );

    // A person can ask for a review again with a command.
    let again = gh.comment(&repo, pr.number, &alice, "@switchboard review-deps");
    gh.deliver(
        &url,
        "issue_comment",
        gh.payload_issue_comment(&again, CommentAction::Created),
    )
    .await;
    t.wait_agent_runs(3).await;
    gh.wait_for_review(&pr, |r| r.author == app && r.edits() == 2, WAIT)
        .await;
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
    assert_tokens_kept_secret(&t);
}

async fn the_agents_commits_are_pushed_only_when_allowed(db: Db) {
    for allow_push in [true, false] {
        let t = start(db, allow_push).await;
        let gh = gh(&t);
        let app = gh.app_user().login;
        let alice = gh.user("alice", UserKind::User);
        let (repo, pr, head) = repo_with_pr(gh, &alice);
        let main = gh.branch_sha(&repo, "main");
        let ask = gh.comment(
            &repo,
            pr.number,
            &alice,
            "@switchboard please add notes\n@fake write NOTES.md written by the agent\n@fake commit Add notes",
        );
        gh.deliver(
            &t.github_webhook(),
            "issue_comment",
            gh.payload_issue_comment(&ask, CommentAction::Created),
        )
        .await;
        let answer = gh
            .wait_for_comment(
                &repo,
                pr.number,
                |c| c.author == app && c.body.contains("Echo #1"),
                WAIT,
            )
            .await;
        let branch = gh.branch_sha(&repo, "feature").expect("the branch");
        if allow_push {
            assert!(
                answer.body.contains("Pushed 1 commit to `feature`"),
                "{}",
                answer.body
            );
            assert!(answer.body.contains("Add notes"), "{}", answer.body);
            let pushes = gh.pushes();
            assert_eq!(pushes.len(), 1, "{pushes:?}");
            assert_eq!(pushes[0].refname, "refs/heads/feature");
            assert_eq!(pushes[0].old, head);
            assert_eq!(branch, pushes[0].new);
            assert_eq!(gh.head_sha(&pr), branch, "the PR's head moved");
            let bare = gh.bare_repo_path(&repo);
            assert_eq!(
                git(&bare, &["show", &format!("{branch}:NOTES.md")]),
                "written by the agent"
            );
            assert_eq!(
                gh.branch_sha(&repo, "main"),
                main,
                "the default branch is untouched"
            );
        } else {
            assert!(!answer.body.contains("Pushed"), "{}", answer.body);
            assert!(gh.pushes().is_empty());
            assert_eq!(branch, head);
        }
        assert_tokens_kept_secret(&t);
    }
}

async fn issues_reviews_and_long_answers(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let (repo, pr, _) = repo_with_pr(gh, &alice);
    let main = gh.branch_sha(&repo, "main").expect("main");

    // A mention on an issue works on the default branch; an answer longer than a comment
    // allows is cut with a note and continues, in order, in collapsed sections.
    let issue = gh.create_issue(&repo, "Document f", "f needs docs.", &alice);
    let ask = gh.comment(
        &repo,
        issue.number,
        &alice,
        "@switchboard write the docs\n@fake answer-bytes 150000",
    );
    gh.deliver(
        &t.github_webhook(),
        "issue_comment",
        gh.payload_issue_comment(&ask, CommentAction::Created),
    )
    .await;
    gh.wait_for_reaction(&ask, &app, "eyes", WAIT).await;
    let tracking = gh
        .wait_for_comment(
            &repo,
            issue.number,
            |c| c.author == app && c.body.starts_with("✅"),
            WAIT,
        )
        .await;
    let run = &t.wait_agent_runs(1).await[0];
    assert!(
        run.cwd.ends_with("work/github/octo/app/issue-2"),
        "{}",
        run.cwd.display()
    );
    assert_eq!(git(&run.cwd, &["rev-parse", "HEAD"]), main);
    assert!(
        tracking.body.chars().count() <= 65_536,
        "{} characters",
        tracking.body.chars().count()
    );
    assert!(
        tracking.body.contains("continues below"),
        "the cut is noted: {}",
        &tracking.body[tracking.body.len().saturating_sub(200)..]
    );
    let continued = gh
        .wait_for(WAIT, |f| {
            let mine: Vec<_> = f
                .comments(&repo, issue.number)
                .into_iter()
                .filter(|c| c.author == app && c.id != tracking.id)
                .collect();
            mine.iter()
                .any(|c| c.body.contains("(part 2 of 2)"))
                .then_some(mine)
        })
        .await
        .expect("the rest of the answer");
    assert_eq!(continued.len(), 2, "two continuation comments");
    for (i, comment) in continued.iter().enumerate() {
        assert!(
            comment.body.starts_with(&format!(
                "<details><summary>The answer, continued (part {} of 2)</summary>",
                i + 1
            )),
            "{}",
            &comment.body[..200]
        );
        assert!(comment.body.chars().count() <= 65_536);
    }
    // Every section of the answer is there once, in order.
    let sections: Vec<u64> = std::iter::once(&tracking)
        .chain(continued.iter())
        .flat_map(|c| {
            c.body
                .split("## Section ")
                .skip(1)
                .filter_map(|rest| rest.split(':').next()?.parse().ok())
                .collect::<Vec<u64>>()
        })
        .collect();
    assert!(sections.len() > 100, "{} sections", sections.len());
    let expected: Vec<u64> = (0..sections.len() as u64).map(|i| 1 + 6 * i).collect();
    assert_eq!(sections, expected);

    // A review whose body mentions the bot is answered in the PR's conversation.
    let review = gh.review(&pr, &alice, "Looks odd. @switchboard explain f", "COMMENT");
    gh.deliver(
        &t.github_webhook(),
        "pull_request_review",
        gh.payload_review(&review),
    )
    .await;
    let answer = gh
        .wait_for_comment(
            &repo,
            pr.number,
            |c| c.author == app && c.body.contains("Echo #1"),
            WAIT,
        )
        .await;
    assert!(answer.body.starts_with("✅ Done in"), "{}", answer.body);
    let prompt = String::from_utf8_lossy(&t.agent_runs()[1].prompt).into_owned();
    assert!(
        prompt.contains("The request, from @alice") && prompt.trim_end().ends_with("explain f"),
        "{prompt}"
    );
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
    assert_tokens_kept_secret(&t);
}

/// A repository with a web app at the top and a playground in `playground/`, whose tests fail.
fn site_repo(gh: &FakeGitHub, owner: &FakeUser) -> FakeRepo {
    let repo = gh.create_repo(
        "octo",
        "site",
        &[
            ("package.json", &site_manifest("3.0.2", "7.5.9")),
            (
                "src/expand.js",
                "const braces = require('braces');\nmodule.exports = (p) => braces(p);\n",
            ),
            (
                "src/server.js",
                "const WebSocket = require('ws');\nconst tar = require('tar');\n",
            ),
            ("playground/package.json", &playground_manifest("3.4.3")),
            (
                "playground/tailwind.config.js",
                "module.exports = require('tailwindcss/defaultConfig');\n",
            ),
            (
                "test.sh",
                "echo 'server: 1 failing (close code 1006)'\nexit 1\n",
            ),
            (
                ".switchboard.toml",
                "[review]\ntest_command = \"sh test.sh\"\n",
            ),
        ],
    );
    gh.set_permission(&repo, owner, "write");
    repo
}

fn site_manifest(braces: &str, ws: &str) -> String {
    format!(
        "{{\n  \"name\": \"site\",\n  \"dependencies\": {{\n    \"braces\": \"{braces}\",\n    \"tar\": \"6.1.15\",\n    \"ws\": \"{ws}\"\n  }},\n  \"devDependencies\": {{\n    \"semantic-release\": \"21.1.2\"\n  }}\n}}\n"
    )
}

fn playground_manifest(tailwind: &str) -> String {
    format!(
        "{{\n  \"name\": \"playground\",\n  \"devDependencies\": {{\n    \"tailwindcss\": \"{tailwind}\",\n    \"vite\": \"5.2.12\"\n  }}\n}}\n"
    )
}

/// Reviews of the real body shapes: a grouped Dependabot update with its table, and a Renovate
/// group in a subdirectory.
async fn grouped_and_renovate_updates_are_reviewed(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let url = t.github_webhook();
    let alice = gh.user("alice", UserKind::User);
    let repo = site_repo(gh, &alice);

    let dependabot = gh.user("dependabot[bot]", UserKind::Bot);
    let branch = "dependabot/npm_and_yarn/npm_and_yarn-0a1b2c3d4e";
    gh.commit(
        &repo,
        branch,
        &[("package.json", Some(&site_manifest("3.0.3", "7.5.10")))],
        "Bump the npm_and_yarn group across 1 directory with 5 updates",
        &dependabot,
    );
    let body = format!(
        "{}\n@fake answer Verdict: Breaks\\nws 7.5.10 changes the close code the server relies on.\n",
        include_str!("../fixtures/github/deps/bodies/dependabot-group-table.md")
    );
    let grouped = gh.open_pr(
        &repo,
        branch,
        "main",
        "Bump the npm_and_yarn group across 1 directory with 5 updates",
        &body,
        &dependabot,
    );
    gh.deliver(
        &url,
        "pull_request",
        gh.payload_pull_request(&grouped, PrAction::Opened),
    )
    .await;
    let review = gh
        .wait_for_review(&grouped, |r| r.author == app, WAIT)
        .await;
    for expected in [
        "### Dependency review: ❌ **Breaks**",
        "| braces | npm | `3.0.2` | `3.0.3` | direct |",
        "| tar | npm | `6.1.15` | — | direct |",
        "| semantic-release | npm | `21.1.2` | `24.0.0` | direct |",
        "| @semantic-release/npm | npm | `10.0.6` | `12.0.1` | transitive |",
        "| ws | npm | `7.5.9` | `7.5.10` | direct |",
        "- `src/expand.js` (braces)",
        "- `src/server.js` (ws, tar)",
        "**Tests:** ❌ `sh test.sh` failed (exit status 1)",
        "server: 1 failing (close code 1006)",
        "ws 7.5.10 changes the close code the server relies on.",
    ] {
        assert!(
            review.body.contains(expected),
            "the review lacks {expected:?}:\n{}",
            review.body
        );
    }

    let renovate = gh.user("renovate[bot]", UserKind::Bot);
    let branch = "renovate/npm-development-dependencies";
    gh.commit(
        &repo,
        branch,
        &[(
            "playground/package.json",
            Some(&playground_manifest("3.4.4")),
        )],
        "Update NPM Development dependencies",
        &renovate,
    );
    let body = format!(
        "{}\n@fake answer Verdict: Safe to merge\\nOnly patch releases.\n",
        include_str!("../fixtures/github/deps/bodies/renovate-npm-group-links.md")
    );
    let group = gh.open_pr(
        &repo,
        branch,
        "main",
        "Update NPM Development dependencies",
        &body,
        &renovate,
    );
    gh.deliver(
        &url,
        "pull_request",
        gh.payload_pull_request(&group, PrAction::Opened),
    )
    .await;
    let review = gh.wait_for_review(&group, |r| r.author == app, WAIT).await;
    for expected in [
        "### Dependency review: ✅ **Safe to merge**",
        "| @typescript-eslint/parser | npm | `7.11.0` | `7.12.0` | transitive |",
        "| tailwindcss | npm | `3.4.3` | `3.4.4` | direct |",
        "| vite | npm | `5.2.12` | `5.2.13` | direct |",
        "| wrangler | npm | `3.58.0` | `3.60.0` | transitive |",
        "- `playground/tailwind.config.js` (tailwindcss)",
        "**Tests:** ❌ `sh test.sh` failed (exit status 1)",
        "Only patch releases.",
    ] {
        assert!(
            review.body.contains(expected),
            "the review lacks {expected:?}:\n{}",
            review.body
        );
    }
    assert_eq!(t.agent_runs().len(), 2);
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
    assert_tokens_kept_secret(&t);
}

/// GitHub creates the tracking comment but its answer is lost (HTTP 500): before creating it
/// again the bot finds it among the issue's comments by its hidden part marker, records it and
/// edits it into the answer — one comment, not a stale "working on it" beside the answer.
async fn a_comment_whose_answer_was_lost_is_found_not_repeated(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let (repo, pr, _) = repo_with_pr(gh, &alice);
    gh.fail_after_commenting(&[true]);
    let ask = gh.comment(&repo, pr.number, &alice, "@switchboard what does f return?");
    let delivery = gh
        .deliver(
            &t.github_webhook(),
            "issue_comment",
            gh.payload_issue_comment(&ask, CommentAction::Created),
        )
        .await;
    assert_eq!(delivery.status, 202, "{delivery:?}");
    gh.wait_for_comment(
        &repo,
        pr.number,
        |c| c.author == app && c.body.contains("Echo #1"),
        WAIT,
    )
    .await;

    let lost = gh.calls().iter().filter(|c| c.status == 500).count();
    assert_eq!(
        lost, 1,
        "the tracking comment was created and its answer lost"
    );
    let mine: Vec<_> = gh
        .comments(&repo, pr.number)
        .into_iter()
        .filter(|c| c.author == app)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "one comment, edited into the answer: {mine:#?}"
    );
    assert!(
        mine[0].versions[0].body.contains("Working on it"),
        "{mine:#?}"
    );
}

/// An answer that opens a code block with a line longer than a comment (GitHub takes 65,536
/// characters): it used to be cut into one oversized comment per code line, which GitHub
/// refuses, so the answer never arrived. Now every comment is within the limit, there are a
/// few of them, and every line of the answer is in them, in order.
async fn an_answer_whose_fence_is_longer_than_a_comment_stays_within_the_limit(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let (repo, _, _) = repo_with_pr(gh, &alice);
    let info = "ж".repeat(66_000);
    let lines: Vec<String> = (0..300).map(|i| format!("line {i:03}")).collect();
    let answer = format!("```{info}\n{}\n```", lines.join("\n"));
    let issue = gh.create_issue(&repo, "Long fence", "Show the block.", &alice);
    let ask = gh.comment(
        &repo,
        issue.number,
        &alice,
        &format!("@switchboard show it\n@fake answer-follows\n{answer}"),
    );
    gh.deliver(
        &t.github_webhook(),
        "issue_comment",
        gh.payload_issue_comment(&ask, CommentAction::Created),
    )
    .await;
    let mine = gh
        .wait_for(WAIT, |f| {
            let mine: Vec<_> = f
                .comments(&repo, issue.number)
                .into_iter()
                .filter(|c| c.author == app)
                .collect();
            mine.iter()
                .any(|c| c.body.contains("line 299"))
                .then_some(mine)
        })
        .await
        .expect("the whole answer arrives");
    assert!(mine.len() <= 4, "{} comments", mine.len());
    for comment in &mine {
        assert!(
            comment.body.chars().count() <= 65_536,
            "{} characters",
            comment.body.chars().count()
        );
    }
    let all: String = mine.iter().map(|c| c.body.as_str()).collect();
    let found: Vec<&str> = all.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(found, lines, "every line once, in order");
    assert_eq!(
        all.matches("ж").count(),
        66_000,
        "the long line is all there"
    );
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}

/// Replies name commands as GitHub spells them (a mention of the App), never a slash command
/// GitHub does not have; and those commands work: a thread over its session budget gets out
/// with `@switchboard new` (on GitHub's host, whichever host is asked for).
async fn a_thread_over_budget_is_told_a_command_github_has_and_it_works(db: Db) {
    let mut options = Options::new(db);
    options.github = Some(GitHubSetup::default());
    options.extra_config = "\n[budgets]\nsession_usd = 0.0001\n".into();
    let t = Harness::start_with(options).await;
    let gh = gh(&t);
    let alice = gh.user("alice", UserKind::User);
    let (repo, pr, _) = repo_with_pr(gh, &alice);
    let mut seen = Vec::new();
    let mut ask = async |text: &str, needle: &str| {
        ask_and_wait(&t, &repo, &pr, &alice, &mut seen, text, needle).await
    };
    ask("@switchboard first", "Echo #1").await;
    let refusal = ask("@switchboard second", "Not run: this session has cost").await;
    assert!(
        refusal.contains("Send `@switchboard new` to start a new session"),
        "{refusal}"
    );
    assert!(
        !refusal.contains("`/"),
        "a slash command on GitHub: {refusal}"
    );

    let pinned = ask("@switchboard new local", "always run on").await;
    assert!(pinned.contains("always run on remote"), "{pinned}");
    assert!(pinned.contains("`@switchboard new`"), "{pinned}");
    ask("@switchboard new", "New session").await;
    ask("@switchboard third", "Echo #1").await;
    let runs = t.agent_runs();
    assert_eq!(runs.len(), 2, "the refused prompt never ran");
    assert_eq!(runs[1].resume_id(), None, "a fresh agent conversation");

    let help = ask("@switchboard help", "@switchboard stop [all]").await;
    assert!(!help.contains("`/"), "{help}");
    assert!(!help.contains("screenshot"), "{help}");
    assert!(
        help.contains("`@switchboard new [agent]` — Start a fresh agent conversation (on remote"),
        "{help}"
    );
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}

/// `author` comments `text` on issue or pull request `number`, and GitHub delivers it.
pub(crate) async fn comment_and_deliver(
    t: &Harness,
    repo: &FakeRepo,
    number: u64,
    author: &FakeUser,
    text: &str,
) {
    let gh = gh(t);
    let comment = gh.comment(repo, number, author, text);
    gh.deliver(
        &t.github_webhook(),
        "issue_comment",
        gh.payload_issue_comment(&comment, CommentAction::Created),
    )
    .await;
}

/// The pull request, opened: its event delivered to the bot.
pub(crate) async fn open_pr(t: &Harness, pr: &FakePr) {
    let gh = gh(t);
    gh.deliver(
        &t.github_webhook(),
        "pull_request",
        gh.payload_pull_request(pr, PrAction::Opened),
    )
    .await;
}

/// Alice comments `text` on the pull request; returns the body of the App's comment (a new one,
/// or its tracking comment once the turn ends) that contains `needle` and was not `seen`.
async fn ask_and_wait(
    t: &Harness,
    repo: &FakeRepo,
    pr: &FakePr,
    alice: &FakeUser,
    seen: &mut Vec<u64>,
    text: &str,
    needle: &str,
) -> String {
    let gh = gh(t);
    let app = gh.app_user().login;
    comment_and_deliver(t, repo, pr.number, alice, text).await;
    let found = gh
        .wait_for_comment(
            repo,
            pr.number,
            |c| c.author == app && c.body.contains(needle) && !seen.contains(&c.id),
            WAIT,
        )
        .await;
    seen.push(found.id);
    found.body
}

/// The patch goes in the answer's comment, collapsed, while it fits (issue 12, item 6): the
/// tracking comment — the only comment the bot makes, so watchers hear once — holds the answer
/// and the patch in a `<details>` block. A patch too large for it (deleting a file of 90,000
/// characters) continues in a comment of its own, made after the answer is in place.
async fn the_patch_goes_in_the_answers_comment_while_it_fits(db: Db) {
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let big: String = (0..6_000).map(|i| format!("old line {i:05}\n")).collect();
    let repo = gh.create_repo(
        "octo",
        "app",
        &[("README.md", "hello\n"), ("big.txt", &big)],
    );
    gh.set_permission(&repo, &alice, "write");
    let issue = gh.create_issue(&repo, "Notes", "Write notes.", &alice);
    let mine = |f: &FakeGitHub| -> Vec<_> {
        f.comments(&repo, issue.number)
            .into_iter()
            .filter(|c| c.author == app)
            .collect()
    };

    comment_and_deliver(
        &t,
        &repo,
        issue.number,
        &alice,
        "@switchboard write the notes\n@fake write notes.txt hello notes",
    )
    .await;
    let answer = gh
        .wait_for_comment(
            &repo,
            issue.number,
            |c| c.author == app && c.body.starts_with("✅") && c.body.contains("Echo #1"),
            WAIT,
        )
        .await;
    let details = answer.body.find("<details>").expect("the patch, collapsed");
    assert!(
        answer.body.find("Echo #1").is_some_and(|at| at < details),
        "the answer, then the patch: {}",
        answer.body
    );
    assert!(
        answer.body[details..].contains("+hello notes"),
        "{}",
        answer.body
    );
    // (Before, the patch's comment was made before the answer was in place.)
    assert_eq!(mine(gh).len(), 1, "one comment: {:#?}", mine(gh));

    comment_and_deliver(
        &t,
        &repo,
        issue.number,
        &alice,
        "@switchboard drop the big file\n@fake rm big.txt",
    )
    .await;
    let comments = gh
        .wait_for(WAIT, |f| {
            let comments = mine(f);
            comments
                .iter()
                .any(|c| c.body.contains("-old line 00001"))
                .then_some(comments)
        })
        .await
        .expect("the patch continues in a comment of its own");
    assert_eq!(comments.len(), 3, "{comments:#?}");
    let (answer, patch) = (&comments[1], &comments[2]);
    assert!(
        answer.body.starts_with("✅") && answer.body.contains("Echo #2"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("they follow below") && !answer.body.contains("<details>"),
        "{}",
        answer.body
    );
    assert!(
        patch.body.starts_with("<details>"),
        "{}",
        &patch.body[..200]
    );
    let answered = &answer.versions.last().expect("a version").at;
    assert!(
        answered <= &patch.created_at,
        "the answer is in place before the patch's comment"
    );
    for comment in &comments {
        assert!(comment.body.chars().count() <= 65_536);
    }
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}

/// Two pull requests of one repository on one host are worktrees of one shared bare clone
/// (`projects/github/octo/app/clone`): `git rev-parse --git-common-dir` names it in both
/// checkouts, which hold no objects of their own; a second turn of a pull request fetches into
/// the same clone and worktree (neither is made again); no token is in a checkout's config, and
/// no remote (so no URL) is configured at all.
async fn pull_requests_of_one_repository_share_the_hosts_clone(db: Db) {
    use std::os::unix::fs::MetadataExt;
    let t = start(db, false).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let (repo, first, first_head) = repo_with_pr(gh, &alice);
    let second_head = gh.commit(
        &repo,
        "other",
        &[("README.md", Some("hello again\n"))],
        "say hello again",
        &alice,
    );
    let second = gh.open_pr(&repo, "other", "main", "Hello again", "Twice.", &alice);
    let answered = |pr: &FakePr, echo: &'static str| {
        let number = pr.number;
        let repo = &repo;
        let app = &app;
        async move {
            gh.wait_for_comment(
                repo,
                number,
                |c| &c.author == app && c.body.contains(echo),
                WAIT,
            )
            .await
        }
    };
    comment_and_deliver(&t, &repo, first.number, &alice, "@switchboard look").await;
    answered(&first, "Echo #1").await;
    comment_and_deliver(&t, &repo, second.number, &alice, "@switchboard look").await;
    answered(&second, "Echo #1").await;

    let work = t.host_dir.path().join("work");
    let clone = work.join("projects/github/octo/app/clone");
    let checkouts = [
        work.join("github/octo/app/pr-1"),
        work.join("github/octo/app/pr-2"),
    ];
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(
        runs.iter().map(|r| r.cwd.clone()).collect::<Vec<_>>(),
        checkouts
    );
    for (checkout, head) in checkouts.iter().zip([&first_head, &second_head]) {
        assert_eq!(&git(checkout, &["rev-parse", "HEAD"]), head);
        assert_eq!(
            Path::new(&git(
                checkout,
                &["rev-parse", "--path-format=absolute", "--git-common-dir"]
            )),
            clone.canonicalize().unwrap(),
            "a worktree of the shared clone"
        );
        assert!(checkout.join(".git").is_file(), "not a clone of its own");
        assert_eq!(git(checkout, &["remote"]), "", "no remote, so no URL");
        let config = git(checkout, &["config", "--list", "--show-origin"]);
        for token in gh.issued_tokens() {
            assert!(!config.contains(&token), "{config}");
        }
    }
    let object_stores = Command::new("find")
        .arg(&work)
        .args(["-type", "d", "-name", "objects"])
        .output()
        .expect("find");
    assert_eq!(
        String::from_utf8_lossy(&object_stores.stdout).trim(),
        clone.join("objects").display().to_string(),
        "the objects are in the clone alone"
    );
    assert_eq!(git(&clone, &["cat-file", "-t", &first_head]), "commit");

    // The second turn of the first pull request: the same clone and worktree, fetched into.
    let made = |path: &Path| std::fs::metadata(path).expect("made").ino();
    let before = (made(&clone), made(&checkouts[0].join(".git")));
    comment_and_deliver(&t, &repo, first.number, &alice, "@switchboard again").await;
    answered(&first, "Echo #2").await;
    assert_eq!(t.wait_agent_runs(3).await[2].cwd, checkouts[0]);
    assert_eq!(
        (made(&clone), made(&checkouts[0].join(".git"))),
        before,
        "neither the clone nor the worktree was made again"
    );
    let worktrees = git(&clone, &["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 3, "{worktrees}");
    assert_tokens_kept_secret(&t);
}
