//! The clean-up of idle sessions' workspaces, end to end (issue 14's test 6): with
//! `workspaces.keep_for` at two seconds in the test's config, a topic's worktree is removed once
//! its session has been idle that long — the project's shared clone stays, the audit trail says
//! so — while another topic's worktree, its turn running since before, is not touched until that
//! turn ends; a prompt after the removal works again in a worktree made afresh. The same holds
//! for a GitHub pull request's checkout, which its thread's turns use.

use std::path::Path;

use switchboard::domain::ids::SessionId;
use switchboard::domain::workspace::SessionWorkspace;

use crate::github::{comment_and_deliver, repo_with_pr};
use crate::support::db::{Db, on_both_databases};
use crate::support::fake_github::{FakePr, UserKind};
use crate::support::fake_telegram::{FakeChat, UserMessage};
use crate::support::harness::{GitHubSetup, Harness, Options, WAIT};
use crate::workspaces::{add_config, gh, git, prepare, private_repo, run_with, turn_in_topic};

on_both_databases!(
    an_idle_sessions_worktree_is_removed_never_while_a_turn_runs_and_made_again_for_a_prompt,
    an_idle_pull_requests_checkout_is_removed_never_while_a_turn_runs_and_made_again,
);

/// The audit trail's removal lines that name `session`, once there are `n` of them.
async fn removals(t: &Harness, session: &str, n: usize) -> Vec<String> {
    let named = |rows: &[switchboard::store::AuditRow]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.action == "workspace_removed" && r.detail.contains(session))
            .map(|r| r.detail.clone())
            .collect()
    };
    named(&t.wait_audit(|rows| named(rows).len() >= n).await)
}

/// The session id a worktree's directory is named after.
fn session_of(dir: &Path) -> String {
    dir.file_name()
        .expect("a session directory")
        .to_string_lossy()
        .into_owned()
}

/// The branch of the session `id`'s worktree, as stored.
async fn branch_of(t: &Harness, id: &str) -> String {
    let store = t.store().await;
    let session = store
        .session(&SessionId::from_string(id.to_owned()))
        .await
        .expect("read the session")
        .expect("the session");
    store.close().await;
    match session.workspace {
        Some(SessionWorkspace::Worktree(worktree)) => worktree.branch,
        other => panic!("not a worktree: {other:?}"),
    }
}

fn say(t: &Harness, group: &FakeChat, topic: i32, text: &str) {
    let bot = t.tg.bot_username();
    t.tg.send(
        group,
        &t.alice,
        UserMessage::new(format!("@{bot} {text}")).in_thread(topic),
    );
}

/// Two topics of a project chat: `busy`'s turn starts first and waits on a gate; `idle`'s runs
/// and ends. `idle`'s worktree goes once it has been idle for `keep_for`, with its never-pushed
/// branch, and an audit line; at that moment `busy` has been active for longer than `keep_for`
/// too, yet its worktree stays while its turn runs, and goes only after. The shared clone stays
/// throughout; `/status` says the workspace was removed. A new prompt in `idle` runs in its worktree made again from the base (the old
/// tree's file gone), and that session is idle-removable again afterwards (the removal was
/// undone in the store).
async fn an_idle_sessions_worktree_is_removed_never_while_a_turn_runs_and_made_again_for_a_prompt(
    db: Db,
) {
    let mut t = prepare(db).await;
    private_repo(gh(&t), "acme", "web");
    let group = t.tg.supergroup("Web team", true);
    add_config(
        &t,
        &format!(
            "\n[workspaces]\nkeep_for = \"2s\"\n\n[projects.web]\nrepo = \"acme/web\"\n\
             telegram_chats = [{}]\n",
            group.id
        ),
    );
    t.start_bot().await;
    let gate = t.host_dir.path().join("gate");
    let busy = t.tg.create_topic(&group, "busy");
    let idle = t.tg.create_topic(&group, "idle");

    say(
        &t,
        &group,
        busy,
        &format!("hold on\n@fake wait-for {}", gate.display()),
    );
    let busy_dir = run_with(&t.wait_agent_runs(1).await, "hold on").cwd.clone();
    say(&t, &group, idle, "@fake write idle.txt first\nfirst work");
    let (answer, _patch) = turn_in_topic(&t, &group, idle).await;
    assert!(
        answer.text.contains("idle.txt (new, +1 −0)"),
        "{}",
        answer.text
    );
    let idle_dir = run_with(&t.wait_agent_runs(2).await, "first work")
        .cwd
        .clone();
    assert_ne!(idle_dir, busy_dir);
    let clone = t.host_dir.path().join("work/projects/web/clone");
    let (idle_id, busy_id) = (session_of(&idle_dir), session_of(&busy_dir));
    // Read from the store: the idle tree may be gone already.
    let idle_branch = branch_of(&t, &idle_id).await;
    let busy_branch = git(&busy_dir, &["branch", "--show-current"]);
    assert_eq!(branch_of(&t, &busy_id).await, busy_branch);
    let removed = removals(&t, &idle_id, 1).await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    for part in [
        idle_dir.display().to_string(),
        " on remote".to_owned(),
        format!("branch {idle_branch} deleted (never pushed)"),
    ] {
        assert!(removed[0].contains(&part), "{part:?} in {}", removed[0]);
    }
    assert!(!idle_dir.exists(), "the idle worktree is removed");
    assert!(clone.join("HEAD").exists(), "the shared clone stays");
    let branches = git(&clone, &["branch", "--format=%(refname:short)"]);
    assert_eq!(branches, busy_branch, "the idle branch is deleted");
    let listed = git(&clone, &["worktree", "list"]);
    assert!(!listed.contains(&idle_id), "{listed}");
    // The busy turn started before the idle one ended: its session is as old, but runs.
    assert!(
        busy_dir.join("README.md").exists(),
        "a running turn's tree stays"
    );
    let audit = t.wait_audit(|_| true).await;
    assert!(
        !audit.iter().any(|r| r.detail.contains(&busy_id)),
        "{audit:#?}"
    );

    let bot = t.tg.bot_username();
    t.tg.send(
        &group,
        &t.alice,
        UserMessage::new(format!("/status@{bot}")).in_thread(idle),
    );
    let status = t.tg.next_bot_message(&group, Some(idle), WAIT).await.text;
    assert!(
        status.contains(
            "Workspace: web from its default branch · removed when the session was idle (the \
             next prompt makes it again)"
        ),
        "{status}"
    );

    std::fs::write(&gate, "go").expect("open the gate");
    t.tg.next_bot_message(&group, Some(busy), WAIT).await; // its status
    let answer = t.tg.next_bot_message(&group, Some(busy), WAIT).await;
    assert!(
        answer.text.starts_with("Echo #1: hold on"),
        "{}",
        answer.text
    );
    let removed = removals(&t, &busy_id, 1).await;
    assert!(
        removed[0].contains(&busy_dir.display().to_string()),
        "{removed:?}"
    );
    assert!(
        !busy_dir.exists(),
        "removed once its turn ended and it was idle"
    );
    assert!(clone.join("HEAD").exists(), "the shared clone stays");

    say(&t, &group, idle, "@fake write idle.txt again\nonce more");
    let (answer, patch) = turn_in_topic(&t, &group, idle).await;
    assert!(answer.text.contains("once more"), "{}", answer.text);
    assert!(
        answer.text.contains("idle.txt (new, +1 −0)"),
        "a fresh tree, without the old one's file: {}",
        answer.text
    );
    assert!(patch.document.is_some(), "{}", patch.text);
    let runs = t.wait_agent_runs(3).await;
    assert_eq!(
        run_with(&runs, "once more").cwd,
        idle_dir,
        "the session's own directory, made again"
    );
    // Removable again: the store knows the workspace was made again.
    let removed = removals(&t, &idle_id, 2).await;
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(clone.join("HEAD").exists(), "the shared clone stays");
    t.tg.assert_all_read();
    t.assert_no_violations();
}

/// Two pull requests of `octo/app`, pushing allowed, `keep_for` two seconds. `pr-1`'s turn
/// starts first and waits on a gate; `pr-2`'s commits a file, which is pushed to its head
/// branch, and ends. `pr-2`'s checkout goes once its thread has been idle that long: the
/// worktree, its refs and its branch (everything on it was pushed), with an audit line naming
/// it; the shared clone and `pr-1`'s checkout, whose turn runs, stay — the latter goes only after
/// that turn. A new comment on `pr-2` runs in its checkout made afresh on the pull request's head
/// (the pushed commit in it), answered as usual, and the checkout is idle-removable again.
async fn an_idle_pull_requests_checkout_is_removed_never_while_a_turn_runs_and_made_again(db: Db) {
    let mut options = Options::new(db);
    options.github = Some(GitHubSetup {
        allow_push: true,
        ..GitHubSetup::default()
    });
    options.extra_config = "\n[workspaces]\nkeep_for = \"2s\"\n".into();
    let t = Harness::start_with(options).await;
    let gh = gh(&t);
    let app = gh.app_user().login;
    let alice = gh.user("alice", UserKind::User);
    let (repo, busy, _) = repo_with_pr(gh, &alice);
    gh.commit(
        &repo,
        "other",
        &[("README.md", Some("hello again\n"))],
        "say hello again",
        &alice,
    );
    let idle = gh.open_pr(&repo, "other", "main", "Hello again", "Twice.", &alice);
    let answered = |pr: &FakePr, echo: &'static str| {
        let (number, repo, app) = (pr.number, &repo, &app);
        async move {
            gh.wait_for_comment(
                repo,
                number,
                |c| &c.author == app && c.body.contains(echo) && c.body.starts_with('✅'),
                WAIT,
            )
            .await
        }
    };
    let gates = [
        t.host_dir.path().join("gate"),
        t.host_dir.path().join("gate2"),
    ];
    let wait_for = |gate: &Path| format!("@fake wait-for {}", gate.display());
    let ask = format!("@switchboard hold on\n{}", wait_for(&gates[0]));
    comment_and_deliver(&t, &repo, busy.number, &alice, &ask).await;
    t.wait_agent_runs(1).await;
    let ask = "@switchboard add notes\n@fake write NOTES.md by the agent\n@fake commit Add notes";
    comment_and_deliver(&t, &repo, idle.number, &alice, ask).await;
    let answer = answered(&idle, "Echo #1").await;
    assert!(
        answer.body.contains("Pushed 1 commit to `other`"),
        "{}",
        answer.body
    );
    let pushed = gh.branch_sha(&repo, "other").expect("the head branch");

    let work = t.host_dir.path().join("work");
    let clone = work.join("projects/github/octo/app/clone");
    let (busy_dir, idle_dir) = (
        work.join("github/octo/app/pr-1"),
        work.join("github/octo/app/pr-2"),
    );
    let runs = t.wait_agent_runs(2).await;
    assert_eq!(runs[0].cwd, busy_dir);
    assert_eq!(runs[1].cwd, idle_dir);
    let idle_name = idle_dir.display().to_string();
    let removed = removals(&t, &idle_name, 1).await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(
        removed[0].contains(&format!(
            "removed checkout {idle_name} (branch switchboard/pr-2 deleted) on remote"
        )),
        "{}",
        removed[0]
    );
    assert!(!idle_dir.exists(), "the idle checkout is removed");
    assert!(clone.join("HEAD").exists(), "the shared clone stays");
    let refs = git(&clone, &["for-each-ref", "--format=%(refname)"]);
    assert!(
        !refs.contains("/pr-2"),
        "its refs and branch are gone: {refs}"
    );
    assert!(refs.contains("refs/heads/switchboard/pr-1"), "{refs}");
    let listed = git(&clone, &["worktree", "list"]);
    assert!(!listed.contains("pr-2"), "{listed}");
    // The busy turn started before the idle one: as old, but running.
    assert!(
        busy_dir.join("README.md").exists(),
        "a running turn's checkout stays"
    );
    let busy_name = busy_dir.display().to_string();
    let audit = t.wait_audit(|_| true).await;
    assert!(
        !audit.iter().any(|r| r.detail.contains(&busy_name)),
        "{audit:#?}"
    );

    std::fs::write(&gates[0], "go").expect("open the gate");
    answered(&busy, "Echo #1").await;
    removals(&t, &busy_name, 1).await;
    assert!(
        !busy_dir.exists(),
        "removed once its turn ended and it was idle"
    );
    assert!(clone.join("HEAD").exists(), "the shared clone stays");

    let ask = format!("@switchboard once more\n{}", wait_for(&gates[1]));
    comment_and_deliver(&t, &repo, idle.number, &alice, &ask).await;
    assert_eq!(t.wait_agent_runs(3).await[2].cwd, idle_dir);
    assert_eq!(
        git(&idle_dir, &["rev-parse", "HEAD"]),
        pushed,
        "on the head"
    );
    assert_eq!(
        std::fs::read_to_string(idle_dir.join("NOTES.md"))
            .expect("the pushed file")
            .trim(),
        "by the agent"
    );
    assert_eq!(
        git(&idle_dir, &["branch", "--show-current"]),
        "switchboard/pr-2"
    );
    std::fs::write(&gates[1], "go").expect("open the second gate");
    let again = answered(&idle, "Echo #2").await;
    assert!(!again.body.contains("Pushed"), "{}", again.body);
    let removed = removals(&t, &idle_name, 2).await;
    assert_eq!(removed.len(), 2, "removable again: {removed:?}");
    assert!(!idle_dir.exists());
    assert!(gh.violations().is_empty(), "{:?}", gh.violations());
}
